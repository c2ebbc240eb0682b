// The Shapes dataset of shapes.h: scene sampling, rasterization, captions and
// questions.
//
// Random numbers: splitmix64's finaliser applied to a counter. Each sample
// reads its own streams, keyed by (seed, split, index, purpose), from the
// start, so generation is random-access and independent of threads. Pixel
// noise comes from 16 xorshift32 streams seeded by the image's key, and is
// the sum of each draw's four bytes: an Irwin-Hall approximation of a normal
// that costs a few vectorized integer operations per value where Box-Muller
// would cost a log and a cosine.
//
// Rasterization: each shape is a signed distance d (pixels, negative inside)
// evaluated at the pixel centres of the object's bounding box; the coverage
// clamp(0.5 - d, 0, 1) anti-aliases edges over about one pixel. Every pixel
// loop is branch-free (templates per shape and texture), so it vectorizes
// at the baseline x86-64 instruction set.
#include "multimodal/shapes.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "kernels/cpu/thread_pool.h"

namespace loom::multimodal {

namespace {

const char* const kShapeNames[] = {"circle", "square", "triangle", "diamond", "cross", "star"};
const char* const kShapePlurals[] = {"circles", "squares", "triangles", "diamonds", "crosses", "stars"};
const char* const kColorNames[] = {"red", "green", "blue", "yellow", "purple", "cyan", "orange"};
// Saturated and far apart from one another and from the grey backgrounds, so
// that colour stays unambiguous after jitter and noise.
const float kRgb[][3] = {{0.90f, 0.12f, 0.10f}, {0.15f, 0.75f, 0.20f}, {0.15f, 0.35f, 0.95f}, {0.95f, 0.88f, 0.15f},
                         {0.60f, 0.20f, 0.80f}, {0.15f, 0.85f, 0.90f}, {1.00f, 0.55f, 0.08f}};
const char* const kSizeNames[] = {"small", "large"};
const char* const kNumbers[] = {"zero", "one", "two", "three", "four", "five", "six"};
const char* const kQuestionTypes[] = {"color", "shape", "count", "exist", "relation"};
const char* const kSplits[] = {"train", "test", "compositional"};

// Object radii as fractions of the image size, and the smallest radius in
// pixels (below it a shape is no longer recognisable).
constexpr float kSmall[2] = {0.08f, 0.10f};
constexpr float kLarge[2] = {0.14f, 0.17f};
constexpr float kMinRadius = 2.0f;
constexpr float kGap = 2.0f;  // pixels between bounding squares

enum Stream : uint64_t { kScene = 1, kPixels = 2, kCaptions = 3, kQuestions = 4 };
// Attribute sets, as bits: which attributes a phrase names.
constexpr int kSizeBit = 1, kColorBit = 2, kShapeBit = 4;
constexpr int kColorShape = kColorBit | kShapeBit, kSizeShape = kSizeBit | kShapeBit, kSizeColor = kSizeBit | kColorBit;
constexpr int kAll = kSizeBit | kColorBit | kShapeBit;

uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t key) : counter_(key) {}
  uint64_t next() { return mix64(counter_++); }
  // Uniform in [0, n) by multiply-shift; n is tiny here, so the bias (below
  // n / 2^32) is immaterial.
  int below(int64_t n) { return static_cast<int>(((next() >> 32) * static_cast<uint64_t>(n)) >> 32); }
  float uniform() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  bool coin() { return (next() >> 63) != 0; }

 private:
  uint64_t counter_;
};

// ---------------------------------------------------------------- geometry

// A five-pointed star with its first tip up and an inner radius of half the
// outer one: the tip directions (sin 72k deg, -cos 72k deg), and the outward
// normal of the edge from a tip to the next inner vertex in the frame (u
// along the tip, v across it).
constexpr float kStarDir[5][2] = {{0.0f, -1.0f},
                                  {0.9510565f, -0.3090170f},
                                  {0.5877853f, 0.8090170f},
                                  {-0.5877853f, 0.8090170f},
                                  {-0.9510565f, -0.3090170f}};
constexpr float kStarNu = 0.4425657f, kStarNv = 0.8967361f;

// Signed distance (pixels, negative inside) from (x, y), relative to the
// centre, to a shape that fills the square [-r, r]^2. Exact for the circle;
// for the others the largest (or, for unions, the smallest) distance to the
// edge lines, exact inside and near edges, which is all coverage needs. A
// template so that each shape's pixel loop is branch-free and vectorizes.
template <int kShape>
inline float shape_distance(float x, float y, float r) {
  const float ax = std::fabs(x), ay = std::fabs(y);
  if constexpr (kShape == 0) {
    return std::sqrt(x * x + y * y) - r;
  } else if constexpr (kShape == 1) {  // slightly inset, so that its area is close to the circle's
    return std::max(ax, ay) - 0.88f * r;
  } else if constexpr (kShape == 2) {  // apex (0, -r), base corners (+-r, 0.8 r)
    return std::max(y - 0.8f * r, 0.874157f * ax - 0.485643f * (y + r));
  } else if constexpr (kShape == 3) {
    return (ax + ay - r) * 0.70710678f;
  } else if constexpr (kShape == 4) {
    const float a = 0.36f * r;
    return std::min(std::max(ax - r, ay - a), std::max(ax - a, ay - r));
  } else {
    // The star spans [-r, 0.81 r] vertically: shift it to the centre. The
    // tip whose direction is closest to the point's owns it, and by symmetry
    // only one edge of that tip's spike matters.
    y -= 0.095f * r;
    float u = x * kStarDir[0][0] + y * kStarDir[0][1];
    float v = std::fabs(-x * kStarDir[0][1] + y * kStarDir[0][0]);
    for (int k = 1; k < 5; ++k) {
      const float uk = x * kStarDir[k][0] + y * kStarDir[k][1];
      const float vk = std::fabs(-x * kStarDir[k][1] + y * kStarDir[k][0]);
      v = uk > u ? vk : v;
      u = uk > u ? uk : u;
    }
    return (u - r) * kStarNu + v * kStarNv;
  }
}

// Blends one object into planes [3, S, S] with coverage clamp(0.5 - d, 0, 1)
// over its bounding square (plus a pixel for the anti-aliased edge).
template <int kShape>
void draw(const ShapeObject& o, const float color[3], float* out, int S) {
  const size_t plane = static_cast<size_t>(S) * S;
  const float reach = o.radius + 1.0f, c0 = color[0], c1 = color[1], c2 = color[2], r = o.radius;
  const int x0 = std::max(0, static_cast<int>(o.x - reach)), x1 = std::min(S - 1, static_cast<int>(o.x + reach) + 1);
  const int y0 = std::max(0, static_cast<int>(o.y - reach)), y1 = std::min(S - 1, static_cast<int>(o.y + reach) + 1);
  for (int y = y0; y <= y1; ++y) {
    float* p0 = out + static_cast<size_t>(y) * S;
    float* p1 = p0 + plane;
    float* p2 = p1 + plane;
    const float py = y + 0.5f - o.y;
    for (int x = x0; x <= x1; ++x) {
      const float alpha = std::min(1.0f, std::max(0.0f, 0.5f - shape_distance<kShape>(x + 0.5f - o.x, py, r)));
      p0[x] += alpha * (c0 - p0[x]);
      p1[x] += alpha * (c1 - p1[x]);
      p2[x] += alpha * (c2 - p2[x]);
    }
  }
}

using DrawFn = void (*)(const ShapeObject&, const float*, float*, int);
const DrawFn kDraw[] = {draw<0>, draw<1>, draw<2>, draw<3>, draw<4>, draw<5>};

// The background: base[c] + amplitude * t(x, y), with t in [-0.5, 0.5] a
// gradient (1), stripes (2) or checks (3) along the direction (ca, sa), or 0
// (plain). Coordinates are offset by +64 periods before truncating, which
// floors them without calling floor (SSE2 has no rounding instruction).
template <int kTexture>
void fill_background(float* out, int S, const float base[3], float amplitude, float ca, float sa, float inv_period) {
  const size_t plane = static_cast<size_t>(S) * S;
  const float b0 = base[0], b1 = base[1], b2 = base[2], half = 0.5f * S, gradient = 0.7f * amplitude / S;
  for (int y = 0; y < S; ++y) {
    float* p0 = out + static_cast<size_t>(y) * S;
    float* p1 = p0 + plane;
    float* p2 = p1 + plane;
    const float fy = y + 0.5f - half;
    for (int x = 0; x < S; ++x) {
      const float fx = x + 0.5f - half, u = fx * ca + fy * sa, v = fy * ca - fx * sa;
      float a = 0;
      if constexpr (kTexture == 1) a = gradient * u;
      if constexpr (kTexture == 2) a = amplitude * ((static_cast<int>(u * inv_period + 64) & 1) - 0.5f);
      if constexpr (kTexture == 3)
        a = amplitude * (((static_cast<int>(u * inv_period + 64) + static_cast<int>(v * inv_period + 64)) & 1) - 0.5f);
      p0[x] = b0 + a;
      p1[x] = b1 + a;
      p2[x] = b2 + a;
    }
  }
}

using BackgroundFn = void (*)(float*, int, const float*, float, float, float, float);
const BackgroundFn kBackground[] = {fill_background<0>, fill_background<1>, fill_background<2>, fill_background<3>};

// Adds noise * N(0, 1)-ish to n values and clamps them to [0, 1]. kLanes
// independent xorshift32 streams, seeded from the image's key, advance side
// by side so the loop vectorizes; (sum of a draw's four bytes - 510) / 147.8
// has mean 0 and std 1.
void add_noise(float* out, size_t n, float noise, uint64_t seed) {
  constexpr int kLanes = 16;
  uint32_t state[kLanes];
  for (int l = 0; l < kLanes; ++l) state[l] = static_cast<uint32_t>(mix64(seed + l)) | 1u;  // never 0
  const float scale = noise / 147.80166f;
  auto step = [&](int l, float& v) {
    uint32_t x = state[l];
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    state[l] = x;
    const int sum = static_cast<int>((x & 255u) + ((x >> 8) & 255u) + ((x >> 16) & 255u) + (x >> 24));
    v = std::min(1.0f, std::max(0.0f, v + scale * static_cast<float>(sum - 510)));
  };
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) step(l, out[i + l]);
  for (int l = 0; i < n; ++i, ++l) step(l, out[i]);
}

float radius_for(int size, float S, Rng& rng) {
  const float* f = size ? kLarge : kSmall;
  return std::max(kMinRadius, rng.uniform(f[0], f[1]) * S);
}

bool apart(const ShapeObject& a, float x, float y, float r) {
  const float need = a.radius + r + kGap;
  return std::fabs(a.x - x) >= need || std::fabs(a.y - y) >= need;
}

// Rejection sampling: each object tries random centres until its bounding
// square keeps kGap from every earlier one.
bool place_randomly(std::vector<ShapeObject>& objs, float S, Rng& rng) {
  for (size_t k = 0; k < objs.size(); ++k) {
    ShapeObject& o = objs[k];
    o.radius = radius_for(o.size, S, rng);
    bool placed = false;
    for (int t = 0; t < 64 && !placed; ++t) {
      const float x = rng.uniform(o.radius + 1, S - 1 - o.radius), y = rng.uniform(o.radius + 1, S - 1 - o.radius);
      placed =
          std::all_of(objs.begin(), objs.begin() + k, [&](const ShapeObject& p) { return apart(p, x, y, o.radius); });
      if (placed) o.x = x, o.y = y;
    }
    if (!placed) return false;
  }
  return true;
}

// The fallback when rejection keeps failing (many large objects in a small
// image): small objects in distinct cells of a grid that the constructor
// checked is big enough.
void place_on_grid(std::vector<ShapeObject>& objs, float S, Rng& rng) {
  const float cell = 2 * kSmall[1] * S + kGap;
  const int m = static_cast<int>((S - 2) / cell);
  std::vector<int> cells(m * m);
  for (int i = 0; i < m * m; ++i) cells[i] = i;
  for (size_t k = 0; k < objs.size(); ++k) {
    std::swap(cells[k], cells[k + rng.below(static_cast<int64_t>(cells.size() - k))]);
    ShapeObject& o = objs[k];
    o.size = 0;
    o.radius = radius_for(0, S, rng);
    o.x = 1 + cell * (cells[k] % m) + cell / 2;
    o.y = 1 + cell * (cells[k] / m) + cell / 2;
  }
}

// ---------------------------------------------------------------- language

// "small red circle", "red shape", "large object": the attributes in `bits`,
// then the shape's name or, without kShapeBit, the generic noun.
std::string phrase(const ShapeObject& o, int bits, const char* generic) {
  std::string s;
  auto add = [&](const char* w) {
    if (!s.empty()) s += ' ';
    s += w;
  };
  if (bits & kSizeBit) add(kSizeNames[o.size]);
  if (bits & kColorBit) add(kColorNames[o.color]);
  add(bits & kShapeBit ? kShapeNames[o.shape] : generic);
  return s;
}

std::string indefinite(const std::string& np) {
  const bool vowel = std::string("aeiou").find(np[0]) != std::string::npos;
  return (vowel ? "an " : "a ") + np;
}

bool same_on(const ShapeObject& a, const ShapeObject& b, int bits) {
  return (!(bits & kSizeBit) || a.size == b.size) && (!(bits & kColorBit) || a.color == b.color) &&
         (!(bits & kShapeBit) || a.shape == b.shape);
}

int count_like(const std::vector<ShapeObject>& objs, const ShapeObject& ref, int bits) {
  return static_cast<int>(
      std::count_if(objs.begin(), objs.end(), [&](const ShapeObject& o) { return same_on(o, ref, bits); }));
}

std::string count_phrase(int n, const char* one, const std::string& many) {
  return std::string(kNumbers[n]) + " " + (n == 1 ? std::string(one) : many);
}

// The relations of a to b that hold clearly (see shapes.h): index 0 for the
// horizontal axis ("to the left of" / "to the right of"), 1 for the vertical
// ("above" / "below"); empty words where the axis does not separate them.
struct Relation {
  const char* word[2] = {nullptr, nullptr};
  const char* opposite[2] = {nullptr, nullptr};
};
Relation relation(const ShapeObject& a, const ShapeObject& b, float margin) {
  Relation r;
  const float dx = b.x - a.x, dy = b.y - a.y;
  if (std::fabs(dx) >= margin) {
    r.word[0] = dx > 0 ? "to the left of" : "to the right of";
    r.opposite[0] = dx > 0 ? "to the right of" : "to the left of";
  }
  if (std::fabs(dy) >= margin) {
    r.word[1] = dy > 0 ? "above" : "below";
    r.opposite[1] = dy > 0 ? "below" : "above";
  }
  return r;
}

// One axis of r with a word, drawn when both have one; -1 when none has.
int pick_axis(const Relation& r, Rng& rng) {
  if (r.word[0] && r.word[1]) return rng.coin() ? 1 : 0;
  return r.word[0] ? 0 : r.word[1] ? 1 : -1;
}

// Which attributes a caption names, repeated by how often they are drawn.
const int kCaptionDetails[] = {kAll,        kAll,       kAll,      kColorShape, kColorShape,
                               kColorShape, kSizeShape, kColorBit, kShapeBit,   kSizeColor};
enum CaptionKind { kObject, kRelationCaption, kPair, kCountShape, kCountColor, kCountAll };
const CaptionKind kCaptionKinds[] = {kObject,          kObject,          kObject,          kRelationCaption,
                                     kRelationCaption, kRelationCaption, kRelationCaption, kPair,
                                     kCountShape,      kCountColor,      kCountAll};

// "the red circle": the first attribute set of `options` that singles out
// objs[k]; empty when none does.
std::string definite(const std::vector<ShapeObject>& objs, size_t k, std::initializer_list<int> options) {
  for (int bits : options)
    if (count_like(objs, objs[k], bits) == 1) return "the " + phrase(objs[k], bits, "object");
  return {};
}

void add_unique(std::vector<std::string>& list, std::string s) {
  if (std::find(list.begin(), list.end(), s) == list.end()) list.push_back(std::move(s));
}

}  // namespace

// ---------------------------------------------------------------- dataset

ShapesDataset::ShapesDataset(int64_t size, const std::string& split, ShapesConfig config,
                             std::shared_ptr<const WordTokenizer> tokenizer, int64_t max_len)
    : size_(size), split_(split), config_(std::move(config)), tokenizer_(std::move(tokenizer)), max_len_(max_len) {
  static_assert(std::size(kShapeNames) == kShapes && std::size(kColorNames) == kColors);
  const ShapesConfig& c = config_;
  LOOM_CHECK_VALUE(size >= 0, "ShapesDataset: size must be >= 0, got ", size);
  const auto split_it = std::find(std::begin(kSplits), std::end(kSplits), split);
  LOOM_CHECK_VALUE(split_it != std::end(kSplits), "ShapesDataset: split must be \"train\", \"test\" or ",
                   "\"compositional\", got \"", split, "\"");
  LOOM_CHECK_VALUE(c.image_size >= kMinImageSize && c.image_size <= 4096, "ShapesDataset: image_size must be in [",
                   kMinImageSize, ", 4096], got ", c.image_size);
  LOOM_CHECK_VALUE(c.min_objects >= 1 && c.max_objects <= kMaxObjects, "ShapesDataset: min_objects and max_objects ",
                   "must be in [1, ", kMaxObjects, "], got ", c.min_objects, " and ", c.max_objects);
  LOOM_CHECK_VALUE(c.min_objects <= c.max_objects, "ShapesDataset: min_objects (", c.min_objects,
                   ") must be <= max_objects (", c.max_objects, ")");
  // The grid fallback of place_on_grid must hold max_objects small objects.
  const float S = static_cast<float>(c.image_size);
  const int64_t cells = static_cast<int64_t>((S - 2) / (2 * kSmall[1] * S + kGap));
  LOOM_CHECK_VALUE(cells * cells >= c.max_objects, "ShapesDataset: image_size ", c.image_size, " is too small for ",
                   c.max_objects, " objects");
  LOOM_CHECK_VALUE(std::isfinite(c.noise) && c.noise >= 0, "ShapesDataset: noise must be a finite std >= 0, got ",
                   c.noise);
  LOOM_CHECK_VALUE(c.min_captions >= 1 && c.max_captions <= 8 && c.min_captions <= c.max_captions,
                   "ShapesDataset: captions per image must satisfy 1 <= min_captions <= max_captions <= 8, got ",
                   c.min_captions, " and ", c.max_captions);
  LOOM_CHECK_VALUE(c.questions >= 0 && c.questions <= 8, "ShapesDataset: questions per image must be in [0, 8], got ",
                   c.questions);
  LOOM_CHECK_VALUE(max_len >= 2, "ShapesDataset: max_len must be >= 2, got ", max_len);

  held_out_.assign(kColors * kShapes, false);
  for (const auto& [color, shape] : c.holdout) {
    const auto ci = std::find(std::begin(kColorNames), std::end(kColorNames), color);
    const auto si = std::find(std::begin(kShapeNames), std::end(kShapeNames), shape);
    LOOM_CHECK_VALUE(ci != std::end(kColorNames), "ShapesDataset: holdout names an unknown colour \"", color,
                     "\" (known: ", color_names(), ")");
    LOOM_CHECK_VALUE(si != std::end(kShapeNames), "ShapesDataset: holdout names an unknown shape \"", shape,
                     "\" (known: ", shape_names(), ")");
    const int ic = static_cast<int>(ci - std::begin(kColorNames)), is = static_cast<int>(si - std::begin(kShapeNames));
    if (!held_out_[ic * kShapes + is]) holdout_.emplace_back(ic, is);
    held_out_[ic * kShapes + is] = true;
  }
  for (int ic = 0; ic < kColors; ++ic)
    for (int is = 0; is < kShapes; ++is)
      if (!held_out_[ic * kShapes + is]) allowed_.emplace_back(ic, is);
  LOOM_CHECK_VALUE(!allowed_.empty(), "ShapesDataset: holdout holds out every (colour, shape) pair");
  LOOM_CHECK_VALUE(split != "compositional" || !holdout_.empty(),
                   "ShapesDataset: the \"compositional\" split needs at least one held-out pair, holdout is empty");
  compositional_ = split == "compositional";
  split_key_ = mix64(mix64(c.seed) + static_cast<uint64_t>(split_it - std::begin(kSplits)) + 1);
}

uint64_t ShapesDataset::key(int64_t index, uint64_t stream) const {
  return mix64(mix64(split_key_ ^ static_cast<uint64_t>(index)) + stream);
}

bool ShapesDataset::held_out(int color, int shape) const {
  LOOM_CHECK_INDEX(color >= 0 && color < kColors && shape >= 0 && shape < kShapes,
                   "ShapesDataset::held_out: expected a colour in [0, ", kColors, ") and a shape in [0, ", kShapes,
                   "), got ", color, " and ", shape);
  return held_out_[color * kShapes + shape];
}

void ShapesDataset::check_index(int64_t index, const char* op) const {
  LOOM_CHECK_INDEX(index >= 0 && index < size_, op, ": index ", index, " is out of range for a dataset of ", size_,
                   " images");
}

std::vector<ShapeObject> ShapesDataset::objects(int64_t index) const {
  check_index(index, "ShapesDataset::objects");
  Rng rng(key(index, kScene));
  const int n = static_cast<int>(config_.min_objects) + rng.below(config_.max_objects - config_.min_objects + 1);
  const int special = compositional_ ? rng.below(n) : -1;
  std::vector<ShapeObject> objs(n);
  for (int k = 0; k < n; ++k) {
    const auto& pairs = k == special ? holdout_ : allowed_;
    const auto [color, shape] = pairs[rng.below(static_cast<int64_t>(pairs.size()))];
    objs[k].color = color;
    objs[k].shape = shape;
    objs[k].size = rng.below(2);
  }
  // A crowded scene that keeps failing gets a large object made small after
  // every second failure, and a grid as the last resort. With up to four
  // objects in 64x64 neither happens in practice.
  const float S = static_cast<float>(config_.image_size);
  for (int attempt = 0; attempt < 24; ++attempt) {
    if (place_randomly(objs, S, rng)) return objs;
    if (attempt % 2 == 1) {
      auto large = std::find_if(objs.rbegin(), objs.rend(), [](const ShapeObject& o) { return o.size == 1; });
      if (large != objs.rend()) large->size = 0;
    }
  }
  place_on_grid(objs, S, rng);
  return objs;
}

void ShapesDataset::render(int64_t index, const std::vector<ShapeObject>& objects, float* out) const {
  const int S = static_cast<int>(config_.image_size);
  Rng rng(key(index, kPixels));
  // A dark grey with a slight tint; with the pattern's amplitude it stays in
  // [0.05 - 0.05, 0.33 + 0.05], so only noise needs clamping.
  const float grey = rng.uniform(0.08f, 0.30f);
  float base[3];
  for (float& b : base) b = grey + rng.uniform(-0.03f, 0.03f);
  const int texture = config_.texture ? rng.below(4) : 0;
  const float amplitude = rng.uniform(0.04f, 0.10f), angle = rng.uniform(0.0f, 6.2831853f);
  const float period = rng.uniform(0.06f, 0.16f) * S;
  kBackground[texture](out, S, base, amplitude, std::cos(angle), std::sin(angle), 1.0f / period);
  for (const ShapeObject& o : objects) {
    float color[3];
    for (int c = 0; c < 3; ++c) color[c] = std::clamp(kRgb[o.color][c] + rng.uniform(-0.04f, 0.04f), 0.0f, 1.0f);
    kDraw[o.shape](o, color, out, S);
  }
  const uint64_t noise_seed = rng.next();
  if (config_.noise > 0) add_noise(out, 3 * static_cast<size_t>(S) * S, static_cast<float>(config_.noise), noise_seed);
}

std::vector<std::string> ShapesDataset::make_captions(int64_t index, const std::vector<ShapeObject>& objs) const {
  Rng rng(key(index, kCaptions));
  const size_t want = config_.min_captions + rng.below(config_.max_captions - config_.min_captions + 1);
  const int n = static_cast<int>(objs.size());
  const float margin = config_.image_size / 8.0f;
  auto count_shape = [&](const ShapeObject& o) {
    return count_phrase(count_like(objs, o, kShapeBit), kShapeNames[o.shape], kShapePlurals[o.shape]);
  };
  auto count_color = [&](const ShapeObject& o) {
    const std::string color = kColorNames[o.color];
    return count_phrase(count_like(objs, o, kColorBit), (color + " shape").c_str(), color + " shapes");
  };
  auto detail = [&] { return kCaptionDetails[rng.below(std::size(kCaptionDetails))]; };

  std::vector<std::string> out;
  for (int attempt = 0; attempt < 200 && out.size() < want; ++attempt) {
    const CaptionKind kind = kCaptionKinds[rng.below(std::size(kCaptionKinds))];
    if (n < 2 && (kind == kRelationCaption || kind == kPair)) continue;
    const ShapeObject& o = objs[rng.below(n)];
    switch (kind) {
      case kObject: add_unique(out, indefinite(phrase(o, detail(), "shape"))); break;
      case kRelationCaption:
      case kPair: {
        // o and another object; a relation that holds between them (every
        // pair has one, see shapes.h), described at random detail.
        const ShapeObject& other = objs[(&o - objs.data() + 1 + rng.below(n - 1)) % n];
        std::string joint = " and ";
        if (kind == kRelationCaption) {
          const Relation r = relation(o, other, margin);
          const int axis = pick_axis(r, rng);
          if (axis < 0) continue;
          joint = std::string(" ") + r.word[axis] + " ";
        }
        const std::string a = indefinite(phrase(o, detail(), "shape")),
                          b = indefinite(phrase(other, detail(), "shape"));
        if (kind == kPair && a == b) continue;  // "a star and a star" says little
        add_unique(out, a + joint + b);
        break;
      }
      case kCountShape: add_unique(out, count_shape(o)); break;
      case kCountColor: add_unique(out, count_color(o)); break;
      case kCountAll: add_unique(out, count_phrase(n, "shape", "shapes")); break;
    }
  }
  // Practically never needed: a fixed enumeration that guarantees `want`
  // (<= 8) captions even for a single object, which has nine.
  for (const ShapeObject& o : objs) {
    for (int bits : {kAll, kColorShape, kSizeShape, kColorBit, kShapeBit, kSizeColor})
      if (out.size() < want) add_unique(out, indefinite(phrase(o, bits, "shape")));
    if (out.size() < want) add_unique(out, count_shape(o));
    if (out.size() < want) add_unique(out, count_color(o));
  }
  if (out.size() < want) add_unique(out, count_phrase(n, "shape", "shapes"));
  return out;
}

std::vector<ShapesQuestion> ShapesDataset::make_questions(int64_t index, const std::vector<ShapeObject>& objs) const {
  Rng rng(key(index, kQuestions));
  const int n = static_cast<int>(objs.size());
  const float margin = config_.image_size / 8.0f;
  std::vector<ShapesQuestion> out;
  auto add = [&](std::string q, std::string a, const char* type) {
    for (const ShapesQuestion& e : out)
      if (e.question == q) return;
    out.push_back({std::move(q), std::move(a), type});
  };
  auto how_many = [&](const std::string& what, const ShapeObject& ref, int bits) {
    add("how many " + what + " are there?", std::to_string(bits ? count_like(objs, ref, bits) : n), "count");
  };

  const size_t want = static_cast<size_t>(config_.questions);
  for (int attempt = 0; attempt < 200 && out.size() < want; ++attempt) {
    const int type = rng.below(std::size(kQuestionTypes));
    const size_t k = rng.below(n);
    const ShapeObject& o = objs[k];
    if (type == 0 || type == 1) {  // color / shape, only about an object some description singles out
      const std::string ref = type == 0 ? definite(objs, k, {kShapeBit, kSizeShape, kSizeBit})
                                        : definite(objs, k, {kColorBit, kSizeColor, kSizeBit});
      if (ref.empty()) continue;
      if (type == 0) add("what color is " + ref + "?", kColorNames[o.color], "color");
      if (type == 1) add("what shape is " + ref + "?", kShapeNames[o.shape], "shape");
    } else if (type == 2) {  // count: half the time of something absent or random
      ShapeObject ref = o;
      ref.shape = rng.coin() ? o.shape : rng.below(kShapes);
      ref.color = rng.coin() ? o.color : rng.below(kColors);
      switch (rng.below(3)) {
        case 0: how_many(kShapePlurals[ref.shape], ref, kShapeBit); break;
        case 1: how_many(std::string(kColorNames[ref.color]) + " objects", ref, kColorBit); break;
        default: how_many("objects", ref, 0); break;
      }
    } else if (type == 3) {  // exist: yes or no with equal probability
      const int forms[] = {kColorShape, kColorShape, kShapeBit, kColorBit, kAll};
      const int bits = forms[rng.below(std::size(forms))];
      ShapeObject ref = o;
      const bool yes = rng.coin();
      bool found = yes;
      // A missing object; outside "compositional" never a held-out pair, so
      // that no text of "train" names one.
      for (int t = 0; t < 32 && !found; ++t) {
        ref.color = rng.below(kColors);
        ref.shape = rng.below(kShapes);
        ref.size = rng.below(2);
        found = count_like(objs, ref, bits) == 0 &&
                (compositional_ || (bits & kColorShape) != kColorShape || !held_out(ref.color, ref.shape));
      }
      if (!found) continue;
      add("is there " + indefinite(phrase(ref, bits, "object")) + "?", yes ? "yes" : "no", "exist");
    } else {  // relation: along an axis that separates the two, the true word or its opposite
      if (n < 2) continue;
      const size_t j = (k + 1 + rng.below(n - 1)) % n;
      const bool by_shape = rng.coin();
      const std::string a =
          by_shape ? definite(objs, k, {kShapeBit, kColorShape, kAll}) : definite(objs, k, {kColorShape, kAll});
      const std::string b =
          by_shape ? definite(objs, j, {kShapeBit, kColorShape, kAll}) : definite(objs, j, {kColorShape, kAll});
      if (a.empty() || b.empty()) continue;
      const Relation r = relation(o, objs[j], margin);
      const int axis = pick_axis(r, rng);
      if (axis < 0) continue;
      const bool yes = rng.coin();
      add("is " + a + " " + (yes ? r.word[axis] : r.opposite[axis]) + " " + b + "?", yes ? "yes" : "no", "relation");
    }
  }
  // Practically never needed: counts of every shape and colour give 14
  // distinct questions for any image.
  for (int s = 0; s < kShapes && out.size() < want; ++s) {
    ShapeObject ref;
    ref.shape = s;
    how_many(kShapePlurals[s], ref, kShapeBit);
  }
  for (int c = 0; c < kColors && out.size() < want; ++c) {
    ShapeObject ref;
    ref.color = c;
    how_many(std::string(kColorNames[c]) + " objects", ref, kColorBit);
  }
  return out;
}

Tensor ShapesDataset::image(int64_t index) const {
  check_index(index, "ShapesDataset::image");
  const int64_t S = config_.image_size;
  Tensor out = empty({3, S, S}, TensorOptions(DType::Float32));
  render(index, objects(index), out.data_ptr<float>());
  return out;
}

std::vector<std::string> ShapesDataset::captions(int64_t index) const {
  check_index(index, "ShapesDataset::captions");
  return make_captions(index, objects(index));
}

std::vector<ShapesQuestion> ShapesDataset::questions(int64_t index) const {
  check_index(index, "ShapesDataset::questions");
  return make_questions(index, objects(index));
}

ShapesSample ShapesDataset::sample(int64_t index) const {
  check_index(index, "ShapesDataset::sample");
  ShapesSample s;
  s.index = index;
  s.objects = objects(index);
  const int64_t S = config_.image_size;
  s.image = empty({3, S, S}, TensorOptions(DType::Float32));
  render(index, s.objects, s.image.data_ptr<float>());
  s.captions = make_captions(index, s.objects);
  s.questions = make_questions(index, s.objects);
  return s;
}

Example ShapesDataset::get(int64_t index) const {
  check_index(index, "ShapesDataset::get");
  const std::vector<ShapeObject> objs = objects(index);
  Example e;
  const int64_t S = config_.image_size;
  e.image = empty({3, S, S}, TensorOptions(DType::Float32));
  render(index, objs, e.image.data_ptr<float>());
  e.caption = make_captions(index, objs).front();
  if (tokenizer_) e.tokens = from_vector(tokenizer_->encode(e.caption, max_len_), {max_len_});
  e.label = index;
  return e;
}

namespace {
// Runs f(i) for i in [0, n) on the thread pool, in chunks taken dynamically.
template <typename F>
void for_each_parallel(size_t n, F f) {
  constexpr size_t kChunk = 8;
  kernels::cpu::parallel_run(static_cast<int>((n + kChunk - 1) / kChunk), [&](int t) {
    for (size_t i = t * kChunk; i < std::min(n, (t + 1) * kChunk); ++i) f(i);
  });
}
}  // namespace

Tensor ShapesDataset::images(const std::vector<int64_t>& indices) const {
  for (int64_t i : indices) check_index(i, "ShapesDataset::images");
  const int64_t S = config_.image_size, n = static_cast<int64_t>(indices.size());
  Tensor out = empty({n, 3, S, S}, TensorOptions(DType::Float32));
  float* data = out.data_ptr<float>();
  for_each_parallel(indices.size(), [&](size_t i) { render(indices[i], objects(indices[i]), data + i * 3 * S * S); });
  return out;
}

std::vector<std::vector<std::string>> ShapesDataset::captions(const std::vector<int64_t>& indices) const {
  for (int64_t i : indices) check_index(i, "ShapesDataset::captions");
  std::vector<std::vector<std::string>> out(indices.size());
  for_each_parallel(indices.size(), [&](size_t i) { out[i] = make_captions(indices[i], objects(indices[i])); });
  return out;
}

std::vector<ShapesSample> ShapesDataset::samples(const std::vector<int64_t>& indices) const {
  for (int64_t i : indices) check_index(i, "ShapesDataset::samples");
  std::vector<ShapesSample> out(indices.size());
  for_each_parallel(indices.size(), [&](size_t i) { out[i] = sample(indices[i]); });
  return out;
}

// ---------------------------------------------------------------- vocabularies

const std::vector<std::string>& ShapesDataset::shape_names() {
  static const std::vector<std::string> v(std::begin(kShapeNames), std::end(kShapeNames));
  return v;
}

const std::vector<std::string>& ShapesDataset::color_names() {
  static const std::vector<std::string> v(std::begin(kColorNames), std::end(kColorNames));
  return v;
}

const std::vector<std::string>& ShapesDataset::size_names() {
  static const std::vector<std::string> v(std::begin(kSizeNames), std::end(kSizeNames));
  return v;
}

const std::vector<std::string>& ShapesDataset::question_types() {
  static const std::vector<std::string> v(std::begin(kQuestionTypes), std::end(kQuestionTypes));
  return v;
}

const std::vector<std::string>& ShapesDataset::answer_vocab() {
  static const std::vector<std::string> v = [] {
    std::vector<std::string> a = {"yes", "no"};
    for (int64_t i = 0; i <= kMaxObjects; ++i) a.push_back(std::to_string(i));
    a.insert(a.end(), std::begin(kColorNames), std::end(kColorNames));
    a.insert(a.end(), std::begin(kShapeNames), std::end(kShapeNames));
    return a;
  }();
  return v;
}

const std::vector<std::string>& ShapesDataset::vocabulary() {
  static const std::vector<std::string> v = [] {
    // Every fixed piece of text the generators above put together.
    std::vector<std::string> text = {"a an the shape shapes object objects and above below to the left right of",
                                     "what color shape is how many are there ?"};
    auto add_all = [&](const auto& list) { text.insert(text.end(), std::begin(list), std::end(list)); };
    add_all(kShapeNames);
    add_all(kShapePlurals);
    add_all(kColorNames);
    add_all(kSizeNames);
    text.insert(text.end(), std::begin(kNumbers) + 1, std::end(kNumbers));
    text.insert(text.end(), answer_vocab().begin(), answer_vocab().end());
    std::set<std::string> words;
    for (const std::string& t : text)
      for (std::string& w : WordTokenizer::split(t)) words.insert(std::move(w));
    return std::vector<std::string>(words.begin(), words.end());
  }();
  return v;
}

}  // namespace loom::multimodal

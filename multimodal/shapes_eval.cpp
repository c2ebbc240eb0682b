// The Shapes evaluation protocol: caption meaning, truth, oracle ceilings and
// retrieval scores (see shapes_eval.h).
#include "multimodal/shapes_eval.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "autograd/node.h"
#include "core/error.h"
#include "multimodal/retrieval.h"

namespace loom::multimodal {

namespace {

const char* const kNumberWords[] = {"zero", "one", "two", "three", "four", "five", "six"};
// Relation words by (axis, sign): [axis][sign > 0 ? 0 : 1].
const char* const kRelationWords[2][2] = {{"to the left of", "to the right of"}, {"above", "below"}};

int find_word(const std::vector<std::string>& names, const std::string& w) {
  auto it = std::find(names.begin(), names.end(), w);
  return it == names.end() ? -1 : static_cast<int>(it - names.begin());
}

std::string plural(const std::string& shape) { return shape + (shape.size() > 1 && shape.back() == 's' ? "es" : "s"); }

struct Reader {
  const std::string& caption;
  std::vector<std::string> words;
  size_t i = 0;

  explicit Reader(const std::string& c) : caption(c) {
    std::istringstream in(c);
    for (std::string w; in >> w;) words.push_back(w);
  }
  bool done() const { return i >= words.size(); }
  const std::string& peek() const {
    static const std::string none;
    return done() ? none : words[i];
  }
  [[noreturn]] void fail() const {
    throw Error(ErrorKind::Value, "parse_shapes_caption: \"" + caption + "\" is not a caption of the Shapes grammar");
  }
  // "a|an [size] [colour] shape-or-'shape'"
  ShapesPhrase noun_phrase() {
    if (peek() != "a" && peek() != "an") fail();
    ++i;
    ShapesPhrase p;
    if ((p.size = find_word(ShapesDataset::size_names(), peek())) >= 0) ++i;
    if ((p.color = find_word(ShapesDataset::color_names(), peek())) >= 0) ++i;
    if (peek() == "shape") {
      ++i;
    } else if ((p.shape = find_word(ShapesDataset::shape_names(), peek())) >= 0) {
      ++i;
    } else {
      fail();
    }
    return p;
  }
};

// Expected R@k of an oracle that ranks the `fits` documents a query fits first, in random order.
double oracle_recall(const std::vector<int64_t>& fits, int64_t k) {
  double s = 0;
  for (int64_t f : fits) s += std::min(1.0, static_cast<double>(k) / std::max<int64_t>(f, 1));
  return fits.empty() ? 0.0 : s / static_cast<double>(fits.size());
}

}  // namespace

ShapesCaptionMeaning parse_shapes_caption(const std::string& caption) {
  Reader r(caption);
  ShapesCaptionMeaning m;
  const int number = static_cast<int>(std::find(std::begin(kNumberWords), std::end(kNumberWords), r.peek()) -
                                      std::begin(kNumberWords));
  if (number < static_cast<int>(std::size(kNumberWords))) {
    ++r.i;
    m.kind = ShapesCaptionMeaning::kCount;
    m.count = number;
    if ((m.a.color = find_word(ShapesDataset::color_names(), r.peek())) >= 0) ++r.i;
    const std::string& noun = r.peek();
    if (noun == "shape" || noun == "shapes") {
      m.a.shape = -1;
    } else {
      const auto& names = ShapesDataset::shape_names();
      for (size_t s = 0; s < names.size(); ++s)
        if (noun == names[s] || noun == plural(names[s])) m.a.shape = static_cast<int>(s);
      if (m.a.shape < 0) r.fail();
    }
    ++r.i;
    if (!r.done()) r.fail();
    return m;
  }
  m.a = r.noun_phrase();
  if (r.done()) return m;
  if (r.peek() == "and") {
    ++r.i;
    m.kind = ShapesCaptionMeaning::kAnd;
  } else {
    m.kind = ShapesCaptionMeaning::kRelation;
    bool found = false;
    for (int axis = 0; axis < 2 && !found; ++axis) {
      for (int s = 0; s < 2 && !found; ++s) {
        std::istringstream in(kRelationWords[axis][s]);
        size_t j = r.i;
        bool ok = true;
        for (std::string w; in >> w; ++j)
          if (j >= r.words.size() || r.words[j] != w) ok = false;
        if (ok) {
          found = true;
          r.i = j;
          m.axis = axis;
          m.sign = s == 0 ? 1 : -1;
        }
      }
    }
    if (!found) r.fail();
  }
  m.b = r.noun_phrase();
  if (!r.done()) r.fail();
  return m;
}

std::string shapes_noun_phrase(const ShapesPhrase& p) {
  std::string s;
  auto add = [&](const std::string& w) { s += (s.empty() ? "" : " ") + w; };
  if (p.size >= 0) add(ShapesDataset::size_names().at(p.size));
  if (p.color >= 0) add(ShapesDataset::color_names().at(p.color));
  add(p.shape >= 0 ? ShapesDataset::shape_names().at(p.shape) : "shape");
  return (std::string("aeiou").find(s[0]) != std::string::npos ? "an " : "a ") + s;
}

std::string shapes_caption_text(const ShapesCaptionMeaning& m) {
  switch (m.kind) {
    case ShapesCaptionMeaning::kOne: return shapes_noun_phrase(m.a);
    case ShapesCaptionMeaning::kAnd: return shapes_noun_phrase(m.a) + " and " + shapes_noun_phrase(m.b);
    case ShapesCaptionMeaning::kRelation:
      return shapes_noun_phrase(m.a) + " " + kRelationWords[m.axis][m.sign > 0 ? 0 : 1] + " " + shapes_noun_phrase(m.b);
    case ShapesCaptionMeaning::kCount: {
      LOOM_CHECK_VALUE(m.count >= 0 && m.count < static_cast<int>(std::size(kNumberWords)),
                       "shapes_caption_text: count ", m.count, " outside [0, 6]");
      std::string s = kNumberWords[m.count];
      if (m.a.color >= 0) s += " " + ShapesDataset::color_names().at(m.a.color);
      const std::string noun = m.a.shape >= 0 ? ShapesDataset::shape_names().at(m.a.shape) : "shape";
      return s + " " + (m.count == 1 ? noun : plural(noun));
    }
  }
  return {};
}

bool shapes_caption_true(const ShapesCaptionMeaning& m, const std::vector<ShapeObject>& objs, int64_t image_size) {
  const size_t n = objs.size();
  switch (m.kind) {
    case ShapesCaptionMeaning::kOne:
      return std::any_of(objs.begin(), objs.end(), [&](const ShapeObject& o) { return m.a.fits(o); });
    case ShapesCaptionMeaning::kCount:
      return std::count_if(objs.begin(), objs.end(), [&](const ShapeObject& o) { return m.a.fits(o); }) == m.count;
    case ShapesCaptionMeaning::kAnd:
    case ShapesCaptionMeaning::kRelation: {
      // The generator's test, in the same float arithmetic (shapes.cpp).
      const float margin = static_cast<float>(image_size) / 8.0f;
      for (size_t i = 0; i < n; ++i) {
        if (!m.a.fits(objs[i])) continue;
        for (size_t j = 0; j < n; ++j) {
          if (j == i || !m.b.fits(objs[j])) continue;
          if (m.kind == ShapesCaptionMeaning::kAnd) return true;
          const float d = m.axis == 0 ? objs[j].x - objs[i].x : objs[j].y - objs[i].y;
          if (static_cast<float>(m.sign) * d >= margin) return true;
        }
      }
      return false;
    }
  }
  return false;
}

Tensor shapes_caption_truth(const std::vector<std::string>& captions,
                            const std::vector<std::vector<ShapeObject>>& scenes, int64_t image_size) {
  const int64_t T = static_cast<int64_t>(captions.size()), N = static_cast<int64_t>(scenes.size());
  Tensor out = zeros({T, N}, TensorOptions(DType::Bool));
  bool* p = out.data_ptr<bool>();
  for (int64_t t = 0; t < T; ++t) {
    const ShapesCaptionMeaning m = parse_shapes_caption(captions[t]);
    for (int64_t n = 0; n < N; ++n) p[t * N + n] = shapes_caption_true(m, scenes[n], image_size);
  }
  return out;
}

ShapesRetrieval::ShapesRetrieval(const ShapesDataset& data, int64_t n) : n_(n), image_size_(data.config().image_size) {
  LOOM_CHECK_VALUE(n >= 1 && n <= data.size(), "ShapesRetrieval: n = ", n, " images, but the dataset has ", data.size(),
                   " (need 1 <= n <= size)");
  std::vector<int64_t> idx(n);
  for (int64_t i = 0; i < n; ++i) idx[i] = i;
  const std::vector<std::vector<std::string>> caps = data.captions(idx);
  first_caption_.push_back(0);
  for (int64_t i = 0; i < n; ++i) {
    scenes_.push_back(data.objects(i));
    for (const std::string& c : caps[i]) {
      texts_.push_back(c);
      owner_.push_back(i);
    }
    first_caption_.push_back(static_cast<int64_t>(texts_.size()));
  }
  truth_ = shapes_caption_truth(texts_, scenes_, image_size_);
  scene_truth_ = zeros({n, n}, TensorOptions(DType::Bool));
  const bool* t = truth_.data_ptr<bool>();
  bool* s = scene_truth_.data_ptr<bool>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      bool all = true;
      for (int64_t c = first_caption_[i]; c < first_caption_[i + 1] && all; ++c) all = t[c * n + j];
      s[i * n + j] = all;
    }
}

std::map<std::string, double> ShapesRetrieval::ceilings(const std::vector<int64_t>& ks) const {
  const int64_t T = static_cast<int64_t>(texts_.size());
  const bool* t = truth_.data_ptr<bool>();
  const bool* s = scene_truth_.data_ptr<bool>();
  std::vector<int64_t> set_fits(n_, 0), caption_fits(T, 0);
  for (int64_t i = 0; i < n_; ++i)
    for (int64_t j = 0; j < n_; ++j) set_fits[i] += s[i * n_ + j];
  for (int64_t c = 0; c < T; ++c)
    for (int64_t j = 0; j < n_; ++j) caption_fits[c] += t[c * n_ + j];
  std::map<std::string, double> out;
  auto mean = [](const std::vector<int64_t>& v) {
    double sum = 0;
    for (int64_t x : v) sum += static_cast<double>(x);
    return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
  };
  out["scene.images_per_query"] = mean(set_fits);
  out["caption.images_per_query"] = mean(caption_fits);
  for (int64_t k : ks) {
    LOOM_CHECK_VALUE(k >= 1, "ShapesRetrieval::ceilings: k = ", k, " (need k >= 1)");
    const std::string r = "R@" + std::to_string(k);
    out["scene.text_to_image." + r] = oracle_recall(set_fits, k);
    out["caption.text_to_image." + r] = oracle_recall(caption_fits, k);
    // Image queries over caption sets: the oracle puts the sets that fit the
    // image first, those fitting fewer images (more specific) first; the own
    // set is among the ties of its specificity.
    double sum = 0;
    for (int64_t j = 0; j < n_; ++j) {
      int64_t ahead = 0, tied = 0;
      for (int64_t i = 0; i < n_; ++i) {
        if (!s[i * n_ + j]) continue;
        ahead += set_fits[i] < set_fits[j];
        tied += set_fits[i] == set_fits[j];
      }
      sum += std::clamp(static_cast<double>(k - ahead) / static_cast<double>(std::max<int64_t>(tied, 1)), 0.0, 1.0);
    }
    out["scene.image_to_text." + r] = sum / static_cast<double>(n_);
  }
  return out;
}

ShapesRetrieval::Scores ShapesRetrieval::score(const Tensor& image_emb, const Tensor& text_emb, double scale,
                                               const std::vector<int64_t>& ks) const {
  const int64_t T = static_cast<int64_t>(texts_.size());
  LOOM_CHECK_VALUE(image_emb.dim() == 2 && image_emb.size(0) == n_ && text_emb.dim() == 2 && text_emb.size(0) == T &&
                       text_emb.size(1) == image_emb.size(1),
                   "ShapesRetrieval::score: image_emb ", image_emb.sizes(), " and text_emb ", text_emb.sizes(),
                   "; expected [", n_, ", E] and [", T, ", E]");
  autograd::NoGradGuard no_grad;
  const Device device = image_emb.device();
  const Tensor logits = text_emb.matmul(image_emb.t()).mul(scale);  // [T, N]
  const Tensor log_p = logits - logits.logsumexp({1}, true);
  // member [N, T]: row i averages image i's captions.
  std::vector<float> member(static_cast<size_t>(n_ * T), 0.0f);
  for (int64_t i = 0; i < n_; ++i) {
    const int64_t c0 = first_caption_[i], c1 = first_caption_[i + 1];
    for (int64_t c = c0; c < c1; ++c) member[i * T + c] = 1.0f / static_cast<float>(c1 - c0);
  }
  const Tensor scene = from_vector(member, {n_, T}, device).to(log_p.dtype()).matmul(log_p);  // [N sets, N images]
  Scores out;
  out.scene = scene.cpu().to(DType::Float32).contiguous();
  out.caption_logits = logits.cpu().to(DType::Float32).contiguous();
  const Tensor scene_t = out.scene.t().contiguous();
  std::vector<int64_t> owner_ids = owner_;
  const RetrievalMetrics per_caption = retrieval_metrics(
      image_emb, text_emb, arange(n_, TensorOptions(DType::Int64, device)), from_vector(owner_ids, {T}, device), ks);
  for (int64_t k : ks) {
    const std::string r = "R@" + std::to_string(k);
    out.metrics["scene.text_to_image." + r] = recall_at_k(out.scene, k);
    out.metrics["scene.image_to_text." + r] = recall_at_k(scene_t, k);
    out.metrics["caption.text_to_image." + r] = per_caption.text_to_image.recall_at(k);
  }
  out.metrics["scene.text_to_image.median_rank"] = median_rank(out.scene);
  out.metrics["scene.image_to_text.median_rank"] = median_rank(scene_t);
  // Whether the top document fits the query, whichever it is (the oracle: 1).
  const std::vector<double> top_image = out.scene.argmax(1).to_vector(), top_set = scene_t.argmax(1).to_vector(),
                            top_caption = out.caption_logits.argmax(1).to_vector();
  const bool* st = scene_truth_.data_ptr<bool>();
  const bool* t = truth_.data_ptr<bool>();
  double a = 0, b = 0, c = 0;
  for (int64_t i = 0; i < n_; ++i) {
    a += st[i * n_ + static_cast<int64_t>(top_image[i])];
    b += st[static_cast<int64_t>(top_set[i]) * n_ + i];
  }
  for (int64_t q = 0; q < T; ++q) c += t[q * n_ + static_cast<int64_t>(top_caption[q])];
  out.metrics["scene.text_to_image.top1_fits"] = a / static_cast<double>(n_);
  out.metrics["scene.image_to_text.top1_fits"] = b / static_cast<double>(n_);
  out.metrics["caption.text_to_image.top1_fits"] = c / static_cast<double>(T);
  return out;
}

std::map<std::string, std::vector<ShapesRetrieval::Probe>> ShapesRetrieval::order_probes() const {
  std::map<std::string, std::vector<Probe>> out{{"binding", {}}, {"relation", {}}};
  for (size_t t = 0; t < texts_.size(); ++t) {
    const ShapesCaptionMeaning m = parse_shapes_caption(texts_[t]);
    if (m.kind != ShapesCaptionMeaning::kAnd && m.kind != ShapesCaptionMeaning::kRelation) continue;
    const std::vector<ShapeObject>& scene = scenes_[owner_[t]];
    auto keep = [&](const char* name, const ShapesCaptionMeaning& alt) {
      const std::string text = shapes_caption_text(alt);
      if (text != texts_[t] && !shapes_caption_true(alt, scene, image_size_))
        out[name].push_back({static_cast<int64_t>(t), text});
    };
    ShapesCaptionMeaning binding = m;  // the size and colour words trade places
    binding.a = {m.b.size, m.b.color, m.a.shape};
    binding.b = {m.a.size, m.a.color, m.b.shape};
    keep("binding", binding);
    if (m.kind == ShapesCaptionMeaning::kRelation) {
      ShapesCaptionMeaning swapped = m;  // the noun phrases trade places around the relation
      std::swap(swapped.a, swapped.b);
      keep("relation", swapped);
    }
  }
  return out;
}

double ShapesRetrieval::probe_accuracy(const std::vector<Probe>& probes, const Tensor& image_emb,
                                       const Tensor& text_emb, const Tensor& rewording_emb) const {
  const int64_t P = static_cast<int64_t>(probes.size());
  LOOM_CHECK_VALUE(P > 0, "ShapesRetrieval::probe_accuracy: no probes");
  LOOM_CHECK_VALUE(image_emb.dim() == 2 && text_emb.dim() == 2 && rewording_emb.dim() == 2 && image_emb.size(0) == n_ &&
                       text_emb.size(0) == static_cast<int64_t>(texts_.size()) && rewording_emb.size(0) == P &&
                       text_emb.size(1) == image_emb.size(1) && rewording_emb.size(1) == image_emb.size(1),
                   "ShapesRetrieval::probe_accuracy: image_emb ", image_emb.sizes(), ", text_emb ", text_emb.sizes(),
                   ", rewording_emb ", rewording_emb.sizes(), "; expected [", n_, ", E], [", texts_.size(),
                   ", E] and [", P, ", E]");
  autograd::NoGradGuard no_grad;
  const int64_t E = image_emb.size(1);
  const std::vector<double> img = image_emb.to_vector(), txt = text_emb.to_vector(), alt = rewording_emb.to_vector();
  double score = 0;
  for (int64_t p = 0; p < P; ++p) {
    const int64_t t = probes[p].caption, i = owner_.at(t);
    double right = 0, wrong = 0;
    for (int64_t e = 0; e < E; ++e) {
      right += img[i * E + e] * txt[t * E + e];
      wrong += img[i * E + e] * alt[p * E + e];
    }
    const double d = right - wrong;
    score += std::fabs(d) <= 1e-6 ? 0.5 : (d > 0 ? 1.0 : 0.0);
  }
  return score / static_cast<double>(P);
}

}  // namespace loom::multimodal

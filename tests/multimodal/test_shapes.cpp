// The Shapes dataset (multimodal/shapes.h): determinism (any order, any
// thread count, batch vs single), captions and answers checked against the
// object list by an independent parser of the grammar, caption diversity,
// the compositional split, yes/no balance, the Dataset interface with the
// DataLoader, bad input, and generation speed.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cpu/thread_pool.h"
#include "multimodal/shapes.h"

using namespace loom;
using namespace loom::multimodal;
using Catch::Matchers::ContainsSubstring;

namespace {

const std::vector<std::string> kPlurals = {"circles", "squares", "triangles", "diamonds", "crosses", "stars"};
const std::vector<std::string> kNumberWords = {"zero", "one", "two", "three", "four", "five", "six"};

int find(const std::vector<std::string>& list, const std::string& w) {
  auto it = std::find(list.begin(), list.end(), w);
  return it == list.end() ? -1 : static_cast<int>(it - list.begin());
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream is(s);
  std::vector<std::string> out;
  for (std::string w; is >> w;) out.push_back(w);
  return out;
}

bool same_pixels(const Tensor& a, const Tensor& b) {
  return a.sizes() == b.sizes() && std::memcmp(a.contiguous().data_ptr<float>(), b.contiguous().data_ptr<float>(),
                                               a.numel() * sizeof(float)) == 0;
}

// A noun phrase: each attribute's index, -1 where the phrase does not name it.
struct Desc {
  int size = -1, color = -1, shape = -1;
  bool matches(const ShapeObject& o) const {
    return (size < 0 || o.size == size) && (color < 0 || o.color == color) && (shape < 0 || o.shape == shape);
  }
};

// Parses "[size] [color] (shape | generic)" at w[i..]; advances i.
bool parse_np(const std::vector<std::string>& w, size_t& i, const std::string& generic, Desc* d) {
  if (i < w.size() && find(ShapesDataset::size_names(), w[i]) >= 0) d->size = find(ShapesDataset::size_names(), w[i++]);
  if (i < w.size() && find(ShapesDataset::color_names(), w[i]) >= 0)
    d->color = find(ShapesDataset::color_names(), w[i++]);
  if (i >= w.size()) return false;
  if (w[i] == generic) return ++i, true;
  d->shape = find(ShapesDataset::shape_names(), w[i]);
  return d->shape >= 0 && ++i;
}

// "a" / "an" as English spells it, then a noun phrase.
bool parse_indefinite(const std::vector<std::string>& w, size_t& i, const std::string& generic, Desc* d) {
  if (i + 1 >= w.size() || (w[i] != "a" && w[i] != "an")) return false;
  const bool vowel = std::string("aeiou").find(w[i + 1][0]) != std::string::npos;
  if ((w[i] == "an") != vowel) return false;
  ++i;
  return parse_np(w, i, generic, d);
}

// The documented relation: centres at least image_size / 8 apart along the
// axis (in float, as the positions are stored).
bool holds(const std::string& rel, const ShapeObject& a, const ShapeObject& b, double margin) {
  const float m = static_cast<float>(margin);
  if (rel == "to the left of") return b.x - a.x >= m;
  if (rel == "to the right of") return a.x - b.x >= m;
  if (rel == "above") return b.y - a.y >= m;
  if (rel == "below") return a.y - b.y >= m;
  FAIL("unknown relation " << rel);
  return false;
}
const char* opposite(const std::string& rel) {
  return rel == "to the left of"    ? "to the right of"
         : rel == "to the right of" ? "to the left of"
         : rel == "above"           ? "below"
                                    : "above";
}

// The words of a relation at w[i..], advancing i; empty when none.
std::string parse_relation(const std::vector<std::string>& w, size_t& i) {
  for (const char* r : {"to the left of", "to the right of", "above", "below"}) {
    const std::vector<std::string> rw = words(r);
    if (i + rw.size() <= w.size() && std::equal(rw.begin(), rw.end(), w.begin() + i)) {
      i += rw.size();
      return r;
    }
  }
  return {};
}

// Checks one caption against the objects; returns its kind ("" when it does
// not parse or is false, with the reason in *why).
std::string check_caption(const std::string& caption, const std::vector<ShapeObject>& objs, double margin,
                          std::string* why) {
  const std::vector<std::string> w = words(caption);
  size_t i = 0;
  const int number = find(kNumberWords, w.empty() ? "" : w[0]);
  if (number >= 1) {  // "<n> [color] (shapes | <plural>)": exactly n
    Desc d;
    i = 1;
    if (i < w.size() && find(ShapesDataset::color_names(), w[i]) >= 0)
      d.color = find(ShapesDataset::color_names(), w[i++]);
    if (i + 1 != w.size()) return *why = "bad count caption", "";
    const std::string& noun = w[i];
    const bool plural = noun == "shapes" || find(kPlurals, noun) >= 0;
    if (plural != (number > 1)) return *why = "number disagreement", "";
    d.shape = noun == "shape" || noun == "shapes"
                  ? -1
                  : std::max(find(kPlurals, noun), find(ShapesDataset::shape_names(), noun));
    if ((noun != "shape" && noun != "shapes") && d.shape < 0) return *why = "bad noun", "";
    const int n = static_cast<int>(std::count_if(objs.begin(), objs.end(), [&](auto& o) { return d.matches(o); }));
    if (n != number) return *why = "count is " + std::to_string(n), "";
    return "count";
  }
  Desc a, b;
  if (!parse_indefinite(w, i, "shape", &a)) return *why = "bad first noun phrase", "";
  if (i == w.size()) {
    if (std::none_of(objs.begin(), objs.end(), [&](auto& o) { return a.matches(o); }))
      return *why = "no such object", "";
    return "object";
  }
  std::string rel;
  if (w[i] == "and") {
    ++i;
  } else {
    rel = parse_relation(w, i);
    if (rel.empty()) return *why = "bad joint", "";
  }
  if (!parse_indefinite(w, i, "shape", &b) || i != w.size()) return *why = "bad second noun phrase", "";
  for (size_t p = 0; p < objs.size(); ++p)
    for (size_t q = 0; q < objs.size(); ++q)
      if (p != q && a.matches(objs[p]) && b.matches(objs[q]) && (rel.empty() || holds(rel, objs[p], objs[q], margin)))
        return rel.empty() ? "pair" : "relation";
  return *why = "no pair of objects fits", "";
}

// The object "the <np>" names; -1 (and *why) unless exactly one fits.
int parse_definite(const std::vector<std::string>& w, size_t& i, const std::vector<ShapeObject>& objs,
                   std::string* why) {
  Desc d;
  if (i >= w.size() || w[i++] != "the" || !parse_np(w, i, "object", &d)) return *why = "bad definite phrase", -1;
  int found = -1, n = 0;
  for (size_t k = 0; k < objs.size(); ++k)
    if (d.matches(objs[k])) found = static_cast<int>(k), ++n;
  if (n != 1) return *why = "the phrase fits " + std::to_string(n) + " objects", -1;
  return found;
}

// Checks a question's answer against the objects ("" when right).
std::string check_question(const ShapesQuestion& qa, const std::vector<ShapeObject>& objs, double margin) {
  std::string q = qa.question;
  if (q.empty() || q.back() != '?') return "no question mark";
  q.pop_back();
  const std::vector<std::string> w = words(q);
  std::string why;
  size_t i = 2;
  if (qa.type == "color" || qa.type == "shape") {
    if (w.size() < 3 || w[0] != "what" || w[1] != qa.type || w[2] != "is") return "bad form";
    i = 3;
    const int k = parse_definite(w, i, objs, &why);
    if (k < 0 || i != w.size()) return k < 0 ? why : "trailing words";
    const std::string& truth =
        qa.type == "color" ? ShapesDataset::color_names()[objs[k].color] : ShapesDataset::shape_names()[objs[k].shape];
    return qa.answer == truth ? "" : "answer should be " + truth;
  }
  if (qa.type == "count") {
    if (w.size() < 5 || w[0] != "how" || w[1] != "many" || w[w.size() - 2] != "are" || w.back() != "there")
      return "bad form";
    Desc d;
    if (w.size() == 6) d.color = find(ShapesDataset::color_names(), w[2]);
    const std::string& noun = w[w.size() - 3];
    d.shape = find(kPlurals, noun);
    if ((w.size() == 6 && d.color < 0) || (noun != "objects" && d.shape < 0) || w.size() > 6) return "bad form";
    const auto n = std::count_if(objs.begin(), objs.end(), [&](auto& o) { return d.matches(o); });
    return qa.answer == std::to_string(n) ? "" : "answer should be " + std::to_string(n);
  }
  if (qa.type == "exist") {
    Desc d;
    if (w.size() < 4 || w[0] != "is" || w[1] != "there" || !parse_indefinite(w, i, "object", &d) || i != w.size())
      return "bad form";
    const bool any = std::any_of(objs.begin(), objs.end(), [&](auto& o) { return d.matches(o); });
    return qa.answer == (any ? "yes" : "no") ? "" : "wrong yes/no";
  }
  if (qa.type == "relation") {
    if (w.empty() || w[0] != "is") return "bad form";
    i = 1;
    const int a = parse_definite(w, i, objs, &why);
    if (a < 0) return why;
    const std::string rel = parse_relation(w, i);
    if (rel.empty()) return "no relation";
    const int b = parse_definite(w, i, objs, &why);
    if (b < 0 || i != w.size()) return b < 0 ? why : "trailing words";
    if (a == b) return "an object related to itself";
    const bool yes = holds(rel, objs[a], objs[b], margin);
    // A "no" must be clearly false: the opposite relation holds.
    if (!yes && !holds(opposite(rel), objs[a], objs[b], margin)) return "ambiguous relation";
    return qa.answer == (yes ? "yes" : "no") ? "" : "wrong yes/no";
  }
  return "unknown type " + qa.type;
}

}  // namespace

TEST_CASE("shapes: same seed, same samples in any order and thread count", "[shapes]") {
  ShapesConfig cfg;
  cfg.seed = 7;
  ShapesDataset a(500, "train", cfg), b(500, "train", cfg);
  std::vector<int64_t> order(500);
  for (int64_t i = 0; i < 500; ++i) order[i] = (i * 263) % 500;  // a permutation
  std::map<int64_t, ShapesSample> first;
  for (int64_t i = 0; i < 500; ++i) first[i] = a.sample(i);
  for (int64_t i : order) {
    const ShapesSample s = b.sample(i);
    REQUIRE(same_pixels(s.image, first[i].image));
    REQUIRE(s.captions == first[i].captions);
    REQUIRE(s.questions.size() == first[i].questions.size());
    for (size_t q = 0; q < s.questions.size(); ++q) {
      CHECK(s.questions[q].question == first[i].questions[q].question);
      CHECK(s.questions[q].answer == first[i].questions[q].answer);
    }
  }
  // Batches (on the thread pool, one or two threads) equal the single images.
  const int threads = kernels::cpu::pool_threads();
  for (int t : {1, 2}) {
    kernels::cpu::set_pool_threads(t);
    const Tensor batch = a.images(order);
    for (size_t k = 0; k < order.size(); k += 37) CHECK(same_pixels(batch.select(0, k), first[order[k]].image));
    const auto caps = a.captions(order);
    for (size_t k = 0; k < order.size(); ++k) CHECK(caps[k] == first[order[k]].captions);
  }
  kernels::cpu::set_pool_threads(threads);
  CHECK(same_pixels(a.image(3), first[3].image));
  CHECK(a.captions(3) == first[3].captions);

  // Another seed or split is another dataset.
  cfg.seed = 8;
  ShapesDataset other(500, "train", cfg), test(500, "test", ShapesConfig{});
  int same = 0;
  for (int64_t i = 0; i < 50; ++i) same += same_pixels(other.image(i), first[i].image);
  CHECK(same == 0);
  ShapesDataset train0(50, "train");
  for (int64_t i = 0; i < 50; ++i) same += same_pixels(test.image(i), train0.image(i));
  CHECK(same == 0);
  // The caption stream is separate from the scene's: more captions, same pixels.
  ShapesConfig more = cfg;
  more.min_captions = more.max_captions = 8;
  ShapesDataset c8(10, "train", more);
  for (int64_t i = 0; i < 10; ++i) CHECK(same_pixels(c8.image(i), other.image(i)));
}

TEST_CASE("shapes: images are in range, objects keep apart and have their colour", "[shapes]") {
  ShapesConfig cfg;
  cfg.noise = 0;
  cfg.texture = false;
  const float rgb[][3] = {{0.90f, 0.12f, 0.10f}, {0.15f, 0.75f, 0.20f}, {0.15f, 0.35f, 0.95f}, {0.95f, 0.88f, 0.15f},
                          {0.60f, 0.20f, 0.80f}, {0.15f, 0.85f, 0.90f}, {1.00f, 0.55f, 0.08f}};
  ShapesDataset ds(300, "train", cfg);
  std::map<size_t, int> counts;
  for (int64_t i = 0; i < ds.size(); ++i) {
    const ShapesSample s = ds.sample(i);
    REQUIRE(s.image.sizes() == Shape{3, 64, 64});
    const float* px = s.image.data_ptr<float>();
    CHECK(*std::min_element(px, px + s.image.numel()) >= 0.0f);
    CHECK(*std::max_element(px, px + s.image.numel()) <= 1.0f);
    counts[s.objects.size()]++;
    for (size_t k = 0; k < s.objects.size(); ++k) {
      const ShapeObject& o = s.objects[k];
      CHECK(o.x - o.radius >= 1 - 1e-4);
      CHECK(o.x + o.radius <= 63 + 1e-4);
      for (size_t j = 0; j < k; ++j) {
        const ShapeObject& p = s.objects[j];
        CHECK((std::fabs(o.x - p.x) >= o.radius + p.radius + 2 - 1e-4 ||
               std::fabs(o.y - p.y) >= o.radius + p.radius + 2 - 1e-4));
      }
      const int cx = static_cast<int>(o.x), cy = static_cast<int>(o.y);
      for (int c = 0; c < 3; ++c) CHECK(std::fabs(px[(c * 64 + cy) * 64 + cx] - rgb[o.color][c]) <= 0.045f);
    }
    // Without texture and noise the background is one colour (the corners).
    for (int c = 0; c < 3; ++c) CHECK(px[c * 4096] == px[c * 4096 + 4095]);
  }
  CHECK(counts.size() == 4);  // 1..4 objects all occur
  CHECK(counts.begin()->first == 1);
}

TEST_CASE("shapes: captions and answers are true of the objects", "[shapes]") {
  for (const char* split : {"train", "compositional"}) {
    ShapesDataset ds(2000, split);
    const double margin = 64 / 8.0;
    std::set<std::string> distinct;
    std::map<std::string, int> kinds, types, yes, asked;
    const std::set<std::string> vocab(ShapesDataset::vocabulary().begin(), ShapesDataset::vocabulary().end());
    const auto& answers = ShapesDataset::answer_vocab();
    for (int64_t i = 0; i < ds.size(); ++i) {
      const ShapesSample s = ds.sample(i);
      REQUIRE(s.captions.size() >= 3);
      REQUIRE(s.captions.size() <= 5);
      CHECK(std::set<std::string>(s.captions.begin(), s.captions.end()).size() == s.captions.size());
      for (const std::string& c : s.captions) {
        std::string why;
        const std::string kind = check_caption(c, s.objects, margin, &why);
        if (kind.empty()) FAIL_CHECK("image " << i << ": caption \"" << c << "\" is wrong: " << why);
        kinds[kind]++;
        distinct.insert(c);
        for (const std::string& w : WordTokenizer::split(c)) CHECK(vocab.count(w));
      }
      REQUIRE(s.questions.size() == 4);
      std::set<std::string> qs;
      for (const ShapesQuestion& qa : s.questions) {
        qs.insert(qa.question);
        const std::string why = check_question(qa, s.objects, margin);
        if (!why.empty()) FAIL_CHECK("image " << i << ": \"" << qa.question << "\" -> " << qa.answer << ": " << why);
        CHECK(find(answers, qa.answer) >= 0);
        CHECK(find(ShapesDataset::question_types(), qa.type) >= 0);
        for (const std::string& w : WordTokenizer::split(qa.question + " " + qa.answer)) CHECK(vocab.count(w));
        types[qa.type]++;
        if (qa.answer == "yes" || qa.answer == "no") asked[qa.type]++, yes[qa.type] += qa.answer == "yes";
      }
      CHECK(qs.size() == s.questions.size());
    }
    INFO(split);
    CHECK(distinct.size() >= 1000);
    for (const char* k : {"object", "relation", "pair", "count"}) CHECK(kinds[k] > 200);
    for (const std::string& t : ShapesDataset::question_types()) CHECK(types[t] > 300);
    for (const char* t : {"exist", "relation"}) {
      const double frac = double(yes[t]) / asked[t];
      INFO(t << " yes fraction " << frac);
      CHECK(frac >= 0.3);
      CHECK(frac <= 0.7);
    }
    if (std::string(split) == "train") {
      std::printf(
          "shapes: %zu distinct captions over 2000 train images; kinds: object %d, relation %d, pair %d, "
          "count %d\n",
          distinct.size(), kinds["object"], kinds["relation"], kinds["pair"], kinds["count"]);
      const ShapesSample s = ds.sample(0);
      for (const std::string& c : s.captions) std::printf("  caption: %s\n", c.c_str());
      for (const ShapesQuestion& qa : s.questions)
        std::printf("  %s: %s -> %s\n", qa.type.c_str(), qa.question.c_str(), qa.answer.c_str());
    }
  }
}

TEST_CASE("shapes: the compositional split", "[shapes]") {
  ShapesDataset train(2000, "train"), test(500, "test"), comp(2000, "compositional");
  const std::vector<std::string> held = {"red triangle", "blue circle", "green square"};
  auto held_count = [&](const ShapesDataset& ds, const ShapesSample& s) {
    return std::count_if(s.objects.begin(), s.objects.end(), [&](auto& o) { return ds.held_out(o.color, o.shape); });
  };
  auto names_held = [&](const std::string& text) {
    return std::any_of(held.begin(), held.end(), [&](auto& h) { return text.find(h) != std::string::npos; });
  };
  for (const ShapesDataset* ds : {&train, &test}) {
    for (int64_t i = 0; i < ds->size(); ++i) {
      const ShapesSample s = ds->sample(i);
      REQUIRE(held_count(*ds, s) == 0);
      for (const std::string& c : s.captions) CHECK_FALSE(names_held(c));
      for (const ShapesQuestion& qa : s.questions) CHECK_FALSE(names_held(qa.question));
    }
  }
  int named = 0;
  for (int64_t i = 0; i < comp.size(); ++i) {
    const ShapesSample s = comp.sample(i);
    REQUIRE(held_count(comp, s) == 1);
    for (const std::string& c : s.captions) named += names_held(c);
  }
  CHECK(named > 500);  // the captions do talk about the new combinations

  // A custom holdout, and none at all.
  ShapesConfig cfg;
  cfg.holdout = {{"yellow", "star"}};
  ShapesDataset ys(300, "compositional", cfg);
  for (int64_t i = 0; i < ys.size(); ++i) {
    const auto objs = ys.objects(i);
    CHECK(std::count_if(objs.begin(), objs.end(), [](auto& o) { return o.color == 3 && o.shape == 5; }) == 1);
  }
  cfg.holdout.clear();
  ShapesDataset all(300, "train", cfg);
  std::set<std::pair<int, int>> pairs;
  for (int64_t i = 0; i < all.size(); ++i)
    for (const ShapeObject& o : all.objects(i)) pairs.insert({o.color, o.shape});
  CHECK(pairs.size() == 42);
}

TEST_CASE("shapes: a Dataset for the DataLoader", "[shapes]") {
  auto probe = std::make_shared<ShapesDataset>(64, "train");
  std::vector<std::string> corpus;
  for (int64_t i = 0; i < 64; ++i)
    for (const std::string& c : probe->captions(i)) corpus.push_back(c);
  auto tok = std::make_shared<WordTokenizer>();
  tok->build(corpus);
  auto ds = std::make_shared<ShapesDataset>(64, "train", ShapesConfig{}, tok, 16);
  DataLoader loader(ds, 16, /*shuffle=*/true, /*seed=*/3);
  int batches = 0;
  for (const Batch& b : loader) {
    ++batches;
    REQUIRE(b.images.sizes() == Shape{16, 3, 64, 64});
    REQUIRE(b.tokens.sizes() == Shape{16, 16});
    CHECK(same_pixels(b.images, ds->images(b.indices)));
    for (size_t k = 0; k < b.indices.size(); ++k) {
      CHECK(b.captions[k] == ds->captions(b.indices[k]).front());
      CHECK(b.labels.to_vector()[k] == static_cast<double>(b.indices[k]));
      CHECK(tok->decode(b.tokens.select(0, k)) == b.captions[k]);
    }
  }
  CHECK(batches == 4);
}

TEST_CASE("shapes: other sizes and settings", "[shapes]") {
  ShapesConfig cfg;
  cfg.image_size = 24;
  cfg.min_objects = cfg.max_objects = ShapesDataset::kMaxObjects;
  cfg.min_captions = 1;
  cfg.max_captions = 8;
  cfg.questions = 8;
  ShapesDataset small(200, "train", cfg);
  for (int64_t i = 0; i < small.size(); ++i) {
    const ShapesSample s = small.sample(i);
    CHECK(s.image.sizes() == Shape{3, 24, 24});
    CHECK(s.objects.size() == 6);
    CHECK(s.questions.size() == 8);
    for (const std::string& c : s.captions) {
      std::string why;
      if (check_caption(c, s.objects, 24 / 8.0, &why).empty()) FAIL_CHECK("\"" << c << "\": " << why);
    }
    for (const ShapesQuestion& qa : s.questions) {
      const std::string why = check_question(qa, s.objects, 24 / 8.0);
      if (!why.empty()) FAIL_CHECK("\"" << qa.question << "\" -> " << qa.answer << ": " << why);
    }
  }
  cfg = ShapesConfig{};
  cfg.image_size = 128;
  cfg.min_objects = cfg.max_objects = 1;
  cfg.min_captions = cfg.max_captions = 8;  // a single object has nine captions
  ShapesDataset big(50, "test", cfg);
  for (int64_t i = 0; i < big.size(); ++i) {
    CHECK(big.captions(i).size() == 8);
    CHECK(big.image(i).sizes() == Shape{3, 128, 128});
  }
  CHECK(ShapesDataset(0, "train").images({}).sizes() == Shape{0, 3, 64, 64});
}

TEST_CASE("shapes: bad input", "[shapes]") {
  auto value_error = [](auto make, const std::string& text) {
    try {
      make();
      FAIL("no error for " << text);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::Value);
      CHECK_THAT(e.what(), ContainsSubstring("ShapesDataset") && ContainsSubstring(text));
    }
  };
  ShapesConfig cfg;
  value_error([] { ShapesDataset(-1, "train"); }, "-1");
  value_error([] { ShapesDataset(10, "validation"); }, "\"validation\"");
  cfg.min_objects = 3;
  cfg.max_objects = 2;
  value_error([&] { ShapesDataset(10, "train", cfg); }, "min_objects (3)");
  cfg = ShapesConfig{};
  cfg.max_objects = 7;
  value_error([&] { ShapesDataset(10, "train", cfg); }, "7");
  cfg = ShapesConfig{};
  cfg.image_size = 8;
  value_error([&] { ShapesDataset(10, "train", cfg); }, "image_size must be in [24, 4096], got 8");
  cfg = ShapesConfig{};
  cfg.noise = -0.5;
  value_error([&] { ShapesDataset(10, "train", cfg); }, "-0.5");
  cfg = ShapesConfig{};
  cfg.min_captions = 0;
  value_error([&] { ShapesDataset(10, "train", cfg); }, "captions");
  cfg = ShapesConfig{};
  cfg.questions = 9;
  value_error([&] { ShapesDataset(10, "train", cfg); }, "9");
  cfg = ShapesConfig{};
  cfg.holdout = {{"pink", "circle"}};
  value_error([&] { ShapesDataset(10, "train", cfg); }, "\"pink\"");
  cfg = ShapesConfig{};
  cfg.holdout = {{"red", "hexagon"}};
  value_error([&] { ShapesDataset(10, "train", cfg); }, "\"hexagon\"");
  cfg = ShapesConfig{};
  cfg.holdout.clear();
  value_error([&] { ShapesDataset(10, "compositional", cfg); }, "holdout is empty");

  ShapesDataset ds(10, "train");
  for (int64_t i : {int64_t{-1}, int64_t{10}}) {
    try {
      ds.sample(i);
      FAIL("no error for index " << i);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::Index);
      CHECK_THAT(e.what(), ContainsSubstring("index " + std::to_string(i)));
    }
  }
  CHECK_THROWS_AS(ds.images({0, 10}), Error);
  CHECK_THROWS_AS(ds.held_out(7, 0), Error);
  CHECK_THROWS_AS(ds.held_out(0, -1), Error);
  CHECK_THROWS_AS(ds.get(10), Error);
}

TEST_CASE("shapes: generation speed", "[shapes]") {
  ShapesDataset ds(100000, "train");
  std::vector<int64_t> idx(2000);
  for (int64_t i = 0; i < 2000; ++i) idx[i] = i;
  ds.images(idx);  // warm up the pool
  const int threads = kernels::cpu::pool_threads();
  double multi = 0;
  for (int t : {1, threads}) {
    kernels::cpu::set_pool_threads(t);
    const auto t0 = std::chrono::steady_clock::now();
    const Tensor batch = ds.images(idx);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("shapes: 2000 images 64x64 in %.3f s on %d thread(s): %.0f images/s\n", s, t, 2000 / s);
    multi = s;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto samples = ds.samples(idx);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("shapes: 2000 full samples (image, captions, questions) in %.3f s on %d thread(s): %.0f samples/s\n", s,
              threads, 2000 / s);
  kernels::cpu::set_pool_threads(threads);
#ifdef NDEBUG
  CHECK(multi < 1.0);
#endif
}

// Shapes: an embedded procedural image-caption-question dataset. Each image
// (RGB, 64x64 by default) holds 1..4 objects (up to 6), each a shape
// (circle, square, triangle, diamond, cross, star) in one of seven colours
// and two sizes, on a plain or lightly textured grey background with optional
// pixel noise. Every
// image comes with 3..5 distinct captions that are true of it (single
// objects, spatial relations between two objects, pairs, counts) and with
// question-answer pairs (color, shape, count, exist, relation) whose answers
// come from a fixed vocabulary.
//
// Nothing is stored: sample i is a pure function of (seed, split, i), drawn
// from a counter-based generator keyed by those three values, so any index is
// generated directly, in any order, on any thread, with the same result. The
// scene, the pixels, the captions and the questions use separate streams of
// that key, so changing e.g. the number of captions leaves the images as
// they are.
//
// Splits, for measuring compositional generalisation:
//   "train"          objects never have a held-out (colour, shape) pair, and
//                    no caption or question names one;
//   "test"           drawn exactly as "train" (i.i.d.) from another stream:
//                    unseen images of the same distribution;
//   "compositional"  every image has exactly one object with a held-out
//                    pair (the others as in "train"): known attributes in
//                    combinations never seen in training.
//
// Spatial relations compare object centres, x to the right and y down: A is
// "to the left of" B when B.x - A.x >= image_size / 8, "above" B when
// B.y - A.y >= image_size / 8 (right of and below mirror them). Objects never
// overlap (their bounding squares are at least 2 pixels apart), so every pair
// is related along at least one axis; a question is only asked along an
// axis where the pair is clearly apart, so its "no" is clearly false.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "multimodal/data.h"
#include "multimodal/tokenizer.h"

namespace loom::multimodal {

struct ShapesConfig {
  int64_t image_size = 64;  // H = W, in [24, 4096]
  int64_t min_objects = 1;  // 1 <= min_objects <= max_objects <= ShapesDataset::kMaxObjects
  int64_t max_objects = 4;
  double noise = 0.03;       // std of the per-pixel noise (>= 0; 0: none)
  bool texture = true;       // backgrounds: plain, gradient, stripes or checks (false: plain only)
  int64_t min_captions = 3;  // captions per image, drawn in [min_captions, max_captions], 1..8
  int64_t max_captions = 5;
  int64_t questions = 4;  // question-answer pairs per image, 0..8
  uint64_t seed = 0;
  // (colour, shape) pairs kept out of "train" and "test", in every image of
  // "compositional".
  std::vector<std::pair<std::string, std::string>> holdout = {
      {"red", "triangle"}, {"blue", "circle"}, {"green", "square"}};
};

// One object: indices into ShapesDataset::shape_names(), color_names() and
// size_names(); the centre in pixels (x right, y down, pixel (r, c) covers
// [c, c + 1) x [r, r + 1)); radius is half the side of its bounding square.
struct ShapeObject {
  int shape = 0;
  int color = 0;
  int size = 0;  // 0 small, 1 large
  float x = 0, y = 0;
  float radius = 0;
};

struct ShapesQuestion {
  std::string question;  // distinct within an image
  std::string answer;    // in ShapesDataset::answer_vocab()
  std::string type;      // in ShapesDataset::question_types()
};

struct ShapesSample {
  int64_t index = 0;
  Tensor image;  // float32 [3, S, S] in [0, 1]
  std::vector<ShapeObject> objects;
  std::vector<std::string> captions;  // distinct, each true of the image
  std::vector<ShapesQuestion> questions;
};

// Also a Dataset of (image, caption) examples: get(i) is image i with its
// first caption (tokens when a tokenizer is given) and label i, the image id,
// so the DataLoader batches it and retrieval metrics with labels match every
// caption to its image.
class ShapesDataset : public Dataset {
 public:
  static constexpr int64_t kMaxObjects = 6;
  static constexpr int64_t kMinImageSize = 24;

  // size >= 0; split "train", "test" or "compositional". ValueError names the
  // bad value (an unknown split, colour or shape, min_objects > max_objects,
  // a too small image, every pair held out, ...).
  ShapesDataset(int64_t size, const std::string& split = "train", ShapesConfig config = {},
                std::shared_ptr<const WordTokenizer> tokenizer = nullptr, int64_t max_len = 32);

  int64_t size() const override { return size_; }
  Example get(int64_t index) const override;

  // Everything about image index (IndexError outside [0, size())).
  ShapesSample sample(int64_t index) const;
  std::vector<ShapeObject> objects(int64_t index) const;
  Tensor image(int64_t index) const;  // [3, S, S]
  std::vector<std::string> captions(int64_t index) const;
  std::vector<ShapesQuestion> questions(int64_t index) const;

  // Batches, generated on loom's CPU thread pool: images [n, 3, S, S].
  Tensor images(const std::vector<int64_t>& indices) const;
  std::vector<std::vector<std::string>> captions(const std::vector<int64_t>& indices) const;
  std::vector<ShapesSample> samples(const std::vector<int64_t>& indices) const;

  const std::string& split() const { return split_; }
  const ShapesConfig& config() const { return config_; }
  // Whether (color_names()[color], shape_names()[shape]) is held out.
  bool held_out(int color, int shape) const;

  static const std::vector<std::string>& shape_names();  // circle square triangle diamond cross star
  static const std::vector<std::string>& color_names();  // red green blue yellow purple cyan orange
  static const std::vector<std::string>& size_names();   // small large
  // The fixed answers: yes, no, "0".."6", the colours, the shapes.
  static const std::vector<std::string>& answer_vocab();
  static const std::vector<std::string>& question_types();  // color shape count exist relation
  // Every token (WordTokenizer::split) that a caption, question or answer can
  // contain, sorted.
  static const std::vector<std::string>& vocabulary();

 private:
  static constexpr int kShapes = 6;
  static constexpr int kColors = 7;

  uint64_t key(int64_t index, uint64_t stream) const;
  void check_index(int64_t index, const char* op) const;
  void render(int64_t index, const std::vector<ShapeObject>& objects, float* out) const;
  std::vector<std::string> make_captions(int64_t index, const std::vector<ShapeObject>& objects) const;
  std::vector<ShapesQuestion> make_questions(int64_t index, const std::vector<ShapeObject>& objects) const;

  int64_t size_;
  std::string split_;
  ShapesConfig config_;
  bool compositional_;
  uint64_t split_key_;
  std::vector<bool> held_out_;                // [color * kShapes + shape]
  std::vector<std::pair<int, int>> allowed_;  // (color, shape) pairs "train" draws from
  std::vector<std::pair<int, int>> holdout_;  // deduplicated, in config order
  std::shared_ptr<const WordTokenizer> tokenizer_;
  int64_t max_len_;
};

}  // namespace loom::multimodal

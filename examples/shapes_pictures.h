// The pictures of the C++ Shapes demo (examples/shapes_demo.cpp), drawn with loom's canvas (multimodal/canvas.h)
// and written as PNG: training curves, a retrieval sheet, cross-attention and Grad-CAM maps over the image for a
// question, the VQA confusion matrix; and the run's summary as nested JSON.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "multimodal/models.h"
#include "multimodal/shapes.h"
#include "multimodal/shapes_eval.h"

namespace pictures {

struct EpochPoint {
  double step, val_vqa_acc, val_scene_r1, val_scene_r10;
};

struct QuestionExample {
  int64_t image;  // index into the dataset
  std::string question;
  int64_t answer;  // id in ShapesDataset::answer_vocab()
};

// steps: (contrastive loss, VQA loss, VQA accuracy) per training step; epochs: the validation points.
void curves(const std::string& path, const std::vector<std::array<double, 3>>& steps,
            const std::vector<EpochPoint>& epochs, double oracle_r1, int64_t val_images);

// Rows of scene queries (an image's captions) with their top-5 images (green frame: the query's image; orange:
// another image every caption fits), then image queries with their top-5 distinct captions (green: true of the
// image, red: false; '*': one of its own). scene [N, N] and caption_logits [T, N] from ShapesRetrieval::score.
void retrieval_sheet(const std::string& path, const loom::Tensor& images, const loom::multimodal::ShapesRetrieval& ret,
                     const loom::Tensor& scene, const loom::Tensor& caption_logits, const std::vector<int64_t>& queries,
                     const std::vector<int64_t>& image_queries);

// For each example: the image, the cross-attention of the question's tokens over the feature-map cells (mean over
// heads and tokens) and the Grad-CAM of the predicted answer (ReLU(sum_c mean_hw(d score / d map_c) map_c)).
void attention(const std::string& path, loom::multimodal::VQAModel& vqa, const loom::multimodal::ShapesDataset& data,
               const std::function<loom::Tensor(const std::string&)>& encode,
               const std::vector<QuestionExample>& examples, loom::Device device);

// Row-normalised confusion of the predicted answer ids (int64 [Q]) against the true ones, over the answers that
// occur.
void confusion(const std::string& path, const loom::Tensor& predicted, const std::vector<int64_t>& answers);

// {"a.b": 1, "a.c": 2} -> {"a": {"b": 1, "c": 2}}, written to path (NaN as null).
void write_nested_json(const std::string& path, const std::map<std::string, double>& flat);

}  // namespace pictures

// The evaluation protocol of the Shapes dataset (shapes.h): what a caption
// means, which images it is true of, and retrieval scored against that truth.
//
// A caption of the Shapes grammar is one noun phrase ("a small red circle",
// "a red shape"), two joined by "and" (two distinct objects) or by a relation
// ("a star above a blue square": centres at least image_size / 8 apart along
// that axis, as the generator draws them), or an exact count ("two
// triangles", "one red shape", "three shapes"). parse_shapes_caption reads one
// back and shapes_caption_truth evaluates any caption on any scene, which
// gives an oracle: the images each query is true of. Several images often fit
// a caption ("a circle"), so retrieval is scored together with the oracle's
// expected score (its ceiling).
//
// ShapesRetrieval holds the protocol of the main demo (examples/shapes_demo.py
// and examples/shapes_demo.cpp; docs/multimodal.md, "The main job: Shapes"):
//   scene queries   an image's whole set of captions is one query; the score
//                   of image n for it is the mean over its captions c of
//                   log p(n | c), the softmax of the caption's logits over the
//                   images (text->image ranks by the product of the captions'
//                   likelihoods); image->text ranks the N caption sets for an
//                   image by the same score;
//   caption queries each caption alone, its match its own image;
//   word-order probes  a two-object caption against the same words
//                   reordered so that the rewording is false of the image
//                   ("binding" swaps the size and colour words between the
//                   noun phrases, "relation" swaps the phrases around the
//                   relation): a bag of words cannot tell the two apart.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "multimodal/shapes.h"

namespace loom::multimodal {

// (size, colour, shape) as indices into ShapesDataset's name lists; -1: the
// phrase does not name it ("a red shape": size -1, shape -1).
struct ShapesPhrase {
  int size = -1, color = -1, shape = -1;
  bool fits(const ShapeObject& o) const {
    return (size < 0 || o.size == size) && (color < 0 || o.color == color) && (shape < 0 || o.shape == shape);
  }
  bool operator==(const ShapesPhrase& o) const { return size == o.size && color == o.color && shape == o.shape; }
};

struct ShapesCaptionMeaning {
  enum Kind { kOne, kAnd, kRelation, kCount };
  Kind kind = kOne;
  int count = 0;   // kCount: how many objects fit phrase a
  ShapesPhrase a;  // every kind
  ShapesPhrase b;  // kAnd, kRelation
  int axis = 0;    // kRelation: 0 horizontal, 1 vertical
  int sign = 1;    // kRelation: +1 "to the left of" / "above", -1 "to the right of" / "below"
};

// ValueError naming the caption when it is not of the grammar.
ShapesCaptionMeaning parse_shapes_caption(const std::string& caption);
// "a purple triangle", "an orange shape", "a small star".
std::string shapes_noun_phrase(const ShapesPhrase& phrase);
// The caption of a meaning (the inverse of parse_shapes_caption).
std::string shapes_caption_text(const ShapesCaptionMeaning& meaning);
// Whether the caption is true of a scene of that image size.
bool shapes_caption_true(const ShapesCaptionMeaning& meaning, const std::vector<ShapeObject>& objects,
                         int64_t image_size);
// bool [T, N] on the CPU: caption t is true of scene n.
Tensor shapes_caption_truth(const std::vector<std::string>& captions,
                            const std::vector<std::vector<ShapeObject>>& scenes, int64_t image_size);

// Retrieval over the first n images of a Shapes dataset and all their
// captions (texts(), in image order; owner()[t] is caption t's image).
class ShapesRetrieval {
 public:
  ShapesRetrieval(const ShapesDataset& data, int64_t n);

  int64_t size() const { return n_; }
  int64_t image_size() const { return image_size_; }
  const std::vector<std::string>& texts() const { return texts_; }
  const std::vector<int64_t>& owner() const { return owner_; }
  const std::vector<std::vector<ShapeObject>>& scenes() const { return scenes_; }
  Tensor truth() const { return truth_; }              // bool [T, N]: caption t is true of image n
  Tensor scene_truth() const { return scene_truth_; }  // bool [N, N]: every caption of image i is true of j

  // The oracle's expected scores when it ranks the documents a query fits
  // first, in random order (image->text scene queries: the caption sets
  // that fit the image, those fitting fewer images first). Keys:
  // "scene.text_to_image.R@k", "scene.image_to_text.R@k",
  // "scene.images_per_query", "caption.text_to_image.R@k",
  // "caption.images_per_query".
  std::map<std::string, double> ceilings(const std::vector<int64_t>& ks = {1, 5, 10}) const;

  struct Scores {
    // "scene.text_to_image.R@k", ".median_rank", ".top1_fits" (the top
    // document fits the query, whichever it is), the same for
    // "scene.image_to_text", and "caption.text_to_image.R@k", ".top1_fits".
    std::map<std::string, double> metrics;
    Tensor scene;           // [N sets, N images] float32, CPU: the scene scores
    Tensor caption_logits;  // [T, N] float32, CPU: scale * text . image
  };
  // image_emb [N, E] and text_emb [T, E] (L2-normalised rows, any device),
  // scale the logit scale (exp of DualEncoder::logit_scale()).
  Scores score(const Tensor& image_emb, const Tensor& text_emb, double scale,
               const std::vector<int64_t>& ks = {1, 5, 10}) const;

  struct Probe {
    int64_t caption;        // index into texts()
    std::string rewording;  // the same words, false of the caption's image
  };
  // "binding" and "relation" probes (see the top of this file).
  std::map<std::string, std::vector<Probe>> order_probes() const;
  // The fraction of probes whose image is closer to its caption than to the
  // rewording (ties count 1/2). rewording_emb [P, E]: the probes' rewordings
  // embedded, in order.
  double probe_accuracy(const std::vector<Probe>& probes, const Tensor& image_emb, const Tensor& text_emb,
                        const Tensor& rewording_emb) const;

 private:
  int64_t n_, image_size_;
  std::vector<std::string> texts_;
  std::vector<int64_t> owner_;
  std::vector<std::vector<ShapeObject>> scenes_;
  Tensor truth_, scene_truth_;
  std::vector<int64_t> first_caption_;  // [n + 1]: image i's captions are [first_caption_[i], first_caption_[i + 1])
};

}  // namespace loom::multimodal

// ImageCaptionFolder: a Dataset over the user's own images (PNG or JPEG files,
// image_io.h) and a captions file naming them; transforms::resize_bilinear
// (transforms.h) brings every image to a common size.
//
// The captions file is CSV or JSONL, told by its extension (.csv; .jsonl,
// .ndjson or .json) or else by its first character ('{' means JSONL):
//
//   CSV    a header row naming the columns image, caption and optionally
//          label (any order, any case; other columns are ignored), then one
//          example per row. Fields follow RFC 4180: a field in double quotes
//          may hold commas, line breaks and doubled quotes (""). An empty
//          label is no label.
//   JSONL  one JSON object per line: {"image": "a.png", "caption": "a dog",
//          "label": 3}. "caption" may be a list of strings: one example per
//          caption, all sharing the image. "label" (an integer or null) is
//          optional; other keys are ignored. Blank lines are skipped.
//
// Relative image paths resolve against root, by default the folder that
// holds the captions file. Every row naming the same file (after resolving)
// shares one image id, so image_id() gives the ground truth of image-text
// retrieval (retrieval.h: the ids as labels). The constructor parses the
// captions file and checks that every image file exists; pixels are read on
// get(), so a folder larger than memory works, and kept when cache is set.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "multimodal/data.h"
#include "multimodal/image_io.h"

namespace loom::multimodal {

struct ImageCaptionFolderOptions {
  std::string root;                                // empty: the captions file's folder
  Shape size;                                      // {} keeps each image's size; {h, w} or {s} (s x s)
  ImageReadMode mode = ImageReadMode::RGB;         // the channels of Example.image
  std::shared_ptr<const WordTokenizer> tokenizer;  // set: Example.tokens, [max_len] int64
  int64_t max_len = 32;
  bool cache = false;  // keep each image once decoded (and resized)
};

class ImageCaptionFolder : public Dataset {
 public:
  explicit ImageCaptionFolder(const std::string& captions_file, ImageCaptionFolderOptions options = {});

  // The number of captions (examples).
  int64_t size() const override { return static_cast<int64_t>(entries_.size()); }
  // image: float [C, H, W] in [0, 1]. A missing or corrupt image raises,
  // naming the example, its line in the captions file and the image path.
  Example get(int64_t index) const override;

  // The image of example index, 0 .. num_images() - 1 in order of first use.
  int64_t image_id(int64_t index) const;
  int64_t num_images() const { return static_cast<int64_t>(images_.size()); }
  // The resolved file path of an image id.
  const std::string& image_path(int64_t image_id) const;
  const std::string& caption(int64_t index) const;
  int64_t label(int64_t index) const;
  // The image ids of all examples, in order (the labels for retrieval_metrics).
  Tensor image_ids() const;

 private:
  struct Entry {
    int64_t image;
    std::string caption;
    int64_t label;
    int64_t line;  // in the captions file, 1-based
  };
  void add(const std::string& image, std::string caption, int64_t label, int64_t line);
  Tensor load(int64_t image_id) const;

  std::string captions_file_, root_;
  ImageCaptionFolderOptions options_;
  std::vector<std::string> images_;
  std::vector<Entry> entries_;
  Tensor tokens_;  // [N, max_len] int64 when there is a tokenizer
  mutable std::mutex cache_mutex_;
  mutable std::vector<Tensor> cache_;
};

}  // namespace loom::multimodal

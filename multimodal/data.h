// Datasets of (image, caption, label) examples and a DataLoader that batches
// them, shuffled reproducibly per epoch, plus the Fashion-MNIST loader (the
// IDX files of Debian's dataset-fashion-mnist) and captions made up from its
// class names. Everything here runs on the host; batches live where the
// dataset's tensors do (the CPU for load_fashion_mnist), and the training loop
// moves them to the device.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "multimodal/tokenizer.h"
#include "multimodal/transforms.h"

namespace loom::multimodal {

// One example. tokens is undefined when the dataset has no tokenizer; label is
// -1 when it has no labels.
struct Example {
  Tensor image;   // float [C, H, W]
  Tensor tokens;  // int64 [L]
  int64_t label = -1;
  std::string caption;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // IndexError outside [0, size()).
  virtual Example get(int64_t index) const = 0;
};

// Examples backed by whole tensors: images [N, C, H, W] (float), N captions,
// optional labels [N] (integer). With a tokenizer every caption is encoded
// once, here, into tokens [N, max_len].
class TensorPairDataset : public Dataset {
 public:
  TensorPairDataset(Tensor images, std::vector<std::string> captions, Tensor labels = {},
                    std::shared_ptr<const WordTokenizer> tokenizer = nullptr, int64_t max_len = 32);
  int64_t size() const override { return images_.size(0); }
  Example get(int64_t index) const override;

 private:
  Tensor images_, tokens_;
  std::vector<std::string> captions_;
  std::vector<int64_t> labels_;
};

// A stacked batch: images [B, C, H, W], tokens [B, L] int64 (undefined when
// the examples have none), labels [B] int64 (-1 where unlabelled), the
// captions, and the dataset indices the batch was drawn from.
struct Batch {
  Tensor images;
  Tensor tokens;
  Tensor labels;
  std::vector<std::string> captions;
  std::vector<int64_t> indices;
};

// Iterates a dataset in batches. The order of epoch e is a permutation drawn
// from a Generator seeded by (seed, e) (identity when !shuffle), so every
// index appears exactly once per epoch, the order changes between epochs, and
// a run is reproducible; set_epoch(e) selects the epoch as in PyTorch's
// DistributedSampler. drop_last drops a final batch shorter than batch_size.
//
// A transform, when set, is applied to each sample's image before the batch
// is stacked (so it may bring images of different sizes to one), with a
// generator seeded by (seed, epoch, dataset index): a sample's augmentation
// depends neither on the batch it falls in nor on the order batches are made.
//
// With num_workers > 0, iterating starts that many threads that make the
// batches ahead of the loop, at most 2 * num_workers beyond the one being
// read, and hand them over in order: the batches are the same as without
// workers. The dataset's get() and the transform are then called from
// several threads at once (the datasets and transforms of loom allow that).
// An exception from either, with or without workers, reaches the loop as a
// loom::Error of the same kind, "DataLoader: sample <index> (batch <b>)
// failed: <message>". The threads stop (finishing the batch in hand) when the
// iterator is destroyed, a loop that breaks early included, or when the
// loader is; an iterator that outlives its loader then raises. An iteration
// keeps the epoch, order and transform it started with.
class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> dataset, int64_t batch_size, bool shuffle = false, uint64_t seed = 0,
             bool drop_last = false, int64_t num_workers = 0);

  void set_epoch(int64_t epoch);
  int64_t epoch() const { return epoch_; }
  void set_transform(transforms::Transform transform) { transform_ = std::move(transform); }
  void set_num_workers(int64_t num_workers);
  int64_t num_workers() const { return num_workers_; }
  // Batches per epoch.
  int64_t size() const;
  // IndexError outside [0, size()). Made on the calling thread.
  Batch batch(int64_t b) const;
  // The dataset indices of the current epoch, in visiting order.
  const std::vector<int64_t>& order() const { return *order_; }

  class Prefetcher;  // the worker threads of one iteration (data.cpp)

  class Iterator {
   public:
    Iterator(const DataLoader* loader, int64_t b, std::shared_ptr<Prefetcher> prefetch = nullptr)
        : loader_(loader), b_(b), prefetch_(std::move(prefetch)) {}
    Batch operator*() const;
    Iterator& operator++() {
      ++b_;
      return *this;
    }
    bool operator!=(const Iterator& o) const { return b_ != o.b_; }

   private:
    const DataLoader* loader_;
    int64_t b_;
    std::shared_ptr<Prefetcher> prefetch_;
  };
  // Starts the workers when num_workers > 0.
  Iterator begin() const;
  Iterator end() const { return Iterator(this, size()); }

 private:
  // What a batch is made from: a snapshot, so an iteration's workers never
  // read the loader itself.
  struct Plan {
    std::shared_ptr<const Dataset> dataset;
    std::shared_ptr<const std::vector<int64_t>> order;
    int64_t batch_size;
    uint64_t seed;
    int64_t epoch;
    transforms::Transform transform;
  };
  static Batch make_batch(const Plan& plan, int64_t b);

  // The iterations with workers still running; destroying the loader stops
  // them. A copy of a loader starts with none.
  class Iterations {
   public:
    Iterations() = default;
    Iterations(const Iterations&) {}
    Iterations& operator=(const Iterations&) { return *this; }
    ~Iterations();
    void add(const std::shared_ptr<Prefetcher>& p) const;

   private:
    mutable std::mutex mu_;
    mutable std::vector<std::weak_ptr<Prefetcher>> live_;
  };

  Plan plan() const;

  std::shared_ptr<const Dataset> dataset_;
  int64_t batch_size_;
  bool shuffle_;
  uint64_t seed_;
  bool drop_last_;
  int64_t num_workers_ = 0;
  int64_t epoch_ = 0;
  std::shared_ptr<const std::vector<int64_t>> order_;
  transforms::Transform transform_;
  Iterations iterations_;
};

constexpr const char* kFashionMnistRoot = "/usr/share/datasets/fashion-mnist";

struct LabelledImages {
  Tensor images;  // float32 [N, 1, H, W] in [0, 1]
  Tensor labels;  // int64 [N]
};

// split: "train" (60,000 images) or "test" (10,000). Reads
// {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz from root (or the files
// without .gz where those exist). Raises when a file is missing, truncated,
// corrupt (gzip CRC) or not the IDX layout expected.
LabelledImages load_fashion_mnist(const std::string& split, const std::string& root = kFashionMnistRoot);

// The ten class names, index = label ("T-shirt/top", ..., "Ankle boot").
const std::vector<std::string>& fashion_mnist_classes();

// One short English caption per label ("a photo of a sneaker", "a
// black-and-white picture of a pullover", ...), the template drawn per image
// from a Generator seeded by seed. labels: 1-D integer, values in 0..9.
std::vector<std::string> fashion_mnist_captions(const Tensor& labels, uint64_t seed = 0);

}  // namespace loom::multimodal

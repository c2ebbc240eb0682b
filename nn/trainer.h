// Trainer: Keras-style fit / evaluate / predict for any model, loss and
// optimizer, with callbacks (early stopping, checkpoint-best, a JSONL metrics
// log, LR schedulers), gradient clipping, a progress bar and the device chosen
// once ("auto": CUDA when available). Python's loom.training is the same
// design; this is its C++ form.
//
//   nn::Trainer trainer(model, optimizer);                  // cross-entropy on images -> labels
//   trainer.add_metric("accuracy");
//   nn::History h = trainer.fit(train_loader, 10, val_loader,
//                               {std::make_shared<nn::EarlyStopping>("val_loss", 3),
//                                std::make_shared<nn::ModelCheckpoint>("best.safetensors"),
//                                std::make_shared<nn::JSONLLogger>("metrics.jsonl")});
//   nn::Logs test = trainer.evaluate(test_loader);        // {"accuracy": ..., "loss": ...}
//   Tensor out = trainer.predict(test_loader);            // the outputs, concatenated
//
// Batches are multimodal::Batch, the batch type of loom's DataLoader; that
// loader lives a layer up, so this is the one nn header that includes a
// multimodal one (the library is built as one unit, so nothing else changes).
// A step is forward(model, batch) -> (output, target), then loss(output,
// target); the default forward feeds batch.images to an nn::Sequential and
// takes batch.labels as the target, images_to_labels<M>() does the same for
// any module type M with `Tensor forward(const Tensor&)`, and anything else
// (two inputs, a model that returns its own loss) is a lambda.
//
// Loss and metrics are averaged over samples (each batch weighted by its
// size). Their running sums stay on the device as float64 tensors: nothing
// synchronizes with the device during an epoch except the progress bar's
// redraws (at most one per TrainerOptions::refresh_seconds, on a terminal),
// and the epoch's values are read once at its end.
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "multimodal/data.h"
#include "nn/containers.h"
#include "nn/module.h"
#include "nn/optim/lr_scheduler.h"
#include "nn/optim/optimizer.h"

namespace loom::nn {

class Trainer;

// An epoch's values by name: "loss", the metrics, "val_" + each of those,
// "lr" (the first group's learning rate during the epoch) and "time" (its
// seconds, validation included).
using Logs = std::map<std::string, double>;

using ForwardFn = std::function<std::pair<Tensor, Tensor>(Module& model, const multimodal::Batch& batch)>;
using LossFn = std::function<Tensor(const Tensor& output, const Tensor& target)>;

// Top-1 accuracy of class scores [N, C] (or [N] / [N, 1] binary logits,
// positive meaning class 1) against integer labels [N], as a 0-d float tensor
// on output's device.
Tensor accuracy(const Tensor& output, const Tensor& target);

// A metric: the mean of some score over a batch. It may return a Tensor (one
// element, any device: it stays there, no synchronization) or a double
// (convenient, but computing a double reads the device every batch).
class Metric {
 public:
  Metric() = default;
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Metric>>,
            typename R = std::invoke_result_t<F&, const Tensor&, const Tensor&>>
  Metric(F f) {  // NOLINT(google-explicit-constructor): a lambda is a Metric
    if constexpr (std::is_convertible_v<R, Tensor>) {
      fn_ = std::move(f);
    } else {
      static_assert(std::is_convertible_v<R, double>, "a metric returns a Tensor or a double");
      fn_ = [f = std::move(f)](const Tensor& out, const Tensor& target) {
        return scalar_tensor(static_cast<double>(f(out, target)), TensorOptions(DType::Float64));
      };
    }
  }
  Tensor operator()(const Tensor& output, const Tensor& target) const { return fn_(output, target); }
  explicit operator bool() const { return static_cast<bool>(fn_); }

 private:
  std::function<Tensor(const Tensor&, const Tensor&)> fn_;
};

// The forward for a model of type M with `Tensor forward(const Tensor&)`:
// batch.images -> output, batch.labels is the target.
template <typename M>
ForwardFn images_to_labels() {
  return [](Module& model, const multimodal::Batch& batch) {
    auto* typed = dynamic_cast<M*>(&model);
    LOOM_CHECK_TYPE(typed != nullptr, "Trainer: images_to_labels was given a model of type ", model.type_name(),
                    ", which is not the type it was built for");
    return std::make_pair(Tensor(typed->forward(batch.images)), batch.labels);
  };
}

struct TrainerOptions {
  std::string device = "auto";              // "auto" (CUDA when available), "cpu", "cuda", "cuda:N"
  double grad_clip_norm = 0;                // > 0: clip the gradients' joint 2-norm to it before each step
  int verbose = 1;                          // 0: silent; 1: a progress bar on a terminal, a line per epoch
                                            // elsewhere; 2: a line per epoch
  std::ostream* progress_stream = nullptr;  // nullptr: std::cout
  int tty = -1;                             // -1: a terminal when the stream is std::cout and stdout is a
                                            // terminal; 0 / 1: say so
  double refresh_seconds = 0.1;             // the least time between two redraws of the bar (each one reads
                                            // the running sums from the device)
};

// What fit() returns: values["loss"][e] is epoch e's loss, and so on for every
// key of the epochs' Logs.
struct History {
  std::vector<int64_t> epochs;  // 0-based, in the order they ran
  std::map<std::string, std::vector<double>> values;

  void add(int64_t epoch, const Logs& logs);
  bool contains(const std::string& key) const { return values.count(key) > 0; }
  // Raises naming the keys there are.
  const std::vector<double>& operator[](const std::string& key) const;
  size_t size() const { return epochs.size(); }
};

// Hooks that fit() calls. epoch and batch are 0-based. Set
// trainer.stop_training to end fit() after the current epoch.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(Trainer& trainer) {}
  virtual void on_epoch_begin(Trainer& trainer, int64_t epoch) {}
  // loss: the batch's loss, detached and still on the device (reading it
  // synchronizes).
  virtual void on_batch_end(Trainer& trainer, int64_t batch, const Tensor& loss) {}
  // logs may be changed: the History and the callbacks after this one see it.
  virtual void on_epoch_end(Trainer& trainer, int64_t epoch, Logs& logs) {}
  virtual void on_train_end(Trainer& trainer, const Logs& last_epoch) {}
};
using Callbacks = std::vector<std::shared_ptr<Callback>>;

// fit() on a Dataset: how to batch it and where validation comes from.
struct DatasetFitOptions {
  int64_t batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  // The last fraction of the samples (as Keras: not shuffled first) is held
  // out for validation; 0: none. In (0, 1), and both parts non-empty.
  double validation_split = 0;
  std::shared_ptr<const multimodal::Dataset> validation_data;  // instead of a split
};

class Trainer {
 public:
  // Moves the model to the device (and repoints the optimizer's parameters to
  // the moved tensors). loss: cross_entropy when empty. forward: see the top
  // of this file; empty is the default, which needs an nn::Sequential.
  Trainer(Module& model, optim::Optimizer& optimizer, LossFn loss = {}, TrainerOptions options = {},
          ForwardFn forward = {});
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // A built-in metric by name: "accuracy" (or "acc").
  Trainer& add_metric(const std::string& name);
  Trainer& add_metric(const std::string& name, Metric metric);

  // Trains for `epochs` epochs (train.set_epoch(e) before epoch e, so a
  // shuffled loader changes order each epoch) and returns the History. The
  // model's train/eval modes are put back as they were when fit() returns.
  History fit(multimodal::DataLoader& train, int64_t epochs, const Callbacks& callbacks = {});
  History fit(multimodal::DataLoader& train, int64_t epochs, const multimodal::DataLoader& validation,
              const Callbacks& callbacks = {});
  History fit(std::shared_ptr<const multimodal::Dataset> train, int64_t epochs, const DatasetFitOptions& options,
              const Callbacks& callbacks = {});

  // The loss and metrics over the loader, in eval mode without gradients. The
  // model's train/eval mode is restored afterwards.
  Logs evaluate(const multimodal::DataLoader& loader);
  // forward's outputs over the loader (eval mode, no gradients), concatenated
  // along dimension 0, on the device. The targets are not used.
  Tensor predict(const multimodal::DataLoader& loader);

  Module& model() { return model_; }
  optim::Optimizer& optimizer() { return optimizer_; }
  Device device() const { return device_; }
  const TrainerOptions& options() const { return options_; }
  std::vector<std::string> metric_names() const;
  const History& history() const { return history_; }

  // A callback sets this to end fit() after the current epoch.
  bool stop_training = false;

 private:
  struct Progress;
  History fit_impl(multimodal::DataLoader& train, int64_t epochs, const multimodal::DataLoader* validation,
                   const Callbacks& callbacks);
  // One pass over the loader; trains when `train`. Returns the averages.
  Logs run(const multimodal::DataLoader& loader, bool train, Progress* progress, const Callbacks* callbacks);
  multimodal::Batch to_device(multimodal::Batch batch) const;

  Module& model_;
  optim::Optimizer& optimizer_;
  LossFn loss_;
  TrainerOptions options_;
  ForwardFn forward_;
  Device device_;
  std::vector<std::pair<std::string, Metric>> metrics_;
  History history_;
};

// "min" or "max" for a monitored value: "auto" is "max" when the name holds
// acc, recall, r@, precision or f1 (any case), else "min". Raises otherwise.
std::string resolve_mode(const std::string& mode, const std::string& monitor, const char* who);

// Stops fit() when `monitor` has not improved by more than min_delta for
// `patience` epochs in a row. restore_best_weights: the best epoch's weights
// are put back when training ends (kept as a copy on the model's device).
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(std::string monitor = "val_loss", int64_t patience = 3, double min_delta = 0,
                         std::string mode = "auto", bool restore_best_weights = false);
  void on_train_begin(Trainer& trainer) override;
  void on_epoch_end(Trainer& trainer, int64_t epoch, Logs& logs) override;
  void on_train_end(Trainer& trainer, const Logs& last_epoch) override;

  double best() const { return best_; }
  int64_t best_epoch() const { return best_epoch_; }        // -1 before any epoch
  int64_t stopped_epoch() const { return stopped_epoch_; }  // -1 when it did not stop training

 private:
  std::string monitor_, mode_;
  int64_t patience_;
  double min_delta_;
  bool restore_;
  double best_ = 0;
  int64_t best_epoch_ = -1, wait_ = 0, stopped_epoch_ = -1;
  StateDict best_weights_;
};

// Saves the model's state_dict (nn::save: safetensors, written atomically)
// after an epoch in which `monitor` improved, or after every epoch when
// !save_best_only. The best value is kept across fit() calls, so a second
// fit only overwrites the file with a better model. "{epoch}" in the path becomes the 1-based epoch number
// ("{epoch:03d}": zero-padded to 3 digits); missing folders are created.
class ModelCheckpoint : public Callback {
 public:
  explicit ModelCheckpoint(std::string path, std::string monitor = "val_loss", std::string mode = "auto",
                           bool save_best_only = true);
  void on_epoch_end(Trainer& trainer, int64_t epoch, Logs& logs) override;

  const std::vector<std::string>& saved() const { return saved_; }  // every path written, in order
  double best() const { return best_; }

 private:
  std::string path_, monitor_, mode_;
  bool save_best_only_;
  bool have_best_ = false;
  double best_ = 0;
  std::vector<std::string> saved_;
};

// One JSON object per epoch: {"epoch": 1, "accuracy": ..., "loss": ..., "lr":
// ..., "time": ..., "val_loss": ...} (epoch 1-based, keys sorted; NaN and
// infinities written as NaN / Infinity, as Python's json module does). The
// file is truncated when training begins unless `append`.
class JSONLLogger : public Callback {
 public:
  explicit JSONLLogger(std::string path, bool append = false);
  void on_train_begin(Trainer& trainer) override;
  void on_epoch_end(Trainer& trainer, int64_t epoch, Logs& logs) override;

 private:
  std::string path_;
  bool append_;
};

// Steps a scheduler at the end of every epoch (or of every batch with
// per_batch). The scheduler must outlive the callback's use.
class LRSchedulerCallback : public Callback {
 public:
  explicit LRSchedulerCallback(optim::LRScheduler& scheduler, bool per_batch = false)
      : scheduler_(scheduler), per_batch_(per_batch) {}
  void on_batch_end(Trainer& trainer, int64_t batch, const Tensor& loss) override;
  void on_epoch_end(Trainer& trainer, int64_t epoch, Logs& logs) override;

 private:
  optim::LRScheduler& scheduler_;
  bool per_batch_;
};

}  // namespace loom::nn

// Trainer and its callbacks (nn/trainer.h). The loop keeps one float64 0-d
// tensor per reported value on the device and adds value * batch_size into it
// with add_, so an epoch enqueues work without waiting on the device; the
// host reads the sums only to redraw the progress bar and once per epoch.
#include "nn/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "autograd/node.h"
#include "core/json.h"
#include "core/cuda.h"
#include "nn/functional/losses.h"
#include "nn/optim/clip_grad.h"
#include "nn/serialization.h"

namespace loom::nn {

using multimodal::Batch;
using multimodal::DataLoader;
using multimodal::Dataset;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string join_keys(const Logs& logs) {
  std::string out;
  for (const auto& kv : logs) out += (out.empty() ? "" : ", ") + kv.first;
  return "[" + out + "]";
}

// 0.4123, or 1.000e-04 for values too small to show in four decimals.
std::string format_value(double v) {
  char buf[32];
  const double a = std::fabs(v);
  std::snprintf(buf, sizeof buf, (a != 0 && a < 1e-3) || a >= 1e6 ? "%.3e" : "%.4f", v);
  return buf;
}

std::string format_duration(double s) {
  const int64_t t = static_cast<int64_t>(std::llround(std::max(s, 0.0)));
  std::ostringstream os;
  if (t >= 3600) os << t / 3600 << "h" << (t % 3600) / 60 << "m";
  else if (t >= 60) os << t / 60 << "m" << t % 60 << "s";
  else os << t << "s";
  return os.str();
}

Device resolve_device(const std::string& spec) {
  if (spec == "auto") return cuda::is_available() ? Device(DeviceType::CUDA, 0) : Device();
  const bool cpu = spec == "cpu";
  bool cuda_spec = spec == "cuda";
  if (spec.rfind("cuda:", 0) == 0 && spec.size() > 5)
    cuda_spec = std::all_of(spec.begin() + 5, spec.end(), [](char c) { return c >= '0' && c <= '9'; });
  LOOM_CHECK_VALUE(cpu || cuda_spec, "Trainer: device must be \"auto\", \"cpu\", \"cuda\" or \"cuda:N\", got \"", spec,
                   "\"");
  const Device d(spec);
  if (d.is_cuda()) {
    LOOM_CHECK_VALUE(
        cuda::is_available(), "Trainer: device \"", spec, "\" was asked for but CUDA is not available here (",
        cuda::built_with_cuda() ? "no usable GPU" : "loom was built without CUDA", "); use \"auto\" or \"cpu\"");
    LOOM_CHECK_VALUE(d.index < cuda::device_count(), "Trainer: device \"", spec, "\" does not exist: there are ",
                     cuda::device_count(), " CUDA devices");
  }
  return d;
}

// The samples a batch stands for, the weight of its values in the averages.
int64_t batch_size_of(const Batch& batch, const Tensor& target) {
  if (target.defined() && target.dim() >= 1) return target.size(0);
  if (!batch.indices.empty()) return static_cast<int64_t>(batch.indices.size());
  if (batch.images.defined() && batch.images.dim() >= 1) return batch.images.size(0);
  return 1;
}

// Puts back every submodule's train/eval flag (a model may keep some parts in
// eval mode on purpose, e.g. frozen batch norm) when it goes out of scope.
class ModeGuard {
 public:
  explicit ModeGuard(Module& model) {
    for (auto& nm : model.named_modules()) modes_.emplace_back(nm.second, nm.second->is_training());
  }
  ~ModeGuard() {
    // Parents first: train() recurses, so each child is then set to its own flag.
    for (auto& [m, on] : modes_) m->train(on);
  }

 private:
  std::vector<std::pair<Module*, bool>> modes_;
};

// Samples [start, start + n) of another dataset: validation_split's parts.
class RangeDataset : public Dataset {
 public:
  RangeDataset(std::shared_ptr<const Dataset> base, int64_t start, int64_t n)
      : base_(std::move(base)), start_(start), n_(n) {}
  int64_t size() const override { return n_; }
  multimodal::Example get(int64_t index) const override {
    LOOM_CHECK_INDEX(index >= 0 && index < n_, "Trainer: index ", index, " is out of range for a split of ", n_,
                     " examples");
    return base_->get(start_ + index);
  }

 private:
  std::shared_ptr<const Dataset> base_;
  int64_t start_, n_;
};

double group_lr(const optim::Optimizer& opt) {
  const auto& groups = opt.param_groups();
  if (groups.empty()) return std::nan("");
  const auto it = groups[0].options.find("lr");
  if (it != groups[0].options.end()) return it->second;
  const auto d = opt.defaults().find("lr");
  return d != opt.defaults().end() ? d->second : std::nan("");
}

}  // namespace

// ---------------------------------------------------------------- accuracy, History

Tensor accuracy(const Tensor& output, const Tensor& target) {
  LOOM_CHECK(output.defined() && target.defined() && output.dim() >= 1 && output.dim() <= 2,
             "accuracy: expected class scores [N, C] or logits [N], got shape ",
             output.defined() ? output.sizes() : Shape{});
  LOOM_CHECK(target.dim() == 1 && target.size(0) == output.size(0), "accuracy: expected labels [", output.size(0),
             "] for scores ", output.sizes(), ", got shape ", target.sizes());
  autograd::NoGradGuard no_grad;
  const bool binary = output.dim() == 1 || output.size(1) == 1;
  const Tensor pred = binary ? output.reshape({-1}).gt(0.0).to(DType::Int64) : output.argmax(-1);
  const Tensor labels = target.to(output.device(), DType::Int64);
  return pred.eq(labels).to(output.is_floating_point() ? output.dtype() : DType::Float32).mean();
}

void History::add(int64_t epoch, const Logs& logs) {
  epochs.push_back(epoch);
  for (const auto& [k, v] : logs) values[k].push_back(v);
}

const std::vector<double>& History::operator[](const std::string& key) const {
  const auto it = values.find(key);
  if (it == values.end()) {
    std::string keys;
    for (const auto& kv : values) keys += (keys.empty() ? "" : ", ") + kv.first;
    LOOM_THROW(ErrorKind::Value, "History: no values named \"", key, "\"; it has [", keys, "]");
  }
  return it->second;
}

// ---------------------------------------------------------------- progress

struct Trainer::Progress {
  std::ostream& os;
  int verbose;
  bool tty;
  double refresh;
  int64_t epoch = 0, epochs = 0, steps = 0;
  Clock::time_point t0, last_draw;

  explicit Progress(const TrainerOptions& o)
      : os(o.progress_stream ? *o.progress_stream : std::cout), verbose(o.verbose), refresh(o.refresh_seconds) {
    if (o.tty >= 0) tty = o.tty == 1;
    else if (&os == &std::cout) tty = isatty(fileno(stdout)) == 1;
    else if (&os == &std::cerr || &os == &std::clog) tty = isatty(fileno(stderr)) == 1;
    else tty = false;
  }
  bool bar() const { return verbose == 1 && tty; }

  void begin(int64_t e, int64_t n_epochs, int64_t n_steps) {
    epoch = e, epochs = n_epochs, steps = n_steps;
    t0 = last_draw = Clock::now();
  }
  // Whether to redraw after `step` batches: each redraw reads from the device.
  bool due(int64_t step) const { return bar() && (step == steps || step == 1 || seconds_since(last_draw) >= refresh); }

  std::string head(int64_t step) const {
    std::ostringstream os;
    os << "Epoch " << epoch + 1 << "/" << epochs << "  " << step << "/" << steps;
    return os.str();
  }
  static std::string bar_of(int64_t step, int64_t steps) {
    const int64_t width = 24, done = steps > 0 ? width * step / steps : 0;
    return "[" + std::string(done, '=') + (done < width ? ">" : "") +
           std::string(std::max<int64_t>(0, width - done - 1), ' ') + "]";
  }

  void draw(int64_t step, const std::vector<std::pair<std::string, double>>& values) {
    const double elapsed = seconds_since(t0);
    const double rate = elapsed > 0 ? step / elapsed : 0;
    char rate_buf[32];
    std::snprintf(rate_buf, sizeof rate_buf, "%.1f it/s", rate);
    std::string line = head(step) + " " + bar_of(step, steps) + " " + rate_buf;
    if (rate > 0) line += " ETA " + format_duration((steps - step) / rate);
    for (const auto& [k, v] : values) line += "  " + k + " " + format_value(v);
    os << "\r" << line << "\033[K" << std::flush;
    last_draw = Clock::now();
  }

  void end(double seconds, const std::vector<std::pair<std::string, double>>& values) {
    if (verbose == 0) return;
    char rate_buf[48];
    std::snprintf(rate_buf, sizeof rate_buf, "%s %.1f it/s", format_duration(seconds).c_str(),
                  seconds > 0 ? steps / seconds : 0.0);
    std::string line = head(steps) + (bar() ? " " + bar_of(steps, steps) : "") + "  " + rate_buf;
    for (const auto& [k, v] : values) line += "  " + k + " " + format_value(v);
    if (bar()) os << "\r" << line << "\033[K\n" << std::flush;
    else os << line << "\n" << std::flush;
  }
};

// ---------------------------------------------------------------- Trainer

Trainer::Trainer(Module& model, optim::Optimizer& optimizer, LossFn loss, TrainerOptions options, ForwardFn forward)
    : model_(model),
      optimizer_(optimizer),
      loss_(std::move(loss)),
      options_(std::move(options)),
      forward_(std::move(forward)) {
  LOOM_CHECK_VALUE(options_.grad_clip_norm >= 0 && std::isfinite(options_.grad_clip_norm),
                   "Trainer: grad_clip_norm must be >= 0 (0: no clipping), got ", options_.grad_clip_norm);
  LOOM_CHECK_VALUE(options_.verbose >= 0 && options_.verbose <= 2, "Trainer: verbose must be 0, 1 or 2, got ",
                   options_.verbose);
  LOOM_CHECK_VALUE(options_.tty >= -1 && options_.tty <= 1, "Trainer: tty must be -1 (detect), 0 or 1, got ",
                   options_.tty);
  LOOM_CHECK_VALUE(options_.refresh_seconds >= 0, "Trainer: refresh_seconds must be >= 0, got ",
                   options_.refresh_seconds);
  if (!forward_) {
    LOOM_CHECK_TYPE(dynamic_cast<Sequential*>(&model_) != nullptr,
                    "Trainer: the default forward feeds batch.images "
                    "to an nn::Sequential, but the model is a ",
                    model_.type_name(), "; pass forward = nn::images_to_labels<", model_.type_name(),
                    ">() or a function (model, batch) -> (output, target)");
    forward_ = images_to_labels<Sequential>();
  }
  if (!loss_)
    loss_ = [](const Tensor& output, const Tensor& target) { return functional::cross_entropy(output, target); };
  device_ = resolve_device(options_.device);

  // Module::to replaces the parameter tensors (even those already on the
  // device), so it is skipped when nothing moves, and otherwise the
  // optimizer, which holds the old tensors, is pointed at the new ones.
  const TensorList before = model_.parameters();
  bool elsewhere = false;
  for (const Tensor& t : before) elsewhere = elsewhere || t.device() != device_;
  for (const Tensor& t : model_.buffers()) elsewhere = elsewhere || t.device() != device_;
  if (!elsewhere) return;
  model_.to(device_);
  const TensorList after = model_.parameters();
  std::map<TensorImpl*, Tensor> moved;
  for (size_t i = 0; i < before.size(); ++i)
    if (!before[i].is_same(after[i])) moved[before[i].impl()] = after[i];
  if (moved.empty()) return;
  for (auto& group : optimizer_.param_groups())
    for (Tensor& p : group.params) {
      const auto it = moved.find(p.impl());
      if (it == moved.end()) continue;
      const auto st = optimizer_.state().find(p.impl());
      LOOM_CHECK_VALUE(st == optimizer_.state().end() || st->second.empty(), "Trainer: the optimizer (",
                       optimizer_.name(), ") already has state for parameters that must move to ", device_.str(),
                       "; move the model there before building the optimizer, or build the Trainer before "
                       "training");
      p = it->second;
    }
}

Trainer& Trainer::add_metric(const std::string& name) {
  LOOM_CHECK_VALUE(name == "accuracy" || name == "acc", "Trainer::add_metric: unknown metric \"", name,
                   "\"; built in: \"accuracy\" (\"acc\"); pass a function for others");
  return add_metric(name, Metric(&accuracy));
}

Trainer& Trainer::add_metric(const std::string& name, Metric metric) {
  LOOM_CHECK_VALUE(static_cast<bool>(metric), "Trainer::add_metric: metric \"", name, "\" has no function");
  LOOM_CHECK_VALUE(!name.empty() && name != "loss" && name != "lr" && name != "time" && name.rfind("val_", 0) != 0,
                   "Trainer::add_metric: \"", name,
                   "\" is not a usable name (empty, reserved: loss, lr, time, or starting with val_)");
  for (const auto& m : metrics_)
    LOOM_CHECK_VALUE(m.first != name, "Trainer::add_metric: there is already a metric named \"", name, "\"");
  metrics_.emplace_back(name, std::move(metric));
  return *this;
}

std::vector<std::string> Trainer::metric_names() const {
  std::vector<std::string> out;
  for (const auto& m : metrics_) out.push_back(m.first);
  return out;
}

Batch Trainer::to_device(Batch batch) const {
  for (Tensor* t : {&batch.images, &batch.tokens, &batch.labels})
    if (t->defined() && t->device() != device_) *t = t->to(device_);
  return batch;
}

Logs Trainer::run(const DataLoader& loader, bool train, Progress* progress, const Callbacks* callbacks) {
  const int64_t steps = loader.size();
  LOOM_CHECK_VALUE(steps > 0,
                   "Trainer: the loader yields no batches (an empty dataset, or drop_last with fewer "
                   "examples than one batch)");
  model_.train(train);
  std::optional<autograd::EnableGradGuard> grad_on;
  std::optional<autograd::NoGradGuard> grad_off;
  if (train) grad_on.emplace();
  else grad_off.emplace();

  std::vector<Tensor> sums;
  for (size_t i = 0; i <= metrics_.size(); ++i) sums.push_back(zeros({}, TensorOptions(DType::Float64, device_)));
  int64_t count = 0;
  const auto add_value = [&](size_t i, const Tensor& v, int64_t n, const std::string& name) {
    LOOM_CHECK(v.defined() && v.numel() == 1, "Trainer: ", name, " must be one value per batch, got shape ",
               v.defined() ? v.sizes() : Shape{});
    sums[i].add_(v.detach().reshape(Shape{}).to(device_, DType::Float64), static_cast<double>(n));
  };
  const auto averages = [&] {
    std::vector<std::pair<std::string, double>> out;
    const double c = static_cast<double>(std::max<int64_t>(count, 1));
    out.emplace_back("loss", sums[0].item<double>() / c);
    for (size_t i = 0; i < metrics_.size(); ++i) out.emplace_back(metrics_[i].first, sums[i + 1].item<double>() / c);
    return out;
  };

  for (int64_t b = 0; b < steps; ++b) {
    const Batch batch = to_device(loader.batch(b));
    auto [output, target] = forward_(model_, batch);
    LOOM_CHECK(output.defined(), "Trainer: the forward function returned no output");
    const Tensor loss = loss_(output, target);
    LOOM_CHECK(loss.defined() && loss.numel() == 1, "Trainer: the loss must be one value, got shape ",
               loss.defined() ? loss.sizes() : Shape{});
    if (train) {
      LOOM_CHECK(loss.requires_grad(),
                 "Trainer: the loss does not require grad (no parameter of the model "
                 "reaches it, or it was computed without gradients)");
      optimizer_.zero_grad();
      model_.zero_grad();
      loss.backward();
      if (options_.grad_clip_norm > 0) utils::clip_grad_norm_(model_.parameters(), options_.grad_clip_norm);
      optimizer_.step();
    }
    const int64_t n = batch_size_of(batch, target);
    count += n;
    {
      autograd::NoGradGuard no_grad;
      add_value(0, loss, n, "the loss");
      const Tensor out = output.detach();
      for (size_t i = 0; i < metrics_.size(); ++i)
        add_value(i + 1, metrics_[i].second(out, target), n, "metric \"" + metrics_[i].first + "\"");
    }
    if (train && callbacks)
      for (const auto& cb : *callbacks) cb->on_batch_end(*this, b, loss.detach());
    if (progress && progress->due(b + 1)) progress->draw(b + 1, averages());
  }
  Logs logs;
  for (const auto& [k, v] : averages()) logs[k] = v;
  return logs;
}

History Trainer::fit_impl(DataLoader& train, int64_t epochs, const DataLoader* validation, const Callbacks& callbacks) {
  LOOM_CHECK_VALUE(epochs >= 1, "Trainer::fit: epochs must be >= 1, got ", epochs);
  for (size_t i = 0; i < callbacks.size(); ++i)
    LOOM_CHECK_VALUE(callbacks[i] != nullptr, "Trainer::fit: callback ", i, " is null");
  history_ = History();
  stop_training = false;
  ModeGuard mode(model_);
  Progress progress(options_);
  std::vector<std::string> shown{"loss"};
  for (const auto& m : metrics_) shown.push_back(m.first);

  for (const auto& cb : callbacks) cb->on_train_begin(*this);
  Logs logs;
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    train.set_epoch(epoch);
    for (const auto& cb : callbacks) cb->on_epoch_begin(*this, epoch);
    const auto t0 = Clock::now();
    const double lr = group_lr(optimizer_);
    progress.begin(epoch, epochs, train.size());
    logs = run(train, true, &progress, &callbacks);
    if (validation)
      for (const auto& [k, v] : run(*validation, false, nullptr, nullptr)) logs["val_" + k] = v;
    logs["lr"] = lr;
    logs["time"] = seconds_since(t0);

    std::vector<std::pair<std::string, double>> line;
    for (const std::string prefix : {"", "val_"})
      for (const auto& k : shown)
        if (logs.count(prefix + k)) line.emplace_back(prefix + k, logs[prefix + k]);
    line.emplace_back("lr", lr);
    progress.end(logs["time"], line);

    for (const auto& cb : callbacks) cb->on_epoch_end(*this, epoch, logs);
    history_.add(epoch, logs);
    if (stop_training) break;
  }
  for (const auto& cb : callbacks) cb->on_train_end(*this, logs);
  return history_;
}

History Trainer::fit(DataLoader& train, int64_t epochs, const Callbacks& callbacks) {
  return fit_impl(train, epochs, nullptr, callbacks);
}

History Trainer::fit(DataLoader& train, int64_t epochs, const DataLoader& validation, const Callbacks& callbacks) {
  return fit_impl(train, epochs, &validation, callbacks);
}

History Trainer::fit(std::shared_ptr<const Dataset> train, int64_t epochs, const DatasetFitOptions& o,
                     const Callbacks& callbacks) {
  LOOM_CHECK_VALUE(train != nullptr, "Trainer::fit: the dataset is null");
  LOOM_CHECK_VALUE(o.batch_size >= 1, "Trainer::fit: batch_size must be >= 1, got ", o.batch_size);
  LOOM_CHECK_VALUE(o.validation_split >= 0 && o.validation_split < 1,
                   "Trainer::fit: validation_split must be in "
                   "[0, 1), got ",
                   o.validation_split);
  LOOM_CHECK_VALUE(o.validation_split == 0 || !o.validation_data,
                   "Trainer::fit: give validation_split or "
                   "validation_data, not both");
  std::shared_ptr<const Dataset> val = o.validation_data;
  if (o.validation_split > 0) {
    const int64_t n = train->size();
    const int64_t n_val = static_cast<int64_t>(std::floor(static_cast<double>(n) * o.validation_split));
    LOOM_CHECK_VALUE(n_val >= 1 && n_val < n, "Trainer::fit: validation_split=", o.validation_split, " of ", n,
                     " examples leaves an empty part");
    val = std::make_shared<RangeDataset>(train, n - n_val, n_val);
    train = std::make_shared<RangeDataset>(train, 0, n - n_val);
  }
  DataLoader train_loader(train, o.batch_size, o.shuffle, o.seed);
  if (!val) return fit_impl(train_loader, epochs, nullptr, callbacks);
  const DataLoader val_loader(val, o.batch_size, false, o.seed);
  return fit_impl(train_loader, epochs, &val_loader, callbacks);
}

Logs Trainer::evaluate(const DataLoader& loader) {
  ModeGuard mode(model_);
  return run(loader, false, nullptr, nullptr);
}

Tensor Trainer::predict(const DataLoader& loader) {
  const int64_t steps = loader.size();
  LOOM_CHECK_VALUE(steps > 0, "Trainer::predict: the loader yields no batches");
  ModeGuard mode(model_);
  model_.eval();
  autograd::NoGradGuard no_grad;
  TensorList outs;
  for (int64_t b = 0; b < steps; ++b) {
    Tensor out = forward_(model_, to_device(loader.batch(b))).first;
    LOOM_CHECK(out.defined() && out.dim() >= 1,
               "Trainer::predict: the forward function must return outputs with a "
               "batch dimension, got shape ",
               out.defined() ? out.sizes() : Shape{});
    outs.push_back(out.detach());
  }
  return cat(outs, 0);
}

// ---------------------------------------------------------------- callbacks

std::string resolve_mode(const std::string& mode, const std::string& monitor, const char* who) {
  if (mode == "min" || mode == "max") return mode;
  LOOM_CHECK_VALUE(mode == "auto", who, ": mode must be \"min\", \"max\" or \"auto\", got \"", mode, "\"");
  std::string m = monitor;
  std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* s : {"acc", "recall", "r@", "precision", "f1"})
    if (m.find(s) != std::string::npos) return "max";
  return "min";
}

namespace {

double monitored(const Logs& logs, const std::string& monitor, const char* who) {
  const auto it = logs.find(monitor);
  LOOM_CHECK_VALUE(it != logs.end(), who, ": \"", monitor, "\" is not among the epoch's values ", join_keys(logs),
                   " (validation values need validation data)");
  return it->second;
}

// "{epoch}" -> 7, "{epoch:03d}" -> 007; other text is kept.
std::string format_path(const std::string& path, int64_t epoch) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    const size_t open = path.find("{epoch", i);
    if (open == std::string::npos) break;
    const size_t close = path.find('}', open);
    if (close == std::string::npos) break;
    const std::string spec = path.substr(open + 6, close - open - 6);
    size_t width = 0;
    bool ok = spec.empty();
    if (spec.size() >= 3 && spec[0] == ':' && spec[1] == '0' && spec.back() == 'd') {
      const std::string digits = spec.substr(2, spec.size() - 3);
      ok = !digits.empty() && digits.size() <= 2 && std::all_of(digits.begin(), digits.end(), ::isdigit);
      if (ok) width = std::stoul(digits);
    }
    out += path.substr(i, open - i);
    if (ok) {
      std::string num = std::to_string(epoch);
      if (num.size() < width) num.insert(0, width - num.size(), '0');
      out += num;
    } else {
      out += path.substr(open, close - open + 1);
    }
    i = close + 1;
  }
  return out + path.substr(std::min(i, path.size()));
}

void make_parent_dirs(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  LOOM_CHECK(!ec, "cannot create the folder ", parent.string(), ": ", ec.message());
}

// The shortest text that reads back as the same double.
std::string json_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

}  // namespace

EarlyStopping::EarlyStopping(std::string monitor, int64_t patience, double min_delta, std::string mode,
                             bool restore_best_weights)
    : monitor_(std::move(monitor)),
      patience_(patience),
      min_delta_(std::fabs(min_delta)),
      restore_(restore_best_weights) {
  LOOM_CHECK_VALUE(!monitor_.empty(), "EarlyStopping: monitor is empty");
  LOOM_CHECK_VALUE(patience_ >= 0, "EarlyStopping: patience must be >= 0, got ", patience_);
  LOOM_CHECK_VALUE(std::isfinite(min_delta_), "EarlyStopping: min_delta must be finite, got ", min_delta);
  mode_ = resolve_mode(mode, monitor_, "EarlyStopping");
}

void EarlyStopping::on_train_begin(Trainer&) {
  best_ = 0;
  best_epoch_ = -1;
  wait_ = 0;
  stopped_epoch_ = -1;
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(Trainer& trainer, int64_t epoch, Logs& logs) {
  const double v = monitored(logs, monitor_, "EarlyStopping");
  const bool improved =
      !std::isnan(v) && (best_epoch_ < 0 || (mode_ == "min" ? v < best_ - min_delta_ : v > best_ + min_delta_));
  if (improved) {
    best_ = v;
    best_epoch_ = epoch;
    wait_ = 0;
    if (restore_) {
      autograd::NoGradGuard no_grad;
      best_weights_.clear();
      for (const auto& [k, t] : trainer.model().state_dict()) best_weights_.emplace_back(k, t.clone());
    }
    return;
  }
  if (++wait_ >= patience_) {
    stopped_epoch_ = epoch;
    trainer.stop_training = true;
  }
}

void EarlyStopping::on_train_end(Trainer& trainer, const Logs&) {
  if (restore_ && !best_weights_.empty()) trainer.model().load_state_dict(best_weights_);
}

ModelCheckpoint::ModelCheckpoint(std::string path, std::string monitor, std::string mode, bool save_best_only)
    : path_(std::move(path)), monitor_(std::move(monitor)), save_best_only_(save_best_only) {
  LOOM_CHECK_VALUE(!path_.empty(), "ModelCheckpoint: path is empty");
  mode_ = resolve_mode(mode, monitor_, "ModelCheckpoint");
}

void ModelCheckpoint::on_epoch_end(Trainer& trainer, int64_t epoch, Logs& logs) {
  if (save_best_only_) {
    const double v = monitored(logs, monitor_, "ModelCheckpoint");
    const bool better = !std::isnan(v) && (!have_best_ || (mode_ == "min" ? v < best_ : v > best_));
    if (!better) return;
    best_ = v;
    have_best_ = true;
  }
  const std::string path = format_path(path_, epoch + 1);
  make_parent_dirs(path);
  save(trainer.model().state_dict(), path);
  saved_.push_back(path);
}

JSONLLogger::JSONLLogger(std::string path, bool append) : path_(std::move(path)), append_(append) {
  LOOM_CHECK_VALUE(!path_.empty(), "JSONLLogger: path is empty");
}

void JSONLLogger::on_train_begin(Trainer&) {
  make_parent_dirs(path_);
  std::ofstream f(path_, append_ ? std::ios::app : std::ios::trunc);
  LOOM_CHECK(f.good(), "JSONLLogger: cannot open ", path_, " for writing");
}

void JSONLLogger::on_epoch_end(Trainer&, int64_t epoch, Logs& logs) {
  std::string line = "{\"epoch\": " + std::to_string(epoch + 1);
  for (const auto& [k, v] : logs) line += ", " + json_string(k) + ": " + json_number(v);
  line += "}\n";
  std::ofstream f(path_, std::ios::app);
  f << line;
  f.flush();
  LOOM_CHECK(f.good(), "JSONLLogger: cannot write to ", path_);
}

void LRSchedulerCallback::on_batch_end(Trainer&, int64_t, const Tensor&) {
  if (per_batch_) scheduler_.step();
}

void LRSchedulerCallback::on_epoch_end(Trainer&, int64_t, Logs&) {
  if (!per_batch_) scheduler_.step();
}

}  // namespace loom::nn

// nn::Trainer on a separable toy problem (two Gaussian blobs in 2-D, stored
// as 1x1x2 "images"): it learns, evaluate agrees with a loop written out by
// hand, metrics are weighted by batch size, predict matches evaluate, and the
// callbacks (early stopping, checkpoint-best, JSONL log, LR scheduler), the
// gradient clipping, the progress output and the errors for bad options.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "core/cuda.h"
#include "multimodal/data.h"
#include "nn/functional/losses.h"
#include "nn/modules/activation.h"
#include "nn/modules/flatten.h"
#include "nn/modules/linear.h"
#include "nn/optim/adam.h"
#include "nn/optim/lr_scheduler.h"
#include "nn/optim/sgd.h"
#include "nn/serialization.h"
#include "nn/trainer.h"
#include "test_util.h"

using namespace loom;
using namespace loom::nn;
using Catch::Matchers::ContainsSubstring;
using multimodal::DataLoader;
using multimodal::TensorPairDataset;

namespace {

struct Blobs {
  Tensor x, y;  // [N, 2], int64 [N]
  std::shared_ptr<TensorPairDataset> dataset;
};

// Class c is centred at (2c - 1) * 1.5 on both axes with std 0.5: separable.
Blobs blobs(int64_t n, uint64_t seed = 0) {
  manual_seed(seed);
  Blobs b;
  b.y = randint(0, 2, {n});
  b.x = randn({n, 2}) * 0.5 + (b.y.to(DType::Float32).unsqueeze(1) * 2.0 - 1.0) * 1.5;
  b.dataset = std::make_shared<TensorPairDataset>(b.x.reshape({n, 1, 1, 2}), std::vector<std::string>(n), b.y);
  return b;
}

std::shared_ptr<Sequential> mlp(int64_t hidden = 16) {
  manual_seed(0);
  auto m = std::make_shared<Sequential>();
  m->push_back(std::make_shared<Flatten>());
  m->push_back(std::make_shared<Linear>(2, hidden));
  m->push_back(std::make_shared<ReLU>());
  m->push_back(std::make_shared<Linear>(hidden, 2));
  return m;
}

TrainerOptions quiet() {
  TrainerOptions o;
  o.device = "cpu";
  o.verbose = 0;
  return o;
}

optim::AdamOptions adam(double lr) {
  optim::AdamOptions o;
  o.lr = lr;
  return o;
}

// Sets logs[name] to values[epoch]: a monitored value the test controls.
class Inject : public Callback {
 public:
  Inject(std::string name, std::vector<double> values) : name_(std::move(name)), values_(std::move(values)) {}
  void on_epoch_end(Trainer&, int64_t epoch, Logs& logs) override { logs[name_] = values_.at(epoch); }

 private:
  std::string name_;
  std::vector<double> values_;
};

// A copy of the model's state at the end of every epoch.
class Snapshots : public Callback {
 public:
  void on_epoch_end(Trainer& t, int64_t, Logs&) override {
    StateDict s;
    for (const auto& [k, v] : t.model().state_dict()) s.emplace_back(k, v.clone());
    states.push_back(s);
  }
  std::vector<StateDict> states;
};

void check_same_state(const StateDict& a, const StateDict& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].first == b[i].first);
    test::check_close(a[i].second, b[i].second, 0, 0);
  }
}

std::string temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("loom_trainer_" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

}  // namespace

TEST_CASE("Trainer: learns a separable problem in a few epochs; one line per epoch off a terminal", "[trainer]") {
  Blobs train = blobs(512, 1), val = blobs(256, 2);
  auto model = mlp();
  optim::Adam opt(model->parameters(), adam(0.05));
  std::ostringstream out;
  TrainerOptions o;
  o.progress_stream = &out;
  o.tty = 0;
  Trainer trainer(*model, opt, {}, o);
  // "auto": CUDA when there is a GPU (or the emulator's), else the CPU.
  CHECK(trainer.device() == (cuda::is_available() ? Device("cuda:0") : Device()));
  trainer.add_metric("accuracy");
  DataLoader train_loader(train.dataset, 32, true), val_loader(val.dataset, 64);
  const auto t0 = std::chrono::steady_clock::now();
  History h = trainer.fit(train_loader, 4, val_loader);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (trainer.device().is_cpu()) CHECK(seconds < 2.0);  // the emulator runs kernels far slower
  REQUIRE(h.size() == 4);
  CHECK(h["loss"].back() < h["loss"].front());
  CHECK(h["val_accuracy"].back() > 0.9);
  CHECK(h["accuracy"].back() > 0.9);
  for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"}) CHECK(h.contains(key));
  CHECK(h["lr"] == std::vector<double>(4, 0.05));

  const std::string text = out.str();
  std::vector<std::string> lines;
  std::istringstream is(text);
  for (std::string line; std::getline(is, line);) lines.push_back(line);
  REQUIRE(lines.size() == 4);
  CHECK_THAT(lines[0], ContainsSubstring("Epoch 1/4  16/16"));
  CHECK_THAT(lines[3], ContainsSubstring("Epoch 4/4"));
  CHECK_THAT(lines[3], ContainsSubstring("loss "));
  CHECK_THAT(lines[3], ContainsSubstring("val_accuracy "));
  CHECK_THAT(lines[3], ContainsSubstring("it/s"));
  CHECK(text.find('\r') == std::string::npos);
  CHECK(lines[3].find("loss") < lines[3].find("accuracy"));  // loss first, then the metrics
}

TEST_CASE("Trainer: on a terminal the progress line is redrawn with rate, ETA and running metrics", "[trainer]") {
  Blobs train = blobs(64);
  auto model = mlp();
  optim::Adam opt(model->parameters(), adam(0.01));
  std::ostringstream out;
  TrainerOptions o;
  o.device = "cpu";
  o.progress_stream = &out;
  o.tty = 1;
  o.refresh_seconds = 0;  // redraw after every batch
  Trainer trainer(*model, opt, {}, o);
  trainer.add_metric("acc");
  DataLoader loader(train.dataset, 16);
  trainer.fit(loader, 2);
  const std::string text = out.str();
  CHECK_THAT(text, ContainsSubstring("\rEpoch 1/2  1/4 [======>"));
  CHECK_THAT(text, ContainsSubstring("Epoch 2/2  4/4 [========================]"));
  CHECK_THAT(text, ContainsSubstring(" it/s ETA "));
  CHECK_THAT(text, ContainsSubstring("  loss 0."));
  CHECK_THAT(text, ContainsSubstring("  acc "));
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);  // the bar stays on one line per epoch

  std::ostringstream silent;
  o.progress_stream = &silent;
  o.verbose = 0;
  Trainer quiet_trainer(*model, opt, {}, o);
  quiet_trainer.fit(loader, 1);
  CHECK(silent.str().empty());
}

TEST_CASE("Trainer: evaluate matches a loop written out by hand and restores the model's mode", "[trainer]") {
  Blobs data = blobs(100, 3);
  auto model = mlp();
  optim::Adam opt(model->parameters(), adam(0.05));
  Trainer trainer(*model, opt, {}, quiet());
  trainer.add_metric("accuracy");
  DataLoader loader(data.dataset, 32, true);
  trainer.fit(loader, 1);

  model->train();
  const Logs ev = trainer.evaluate(DataLoader(data.dataset, 7));
  CHECK(model->is_training());
  CHECK(ev.size() == 2);

  autograd::NoGradGuard no_grad;
  const Tensor out = model->forward(data.x.reshape({100, 1, 1, 2}));
  const double loss = functional::cross_entropy(out, data.y, {}, -100, "sum").item<double>() / 100;
  const double acc = out.argmax(-1).eq(data.y).to(DType::Float64).sum().item<double>() / 100;
  test::check_close(ev.at("loss"), loss, 0, 1e-5);
  test::check_close(ev.at("accuracy"), acc, 0, 1e-12);

  const Tensor pred = trainer.predict(DataLoader(data.dataset, 30));
  REQUIRE(pred.sizes() == Shape{100, 2});
  test::check_close(pred, out, 1e-6, 1e-5);
  test::check_close(accuracy(pred, data.y).item<double>(), ev.at("accuracy"), 0, test::kTightRtol);
}

TEST_CASE("Trainer: loss and metrics are sample-weighted over uneven batches", "[trainer]") {
  Blobs data = blobs(10, 4);
  auto model = mlp();
  optim::SGD opt(model->parameters());
  Trainer trainer(*model, opt, {}, quiet());
  trainer.add_metric("accuracy");
  // A metric returning a double (the fraction of label 1) is read back every
  // batch but weighted the same way.
  trainer.add_metric("label_mean",
                     [](const Tensor&, const Tensor& y) { return y.to(DType::Float64).mean().item<double>(); });
  const Logs full = trainer.evaluate(DataLoader(data.dataset, 10));
  const Logs uneven = trainer.evaluate(DataLoader(data.dataset, 3));  // 3 + 3 + 3 + 1
  test::check_close(uneven.at("loss"), full.at("loss"), 0, 1e-6);
  test::check_close(uneven.at("accuracy"), full.at("accuracy"), 0, 1e-12);
  test::check_close(uneven.at("label_mean"), data.y.to(DType::Float64).mean().item<double>(), 0, 1e-12);
  CHECK(trainer.metric_names() == std::vector<std::string>{"accuracy", "label_mean"});
}

TEST_CASE("Trainer: fit on a Dataset with validation_split holds out the last fraction", "[trainer]") {
  Blobs data = blobs(200, 5);
  auto model = mlp();
  optim::Adam opt(model->parameters(), adam(0.05));
  Trainer trainer(*model, opt, {}, quiet());
  trainer.add_metric("accuracy");
  DatasetFitOptions fo;
  fo.batch_size = 25;
  fo.validation_split = 0.25;
  int64_t batches = 0;
  struct Count : Callback {
    int64_t* n;
    explicit Count(int64_t* n) : n(n) {}
    void on_batch_end(Trainer&, int64_t, const Tensor& loss) override {
      CHECK(!loss.requires_grad());
      ++*n;
    }
  };
  History h = trainer.fit(data.dataset, 3, fo, {std::make_shared<Count>(&batches)});
  CHECK(batches == 3 * 6);  // 150 training examples in batches of 25
  CHECK(h["val_accuracy"].back() > 0.9);

  // The validation values are those of the last 50 examples.
  const auto tail = std::make_shared<TensorPairDataset>(data.x.narrow(0, 150, 50).reshape({50, 1, 1, 2}),
                                                        std::vector<std::string>(50), data.y.narrow(0, 150, 50));
  const Logs ev = trainer.evaluate(DataLoader(tail, 50));
  test::check_close(ev.at("accuracy"), h["val_accuracy"].back(), 0, test::kTightRtol);
  test::check_close(ev.at("loss"), h["val_loss"].back(), 0, 1e-5);
}

TEST_CASE("Trainer: a custom forward and images_to_labels for other model types", "[trainer]") {
  Blobs data = blobs(64, 6);
  manual_seed(0);
  Linear linear(2, 2);
  optim::Adam opt(linear.parameters(), adam(0.1));
  const ForwardFn fwd = [](Module& m, const multimodal::Batch& b) {
    return std::make_pair(static_cast<Linear&>(m).forward(b.images.flatten(1)), b.labels);
  };
  Trainer trainer(linear, opt, {}, quiet(), fwd);
  trainer.add_metric("accuracy");
  DataLoader loader(data.dataset, 16, true);
  CHECK(trainer.fit(loader, 5)["accuracy"].back() > 0.9);

  // images_to_labels<M> calls M::forward(images): Flatten has one, so a
  // Flatten "model" returns the inputs themselves.
  Flatten flat;
  Trainer identity(
      flat, opt, [](const Tensor& o, const Tensor&) { return o.sum(); }, quiet(), images_to_labels<Flatten>());
  test::check_close(identity.predict(DataLoader(data.dataset, 10)), data.x, 0, 0);
}

TEST_CASE("EarlyStopping: stops after patience epochs without improvement and restores the best weights", "[trainer]") {
  Blobs data = blobs(64, 7);
  auto model = mlp();
  optim::Adam opt(model->parameters(), adam(0.01));
  Trainer trainer(*model, opt, {}, quiet());
  DataLoader loader(data.dataset, 16, true);
  auto snaps = std::make_shared<Snapshots>();
  auto stop = std::make_shared<EarlyStopping>("score", 2, 0.0, "min", true);
  // Best at epoch 1; epochs 2 and 3 are worse, so it stops after epoch 3.
  History h = trainer.fit(
      loader, 10, {std::make_shared<Inject>("score", std::vector<double>{1.0, 0.5, 0.6, 0.55, 0.1}), snaps, stop});
  CHECK(h.size() == 4);
  CHECK(h.epochs == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(stop->best_epoch() == 1);
  CHECK(stop->stopped_epoch() == 3);
  CHECK(stop->best() == 0.5);
  check_same_state(model->state_dict(), snaps->states[1]);

  // min_delta: an improvement smaller than it does not count; "max" for accuracies.
  auto stop2 = std::make_shared<EarlyStopping>("val_acc", 1, 0.05, "auto");
  trainer.fit(loader, 10, {std::make_shared<Inject>("val_acc", std::vector<double>{0.5, 0.52, 0.9}), stop2});
  CHECK(stop2->stopped_epoch() == 1);
  CHECK(stop2->best() == 0.5);
  CHECK(trainer.history().size() == 2);
}

TEST_CASE("ModelCheckpoint: writes only when the monitored value improves; the file loads back", "[trainer]") {
  Blobs data = blobs(64, 8);
  auto model = mlp();
  optim::Adam opt(model->parameters(), adam(0.01));
  Trainer trainer(*model, opt, {}, quiet());
  DataLoader loader(data.dataset, 32, true);
  const std::string dir = temp_dir("ckpt");
  auto every = std::make_shared<ModelCheckpoint>(dir + "/sub/ckpt-{epoch:02d}.safetensors", "val_loss");
  auto best = std::make_shared<ModelCheckpoint>(dir + "/best.safetensors", "val_loss");
  auto snaps = std::make_shared<Snapshots>();
  trainer.fit(loader, 5,
              {std::make_shared<Inject>("val_loss", std::vector<double>{3, 2, 2.5, 1, 1.5}), snaps, every, best});
  CHECK(every->saved() == std::vector<std::string>{dir + "/sub/ckpt-01.safetensors", dir + "/sub/ckpt-02.safetensors",
                                                   dir + "/sub/ckpt-04.safetensors"});
  CHECK_FALSE(std::filesystem::exists(dir + "/sub/ckpt-03.safetensors"));
  CHECK(best->saved().size() == 3);
  CHECK(best->best() == 1);
  const StateDict loaded = load(dir + "/best.safetensors");
  check_same_state(loaded, snaps->states[3]);
  // It loads into a fresh model of the same architecture.
  auto fresh = mlp(16);
  fresh->load_state_dict(loaded);
  check_same_state(fresh->state_dict(), snaps->states[3]);

  // save_best_only = false: every epoch.
  auto all = std::make_shared<ModelCheckpoint>(dir + "/e{epoch}.safetensors", "val_loss", "auto", false);
  trainer.fit(loader, 2, {all});
  CHECK(all->saved() == std::vector<std::string>{dir + "/e1.safetensors", dir + "/e2.safetensors"});
  std::filesystem::remove_all(dir);
}

TEST_CASE("JSONLLogger: one JSON object per epoch", "[trainer]") {
  Blobs data = blobs(64, 9);
  auto model = mlp();
  optim::Adam opt(model->parameters(), adam(0.01));
  Trainer trainer(*model, opt, {}, quiet());
  trainer.add_metric("accuracy");
  DataLoader loader(data.dataset, 32, true), val(data.dataset, 64);
  const std::string dir = temp_dir("jsonl");
  const std::string path = dir + "/logs/metrics.jsonl";
  trainer.fit(loader, 3, val, {std::make_shared<JSONLLogger>(path)});
  trainer.fit(loader, 2, val, {std::make_shared<JSONLLogger>(path)});        // truncates
  trainer.fit(loader, 1, val, {std::make_shared<JSONLLogger>(path, true)});  // appends
  std::ifstream f(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(f, line);) lines.push_back(line);
  REQUIRE(lines.size() == 3);
  CHECK_THAT(lines[0], ContainsSubstring("{\"epoch\": 1, \"accuracy\": "));
  CHECK_THAT(lines[1], ContainsSubstring("{\"epoch\": 2, "));
  CHECK_THAT(lines[2], ContainsSubstring("{\"epoch\": 1, "));
  for (const auto& line : lines) {
    CHECK(line.back() == '}');
    for (const char* key : {"\"loss\": ", "\"lr\": 0.01,", "\"time\": ", "\"val_loss\": ", "\"val_accuracy\": "})
      CHECK_THAT(line, ContainsSubstring(key));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("LRSchedulerCallback: steps the scheduler per epoch or per batch", "[trainer]") {
  Blobs data = blobs(64, 10);
  auto model = mlp();
  optim::SGDOptions so;
  so.lr = 0.05;
  optim::SGD opt(model->parameters(), so);
  Trainer trainer(*model, opt, {}, quiet());
  DataLoader loader(data.dataset, 16, true);
  optim::StepLR sched(opt, 1, 0.5);
  History h = trainer.fit(loader, 4, {std::make_shared<LRSchedulerCallback>(sched)});
  CHECK(h["lr"] == std::vector<double>{0.05, 0.025, 0.0125, 0.00625});
  test::check_close(opt.param_groups()[0].options.at("lr"), 0.003125, 0, test::kTightRtol);

  optim::SGD opt2(model->parameters(), so);
  Trainer trainer2(*model, opt2, {}, quiet());
  optim::LambdaLR per_step(opt2, [](int64_t step) { return 1.0 / (1 + step); });
  History h2 = trainer2.fit(loader, 2, {std::make_shared<LRSchedulerCallback>(per_step, true)});
  CHECK(per_step.last_epoch() == 8);  // 4 batches x 2 epochs
  test::check_close(h2["lr"][0], 0.05, 0, test::kTightRtol);
  test::check_close(h2["lr"][1], 0.05 / 5, 0, test::kTightRtol);
}

TEST_CASE("Trainer: grad_clip_norm bounds the step", "[trainer]") {
  // Far-off inputs with random labels give large gradients; with SGD at lr 1
  // the step is the gradient, so its norm is at most the clipping norm.
  Blobs data = blobs(32, 11);
  const auto far = std::make_shared<TensorPairDataset>(data.x.reshape({32, 1, 1, 2}) * 1000.0,
                                                       std::vector<std::string>(32), randint(0, 2, {32}));
  auto step_norm = [&](double clip) {
    auto model = mlp();
    optim::SGDOptions so;
    so.lr = 1.0;
    optim::SGD opt(model->parameters(), so);
    TrainerOptions o = quiet();
    o.grad_clip_norm = clip;
    Trainer trainer(*model, opt, {}, o);
    StateDict before;
    for (const auto& [k, v] : model->state_dict()) before.emplace_back(k, v.clone());
    DataLoader loader(far, 32);
    trainer.fit(loader, 1);
    double sq = 0;
    const StateDict after = model->state_dict();
    for (size_t i = 0; i < after.size(); ++i) sq += (after[i].second - before[i].second).square().sum().item<double>();
    return std::sqrt(sq);
  };
  CHECK(step_norm(0) > 10);
  CHECK(step_norm(0.1) <= 0.1 * (1 + 1e-4));
  CHECK(step_norm(0.1) > 0.09);
}

TEST_CASE("Trainer: errors for bad options and bad use", "[trainer]") {
  Blobs data = blobs(16, 12);
  auto model = mlp();
  optim::SGD opt(model->parameters());
  DataLoader loader(data.dataset, 8);
  auto make = [&](TrainerOptions o) { Trainer t(*model, opt, {}, o); };
  TrainerOptions o = quiet();
  o.device = "tpu";
  test::check_error([&] { make(o); }, {"Trainer: device must be", "\"tpu\""});
  CHECK(test::error_kind([&] { make(o); }) == ErrorKind::Value);
  if (!test::have_gpu()) {
    o.device = "cuda";
    test::check_error([&] { make(o); }, {"CUDA is not available"});
  }
  o = quiet();
  o.grad_clip_norm = -1;
  test::check_error([&] { make(o); }, {"grad_clip_norm must be >= 0"});
  o = quiet();
  o.verbose = 3;
  test::check_error([&] { make(o); }, {"verbose must be 0, 1 or 2"});
  o = quiet();
  o.tty = 2;
  CHECK(test::error_kind([&] { make(o); }) == ErrorKind::Value);

  Linear linear(2, 2);
  optim::SGD lin_opt(linear.parameters());
  test::check_error([&] { Trainer t(linear, lin_opt, {}, quiet()); }, {"nn::Sequential", "Linear", "images_to_labels"});
  CHECK(test::error_kind([&] { Trainer t(linear, lin_opt, {}, quiet()); }) == ErrorKind::Type);

  Trainer t(*model, opt, {}, quiet());
  test::check_error([&] { t.add_metric("f1"); }, {"unknown metric \"f1\""});
  t.add_metric("accuracy");
  test::check_error([&] { t.add_metric("accuracy"); }, {"already a metric named \"accuracy\""});
  test::check_error([&] { t.add_metric("val_x", &accuracy); }, {"not a usable name"});
  test::check_error([&] { t.fit(loader, 0); }, {"epochs must be >= 1"});
  test::check_error([&] { t.fit(loader, 1, {nullptr}); }, {"callback 0 is null"});
  DatasetFitOptions fo;
  fo.validation_split = 1.0;
  test::check_error([&] { t.fit(data.dataset, 1, fo); }, {"validation_split must be in [0, 1)"});
  fo.validation_split = 0.01;
  test::check_error([&] { t.fit(data.dataset, 1, fo); }, {"leaves an empty part"});
  fo.validation_split = 0.5;
  fo.validation_data = data.dataset;
  test::check_error([&] { t.fit(data.dataset, 1, fo); }, {"not both"});
  test::check_error([&] { t.fit(loader, 1, {std::make_shared<EarlyStopping>()}); },
                    {"EarlyStopping: \"val_loss\" is not among the epoch's values", "accuracy"});
  test::check_error([&] { EarlyStopping("val_loss", 3, 0, "best"); }, {"mode must be \"min\", \"max\" or \"auto\""});
  test::check_error([&] { EarlyStopping("val_loss", -1); }, {"patience must be >= 0"});

  Trainer bad_loss(
      *model, opt, [](const Tensor& o, const Tensor&) { return o; }, quiet());
  test::check_error([&] { bad_loss.fit(loader, 1); }, {"the loss must be one value", "[8, 2]"});
  auto empty =
      std::make_shared<TensorPairDataset>(zeros({3, 1, 1, 2}), std::vector<std::string>(3), zeros({3}, DType::Int64));
  test::check_error([&] { t.evaluate(DataLoader(empty, 4, false, 0, true)); }, {"yields no batches"});
  test::check_error([&] { t.history()["nope"]; }, {"no values named \"nope\""});
}

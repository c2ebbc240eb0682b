// Trains a small CNN (or, with --model mlp, a two-layer perceptron) on
// Fashion-MNIST (Debian's dataset-fashion-mnist) with loom's nn modules,
// Adam and a cosine schedule, and prints the test accuracy. The CNN: conv 3x3
// (1->16) + ReLU + max-pool 2, conv 3x3 (16->32) + ReLU + max-pool 2, linear
// 1568->10, cross-entropy - the same model as train_fashion_mnist.py.
//
//   train_fashion_mnist [--model cnn|mlp] [--epochs N] [--batch N] [--lr X]
//                       [--train-limit N] [--test-limit N] [--device cpu|cuda]
//                       [--data-dir DIR] [--min-accuracy X]
//
// Exit status 77 when the data set is not installed; 1 when --min-accuracy is
// given and not reached.
#include <zlib.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops/loss.h"
#include "cli.h"
#include "core/tensor.h"
#include "nn/nn.h"
#include "nn/optim/adam.h"
#include "nn/optim/lr_scheduler.h"

using namespace loom;

namespace {

struct Options {
  std::string model = "cnn";
  int epochs = 3;
  int64_t batch = 128;
  double lr = 2e-3;
  int64_t train_limit = -1;
  int64_t test_limit = -1;
  std::string device = "cpu";
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  double min_accuracy = -1;
};

bool read_gz(const std::string& path, std::vector<uint8_t>& out) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return false;
  out.clear();
  std::vector<uint8_t> buf(1 << 20);
  int n;
  while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0)
    out.insert(out.end(), buf.begin(), buf.begin() + n);
  gzclose(f);
  return n == 0;
}

uint32_t be32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

// IDX files: images [n, 28, 28] uint8 -> float32 [n, 784] in [0, 1]; labels -> int64.
bool load_split(const std::string& dir, const std::string& prefix, int64_t limit, Tensor& images, Tensor& labels) {
  std::vector<uint8_t> img, lab;
  if (!read_gz(dir + "/" + prefix + "-images-idx3-ubyte.gz", img) ||
      !read_gz(dir + "/" + prefix + "-labels-idx1-ubyte.gz", lab))
    return false;
  if (img.size() < 16 || lab.size() < 8 || be32(img.data()) != 2051 || be32(lab.data()) != 2049) {
    throw Error(ErrorKind::Runtime, "malformed IDX files in " + dir);
  }
  int64_t n = be32(img.data() + 4), rows = be32(img.data() + 8), cols = be32(img.data() + 12);
  if (limit > 0) n = std::min(n, limit);
  const int64_t d = rows * cols;
  if (static_cast<int64_t>(img.size()) < 16 + n * d || static_cast<int64_t>(lab.size()) < 8 + n)
    throw Error(ErrorKind::Runtime, "truncated IDX files in " + dir);
  std::vector<float> x(n * d);
  for (int64_t i = 0; i < n * d; ++i) x[i] = img[16 + i] / 255.0f;
  std::vector<int64_t> y(n);
  for (int64_t i = 0; i < n; ++i) y[i] = lab[8 + i];
  images = from_vector(x, {n, 1, rows, cols});
  labels = from_vector(y, {n});
  return true;
}

struct Model : nn::Module {
  bool cnn;
  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::MaxPool2d> pool;
  std::shared_ptr<nn::Linear> fc1, fc2;

  explicit Model(bool use_cnn) : nn::Module("Net"), cnn(use_cnn) {
    if (cnn) {
      conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(1, 16, Dims{3}, Dims{1}, Dims{1}));
      conv2 = register_module("conv2", std::make_shared<nn::Conv2d>(16, 32, Dims{3}, Dims{1}, Dims{1}));
      pool = register_module("pool", std::make_shared<nn::MaxPool2d>(Dims{2}));
      fc1 = register_module("fc", std::make_shared<nn::Linear>(32 * 7 * 7, 10));
    } else {
      fc1 = register_module("fc1", std::make_shared<nn::Linear>(784, 256));
      fc2 = register_module("fc2", std::make_shared<nn::Linear>(256, 10));
    }
  }

  // x: [n, 1, 28, 28] in [0, 1] -> logits [n, 10]
  Tensor operator()(const Tensor& x) const {
    if (!cnn) return fc2->forward(fc1->forward(x.flatten(1)).relu());
    Tensor h = pool->forward(conv1->forward(x).relu());
    h = pool->forward(conv2->forward(h).relu());
    return fc1->forward(h.flatten(1));
  }
};

double accuracy(const Model& model, const Tensor& x, const Tensor& y, int64_t batch) {
  autograd::NoGradGuard ng;
  int64_t correct = 0, n = x.size(0);
  for (int64_t s = 0; s < n; s += batch) {
    int64_t m = std::min(batch, n - s);
    Tensor pred = model(x.narrow(0, s, m)).argmax(1);
    correct += pred.eq(y.narrow(0, s, m)).sum().item<int64_t>();
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

Options parse(int argc, char** argv) {
  Options o;
  examples::Flags f(argc, argv);
  while (f.next()) {
    if (f.is("--model")) o.model = f.value();
    else if (f.is("--epochs")) o.epochs = std::stoi(f.value());
    else if (f.is("--batch")) o.batch = std::stoll(f.value());
    else if (f.is("--lr")) o.lr = std::stod(f.value());
    else if (f.is("--train-limit")) o.train_limit = std::stoll(f.value());
    else if (f.is("--test-limit")) o.test_limit = std::stoll(f.value());
    else if (f.is("--device")) o.device = f.value();
    else if (f.is("--data-dir")) o.data_dir = f.value();
    else if (f.is("--min-accuracy")) o.min_accuracy = std::stod(f.value());
    else f.unknown();
  }
  if (o.model != "cnn" && o.model != "mlp") throw Error(ErrorKind::Value, "--model must be cnn or mlp, got " + o.model);
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options opt = parse(argc, argv);
    Device dev(opt.device);
    manual_seed(0);
    Tensor xtr, ytr, xte, yte;
    if (!load_split(opt.data_dir, "train", opt.train_limit, xtr, ytr) ||
        !load_split(opt.data_dir, "t10k", opt.test_limit, xte, yte)) {
      std::printf("Fashion-MNIST not found in %s (apt-get install dataset-fashion-mnist): skipping\n",
                  opt.data_dir.c_str());
      return 77;
    }
    xtr = xtr.to(dev), ytr = ytr.to(dev), xte = xte.to(dev), yte = yte.to(dev);
    const int64_t n = xtr.size(0);
    std::printf("Fashion-MNIST: %lld training and %lld test images on %s, model %s\n", static_cast<long long>(n),
                static_cast<long long>(xte.size(0)), dev.str().c_str(), opt.model.c_str());

    Model model(opt.model == "cnn");
    model.to(dev);
    optim::Adam adam(model.parameters(), optim::AdamOptions{opt.lr});
    optim::CosineAnnealingLR schedule(adam, opt.epochs);

    for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
      auto t0 = std::chrono::steady_clock::now();
      Tensor perm = randperm(n).to(dev);
      double loss_sum = 0;
      int64_t steps = 0, sampled = 0;
      const double lr = schedule.get_last_lr()[0];
      for (int64_t s = 0; s + opt.batch <= n; s += opt.batch) {
        Tensor idx = perm.narrow(0, s, opt.batch);
        Tensor loss = cross_entropy(model(xtr.index_select(0, idx)), ytr.index_select(0, idx));
        adam.zero_grad();
        loss.backward();
        adam.step();
        if (steps++ % 50 == 0) {  // item() synchronizes: sample the loss only now and then
          loss_sum += loss.item<double>();
          ++sampled;
        }
      }
      schedule.step();
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      double acc = accuracy(model, xte, yte, 1000);
      std::printf("epoch %d  lr %.4f  loss %.4f  %.1fs  test accuracy %.2f%%\n", epoch, lr,
                  loss_sum / std::max<int64_t>(sampled, 1), secs, 100 * acc);
      std::fflush(stdout);
      if (epoch == opt.epochs) {
        std::printf("final test accuracy: %.2f%%\n", 100 * acc);
        if (opt.min_accuracy >= 0 && acc < opt.min_accuracy) {
          std::printf("below the required %.2f%%\n", 100 * opt.min_accuracy);
          return 1;
        }
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}

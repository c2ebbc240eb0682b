// Trains a small CNN (or, with --model mlp, a two-layer perceptron) on
// Fashion-MNIST (Debian's dataset-fashion-mnist) with loom's kernels and
// autograd, and prints the test accuracy. The CNN: conv 3x3 (1->16) + ReLU +
// max-pool 2, conv 3x3 (16->32) + ReLU + max-pool 2, linear 1568->10; fused
// cross-entropy; the fused Adam update.
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
#include "autograd/ops/conv.h"
#include "autograd/ops/fusion.h"
#include "autograd/ops/loss.h"
#include "autograd/ops/optim.h"
#include "autograd/ops/pool.h"
#include "core/tensor.h"

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
  while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0) out.insert(out.end(), buf.begin(), buf.begin() + n);
  gzclose(f);
  return n == 0;
}

uint32_t be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }

// IDX files: images [n, 28, 28] uint8 -> float32 [n, 784] in [0, 1]; labels -> int64.
bool load_split(const std::string& dir, const std::string& prefix, int64_t limit, Tensor& images, Tensor& labels) {
  std::vector<uint8_t> img, lab;
  if (!read_gz(dir + "/" + prefix + "-images-idx3-ubyte.gz", img) || !read_gz(dir + "/" + prefix + "-labels-idx1-ubyte.gz", lab))
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
  images = from_vector(x, {n, d});
  labels = from_vector(y, {n});
  return true;
}

// Parameters initialised as torch.nn's defaults (uniform in +-1/sqrt(fan_in)).
Tensor uniform_param(const Shape& shape, int64_t fan_in, Device dev) {
  double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return ((rand(shape) * 2.0 - 1.0) * bound).to(dev).requires_grad_();
}

struct Model {
  bool cnn;
  TensorList params;

  Model(bool use_cnn, Device dev) : cnn(use_cnn) {
    if (cnn) {
      params = {uniform_param({16, 1, 3, 3}, 9, dev),       uniform_param({16}, 9, dev),
                uniform_param({32, 16, 3, 3}, 144, dev),    uniform_param({32}, 144, dev),
                uniform_param({10, 32 * 7 * 7}, 1568, dev), uniform_param({10}, 1568, dev)};
    } else {
      params = {uniform_param({256, 784}, 784, dev), uniform_param({256}, 784, dev),
                uniform_param({10, 256}, 256, dev), uniform_param({10}, 256, dev)};
    }
  }

  // x: [n, 784] in [0, 1] -> logits [n, 10]
  Tensor operator()(const Tensor& x) const {
    if (!cnn) return linear(linear(x, params[0], params[1], "relu"), params[2], params[3]);
    Tensor h = x.view({x.size(0), 1, 28, 28});
    h = max_pool2d(conv2d(h, params[0], params[1], {1}, {1}).relu(), {2});
    h = max_pool2d(conv2d(h, params[2], params[3], {1}, {1}).relu(), {2});
    return linear(h.flatten(1), params[4], params[5]);
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
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw Error(ErrorKind::Value, "missing value after " + a);
      return argv[++i];
    };
    if (a == "--model") o.model = next();
    else if (a == "--epochs") o.epochs = std::stoi(next());
    else if (a == "--batch") o.batch = std::stoll(next());
    else if (a == "--lr") o.lr = std::stod(next());
    else if (a == "--train-limit") o.train_limit = std::stoll(next());
    else if (a == "--test-limit") o.test_limit = std::stoll(next());
    else if (a == "--device") o.device = next();
    else if (a == "--data-dir") o.data_dir = next();
    else if (a == "--min-accuracy") o.min_accuracy = std::stod(next());
    else throw Error(ErrorKind::Value, "unknown option " + a);
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

    Model model(opt.model == "cnn", dev);
    TensorList exp_avg, exp_avg_sq;
    for (auto& p : model.params) {
      exp_avg.push_back(zeros_like(p));
      exp_avg_sq.push_back(zeros_like(p));
    }
    int64_t step = 0;

    for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
      auto t0 = std::chrono::steady_clock::now();
      Tensor perm = randperm(n).to(dev);
      double loss_sum = 0;
      int64_t steps = 0, sampled = 0;
      double lr = opt.lr * 0.5 * (1 + std::cos(M_PI * (epoch - 1) / opt.epochs));  // cosine decay per epoch
      for (int64_t s = 0; s + opt.batch <= n; s += opt.batch) {
        Tensor idx = perm.narrow(0, s, opt.batch);
        Tensor loss = cross_entropy(model(xtr.index_select(0, idx)), ytr.index_select(0, idx));
        for (auto& p : model.params) p.set_grad(Tensor());
        loss.backward();
        TensorList grads;
        for (auto& p : model.params) grads.push_back(p.grad());
        adam_step_(model.params, grads, exp_avg, exp_avg_sq, ++step, lr, 0.9, 0.999, 1e-8, 0.0, false);
        if (steps++ % 50 == 0) {  // item() synchronizes: sample the loss only now and then
          loss_sum += loss.item<double>();
          ++sampled;
        }
      }
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

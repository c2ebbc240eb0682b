// SPEC.md's end-to-end cases: one training step of the CLIP-style dual
// encoders of multimodal/clip.h (zero_grad, forward to the loss, backward,
// AdamW step with lr 1e-3) on random images [B, 3, 64, 64] and random tokens
// [B, 32] over a vocabulary of 1,000.
//   CPU: cpu/e2e/fp32/clip_{transformer,lstm}/train_step/B32, 5 timed steps
//        after 1 warm-up, as shared/bench/torch_cpu_reference.py.
//   GPU: e2e/{fp32,tf32}/clip_{transformer,lstm}/train_step/B256, 30 timed
//        steps after 5 warm-up, as torch_reference.py's eager form; tf32 sets
//        loom's allow_tf32 for the whole step (the GEMMs and convolutions
//        that honour it), fp32 clears it.
// Rows carry ms, samples_per_s and params; GPU rows also peak_mib (one more
// step) and first_step_s (the first step, synchronised: allocator warm-up
// and one-time setup included).
#include <chrono>
#include <cmath>
#include <memory>
#include <string>

#include "bench.h"
#include "core/cuda.h"
#include "multimodal/clip.h"
#include "nn/optim/adam.h"

namespace bench {

using loom::Tensor;

namespace {

constexpr int64_t kVocab = 1000, kLen = 32, kImage = 64;

struct TrainStep {
  loom::multimodal::CLIP model;
  std::unique_ptr<loom::optim::AdamW> opt;
  Tensor images, tokens;

  TrainStep(const std::string& text, int64_t B, loom::Device dev) : model(text) {
    model.to(dev);
    auto o = loom::optim::AdamW::default_options();  // weight decay 1e-2, as torch.optim.AdamW
    o.lr = 1e-3;
    opt = std::make_unique<loom::optim::AdamW>(model.parameters(), o);
    images = loom::randn({B, 3, kImage, kImage}, loom::TensorOptions(dev));
    tokens = loom::randint(0, kVocab, {B, kLen}, loom::TensorOptions(loom::DType::Int64, dev));
  }
  void operator()() {
    opt->zero_grad();
    model.forward(images, tokens).backward();
    opt->step();
  }
};

Row e2e_row(const TrainStep& s, double ms) {
  const double samples = static_cast<double>(s.images.size(0));
  return Row()
      .integer("samples_per_s", std::llround(samples / ms * 1000.0))
      .integer("params", s.model.num_parameters());
}

}  // namespace

void run_e2e_cases(const Context& ctx, bool gpu) {
  for (const char* text : {"transformer", "lstm"}) {
    if (!gpu) {
      const std::string name = std::string("cpu/e2e/fp32/clip_") + text + "/train_step/B32";
      ctx.run(name, [&] {
        loom::manual_seed(0);
        TrainStep step(text, 32, loom::kCPU());
        const double ms = time_cpu([&] { step(); }, ctx.iters_or(5), 1);
        ctx.report(name, ms, 0, 0, e2e_row(step, ms).integer("threads", loom::get_num_threads()));
      });
      continue;
    }
    for (const char* prec : {"fp32", "tf32"}) {
      const std::string name = std::string("e2e/") + prec + "/clip_" + text + "/train_step/B256";
      ctx.run(name, [&] {
        loom::set_allow_tf32(std::string(prec) == "tf32");
        loom::manual_seed(0);
        TrainStep step(text, 256, loom::Device(loom::DeviceType::CUDA, loom::cuda::current_device()));
        const auto t0 = std::chrono::steady_clock::now();
        step();
        loom::cuda::synchronize();
        const double first_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double ms = time_gpu([&] { step(); }, ctx.iters_or(30), 5);
        const double peak = gpu_peak_mib([&] { step(); });
        ctx.report(name, ms, 0, 0, e2e_row(step, ms).fixed("peak_mib", peak, 1).fixed("first_step_s", first_s, 2));
      });
      loom::set_allow_tf32(false);
      loom::cuda::empty_cache();
    }
  }
}

}  // namespace bench

// loom's main multimodal demo in C++ (the same job as examples/shapes_demo.py): on the procedural Shapes
// dataset (multimodal/shapes.h), trains a dual encoder (caption <-> image retrieval, CLIP-style) and a VQA model
// (question answering with cross-attention fusion) that share one VGG image encoder, evaluates them against the
// caption oracle (multimodal/shapes_eval.h) and writes pictures, logs and checkpoints under --out.
//
//   shapes_demo [--device auto|cpu|cuda] [--out runs/shapes-cpp] [--seed 0] [--epochs 12] [--steps-per-epoch 80]
//               [--batch-size 128] [--questions 4] [--lr 5e-3] [--vqa-weight 1] [--image-size 48]
//               [--test-images 1000] [--val-images 300] [--workers 1] [--position fourier|none] [--check] [--quick]
//
// Models: VGGEncoder [16, M, 32, M, 64, M, 128] with BatchNorm and a global max-pool; captions through a
// bidirectional GRU (RNNTextEncoder) into a DualEncoder with that image encoder; questions through another
// bidirectional GRU into a VQAModel whose question tokens attend over the encoder's 6x6 feature map. Each step
// takes a batch of fresh scenes (rendered by the DataLoader's worker threads), adds the contrastive loss over all
// their captions (a caption's positive is its image; an image's positives are all its captions) to the
// cross-entropy of their questions, and computes the image features once for both. nn::Trainer runs the loop
// (AdamW, one-cycle schedule per step, a JSONL log, a validation callback).
//
// Evaluation on held-out test images: text->image and image->text retrieval with scene queries (all of an image's
// captions) and single captions against the oracle's ceilings, word-order probes, zero-shot classification of
// shape, colour and object count from prompts, VQA accuracy by question type on the test and the compositional
// split. (The Python demo adds two baselines, a bag-of-words caption encoder and a question-only VQA model.)
// Writes metrics.jsonl, summary.json, dual_encoder.safetensors, vqa.safetensors, tokenizer.txt, curves.png,
// retrieval_sheet.png, attention.png and vqa_confusion.png. With --check, exits 1 when a threshold is missed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "cli.h"
#include "core/cuda.h"
#include "core/tensor.h"
#include "multimodal/metrics.h"
#include "multimodal/models.h"
#include "multimodal/shapes.h"
#include "multimodal/shapes_eval.h"
#include "multimodal/tokenizer.h"
#include "nn/functional/losses.h"
#include "nn/optim/adam.h"
#include "nn/optim/lr_scheduler.h"
#include "nn/serialization.h"
#include "nn/trainer.h"
#include "shapes_pictures.h"

using namespace loom;
using namespace loom::multimodal;
namespace F = loom::nn::functional;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kPool = VGGEncoder::kPool;
constexpr int64_t kEmbedDim = 128;   // the joint space: the image encoder's projection and the caption encoder's output
constexpr int64_t kTextHidden = 96;  // each direction of the GRUs; also the VQA model's width
constexpr int64_t kMaxLen = 20;      // tokens with <bos> / <eos>; batches are cut to their longest text
constexpr int64_t kEvalBatch = 500;

struct Options {
  std::string device = "auto", out = "runs/shapes-cpp";
  uint64_t seed = 0;
  int64_t epochs = 12, steps_per_epoch = 80, batch_size = 128, questions = 4;
  double lr = 5e-3, vqa_weight = 1.0;
  int64_t image_size = 48, test_images = 1000, val_images = 300, workers = 1;
  std::string position = "none";  // the VQA model's cell positions: "none" or "fourier"
  bool check = false, quick = false;
};

// Pass marks with the default options (docs/multimodal.md, "The main job: Shapes").
const std::vector<std::pair<std::string, double>> kThresholds = {{"retrieval.scene.text_to_image.R@1", 0.45},
                                                                 {"retrieval.scene.text_to_image.R@10", 0.90},
                                                                 {"retrieval.word_order.binding", 0.65},
                                                                 {"zero_shot.shape", 0.90},
                                                                 {"vqa.test.overall", 0.80},
                                                                 {"vqa.compositional.overall", 0.60}};

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// int64 [texts, L], L the longest text of the batch (right-padded with <pad> = 0).
Tensor encode(const WordTokenizer& tok, const std::vector<std::string>& texts, Device device) {
  std::vector<std::vector<int64_t>> rows;
  int64_t longest = 1;
  for (const std::string& t : texts) {
    rows.push_back(tok.encode(t, kMaxLen));
    longest = std::max<int64_t>(
        longest, std::count_if(rows.back().begin(), rows.back().end(), [](int64_t id) { return id != 0; }));
  }
  std::vector<int64_t> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.begin() + longest);
  return from_vector(flat, {static_cast<int64_t>(texts.size()), longest}).to(device);
}

Tensor ids_tensor(const std::vector<int64_t>& v, Device device) {
  return from_vector(v, {static_cast<int64_t>(v.size())}).to(device);
}

int64_t answer_id(const std::string& a) {
  const auto& vocab = ShapesDataset::answer_vocab();
  return std::find(vocab.begin(), vocab.end(), a) - vocab.begin();
}

// Batch b of epoch e is scenes [(e * steps + b) * B, ... + B) of the training split: no image is seen twice.
class EpochScenes : public Dataset {
 public:
  EpochScenes(std::shared_ptr<const ShapesDataset> shapes, int64_t per_epoch)
      : shapes_(std::move(shapes)), per_epoch_(per_epoch) {}
  int64_t size() const override { return per_epoch_; }
  Example get(int64_t i) const override { return shapes_->get(offset() + i); }
  void set_epoch(int64_t e) { epoch_ = e; }
  int64_t epoch() const { return epoch_; }
  int64_t offset() const { return epoch_ * per_epoch_; }
  const ShapesDataset& shapes() const { return *shapes_; }

 private:
  std::shared_ptr<const ShapesDataset> shapes_;
  int64_t per_epoch_;
  std::atomic<int64_t> epoch_{0};
};

// Holds the two models for the Trainer (the image encoder belongs to both).
struct SharedTraining : nn::Module {
  SharedTraining(std::shared_ptr<VQAModel> vqa, std::shared_ptr<DualEncoder> dual) : nn::Module("SharedTraining") {
    register_module("vqa", std::move(vqa));
    register_module("dual", std::move(dual));
  }
};

struct Models {
  std::shared_ptr<VGGEncoder> img;
  std::shared_ptr<DualEncoder> dual;
  std::shared_ptr<VQAModel> vqa;
};

Models build_models(int64_t vocab, const std::string& position) {
  Models m;
  m.img = std::make_shared<VGGEncoder>(std::vector<int64_t>{16, kPool, 32, kPool, 64, kPool, 128}, 3, kEmbedDim,
                                       "batch", "relu", "max");
  auto captions = std::make_shared<RNNTextEncoder>(vocab, 64, kTextHidden, 1, "gru", true, kEmbedDim);
  // embed_dim 0: no projections, so encode_image(x) == normalize(img.project(img.forward_features(x))).
  m.dual = std::make_shared<DualEncoder>(m.img, captions, 0, 0.07);
  auto questions = std::make_shared<RNNTextEncoder>(vocab, 64, kTextHidden, 1, "gru", true, kTextHidden);
  m.vqa = std::make_shared<VQAModel>(m.img, questions, "cross_attention", kTextHidden,
                                     static_cast<int64_t>(ShapesDataset::answer_vocab().size()), 0.0, 0.0, 4, position);
  return m;
}

// logits [B, T] between B images and their T captions (caption t belongs to image owner[t]): cross-entropy of each
// caption over the images, plus, for each image, -log of the softmax mass on its own captions.
Tensor scene_contrastive_loss(const Tensor& logits, const Tensor& owner) {
  const int64_t b = logits.size(0);
  const Tensor text_to_image = F::cross_entropy(logits.t(), owner);
  const Tensor mine = owner.view({1, -1}).eq(arange(b, TensorOptions(DType::Int64, logits.device())).view({-1, 1}));
  const Tensor image_to_text = logits.logsumexp({1}) - logits.masked_fill(mine.logical_not(), -INFINITY).logsumexp({1});
  return (text_to_image + image_to_text.mean()) * 0.5;
}

// One training step's forward: the loss and, kept for the curves, (contrastive, VQA loss, VQA accuracy).
struct TrainStep {
  Models m;
  std::shared_ptr<EpochScenes> data;
  const WordTokenizer* tok;
  Options o;
  std::vector<Tensor> pending;  // per step, read once per epoch
  std::vector<std::array<double, 3>> steps;

  std::pair<Tensor, Tensor> operator()(nn::Module&, const Batch& batch) {
    const Device dev = batch.images.device();
    const int64_t b = batch.indices.front() / o.batch_size;
    std::vector<int64_t> ids;
    for (int64_t i : batch.indices) ids.push_back(data->offset() + i);
    std::vector<std::string> captions, questions;
    std::vector<int64_t> caption_owner, question_owner, answers;
    const auto caps = data->shapes().captions(ids);
    std::mt19937_64 rng(o.seed * 1000003 + data->epoch() * 10007 + b);
    for (size_t i = 0; i < ids.size(); ++i) {
      for (const std::string& c : caps[i]) {
        captions.push_back(c);
        caption_owner.push_back(static_cast<int64_t>(i));
      }
      std::vector<ShapesQuestion> qs = data->shapes().questions(ids[i]);
      std::shuffle(qs.begin(), qs.end(), rng);
      for (size_t k = 0; k < std::min<size_t>(o.questions, qs.size()); ++k) {
        questions.push_back(qs[k].question);
        answers.push_back(answer_id(qs[k].answer));
        question_owner.push_back(static_cast<int64_t>(i));
      }
    }
    const Tensor feats = m.img->forward_features(batch.images);  // [B, 128, 6, 6]
    const Tensor image_emb = F::normalize(m.img->project(feats));
    const Tensor text_emb = m.dual->encode_text(encode(*tok, captions, dev));
    const Tensor logits = image_emb.matmul(text_emb.t()) * m.dual->logit_scale().exp();
    const Tensor clip = scene_contrastive_loss(logits, ids_tensor(caption_owner, dev));
    const TextSequence seq = m.vqa->txt->forward_sequence(encode(*tok, questions, dev));
    const Tensor target = ids_tensor(answers, dev);
    const Tensor scores =
        m.vqa->classify({feats.index_select(0, ids_tensor(question_owner, dev)), seq.states, seq.padding_mask});
    const Tensor qa = F::cross_entropy(scores, target);
    const Tensor correct = scores.argmax(1).eq(target).to(DType::Float32).mean();
    pending.push_back(stack({clip.detach(), qa.detach(), correct.detach()}));
    return {clip + qa * o.vqa_weight, target};
  }

  // Moves the pending per-step values to `steps`; returns the means of those.
  std::array<double, 3> flush() {
    std::array<double, 3> mean{0, 0, 0};
    if (pending.empty()) return mean;
    const std::vector<double> v = stack(pending).to_vector();
    for (size_t s = 0; s < pending.size(); ++s) {
      steps.push_back({v[3 * s], v[3 * s + 1], v[3 * s + 2]});
      for (int k = 0; k < 3; ++k) mean[k] += v[3 * s + k] / static_cast<double>(pending.size());
    }
    pending.clear();
    return mean;
  }
};

// (feature maps, normalised embeddings) of images [N, 3, S, S], kEvalBatch at a time.
std::pair<Tensor, Tensor> image_features(const VGGEncoder& img, const Tensor& images, Device device) {
  autograd::NoGradGuard no_grad;
  TensorList maps, embs;
  for (int64_t s = 0; s < images.size(0); s += kEvalBatch) {
    const Tensor f = img.forward_features(images.slice(0, s, std::min(images.size(0), s + kEvalBatch)).to(device));
    maps.push_back(f);
    embs.push_back(F::normalize(img.project(f)));
  }
  return {cat(maps), cat(embs)};
}

Tensor text_embeddings(const DualEncoder& dual, const WordTokenizer& tok, const std::vector<std::string>& texts,
                       Device device) {
  autograd::NoGradGuard no_grad;
  TensorList out;
  for (size_t s = 0; s < texts.size(); s += 2000) {
    const std::vector<std::string> part(texts.begin() + s, texts.begin() + std::min(texts.size(), s + 2000));
    out.push_back(dual.encode_text(encode(tok, part, device)));
  }
  return cat(out);
}

struct Questions {
  std::vector<std::string> text, types;
  std::vector<int64_t> answers, owner;
};

Questions questions_of(const ShapesDataset& data, int64_t n) {
  Questions q;
  for (int64_t i = 0; i < n; ++i)
    for (const ShapesQuestion& e : data.questions(i)) {
      q.text.push_back(e.question);
      q.types.push_back(e.type);
      q.answers.push_back(answer_id(e.answer));
      q.owner.push_back(i);
    }
  return q;
}

// Predicted answer ids (int64 [Q], CPU) for questions about the images whose feature maps are given.
Tensor answer_questions(const VQAModel& vqa, const Tensor& maps, const WordTokenizer& tok, const Questions& q,
                        Device device) {
  autograd::NoGradGuard no_grad;
  TensorList preds;
  for (size_t s = 0; s < q.text.size(); s += 2000) {
    const size_t e = std::min(q.text.size(), s + 2000);
    const TextSequence seq = vqa.txt->forward_sequence(
        encode(tok, std::vector<std::string>(q.text.begin() + s, q.text.begin() + e), device));
    const Tensor rows = ids_tensor(std::vector<int64_t>(q.owner.begin() + s, q.owner.begin() + e), device);
    preds.push_back(vqa.classify({maps.index_select(0, rows), seq.states, seq.padding_mask}).argmax(1).cpu());
  }
  return cat(preds);
}

void add_vqa(std::map<std::string, double>& out, const std::string& prefix, const Tensor& pred, const Questions& q) {
  const VqaAccuracy acc = vqa_accuracy(pred, from_vector(q.answers, {static_cast<int64_t>(q.answers.size())}), q.types);
  out[prefix + ".overall"] = acc.overall;
  for (const auto& [type, v] : acc.per_type) out[prefix + "." + type] = v;
}

std::string article(const std::string& w) {
  return (std::string("aeiou").find(w[0]) != std::string::npos ? "an " : "a ") + w;
}

// Zero-shot accuracy of the nearest prompt: shape and colour of single-object images, number of objects of any.
void zero_shot(std::map<std::string, double>& out, const Models& m, const WordTokenizer& tok,
               const ShapesDataset& single, const ShapesDataset& counted, int64_t n, Device device) {
  std::vector<int64_t> idx(n);
  for (int64_t i = 0; i < n; ++i) idx[i] = i;
  const Tensor emb = image_features(*m.img, single.images(idx), device).second;
  std::vector<int64_t> shapes, colors, counts;
  for (int64_t i = 0; i < n; ++i) {
    shapes.push_back(single.objects(i)[0].shape);
    colors.push_back(single.objects(i)[0].color);
    counts.push_back(static_cast<int64_t>(counted.objects(i).size()) - 1);
  }
  std::vector<std::string> shape_prompts, color_prompts;
  for (const auto& s : ShapesDataset::shape_names()) shape_prompts.push_back(article(s));
  for (const auto& c : ShapesDataset::color_names()) color_prompts.push_back(article(c + " shape"));
  out["zero_shot.shape"] =
      zero_shot_accuracy(emb, text_embeddings(*m.dual, tok, shape_prompts, device), ids_tensor(shapes, device));
  out["zero_shot.color"] =
      zero_shot_accuracy(emb, text_embeddings(*m.dual, tok, color_prompts, device), ids_tensor(colors, device));
  const Tensor counted_emb = image_features(*m.img, counted.images(idx), device).second;
  out["zero_shot.count"] = zero_shot_accuracy(
      counted_emb, text_embeddings(*m.dual, tok, {"one shape", "two shapes", "three shapes", "four shapes"}, device),
      ids_tensor(counts, device));
}

// After each epoch: the epoch's training means, and VQA accuracy and scene-query text->image R@1 / R@10 on
// validation scenes; the values join the epoch's logs (so metrics.jsonl has them) and one line is printed.
class Validation : public nn::Callback {
 public:
  Validation(TrainStep& step, const ShapesDataset& val, int64_t n, const WordTokenizer& tok)
      : step_(step), retrieval_(val, n), questions_(questions_of(val, n)), tok_(tok) {
    std::vector<int64_t> idx(n);
    for (int64_t i = 0; i < n; ++i) idx[i] = i;
    images_ = val.images(idx);
  }
  void on_epoch_begin(nn::Trainer&, int64_t epoch) override { step_.data->set_epoch(epoch); }
  void on_epoch_end(nn::Trainer& trainer, int64_t epoch, nn::Logs& logs) override {
    const auto mean = step_.flush();
    logs["train_contrastive"] = mean[0];
    logs["train_vqa"] = mean[1];
    logs["train_vqa_acc"] = mean[2];
    trainer.model().eval();
    const Device dev = trainer.device();
    const auto [maps, emb] = image_features(*step_.m.img, images_, dev);
    const double scale = step_.m.dual->logit_scale().exp().item<double>();
    const auto scores =
        retrieval_.score(emb, text_embeddings(*step_.m.dual, tok_, retrieval_.texts(), dev), scale, {1, 10});
    const Tensor pred = answer_questions(*step_.m.vqa, maps, tok_, questions_, dev);
    const VqaAccuracy acc = vqa_accuracy(pred, from_vector(questions_.answers, {pred.size(0)}));
    logs["val_scene_r1"] = scores.metrics.at("scene.text_to_image.R@1");
    logs["val_scene_r10"] = scores.metrics.at("scene.text_to_image.R@10");
    logs["val_vqa_acc"] = acc.overall;
    logs["logit_scale"] = scale;
    epochs.push_back(
        {static_cast<double>(step_.steps.size()), logs["val_vqa_acc"], logs["val_scene_r1"], logs["val_scene_r10"]});
    std::printf(
        "  epoch %lld: train contrastive %.3f  VQA loss %.3f  VQA acc %.1f%%  |  validation: text->image R@1 "
        "%.1f%%  R@10 %.1f%%  VQA %.1f%%\n",
        static_cast<long long>(epoch + 1), mean[0], mean[1], 100 * mean[2], 100 * logs["val_scene_r1"],
        100 * logs["val_scene_r10"], 100 * acc.overall);
    std::fflush(stdout);
    trainer.model().train();
  }
  double ceiling_r1() const { return retrieval_.ceilings({1}).at("scene.text_to_image.R@1"); }
  std::vector<pictures::EpochPoint> epochs;

 private:
  TrainStep& step_;
  ShapesRetrieval retrieval_;
  Questions questions_;
  const WordTokenizer& tok_;
  Tensor images_;
};

Options parse(int argc, char** argv) {
  Options o;
  examples::Flags f(argc, argv);
  while (f.next()) {
    if (f.is("--device")) o.device = f.value();
    else if (f.is("--out")) o.out = f.value();
    else if (f.is("--seed")) o.seed = std::stoull(f.value());
    else if (f.is("--epochs")) o.epochs = std::stoll(f.value());
    else if (f.is("--steps-per-epoch")) o.steps_per_epoch = std::stoll(f.value());
    else if (f.is("--batch-size")) o.batch_size = std::stoll(f.value());
    else if (f.is("--questions")) o.questions = std::stoll(f.value());
    else if (f.is("--lr")) o.lr = std::stod(f.value());
    else if (f.is("--vqa-weight")) o.vqa_weight = std::stod(f.value());
    else if (f.is("--image-size")) o.image_size = std::stoll(f.value());
    else if (f.is("--test-images")) o.test_images = std::stoll(f.value());
    else if (f.is("--val-images")) o.val_images = std::stoll(f.value());
    else if (f.is("--workers")) o.workers = std::stoll(f.value());
    else if (f.is("--position")) o.position = f.value();
    else if (f.is("--check")) o.check = true;
    else if (f.is("--quick")) o.quick = true;
    else f.unknown();
  }
  if (o.quick) {
    o.epochs = 2;
    o.steps_per_epoch = 3;
    o.batch_size = 32;
    o.test_images = 100;
    o.val_images = 40;
  }
  return o;
}

int run(const Options& o) {
  const auto t_start = Clock::now();
  const Device device(o.device == "cuda" || (o.device == "auto" && cuda::is_available()) ? "cuda" : "cpu");
  std::filesystem::create_directories(o.out);
  manual_seed(o.seed);
  const int64_t steps = o.epochs * o.steps_per_epoch;

  WordTokenizer tok;
  tok.build(ShapesDataset::vocabulary());  // every token that captions and questions can contain
  ShapesConfig config;
  config.image_size = o.image_size;
  config.seed = o.seed;
  auto train = std::make_shared<ShapesDataset>(steps * o.batch_size, "train", config);
  ShapesDataset test(o.test_images, "test", config), comp(o.test_images, "compositional", config);
  ShapesConfig other = config;
  other.seed = o.seed + 1;
  ShapesDataset val(o.val_images, "test", other);  // unseen scenes, not the test set
  other.seed = o.seed + 2;
  other.min_objects = other.max_objects = 1;
  ShapesDataset single(o.test_images, "test", other);

  Models m = build_models(tok.vocab_size(), o.position);
  SharedTraining model(m.vqa, m.dual);
  TensorList decay, no_decay;  // biases, norms and logit_scale get no weight decay
  std::vector<const void*> seen;
  for (const Tensor& p : model.parameters()) {
    if (std::find(seen.begin(), seen.end(), p.data_ptr()) != seen.end()) continue;  // the shared encoder: once
    seen.push_back(p.data_ptr());
    (p.dim() >= 2 ? decay : no_decay).push_back(p);
  }
  int64_t n_params = 0;
  for (const auto* list : {&decay, &no_decay})
    for (const Tensor& p : *list) n_params += p.numel();
  optim::AdamOptions adam = optim::AdamW::default_options();
  adam.lr = o.lr;
  optim::AdamW opt(
      {optim::ParamGroup(decay, {{"weight_decay", 0.05}}), optim::ParamGroup(no_decay, {{"weight_decay", 0.0}})}, adam);
  optim::OneCycleOptions cycle;
  cycle.pct_start = 0.15;
  optim::OneCycleLR sched(opt, o.lr, steps, cycle);
  std::printf(
      "Shapes %lldx%lld, 1-4 objects: %lld steps x %lld scenes (all their captions, %lld questions each); "
      "%lld parameters (image encoder %lld); device %s, %d threads\n",
      static_cast<long long>(o.image_size), static_cast<long long>(o.image_size), static_cast<long long>(steps),
      static_cast<long long>(o.batch_size), static_cast<long long>(o.questions), static_cast<long long>(n_params),
      static_cast<long long>(m.img->num_parameters()), device.str().c_str(), get_num_threads());

  auto data = std::make_shared<EpochScenes>(train, o.steps_per_epoch * o.batch_size);
  DataLoader loader(data, o.batch_size, false, o.seed, false, o.workers);
  TrainStep step{m, data, &tok, o, {}, {}};
  nn::TrainerOptions topts;
  topts.device = device.str();
  topts.verbose = 2;
  nn::Trainer trainer(
      model, opt, [](const Tensor& loss, const Tensor&) { return loss; }, topts,
      [&step](nn::Module& mod, const Batch& b) { return step(mod, b); });
  auto validation = std::make_shared<Validation>(step, val, o.val_images, tok);
  auto t0 = Clock::now();
  trainer.fit(loader, o.epochs,
              {std::make_shared<nn::LRSchedulerCallback>(sched, true), validation,
               std::make_shared<nn::JSONLLogger>(o.out + "/metrics.jsonl")});
  const double train_seconds = since(t0);

  // ---- evaluation
  t0 = Clock::now();
  model.eval();
  std::map<std::string, double> s;  // the summary, flat ("retrieval.scene.text_to_image.R@1", ...)
  ShapesRetrieval ret(test, o.test_images);
  for (const auto& [k, v] : ret.ceilings()) s["ceilings." + k] = v;
  std::vector<int64_t> idx(o.test_images);
  for (int64_t i = 0; i < o.test_images; ++i) idx[i] = i;
  const Tensor test_images = test.images(idx);
  const auto [maps, image_emb] = image_features(*m.img, test_images, device);
  const Tensor text_emb = text_embeddings(*m.dual, tok, ret.texts(), device);
  const auto scores = ret.score(image_emb, text_emb, m.dual->logit_scale().exp().item<double>());
  for (const auto& [k, v] : scores.metrics) s["retrieval." + k] = v;
  for (const auto& [name, probes] : ret.order_probes()) {
    std::vector<std::string> rewordings;
    for (const auto& p : probes) rewordings.push_back(p.rewording);
    if (probes.empty()) continue;
    s["retrieval.word_order." + name] =
        ret.probe_accuracy(probes, image_emb, text_emb, text_embeddings(*m.dual, tok, rewordings, device));
    s["retrieval.word_order." + name + "_probes"] = static_cast<double>(probes.size());
  }
  zero_shot(s, m, tok, single, test, o.test_images, device);
  const Questions tq = questions_of(test, o.test_images), cq = questions_of(comp, o.test_images);
  const Tensor test_pred = answer_questions(*m.vqa, maps, tok, tq, device);
  add_vqa(s, "vqa.test", test_pred, tq);
  const Tensor comp_maps = image_features(*m.img, comp.images(idx), device).first;
  add_vqa(s, "vqa.compositional", answer_questions(*m.vqa, comp_maps, tok, cq, device), cq);
  const double eval_seconds = since(t0);

  // ---- outputs
  t0 = Clock::now();
  nn::save(m.dual->state_dict(), o.out + "/dual_encoder.safetensors");
  nn::save(m.vqa->state_dict(), o.out + "/vqa.safetensors");
  tok.save(o.out + "/tokenizer.txt");
  pictures::curves(o.out + "/curves.png", step.steps, validation->epochs, validation->ceiling_r1(), o.val_images);
  pictures::retrieval_sheet(o.out + "/retrieval_sheet.png", test_images, ret, scores.scene, scores.caption_logits,
                            {0, 1, 2}, {3, 4});
  std::vector<pictures::QuestionExample> examples;
  for (const char* type : {"color", "shape", "count", "exist", "relation"})
    for (size_t k = 0; k < tq.text.size(); ++k)
      if (tq.types[k] == type &&
          std::none_of(examples.begin(), examples.end(), [&](const auto& e) { return e.image == tq.owner[k]; })) {
        examples.push_back({tq.owner[k], tq.text[k], tq.answers[k]});
        break;
      }
  pictures::attention(
      o.out + "/attention.png", *m.vqa, test, [&](const std::string& q) { return encode(tok, {q}, device); }, examples,
      device);
  pictures::confusion(o.out + "/vqa_confusion.png", test_pred, tq.answers);
  const double output_seconds = since(t0);

  // ---- report
  auto pct = [](double v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%5.1f%%", 100 * v);
    return std::string(buf);
  };
  std::printf("\n== Shapes: %lld held-out test images ==\n", static_cast<long long>(o.test_images));
  std::printf(
      "retrieval (in brackets: the truth oracle; a scene query fits %.2f of the images, a single caption "
      "%.0f):\n",
      s["ceilings.scene.images_per_query"], s["ceilings.caption.images_per_query"]);
  for (const auto& [name, key] :
       std::vector<std::pair<std::string, std::string>>{{"text->image, scene queries  ", "scene.text_to_image"},
                                                        {"image->text, scene captions ", "scene.image_to_text"},
                                                        {"text->image, single captions", "caption.text_to_image"}}) {
    std::printf("  %s", name.c_str());
    for (int k : {1, 5, 10}) {
      const std::string r = ".R@" + std::to_string(k);
      std::printf("  R@%d %s [%s]", k, pct(s["retrieval." + key + r]).c_str(), pct(s["ceilings." + key + r]).c_str());
    }
    std::printf("  top-1 fits %s\n", pct(s["retrieval." + key + ".top1_fits"]).c_str());
  }
  std::printf("  word order (the image prefers its caption to the same words reordered): binding %s, relation %s\n",
              pct(s["retrieval.word_order.binding"]).c_str(), pct(s["retrieval.word_order.relation"]).c_str());
  std::printf("zero-shot: shape %s, colour %s, number of objects %s\n", pct(s["zero_shot.shape"]).c_str(),
              pct(s["zero_shot.color"]).c_str(), pct(s["zero_shot.count"]).c_str());
  for (const char* split : {"test", "compositional"}) {
    const std::string p = std::string("vqa.") + split;
    std::printf("VQA %-13s %s ", split, pct(s[p + ".overall"]).c_str());
    for (const auto& t : ShapesDataset::question_types())
      if (s.count(p + "." + t)) std::printf(" %s %s", t.c_str(), pct(s[p + "." + t]).c_str());
    std::printf("\n");
  }
  std::vector<std::string> failed;
  std::printf("thresholds:%s\n", o.quick ? " (they apply to the default run; --quick only exercises the code)" : "");
  for (const auto& [key, mark] : kThresholds) {
    const bool ok = s[key] >= mark;
    if (!ok) failed.push_back(key);
    std::printf("  %s  %s: %s (>= %s)\n", ok ? "PASS" : "FAIL", key.c_str(), pct(s[key]).c_str(), pct(mark).c_str());
    s["thresholds." + key + ".value"] = s[key];
    s["thresholds." + key + ".min"] = mark;
    s["thresholds." + key + ".pass"] = ok;
  }
  s["seconds.train"] = train_seconds;
  s["seconds.evaluation"] = eval_seconds;
  s["seconds.outputs"] = output_seconds;
  s["seconds.total"] = since(t_start);
  s["config.epochs"] = static_cast<double>(o.epochs);
  s["config.steps"] = static_cast<double>(steps);
  s["config.batch_size"] = static_cast<double>(o.batch_size);
  s["config.image_size"] = static_cast<double>(o.image_size);
  s["config.seed"] = static_cast<double>(o.seed);
  s["config.test_images"] = static_cast<double>(o.test_images);
  s["config.threads"] = get_num_threads();
  pictures::write_nested_json(o.out + "/summary.json", s);
  std::printf("time: training %.0fs, evaluation %.0fs, pictures and checkpoints %.0fs; total %.0fs\n", train_seconds,
              eval_seconds, output_seconds, s["seconds.total"]);
  std::printf(
      "wrote %s/: metrics.jsonl summary.json dual_encoder.safetensors vqa.safetensors tokenizer.txt "
      "curves.png retrieval_sheet.png attention.png vqa_confusion.png\n",
      o.out.c_str());
  return o.check && !o.quick && !failed.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "shapes_demo: %s\n", e.what());
    return 2;
  }
}

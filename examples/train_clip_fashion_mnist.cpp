// Trains a CLIP-style dual encoder on Fashion-MNIST (Debian's
// dataset-fashion-mnist) paired with generated captions ("a photo of a
// sneaker", "a pair of trousers on a plain background", ...), then evaluates it
// as retrieval and as a zero-shot classifier. A small CNN embeds the 1x28x28
// images, an LSTM (or a one-layer transformer) embeds the captions, and the
// symmetric contrastive loss loom::clip_loss pulls each image towards its own
// caption and away from the other captions of the batch (in-batch negatives);
// AdamW with a per-step cosine schedule.
//
// Evaluation on the test split, each test image paired with a freshly drawn
// caption: image->text and text->image R@1, R@5 and median rank where a match
// is any caption of the image's class, and zero-shot accuracy, where each
// image gets the class of the nearest of ten prompts "a photo of <class>".
//
//   train_clip_fashion_mnist [--text transformer|lstm] [--epochs N] [--batch-size N] [--lr X]
//                            [--train-limit N] [--test-limit N] [--seed N] [--threads N]
//                            [--data-dir DIR] [--min-zero-shot X]
//
// Exit status 77 when the data set is not installed; 1 when --min-zero-shot is
// given and the final zero-shot accuracy is below it.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops/fusion.h"
#include "autograd/ops/rnn.h"
#include "cli.h"
#include "core/tensor.h"
#include "multimodal/data.h"
#include "multimodal/retrieval.h"
#include "multimodal/tokenizer.h"
#include "nn/nn.h"
#include "nn/optim/adam.h"
#include "nn/optim/lr_scheduler.h"

using namespace loom;
using multimodal::WordTokenizer;

namespace {

constexpr int64_t kEmbedDim = 128;  // the joint embedding space
constexpr int64_t kTextDim = 64;    // token embeddings and the text encoder's width
// The longest caption, "a black-and-white picture of a pair of trousers", is
// 12 tokens; with <bos> and <eos> it fits in 16.
constexpr int64_t kMaxLen = 16;
constexpr int64_t kEvalBatch = 1000;

struct Options {
  std::string text = "lstm";  // a little faster than the transformer on the CPU, as accurate
  int epochs = 3;
  int64_t batch_size = 256;
  double lr = 2e-3;
  int64_t train_limit = -1;
  int64_t test_limit = -1;
  uint64_t seed = 0;
  int threads = 0;  // 0: loom's default
  std::string data_dir = multimodal::kFashionMnistRoot;
  double min_zero_shot = -1;
};

// images [B, 1, 28, 28] -> [B, kEmbedDim]: three conv 3x3 + ReLU + 2x2
// max-pool blocks (28 -> 14 -> 7 -> 3), then a Linear on the flattened map.
// Flattening instead of averaging keeps where on the image a feature is, which
// separates shapes such as sandals and sneakers.
struct ImageEncoder : nn::Module {
  std::shared_ptr<nn::Conv2d> conv1, conv2, conv3;
  std::shared_ptr<nn::MaxPool2d> pool;
  std::shared_ptr<nn::Linear> proj;

  ImageEncoder() : nn::Module("ImageEncoder") {
    conv1 = register_module("conv1", std::make_shared<nn::Conv2d>(1, 16, Dims{3}, Dims{1}, Dims{1}));
    conv2 = register_module("conv2", std::make_shared<nn::Conv2d>(16, 32, Dims{3}, Dims{1}, Dims{1}));
    conv3 = register_module("conv3", std::make_shared<nn::Conv2d>(32, 64, Dims{3}, Dims{1}, Dims{1}));
    pool = register_module("pool", std::make_shared<nn::MaxPool2d>(Dims{2}));
    proj = register_module("proj", std::make_shared<nn::Linear>(64 * 3 * 3, kEmbedDim));
  }

  Tensor forward(const Tensor& images) const {
    Tensor h = pool->forward(conv1->forward(images).relu());
    h = pool->forward(conv2->forward(h).relu());
    h = pool->forward(conv3->forward(h).relu());
    return proj->forward(h.flatten(1));
  }
};

// tokens [B, L] int64, right-padded with <pad> = 0 -> [B, kEmbedDim].
struct TextEncoder : nn::Module {
  using nn::Module::Module;
  virtual Tensor forward(const Tensor& tokens) const = 0;
};

// Token embedding plus a learned position table, one pre-LayerNorm encoder
// layer that ignores the pads (key padding mask), the mean over the real
// tokens, Linear. Pads are left out of the mean so that a caption's embedding
// does not depend on how much padding the batch has.
struct TransformerTextEncoder : TextEncoder {
  std::shared_ptr<nn::Embedding> emb;
  std::shared_ptr<nn::TransformerEncoder> encoder;
  std::shared_ptr<nn::Linear> proj;

  explicit TransformerTextEncoder(int64_t vocab) : TextEncoder("TransformerTextEncoder") {
    emb = register_module("emb", std::make_shared<nn::Embedding>(vocab, kTextDim, WordTokenizer::kPad));
    register_parameter("pos", randn({kMaxLen, kTextDim}) * 0.02);
    nn::TransformerEncoderLayerOptions o;
    o.d_model = kTextDim;
    o.nhead = 4;
    o.dim_feedforward = 2 * kTextDim;
    o.dropout = 0.0;
    o.batch_first = true;
    o.norm_first = true;
    encoder = register_module("encoder", std::make_shared<nn::TransformerEncoder>(o, 1));
    proj = register_module("proj", std::make_shared<nn::Linear>(kTextDim, kEmbedDim));
  }

  Tensor forward(const Tensor& tokens) const override {
    Tensor x = emb->forward(tokens) + param("pos").narrow(0, 0, tokens.size(1));
    Tensor h = encoder->forward(x, {}, multimodal::padding_mask(tokens));
    Tensor keep = tokens.ne(WordTokenizer::kPad).to(DType::Float32).unsqueeze(2);  // [B, L, 1]
    return proj->forward((h * keep).sum({1}) / keep.sum({1}));
  }
};

// Token embedding, one batch-first LSTM layer, its hidden state after the last
// real token, Linear. Passing the caption lengths freezes each state at its
// <eos>, so the trailing pads do not wash out the caption.
struct LSTMTextEncoder : TextEncoder {
  std::shared_ptr<nn::Embedding> emb;
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> proj;

  explicit LSTMTextEncoder(int64_t vocab) : TextEncoder("LSTMTextEncoder") {
    emb = register_module("emb", std::make_shared<nn::Embedding>(vocab, kTextDim, WordTokenizer::kPad));
    lstm = register_module("lstm", std::make_shared<nn::LSTM>(kTextDim, kTextDim, 1, true, /*batch_first=*/true));
    proj = register_module("proj", std::make_shared<nn::Linear>(kTextDim, kEmbedDim));
  }

  Tensor forward(const Tensor& tokens) const override {
    Tensor lengths = tokens.ne(WordTokenizer::kPad).sum({1}, false, DType::Int64);
    RnnOutput o = loom::lstm(emb->forward(tokens), {}, {}, lstm->flat_weights(), /*has_biases=*/true,
                             /*num_layers=*/1, /*bidirectional=*/false, /*batch_first=*/true, lengths);
    return proj->forward(o.h_n.select(0, 0));
  }
};

// img, txt and logit_scale (0-d, the log of the inverse temperature, learned
// from ln(1 / 0.07) as in CLIP).
struct DualEncoder : nn::Module {
  std::shared_ptr<ImageEncoder> img;
  std::shared_ptr<TextEncoder> txt;

  DualEncoder(const std::string& text, int64_t vocab) : nn::Module("DualEncoder") {
    register_parameter("logit_scale", full({}, std::log(1.0 / 0.07)));
    img = register_module("img", std::make_shared<ImageEncoder>());
    if (text == "transformer")
      txt = register_module<TextEncoder>("txt", std::make_shared<TransformerTextEncoder>(vocab));
    else txt = register_module<TextEncoder>("txt", std::make_shared<LSTMTextEncoder>(vocab));
  }

  Tensor encode_image(const Tensor& images) const { return nn::functional::normalize(img->forward(images)); }
  Tensor encode_text(const Tensor& tokens) const { return nn::functional::normalize(txt->forward(tokens)); }
  Tensor loss(const Tensor& images, const Tensor& tokens) const {
    return clip_loss(encode_image(images), encode_text(tokens), param("logit_scale"));
  }
};

Options parse(int argc, char** argv) {
  Options o;
  examples::Flags f(argc, argv);
  while (f.next()) {
    if (f.is("--text")) o.text = f.value();
    else if (f.is("--epochs")) o.epochs = std::stoi(f.value());
    else if (f.is("--batch-size")) o.batch_size = std::stoll(f.value());
    else if (f.is("--lr")) o.lr = std::stod(f.value());
    else if (f.is("--train-limit")) o.train_limit = std::stoll(f.value());
    else if (f.is("--test-limit")) o.test_limit = std::stoll(f.value());
    else if (f.is("--seed")) o.seed = std::stoull(f.value());
    else if (f.is("--threads")) o.threads = std::stoi(f.value());
    else if (f.is("--data-dir")) o.data_dir = f.value();
    else if (f.is("--min-zero-shot")) o.min_zero_shot = std::stod(f.value());
    else f.unknown();
  }
  if (o.text != "transformer" && o.text != "lstm")
    throw Error(ErrorKind::Value, "--text must be transformer or lstm, got " + o.text);
  if (o.epochs < 1 || o.batch_size < 2)
    throw Error(ErrorKind::Value, "--epochs must be >= 1 and --batch-size >= 2 (the other pairs are the negatives)");
  return o;
}

// load_fashion_mnist reads the .gz files or, where those are absent, the
// uncompressed ones; anything else present but unreadable is an error, not a skip.
bool dataset_installed(const std::string& dir) {
  for (const char* name :
       {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    const std::string path = dir + "/" + name;
    if (!std::ifstream(path + ".gz") && !std::ifstream(path)) return false;
  }
  return true;
}

multimodal::LabelledImages first(const multimodal::LabelledImages& split, int64_t limit) {
  if (limit <= 0 || limit >= split.labels.size(0)) return split;
  return {split.images.narrow(0, 0, limit), split.labels.narrow(0, 0, limit)};
}

// The zero-shot prompt of each class is "a photo of " + the class's noun phrase
// as the captions spell it ("a pair of trousers", "an ankle boot"), taken from a
// training caption of that template: the class names themselves ("Trouser",
// "T-shirt/top") hold words the tokenizer has never seen. A class without such
// a caption (tiny --train-limit) falls back to its lower-cased name.
std::vector<std::string> zero_shot_prompts(const std::vector<std::string>& captions, const Tensor& labels) {
  const std::string prefix = "a photo of ";
  const std::vector<std::string>& classes = multimodal::fashion_mnist_classes();
  std::vector<std::string> prompts(classes.size());
  const std::vector<double> y = labels.to_vector();
  for (size_t i = 0; i < captions.size(); ++i)
    if (prompts[static_cast<size_t>(y[i])].empty() && captions[i].compare(0, prefix.size(), prefix) == 0)
      prompts[static_cast<size_t>(y[i])] = captions[i];
  for (size_t c = 0; c < classes.size(); ++c)
    if (prompts[c].empty()) prompts[c] = prefix + "a " + classes[c];  // the tokenizer lower-cases it
  return prompts;
}

// Embeddings of a whole split, kEvalBatch rows at a time, without a graph.
template <typename Encode>
Tensor embed_all(const Tensor& inputs, Encode encode) {
  autograd::NoGradGuard ng;
  TensorList parts;
  for (int64_t s = 0; s < inputs.size(0); s += kEvalBatch)
    parts.push_back(encode(inputs.narrow(0, s, std::min(kEvalBatch, inputs.size(0) - s))));
  return cat(parts);
}

void print_scores(const char* direction, const multimodal::RetrievalScores& s) {
  std::printf("%s  R@1 %.2f%%  R@5 %.2f%%  median rank %.1f  (%lld queries)\n", direction, 100 * s.recall_at(1),
              100 * s.recall_at(5), s.median_rank, static_cast<long long>(s.queries));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options opt = parse(argc, argv);
    if (!dataset_installed(opt.data_dir)) {
      std::printf("Fashion-MNIST not found in %s (apt-get install dataset-fashion-mnist): skipping\n",
                  opt.data_dir.c_str());
      return 77;
    }
    if (opt.threads > 0) set_num_threads(opt.threads);
    manual_seed(opt.seed);

    const auto train = first(multimodal::load_fashion_mnist("train", opt.data_dir), opt.train_limit);
    const auto test = first(multimodal::load_fashion_mnist("test", opt.data_dir), opt.test_limit);
    // The test captions are drawn with another seed, so their templates are
    // independent of the training draws.
    const std::vector<std::string> train_captions = multimodal::fashion_mnist_captions(train.labels, opt.seed);
    const std::vector<std::string> test_captions = multimodal::fashion_mnist_captions(test.labels, opt.seed + 1);
    auto tokenizer = std::make_shared<WordTokenizer>();
    tokenizer->build(train_captions);
    auto dataset =
        std::make_shared<multimodal::TensorPairDataset>(train.images, train_captions, train.labels, tokenizer, kMaxLen);
    // drop_last: a short final batch would have fewer negatives than the rest.
    multimodal::DataLoader loader(dataset, opt.batch_size, /*shuffle=*/true, opt.seed, /*drop_last=*/true);
    if (loader.size() == 0)
      throw Error(ErrorKind::Value,
                  "--train-limit leaves fewer examples than one batch of " + std::to_string(opt.batch_size));

    DualEncoder model(opt.text, tokenizer->vocab_size());
    // No weight decay on biases, LayerNorm gains and logit_scale: decaying the
    // log-temperature towards 0 would blur the softmax over the batch.
    TensorList decay, no_decay;
    for (auto& [name, p] : model.named_parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
    optim::AdamOptions ao = optim::AdamW::default_options();
    ao.lr = opt.lr;
    optim::AdamW adamw({optim::ParamGroup(decay), optim::ParamGroup(no_decay, {{"weight_decay", 0.0}})}, ao);
    const int64_t total_steps = opt.epochs * loader.size();
    optim::CosineAnnealingLR schedule(adamw, total_steps);  // stepped per batch

    std::printf(
        "Fashion-MNIST: %lld training pairs, %lld test images; vocabulary %lld; text encoder %s; "
        "%lld parameters; %d threads\n",
        static_cast<long long>(dataset->size()), static_cast<long long>(test.labels.size(0)),
        static_cast<long long>(tokenizer->vocab_size()), opt.text.c_str(),
        static_cast<long long>(model.num_parameters()), get_num_threads());

    double train_seconds = 0;
    for (int epoch = 0; epoch < opt.epochs; ++epoch) {
      const auto t0 = std::chrono::steady_clock::now();
      loader.set_epoch(epoch);
      double loss_sum = 0;
      for (const multimodal::Batch& b : loader) {
        Tensor loss = model.loss(b.images, b.tokens);
        adamw.zero_grad();
        loss.backward();
        adamw.step();
        schedule.step();
        loss_sum += loss.item<double>();  // free on the CPU: nothing to synchronise
      }
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      train_seconds += secs;
      std::printf("epoch %d/%d  loss %.4f  logit scale %.1f  %.1fs  %.0f samples/s\n", epoch + 1, opt.epochs,
                  loss_sum / loader.size(), std::exp(model.param("logit_scale").item<double>()), secs,
                  loader.size() * opt.batch_size / secs);
      std::fflush(stdout);
    }

    const auto t0 = std::chrono::steady_clock::now();
    const Tensor img_emb = embed_all(test.images, [&](const Tensor& x) { return model.encode_image(x); });
    const Tensor txt_emb = embed_all(tokenizer->encode_batch(test_captions, kMaxLen),
                                     [&](const Tensor& t) { return model.encode_text(t); });
    const multimodal::RetrievalMetrics m =
        multimodal::retrieval_metrics(img_emb, txt_emb, test.labels, test.labels, {1, 5});

    const std::vector<std::string> prompts = zero_shot_prompts(train_captions, train.labels);
    const Tensor prompt_emb =
        embed_all(tokenizer->encode_batch(prompts, kMaxLen), [&](const Tensor& t) { return model.encode_text(t); });
    const Tensor predicted = img_emb.matmul(prompt_emb.t()).argmax(1);
    const double zero_shot = predicted.eq(test.labels).sum().item<double>() / static_cast<double>(test.labels.size(0));
    const double eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::printf("zero-shot prompts:");
    for (const std::string& p : prompts) std::printf(" \"%s\"", p.c_str());
    std::printf("\n");
    print_scores("image->text", m.image_to_text);
    print_scores("text->image", m.text_to_image);
    std::printf("zero-shot accuracy %.2f%%  (training %.1fs, evaluation %.1fs)\n", 100 * zero_shot, train_seconds,
                eval_seconds);
    if (opt.min_zero_shot >= 0 && zero_shot < opt.min_zero_shot) {
      std::printf("below the required %.2f%%\n", 100 * opt.min_zero_shot);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
}

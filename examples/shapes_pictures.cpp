// The C++ Shapes demo's pictures (shapes_pictures.h).
#include "shapes_pictures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <set>

#include "autograd/engine.h"
#include "autograd/node.h"
#include "core/json.h"
#include "multimodal/canvas.h"
#include "multimodal/metrics.h"

namespace pictures {

using loom::Tensor;
using namespace loom::multimodal;

namespace {

// The mean over a sliding window of w values (the values themselves when there are fewer).
std::vector<double> smooth(const std::vector<double>& v, size_t w = 10) {
  if (v.size() <= w) return v;
  std::vector<double> out;
  double sum = std::accumulate(v.begin(), v.begin() + w, 0.0);
  out.push_back(sum / w);
  for (size_t i = w; i < v.size(); ++i) {
    sum += v[i] - v[i - w];
    out.push_back(sum / w);
  }
  return out;
}

// The smoothed series of steps' column k, as (step, value) with steps counted from 1.
Series step_series(const std::vector<std::array<double, 3>>& steps, int k, const std::string& label, Color color,
                   double scale = 1.0) {
  std::vector<double> v;
  for (const auto& s : steps) v.push_back(s[k] * scale);
  Series out{label, {}, smooth(v), color};
  const size_t first = steps.size() - out.y.size() + 1;
  for (size_t i = 0; i < out.y.size(); ++i) out.x.push_back(static_cast<double>(first + i));
  return out;
}

std::string percent(double v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * v);
  return buf;
}

// At most `width` pixels of text, cut with "..." when longer.
std::string fit(const std::string& s, int64_t width) {
  if (Canvas::text_width(s) <= width) return s;
  std::string t = s;
  while (!t.empty() && Canvas::text_width(t + "...") > width) t.pop_back();
  return t + "...";
}

}  // namespace

void curves(const std::string& path, const std::vector<std::array<double, 3>>& steps,
            const std::vector<EpochPoint>& epochs, double oracle_r1, int64_t val_images) {
  const int64_t w = 420, h = 300, pad = 10;
  Canvas c(3 * w + 4 * pad, h + 2 * pad);
  std::vector<double> ends, val_vqa, r1, r10;
  for (const EpochPoint& e : epochs) {
    ends.push_back(e.step);
    val_vqa.push_back(100 * e.val_vqa_acc);
    r1.push_back(100 * e.val_scene_r1);
    r10.push_back(100 * e.val_scene_r10);
  }
  ChartOptions losses{"training losses (10-step mean)", "step", ""};
  line_chart(
      c, pad, pad, w, h,
      {step_series(steps, 0, "contrastive loss", palette(0)), step_series(steps, 1, "VQA cross-entropy", palette(1))},
      losses);
  ChartOptions vqa{"VQA accuracy", "step", "%"};
  Series val{"validation", ends, val_vqa, palette(1)};
  val.markers = true;
  line_chart(c, 2 * pad + w, pad, w, h, {step_series(steps, 2, "train (10-step mean)", palette(0), 100.0), val}, vqa);
  ChartOptions ret{"retrieval among " + std::to_string(val_images) + " validation scenes", "step", "%"};
  ret.hlines.push_back({100 * oracle_r1, "R@1 of the truth oracle"});
  Series s1{"text->image R@1 (scene queries)", ends, r1, palette(0)}, s10{"R@10", ends, r10, palette(1)};
  s1.markers = s10.markers = true;
  line_chart(c, 3 * pad + 2 * w, pad, w, h, {s1, s10}, ret);
  c.save_png(path);
}

void retrieval_sheet(const std::string& path, const Tensor& images, const ShapesRetrieval& ret, const Tensor& scene,
                     const Tensor& caption_logits, const std::vector<int64_t>& queries,
                     const std::vector<int64_t>& image_queries) {
  const int64_t N = ret.size(), T = static_cast<int64_t>(ret.texts().size());
  const int64_t img = 96, gap = 8, row = img + 28, text_w = 300, title_h = 24;
  const int64_t width = text_w + 5 * (img + gap) + gap;
  Canvas c(width, title_h + row * static_cast<int64_t>(queries.size() + image_queries.size()) + gap);
  c.text(gap, 8, "text->image: green = the query's image, orange = another image that fits every caption", kBlack);
  const std::vector<double> sc = scene.to_vector(), logits = caption_logits.to_vector(),
                            truth = ret.truth().to_vector(), fits = ret.scene_truth().to_vector();
  std::vector<std::vector<std::string>> own(N);
  for (int64_t t = 0; t < T; ++t) own[ret.owner()[t]].push_back(ret.texts()[t]);
  int64_t y = title_h;
  for (int64_t q : queries) {
    c.text(gap, y + 4, "query:", kBlack);
    for (size_t i = 0; i < own[q].size(); ++i)
      c.text(gap, y + 16 + 10 * static_cast<int64_t>(i), fit("- " + own[q][i], text_w - 2 * gap), kBlack);
    std::vector<int64_t> order(N);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return sc[q * N + a] > sc[q * N + b]; });
    for (int64_t j = 0; j < 5 && j < N; ++j) {
      const int64_t n = order[j], x = text_w + j * (img + gap);
      c.text(x, y, "#" + std::to_string(j + 1), kBlack);
      c.image(x, y + 10, images.select(0, n), img, img);
      if (n == q) c.rect(x - 3, y + 7, img + 6, img + 6, kGreen, 3);
      else if (fits[q * N + n]) c.rect(x - 3, y + 7, img + 6, img + 6, kOrange, 3);
    }
    y += row;
  }
  for (int64_t n : image_queries) {
    c.text(gap, y + 4, "image query; its top-5 captions", kBlack);
    c.text(gap, y + 16, "(of all test captions): green true", kBlack);
    c.text(gap, y + 26, "of the image, red false; * its own", kBlack);
    c.image(text_w, y + 10, images.select(0, n), img, img);
    std::vector<int64_t> order(T);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return logits[a * N + n] > logits[b * N + n]; });
    std::set<std::string> seen;
    int64_t line = 0;
    for (int64_t t : order) {
      const std::string& text = ret.texts()[t];
      if (!seen.insert(text).second) continue;
      const bool ok = truth[t * N + n] != 0;
      const bool mine = std::find(own[n].begin(), own[n].end(), text) != own[n].end();
      c.text(text_w + img + 2 * gap, y + 14 + 18 * line, std::to_string(line + 1) + ". " + (mine ? "* " : "  ") + text,
             ok ? kGreen : kRed);
      if (++line == 5) break;
    }
    y += row;
  }
  c.save_png(path);
}

void attention(const std::string& path, VQAModel& vqa, const ShapesDataset& data,
               const std::function<Tensor(const std::string&)>& encode, const std::vector<QuestionExample>& examples,
               loom::Device device) {
  const int64_t img = 144, gap = 10, label_h = 30;
  const int64_t row = img + label_h + gap;
  Canvas c(3 * (img + gap) + gap, gap + row * static_cast<int64_t>(examples.size()));
  const auto& answers = ShapesDataset::answer_vocab();
  vqa.eval();
  int64_t y = gap;
  for (const QuestionExample& e : examples) {
    const Tensor image = data.images({e.image}).to(device);
    Tensor maps;
    {
      loom::autograd::NoGradGuard no_grad;
      maps = vqa.img->forward_features(image);
    }
    const Tensor tokens = encode(e.question);
    TextSequence seq;
    {
      loom::autograd::NoGradGuard no_grad;
      seq = vqa.txt->forward_sequence(tokens);
    }
    Tensor m = maps.detach();
    m.requires_grad_(true);
    const Tensor logits = vqa.classify({m, seq.states, seq.padding_mask});
    const Tensor attn = vqa.last_attention();  // [1, heads, L, cells]
    const int64_t pred = logits.argmax(1).item<int64_t>();
    const Tensor grad = loom::autograd::grad({logits.select(1, pred).sum()}, {m})[0];
    const Tensor cam = (grad.mean({2, 3}, true) * m.detach()).sum({1}).relu().select(0, 0);  // [h, w]
    // Attention: the mean over heads, then over the question's tokens (padding excluded).
    const std::vector<double> valid = tokens.ne(0).to(loom::DType::Float32).cpu().to_vector();
    const Tensor per_token = attn.select(0, 0).mean({0}).cpu();  // [L, cells]
    const int64_t L = per_token.size(0), cells = per_token.size(1);
    const std::vector<double> a = per_token.to_vector();
    std::vector<float> mean(cells, 0.0f);
    double count = 0;
    for (int64_t l = 0; l < L; ++l) {
      if (valid[l] == 0) continue;
      count += 1;
      for (int64_t k = 0; k < cells; ++k) mean[k] += static_cast<float>(a[l * cells + k]);
    }
    for (float& v : mean) v /= static_cast<float>(std::max(count, 1.0));
    const int64_t side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(cells))));
    const Tensor heat = loom::from_vector(mean, {side, side});
    const std::string label =
        fit(e.question, 3 * (img + gap)) + "\n-> " + answers[pred] + " (truth: " + answers[e.answer] + ")";
    c.text(gap, y, label, pred == e.answer ? kBlack : kRed);
    const char* titles[3] = {"image", "cross-attention", "Grad-CAM of the answer"};
    for (int col = 0; col < 3; ++col) {
      const int64_t x = gap + col * (img + gap);
      c.image(x, y + label_h, image.select(0, 0), img, img);
      if (col == 1) c.heatmap(x, y + label_h, heat, img, img, 0.5);
      if (col == 2) c.heatmap(x, y + label_h, cam, img, img, 0.5);
      c.text(x + 2, y + label_h + img - 10, titles[col], kWhite);
    }
    y += row;
  }
  c.save_png(path);
}

void confusion(const std::string& path, const Tensor& predicted, const std::vector<int64_t>& answers) {
  const auto& names = ShapesDataset::answer_vocab();
  const int64_t A = static_cast<int64_t>(names.size());
  const std::vector<double> m =
      confusion_matrix(predicted, loom::from_vector(answers, {static_cast<int64_t>(answers.size())}), A).to_vector();
  std::vector<int64_t> shown;  // answers that occur as truth or prediction
  for (int64_t i = 0; i < A; ++i) {
    double s = 0;
    for (int64_t j = 0; j < A; ++j) s += m[i * A + j] + m[j * A + i];
    if (s > 0) shown.push_back(i);
  }
  std::vector<std::vector<double>> rows;
  std::vector<std::string> labels;
  for (int64_t i : shown) {
    double total = 0;
    for (int64_t j : shown) total += m[i * A + j];
    std::vector<double> r;
    for (int64_t j : shown) r.push_back(m[i * A + j] / std::max(total, 1.0));
    rows.push_back(r);
    labels.push_back(names[i]);
  }
  const std::string title = "VQA confusion on the test questions (rows: true answer, columns: predicted)";
  const int64_t cell = 22, gap = 10;
  const auto size = matrix_chart_size(cell, static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows.size()),
                                      labels, labels, title);
  Canvas c(size.first + 2 * gap, size.second + 2 * gap);
  matrix_chart(c, gap, gap, cell, rows, labels, labels, title);
  c.save_png(path);
}

namespace {

struct Node {
  bool leaf = false;
  double value = 0;
  std::map<std::string, Node> children;
};

void write(std::ofstream& out, const Node& n, int indent) {
  if (n.leaf) {
    if (std::isfinite(n.value)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.10g", n.value);
      out << buf;
    } else {
      out << "null";
    }
    return;
  }
  out << "{";
  bool first = true;
  for (const auto& [key, child] : n.children) {
    out << (first ? "\n" : ",\n") << std::string(indent + 1, ' ') << loom::json_string(key) << ": ";
    write(out, child, indent + 1);
    first = false;
  }
  out << "\n" << std::string(indent, ' ') << "}";
}

}  // namespace

void write_nested_json(const std::string& path, const std::map<std::string, double>& flat) {
  Node root;
  for (const auto& [key, value] : flat) {
    Node* n = &root;
    size_t start = 0;
    for (size_t dot = key.find('.'); dot != std::string::npos; dot = key.find('.', start)) {
      n = &n->children[key.substr(start, dot - start)];
      start = dot + 1;
    }
    Node& leaf = n->children[key.substr(start)];
    leaf.leaf = true;
    leaf.value = value;
  }
  std::ofstream out(path);
  LOOM_CHECK(out.good(), "write_nested_json: cannot write ", path);
  write(out, root, 0);
  out << "\n";
}

}  // namespace pictures

// WordTokenizer of tokenizer.h. Only ASCII is classified (letters lower-cased,
// punctuation split off, whitespace separating) so that the multi-byte UTF-8
// sequences of other scripts stay inside their words unchanged and the result
// never depends on the C locale.
#include "multimodal/tokenizer.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <utility>

#include "core/utf8.h"

namespace loom::multimodal {

namespace {

const char* const kSpecials[WordTokenizer::kNumSpecial] = {"<pad>", "<unk>", "<bos>", "<eos>"};

bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool is_punct(unsigned char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

}  // namespace

WordTokenizer::WordTokenizer() {
  set_tokens(std::vector<std::string>(kSpecials, kSpecials + kNumSpecial), "WordTokenizer");
}

std::vector<std::string> WordTokenizer::split(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out.push_back(std::move(word));
    word.clear();
  };
  for (unsigned char c : text) {
    if (is_space(c)) {
      flush();
    } else if (is_punct(c)) {
      flush();
      out.emplace_back(1, static_cast<char>(c));
    } else {
      word.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c));
    }
  }
  flush();
  return out;
}

void WordTokenizer::build(const std::vector<std::string>& corpus, int64_t min_freq, int64_t max_size) {
  LOOM_CHECK_VALUE(min_freq >= 1, "WordTokenizer::build: min_freq must be >= 1, got ", min_freq);
  LOOM_CHECK_VALUE(max_size == 0 || max_size >= kNumSpecial,
                   "WordTokenizer::build: max_size must be 0 (no cap) or >= ", kNumSpecial,
                   " (the special tokens), got ", max_size);
  std::map<std::string, int64_t> counts;
  for (const std::string& text : corpus)
    for (std::string& t : split(text)) ++counts[std::move(t)];
  std::vector<std::pair<std::string, int64_t>> kept;
  for (auto& kv : counts)
    if (kv.second >= min_freq) kept.emplace_back(kv.first, kv.second);
  // counts is already in bytewise order, so a stable sort by count alone gives
  // the documented (frequency desc, then bytewise) order.
  std::stable_sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (max_size > 0 && static_cast<int64_t>(kept.size()) > max_size - kNumSpecial) kept.resize(max_size - kNumSpecial);
  std::vector<std::string> tokens(kSpecials, kSpecials + kNumSpecial);
  for (auto& kv : kept) tokens.push_back(std::move(kv.first));
  set_tokens(std::move(tokens), "WordTokenizer::build");
}

std::vector<int64_t> WordTokenizer::encode(const std::string& text, int64_t max_len, bool add_bos_eos) const {
  const int64_t reserved = add_bos_eos ? 2 : 0;
  LOOM_CHECK_VALUE(max_len >= std::max<int64_t>(reserved, 1),
                   "WordTokenizer::encode: max_len must be >= ", std::max<int64_t>(reserved, 1),
                   add_bos_eos ? " (room for <bos> and <eos>)" : "", ", got ", max_len);
  std::vector<int64_t> ids;
  ids.reserve(max_len);
  if (add_bos_eos) ids.push_back(kBos);
  const std::vector<std::string> words = split(text);
  const size_t body = std::min<size_t>(words.size(), static_cast<size_t>(max_len - reserved));
  for (size_t i = 0; i < body; ++i) ids.push_back(token_to_id(words[i]));
  if (add_bos_eos) ids.push_back(kEos);
  ids.resize(max_len, kPad);
  return ids;
}

Tensor WordTokenizer::encode_batch(const std::vector<std::string>& texts, int64_t max_len, bool add_bos_eos) const {
  LOOM_CHECK_VALUE(max_len >= (add_bos_eos ? 2 : 1),
                   "WordTokenizer::encode_batch: max_len must be >= ", add_bos_eos ? 2 : 1, ", got ", max_len);
  std::vector<int64_t> all;
  all.reserve(texts.size() * max_len);
  for (const std::string& t : texts) {
    std::vector<int64_t> row = encode(t, max_len, add_bos_eos);
    all.insert(all.end(), row.begin(), row.end());
  }
  return from_vector(all, {static_cast<int64_t>(texts.size()), max_len});
}

std::string WordTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (int64_t id : ids) {
    LOOM_CHECK_INDEX(id >= 0 && id < vocab_size(), "WordTokenizer::decode: id ", id,
                     " is out of range for a vocabulary of ", vocab_size());
    if (id == kPad || id == kBos || id == kEos) continue;
    if (!out.empty()) out.push_back(' ');
    out += tokens_[id];
  }
  return out;
}

std::string WordTokenizer::decode(const Tensor& ids) const {
  LOOM_CHECK(ids.dim() == 1, "WordTokenizer::decode: expected a 1-D tensor of ids, got shape ", ids.sizes());
  LOOM_CHECK_TYPE(is_integral(ids.dtype()), "WordTokenizer::decode: expected integer ids, got ",
                  dtype_name(ids.dtype()), " of shape ", ids.sizes());
  std::vector<int64_t> v;
  for (double x : ids.to_vector()) v.push_back(static_cast<int64_t>(x));
  return decode(v);
}

int64_t WordTokenizer::token_to_id(const std::string& token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? kUnk : it->second;
}

const std::string& WordTokenizer::id_to_token(int64_t id) const {
  LOOM_CHECK_INDEX(id >= 0 && id < vocab_size(), "WordTokenizer::id_to_token: id ", id,
                   " is out of range for a vocabulary of ", vocab_size());
  return tokens_[id];
}

void WordTokenizer::save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    LOOM_CHECK(f.good(), "WordTokenizer::save: cannot open ", tmp, " for writing");
    for (const std::string& t : tokens_) f << t << '\n';
    f.flush();
    LOOM_CHECK(f.good(), "WordTokenizer::save: writing ", tmp, " failed");
  }
  LOOM_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "WordTokenizer::save: cannot rename ", tmp, " to ", path);
}

WordTokenizer WordTokenizer::load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  LOOM_CHECK(f.good(), "WordTokenizer::load: cannot open ", path);
  std::vector<std::string> tokens;
  std::string line;
  size_t offset = 0;  // of the line in the file, for the error message
  while (std::getline(f, line)) {
    // Checked first: tokens go back to Python as str, and a binary file fails here.
    const size_t bad = invalid_utf8_at(line);
    LOOM_CHECK(bad == std::string::npos, "WordTokenizer::load: invalid UTF-8 in ", path, " at byte ", offset + bad,
               " (line ", tokens.size() + 1, "); expected one UTF-8 token per line");
    const size_t start = offset;
    offset += line.size() + 1;
    // Tokens never hold whitespace, so a '\r' can only come from CRLF line ends.
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Any other whitespace (a second '\r' included) could never be encoded, and
    // save() then load() would not give the token back.
    const auto ws = std::find_if(line.begin(), line.end(), [](unsigned char c) { return is_space(c); });
    LOOM_CHECK(ws == line.end(), "WordTokenizer::load: whitespace (character code ", static_cast<int>(*ws), ") in ",
               path, " at byte ", start + static_cast<size_t>(ws - line.begin()), " (line ", tokens.size() + 1,
               "); tokens never hold whitespace");
    tokens.push_back(line);
  }
  LOOM_CHECK(static_cast<int64_t>(tokens.size()) >= kNumSpecial, "WordTokenizer::load: ", path, " has ", tokens.size(),
             " lines, expected at least the ", kNumSpecial, " special tokens");
  for (int64_t i = 0; i < kNumSpecial; ++i)
    LOOM_CHECK(tokens[i] == kSpecials[i], "WordTokenizer::load: line ", i + 1, " of ", path, " is '", tokens[i],
               "', expected '", kSpecials[i], "'");
  WordTokenizer tok;
  tok.set_tokens(std::move(tokens), ("WordTokenizer::load: " + path).c_str());
  return tok;
}

void WordTokenizer::set_tokens(std::vector<std::string> tokens, const char* caller) {
  std::unordered_map<std::string, int64_t> ids;
  ids.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    LOOM_CHECK(!tokens[i].empty(), caller, ": token ", i, " is empty");
    LOOM_CHECK(ids.emplace(tokens[i], static_cast<int64_t>(i)).second, caller, ": token '", tokens[i],
               "' appears twice (ids ", ids[tokens[i]], " and ", i, ")");
  }
  tokens_ = std::move(tokens);
  ids_ = std::move(ids);
}

Tensor padding_mask(const Tensor& ids, int64_t pad_id) {
  LOOM_CHECK(ids.dim() == 1 || ids.dim() == 2, "padding_mask: expected ids [B, L] or [L], got shape ", ids.sizes());
  LOOM_CHECK_TYPE(is_integral(ids.dtype()), "padding_mask: expected integer ids, got ", dtype_name(ids.dtype()),
                  " of shape ", ids.sizes());
  return ids.eq(Scalar(pad_id));
}

}  // namespace loom::multimodal

// WordTokenizer: a word-level vocabulary for captions. Text is lower-cased
// (ASCII letters only, so UTF-8 bytes pass through unchanged), split on
// whitespace, and every ASCII punctuation character becomes a token of its own
// ("black-and-white." -> black - and - white .). Ids 0..3 are the special
// tokens <pad>, <unk>, <bos>, <eos>; because '<' and '>' are punctuation, no
// text can produce a special token by spelling it. Token ids feed
// nn::Embedding; padding_mask gives the key_padding_mask of
// nn::MultiheadAttention (true at pads, as PyTorch).
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"

namespace loom::multimodal {

class WordTokenizer {
 public:
  static constexpr int64_t kPad = 0;
  static constexpr int64_t kUnk = 1;
  static constexpr int64_t kBos = 2;
  static constexpr int64_t kEos = 3;
  static constexpr int64_t kNumSpecial = 4;

  // Only the four special tokens; build() or load() adds the words.
  WordTokenizer();

  // The lower-cased word and punctuation tokens of text, in order.
  static std::vector<std::string> split(const std::string& text);

  // Replaces the vocabulary by the tokens of corpus seen at least min_freq
  // times, ordered by frequency (descending) then bytewise, so the ids depend
  // only on the corpus. max_size caps the whole vocabulary, specials included
  // (0: no cap; otherwise >= 4).
  void build(const std::vector<std::string>& corpus, int64_t min_freq = 1, int64_t max_size = 0);

  // [<bos>] tokens [<eos>], padded with <pad> to exactly max_len ids. Longer
  // text is cut after max_len - 2 words (max_len when !add_bos_eos) so <eos>
  // always ends the sequence. Unknown words map to <unk>.
  std::vector<int64_t> encode(const std::string& text, int64_t max_len, bool add_bos_eos = true) const;
  // int64 [B, max_len], one row per text as encode() gives it.
  Tensor encode_batch(const std::vector<std::string>& texts, int64_t max_len, bool add_bos_eos = true) const;

  // The tokens joined by single spaces; <pad>, <bos> and <eos> are skipped,
  // <unk> is kept. Punctuation comes back space-separated ("a , b").
  std::string decode(const std::vector<int64_t>& ids) const;
  // ids: a 1-D integer tensor.
  std::string decode(const Tensor& ids) const;

  int64_t vocab_size() const { return static_cast<int64_t>(tokens_.size()); }
  // The id of token, <unk> when it is not in the vocabulary.
  int64_t token_to_id(const std::string& token) const;
  // IndexError outside [0, vocab_size()).
  const std::string& id_to_token(int64_t id) const;

  // One token per line in id order, specials first; bytes are written as they
  // are. The file is written to a temporary and renamed, so it is never torn.
  void save(const std::string& path) const;
  // Reads what save() writes; raises when the file is missing, the first four
  // lines are not the specials, a token is empty, repeated or holds
  // whitespace, or a line is not valid UTF-8 (tokens go back out as Python str).
  static WordTokenizer load(const std::string& path);

 private:
  void set_tokens(std::vector<std::string> tokens, const char* caller);

  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int64_t> ids_;
};

// ids [B, L] (or [L]) of an integer dtype -> bool of the same shape, true
// where ids == pad_id: the key_padding_mask convention of PyTorch.
Tensor padding_mask(const Tensor& ids, int64_t pad_id = WordTokenizer::kPad);

}  // namespace loom::multimodal

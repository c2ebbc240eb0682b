// The bodies of the fuzz targets, shared by the libFuzzer programs
// (tests/fuzz/fuzz_*.cpp) and the in-tree test that replays the corpora and
// the saved crash inputs (tests/multimodal/test_fuzz_corpus.cpp). Each takes
// arbitrary bytes. loom::Error is the expected answer to bad input and is
// swallowed here; a broken invariant throws std::logic_error; anything else
// escaping (another exception, std::bad_alloc included), a crash or a
// sanitizer report is a finding.
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "multimodal/data.h"
#include "multimodal/tokenizer.h"
#include "nn/serialization.h"

namespace loom::fuzz {

inline void require(bool ok, const std::string& what) {
  if (!ok) throw std::logic_error("fuzz invariant broken: " + what);
}

// A private folder for the files a target must write (in memory where /dev/shm
// exists), removed at exit.
class ScratchDir {
 public:
  ScratchDir() {
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm")
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path();
    path_ = (base / ("loom_fuzz_" + std::to_string(getpid()))).string();
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline const std::string& scratch_dir() {
  static const ScratchDir dir;
  return dir.path();
}

inline void write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f) throw std::runtime_error("fuzz: cannot write " + path);
}

// The bytes as a file that only lives in memory: a path to a memfd.
inline std::string memory_file(const uint8_t* data, size_t size) {
  static const int fd = memfd_create("loom_fuzz", 0);
  if (fd < 0) throw std::runtime_error("fuzz: memfd_create failed");
  if (ftruncate(fd, 0) != 0) throw std::runtime_error("fuzz: ftruncate failed");
  for (size_t done = 0; done < size;) {
    const ssize_t n = pwrite(fd, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) throw std::runtime_error("fuzz: pwrite failed");
    done += static_cast<size_t>(n);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

// ---------------------------------------------------------------- safetensors

inline void safetensors_one_input(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes, so that ASan flags any read past the end.
  std::vector<uint8_t> buf(data, data + size);
  try {
    auto sd = nn::parse_safetensors(buf.data(), buf.size());
    for (const auto& [name, t] : sd) (void)t.nbytes();
  } catch (const Error&) {
  }
}

// ---------------------------------------------------------------- tokenizer

inline void check_vocabulary(const multimodal::WordTokenizer& tok) {
  require(tok.vocab_size() >= multimodal::WordTokenizer::kNumSpecial, "a vocabulary holds the specials");
  for (int64_t i = 0; i < tok.vocab_size(); ++i)
    require(tok.token_to_id(tok.id_to_token(i)) == i, "token_to_id(id_to_token(i)) == i");
}

// The input is (1) a tokenizer file for load(), then (2) a corpus, one text
// per line, for build(), and a text to encode and decode. The first byte picks
// build()'s min_freq and max_size, the last one encode()'s max_len.
inline void tokenizer_one_input(const uint8_t* data, size_t size) {
  using multimodal::WordTokenizer;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const WordTokenizer tok = WordTokenizer::load(memory_file(data, size));
    check_vocabulary(tok);
    // What load() accepts, save() writes back unchanged.
    const std::string path = scratch_dir() + "/tokenizer.txt";
    tok.save(path);
    const WordTokenizer again = WordTokenizer::load(path);
    require(again.vocab_size() == tok.vocab_size(), "save/load keeps the vocabulary size");
    for (int64_t i = 0; i < tok.vocab_size(); ++i)
      require(again.id_to_token(i) == tok.id_to_token(i), "save/load keeps token " + std::to_string(i));
    const std::vector<int64_t> ids = tok.encode(text, 64);
    for (int64_t id : ids) require(id >= 0 && id < tok.vocab_size(), "encode gives ids in the vocabulary");
    (void)tok.decode(ids);
  } catch (const Error&) {
  }

  const uint8_t first = size ? data[0] : 0, last = size ? data[size - 1] : 0;
  const int64_t min_freq = 1 + (first & 3);
  const int64_t max_size = (first >> 2) & 3 ? WordTokenizer::kNumSpecial + (first >> 4) : 0;
  std::vector<std::string> corpus;
  for (size_t begin = 0; begin <= text.size();) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    corpus.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  try {
    WordTokenizer tok;
    tok.build(corpus, min_freq, max_size);
    check_vocabulary(tok);
    const std::vector<std::string> words = WordTokenizer::split(text);
    if (min_freq == 1 && max_size == 0) {
      // Every word of the corpus is known, so encode/decode gives the words back.
      std::string joined;
      for (const std::string& w : words) joined += (joined.empty() ? "" : " ") + w;
      const std::vector<int64_t> ids = tok.encode(text, static_cast<int64_t>(words.size()) + 2);
      require(tok.decode(ids) == joined, "decode(encode(text)) gives the words of a text the vocabulary was built on");
    }
    const int64_t max_len = 1 + last % 40;
    const bool bos_eos = last & 1;
    const std::vector<int64_t> ids = tok.encode(text, max_len, bos_eos);
    require(static_cast<int64_t>(ids.size()) == max_len, "encode gives max_len ids");
    for (int64_t id : ids) require(id >= 0 && id < tok.vocab_size(), "encode gives ids in the vocabulary");
    (void)tok.decode(ids);
    const Tensor batch = tok.encode_batch(corpus, max_len, bos_eos);
    require(batch.size(0) == static_cast<int64_t>(corpus.size()) && batch.size(1) == max_len,
            "encode_batch gives [texts, max_len]");
    (void)tok.decode(batch.select(0, 0));
    (void)multimodal::padding_mask(batch);
  } catch (const Error&) {
  }
}

// ---------------------------------------------------------------- IDX + gzip

// The input is a flags byte (bit 0: the images file is gzip'd, bit 1: the
// labels file is), the images file's length (2 bytes, little-endian), the
// images file, then the labels file; load_fashion_mnist("test") reads them
// from a scratch folder.
inline void idx_one_input(const uint8_t* data, size_t size) {
  const uint8_t flags = size > 0 ? data[0] : 0;
  const size_t want = size > 2 ? size_t{data[1]} | size_t{data[2]} << 8 : 0;
  const size_t head = std::min<size_t>(size, 3);
  const size_t image_len = std::min(want, size - head);
  const std::string& dir = scratch_dir();
  const std::string images = dir + "/t10k-images-idx3-ubyte", labels = dir + "/t10k-labels-idx1-ubyte";
  for (const std::string& p : {images, images + ".gz", labels, labels + ".gz"}) std::remove(p.c_str());
  write_file(flags & 1 ? images + ".gz" : images, data + head, image_len);
  write_file(flags & 2 ? labels + ".gz" : labels, data + head + image_len, size - head - image_len);
  try {
    const multimodal::LabelledImages d = multimodal::load_fashion_mnist("test", dir);
    require(d.images.dim() == 4 && d.images.size(1) == 1 && d.labels.dim() == 1 && d.images.size(0) == d.labels.size(0),
            "images [N, 1, H, W] and labels [N]");
    require(d.images.numel() == d.images.size(0) * d.images.size(2) * d.images.size(3), "images hold N*H*W values");
    for (double v : d.images.to_vector()) require(v >= 0.0 && v <= 1.0, "pixels in [0, 1]");
    for (double v : d.labels.to_vector()) require(v >= 0.0 && v <= 9.0 && v == std::floor(v), "labels in 0..9");
  } catch (const Error&) {
  }
}

}  // namespace loom::fuzz

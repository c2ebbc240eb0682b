// Datasets, DataLoader (with its worker threads) and the Fashion-MNIST
// reader of data.h.
//
// Debian ships Fashion-MNIST gzip'd and loom links no compression library, so
// this file carries a small inflater (RFC 1951 DEFLATE inside RFC 1952 gzip
// members). Its Huffman decoding is one table lookup per symbol, which reads
// the 26 MB training images in well under a second; every length, distance,
// code and the CRC-32 are checked, so a truncated or corrupt file raises
// instead of reading past a buffer.
#include "multimodal/data.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <exception>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <thread>
#include <utility>

#include "autograd/node.h"

namespace loom::multimodal {

namespace {

// ---------------------------------------------------------------- gzip

[[noreturn]] void bad_gzip(const std::string& path, const std::string& why) {
  LOOM_THROW(ErrorKind::Runtime, "load_fashion_mnist: ", path, " is not a valid gzip file (", why, ")");
}

// LSB-first bit reader over a byte buffer. Past the end it feeds zero bytes so
// that a lookup may peek beyond the last code; consuming them is caught by
// check_within() and, for runaway streams, by the padding cap in fill().
class BitReader {
 public:
  BitReader(const std::vector<uint8_t>& data, size_t pos, const std::string& path)
      : data_(data), pos_(pos), path_(path) {}

  uint32_t peek(int n) {
    if (count_ < n) fill();
    return static_cast<uint32_t>(buf_ & ((uint64_t{1} << n) - 1));
  }
  void consume(int n) {
    buf_ >>= n;
    count_ -= n;
  }
  uint32_t bits(int n) {
    uint32_t v = peek(n);
    consume(n);
    return v;
  }
  void align_to_byte() { consume(count_ % 8); }
  // The byte position of the next unread bit (after align_to_byte()).
  size_t byte_pos() const { return pos_ + padding_ - static_cast<size_t>(count_ / 8); }
  void check_within() const {
    if (byte_pos() > data_.size()) fail("truncated");
  }
  [[noreturn]] void fail(const std::string& why) const { bad_gzip(path_, why); }

 private:
  void fill() {
    while (count_ <= 56) {
      uint64_t b = 0;
      if (pos_ < data_.size()) {
        b = data_[pos_++];
      } else if (++padding_ > 16) {
        fail("truncated");
      }
      buf_ |= b << count_;
      count_ += 8;
    }
  }

  const std::vector<uint8_t>& data_;
  size_t pos_;
  const std::string& path_;
  uint64_t buf_ = 0;
  int count_ = 0;
  size_t padding_ = 0;
};

// A canonical Huffman code as one table indexed by the next `bits` input bits
// (bit-reversed, as DEFLATE packs codes): entry = symbol << 4 | code length,
// 0 where no code starts with those bits.
class Huffman {
 public:
  void build(const uint8_t* lengths, int n, const BitReader& br) {
    int count[16] = {0};
    for (int s = 0; s < n; ++s) ++count[lengths[s]];
    count[0] = 0;
    bits_ = 1;
    for (int len = 1; len < 16; ++len)
      if (count[len]) bits_ = len;
    int left = 1;
    for (int len = 1; len < 16; ++len) {
      left = 2 * left - count[len];
      if (left < 0) br.fail("over-subscribed Huffman code");
    }
    int next[16] = {0};
    for (int len = 1, code = 0; len < 16; ++len) {
      code = (code + count[len - 1]) << 1;
      next[len] = code;
    }
    table_.assign(size_t{1} << bits_, 0);
    for (int s = 0; s < n; ++s) {
      const int len = lengths[s];
      if (!len) continue;
      uint32_t code = static_cast<uint32_t>(next[len]++), rev = 0;
      for (int i = 0; i < len; ++i, code >>= 1) rev = (rev << 1) | (code & 1);
      for (size_t i = rev; i < table_.size(); i += size_t{1} << len)
        table_[i] = static_cast<uint32_t>(s) << 4 | static_cast<uint32_t>(len);
    }
  }
  int decode(BitReader& br) const {
    const uint32_t e = table_[br.peek(bits_)];
    if ((e & 15) == 0) br.fail("invalid Huffman code");
    br.consume(static_cast<int>(e & 15));
    return static_cast<int>(e >> 4);
  }

 private:
  std::vector<uint32_t> table_;
  int bits_ = 1;
};

constexpr uint16_t kLengthBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr uint8_t kLengthExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr uint16_t kDistBase[30] = {1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
                                    33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
                                    1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr uint8_t kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                    6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// The order in which a dynamic block lists the code-length code's lengths.
constexpr uint8_t kCodeLengthOrder[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

void inflate_codes(BitReader& br, const Huffman& lit, const Huffman& dist, std::vector<uint8_t>& out) {
  for (;;) {
    const int sym = lit.decode(br);
    if (sym < 256) {
      out.push_back(static_cast<uint8_t>(sym));
      continue;
    }
    if (sym == 256) return;
    if (sym > 285) br.fail("invalid length symbol");
    const size_t length = kLengthBase[sym - 257] + br.bits(kLengthExtra[sym - 257]);
    const int d = dist.decode(br);
    if (d >= 30) br.fail("invalid distance symbol");
    const size_t distance = kDistBase[d] + br.bits(kDistExtra[d]);
    if (distance > out.size()) br.fail("distance reaches before the start of the output");
    // Byte by byte: a match may overlap the bytes it produces.
    size_t from = out.size() - distance;
    for (size_t i = 0; i < length; ++i) out.push_back(out[from + i]);
  }
}

void read_dynamic_tables(BitReader& br, Huffman& lit, Huffman& dist) {
  const int nlit = static_cast<int>(br.bits(5)) + 257, ndist = static_cast<int>(br.bits(5)) + 1;
  const int nclen = static_cast<int>(br.bits(4)) + 4;
  if (nlit > 286 || ndist > 30) br.fail("too many length or distance codes");
  uint8_t clen[19] = {0};
  for (int i = 0; i < nclen; ++i) clen[kCodeLengthOrder[i]] = static_cast<uint8_t>(br.bits(3));
  Huffman clcode;
  clcode.build(clen, 19, br);
  uint8_t lengths[286 + 30] = {0};
  for (int i = 0; i < nlit + ndist;) {
    const int sym = clcode.decode(br);
    if (sym < 16) {
      lengths[i++] = static_cast<uint8_t>(sym);
      continue;
    }
    uint8_t value = 0;
    int repeat;
    if (sym == 16) {
      if (i == 0) br.fail("repeat of no previous code length");
      value = lengths[i - 1];
      repeat = 3 + static_cast<int>(br.bits(2));
    } else if (sym == 17) {
      repeat = 3 + static_cast<int>(br.bits(3));
    } else {
      repeat = 11 + static_cast<int>(br.bits(7));
    }
    if (i + repeat > nlit + ndist) br.fail("code lengths overflow");
    std::fill(lengths + i, lengths + i + repeat, value);
    i += repeat;
  }
  if (lengths[256] == 0) br.fail("no end-of-block code");
  lit.build(lengths, nlit, br);
  dist.build(lengths + nlit, ndist, br);
}

uint32_t crc32(const std::vector<uint8_t>& data, size_t begin) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = begin; i < data.size(); ++i) c = table[(c ^ data[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t le32(const std::vector<uint8_t>& d, size_t p) {
  return uint32_t(d[p]) | uint32_t(d[p + 1]) << 8 | uint32_t(d[p + 2]) << 16 | uint32_t(d[p + 3]) << 24;
}

// Skips one member's header; returns the offset of its DEFLATE data.
size_t skip_gzip_header(const std::vector<uint8_t>& in, size_t p, const std::string& path) {
  auto need = [&](size_t n) {
    if (p + n > in.size()) bad_gzip(path, "truncated header");
  };
  need(10);
  if (in[p] != 0x1f || in[p + 1] != 0x8b) bad_gzip(path, "no gzip signature");
  if (in[p + 2] != 8) bad_gzip(path, "compression method is not DEFLATE");
  const uint8_t flags = in[p + 3];
  p += 10;
  if (flags & 4) {
    need(2);
    const size_t xlen = in[p] | size_t{in[p + 1]} << 8;
    p += 2;
    need(xlen);
    p += xlen;
  }
  for (uint8_t bit : {uint8_t{8}, uint8_t{16}})  // file name, comment: zero-terminated
    if (flags & bit) {
      while (true) {
        need(1);
        if (in[p++] == 0) break;
      }
    }
  if (flags & 2) {
    need(2);
    p += 2;
  }
  return p;
}

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& in, const std::string& path) {
  static const auto fixed = [] {
    std::pair<Huffman, Huffman> t;
    uint8_t lengths[288];
    std::fill(lengths, lengths + 144, 8);
    std::fill(lengths + 144, lengths + 256, 9);
    std::fill(lengths + 256, lengths + 280, 7);
    std::fill(lengths + 280, lengths + 288, 8);
    const std::vector<uint8_t> none;
    const std::string name = "fixed tables";
    BitReader br(none, 0, name);
    t.first.build(lengths, 288, br);
    std::fill(lengths, lengths + 32, 5);
    t.second.build(lengths, 32, br);
    return t;
  }();
  std::vector<uint8_t> out;
  // The last four bytes hold the (last member's) size modulo 2^32: a good
  // guess, capped by DEFLATE's largest ratio (1032:1) so a corrupt trailer
  // cannot reserve gigabytes.
  if (in.size() >= 4) out.reserve(std::min<size_t>(le32(in, in.size() - 4), in.size() * 1032));
  size_t p = 0;
  do {
    const size_t member_start = out.size();
    BitReader br(in, skip_gzip_header(in, p, path), path);
    Huffman lit, dist;
    bool last = false;
    while (!last) {
      last = br.bits(1) != 0;
      const uint32_t type = br.bits(2);
      if (type == 0) {
        br.align_to_byte();
        const uint32_t len = br.bits(16), nlen = br.bits(16);
        if ((len ^ 0xFFFF) != nlen) br.fail("stored block length check failed");
        for (uint32_t i = 0; i < len; ++i) out.push_back(static_cast<uint8_t>(br.bits(8)));
      } else if (type == 1) {
        inflate_codes(br, fixed.first, fixed.second, out);
      } else if (type == 2) {
        read_dynamic_tables(br, lit, dist);
        inflate_codes(br, lit, dist, out);
      } else {
        br.fail("reserved block type");
      }
      br.check_within();
    }
    br.align_to_byte();
    p = br.byte_pos();
    if (p + 8 > in.size()) bad_gzip(path, "truncated trailer");
    if (le32(in, p) != crc32(out, member_start)) bad_gzip(path, "CRC-32 mismatch");
    if (le32(in, p + 4) != static_cast<uint32_t>(out.size() - member_start)) bad_gzip(path, "size mismatch");
    p += 8;
  } while (p < in.size());
  return out;
}

// ---------------------------------------------------------------- IDX

bool read_file(const std::string& path, std::vector<uint8_t>& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  out.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  LOOM_CHECK(!f.bad(), "load_fashion_mnist: reading ", path, " failed");
  return true;
}

// The bytes of root/name.gz (gunzipped) or, failing that, of root/name.
std::vector<uint8_t> read_idx_bytes(const std::string& root, const std::string& name) {
  std::vector<uint8_t> raw;
  const std::string gz = root + "/" + name + ".gz";
  if (read_file(gz, raw)) return gunzip(raw, gz);
  const std::string plain = root + "/" + name;
  LOOM_CHECK(read_file(plain, raw), "load_fashion_mnist: cannot open ", gz, " or ", plain,
             " (Debian: apt install dataset-fashion-mnist)");
  return raw;
}

// Checks an unsigned-byte IDX file of `ndims` dimensions; returns the dims.
std::vector<int64_t> idx_dims(const std::vector<uint8_t>& d, size_t ndims, const std::string& name) {
  LOOM_CHECK(d.size() >= 4 + 4 * ndims && d[0] == 0 && d[1] == 0 && d[2] == 0x08 && d[3] == ndims,
             "load_fashion_mnist: ", name, " is not an unsigned-byte IDX file of ", ndims, " dimensions");
  // IDX sizes are signed 32-bit, so each is below 2^31 (and a product of two,
  // the pixels per image, fits int64); the product of all saturates instead of
  // wrapping around, so sizes from a corrupt file cannot match a short one.
  std::vector<int64_t> dims;
  uint64_t payload = 1;
  for (size_t i = 0; i < ndims; ++i) {
    const size_t p = 4 + 4 * i;
    dims.push_back(int64_t{d[p]} << 24 | int64_t{d[p + 1]} << 16 | int64_t{d[p + 2]} << 8 | int64_t{d[p + 3]});
    LOOM_CHECK(dims.back() < (int64_t{1} << 31), "load_fashion_mnist: ", name, " has dimension ", i, " of size ",
               dims.back(), ", more than an IDX size (a signed 32-bit integer) can be");
    const auto n = static_cast<uint64_t>(dims.back());
    payload = n != 0 && payload > UINT64_MAX / n ? UINT64_MAX : payload * n;
  }
  const uint64_t header = 4 + 4 * ndims;
  LOOM_CHECK(payload <= UINT64_MAX - header && d.size() == header + payload, "load_fashion_mnist: ", name, " has ",
             d.size(), " bytes, expected ", header, " + ",
             payload == UINT64_MAX ? "more than 2^64" : std::to_string(payload), " for dimensions ", dims);
  return dims;
}

const char* const kCaptionNouns[10] = {"a t-shirt", "a pair of trousers", "a pullover", "a dress",
                                       "a coat",    "a sandal",           "a shirt",    "a sneaker",
                                       "a bag",     "an ankle boot"};
const char* const kCaptionTemplates[] = {
    "a photo of {}",         "a black-and-white picture of {}", "a grayscale photo of {}",
    "a small image of {}",   "a low-resolution photo of {}",    "a product photo of {}",
    "a picture showing {}",  "a centered photo of {}",          "{} on a plain background",
    "a close-up photo of {}"};

}  // namespace

// ---------------------------------------------------------------- TensorPairDataset

TensorPairDataset::TensorPairDataset(Tensor images, std::vector<std::string> captions, Tensor labels,
                                     std::shared_ptr<const WordTokenizer> tokenizer, int64_t max_len)
    : images_(std::move(images)), captions_(std::move(captions)) {
  LOOM_CHECK(images_.defined() && images_.dim() == 4, "TensorPairDataset: expected images [N, C, H, W], got shape ",
             images_.defined() ? images_.sizes() : Shape{});
  LOOM_CHECK_TYPE(images_.is_floating_point(), "TensorPairDataset: expected float images, got ",
                  dtype_name(images_.dtype()), " of shape ", images_.sizes());
  const int64_t n = images_.size(0);
  LOOM_CHECK(static_cast<int64_t>(captions_.size()) == n, "TensorPairDataset: images ", images_.sizes(), " hold ", n,
             " examples but there are ", captions_.size(), " captions");
  if (labels.defined()) {
    LOOM_CHECK(labels.dim() == 1 && labels.size(0) == n, "TensorPairDataset: expected labels [", n, "] for images ",
               images_.sizes(), ", got shape ", labels.sizes());
    LOOM_CHECK_TYPE(is_integral(labels.dtype()), "TensorPairDataset: expected integer labels, got ",
                    dtype_name(labels.dtype()), " of shape ", labels.sizes());
    for (double v : labels.to_vector()) labels_.push_back(static_cast<int64_t>(v));
  }
  if (tokenizer) tokens_ = tokenizer->encode_batch(captions_, max_len);
}

Example TensorPairDataset::get(int64_t index) const {
  LOOM_CHECK_INDEX(index >= 0 && index < size(), "TensorPairDataset::get: index ", index,
                   " is out of range for a dataset of ", size(), " examples");
  Example e;
  e.image = images_.select(0, index);
  if (tokens_.defined()) e.tokens = tokens_.select(0, index);
  if (!labels_.empty()) e.label = labels_[index];
  e.caption = captions_[index];
  return e;
}

// ---------------------------------------------------------------- DataLoader

namespace {

// Runs f (reading or transforming one sample) and rethrows what it throws as
// a loom::Error of the same kind naming the sample and the batch, so that an
// error from a worker thread still says where it came from.
template <typename F>
auto for_sample(int64_t index, int64_t b, F f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    LOOM_THROW(e.kind(), "DataLoader: sample ", index, " (batch ", b, ") failed: ", e.what());
  } catch (const std::exception& e) {
    LOOM_THROW(ErrorKind::Runtime, "DataLoader: sample ", index, " (batch ", b, ") failed: ", e.what());
  }
}

}  // namespace

// The worker threads of one iteration. Workers claim batch numbers in order
// (next_), never more than capacity_ beyond the batch the loop last asked for
// (first_), and park the results (or the exception) in ready_ until the loop
// takes them; a batch is dropped once the loop has moved past it.
class DataLoader::Prefetcher {
 public:
  Prefetcher(Plan plan, int64_t batches, int64_t workers, bool grad_enabled)
      : plan_(std::move(plan)), batches_(batches), capacity_(2 * workers) {
    threads_.reserve(static_cast<size_t>(workers));
    try {
      for (int64_t i = 0; i < workers; ++i) threads_.emplace_back([this, grad_enabled] { work(grad_enabled); });
    } catch (...) {
      stop();
      throw;
    }
  }
  ~Prefetcher() { stop(); }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  Batch get(int64_t b) {
    LOOM_CHECK_INDEX(b >= 0 && b < batches_, "DataLoader: batch ", b, " is out of range for ", batches_,
                     " batches per epoch");
    std::unique_lock<std::mutex> lock(mu_);
    check_running(b);
    if (b < first_) {
      // An iterator copy went back to a batch already dropped: make it again.
      lock.unlock();
      return make_batch(plan_, b);
    }
    first_ = b;
    ready_.erase(ready_.begin(), ready_.lower_bound(b));
    cv_work_.notify_all();
    cv_ready_.wait(lock, [&] { return stopped_ || ready_.count(b) != 0; });
    check_running(b);
    const Slot& slot = ready_.at(b);
    if (slot.error) std::rethrow_exception(slot.error);
    return slot.batch;
  }

  // Idempotent; a worker finishes the batch in hand first.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
      ready_.clear();
    }
    cv_work_.notify_all();
    cv_ready_.notify_all();
    std::lock_guard<std::mutex> join(join_mu_);
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };

  void check_running(int64_t b) const {
    LOOM_CHECK(!stopped_, "DataLoader: the loader was destroyed while an iteration was running (at batch ", b, ")");
  }

  void work(bool grad_enabled) {
    // Grad mode is per thread: the workers run in the mode of the thread that started the loop.
    autograd::set_grad_enabled(grad_enabled);
    for (;;) {
      int64_t b;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_work_.wait(lock, [&] { return stopped_ || next_ >= batches_ || next_ < first_ + capacity_; });
        if (stopped_ || next_ >= batches_) return;
        b = next_++;
      }
      Slot slot;
      try {
        slot.batch = make_batch(plan_, b);
      } catch (...) {
        slot.error = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopped_) return;
        if (b >= first_) ready_.emplace(b, std::move(slot));
      }
      cv_ready_.notify_all();
    }
  }

  const Plan plan_;
  const int64_t batches_, capacity_;
  std::mutex mu_, join_mu_;
  std::condition_variable cv_work_, cv_ready_;
  int64_t next_ = 0, first_ = 0;
  bool stopped_ = false;
  std::map<int64_t, Slot> ready_;
  std::vector<std::thread> threads_;
};

DataLoader::Iterations::~Iterations() {
  std::vector<std::shared_ptr<Prefetcher>> running;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& w : live_)
      if (auto p = w.lock()) running.push_back(std::move(p));
    live_.clear();
  }
  for (const auto& p : running) p->stop();
}

void DataLoader::Iterations::add(const std::shared_ptr<Prefetcher>& p) const {
  std::lock_guard<std::mutex> lock(mu_);
  live_.erase(std::remove_if(live_.begin(), live_.end(), [](const auto& w) { return w.expired(); }), live_.end());
  live_.push_back(p);
}

Batch DataLoader::Iterator::operator*() const { return prefetch_ ? prefetch_->get(b_) : loader_->batch(b_); }

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, int64_t batch_size, bool shuffle, uint64_t seed,
                       bool drop_last, int64_t num_workers)
    : dataset_(std::move(dataset)), batch_size_(batch_size), shuffle_(shuffle), seed_(seed), drop_last_(drop_last) {
  LOOM_CHECK_VALUE(dataset_ != nullptr, "DataLoader: dataset is null");
  LOOM_CHECK_VALUE(batch_size_ >= 1, "DataLoader: batch_size must be >= 1, got ", batch_size_);
  set_num_workers(num_workers);
  set_epoch(0);
}

void DataLoader::set_epoch(int64_t epoch) {
  LOOM_CHECK_VALUE(epoch >= 0, "DataLoader::set_epoch: epoch must be >= 0, got ", epoch);
  epoch_ = epoch;
  // A new vector rather than an update: running iterations keep the old one.
  auto order = std::make_shared<std::vector<int64_t>>(dataset_->size());
  std::iota(order->begin(), order->end(), int64_t{0});
  if (shuffle_) {
    // Fisher-Yates with our own bounded draws: the same permutation everywhere.
    Generator gen = derive_generator(seed_, {static_cast<uint64_t>(epoch)});
    for (size_t i = order->size(); i > 1; --i) std::swap((*order)[i - 1], (*order)[uniform_int(gen, i)]);
  }
  order_ = std::move(order);
}

void DataLoader::set_num_workers(int64_t num_workers) {
  LOOM_CHECK_VALUE(num_workers >= 0, "DataLoader: num_workers must be >= 0, got ", num_workers);
  num_workers_ = num_workers;
}

int64_t DataLoader::size() const {
  const int64_t n = static_cast<int64_t>(order_->size());
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

DataLoader::Plan DataLoader::plan() const { return Plan{dataset_, order_, batch_size_, seed_, epoch_, transform_}; }

DataLoader::Iterator DataLoader::begin() const {
  const int64_t n = size();
  if (num_workers_ == 0 || n == 0) return Iterator(this, 0);
  auto p = std::make_shared<Prefetcher>(plan(), n, std::min(num_workers_, n), autograd::grad_enabled());
  iterations_.add(p);
  return Iterator(this, 0, std::move(p));
}

Batch DataLoader::batch(int64_t b) const {
  LOOM_CHECK_INDEX(b >= 0 && b < size(), "DataLoader::batch: batch ", b, " is out of range for ", size(),
                   " batches per epoch");
  return make_batch(plan(), b);
}

Batch DataLoader::make_batch(const Plan& p, int64_t b) {
  const std::vector<int64_t>& order = *p.order;
  const int64_t start = b * p.batch_size;
  const int64_t end = std::min<int64_t>(start + p.batch_size, static_cast<int64_t>(order.size()));
  Batch out;
  TensorList images, tokens;
  std::vector<int64_t> labels;
  for (int64_t i = start; i < end; ++i) {
    const int64_t index = order[i];
    Example e = for_sample(index, b, [&] {
      Example ex = p.dataset->get(index);
      if (p.transform) {
        Generator gen = derive_generator(p.seed, {static_cast<uint64_t>(p.epoch), static_cast<uint64_t>(index)});
        ex.image = p.transform(ex.image, gen);
      }
      return ex;
    });
    if (i > start) {
      // Checked here so the error names the examples, not just stack's inputs.
      LOOM_CHECK(e.image.sizes() == images[0].sizes(), "DataLoader: example ", index, " has image shape ",
                 e.image.sizes(), " but example ", out.indices[0], " has ", images[0].sizes());
      LOOM_CHECK(e.tokens.defined() == !tokens.empty() && (tokens.empty() || e.tokens.sizes() == tokens[0].sizes()),
                 "DataLoader: example ", index, " has tokens of shape ",
                 e.tokens.defined() ? e.tokens.sizes() : Shape{}, " but example ", out.indices[0], " has ",
                 tokens.empty() ? Shape{} : tokens[0].sizes(), " (undefined tokens show as [])");
    }
    images.push_back(e.image);
    if (e.tokens.defined()) tokens.push_back(e.tokens);
    labels.push_back(e.label);
    out.captions.push_back(std::move(e.caption));
    out.indices.push_back(index);
  }
  out.images = stack(images);
  if (!tokens.empty()) out.tokens = stack(tokens).to(DType::Int64);
  out.labels = from_vector(labels, {static_cast<int64_t>(labels.size())});
  return out;
}

// ---------------------------------------------------------------- Fashion-MNIST

LabelledImages load_fashion_mnist(const std::string& split, const std::string& root) {
  LOOM_CHECK_VALUE(split == "train" || split == "test",
                   "load_fashion_mnist: split must be \"train\" or \"test\", got \"", split, "\"");
  const std::string prefix = split == "train" ? "train" : "t10k";
  const std::string image_name = prefix + "-images-idx3-ubyte", label_name = prefix + "-labels-idx1-ubyte";
  const std::vector<uint8_t> img = read_idx_bytes(root, image_name), lab = read_idx_bytes(root, label_name);
  const std::vector<int64_t> idims = idx_dims(img, 3, image_name), ldims = idx_dims(lab, 1, label_name);
  LOOM_CHECK(idims[0] == ldims[0], "load_fashion_mnist: ", image_name, " holds ", idims[0], " images but ", label_name,
             " holds ", ldims[0], " labels");
  const int64_t n = idims[0], pixels = idims[1] * idims[2];
  std::vector<float> x(static_cast<size_t>(n * pixels));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(img[16 + i]) / 255.0f;
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (size_t i = 0; i < y.size(); ++i) {
    y[i] = lab[8 + i];
    LOOM_CHECK(y[i] < 10, "load_fashion_mnist: label ", i, " of ", label_name, " is ", y[i], ", expected 0..9");
  }
  return {from_vector(x, {n, 1, idims[1], idims[2]}), from_vector(y, {n})};
}

const std::vector<std::string>& fashion_mnist_classes() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

std::vector<std::string> fashion_mnist_captions(const Tensor& labels, uint64_t seed) {
  LOOM_CHECK(labels.defined() && labels.dim() == 1, "fashion_mnist_captions: expected labels [N], got shape ",
             labels.defined() ? labels.sizes() : Shape{});
  LOOM_CHECK_TYPE(is_integral(labels.dtype()), "fashion_mnist_captions: expected integer labels, got ",
                  dtype_name(labels.dtype()), " of shape ", labels.sizes());
  constexpr uint64_t kTemplates = std::size(kCaptionTemplates);
  Generator gen(seed);
  std::vector<std::string> out;
  out.reserve(labels.numel());
  for (double v : labels.to_vector()) {
    const auto label = static_cast<int64_t>(v);
    LOOM_CHECK_VALUE(label >= 0 && label < 10, "fashion_mnist_captions: label ", label, " at position ", out.size(),
                     " is not a Fashion-MNIST class (0..9)");
    std::string caption = kCaptionTemplates[uniform_int(gen, kTemplates)];
    caption.replace(caption.find("{}"), 2, kCaptionNouns[label]);
    out.push_back(std::move(caption));
  }
  return out;
}

}  // namespace loom::multimodal

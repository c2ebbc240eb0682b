// safetensors reader and writer (format and guarantees in nn/serialization.h).
//
// The header is read strictly by the library's JSON reader (core/json.h):
// objects, arrays, strings (with escapes, \uXXXX and surrogate pairs to
// UTF-8; raw bytes must be well-formed UTF-8) and integers only, since that
// is all a safetensors header holds; depth and length are bounded and
// duplicate keys are an error (two readers could otherwise disagree about
// which entry wins). Every read goes through Cursor, which checks the
// remaining length first.
#include "nn/serialization.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <memory>
#include <set>

#include "core/error.h"
#include "core/json.h"

namespace loom::nn {

static_assert(sizeof(float) == 4 && sizeof(double) == 8, "safetensors needs IEEE float32/float64");

namespace {

#define ST_FAIL(...) LOOM_THROW(::loom::ErrorKind::Runtime, "safetensors: ", __VA_ARGS__)
#define ST_CHECK(cond, ...)            \
  do {                                 \
    if (!(cond)) ST_FAIL(__VA_ARGS__); \
  } while (0)

bool host_is_little_endian() {
  const uint16_t one = 1;
  uint8_t b;
  std::memcpy(&b, &one, 1);
  return b == 1;
}

// ---------------------------------------------------------------- JSON ----
//
// The header is read by json::parse (core/json.h) with duplicate keys, null,
// true, false and raw non-UTF-8 bytes rejected; numbers are checked to be
// int64 integers as they are read. Every error is worded here.

using Json = json::Value;

// Within the safetensors header, every number is an integer (check_integer).
const char* kind_name(const Json& v) {
  switch (v.kind) {
    case Json::Object: return "an object";
    case Json::Array: return "an array";
    case Json::String: return "a string";
    case Json::Number: return "an integer";
    case Json::Bool: return "a boolean";
    case Json::Null: return "null";
  }
  return "?";
}

std::string printable(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string(1, c);
  return detail::str("\\x", "0123456789abcdef"[(c >> 4) & 15], "0123456789abcdef"[c & 15]);
}

std::string at_byte(size_t pos, size_t n) { return detail::str(" (at byte ", pos, " of the ", n, "-byte header)"); }

// Checks a number's text (at byte `offset` of the n-byte header): an
// optional '-', digits without a leading zero, no fraction or exponent, and
// within the int64 range.
void check_integer(const std::string& s, size_t offset, size_t n) {
  size_t i = 0;
  const bool neg = i < s.size() && s[i] == '-';
  if (neg) ++i;
  auto digit = [&](size_t j) { return j < s.size() && s[j] >= '0' && s[j] <= '9'; };
  ST_CHECK(digit(i), "expected a digit in the header's JSON", at_byte(offset + i, n));
  ST_CHECK(!(s[i] == '0' && digit(i + 1)), "integer with a leading zero in the header", at_byte(offset + i, n));
  // Accumulate as a negative number so that INT64_MIN fits.
  int64_t acc = 0;
  for (; digit(i); ++i) {
    const int d = s[i] - '0';
    ST_CHECK(acc >= (std::numeric_limits<int64_t>::min() + d) / 10, "integer out of the int64 range in the header",
             at_byte(offset + i, n));
    acc = acc * 10 - d;
  }
  if (i < s.size()) ST_FAIL("non-integer number in the header (only integers are allowed)", at_byte(offset + i, n));
  if (!neg)
    ST_CHECK(acc != std::numeric_limits<int64_t>::min(), "integer out of the int64 range in the header",
             at_byte(offset + i, n));
}

// The value of a number that check_integer accepted.
int64_t integer(const Json& v) {
  int64_t out = 0;
  std::from_chars(v.text.data(), v.text.data() + v.text.size(), out);
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Words a json::parse error of the n-byte header at p.
[[noreturn]] void header_error(const json::ParseError& e, const char* p, size_t n) {
  const std::string at = at_byte(e.offset, n);
  using C = json::ErrorCode;
  switch (e.code) {
    case C::ExpectedValue:
    case C::ExpectedKey:
    case C::ExpectedColon:
    case C::ExpectedObjectEnd:
    case C::ExpectedArrayEnd:
      if (e.offset >= n) ST_FAIL("header ends in the middle of its JSON", at);
      break;
    case C::TooDeep: {
      // Cut off right after a '[' (and white space): the header ends there,
      // before an element could nest too deeply.
      size_t last = n;
      while (last > 0 && is_space(p[last - 1])) --last;
      if (e.offset >= n && last > 0 && p[last - 1] == '[') ST_FAIL("header ends in the middle of its JSON", at);
      break;
    }
    default: break;
  }
  switch (e.code) {
    case C::TooDeep: ST_FAIL("header JSON nests deeper than ", kMaxJsonDepth, " levels", at);
    case C::ExpectedValue:
      ST_FAIL("unsupported JSON value starting with '", printable(e.detail[0]),
              "' in the header (expected an object, array, string or integer)", at);
    case C::ExpectedKey: ST_FAIL("expected a string key in the header's JSON object", at);
    case C::ExpectedColon: ST_FAIL("expected ':' in the header's JSON", at);
    case C::ExpectedObjectEnd: ST_FAIL("expected '}' in the header's JSON", at);
    case C::ExpectedArrayEnd: ST_FAIL("expected ']' in the header's JSON", at);
    case C::DuplicateKey: ST_FAIL("duplicate key \"", e.detail, "\" in the header", at);
    case C::UnterminatedString: ST_FAIL("unterminated string in the header", at);
    case C::UnterminatedEscape: ST_FAIL("unterminated escape in the header", at);
    case C::ControlCharacter: ST_FAIL("control character inside a string in the header", at);
    case C::InvalidUtf8: ST_FAIL("invalid UTF-8 in a string in the header", at);
    case C::UnknownEscape: ST_FAIL("unknown escape '\\", printable(e.detail[0]), "' in the header", at);
    case C::TruncatedUnicodeEscape: ST_FAIL("truncated \\u escape in the header", at);
    case C::BadHexDigit: ST_FAIL("bad hex digit in a \\u escape in the header", at);
    case C::UnpairedHighSurrogate: ST_FAIL("unpaired high surrogate in a \\u escape in the header", at);
    case C::BadLowSurrogate: ST_FAIL("bad low surrogate in a \\u escape in the header", at);
    case C::UnpairedLowSurrogate: ST_FAIL("unpaired low surrogate in a \\u escape in the header", at);
    case C::TrailingData: ST_FAIL("unexpected data after the header's JSON object", at);
  }
  ST_FAIL(e.what(), at);
}

// The header: one JSON object of n bytes at p.
Json read_header(const char* p, size_t n) {
  size_t start = 0;
  while (start < n && is_space(p[start])) ++start;
  ST_CHECK(start < n && p[start] == '{', "header must be a JSON object starting with '{'", at_byte(start, n));
  json::Options options;
  options.max_depth = kMaxJsonDepth - 1;  // the header object and kMaxJsonDepth - 1 levels inside it
  options.reject_duplicate_keys = true;   // two readers could otherwise disagree about which entry wins
  options.allow_literals = false;
  options.check_utf8 = true;  // names and metadata become Python str and JSON text
  options.greedy_numbers = false;
  options.on_number = [n](const Json& v) { check_integer(v.text, v.offset, n); };
  try {
    return json::parse(p, n, options);
  } catch (const json::ParseError& e) {
    header_error(e, p, n);
  }
}

// --------------------------------------------------------------- dtypes ----

struct DTypeName {
  DType dtype;
  const char* name;
};
constexpr DTypeName kDTypes[] = {{DType::Float32, "F32"},
                                 {DType::Float64, "F64"},
                                 {DType::Int32, "I32"},
                                 {DType::Int64, "I64"},
                                 {DType::Bool, "BOOL"}};

const char* safetensors_dtype(DType t) {
  for (const auto& d : kDTypes)
    if (d.dtype == t) return d.name;
  LOOM_THROW(ErrorKind::Type, "safetensors: cannot save dtype ", dtype_name(t));
}

DType parse_dtype_name(const std::string& tensor, const std::string& name) {
  for (const auto& d : kDTypes)
    if (name == d.name) return d.dtype;
  if (name == "F16" || name == "BF16")
    LOOM_THROW(ErrorKind::NotImplemented, "safetensors: tensor \"", tensor, "\" has dtype ", name,
               ", which loom does not support yet (supported: F32, F64, I32, I64, BOOL)");
  static const char* known[] = {"F8_E4M3", "F8_E5M2", "I8", "U8",      "I16",     "U16", "U32",
                                "U64",     "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64"};
  for (const char* k : known)
    if (name == k)
      LOOM_THROW(ErrorKind::NotImplemented, "safetensors: tensor \"", tensor, "\" has dtype ", name,
                 ", which loom does not support (supported: F32, F64, I32, I64, BOOL)");
  ST_FAIL("tensor \"", tensor, "\" has unknown dtype \"", name, "\" (supported: F32, F64, I32, I64, BOOL)");
}

// ------------------------------------------------------------- entries ----

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  int64_t numel;
  uint64_t begin, end;
  size_t header_index;
};

Entry parse_entry(const std::string& name, const Json& info, uint64_t data_size, size_t index) {
  ST_CHECK(info.kind == Json::Object, "entry \"", name, "\" must be an object, got ", kind_name(info));
  const Json* dtype = nullptr;
  const Json* shape = nullptr;
  const Json* offsets = nullptr;
  for (const auto& [k, v] : info.members) {
    if (k == "dtype") dtype = &v;
    else if (k == "shape") shape = &v;
    else if (k == "data_offsets") offsets = &v;
    else ST_FAIL("entry \"", name, "\" has an unknown field \"", k, "\" (expected dtype, shape, data_offsets)");
  }
  ST_CHECK(dtype && shape && offsets, "entry \"", name, "\" needs the fields dtype, shape and data_offsets");
  ST_CHECK(dtype->kind == Json::String, "entry \"", name, "\": dtype must be a string, got ", kind_name(*dtype));
  ST_CHECK(shape->kind == Json::Array, "entry \"", name, "\": shape must be an array, got ", kind_name(*shape));
  ST_CHECK(offsets->kind == Json::Array && offsets->items.size() == 2, "entry \"", name,
           "\": data_offsets must be an array of two integers [begin, end]");

  Entry e;
  e.name = name;
  e.header_index = index;
  e.dtype = parse_dtype_name(name, dtype->text);
  ST_CHECK(shape->items.size() <= static_cast<size_t>(kMaxDims), "entry \"", name, "\" has ", shape->items.size(),
           " dimensions (at most ", kMaxDims, " are allowed)");
  // The product of the non-zero sizes must stay representable, so that strides
  // and byte counts computed from the shape cannot overflow either.
  const int64_t limit = std::numeric_limits<int64_t>::max() / 16;
  int64_t product = 1;
  bool has_zero = false;
  for (const Json& d : shape->items) {
    ST_CHECK(d.kind == Json::Number, "entry \"", name, "\": shape must hold integers, got ", kind_name(d));
    const int64_t size = integer(d);
    ST_CHECK(size >= 0, "entry \"", name, "\" has a negative size ", size, " in its shape");
    e.shape.push_back(size);
    if (size == 0) {
      has_zero = true;
      continue;
    }
    ST_CHECK(product <= limit / size, "entry \"", name, "\": the product of the shape ", e.shape, " overflows");
    product *= size;
  }
  e.numel = has_zero ? 0 : product;
  for (const Json& o : offsets->items) {
    ST_CHECK(o.kind == Json::Number && integer(o) >= 0, "entry \"", name,
             "\": data_offsets must be non-negative integers");
  }
  e.begin = static_cast<uint64_t>(integer(offsets->items[0]));
  e.end = static_cast<uint64_t>(integer(offsets->items[1]));
  ST_CHECK(e.begin <= e.end, "entry \"", name, "\": data_offsets [", e.begin, ", ", e.end, "] has begin > end");
  ST_CHECK(e.end <= data_size, "entry \"", name, "\": data_offsets [", e.begin, ", ", e.end,
           "] reach past the end of the ", data_size, "-byte data section (truncated file?)");
  const uint64_t want = static_cast<uint64_t>(e.numel) * itemsize(e.dtype);  // numel < 2^59: no overflow
  ST_CHECK(e.end - e.begin == want, "entry \"", name, "\": shape ", e.shape, " of dtype ", dtype->text, " needs ", want,
           " bytes but data_offsets [", e.begin, ", ", e.end, "] span ", e.end - e.begin);
  return e;
}

Tensor make_tensor(const Entry& e, const uint8_t* data) {
  if (e.dtype == DType::Bool) {
    // A byte other than 0/1 is not a valid C++ bool: normalise.
    std::vector<uint8_t> bytes(data + e.begin, data + e.end);
    for (auto& b : bytes) b = b != 0;
    return from_blob(bytes.data(), e.shape, DType::Bool);
  }
  return from_blob(data + e.begin, e.shape, e.dtype);
}

// --------------------------------------------------------------- writer ----

void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += detail::str("\\u00", "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string os_error(const std::string& what, const std::string& path) {
  return detail::str(what, " '", path, "': ", std::strerror(errno));
}

void write_all(int fd, const uint8_t* p, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) LOOM_THROW(ErrorKind::Runtime, "save: ", os_error("cannot write", path));
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

// ------------------------------------------------------------ public API ----

Checkpoint parse_checkpoint(const uint8_t* data, size_t size) {
  ST_CHECK(host_is_little_endian(), "only little-endian hosts are supported");
  ST_CHECK(data != nullptr || size == 0, "null buffer");
  ST_CHECK(size >= 8, "file has ", size,
           " bytes, fewer than the 8-byte header length (truncated or not a safetensors file)");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | data[i];
  ST_CHECK(header_len <= kMaxHeaderBytes, "header length ", header_len, " exceeds the limit of ", kMaxHeaderBytes,
           " bytes (not a safetensors file?)");
  ST_CHECK(header_len <= size - 8, "header length ", header_len, " exceeds the ", size - 8,
           " bytes that follow it (truncated or not a safetensors file)");
  ST_CHECK(header_len >= 2, "header length ", header_len, " is too small to hold a JSON object");

  Json header = read_header(reinterpret_cast<const char*>(data + 8), header_len);
  const uint8_t* section = data + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;

  Checkpoint out;
  std::vector<Entry> entries;
  for (size_t i = 0; i < header.members.size(); ++i) {
    const auto& [name, value] = header.members[i];
    if (name == "__metadata__") {
      ST_CHECK(value.kind == Json::Object, "__metadata__ must be an object, got ", kind_name(value));
      for (const auto& [k, v] : value.members) {
        ST_CHECK(v.kind == Json::String, "__metadata__ value of \"", k, "\" must be a string, got ", kind_name(v));
        out.metadata.emplace(k, v.text);
      }
      continue;
    }
    entries.push_back(parse_entry(name, value, data_size, i));
  }

  // Sorted by position, the tensors must tile the data section exactly: no
  // overlap (two tensors aliasing bytes) and no hole (hidden bytes).
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end != b.end ? a.end < b.end : a.header_index < b.header_index;
  });
  uint64_t cursor = 0;
  const Entry* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < cursor)
      ST_FAIL("tensors \"", prev->name, "\" [", prev->begin, ", ", prev->end, ") and \"", e.name, "\" [", e.begin, ", ",
              e.end, ") overlap");
    ST_CHECK(e.begin == cursor, "the data section has a hole at bytes [", cursor, ", ", e.begin, ") before tensor \"",
             e.name, "\"");
    cursor = e.end;
    prev = &e;
  }
  ST_CHECK(cursor == data_size, "the data section has ", data_size, " bytes but the tensors use ", cursor,
           " (trailing bytes or a corrupt header)");

  out.tensors.reserve(entries.size());
  for (const Entry& e : entries) out.tensors.emplace_back(e.name, make_tensor(e, section));
  return out;
}

StateDict parse_safetensors(const uint8_t* data, size_t size) { return parse_checkpoint(data, size).tensors; }

std::vector<uint8_t> serialize_safetensors(const StateDict& tensors, const Metadata& metadata) {
  LOOM_CHECK(host_is_little_endian(), "save: only little-endian hosts are supported");
  std::set<std::string> names;
  std::vector<Tensor> host;
  host.reserve(tensors.size());
  std::string json = "{";
  bool first = true;
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    for (auto it = metadata.begin(); it != metadata.end(); ++it) {
      if (it != metadata.begin()) json += ',';
      append_json_string(json, it->first);
      json += ':';
      append_json_string(json, it->second);
    }
    json += '}';
    first = false;
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    LOOM_CHECK_VALUE(t.defined(), "save: tensor \"", name, "\" is undefined");
    LOOM_CHECK_VALUE(name != "__metadata__", "save: \"__metadata__\" is reserved and cannot name a tensor");
    LOOM_CHECK_VALUE(names.insert(name).second, "save: duplicate tensor name \"", name, "\"");
    const char* dt = safetensors_dtype(t.dtype());
    Tensor h = t.detach().cpu().contiguous();
    host.push_back(h);
    if (!first) json += ',';
    first = false;
    append_json_string(json, name);
    json += ":{\"dtype\":\"";
    json += dt;
    json += "\",\"shape\":[";
    for (size_t d = 0; d < h.sizes().size(); ++d) json += detail::str(d ? "," : "", h.sizes()[d]);
    json += detail::str("],\"data_offsets\":[", offset, ",", offset + h.nbytes(), "]}");
    offset += h.nbytes();
  }
  json += '}';
  // Pad with spaces so that the data section starts 8-byte aligned, as the
  // safetensors library does.
  while ((json.size() + 8) % 8 != 0) json += ' ';

  std::vector<uint8_t> out(8 + json.size() + offset);
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(out.data() + 8, json.data(), json.size());
  uint8_t* p = out.data() + 8 + json.size();
  for (const Tensor& h : host) {
    if (h.nbytes() > 0) std::memcpy(p, h.data_ptr(), h.nbytes());
    p += h.nbytes();
  }
  return out;
}

namespace {

// The temporary of a save lives beside its target (`<path>.tmp.XXXXXX`) so
// that rename() stays within one file system and is atomic. Its writer holds
// an exclusive flock on it until the rename; the kernel drops that lock when
// the writer dies, so a temporary that can be locked by someone else belongs
// to a save that was killed and can go.
void remove_stale_temporaries(const std::string& path) {
  auto slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string prefix = (slash == std::string::npos ? path : path.substr(slash + 1)) + ".tmp.";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() != prefix.size() + 6 || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string file = dir + "/" + name;
    int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat held, named;
    // Unlink only what is locked here and is still the file under that name.
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0 && ::fstat(fd, &held) == 0 && S_ISREG(held.st_mode) &&
        ::lstat(file.c_str(), &named) == 0 && named.st_ino == held.st_ino && named.st_dev == held.st_dev)
      ::unlink(file.c_str());
    ::close(fd);
  }
  ::closedir(d);
}

// Creates and locks this save's temporary. A cleaner of another save may
// unlink a fresh file between mkstemp and flock; then it has no link left
// and another name is drawn.
int create_locked_temporary(const std::string& path, std::string& tmp) {
  for (;;) {
    std::string tmpl = path + ".tmp.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = ::mkstemp(buf.data());
    if (fd < 0) LOOM_THROW(ErrorKind::Runtime, "save: ", os_error("cannot create a temporary file for", path));
    tmp.assign(buf.data());
    int rc;
    do rc = ::flock(fd, LOCK_EX);
    while (rc != 0 && errno == EINTR);
    if (rc != 0) return fd;  // a file system without locks: no cleaner can lock (and remove) it either
    struct stat st;
    if (::fstat(fd, &st) == 0 && st.st_nlink > 0) return fd;
    ::close(fd);
  }
}

}  // namespace

void save(const StateDict& tensors, const std::string& path, const Metadata& metadata) {
  LOOM_CHECK_VALUE(!path.empty(), "save: empty path");
  std::vector<uint8_t> bytes = serialize_safetensors(tensors, metadata);

  remove_stale_temporaries(path);
  std::string tmp;
  int fd = create_locked_temporary(path, tmp);
  try {
    ::fchmod(fd, 0644);
    write_all(fd, bytes.data(), bytes.size(), tmp);
    if (::fsync(fd) != 0) LOOM_THROW(ErrorKind::Runtime, "save: ", os_error("cannot fsync", tmp));
    if (::close(fd) != 0) {
      fd = -1;
      LOOM_THROW(ErrorKind::Runtime, "save: ", os_error("cannot close", tmp));
    }
    fd = -1;
    if (::rename(tmp.c_str(), path.c_str()) != 0)
      LOOM_THROW(ErrorKind::Runtime, "save: ", os_error("cannot rename the temporary file onto", path));
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  // Make the rename itself durable (best effort: some file systems refuse).
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

Checkpoint load_checkpoint(const std::string& path, Device device) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) LOOM_THROW(ErrorKind::Runtime, "load: ", os_error("cannot open", path));
  std::vector<uint8_t> bytes;
  try {
    struct stat st;
    if (::fstat(fd, &st) != 0) LOOM_THROW(ErrorKind::Runtime, "load: ", os_error("cannot stat", path));
    LOOM_CHECK(S_ISREG(st.st_mode), "load: '", path, "' is not a regular file");
    bytes.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < bytes.size()) {
      ssize_t r = ::read(fd, bytes.data() + got, bytes.size() - got);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) LOOM_THROW(ErrorKind::Runtime, "load: ", os_error("cannot read", path));
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    bytes.resize(got);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);

  Checkpoint ck;
  try {
    ck = parse_checkpoint(bytes.data(), bytes.size());
  } catch (const Error& e) {
    throw Error(e.kind(), detail::str("load('", path, "'): ", e.what()));
  }
  if (!device.is_cpu())
    for (auto& [name, t] : ck.tensors) t = t.to(device);
  return ck;
}

StateDict load(const std::string& path, Device device) { return load_checkpoint(path, device).tensors; }

}  // namespace loom::nn

// The JSON reader of core/json.h: recursive descent with a depth bound, so
// that a line of 100,000 '[' raises instead of overflowing the stack.
#include "core/json.h"

#include <set>

#include "core/utf8.h"

namespace loom::json {

namespace {

const char* default_message(ErrorCode code) {
  switch (code) {
    case ErrorCode::TooDeep: return "JSON nests too deeply";
    case ErrorCode::ExpectedValue: return "expected a JSON value";
    case ErrorCode::ExpectedKey: return "expected a string key in an object";
    case ErrorCode::ExpectedColon: return "expected ':' after a key";
    case ErrorCode::ExpectedObjectEnd: return "expected ',' or '}' in an object";
    case ErrorCode::ExpectedArrayEnd: return "expected ',' or ']' in an array";
    case ErrorCode::DuplicateKey: return "duplicate key";
    case ErrorCode::UnterminatedString: return "unterminated string";
    case ErrorCode::UnterminatedEscape: return "unterminated escape";
    case ErrorCode::ControlCharacter: return "control character inside a string";
    case ErrorCode::InvalidUtf8: return "invalid UTF-8 in a string";
    case ErrorCode::UnknownEscape: return "unknown escape";
    case ErrorCode::TruncatedUnicodeEscape: return "truncated \\u escape";
    case ErrorCode::BadHexDigit: return "bad hex digit in a \\u escape";
    case ErrorCode::UnpairedHighSurrogate: return "unpaired high surrogate in a \\u escape";
    case ErrorCode::BadLowSurrogate: return "bad low surrogate in a \\u escape";
    case ErrorCode::UnpairedLowSurrogate: return "unpaired low surrogate in a \\u escape";
    case ErrorCode::TrailingData: return "unexpected data after the JSON value";
  }
  return "JSON error";
}

std::string full_message(ErrorCode code, size_t offset, const std::string& detail) {
  std::string m = default_message(code);
  if (!detail.empty()) m += " \"" + detail + "\"";
  return m + " at byte " + std::to_string(offset);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_number_char(char c) { return is_digit(c) || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E'; }

void put_utf8(std::string& s, unsigned cp) {
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Reader {
 public:
  Reader(const char* p, size_t n, const Options& o) : p_(p), n_(n), o_(o) {}

  Value document() {
    Value v = value(0);
    skip_ws();
    if (pos_ != n_) fail(ErrorCode::TrailingData);
    return v;
  }

 private:
  [[noreturn]] void fail(ErrorCode code, std::string detail = {}) const {
    throw ParseError(code, pos_, std::move(detail));
  }
  void skip_ws() {
    while (pos_ < n_ && (p_[pos_] == ' ' || p_[pos_] == '\t' || p_[pos_] == '\n' || p_[pos_] == '\r')) ++pos_;
  }
  bool at(char c) const { return pos_ < n_ && p_[pos_] == c; }
  bool literal(const char* word, size_t len) {
    if (n_ - pos_ < len || std::char_traits<char>::compare(p_ + pos_, word, len) != 0) return false;
    pos_ += len;
    return true;
  }

  Value value(int depth) {
    if (depth > o_.max_depth) fail(ErrorCode::TooDeep);
    skip_ws();
    if (pos_ >= n_) fail(ErrorCode::ExpectedValue);
    Value v;
    v.offset = pos_;
    const char c = p_[pos_];
    if (c == '{') {
      v.kind = Value::Object;
      object(v, depth);
    } else if (c == '[') {
      v.kind = Value::Array;
      array(v, depth);
    } else if (c == '"') {
      v.kind = Value::String;
      v.text = string();
    } else if (c == '-' || is_digit(c)) {
      v.kind = Value::Number;
      number(v);
    } else if (o_.allow_literals && literal("null", 4)) {
    } else if (o_.allow_literals && literal("true", 4)) {
      v.kind = Value::Bool;
      v.boolean = true;
    } else if (o_.allow_literals && literal("false", 5)) {
      v.kind = Value::Bool;
    } else {
      fail(ErrorCode::ExpectedValue, std::string(1, c));
    }
    return v;
  }

  void object(Value& v, int depth) {
    ++pos_;
    skip_ws();
    if (at('}')) {
      ++pos_;
      return;
    }
    std::set<std::string> keys;
    for (;;) {
      skip_ws();
      if (!at('"')) fail(ErrorCode::ExpectedKey);
      std::string key = string();
      if (o_.reject_duplicate_keys && !keys.insert(key).second) fail(ErrorCode::DuplicateKey, key);
      skip_ws();
      if (!at(':')) fail(ErrorCode::ExpectedColon, key);
      ++pos_;
      v.members.emplace_back(std::move(key), value(depth + 1));
      skip_ws();
      if (at(',')) {
        ++pos_;
      } else if (at('}')) {
        ++pos_;
        return;
      } else {
        fail(ErrorCode::ExpectedObjectEnd);
      }
    }
  }

  void array(Value& v, int depth) {
    ++pos_;
    skip_ws();
    if (at(']')) {
      ++pos_;
      return;
    }
    for (;;) {
      v.items.push_back(value(depth + 1));
      skip_ws();
      if (at(',')) {
        ++pos_;
      } else if (at(']')) {
        ++pos_;
        return;
      } else {
        fail(ErrorCode::ExpectedArrayEnd);
      }
    }
  }

  void number(Value& v) {
    const size_t start = pos_;
    if (!o_.greedy_numbers) {
      if (at('-')) ++pos_;
      while (pos_ < n_ && is_digit(p_[pos_])) ++pos_;
    }
    if (o_.greedy_numbers || at('.') || at('e') || at('E'))
      while (pos_ < n_ && is_number_char(p_[pos_])) ++pos_;
    v.text.assign(p_ + start, pos_ - start);
    if (o_.on_number) o_.on_number(v);
  }

  unsigned hex4() {
    if (n_ - pos_ < 4) fail(ErrorCode::TruncatedUnicodeEscape);
    unsigned u = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = p_[pos_++];
      u <<= 4;
      if (c >= '0' && c <= '9') u |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') u |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') u |= static_cast<unsigned>(c - 'A' + 10);
      else fail(ErrorCode::BadHexDigit);
    }
    return u;
  }

  // At the opening quote; returns the decoded value.
  std::string string() {
    ++pos_;
    std::string s;
    for (;;) {
      if (pos_ >= n_) fail(ErrorCode::UnterminatedString);
      const char c = p_[pos_++];
      if (c == '"') return s;
      if (static_cast<unsigned char>(c) < 0x20) fail(ErrorCode::ControlCharacter);
      if (static_cast<unsigned char>(c) >= 0x80 && o_.check_utf8) {
        --pos_;
        const size_t len = utf8_sequence_length(reinterpret_cast<const unsigned char*>(p_) + pos_, n_ - pos_);
        if (len == 0) fail(ErrorCode::InvalidUtf8);
        s.append(p_ + pos_, len);
        pos_ += len;
        continue;
      }
      if (c != '\\') {
        s += c;
        continue;
      }
      if (pos_ >= n_) fail(ErrorCode::UnterminatedEscape);
      const char e = p_[pos_++];
      switch (e) {
        case '"': s += '"'; break;
        case '\\': s += '\\'; break;
        case '/': s += '/'; break;
        case 'b': s += '\b'; break;
        case 'f': s += '\f'; break;
        case 'n': s += '\n'; break;
        case 'r': s += '\r'; break;
        case 't': s += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (!literal("\\u", 2)) fail(ErrorCode::UnpairedHighSurrogate);
            const unsigned lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail(ErrorCode::BadLowSurrogate);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail(ErrorCode::UnpairedLowSurrogate);
          }
          put_utf8(s, cp);
          break;
        }
        default: fail(ErrorCode::UnknownEscape, std::string(1, e));
      }
    }
  }

  const char* p_;
  size_t n_;
  const Options& o_;
  size_t pos_ = 0;
};

}  // namespace

ParseError::ParseError(ErrorCode code_, size_t offset_, std::string detail_)
    : std::runtime_error(full_message(code_, offset_, detail_)),
      code(code_),
      offset(offset_),
      detail(std::move(detail_)) {}

Value parse(const char* text, size_t size, const Options& options) { return Reader(text, size, options).document(); }

}  // namespace loom::json

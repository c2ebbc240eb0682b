// JSON text: json_string() writes a string literal; parse() reads a document.
//
// json_string is for the few places that write JSON by hand (the profiler's
// Chrome trace, the trainer's JSONL log).
//
// parse() is the one JSON reader of the library (safetensors headers, JSONL
// captions files). It is strict about structure and leaves policy to the
// caller: numbers are kept as their literal text (the caller decides whether
// it wants an integer or a float), object members stay in file order, and
// errors come as one exception type, ParseError, that carries a code, the
// byte offset and a detail, so that each caller words its own messages and
// raises its own error kind.
#pragma once
#include <cstddef>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace loom {

inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

namespace json {

struct Value {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;      // a Bool's value
  std::string text;          // a String's decoded value, or a Number's literal text as written
  std::vector<Value> items;  // an Array's elements
  std::vector<std::pair<std::string, Value>> members;  // an Object's members, in file order
  size_t offset = 0;                                   // the byte offset of the value's first character
};

enum class ErrorCode {
  TooDeep,                 // a value nested deeper than Options::max_depth
  ExpectedValue,           // no value starts here (detail: the character found; empty at the end of the text)
  ExpectedKey,             // no '"' where an object key must start
  ExpectedColon,           // no ':' after a key (detail: the key)
  ExpectedObjectEnd,       // neither ',' nor '}' after an object member
  ExpectedArrayEnd,        // neither ',' nor ']' after an array element
  DuplicateKey,            // a key seen before in the same object (detail: the key)
  UnterminatedString,      // the text ends inside a string
  UnterminatedEscape,      // the text ends right after a backslash in a string
  ControlCharacter,        // a raw byte below 0x20 inside a string (offset: just past it)
  InvalidUtf8,             // a raw byte that starts no well-formed UTF-8 sequence (offset: at it)
  UnknownEscape,           // detail: the character after the backslash (offset: just past it)
  TruncatedUnicodeEscape,  // fewer than four characters left for a \u escape
  BadHexDigit,             // a \u escape with a non-hex digit (offset: just past it)
  UnpairedHighSurrogate,   // a \u escape of a high surrogate not followed by \u
  BadLowSurrogate,         // ... followed by a \u escape that is not a low surrogate
  UnpairedLowSurrogate,    // a \u escape of a low surrogate with no high one before it
  TrailingData,            // more than white space after the value
};

// A parse error: what went wrong and where. offset is the reader's position
// in the text when it gave up (it equals the text's size when the text ran
// out); what() is a plain English message for callers that want no wording
// of their own.
class ParseError : public std::runtime_error {
 public:
  ParseError(ErrorCode code, size_t offset, std::string detail);
  ErrorCode code;
  size_t offset;
  std::string detail;
};

struct Options {
  // The most arrays and objects a value may sit inside (the top value sits
  // inside none); deeper input is ErrorCode::TooDeep instead of a deep
  // recursion.
  int max_depth = 64;
  bool reject_duplicate_keys = false;
  // Whether null, true and false are values; without, they are
  // ErrorCode::ExpectedValue.
  bool allow_literals = true;
  // Whether raw bytes of 0x80 and above inside strings must be well-formed
  // UTF-8 (core/utf8.h); without, they are copied as they are.
  bool check_utf8 = false;
  // Where a number's text ends. A number starts at '-' or a digit; greedy,
  // it takes every following digit, '+', '-', '.', 'e' and 'E'; otherwise it
  // takes the leading '-' and digits, and the rest of that run only when
  // '.', 'e' or 'E' follows the digits (so "1-2" ends at '-').
  bool greedy_numbers = true;
  // Called with each number as soon as its text is read, before anything
  // after it: a caller that accepts only some numbers throws from here, so
  // its error comes in reading order.
  std::function<void(const Value&)> on_number;
};

// Reads the one JSON value that fills text[0, size) (white space around it
// allowed). Throws ParseError; exceptions thrown by on_number pass through.
Value parse(const char* text, size_t size, const Options& options = {});

}  // namespace json
}  // namespace loom

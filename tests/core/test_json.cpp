// The JSON reader of core/json.h: values and nesting, numbers kept as text,
// string escapes to UTF-8, the options (depth limit, duplicate keys,
// literals, UTF-8 checks, number extent, the number hook) and the error
// codes with their byte offsets.
#include <catch2/catch_test_macros.hpp>

#include <stdexcept>
#include <string>

#include "core/json.h"

using loom::json::ErrorCode;
using loom::json::Options;
using loom::json::ParseError;
using loom::json::Value;

namespace {

Value parse(const std::string& s, const Options& o = {}) { return loom::json::parse(s.data(), s.size(), o); }

// The error that parsing s raises.
ParseError error_of(const std::string& s, const Options& o = {}) {
  try {
    parse(s, o);
  } catch (const ParseError& e) {
    return e;
  }
  FAIL("no ParseError for: " << s);
  throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("json: values, nesting and member order", "[core][json]") {
  Value v = parse(R"( {"b": [1, -2.5e+3, "x", null, true, false, {}], "a": {"c": []}} )");
  REQUIRE(v.kind == Value::Object);
  CHECK(v.offset == 1);
  REQUIRE(v.members.size() == 2);
  CHECK(v.members[0].first == "b");  // file order, not sorted
  CHECK(v.members[1].first == "a");
  const Value& b = v.members[0].second;
  REQUIRE(b.kind == Value::Array);
  REQUIRE(b.items.size() == 7);
  CHECK(b.items[0].kind == Value::Number);
  CHECK(b.items[0].text == "1");
  CHECK(b.items[1].text == "-2.5e+3");
  CHECK(b.items[2].kind == Value::String);
  CHECK(b.items[2].text == "x");
  CHECK(b.items[3].kind == Value::Null);
  CHECK(b.items[4].kind == Value::Bool);
  CHECK(b.items[4].boolean);
  CHECK(b.items[5].kind == Value::Bool);
  CHECK_FALSE(b.items[5].boolean);
  CHECK(b.items[6].kind == Value::Object);
  CHECK(b.items[6].members.empty());
  const Value& a = v.members[1].second;
  REQUIRE(a.kind == Value::Object);
  REQUIRE(a.members.size() == 1);
  CHECK(a.members[0].second.kind == Value::Array);
  CHECK(a.members[0].second.items.empty());
  // Offsets point at each value's first character.
  CHECK(b.offset == 7);
  CHECK(b.items[1].offset == 11);

  CHECK(parse("\"s\"").text == "s");
  CHECK(parse("  42  ").text == "42");
  CHECK(parse("[[[]]]").items.at(0).items.at(0).items.empty());
}

TEST_CASE("json: numbers are kept as their text", "[core][json]") {
  for (const char* n : {"0", "-0", "123", "-9223372036854775808", "99999999999999999999", "1.5", "1e-7", "01"})
    CHECK(parse(n).text == n);
  // Greedy (the default): the whole run of number characters.
  CHECK(parse("[1-2+e]").items.at(0).text == "1-2+e");
  // Not greedy: the digits, and the rest of the run only after '.', 'e' or 'E'.
  Options o;
  o.greedy_numbers = false;
  CHECK(parse("[1.5-2]", o).items.at(0).text == "1.5-2");
  CHECK(parse("[-]", o).items.at(0).text == "-");
  ParseError e = error_of("[1-2]", o);
  CHECK(e.code == ErrorCode::ExpectedArrayEnd);
  CHECK(e.offset == 2);
}

TEST_CASE("json: the number hook sees each number in reading order", "[core][json]") {
  Options o;
  std::string seen;
  o.on_number = [&](const Value& v) {
    seen += v.text + "@" + std::to_string(v.offset) + " ";
    if (v.text == "7") throw std::runtime_error("seven");
  };
  parse(R"({"a": 1, "b": [2, 30]})", o);
  CHECK(seen == "1@6 2@15 30@18 ");
  // A throw from the hook passes through, before later syntax errors are seen.
  seen.clear();
  std::string message;
  try {
    parse("[7, oops]", o);
  } catch (const ParseError&) {
    message = "ParseError";
  } catch (const std::runtime_error& e) {
    message = e.what();
  }
  CHECK(message == "seven");
  CHECK(seen == "7@1 ");
}

TEST_CASE("json: string escapes decode to UTF-8", "[core][json]") {
  CHECK(parse(R"("a\"b\\c\/d\b\f\n\r\t")").text == "a\"b\\c/d\b\f\n\r\t");
  CHECK(parse(R"("\u0041\u00e9\u20AC")").text == "A\xc3\xa9\xe2\x82\xac");
  CHECK(parse(R"("\ud83d\ude00")").text == "\xf0\x9f\x98\x80");  // a surrogate pair
  CHECK(parse(R"("\u0000")").text == std::string(1, '\0'));
  // Raw bytes pass unchanged unless check_utf8 asks for well-formed UTF-8.
  CHECK(parse("\"caf\xc3\xa9 \xff\"").text == "caf\xc3\xa9 \xff");
  Options o;
  o.check_utf8 = true;
  CHECK(parse("\"caf\xc3\xa9\"", o).text == "caf\xc3\xa9");
  ParseError e = error_of("\"ab\xc3(\"", o);
  CHECK(e.code == ErrorCode::InvalidUtf8);
  CHECK(e.offset == 3);
}

TEST_CASE("json: duplicate keys are an error only when asked", "[core][json]") {
  const std::string s = R"({"k": 1, "k": 2})";
  Value v = parse(s);
  REQUIRE(v.members.size() == 2);
  CHECK(v.members[1].second.text == "2");
  Options o;
  o.reject_duplicate_keys = true;
  ParseError e = error_of(s, o);
  CHECK(e.code == ErrorCode::DuplicateKey);
  CHECK(e.detail == "k");
  CHECK(e.offset == 12);  // just past the second key
  // Keys are unique per object: the same key in two objects is fine.
  CHECK(parse(R"({"k": {"k": 1}})", o).members.size() == 1);
}

TEST_CASE("json: the depth limit", "[core][json]") {
  Options o;
  o.max_depth = 3;
  CHECK_NOTHROW(parse("[[[1]]]", o));  // the 1 sits inside three arrays
  CHECK_NOTHROW(parse(R"({"a":{"b":{"c":{}}}})", o));
  ParseError e = error_of("[[[[1]]]]", o);
  CHECK(e.code == ErrorCode::TooDeep);
  CHECK(e.offset == 4);
  CHECK(error_of(R"({"a":{"b":{"c":{"d":1}}}})", o).code == ErrorCode::TooDeep);
  // The default bound turns a very deep document into an error, not a stack overflow.
  CHECK(error_of(std::string(100000, '[')).code == ErrorCode::TooDeep);
  o.max_depth = 0;
  CHECK(parse("7", o).text == "7");
  CHECK(parse("[]", o).items.empty());  // a container with nothing inside
  CHECK(error_of("[1]", o).code == ErrorCode::TooDeep);
}

TEST_CASE("json: literals can be turned off", "[core][json]") {
  Options o;
  o.allow_literals = false;
  ParseError e = error_of("[1, null]", o);
  CHECK(e.code == ErrorCode::ExpectedValue);
  CHECK(e.detail == "n");
  CHECK(e.offset == 4);
}

TEST_CASE("json: errors carry a code, the byte offset and a detail", "[core][json]") {
  struct Case {
    std::string text;
    ErrorCode code;
    size_t offset;
    std::string detail;
  };
  const Case cases[] = {
      {"", ErrorCode::ExpectedValue, 0, ""},
      {"   ", ErrorCode::ExpectedValue, 3, ""},
      {"[1,]", ErrorCode::ExpectedValue, 3, "]"},
      {"nul", ErrorCode::ExpectedValue, 0, "n"},
      {"{", ErrorCode::ExpectedKey, 1, ""},
      {"{a:1}", ErrorCode::ExpectedKey, 1, ""},
      {"{\"a\":1,}", ErrorCode::ExpectedKey, 7, ""},
      {"{\"a\" 1}", ErrorCode::ExpectedColon, 5, "a"},
      {"{\"a\":1", ErrorCode::ExpectedObjectEnd, 6, ""},
      {"{\"a\":1 2}", ErrorCode::ExpectedObjectEnd, 7, ""},
      {"[1 2]", ErrorCode::ExpectedArrayEnd, 3, ""},
      {"\"abc", ErrorCode::UnterminatedString, 4, ""},
      {"\"ab\\", ErrorCode::UnterminatedEscape, 4, ""},
      {"\"a\x01\"", ErrorCode::ControlCharacter, 3, ""},
      {"\"\\q\"", ErrorCode::UnknownEscape, 3, "q"},
      {"\"\\u12\"", ErrorCode::TruncatedUnicodeEscape, 3, ""},
      {"\"\\u12x4\"", ErrorCode::BadHexDigit, 6, ""},
      {"\"\\ud800\"", ErrorCode::UnpairedHighSurrogate, 7, ""},
      {"\"\\ud800\\u0041\"", ErrorCode::BadLowSurrogate, 13, ""},
      {"\"\\udc00\"", ErrorCode::UnpairedLowSurrogate, 7, ""},
      {"{} x", ErrorCode::TrailingData, 3, ""},
      {"1 2", ErrorCode::TrailingData, 2, ""},
  };
  for (const Case& c : cases) {
    INFO("text: " << c.text);
    ParseError e = error_of(c.text);
    CHECK(e.code == c.code);
    CHECK(e.offset == c.offset);
    CHECK(e.detail == c.detail);
    CHECK(std::string(e.what()).find("at byte " + std::to_string(c.offset)) != std::string::npos);
  }
}

TEST_CASE("json: parse reads only the given range", "[core][json]") {
  const std::string line = "{\"a\": 1}\n{\"b\": 2}";
  Value v = loom::json::parse(line.data() + 9, line.size() - 9);
  REQUIRE(v.members.size() == 1);
  CHECK(v.members[0].first == "b");
  // A range that ends inside a string: the error is at its end.
  ParseError e = error_of(std::string(line.data(), 3));
  CHECK(e.code == ErrorCode::UnterminatedString);
  CHECK(e.offset == 3);
}

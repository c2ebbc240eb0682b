// UTF-8 validation for text that arrives from files (checkpoint headers,
// tokenizer vocabularies) and goes back out as Python str or JSON.
#pragma once
#include <cstddef>
#include <string>

namespace loom {

// The length of the well-formed UTF-8 sequence at p (n bytes available;
// Unicode table 3-7: no overlong forms, no surrogates, nothing above
// U+10FFFF), or 0 when there is none.
inline size_t utf8_sequence_length(const unsigned char* p, size_t n) {
  const unsigned char b = p[0];
  if (b < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range allowed for the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    len = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    len = 3;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
  } else if (b >= 0xF0 && b <= 0xF4) {
    len = 4;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < len; ++i)
    if ((p[i] & 0xC0) != 0x80) return 0;
  return len;
}

// The offset of the first byte of s that does not begin a well-formed UTF-8
// sequence, or npos when s is valid UTF-8.
inline size_t invalid_utf8_at(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    const size_t len = utf8_sequence_length(p + i, s.size() - i);
    if (len == 0) return i;
    i += len;
  }
  return std::string::npos;
}

}  // namespace loom

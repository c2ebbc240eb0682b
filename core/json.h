// A string as a JSON string literal (quoted, with `"`, `\` and control
// characters escaped): for the few places that write JSON by hand (the
// profiler's Chrome trace, the trainer's JSONL log).
#pragma once
#include <cstdio>
#include <string>

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

}  // namespace loom

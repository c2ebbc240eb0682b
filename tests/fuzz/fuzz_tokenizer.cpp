// libFuzzer target for WordTokenizer (multimodal/tokenizer.h): load() of the
// input as a file, build() on its lines, encode/decode of it as text, and the
// round trips that must hold (save/load, decode(encode(text))); see
// fuzz_entry.h. Build and run with scripts/fuzz.sh.
#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  loom::fuzz::tokenizer_one_input(data, size);
  return 0;
}

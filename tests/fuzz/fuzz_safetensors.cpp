// libFuzzer target for the safetensors parser (nn/serialization.h). Any input
// must either parse or raise loom::Error; AddressSanitizer catches reads past
// the buffer. Build with -DLOOM_BUILD_FUZZERS=ON and clang, then run e.g.
//   ./fuzz_safetensors -max_total_time=300 -max_len=4096 <corpus copy> tests/fuzz/corpus
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "nn/serialization.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A copy of exactly `size` bytes, so that ASan flags any read past the end.
  std::vector<uint8_t> buf(data, data + size);
  try {
    auto sd = loom::nn::parse_safetensors(buf.data(), buf.size());
    for (const auto& [name, t] : sd) (void)t.nbytes();
  } catch (const loom::Error&) {
  }
  return 0;
}

// libFuzzer target for the safetensors parser (nn/serialization.h). Any input
// must either parse or raise loom::Error; AddressSanitizer catches reads past
// the buffer. Build and run with scripts/fuzz.sh, or by hand:
//   ./fuzz_safetensors -max_total_time=300 -max_len=4096 <work dir> tests/fuzz/corpus/fuzz_safetensors
#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  loom::fuzz::safetensors_one_input(data, size);
  return 0;
}

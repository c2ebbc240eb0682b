// libFuzzer target for the Fashion-MNIST reader (multimodal/data.h): its gzip
// inflater and IDX parser, through load_fashion_mnist() on an images and a
// labels file cut from the input (layout in fuzz_entry.h). Build and run with
// scripts/fuzz.sh.
#include "fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  loom::fuzz::idx_one_input(data, size);
  return 0;
}

// Printing options of Tensor::str (torch.set_printoptions): process-wide.
#pragma once
#include <cstdint>

namespace loom {

struct PrintOptions {
  int precision = 4;         // digits after the point
  int64_t threshold = 1000;  // more elements than this are summarized with "..."
  int64_t edgeitems = 3;     // elements shown at each end of a summarized dimension
  int64_t linewidth = 80;    // characters per line before a row wraps
  int sci_mode = -1;         // -1: chosen from the values; 0: fixed point; 1: scientific
};

PrintOptions print_options();
void set_print_options(const PrintOptions& options);  // ValueError for negative counts

}  // namespace loom

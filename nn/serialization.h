// Checkpoints in the safetensors format, the format PyTorch users exchange
// weights in (https://github.com/huggingface/safetensors):
//
//   [8 bytes: N, little-endian u64][N bytes: JSON header][data section]
//   header = {"__metadata__": {"k": "v", ...},            (optional, strings only)
//             "name": {"dtype": "F32", "shape": [3, 4], "data_offsets": [begin, end]}, ...}
//
// Offsets are relative to the start of the data section; data is raw
// little-endian, row-major. Supported dtypes: F32, F64, I32, I64, BOOL.
//
// Writing is atomic: the file is written to a temporary in the same folder,
// fsync'ed, then renamed over `path`, so a crash never leaves a torn file.
// Reading validates everything before touching the data (header length within
// the file, a strict JSON reader with depth/size limits and no duplicate keys,
// known dtypes, non-negative shapes whose product does not overflow, offsets
// within the data section with end - begin == numel * itemsize, no overlaps
// and no holes), so a truncated, oversized or malicious file raises a
// loom::Error naming the problem and never reads out of bounds
// (tests/fuzz/fuzz_safetensors.cpp fuzzes parse_safetensors).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace loom::nn {

// Same type as nn/module.h's StateDict: ordered (name, tensor) pairs.
using StateDict = std::vector<std::pair<std::string, Tensor>>;
using Metadata = std::map<std::string, std::string>;

struct Checkpoint {
  StateDict tensors;  // in the order of their data in the file
  Metadata metadata;  // the header's "__metadata__" (empty when absent)
};

// Writes `tensors` (any device, any strides: a contiguous host copy is saved)
// and `metadata` to `path` atomically. Names must be unique and not
// "__metadata__".
void save(const StateDict& tensors, const std::string& path, const Metadata& metadata = {});

// Reads a safetensors file; the tensors are placed on `device`.
StateDict load(const std::string& path, Device device = Device());
Checkpoint load_checkpoint(const std::string& path, Device device = Device());

// The pure parser behind load(): `data` holds a whole file. Tensors are CPU
// copies (the buffer may be freed afterwards).
StateDict parse_safetensors(const uint8_t* data, size_t size);
Checkpoint parse_checkpoint(const uint8_t* data, size_t size);

// The bytes of a file holding `tensors` and `metadata` (what save() writes).
std::vector<uint8_t> serialize_safetensors(const StateDict& tensors, const Metadata& metadata = {});

// Limits of the reader.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // as the safetensors library
constexpr int kMaxJsonDepth = 16;
constexpr int kMaxDims = 64;

}  // namespace loom::nn

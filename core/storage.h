// Storage: one allocation shared by a tensor and all of its views. The version
// counter lives here so that an in-place write through any view invalidates
// tensors that autograd saved from any other view.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include "core/device.h"

namespace loom {

class Storage {
 public:
  // `data` owns the memory; its deleter returns it to the allocator (or
  // releases a NumPy array / DLPack producer).
  Storage(std::shared_ptr<void> data, size_t nbytes, Device device)
      : data_(std::move(data)), nbytes_(nbytes), device_(device) {}
  // Allocates nbytes from the device's allocator.
  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device);

  void* data() const { return data_.get(); }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  std::shared_ptr<void> data_;
  size_t nbytes_;
  Device device_;
  uint64_t version_ = 0;
};

}  // namespace loom

// loom._C.cuda: device queries, synchronization and caching-allocator stats.
#include "core/cuda.h"

#include "common.h"

namespace loom::python {

void init_rtc(py::module_& cuda_module);  // rtc.cpp

void init_cuda(py::module_& m) {
  auto c = m.def_submodule("_cuda", "CUDA runtime");
  init_rtc(c);
  c.def("built_with_cuda", &cuda::built_with_cuda);
  c.def("is_available", &cuda::is_available);
  c.def("device_count", &cuda::device_count);
  c.def("current_device", &cuda::current_device);
  c.def("set_device", &cuda::set_device, py::arg("device"));
  c.def(
      "synchronize",
      [](int device) {
        py::gil_scoped_release nogil;
        cuda::synchronize(device);
      },
      py::arg("device") = -1);
  c.def(
      "memory_stats",
      [](int device) {
        auto s = cuda::memory_stats(device);
        py::dict d;
        d["allocated_bytes.all.current"] = s.allocated_bytes;
        d["allocated_bytes.all.peak"] = s.peak_allocated_bytes;
        d["reserved_bytes.all.current"] = s.reserved_bytes;
        d["reserved_bytes.all.peak"] = s.peak_reserved_bytes;
        d["num_device_alloc"] = s.num_device_allocs;
        d["num_device_free"] = s.num_device_frees;
        d["num_alloc_retries"] = 0;
        d["num_ooms"] = s.num_ooms;
        d["allocation.all.allocated"] = s.num_alloc_requests;
        d["num_cache_hits"] = s.num_cache_hits;
        return d;
      },
      py::arg("device") = -1);
  c.def("empty_cache", &cuda::empty_cache);
  c.def("reset_peak_memory_stats", &cuda::reset_peak_memory_stats, py::arg("device") = -1);
}

}  // namespace loom::python

// loom._C._functional._profiler: the C++ profiler (core/profiler.h) under
// loom.profiler. Registered through RegisterFunctional like _serialization,
// so no other binding file changes. Rows and events cross as plain dicts;
// python/loom/profiler builds PyTorch's objects from them.
#include "core/nvtx.h"
#include "core/profiler.h"
#include "core/roofline.h"

#include <memory>

#include "common.h"

namespace loom::python {

namespace {

using profiler::Profiler;

// A range opened by __enter__ and closed by end(), so Python's `with` (and
// the decorator) controls its extent rather than the object's lifetime.
struct PyRecordFunction {
  std::unique_ptr<profiler::RecordFunction> range;
};

py::list events_to_python(const Profiler& p) {
  py::list out;
  for (const auto& e : p.events()) {
    py::dict d;
    d["name"] = e.name;
    d["category"] = e.category;
    d["thread"] = e.thread;
    d["start_ns"] = e.start_ns;
    d["end_ns"] = e.end_ns;
    d["depth"] = e.depth;
    d["parent"] = e.parent;
    d["input_shapes"] = e.input_shapes;
    d["input_dtypes"] = e.input_dtypes;
    d["cpu_memory_usage"] = e.cpu_memory_usage;
    d["self_cpu_memory_usage"] = e.self_cpu_memory_usage;
    d["flops"] = e.flops;
    d["bytes"] = e.bytes;
    d["device"] = e.device;
    d["precision"] = e.precision;
    d["cuda_ns"] = e.cuda_ns;
    d["self_cuda_ns"] = e.self_cuda_ns;
    out.append(d);
  }
  return out;
}

py::list kernels_to_python(const Profiler& p) {
  py::list out;
  for (const auto& k : p.kernels()) {
    py::dict d;
    d["name"] = k.name;
    d["start_ns"] = k.start_ns;
    d["end_ns"] = k.end_ns;
    d["device"] = k.device;
    d["stream"] = k.stream;
    d["op"] = k.op;
    d["grid"] = py::make_tuple(k.grid[0], k.grid[1], k.grid[2]);
    d["block"] = py::make_tuple(k.block[0], k.block[1], k.block[2]);
    d["shared_mem"] = k.shared_mem;
    d["registers"] = k.registers;
    d["occupancy"] = k.occupancy;
    d["waves"] = k.waves;
    d["bytes"] = k.bytes;
    d["source"] = k.source;
    out.append(d);
  }
  return out;
}

py::dict roof_to_python(const profiler::DeviceRoof& r) {
  py::dict d;
  d["name"] = r.name;
  d["fp32"] = r.fp32;
  d["tf32"] = r.tf32;
  d["fp64"] = r.fp64;
  d["bandwidth"] = r.bandwidth;
  d["peak_source"] = r.peak_source;
  d["bandwidth_source"] = r.bandwidth_source;
  return d;
}

py::list averages_to_python(const Profiler& p, bool group_by_input_shape) {
  py::list out;
  for (const auto& r : p.key_averages(group_by_input_shape)) {
    py::dict d;
    d["key"] = r.key;
    d["input_shapes"] = r.input_shapes;
    d["count"] = r.count;
    d["cpu_time_total"] = r.cpu_time_total;
    d["self_cpu_time_total"] = r.self_cpu_time_total;
    d["cpu_time"] = r.cpu_time;
    d["cpu_memory_usage"] = r.cpu_memory_usage;
    d["self_cpu_memory_usage"] = r.self_cpu_memory_usage;
    d["cuda_time_total"] = r.cuda_time_total;
    d["self_cuda_time_total"] = r.self_cuda_time_total;
    d["cuda_time"] = r.cuda_time;
    d["flops"] = r.flops;
    d["bytes"] = r.bytes;
    d["device"] = r.device;
    d["precision"] = r.precision;
    d["achieved_flops"] = r.achieved_flops;
    d["achieved_bandwidth"] = r.achieved_bandwidth;
    d["roofline_fraction"] = r.roofline_fraction;
    out.append(d);
  }
  return out;
}

profiler::Schedule make_schedule(int64_t wait, int64_t warmup, int64_t active, int64_t repeat, int64_t skip_first) {
  profiler::Schedule s{wait, warmup, active, repeat, skip_first};
  s.check();
  return s;
}

}  // namespace

static RegisterFunctional reg_profiler([](py::module_& functional) {
  py::module_ m = functional.def_submodule("_profiler", "loom.profiler's C++ side");
  m.def("_sort_keys", &profiler::sort_keys);
  m.def(
      "_schedule_action",
      [](int64_t step, int64_t wait, int64_t warmup, int64_t active, int64_t repeat, int64_t skip_first) {
        return static_cast<int>(make_schedule(wait, warmup, active, repeat, skip_first).at(step));
      },
      py::arg("step"), py::arg("wait"), py::arg("warmup"), py::arg("active"), py::arg("repeat"), py::arg("skip_first"));

  py::class_<Profiler>(m, "_Profiler")
      .def(py::init(
               [](bool record_shapes, bool profile_memory, bool cuda, const std::string& cuda_timing, bool roofline) {
                 profiler::ProfilerOptions o;
                 o.record_shapes = record_shapes;
                 o.profile_memory = profile_memory;
                 o.cuda = cuda;
                 o.cuda_timing = cuda_timing;
                 o.roofline = roofline;
                 return std::make_unique<Profiler>(o);
               }),
           py::arg("record_shapes") = false, py::arg("profile_memory") = false, py::arg("cuda") = false,
           py::arg("cuda_timing") = "auto", py::arg("roofline") = true)
      .def("set_schedule",
           [](Profiler& p, int64_t wait, int64_t warmup, int64_t active, int64_t repeat, int64_t skip_first) {
             p.set_schedule(make_schedule(wait, warmup, active, repeat, skip_first));
           })
      // The callback takes no argument: the Python profile object passes
      // itself (through a weak reference, so that no cycle runs through C++).
      .def("set_on_trace_ready",
           [](Profiler& p, py::object callback) {
             auto cb = keep_python(std::move(callback));
             p.set_on_trace_ready([cb](Profiler&) {
               py::gil_scoped_acquire gil;
               (*cb)();
             });
           })
      .def("start", &Profiler::start)
      .def("stop", &Profiler::stop)
      .def("step", &Profiler::step)
      .def_property_readonly("recording", &Profiler::recording)
      .def("events", &events_to_python)
      .def("kernels", &kernels_to_python)
      .def("cuda_timing_used", &Profiler::cuda_timing_used)
      .def("key_averages", &averages_to_python, py::arg("group_by_input_shape") = false)
      .def("table", &Profiler::table, py::arg("sort_by") = "", py::arg("row_limit") = 100,
           py::arg("group_by_input_shape") = false)
      .def("peak_memory_bytes", &Profiler::peak_memory_bytes)
      .def("export_chrome_trace",
           [](const Profiler& p, py::handle path) { p.export_chrome_trace(to_fs_path(path, "export_chrome_trace")); });

  py::class_<PyRecordFunction>(m, "_RecordFunction")
      .def(py::init(
          [](const std::string& name) { return PyRecordFunction{std::make_unique<profiler::RecordFunction>(name)}; }))
      .def("end", [](PyRecordFunction& r) { r.range.reset(); })
      .def("set_cost", [](PyRecordFunction& r, double flops, double bytes, const std::string& precision) {
        if (r.range) r.range->set_cost(flops, bytes, precision);
      });
  m.def(
      "_device_roof", [](int device) { return roof_to_python(profiler::device_roof(device)); }, py::arg("device"));
  m.def("_set_device_roof", &profiler::set_device_roof, py::arg("device"), py::arg("flops"), py::arg("bandwidth"),
        py::arg("tf32_flops") = 0.0, py::arg("fp64_flops") = 0.0);
  m.def("_reset_device_roofs", &profiler::reset_device_roofs);

  // emit_nvtx: an EmitNvtx held until end() (core/nvtx.h).
  struct PyEmitNvtx {
    std::unique_ptr<profiler::EmitNvtx> on;
  };
  py::class_<PyEmitNvtx>(m, "_EmitNvtx")
      .def(py::init([](bool enabled) { return PyEmitNvtx{std::make_unique<profiler::EmitNvtx>(enabled)}; }))
      .def("end", [](PyEmitNvtx& e) { e.on.reset(); });
  m.def("_nvtx_available", &profiler::nvtx_available);
  m.def("_nvtx_enabled", &profiler::nvtx_enabled);
  m.def("_nvtx_depth", &profiler::nvtx_depth);
});

}  // namespace loom::python

// The profiler's outputs (core/profiler.h): the PyTorch-style table with its
// CUDA and roofline columns, and the Chrome trace with the GPU tracks and the
// op-to-kernel flow arrows. Recording and key_averages are in profiler.cpp.
#include "core/profiler.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/error.h"
#include "core/json.h"
#include "core/roofline.h"

namespace loom::profiler {

std::string shapes_string(const std::vector<std::vector<int64_t>>& shapes);

namespace {

// Microseconds with exact nanosecond decimals, so nesting survives rounding.
std::string micros(int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%lld.%03lld", ns < 0 ? "-" : "", static_cast<long long>(std::llabs(ns) / 1000),
                static_cast<long long>(std::llabs(ns) % 1000));
  return buf;
}

// PyTorch's units: us below a millisecond, then ms, then s.
std::string format_time(double us) {
  char buf[32];
  if (us >= 1e6) std::snprintf(buf, sizeof buf, "%.3fs", us / 1e6);
  else if (us >= 1e3) std::snprintf(buf, sizeof buf, "%.3fms", us / 1e3);
  else std::snprintf(buf, sizeof buf, "%.3fus", us);
  return buf;
}

std::string format_bytes(int64_t bytes) {
  char buf[32];
  const double b = static_cast<double>(bytes), a = std::fabs(b);
  if (a >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2f Gb", b / (1024.0 * 1024 * 1024));
  else if (a >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.2f Mb", b / (1024.0 * 1024));
  else if (a >= 1024.0) std::snprintf(buf, sizeof buf, "%.2f Kb", b / 1024.0);
  else std::snprintf(buf, sizeof buf, "%lld b", static_cast<long long>(bytes));
  return buf;
}

// "1.23 GFLOP" style, "-" when unknown.
std::string format_flops(double f) {
  if (f < 0) return "-";
  char buf[32];
  const char* units[] = {"", "K", "M", "G", "T", "P"};
  int u = 0;
  while (f >= 1000 && u < 5) f /= 1000, ++u;
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f" : "%.2f%s", f, units[u]);
  return buf;
}

std::string format_percent(double part, double whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", whole > 0 ? 100.0 * part / whole : 0.0);
  return buf;
}

}  // namespace

std::string Profiler::table(const std::string& sort_by, int64_t row_limit, bool group_by_input_shape) const {
  const auto& keys = sort_keys();
  if (!sort_by.empty() && std::find(keys.begin(), keys.end(), sort_by) == keys.end()) {
    std::string valid;
    for (const auto& k : keys) valid += (valid.empty() ? "" : ", ") + k;
    LOOM_THROW(ErrorKind::Value, "profiler table: unknown sort_by '", sort_by, "'; valid keys: ", valid);
  }
  std::vector<EventAvg> rows = key_averages(group_by_input_shape);
  const bool gpu = cuda_timing_used_ != "off";
  auto value = [&](const EventAvg& r) -> double {
    if (sort_by == "cpu_time_total") return r.cpu_time_total;
    if (sort_by == "self_cpu_time_total") return r.self_cpu_time_total;
    // Without GPU timing the CUDA keys sort by the CPU times they stand in for.
    if (sort_by == "cuda_time_total") return gpu ? r.cuda_time_total : r.cpu_time_total;
    if (sort_by == "self_cuda_time_total") return gpu ? r.self_cuda_time_total : r.self_cpu_time_total;
    if (sort_by == "cpu_time") return r.cpu_time;
    if (sort_by == "count") return static_cast<double>(r.count);
    if (sort_by == "cpu_memory_usage") return static_cast<double>(r.cpu_memory_usage);
    if (sort_by == "flops") return r.flops;
    return static_cast<double>(r.self_cpu_memory_usage);
  };
  if (!sort_by.empty())
    std::stable_sort(rows.begin(), rows.end(),
                     [&](const EventAvg& a, const EventAvg& b) { return value(a) > value(b); });

  double self_total = 0, self_cuda_total = 0;
  bool any_cost = false;
  for (const EventAvg& r : rows) {
    self_total += r.self_cpu_time_total;
    self_cuda_total += r.self_cuda_time_total;
    any_cost = any_cost || r.roofline_fraction >= 0 || r.achieved_flops >= 0;
  }
  const bool roof = options_.roofline && any_cost;
  if (row_limit >= 0 && static_cast<int64_t>(rows.size()) > row_limit) rows.resize(row_limit);

  constexpr size_t kNameMax = 55, kShapesMax = 80, kCol = 12;
  size_t name_w = 4, shapes_w = 12;
  for (const EventAvg& r : rows) {
    name_w = std::max(name_w, std::min(r.key.size(), kNameMax));
    shapes_w = std::max(shapes_w, std::min(r.input_shapes.size(), kShapesMax));
  }
  auto clip = [](const std::string& s, size_t w) { return s.size() <= w ? s : s.substr(0, w - 3) + "..."; };
  std::vector<std::pair<std::string, size_t>> header = {{"Name", name_w},    {"Self CPU %", kCol},
                                                        {"Self CPU", kCol},  {"CPU total %", kCol},
                                                        {"CPU total", kCol}, {"CPU time avg", kCol}};
  if (gpu) {
    header.push_back({"Self CUDA", kCol});
    header.push_back({"Self CUDA %", kCol});
    header.push_back({"CUDA total", kCol});
    header.push_back({"CUDA time avg", 13});
  }
  if (options_.profile_memory) {
    header.push_back({"CPU Mem", kCol});
    header.push_back({"Self CPU Mem", kCol});
  }
  header.push_back({"# of Calls", kCol});
  if (roof) {
    header.push_back({"Total FLOPs", kCol});
    header.push_back({"TFLOP/s", 9});
    header.push_back({"GB/s", 9});
    header.push_back({"% of roof", 9});
  }
  if (group_by_input_shape) header.push_back({"Input Shapes", shapes_w});

  std::ostringstream out;
  auto line = [&] {
    for (const auto& h : header) out << std::string(h.second, '-') << "  ";
    out << '\n';
  };
  auto cells = [&](const std::vector<std::string>& v) {
    for (size_t i = 0; i < v.size(); ++i) {
      const size_t w = header[i].second;
      // Name and shapes read left to right; numbers line up on the right.
      const bool left = i == 0 || (group_by_input_shape && i + 1 == v.size());
      const std::string s = clip(v[i], w);
      const std::string pad(w - s.size(), ' ');
      out << (left ? s + pad : pad + s) << "  ";
    }
    out << '\n';
  };
  auto number = [](double v, const char* fmt) {
    if (v < 0) return std::string("-");
    char buf[32];
    std::snprintf(buf, sizeof buf, fmt, v);
    return std::string(buf);
  };
  line();
  std::vector<std::string> titles;
  for (const auto& h : header) titles.push_back(h.first);
  cells(titles);
  line();
  for (const EventAvg& r : rows) {
    std::vector<std::string> v = {r.key,
                                  format_percent(r.self_cpu_time_total, self_total),
                                  format_time(r.self_cpu_time_total),
                                  format_percent(r.cpu_time_total, self_total),
                                  format_time(r.cpu_time_total),
                                  format_time(r.cpu_time)};
    if (gpu) {
      v.push_back(format_time(r.self_cuda_time_total));
      v.push_back(format_percent(r.self_cuda_time_total, self_cuda_total));
      v.push_back(format_time(r.cuda_time_total));
      v.push_back(format_time(r.cuda_time));
    }
    if (options_.profile_memory) {
      v.push_back(format_bytes(r.cpu_memory_usage));
      v.push_back(format_bytes(r.self_cpu_memory_usage));
    }
    v.push_back(std::to_string(r.count));
    if (roof) {
      v.push_back(format_flops(r.flops));
      v.push_back(number(r.achieved_flops < 0 ? -1 : r.achieved_flops / 1e12, "%.3f"));
      v.push_back(number(r.achieved_bandwidth < 0 ? -1 : r.achieved_bandwidth / 1e9, "%.1f"));
      v.push_back(number(r.roofline_fraction < 0 ? -1 : 100 * r.roofline_fraction, "%.1f%%"));
    }
    if (group_by_input_shape) v.push_back(r.input_shapes);
    cells(v);
  }
  line();
  out << "Self CPU time total: " << format_time(self_total) << '\n';
  if (gpu)
    out << "Self CUDA time total: " << format_time(self_cuda_total) << " (timed by " << cuda_timing_used_ << ")\n";
  if (options_.profile_memory) out << "Peak CPU memory (live bytes): " << format_bytes(peak_memory_) << '\n';
  if (roof) {
    // The roofs the percentages are of, one line per device in the table.
    std::vector<int> devices;
    for (const EventAvg& r : rows)
      if (r.roofline_fraction >= 0 && std::find(devices.begin(), devices.end(), r.device) == devices.end())
        devices.push_back(r.device);
    std::sort(devices.begin(), devices.end());
    for (int d : devices) {
      const DeviceRoof& roof_d = device_roof(d);
      char buf[320];
      std::snprintf(buf, sizeof buf,
                    "Roof of %s: %.2f TFLOP/s FP32, %.2f TFLOP/s TF32, %.2f TFLOP/s FP64 (%s); %.1f GB/s (%s)\n",
                    roof_d.name.c_str(), roof_d.fp32 / 1e12, roof_d.tf32 / 1e12, roof_d.fp64 / 1e12,
                    roof_d.peak_source.c_str(), roof_d.bandwidth / 1e9, roof_d.bandwidth_source.c_str());
      out << buf;
    }
  }
  return out.str();
}

void Profiler::export_chrome_trace(const std::string& path) const {
  check_results("export_chrome_trace");
  const long pid = static_cast<long>(getpid());
  std::ostringstream out;
  out << "{\"traceEvents\": [";
  bool first = true;
  auto sep = [&] {
    out << (first ? "\n" : ",\n");
    first = false;
  };
  for (const Event& e : events_) {
    sep();
    out << "{\"ph\": \"X\", \"cat\": \"" << e.category << "\", \"name\": " << json_string(e.name)
        << ", \"pid\": " << pid << ", \"tid\": " << e.thread << ", \"ts\": " << micros(e.start_ns - base_ns_)
        << ", \"dur\": " << micros(e.duration_ns()) << ", \"args\": {";
    if (options_.record_shapes) {
      out << "\"Input Dims\": " << shapes_string(e.input_shapes) << ", \"Input type\": [";
      for (size_t i = 0; i < e.input_dtypes.size(); ++i) out << (i ? ", " : "") << json_string(e.input_dtypes[i]);
      out << "]";
    }
    bool comma = options_.record_shapes;
    if (options_.profile_memory) {
      out << (comma ? ", " : "") << "\"CPU Mem\": " << e.cpu_memory_usage
          << ", \"Self CPU Mem\": " << e.self_cpu_memory_usage;
      comma = true;
    }
    if (e.flops >= 0 && e.bytes >= 0) {
      out << (comma ? ", " : "") << "\"flops\": " << static_cast<int64_t>(e.flops)
          << ", \"bytes\": " << static_cast<int64_t>(e.bytes);
      comma = true;
    }
    if (e.device >= 0) out << (comma ? ", " : "") << "\"device\": " << e.device;
    out << "}}";
  }
  // GPU work: one process per device (pid = the device index, as PyTorch's
  // traces do), one track per stream, and a flow arrow from each op to the
  // kernels it launched.
  std::vector<std::pair<int, int64_t>> streams;  // (device, stream) -> track 1, 2, ...
  auto track = [&](int device, int64_t stream) {
    const auto key = std::make_pair(device, stream);
    auto it = std::find(streams.begin(), streams.end(), key);
    if (it == streams.end()) {
      streams.push_back(key);
      return static_cast<int>(streams.size());
    }
    return static_cast<int>(it - streams.begin()) + 1;
  };
  for (size_t i = 0; i < kernels_.size(); ++i) {
    const KernelEvent& k = kernels_[i];
    const int tid = track(k.device, k.stream);
    const bool copy = k.name.rfind("Memcpy", 0) == 0 || k.name == "Memset";
    sep();
    out << "{\"ph\": \"X\", \"cat\": \"" << (copy ? "gpu_memcpy" : "kernel") << "\", \"name\": " << json_string(k.name)
        << ", \"pid\": " << k.device << ", \"tid\": " << tid << ", \"ts\": " << micros(k.start_ns - base_ns_)
        << ", \"dur\": " << micros(k.duration_ns()) << ", \"args\": {\"device\": " << k.device
        << ", \"stream\": " << k.stream << ", \"source\": \"" << k.source << "\"";
    if (k.grid[0] > 0)
      out << ", \"grid\": [" << k.grid[0] << ", " << k.grid[1] << ", " << k.grid[2] << "], \"block\": [" << k.block[0]
          << ", " << k.block[1] << ", " << k.block[2] << "]";
    if (k.shared_mem >= 0) out << ", \"shared memory\": " << k.shared_mem;
    if (k.registers >= 0) out << ", \"registers per thread\": " << k.registers;
    if (k.occupancy >= 0) out << ", \"est. achieved occupancy %\": " << static_cast<int>(100 * k.occupancy + 0.5);
    if (k.waves >= 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", k.waves);
      out << ", \"waves\": " << buf;
    }
    if (k.bytes >= 0) out << ", \"bytes\": " << static_cast<int64_t>(k.bytes);
    if (k.op >= 0) out << ", \"op\": " << json_string(events_[k.op].name);
    out << "}}";
    if (k.op >= 0) {
      const Event& e = events_[k.op];
      sep();
      out << "{\"ph\": \"s\", \"cat\": \"ac2g\", \"name\": \"launch\", \"id\": " << i << ", \"pid\": " << pid
          << ", \"tid\": " << e.thread << ", \"ts\": " << micros(e.start_ns - base_ns_) << ", \"bp\": \"e\"}";
      sep();
      out << "{\"ph\": \"f\", \"cat\": \"ac2g\", \"name\": \"launch\", \"id\": " << i << ", \"pid\": " << k.device
          << ", \"tid\": " << tid << ", \"ts\": " << micros(k.start_ns - base_ns_) << ", \"bp\": \"e\"}";
    }
  }
  std::vector<int> devices;
  for (const auto& st : streams)
    if (std::find(devices.begin(), devices.end(), st.first) == devices.end()) devices.push_back(st.first);
  for (int d : devices) {
    sep();
    out << "{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": " << d << ", \"args\": {\"name\": \"GPU " << d
        << "\"}}";
  }
  for (size_t i = 0; i < streams.size(); ++i) {
    sep();
    out << "{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": " << streams[i].first << ", \"tid\": " << i + 1
        << ", \"args\": {\"name\": \"stream " << streams[i].second << "\"}}";
  }
  for (const MemorySample& m : memory_) {
    sep();
    out << "{\"ph\": \"C\", \"name\": \"CPU Memory\", \"pid\": " << pid << ", \"tid\": " << m.thread
        << ", \"ts\": " << micros(m.ts_ns - base_ns_) << ", \"args\": {\"Total Allocated\": " << m.live_bytes << "}}";
  }
  out << "\n], \"displayTimeUnit\": \"ms\"}\n";

  const std::string tmp = path + ".tmp" + std::to_string(pid);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    LOOM_CHECK(f.good(), "export_chrome_trace: cannot open ", tmp, " for writing: ", std::strerror(errno));
    const std::string s = out.str();
    f.write(s.data(), static_cast<std::streamsize>(s.size()));
    f.flush();
    if (!f.good()) {
      const int err = errno;
      std::remove(tmp.c_str());
      LOOM_THROW(ErrorKind::Runtime, "export_chrome_trace: writing ", tmp, " failed: ", std::strerror(err));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    LOOM_THROW(ErrorKind::Runtime, "export_chrome_trace: cannot rename ", tmp, " to ", path, ": ", std::strerror(err));
  }
}

}  // namespace loom::profiler

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

void check_sort_key(const std::string& sort_by) {
  const auto& keys = sort_keys();
  if (!sort_by.empty() && std::find(keys.begin(), keys.end(), sort_by) == keys.end()) {
    std::string valid;
    for (const auto& k : keys) valid += (valid.empty() ? "" : ", ") + k;
    LOOM_THROW(ErrorKind::Value, "profiler table: unknown sort_by '", sort_by, "'; valid keys: ", valid);
  }
}

// Sorts the rows by `sort_by` (a valid key), largest first; stable.
void sort_rows(std::vector<EventAvg>& rows, const std::string& sort_by, bool gpu) {
  if (sort_by.empty()) return;
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
  std::stable_sort(rows.begin(), rows.end(), [&](const EventAvg& a, const EventAvg& b) { return value(a) > value(b); });
}

// Which columns the table has, and the totals its percentages are of.
struct TableColumns {
  bool gpu = false, memory = false, roof = false, shapes = false;
  double self_total = 0, self_cuda_total = 0;
};

// The column titles and widths.
std::vector<std::pair<std::string, size_t>> table_header(const std::vector<EventAvg>& rows, const TableColumns& c) {
  constexpr size_t kNameMax = 55, kShapesMax = 80, kCol = 12;
  size_t name_w = 4, shapes_w = 12;
  for (const EventAvg& r : rows) {
    name_w = std::max(name_w, std::min(r.key.size(), kNameMax));
    shapes_w = std::max(shapes_w, std::min(r.input_shapes.size(), kShapesMax));
  }
  std::vector<std::pair<std::string, size_t>> header = {{"Name", name_w},    {"Self CPU %", kCol},
                                                        {"Self CPU", kCol},  {"CPU total %", kCol},
                                                        {"CPU total", kCol}, {"CPU time avg", kCol}};
  if (c.gpu) {
    header.push_back({"Self CUDA", kCol});
    header.push_back({"Self CUDA %", kCol});
    header.push_back({"CUDA total", kCol});
    header.push_back({"CUDA time avg", 13});
  }
  if (c.memory) {
    header.push_back({"CPU Mem", kCol});
    header.push_back({"Self CPU Mem", kCol});
  }
  header.push_back({"# of Calls", kCol});
  if (c.roof) {
    header.push_back({"Total FLOPs", kCol});
    header.push_back({"TFLOP/s", 9});
    header.push_back({"GB/s", 9});
    header.push_back({"% of roof", 9});
  }
  if (c.shapes) header.push_back({"Input Shapes", shapes_w});
  return header;
}

std::string format_number(double v, const char* fmt) {
  if (v < 0) return std::string("-");
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, v);
  return std::string(buf);
}

// The cells of one row, in the order of table_header.
std::vector<std::string> table_row(const EventAvg& r, const TableColumns& c) {
  std::vector<std::string> v = {r.key,
                                format_percent(r.self_cpu_time_total, c.self_total),
                                format_time(r.self_cpu_time_total),
                                format_percent(r.cpu_time_total, c.self_total),
                                format_time(r.cpu_time_total),
                                format_time(r.cpu_time)};
  if (c.gpu) {
    v.push_back(format_time(r.self_cuda_time_total));
    v.push_back(format_percent(r.self_cuda_time_total, c.self_cuda_total));
    v.push_back(format_time(r.cuda_time_total));
    v.push_back(format_time(r.cuda_time));
  }
  if (c.memory) {
    v.push_back(format_bytes(r.cpu_memory_usage));
    v.push_back(format_bytes(r.self_cpu_memory_usage));
  }
  v.push_back(std::to_string(r.count));
  if (c.roof) {
    v.push_back(format_flops(r.flops));
    v.push_back(format_number(r.achieved_flops < 0 ? -1 : r.achieved_flops / 1e12, "%.3f"));
    v.push_back(format_number(r.achieved_bandwidth < 0 ? -1 : r.achieved_bandwidth / 1e9, "%.1f"));
    v.push_back(format_number(r.roofline_fraction < 0 ? -1 : 100 * r.roofline_fraction, "%.1f%%"));
  }
  if (c.shapes) v.push_back(r.input_shapes);
  return v;
}

// Writes the rule lines and the cells of the table's columns.
class TableWriter {
 public:
  TableWriter(std::ostringstream& out, const std::vector<std::pair<std::string, size_t>>& header, bool shapes)
      : out_(out), header_(header), shapes_(shapes) {}

  void line() {
    for (const auto& h : header_) out_ << std::string(h.second, '-') << "  ";
    out_ << '\n';
  }

  void cells(const std::vector<std::string>& v) {
    for (size_t i = 0; i < v.size(); ++i) {
      const size_t w = header_[i].second;
      // Name and shapes read left to right; numbers line up on the right.
      const bool left = i == 0 || (shapes_ && i + 1 == v.size());
      const std::string s = clip(v[i], w);
      const std::string pad(w - s.size(), ' ');
      out_ << (left ? s + pad : pad + s) << "  ";
    }
    out_ << '\n';
  }

 private:
  static std::string clip(const std::string& s, size_t w) { return s.size() <= w ? s : s.substr(0, w - 3) + "..."; }

  std::ostringstream& out_;
  const std::vector<std::pair<std::string, size_t>>& header_;
  bool shapes_;
};

// The roofs the percentages are of, one line per device in the table.
void write_roofs(std::ostringstream& out, const std::vector<EventAvg>& rows) {
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

// The events of a Chrome trace, comma-separated.
class TraceWriter {
 public:
  std::ostringstream out;

  // Starts the next event.
  std::ostringstream& next() {
    out << (first_ ? "\n" : ",\n");
    first_ = false;
    return out;
  }

 private:
  bool first_ = true;
};

// The "args" of a CPU event after "{" (shapes, memory, cost, device).
void write_event_args(std::ostringstream& out, const Event& e, const ProfilerOptions& options) {
  if (options.record_shapes) {
    out << "\"Input Dims\": " << shapes_string(e.input_shapes) << ", \"Input type\": [";
    for (size_t i = 0; i < e.input_dtypes.size(); ++i) out << (i ? ", " : "") << json_string(e.input_dtypes[i]);
    out << "]";
  }
  bool comma = options.record_shapes;
  if (options.profile_memory) {
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
}

void write_cpu_events(TraceWriter& w, const std::vector<Event>& events, const ProfilerOptions& options, long pid,
                      int64_t base_ns) {
  for (const Event& e : events) {
    w.next() << "{\"ph\": \"X\", \"cat\": \"" << e.category << "\", \"name\": " << json_string(e.name)
             << ", \"pid\": " << pid << ", \"tid\": " << e.thread << ", \"ts\": " << micros(e.start_ns - base_ns)
             << ", \"dur\": " << micros(e.duration_ns()) << ", \"args\": {";
    write_event_args(w.out, e, options);
    w.out << "}}";
  }
}

// One GPU kernel or copy as a complete event on its stream's track `tid`.
void write_kernel_event(std::ostringstream& out, const KernelEvent& k, int tid, const std::vector<Event>& events,
                        int64_t base_ns) {
  const bool copy = k.name.rfind("Memcpy", 0) == 0 || k.name == "Memset";
  out << "{\"ph\": \"X\", \"cat\": \"" << (copy ? "gpu_memcpy" : "kernel") << "\", \"name\": " << json_string(k.name)
      << ", \"pid\": " << k.device << ", \"tid\": " << tid << ", \"ts\": " << micros(k.start_ns - base_ns)
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
  if (k.op >= 0) out << ", \"op\": " << json_string(events[k.op].name);
  out << "}}";
}

// GPU work: one process per device (pid = the device index, as PyTorch's
// traces do), one track per stream, and a flow arrow from each op to the
// kernels it launched. Returns the (device, stream) of the tracks 1, 2, ...
std::vector<std::pair<int, int64_t>> write_kernel_events(TraceWriter& w, const std::vector<KernelEvent>& kernels,
                                                         const std::vector<Event>& events, long pid, int64_t base_ns) {
  std::vector<std::pair<int, int64_t>> streams;
  auto track = [&](int device, int64_t stream) {
    const auto key = std::make_pair(device, stream);
    auto it = std::find(streams.begin(), streams.end(), key);
    if (it == streams.end()) {
      streams.push_back(key);
      return static_cast<int>(streams.size());
    }
    return static_cast<int>(it - streams.begin()) + 1;
  };
  for (size_t i = 0; i < kernels.size(); ++i) {
    const KernelEvent& k = kernels[i];
    const int tid = track(k.device, k.stream);
    write_kernel_event(w.next(), k, tid, events, base_ns);
    if (k.op >= 0) {
      const Event& e = events[k.op];
      w.next() << "{\"ph\": \"s\", \"cat\": \"ac2g\", \"name\": \"launch\", \"id\": " << i << ", \"pid\": " << pid
               << ", \"tid\": " << e.thread << ", \"ts\": " << micros(e.start_ns - base_ns) << ", \"bp\": \"e\"}";
      w.next() << "{\"ph\": \"f\", \"cat\": \"ac2g\", \"name\": \"launch\", \"id\": " << i << ", \"pid\": " << k.device
               << ", \"tid\": " << tid << ", \"ts\": " << micros(k.start_ns - base_ns) << ", \"bp\": \"e\"}";
    }
  }
  return streams;
}

// The names of the GPU processes and stream tracks.
void write_track_names(TraceWriter& w, const std::vector<std::pair<int, int64_t>>& streams) {
  std::vector<int> devices;
  for (const auto& st : streams)
    if (std::find(devices.begin(), devices.end(), st.first) == devices.end()) devices.push_back(st.first);
  for (int d : devices)
    w.next() << "{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": " << d << ", \"args\": {\"name\": \"GPU " << d
             << "\"}}";
  for (size_t i = 0; i < streams.size(); ++i)
    w.next() << "{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": " << streams[i].first << ", \"tid\": " << i + 1
             << ", \"args\": {\"name\": \"stream " << streams[i].second << "\"}}";
}

// Writes `text` to a temporary file beside `path`, then renames it.
void write_file_atomically(const std::string& path, const std::string& text, long pid) {
  const std::string tmp = path + ".tmp" + std::to_string(pid);
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    LOOM_CHECK(f.good(), "export_chrome_trace: cannot open ", tmp, " for writing: ", std::strerror(errno));
    f.write(text.data(), static_cast<std::streamsize>(text.size()));
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

}  // namespace

std::string Profiler::table(const std::string& sort_by, int64_t row_limit, bool group_by_input_shape) const {
  check_sort_key(sort_by);
  std::vector<EventAvg> rows = key_averages(group_by_input_shape);
  TableColumns c;
  c.gpu = cuda_timing_used_ != "off";
  c.memory = options_.profile_memory;
  c.shapes = group_by_input_shape;
  sort_rows(rows, sort_by, c.gpu);
  bool any_cost = false;
  for (const EventAvg& r : rows) {
    c.self_total += r.self_cpu_time_total;
    c.self_cuda_total += r.self_cuda_time_total;
    any_cost = any_cost || r.roofline_fraction >= 0 || r.achieved_flops >= 0;
  }
  c.roof = options_.roofline && any_cost;
  if (row_limit >= 0 && static_cast<int64_t>(rows.size()) > row_limit) rows.resize(row_limit);

  const std::vector<std::pair<std::string, size_t>> header = table_header(rows, c);
  std::ostringstream out;
  TableWriter w(out, header, group_by_input_shape);
  w.line();
  std::vector<std::string> titles;
  for (const auto& h : header) titles.push_back(h.first);
  w.cells(titles);
  w.line();
  for (const EventAvg& r : rows) w.cells(table_row(r, c));
  w.line();
  out << "Self CPU time total: " << format_time(c.self_total) << '\n';
  if (c.gpu)
    out << "Self CUDA time total: " << format_time(c.self_cuda_total) << " (timed by " << cuda_timing_used_ << ")\n";
  if (options_.profile_memory) out << "Peak CPU memory (live bytes): " << format_bytes(peak_memory_) << '\n';
  if (c.roof) write_roofs(out, rows);
  return out.str();
}

void Profiler::export_chrome_trace(const std::string& path) const {
  check_results("export_chrome_trace");
  const long pid = static_cast<long>(getpid());
  TraceWriter w;
  w.out << "{\"traceEvents\": [";
  write_cpu_events(w, events_, options_, pid, base_ns_);
  write_track_names(w, write_kernel_events(w, kernels_, events_, pid, base_ns_));
  for (const MemorySample& m : memory_)
    w.next() << "{\"ph\": \"C\", \"name\": \"CPU Memory\", \"pid\": " << pid << ", \"tid\": " << m.thread
             << ", \"ts\": " << micros(m.ts_ns - base_ns_) << ", \"args\": {\"Total Allocated\": " << m.live_bytes
             << "}}";
  w.out << "\n], \"displayTimeUnit\": \"ms\"}\n";
  write_file_atomically(path, w.out.str(), pid);
}

}  // namespace loom::profiler

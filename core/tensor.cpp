// Tensor metadata, raw access, dtype/device parsing and the op name table.
#include "core/tensor.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>

#include "autograd/node.h"
#include "core/allocator.h"
#include "core/cuda.h"
#include "core/ops.h"

namespace loom {

// ---- dtypes, devices, scalars ----
DType parse_dtype(const std::string& name) {
  std::string n = name;
  if (n.rfind("loom.", 0) == 0) n = n.substr(5);
  if (n.rfind("torch.", 0) == 0) n = n.substr(6);
  if (n == "float32" || n == "float") return DType::Float32;
  if (n == "float64" || n == "double") return DType::Float64;
  if (n == "int32" || n == "int") return DType::Int32;
  if (n == "int64" || n == "long") return DType::Int64;
  if (n == "bool") return DType::Bool;
  LOOM_THROW(ErrorKind::Type, "unknown dtype '", name, "': expected float32, float64, int32, int64 or bool");
}

namespace {
std::atomic<DType> g_default_dtype{DType::Float32};
}  // namespace
DType default_dtype() { return g_default_dtype.load(std::memory_order_relaxed); }
void set_default_dtype(DType t) {
  LOOM_CHECK_TYPE(is_floating(t),
                  "set_default_dtype: only floating-point types are supported as the default type, got ",
                  dtype_name(t));
  g_default_dtype.store(t, std::memory_order_relaxed);
}

Device::Device(const std::string& spec) {
  std::string s = spec;
  auto colon = s.find(':');
  std::string kind = s.substr(0, colon);
  if (kind == "cpu") {
    type = DeviceType::CPU;
  } else if (kind == "cuda") {
    type = DeviceType::CUDA;
  } else {
    LOOM_THROW(ErrorKind::Runtime, "Expected one of cpu, cuda device type at start of device string: ", spec);
  }
  index = 0;
  if (colon != std::string::npos) {
    std::string idx = s.substr(colon + 1);
    LOOM_CHECK(!idx.empty() && std::all_of(idx.begin(), idx.end(), ::isdigit), "Invalid device string: '", spec, "'");
    index = std::stoi(idx);
    LOOM_CHECK(type == DeviceType::CUDA || index == 0, "Invalid device string: '", spec, "' (cpu has index 0 only)");
  }
}

std::string Device::str() const { return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index); }
std::ostream& operator<<(std::ostream& os, const Device& d) { return os << d.str(); }

std::string Scalar::str() const {
  if (is_bool()) return to_bool() ? "True" : "False";
  if (is_integral()) return std::to_string(i_);
  std::ostringstream os;
  os << d_;
  return os.str();
}

DType promote_with_scalar(DType t, const Scalar& s) {
  if (s.is_floating() && !is_floating(t)) return default_dtype();
  if (s.is_integral() && t == DType::Bool) return DType::Int64;
  return t;
}

void check_scalar_fits(const Scalar& v, DType dt, const char* op) {
  const char* ctype = "";
  bool fits = true;
  const double d = v.to_double();
  auto in_range = [&](double lo, double hi_exclusive) {
    return v.is_floating() ? std::isfinite(d) && d >= lo && d < hi_exclusive : true;
  };
  switch (dt) {
    case DType::Bool: return;
    case DType::Int32:
      ctype = "int";
      fits =
          v.is_floating() ? in_range(-2147483648.0, 2147483648.0) : v.to_int() >= INT32_MIN && v.to_int() <= INT32_MAX;
      break;
    case DType::Int64:
      ctype = "int64_t";
      fits = in_range(-9223372036854775808.0, 9223372036854775808.0);
      break;
    case DType::Float32:
      ctype = "float";
      fits = !std::isfinite(d) || std::fabs(d) <= static_cast<double>(std::numeric_limits<float>::max());
      break;
    case DType::Float64: return;
  }
  LOOM_CHECK(fits, op, ": value cannot be converted to type ", ctype, " without overflow (value ", v.str(), ", dtype ",
             dtype_name(dt), ")");
}

// ---- storage ----
std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  if (device.is_cpu()) return std::make_shared<Storage>(cpu_allocate(nbytes), nbytes, device);
  return std::make_shared<Storage>(cuda::allocate(nbytes, device.index), nbytes, device);
}

// ---- TensorImpl / Tensor ----
TensorImpl::TensorImpl(std::shared_ptr<Storage> storage, Shape sizes, Shape strides, int64_t offset, DType dtype)
    : storage_(std::move(storage)),
      sizes_(std::move(sizes)),
      strides_(std::move(strides)),
      offset_(offset),
      dtype_(dtype) {}
TensorImpl::~TensorImpl() = default;

namespace {
const TensorImpl& checked(const std::shared_ptr<TensorImpl>& p) {
  LOOM_CHECK(p != nullptr, "operation on an undefined tensor");
  return *p;
}
}  // namespace

const Shape& Tensor::sizes() const { return checked(impl_).sizes_; }
const Shape& Tensor::strides() const { return checked(impl_).strides_; }
int64_t Tensor::dim() const { return static_cast<int64_t>(checked(impl_).sizes_.size()); }
int64_t Tensor::size(int64_t d) const { return sizes()[wrap_sized_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_sized_dim(d, dim(), "stride")]; }
int64_t Tensor::numel() const {
  int64_t n = 1;
  for (auto s : sizes()) n *= s;
  return n;
}
DType Tensor::dtype() const { return checked(impl_).dtype_; }
Device Tensor::device() const { return checked(impl_).storage_->device(); }
int64_t Tensor::storage_offset() const { return checked(impl_).offset_; }
const std::shared_ptr<Storage>& Tensor::storage() const { return checked(impl_).storage_; }
void* Tensor::data_ptr() const {
  const auto& i = checked(impl_);
  return static_cast<char*>(i.storage_->data()) + i.offset_ * static_cast<int64_t>(itemsize(i.dtype_));
}
bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;  // no element is out of place (as PyTorch)
  const auto& sz = sizes();
  const auto& st = strides();
  int64_t expected = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (sz[d] == 1) continue;
    if (st[d] != expected) return false;
    expected *= sz[d];
  }
  return true;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t n = std::max<int64_t>(ndim, 1);  // a 0-d tensor accepts dims 0 and -1
  LOOM_CHECK_INDEX(dim >= -n && dim < n, op, ": Dimension out of range (expected to be in range of [", -n, ", ", n - 1,
                   "], but got ", dim, ")");
  return dim < 0 ? dim + n : dim;
}

int64_t wrap_sized_dim(int64_t dim, int64_t ndim, const char* op) {
  LOOM_CHECK_INDEX(ndim > 0, op, ": Dimension specified as ", dim, " but tensor has no dimensions");
  return wrap_dim(dim, ndim, op);
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    LOOM_CHECK(da == db || da == 1 || db == 1, "The size of tensor a (", da, ") must match the size of tensor b (", db,
               ") at non-singleton dimension ", i, ": shapes ", a, " and ", b, " cannot be broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Scalar Tensor::item() const {
  LOOM_CHECK(numel() == 1, "a Tensor with ", numel(), " elements cannot be converted to Scalar (shape ", sizes(), ")");
  Tensor host = is_cuda() ? to(Device()) : *this;
  Scalar out;
  LOOM_DISPATCH_ALL(dtype(), "item", [&] {
    scalar_t v = *static_cast<const scalar_t*>(host.data_ptr());
    if constexpr (std::is_same<scalar_t, bool>::value) out = Scalar(v);
    else if constexpr (std::is_floating_point<scalar_t>::value) out = Scalar(static_cast<double>(v));
    else out = Scalar(static_cast<int64_t>(v));
  });
  return out;
}

std::vector<double> Tensor::to_vector() const {
  Tensor host = to(Device(), DType::Float64).contiguous();
  const double* p = static_cast<const double*>(host.data_ptr());
  return std::vector<double>(p, p + host.numel());
}

// ---- ops table ----
namespace {
const char* kOpNames[] = {
#define LOOM_OP(name, family) #name,
#include "core/ops.def"
#undef LOOM_OP
};
const char* kOpFamilies[] = {
#define LOOM_OP(name, family) #family,
#include "core/ops.def"
#undef LOOM_OP
};
}  // namespace
std::atomic<OpObserver*> g_op_observer{nullptr};
const char* op_name(Op op) { return kOpNames[static_cast<int>(op)]; }
const char* op_family(Op op) { return kOpFamilies[static_cast<int>(op)]; }
OpObserver* set_op_observer(OpObserver* observer) { return g_op_observer.exchange(observer); }
OpScope::OpScope(Op op, const std::vector<Tensor>& inputs)
    : op_(op), obs_(g_op_observer.load(std::memory_order_relaxed)) {
  if (!obs_) return;
  std::vector<const Tensor*> ptrs;
  ptrs.reserve(inputs.size());
  for (const Tensor& t : inputs) ptrs.push_back(&t);
  obs_->on_enter_inputs(op_, ptrs.data(), ptrs.size());
}

}  // namespace loom

// Tensor: a handle to TensorImpl = shared Storage + sizes, strides, offset,
// dtype. Autograd metadata is allocated only when a tensor takes part in a graph.
//
// Metadata and raw access are implemented in core/tensor.cpp; every method that
// computes (views included, since views are differentiable) is an op whose front
// end lives in autograd/ops/<family>.cpp.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/scalar.h"
#include "core/storage.h"

namespace loom {

using Shape = std::vector<int64_t>;
using Dims = std::vector<int64_t>;

namespace autograd {
struct Node;
struct AutogradMeta;
}  // namespace autograd

struct TensorOptions {
  DType dtype = default_dtype();  // float32 unless set_default_dtype changed it
  Device device;
  bool requires_grad = false;
  TensorOptions() = default;
  TensorOptions(DType t) : dtype(t) {}
  TensorOptions(Device d) : device(d) {}
  TensorOptions(DeviceType d) : device(d) {}
  TensorOptions(DType t, Device d) : dtype(t), device(d) {}
  TensorOptions with_requires_grad(bool r) const {
    auto o = *this;
    o.requires_grad = r;
    return o;
  }
};

class TensorImpl {
 public:
  TensorImpl(std::shared_ptr<Storage> storage, Shape sizes, Shape strides, int64_t offset, DType dtype);
  ~TensorImpl();

  std::shared_ptr<Storage> storage_;
  Shape sizes_;
  Shape strides_;   // in elements
  int64_t offset_;  // in elements
  DType dtype_;
  std::unique_ptr<autograd::AutogradMeta> autograd_;
  // A view made by a view op: the tensor owning the storage (the root, for a
  // view of a view), and the base's graph epoch its history was last made
  // from (see autograd/ops/view_inplace.cpp). Null / 0 otherwise.
  std::shared_ptr<TensorImpl> view_base_;
  uint64_t view_epoch_ = 0;
};

class Tensor;
using TensorList = std::vector<Tensor>;
using GradHook = std::function<Tensor(const Tensor&)>;  // returns a replacement grad or an undefined Tensor

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- metadata (core/tensor.cpp) ----
  bool defined() const { return impl_ != nullptr; }
  const Shape& sizes() const;
  const Shape& shape() const { return sizes(); }
  const Shape& strides() const;
  int64_t size(int64_t dim) const;  // negative dims count from the end
  int64_t stride(int64_t dim) const;
  int64_t dim() const;
  int64_t numel() const;
  DType dtype() const;
  Device device() const;
  bool is_cuda() const { return device().is_cuda(); }
  bool is_floating_point() const { return is_floating(dtype()); }
  int64_t storage_offset() const;
  size_t element_size() const { return itemsize(dtype()); }
  size_t nbytes() const { return numel() * element_size(); }
  bool is_contiguous() const;
  void* data_ptr() const;  // address of element 0 (offset applied)
  template <typename T>
  T* data_ptr() const {
    LOOM_CHECK_TYPE(dtype_of<T>::value == dtype(), "data_ptr: tensor has dtype ", dtype_name(dtype()), ", requested ",
                    dtype_name(dtype_of<T>::value));
    return static_cast<T*>(data_ptr());
  }
  const std::shared_ptr<Storage>& storage() const;
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }
  uint64_t version() const { return storage()->version(); }
  void bump_version() const { storage()->bump_version(); }
  Scalar item() const;  // one-element tensors; synchronizes with the device
  template <typename T>
  T item() const {
    return item().to<T>();
  }
  std::string str() const;  // PyTorch-like printing
  std::string repr() const { return str(); }
  std::vector<double> to_vector() const;  // flattened values, for tests and printing

  // ---- autograd (autograd/node.cpp) ----
  bool requires_grad() const;
  Tensor& requires_grad_(bool r = true);
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  std::shared_ptr<autograd::Node> grad_fn() const;
  uint32_t output_nr() const;
  bool is_leaf() const;
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false, bool create_graph = false) const;
  // Hook called with the gradient of this tensor; returns a handle for remove_hook.
  int64_t register_hook(GradHook hook) const;
  void remove_hook(int64_t handle) const;
  void retain_grad() const;
  bool retains_grad() const;
  Tensor detach() const;  // shares storage and version counter
  Tensor& detach_();

  // ---- views (autograd/ops/view.cpp); no data is copied ----
  Tensor view(const Shape& shape) const;
  Tensor reshape(const Shape& shape) const;  // a view when strides allow, else a copy
  Tensor view_as(const Tensor& other) const { return view(other.sizes()); }
  Tensor reshape_as(const Tensor& other) const { return reshape(other.sizes()); }
  Tensor permute(const Dims& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor expand(const Shape& shape) const;  // -1 keeps a size
  Tensor expand_as(const Tensor& other) const { return expand(other.sizes()); }
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor unflatten(int64_t dim, const Shape& sizes) const;
  Tensor as_strided(const Shape& sizes, const Shape& strides, std::optional<int64_t> offset = {}) const;
  Tensor contiguous() const;
  TensorList split(int64_t split_size, int64_t dim = 0) const;
  TensorList split_with_sizes(const Shape& sizes, int64_t dim = 0) const;
  TensorList chunk(int64_t chunks, int64_t dim = 0) const;
  TensorList unbind(int64_t dim = 0) const;
  // In place (autograd/ops/view_inplace.cpp): the tensor takes the geometry of
  // the view the out-of-place op returns, and its history; the data stays.
  Tensor& transpose_(int64_t dim0, int64_t dim1);
  Tensor& t_();
  Tensor& squeeze_();
  Tensor& squeeze_(int64_t dim);
  Tensor& unsqueeze_(int64_t dim);
  Tensor& as_strided_(const Shape& sizes, const Shape& strides, std::optional<int64_t> offset = {});

  // ---- copies and conversions (autograd/ops/copy.cpp) ----
  Tensor to(DType dtype) const;
  Tensor to(Device device, bool non_blocking = false) const;
  Tensor to(Device device, DType dtype, bool non_blocking = false) const;
  Tensor cpu() const { return to(Device(DeviceType::CPU)); }
  Tensor cuda(int index = 0) const { return to(Device(DeviceType::CUDA, index)); }
  Tensor clone() const;
  // A copy with the order of the elements reversed along each of dims (0-d: a clone); one strided copy.
  Tensor flip(const Dims& dims) const;
  Tensor& copy_(const Tensor& src, bool non_blocking = false);  // broadcasts src, converts dtype/device
  Tensor& fill_(const Scalar& value);
  Tensor& zero_() { return fill_(Scalar(0.0)); }

  // ---- elementwise (autograd/ops/pointwise.cpp) ----
  // The methods described in the op registry (core/ops.toml), with their
  // defaults: neg abs sign exp log sqrt rsqrt reciprocal sin cos tanh sigmoid
  // relu gelu silu square logical_not add sub mul div pow maximum minimum
  // floor ceil round trunc floor_divide remainder fmod.
#include "core/tensor_methods.inc"

  Tensor add(const Scalar& other) const;
  Tensor sub(const Scalar& other) const;
  Tensor mul(const Scalar& other) const;
  Tensor div(const Scalar& other) const;
  Tensor pow(const Scalar& exponent) const;
  // rounding_mode "floor" or "trunc" (the one-argument div is true division).
  Tensor div(const Tensor& other, const std::string& rounding_mode) const;
  Tensor div(const Scalar& other, const std::string& rounding_mode) const;
  Tensor floor_divide(const Scalar& other) const;
  Tensor remainder(const Scalar& other) const;
  Tensor fmod(const Scalar& other) const;
  Tensor eq(const Tensor& other) const;
  Tensor eq(const Scalar& other) const;
  Tensor ne(const Tensor& other) const;
  Tensor ne(const Scalar& other) const;
  Tensor lt(const Tensor& other) const;
  Tensor lt(const Scalar& other) const;
  Tensor le(const Tensor& other) const;
  Tensor le(const Scalar& other) const;
  Tensor gt(const Tensor& other) const;
  Tensor gt(const Scalar& other) const;
  Tensor ge(const Tensor& other) const;
  Tensor ge(const Scalar& other) const;
  Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max = {}) const;
  Tensor clamp(const Tensor& min, const Tensor& max) const;  // either may be undefined
  Tensor masked_fill(const Tensor& mask, const Scalar& value) const;
  // self + weight (end - self) (exact at weight 1), floating; one kernel, broadcasting all three.
  Tensor lerp(const Tensor& end, const Tensor& weight) const;
  Tensor lerp(const Tensor& end, const Scalar& weight) const;
  // self + value tensor1 tensor2 (any dtype but bool) and self + value (tensor1 / tensor2) (floating); one kernel.
  Tensor addcmul(const Tensor& tensor1, const Tensor& tensor2, const Scalar& value = 1) const;
  Tensor addcdiv(const Tensor& tensor1, const Tensor& tensor2, const Scalar& value = 1) const;
  // The elements on and below (tril) or on and above (triu) the diagonal-th diagonal of the last two dims,
  // zeros elsewhere (diagonal > 0: above the main one); one pass (a copy first for a non-contiguous input).
  Tensor tril(int64_t diagonal = 0) const;
  Tensor triu(int64_t diagonal = 0) const;

  Tensor& add_(const Tensor& other, const Scalar& alpha = 1);
  Tensor& add_(const Scalar& other);
  Tensor& sub_(const Tensor& other, const Scalar& alpha = 1);
  Tensor& sub_(const Scalar& other);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(const Scalar& other);
  Tensor& div_(const Tensor& other);
  Tensor& div_(const Scalar& other);
  Tensor& pow_(const Scalar& exponent);
  Tensor& pow_(const Tensor& exponent);
  Tensor& div_(const Tensor& other, const std::string& rounding_mode);
  Tensor& div_(const Scalar& other, const std::string& rounding_mode);
  Tensor& floor_divide_(const Tensor& other);
  Tensor& floor_divide_(const Scalar& other);
  Tensor& remainder_(const Tensor& other);
  Tensor& remainder_(const Scalar& other);
  Tensor& fmod_(const Tensor& other);
  Tensor& fmod_(const Scalar& other);
  Tensor& clamp_(std::optional<Scalar> min, std::optional<Scalar> max = {});
  Tensor& clamp_(const Tensor& min, const Tensor& max);  // either may be undefined
  Tensor& masked_fill_(const Tensor& mask, const Scalar& value);
  Tensor& relu_();
  Tensor& neg_();
  Tensor& exp_();

  // ---- bitwise, bool and integer dtypes (autograd/ops/bitwise.cpp) ----
  Tensor bitwise_and(const Tensor& other) const;
  Tensor bitwise_and(const Scalar& other) const;
  Tensor bitwise_or(const Tensor& other) const;
  Tensor bitwise_or(const Scalar& other) const;
  Tensor bitwise_xor(const Tensor& other) const;
  Tensor bitwise_xor(const Scalar& other) const;
  Tensor bitwise_not() const;
  Tensor& bitwise_and_(const Tensor& other);
  Tensor& bitwise_and_(const Scalar& other);
  Tensor& bitwise_or_(const Tensor& other);
  Tensor& bitwise_or_(const Scalar& other);
  Tensor& bitwise_xor_(const Tensor& other);
  Tensor& bitwise_xor_(const Scalar& other);
  Tensor& bitwise_not_();
  // a << b, a >> b (integer dtypes): shifting by a negative amount or by the width or more gives 0 (<<) or
  // the sign (>>), as PyTorch's.
  Tensor bitwise_left_shift(const Tensor& other) const;
  Tensor bitwise_left_shift(const Scalar& other) const;
  Tensor bitwise_right_shift(const Tensor& other) const;
  Tensor bitwise_right_shift(const Scalar& other) const;
  Tensor& bitwise_left_shift_(const Tensor& other);
  Tensor& bitwise_left_shift_(const Scalar& other);
  Tensor& bitwise_right_shift_(const Tensor& other);
  Tensor& bitwise_right_shift_(const Scalar& other);

  // ---- reductions (autograd/ops/reduce.cpp); empty dims = all dims ----
  Tensor sum(const Dims& dims = {}, bool keepdim = false) const;
  Tensor sum(const Dims& dims, bool keepdim, DType dtype) const;
  Tensor mean(const Dims& dims = {}, bool keepdim = false) const;
  Tensor prod(const Dims& dims = {}, bool keepdim = false) const;
  Tensor max() const;  // over all elements
  Tensor min() const;
  std::pair<Tensor, Tensor> max(int64_t dim, bool keepdim = false) const;  // values, indices
  std::pair<Tensor, Tensor> min(int64_t dim, bool keepdim = false) const;
  Tensor amax(const Dims& dims = {}, bool keepdim = false) const;
  Tensor amin(const Dims& dims = {}, bool keepdim = false) const;
  Tensor argmax(std::optional<int64_t> dim = {}, bool keepdim = false) const;
  Tensor argmin(std::optional<int64_t> dim = {}, bool keepdim = false) const;
  Tensor var(const Dims& dims = {}, bool unbiased = true, bool keepdim = false) const;
  Tensor std(const Dims& dims = {}, bool unbiased = true, bool keepdim = false) const;
  Tensor norm(double p = 2.0, const Dims& dims = {}, bool keepdim = false) const;
  Tensor logsumexp(const Dims& dims, bool keepdim = false) const;

  // ---- scans and sorts along one dim (autograd/ops/sort.cpp) ----
  // cumsum / cumprod of bool and integer inputs are int64 unless `dtype` says.
  Tensor cumsum(int64_t dim, std::optional<DType> dtype = {}) const;
  Tensor cumprod(int64_t dim, std::optional<DType> dtype = {}) const;
  std::pair<Tensor, Tensor> cummax(int64_t dim) const;  // values, indices (the latest on ties)
  std::pair<Tensor, Tensor> cummin(int64_t dim) const;
  Tensor logcumsumexp(int64_t dim) const;  // log(cumsum(exp(x))) without overflow; floating inputs
  // Always stable (`stable` is accepted for PyTorch's signature); NaN sorts as the largest value.
  std::pair<Tensor, Tensor> sort(int64_t dim = -1, bool descending = false, bool stable = false) const;
  Tensor argsort(int64_t dim = -1, bool descending = false, bool stable = false) const;
  // The k largest (or smallest) along dim, best first; ties in input order.
  std::pair<Tensor, Tensor> topk(int64_t k, int64_t dim = -1, bool largest = true, bool sorted = true) const;

  // ---- linear algebra, softmax, indexing ----
  Tensor matmul(const Tensor& other) const;
  Tensor mm(const Tensor& other) const;
  Tensor bmm(const Tensor& other) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;
  Tensor index_select(int64_t dim, const Tensor& index) const;
  Tensor gather(int64_t dim, const Tensor& index) const;
  Tensor scatter_add(int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor& scatter_add_(int64_t dim, const Tensor& index, const Tensor& src);
  // reduce: "sum", "prod", "mean", "amax" or "amin" (torch.Tensor.scatter_reduce).
  Tensor scatter_reduce(int64_t dim, const Tensor& index, const Tensor& src, const std::string& reduce,
                        bool include_self = true) const;
  Tensor& scatter_reduce_(int64_t dim, const Tensor& index, const Tensor& src, const std::string& reduce,
                          bool include_self = true);
  // Slices along dim written at the int64 (or int32) index [K] (torch.Tensor.index_add / index_copy /
  // index_fill): alpha * source's slices added (repeated indices add up; bool: or), source's slices copied
  // (a repeated index: one of its slices), or value filled in (an index may count from the end). A 0-d
  // tensor value is read with item(); its gradient is the sum over the filled slices.
  Tensor index_add(int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha = Scalar(1)) const;
  Tensor& index_add_(int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha = Scalar(1));
  Tensor index_copy(int64_t dim, const Tensor& index, const Tensor& source) const;
  Tensor& index_copy_(int64_t dim, const Tensor& index, const Tensor& source);
  Tensor index_fill(int64_t dim, const Tensor& index, const Scalar& value) const;
  Tensor index_fill(int64_t dim, const Tensor& index, const Tensor& value) const;
  Tensor& index_fill_(int64_t dim, const Tensor& index, const Scalar& value);
  Tensor& index_fill_(int64_t dim, const Tensor& index, const Tensor& value);
  Tensor masked_select(const Tensor& mask) const;
  Tensor nonzero() const;  // [n, ndim] int64; synchronizes with the device

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// ---- operators ----
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, const Scalar& b);
Tensor operator-(const Tensor& a, const Scalar& b);
Tensor operator*(const Tensor& a, const Scalar& b);
Tensor operator/(const Tensor& a, const Scalar& b);
Tensor operator+(const Scalar& a, const Tensor& b);
Tensor operator-(const Scalar& a, const Tensor& b);
Tensor operator*(const Scalar& a, const Tensor& b);
Tensor operator/(const Scalar& a, const Tensor& b);
Tensor operator%(const Tensor& a, const Tensor& b);  // remainder (Python's %)
Tensor operator%(const Tensor& a, const Scalar& b);
Tensor& operator+=(Tensor& a, const Tensor& b);
Tensor& operator-=(Tensor& a, const Tensor& b);
Tensor& operator*=(Tensor& a, const Tensor& b);
Tensor& operator/=(Tensor& a, const Tensor& b);
Tensor operator~(const Tensor& a);  // bitwise_not
Tensor operator&(const Tensor& a, const Tensor& b);
Tensor operator|(const Tensor& a, const Tensor& b);
Tensor operator^(const Tensor& a, const Tensor& b);
Tensor operator&(const Tensor& a, const Scalar& b);
Tensor operator|(const Tensor& a, const Scalar& b);
Tensor operator^(const Tensor& a, const Scalar& b);
Tensor& operator&=(Tensor& a, const Tensor& b);
Tensor& operator|=(Tensor& a, const Tensor& b);
Tensor& operator^=(Tensor& a, const Tensor& b);
std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- factories (core/factory.cpp) ----
Tensor empty(const Shape& shape, const TensorOptions& opts = {});
Tensor zeros(const Shape& shape, const TensorOptions& opts = {});
Tensor ones(const Shape& shape, const TensorOptions& opts = {});
Tensor full(const Shape& shape, const Scalar& value, const TensorOptions& opts = {});
Tensor arange(const Scalar& end, const TensorOptions& opts);
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step, const TensorOptions& opts);
Tensor arange(const Scalar& end);  // dtype inferred like PyTorch (int64 unless a float is given)
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step = 1);
Tensor linspace(double start, double end, int64_t steps, const TensorOptions& opts = {});
Tensor eye(int64_t n, std::optional<int64_t> m = {}, const TensorOptions& opts = {});
Tensor rand(const Shape& shape, const TensorOptions& opts = {});
Tensor randn(const Shape& shape, const TensorOptions& opts = {});
Tensor randint(int64_t low, int64_t high, const Shape& shape, const TensorOptions& opts = TensorOptions(DType::Int64));
Tensor randperm(int64_t n, const TensorOptions& opts = TensorOptions(DType::Int64));
Tensor empty_like(const Tensor& t, std::optional<TensorOptions> opts = {});
Tensor zeros_like(const Tensor& t, std::optional<TensorOptions> opts = {});
Tensor ones_like(const Tensor& t, std::optional<TensorOptions> opts = {});
Tensor full_like(const Tensor& t, const Scalar& value, std::optional<TensorOptions> opts = {});
Tensor rand_like(const Tensor& t, std::optional<TensorOptions> opts = {});
Tensor randn_like(const Tensor& t, std::optional<TensorOptions> opts = {});
Tensor scalar_tensor(const Scalar& value, const TensorOptions& opts);
// Copies host data of type T (dtype inferred) into a new tensor on `device`.
template <typename T>
Tensor from_vector(const std::vector<T>& data, const Shape& shape, Device device = Device());
Tensor from_blob(const void* data, const Shape& shape, DType dtype, Device device = Device());  // copies
// Wraps memory without copying; `owner` keeps it alive.
Tensor from_shared(std::shared_ptr<void> owner, void* data, const Shape& shape, const Shape& strides, DType dtype,
                   Device device);

// ---- free-function ops ----
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b);
Tensor where(const Tensor& cond, const Scalar& a, const Tensor& b);
Tensor cat(const TensorList& tensors, int64_t dim = 0);
Tensor stack(const TensorList& tensors, int64_t dim = 0);
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);
Tensor matmul(const Tensor& a, const Tensor& b);
// torch.searchsorted: the int64 insertion points of `values` in the innermost dim of `sorted_sequence` (1-D:
// shared by every value; else its leading dims match those of values); both promoted to one dtype.
Tensor searchsorted(const Tensor& sorted_sequence, const Tensor& values, bool right = false);
Shape broadcast_shapes(const Shape& a, const Shape& b);       // raises naming both shapes
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);  // raises IndexError
// For ops that need a real dimension (size(d), unbind): a 0-d tensor has none.
int64_t wrap_sized_dim(int64_t dim, int64_t ndim, const char* op);

// ---- global switches ----
void manual_seed(uint64_t seed);
uint64_t initial_seed();
void set_allow_tf32(bool allow);  // matmul may use TF32 tensor cores (default off)
bool allow_tf32();
// PyTorch's torch.use_deterministic_algorithms: when on, kernels that would
// sum in a run-to-run varying order (atomics: conv weight gradient split-K,
// max-pool backward) use a fixed-order reduction instead, and the conv
// autotuner and cuDNN keep only deterministic candidates. Default off.
void use_deterministic_algorithms(bool mode);
bool are_deterministic_algorithms_enabled();
void set_num_threads(int n);
int get_num_threads();

}  // namespace loom

// Element types. The enum is ordered by promotion rank within each category;
// reduced-precision float types (float16, bfloat16) slot in before Float32
// once the mixed-precision kernels exist.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace loom {

enum class DType : int8_t { Bool = 0, Int32, Int64, Float32, Float64 };
constexpr int kNumDTypes = 5;

inline size_t itemsize(DType t) {
  switch (t) {
    case DType::Bool: return 1;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::Float32: return 4;
    case DType::Float64: return 8;
  }
  return 0;
}
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::Bool: return "bool";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
  }
  return "?";
}
inline bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }
inline bool is_integral(DType t, bool include_bool = false) {
  return t == DType::Int32 || t == DType::Int64 || (include_bool && t == DType::Bool);
}
// Result type of a binary op between two tensors (PyTorch rules for these dtypes).
// Promotion categories: bool < integral < floating.
inline int dtype_category(DType t) { return is_floating(t) ? 2 : is_integral(t) ? 1 : 0; }
inline DType promote_types(DType a, DType b) { return static_cast<int8_t>(a) >= static_cast<int8_t>(b) ? a : b; }
DType parse_dtype(const std::string& name);  // "float32", "float", "int64", "long", ...
// The dtype of floating tensors made without one (factories, Python floats, integer inputs of
// float-only ops): float32 unless set_default_dtype (torch.set_default_dtype) chose float64.
DType default_dtype();
void set_default_dtype(DType t);  // Float32 or Float64; anything else is a TypeError

template <typename T>
struct dtype_of;
template <>
struct dtype_of<bool> {
  static constexpr DType value = DType::Bool;
};
template <>
struct dtype_of<int32_t> {
  static constexpr DType value = DType::Int32;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = DType::Int64;
};
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::Float32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::Float64;
};

}  // namespace loom

// Runs the trailing lambda body with `scalar_t` bound to the C++ type of `dt`.
#define LOOM_DTYPE_CASE(enumv, T, ...) \
  case ::loom::DType::enumv: {         \
    using scalar_t = T;                \
    __VA_ARGS__();                     \
    break;                             \
  }
#define LOOM_DISPATCH_ALL(dt, opname, ...)                                                                  \
  [&] {                                                                                                     \
    switch (dt) {                                                                                           \
      LOOM_DTYPE_CASE(Bool, bool, __VA_ARGS__)                                                              \
      LOOM_DTYPE_CASE(Int32, int32_t, __VA_ARGS__)                                                          \
      LOOM_DTYPE_CASE(Int64, int64_t, __VA_ARGS__)                                                          \
      LOOM_DTYPE_CASE(Float32, float, __VA_ARGS__)                                                          \
      LOOM_DTYPE_CASE(Float64, double, __VA_ARGS__)                                                         \
      default: LOOM_THROW(::loom::ErrorKind::Type, opname, ": unsupported dtype ", ::loom::dtype_name(dt)); \
    }                                                                                                       \
  }()
#define LOOM_DISPATCH_NUMERIC(dt, opname, ...)                                                                     \
  [&] {                                                                                                            \
    switch (dt) {                                                                                                  \
      LOOM_DTYPE_CASE(Int32, int32_t, __VA_ARGS__)                                                                 \
      LOOM_DTYPE_CASE(Int64, int64_t, __VA_ARGS__)                                                                 \
      LOOM_DTYPE_CASE(Float32, float, __VA_ARGS__)                                                                 \
      LOOM_DTYPE_CASE(Float64, double, __VA_ARGS__)                                                                \
      default:                                                                                                     \
          LOOM_THROW(::loom::ErrorKind::Type, opname, ": expected a numeric dtype, got ", ::loom::dtype_name(dt)); \
    }                                                                                                              \
  }()
#define LOOM_DISPATCH_FLOAT(dt, opname, ...)                                                                        \
  [&] {                                                                                                             \
    switch (dt) {                                                                                                   \
      LOOM_DTYPE_CASE(Float32, float, __VA_ARGS__)                                                                  \
      LOOM_DTYPE_CASE(Float64, double, __VA_ARGS__)                                                                 \
      default:                                                                                                      \
          LOOM_THROW(::loom::ErrorKind::Type, opname, ": expected a floating dtype, got ", ::loom::dtype_name(dt)); \
    }                                                                                                               \
  }()

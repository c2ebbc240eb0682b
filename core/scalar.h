// A Python-number-like value used for scalar operands and item().
#pragma once
#include <cstdint>
#include <string>
#include "core/dtype.h"

namespace loom {

class Scalar {
 public:
  enum class Kind : int8_t { Bool, Int, Float };
  Scalar() : kind_(Kind::Int), i_(0), d_(0) {}
  Scalar(double v) : kind_(Kind::Float), i_(static_cast<int64_t>(v)), d_(v) {}
  Scalar(float v) : Scalar(static_cast<double>(v)) {}
  Scalar(int64_t v) : kind_(Kind::Int), i_(v), d_(static_cast<double>(v)) {}
  Scalar(int v) : Scalar(static_cast<int64_t>(v)) {}
  Scalar(bool v) : kind_(Kind::Bool), i_(v), d_(v) {}

  Kind kind() const { return kind_; }
  bool is_floating() const { return kind_ == Kind::Float; }
  bool is_integral() const { return kind_ == Kind::Int; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  double to_double() const { return d_; }
  int64_t to_int() const { return i_; }
  bool to_bool() const { return d_ != 0; }
  // Whether to_double() holds the value exactly: not for an int beyond +-2^53, which the ops take as an
  // exact int64 0-d tensor instead (full() writes it exactly).
  bool exact_as_double() const {
    constexpr int64_t kExact = int64_t(1) << 53;
    return kind_ != Kind::Int || (i_ >= -kExact && i_ <= kExact);
  }
  template <typename T>
  T to() const {
    if constexpr (std::is_floating_point<T>::value) return static_cast<T>(d_);
    else if constexpr (std::is_same<T, bool>::value) return d_ != 0;
    else return static_cast<T>(kind_ == Kind::Float ? static_cast<int64_t>(d_) : i_);
  }
  // The dtype a tensor made from this value gets (torch.tensor(3.0) is float32, or the default dtype).
  DType default_dtype() const {
    return kind_ == Kind::Float ? ::loom::default_dtype() : kind_ == Kind::Int ? DType::Int64 : DType::Bool;
  }
  std::string str() const;

 private:
  Kind kind_;
  int64_t i_;
  double d_;
};

// Result dtype of `tensor op scalar`: a scalar only lifts the category
// (bool < integral < floating), as in PyTorch.
DType promote_with_scalar(DType t, const Scalar& s);

// Raises when `v` cannot be stored in `dt` (NaN or inf into an integer type,
// a value out of its range), as PyTorch does for fill values, instead of
// storing whatever the conversion happens to give.
void check_scalar_fits(const Scalar& v, DType dt, const char* op);

}  // namespace loom

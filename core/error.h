// loom::Error and the checking macros. Every user-facing failure is an Error whose
// kind selects the Python exception type (RuntimeError, ValueError, IndexError,
// TypeError, NotImplementedError, torch-style OutOfMemoryError).
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace loom {

enum class ErrorKind { Runtime, Value, Index, Type, NotImplemented, OutOfMemory };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& msg) : std::runtime_error(msg), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

namespace detail {
template <typename T>
inline void stream_one(std::ostringstream& os, const std::vector<T>& v) {
  os << '[';
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  os << ']';
}
template <typename T>
inline void stream_one(std::ostringstream& os, const T& v) {
  os << v;
}
template <typename... Args>
inline std::string str(const Args&... args) {
  std::ostringstream os;
  (stream_one(os, args), ...);
  return os.str();
}
}  // namespace detail

}  // namespace loom

#define LOOM_THROW(kind, ...) throw ::loom::Error(kind, ::loom::detail::str(__VA_ARGS__))
#define LOOM_CHECK_KIND(cond, kind, ...)        \
  do {                                          \
    if (!(cond)) LOOM_THROW(kind, __VA_ARGS__); \
  } while (0)
// Shape/dtype/device mismatches: RuntimeError, as PyTorch raises for them.
#define LOOM_CHECK(cond, ...) LOOM_CHECK_KIND(cond, ::loom::ErrorKind::Runtime, __VA_ARGS__)
#define LOOM_CHECK_VALUE(cond, ...) LOOM_CHECK_KIND(cond, ::loom::ErrorKind::Value, __VA_ARGS__)
#define LOOM_CHECK_INDEX(cond, ...) LOOM_CHECK_KIND(cond, ::loom::ErrorKind::Index, __VA_ARGS__)
#define LOOM_CHECK_TYPE(cond, ...) LOOM_CHECK_KIND(cond, ::loom::ErrorKind::Type, __VA_ARGS__)

// CUDA runtime errors carry the failing call, file and line. Only usable in
// translation units that include cuda_runtime.h.
#define LOOM_CUDA_CHECK(call)                                                                                          \
  do {                                                                                                                 \
    cudaError_t loom_err_ = (call);                                                                                    \
    if (loom_err_ != cudaSuccess) {                                                                                    \
      (void)cudaGetLastError();                                                                                        \
      LOOM_THROW(loom_err_ == cudaErrorMemoryAllocation ? ::loom::ErrorKind::OutOfMemory : ::loom::ErrorKind::Runtime, \
                 "CUDA error: ", cudaGetErrorString(loom_err_), " (", #call, " at ", __FILE__, ":", __LINE__, ")");    \
    }                                                                                                                  \
  } while (0)

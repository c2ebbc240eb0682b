// Command-line flags of the C++ examples: "--name value" pairs, read in order.
//   examples::Flags f(argc, argv);
//   while (f.next()) {
//     if (f.is("--epochs")) o.epochs = std::stoi(f.value());
//     else f.unknown();
//   }
// A missing value or an unknown flag is a loom::Error (ValueError).
#pragma once
#include <string>

#include "core/error.h"

namespace examples {

class Flags {
 public:
  Flags(int argc, char** argv) : argc_(argc), argv_(argv) {}
  bool next() {
    if (++i_ >= argc_) return false;
    flag_ = argv_[i_];
    return true;
  }
  bool is(const char* name) const { return flag_ == name; }
  std::string value() {
    if (i_ + 1 >= argc_) throw loom::Error(loom::ErrorKind::Value, "missing value after " + flag_);
    return argv_[++i_];
  }
  [[noreturn]] void unknown() const { throw loom::Error(loom::ErrorKind::Value, "unknown option " + flag_); }

 private:
  int argc_;
  char** argv_;
  int i_ = 0;
  std::string flag_;
};

}  // namespace examples

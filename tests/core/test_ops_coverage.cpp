// Every op of core/ops.def (generated from core/ops.toml) is reachable: its
// front end opens an OpScope for it (so the profiler sees it), written by hand
// in autograd/ or core/, or generated from the registry into the build tree.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/ops.h"

namespace fs = std::filesystem;

namespace {
std::string read_tree(const fs::path& dir, const std::string& ext) {
  std::string all;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ext) continue;
    std::ifstream f(e.path());
    std::stringstream ss;
    ss << f.rdbuf();
    all += ss.str();
  }
  return all;
}
}  // namespace

// Ops listed in core/ops.toml whose kernels are being written; each leaves this
// list in the commit that adds its front end.
const std::vector<std::string> kPending = {};

TEST_CASE("every op in core/ops.toml has a front end that reports it", "[core][ops]") {
  const fs::path root = LOOM_SOURCE_DIR;
  std::string sources = read_tree(root / "autograd", ".cpp") + read_tree(root / "core", ".cpp") +
                        read_tree(fs::path(LOOM_GENERATED_DIR) / "autograd", ".inc");
  for (int i = 0; i < loom::kNumOps; ++i) {
    std::string name = loom::op_name(static_cast<loom::Op>(i));
    if (std::find(kPending.begin(), kPending.end(), name) != kPending.end()) continue;
    bool hooked = sources.find("LOOM_OP_SCOPE(" + name + ")") != std::string::npos ||
                  sources.find("Op::" + name) != std::string::npos;
    INFO("op " << name << " has no OpScope in autograd/ or core/");
    CHECK(hooked);
  }
}

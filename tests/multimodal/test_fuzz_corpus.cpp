// Replays the fuzz corpora and the saved crash inputs (tests/fuzz/corpus/<target>/,
// tests/fuzz/regressions/<target>/) through the fuzz targets' bodies of
// tests/fuzz/fuzz_entry.h, without libFuzzer: bad input may only raise
// loom::Error, and the invariants checked there must hold. Under
// scripts/sanitize.sh the same inputs are also checked for memory errors.
#include <catch2/catch_test_macros.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/fuzz_entry.h"

namespace fs = std::filesystem;

namespace {

using Entry = void (*)(const uint8_t*, size_t);

// Runs every file of tests/fuzz/{corpus,regressions}/<target>; returns how many.
size_t replay(const std::string& target, Entry entry) {
  const fs::path root = fs::path(LOOM_SOURCE_DIR) / "tests" / "fuzz";
  std::vector<fs::path> files;
  for (const char* kind : {"corpus", "regressions"}) {
    const fs::path dir = root / kind / target;
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& p : files) {
    std::ifstream f(p, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    INFO(p.string() << " (" << bytes.size() << " bytes)");
    const uint8_t none = 0;  // libFuzzer never passes a null pointer, even for no bytes
    CHECK_NOTHROW(entry(bytes.empty() ? &none : bytes.data(), bytes.size()));
  }
  return files.size();
}

}  // namespace

TEST_CASE("multimodal fuzz corpus: tokenizer inputs load, build and encode or raise loom::Error", "[multimodal]") {
  CHECK(replay("fuzz_tokenizer", loom::fuzz::tokenizer_one_input) > 0);
}

TEST_CASE("multimodal fuzz corpus: IDX and gzip inputs load or raise loom::Error", "[multimodal]") {
  CHECK(replay("fuzz_idx", loom::fuzz::idx_one_input) > 0);
}

TEST_CASE("multimodal fuzz corpus: safetensors inputs parse or raise loom::Error", "[multimodal]") {
  CHECK(replay("fuzz_safetensors", loom::fuzz::safetensors_one_input) > 0);
}

// safetensors checkpoints: round trips of every dtype and shape, atomic
// writes, and a corpus of truncated, oversized, overlapping and malformed
// files that must each raise a loom::Error naming the problem.
#include "nn/serialization.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "nn/modules/linear.h"
#include "nn/optim/adam.h"
#include "test_util.h"

using namespace loom;
using loom::nn::StateDict;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/loom_ser_XXXXXX";
    char* p = mkdtemp(tmpl);
    REQUIRE(p != nullptr);
    path = p;
  }
  ~TempDir() {
    for (const auto& f : files()) std::remove((path + "/" + f).c_str());
    rmdir(path.c_str());
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    if (DIR* d = opendir(path.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(n);
      }
      closedir(d);
    }
    return out;
  }
};

// A file made of an explicit header length, header text and data bytes.
std::vector<uint8_t> raw_file(uint64_t header_len, const std::string& header, const std::vector<uint8_t>& data) {
  // Sized once and filled by index (gcc 12's -Wstringop-overread misreads a vector insert here).
  std::vector<uint8_t> out(8 + header.size() + data.size());
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(header_len >> (8 * i));
  std::copy(header.begin(), header.end(), out.begin() + 8);
  std::copy(data.begin(), data.end(), out.begin() + 8 + static_cast<std::ptrdiff_t>(header.size()));
  return out;
}
std::vector<uint8_t> file_with(const std::string& header, size_t data_bytes) {
  return raw_file(header.size(), header, std::vector<uint8_t>(data_bytes, 0));
}

// The message of the loom::Error that parsing raises (a failure if none).
std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    nn::parse_safetensors(bytes.data(), bytes.size());
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("expected a loom::Error");
  return "";
}

bool contains(const std::string& s, const std::string& sub) { return s.find(sub) != std::string::npos; }

StateDict sample() {
  return {
      {"f32", from_vector<float>({1.5f, -2.f, 3.f, 4.25f, 5.f, 6.f}, {2, 3})},
      {"f64", from_vector<double>({0.1, -0.2, 1e300, -1e-300}, {4})},
      {"i32", from_vector<int32_t>({1, -2, 3, 2147483647, -5, 6, 7, 8}, {2, 2, 2})},
      {"i64", from_vector<int64_t>({-9223372036854775807LL, 0, 42}, {3})},
      {"bool", from_vector<bool>({true, false, true, true, false}, {5})},
      {"scalar", scalar_tensor(7.5, TensorOptions(DType::Float32))},
      {"empty", zeros({0, 3}, TensorOptions(DType::Float64))},
      {"weird \"name\"\n\\ \xc3\xa9", from_vector<int64_t>({1}, {1, 1, 1})},
  };
}

void check_same(const StateDict& a, const StateDict& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].first);
    CHECK(a[i].first == b[i].first);
    CHECK(a[i].second.dtype() == b[i].second.dtype());
    CHECK(a[i].second.sizes() == b[i].second.sizes());
    CHECK(a[i].second.to_vector() == b[i].second.to_vector());
  }
}

}  // namespace

TEST_CASE("safetensors round trip of every dtype and shape", "[nn][serialization]") {
  TempDir dir;
  const std::string path = dir.path + "/ck.safetensors";
  StateDict sd = sample();
  nn::save(sd, path, {{"format", "pt"}, {"note", "a \"quoted\" value"}});
  auto ck = nn::load_checkpoint(path);
  check_same(ck.tensors, sd);
  CHECK(ck.metadata.at("format") == "pt");
  CHECK(ck.metadata.at("note") == "a \"quoted\" value");
  CHECK(ck.tensors[5].second.dim() == 0);
  CHECK(ck.tensors[6].second.numel() == 0);
  check_same(nn::load(path, Device("cpu")), sd);

  // The bytes follow the layout: u64 header length, an 8-byte aligned header.
  auto bytes = nn::serialize_safetensors(sd);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  CHECK((8 + n) % 8 == 0);
  CHECK(bytes[8] == '{');
  check_same(nn::parse_safetensors(bytes.data(), bytes.size()), sd);

  // An empty state dict is a valid file too.
  auto none = nn::serialize_safetensors({});
  CHECK(nn::parse_safetensors(none.data(), none.size()).empty());
}

TEST_CASE("safetensors saves views as contiguous copies", "[nn][serialization]") {
  TempDir dir;
  const std::string path = dir.path + "/views.safetensors";
  Tensor base = arange(0.0, 12.0, 1.0).to(DType::Float32).view({3, 4});
  Tensor t = base.t();                            // strided
  Tensor s = base.slice(1, 1, 4, 2);              // offset + step
  Tensor w = base.detach().requires_grad_(true);  // a leaf that requires grad
  nn::save({{"t", t}, {"s", s}, {"w", w}}, path);
  auto back = nn::load(path);
  CHECK(back[0].second.sizes() == Shape{4, 3});
  CHECK(back[0].second.to_vector() == t.contiguous().to_vector());
  CHECK(back[1].second.to_vector() == s.contiguous().to_vector());
  CHECK_FALSE(back[2].second.requires_grad());
}

TEST_CASE("safetensors writes atomically", "[nn][serialization]") {
  TempDir dir;
  const std::string path = dir.path + "/model.safetensors";
  nn::save(sample(), path);
  nn::save({{"x", ones({2})}}, path);  // overwrite through rename
  CHECK(dir.files() == std::vector<std::string>{"model.safetensors"});
  CHECK(nn::load(path).size() == 1);

  // A failing save (a bad tensor) leaves the old file and no temporary.
  CHECK_THROWS_AS(nn::save({{"a", ones({1})}, {"a", ones({1})}}, path), Error);
  CHECK_THROWS_AS(nn::save({{"__metadata__", ones({1})}}, path), Error);
  CHECK_THROWS_AS(nn::save({{"u", Tensor()}}, path), Error);
  CHECK(dir.files() == std::vector<std::string>{"model.safetensors"});
  CHECK(nn::load(path).size() == 1);

  // A folder that does not exist: a clear error naming the path.
  try {
    nn::save({{"x", ones({1})}}, dir.path + "/missing/model.safetensors");
    FAIL("expected a loom::Error");
  } catch (const Error& e) {
    CHECK(contains(e.what(), "missing/model.safetensors"));
  }
  try {
    nn::load(dir.path + "/nope.safetensors");
    FAIL("expected a loom::Error");
  } catch (const Error& e) {
    CHECK(contains(e.what(), "nope.safetensors"));
  }
}

TEST_CASE("safetensors rejects every truncation of a valid file", "[nn][serialization]") {
  auto bytes = nn::serialize_safetensors(sample(), {{"k", "v"}});
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
    INFO("prefix of " << n << " bytes");
    CHECK_THROWS_AS(nn::parse_safetensors(cut.data(), cut.size()), Error);
  }
  CHECK(contains(parse_error({1, 2, 3}), "fewer than the 8-byte header length"));
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  CHECK(contains(parse_error(longer), "trailing bytes"));
}

TEST_CASE("safetensors rejects oversized header lengths", "[nn][serialization]") {
  CHECK(contains(parse_error(raw_file(~0ull, "{}", {})), "exceeds the limit"));
  CHECK(contains(parse_error(raw_file(nn::kMaxHeaderBytes + 1, "{}", {})), "exceeds the limit"));
  CHECK(contains(parse_error(raw_file(100, "{}", {})), "exceeds the 2 bytes"));
  CHECK(contains(parse_error(raw_file(1, "{", {})), "too small"));
  CHECK(contains(parse_error(raw_file(0, "", {})), "too small"));
}

TEST_CASE("safetensors rejects bad offsets", "[nn][serialization]") {
  const std::string a = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  // overlapping
  CHECK(contains(parse_error(file_with("{" + a + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)),
                 "overlap"));
  CHECK(contains(parse_error(file_with("{" + a + R"(,"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8)),
                 "overlap"));
  // hole before a tensor, trailing bytes
  CHECK(contains(parse_error(file_with(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)), "hole"));
  CHECK(contains(parse_error(file_with("{" + a + "}", 12)), "trailing bytes"));
  // past the end, begin > end, size mismatch
  CHECK(contains(parse_error(file_with("{" + a + "}", 4)), "past the end"));
  CHECK(
      contains(parse_error(file_with(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", 8)), "begin > end"));
  CHECK(contains(parse_error(file_with(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
                 "needs 12 bytes"));
  CHECK(contains(parse_error(file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,-8]}})", 8)),
                 "non-negative"));
  CHECK(contains(
      parse_error(file_with(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}})", 8)),
      "int64 range"));
  // zero-sized tensors may share an offset with others
  auto ok = file_with(R"({"e":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]},)" + a + "}", 8);
  CHECK(nn::parse_safetensors(ok.data(), ok.size()).size() == 2);
}

TEST_CASE("safetensors rejects bad dtypes and shapes", "[nn][serialization]") {
  auto entry = [](const std::string& dtype, const std::string& shape, const std::string& offs) {
    return file_with(R"({"a":{"dtype":")" + dtype + R"(","shape":)" + shape + R"(,"data_offsets":)" + offs + "}}", 0);
  };
  try {
    auto f = entry("F16", "[0]", "[0,0]");
    nn::parse_safetensors(f.data(), f.size());
    FAIL("expected a loom::Error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::NotImplemented);
    CHECK(contains(e.what(), "not support yet"));
  }
  CHECK(contains(parse_error(entry("BF16", "[0]", "[0,0]")), "BF16, which loom does not support yet"));
  CHECK(contains(parse_error(entry("U8", "[0]", "[0,0]")), "does not support"));
  CHECK(contains(parse_error(entry("X9", "[0]", "[0,0]")), "unknown dtype \"X9\""));
  CHECK(contains(parse_error(entry("F32", "[-1]", "[0,0]")), "negative size"));
  CHECK(contains(parse_error(entry("F32", "[4294967296,4294967296]", "[0,0]")), "overflows"));
  CHECK(contains(parse_error(entry("F32", "[0,9223372036854775807,9223372036854775807]", "[0,0]")), "overflows"));
  CHECK(contains(parse_error(entry("F32", "[\"2\"]", "[0,0]")), "shape must hold integers"));
  CHECK(contains(parse_error(entry("F32", "2", "[0,0]")), "shape must be an array"));
  CHECK(contains(parse_error(entry("F32", "[0]", "[0]")), "two integers"));
  std::string dims = "[";
  for (int i = 0; i < 65; ++i) dims += i ? ",1" : "1";
  CHECK(contains(parse_error(entry("F32", dims + "]", "[0,4]")), "dimensions"));
}

TEST_CASE("safetensors rejects malformed headers", "[nn][serialization]") {
  // (header, expected part of the message)
  const std::vector<std::pair<std::string, std::string>> corpus = {
      {"[]", "must be a JSON object"},
      {"  ", "must be a JSON object"},
      {"{\"a\":1", "ends in the middle"},
      {"{\"a\" 1}", "expected ':'"},
      {"{a:1}", "expected a string key"},
      {"{\"a\":1,}", "expected a string key"},
      {"{\"a\":[1,]}", "unsupported JSON value"},
      {"{\"a\":true}", "unsupported JSON value"},
      {"{\"a\":null}", "unsupported JSON value"},
      {"{\"a\":1.5}", "non-integer"},
      {"{\"a\":1e3}", "non-integer"},
      {"{\"a\":01}", "leading zero"},
      {"{\"a\":-}", "expected a digit"},
      {"{\"a\":99999999999999999999}", "int64 range"},
      {"{\"a\":\"x}", "unterminated string"},
      {"{\"a\":\"\\q\"}", "unknown escape"},
      {"{\"a\":\"\\u12\"}", "bad hex digit"},
      {"{\"a\":\"\\ud800\"}", "unpaired high surrogate"},
      {"{\"a\":\"\\udc00\"}", "unpaired low surrogate"},
      {std::string("{\"a\":\"\x01\"}"), "control character"},
      {"{} x", "unexpected data after"},
      {"{}{}", "unexpected data after"},
      {"{\"a\":1,\"a\":2}", "duplicate key \"a\""},
      {"{\"a\":1}", "must be an object"},
      {"{\"a\":{}}", "needs the fields"},
      {"{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\"}}", "duplicate key \"dtype\""},
      {"{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4],\"extra\":1}}", "unknown field \"extra\""},
      {"{\"a\":{\"dtype\":3,\"shape\":[],\"data_offsets\":[0,4]}}", "dtype must be a string"},
      {"{\"__metadata__\":[]}", "__metadata__ must be an object"},
      {"{\"__metadata__\":{\"k\":1}}", "must be a string"},
      {"{\"__metadata__\":{},\"__metadata__\":{}}", "duplicate key"},
      {std::string(20, '['), "must be a JSON object"},
      {"{\"a\":" + std::string(40, '[') + std::string(40, ']') + "}", "nests deeper"},
  };
  for (const auto& [header, want] : corpus) {
    INFO("header: " << header);
    std::string msg = parse_error(file_with(header, 0));
    INFO("message: " << msg);
    CHECK(contains(msg, want));
    CHECK(contains(msg, "safetensors: "));
  }
  // Escapes decode to UTF-8; a header padded with trailing spaces is fine.
  auto f = file_with(R"({"\u00e9\ud83d\ude00\n\/":{"dtype":"I32","shape":[],"data_offsets":[0,4]}}   )", 4);
  auto sd = nn::parse_safetensors(f.data(), f.size());
  REQUIRE(sd.size() == 1);
  CHECK(sd[0].first == "\xc3\xa9\xf0\x9f\x98\x80\n/");
}

TEST_CASE("safetensors rejects invalid UTF-8 in the header, naming the byte and the file", "[nn][serialization]") {
  // Raw (unescaped) bytes inside strings must be well-formed UTF-8.
  const std::vector<std::pair<std::string, size_t>> corpus = {
      {"\xff", 2},              // never a lead byte
      {"\x80", 2},              // a lone continuation byte
      {"ab\xc3", 4},            // truncated two-byte sequence
      {"\xc3(", 2},             // lead byte without its continuation
      {"\xc0\xaf", 2},          // overlong '/'
      {"\xe0\x80\xaf", 2},      // overlong three-byte form
      {"\xed\xa0\x80", 2},      // UTF-8 encoded surrogate U+D800
      {"\xf4\x90\x80\x80", 2},  // above U+10FFFF
      {"\xf0\x9f\x98", 2},      // truncated four-byte sequence
  };
  for (const auto& [bad, at] : corpus) {
    const std::string header = "{\"" + bad + "\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}";
    INFO("header: " << header);
    std::string msg = parse_error(file_with(header, 4));
    INFO("message: " << msg);
    CHECK(contains(msg, "invalid UTF-8 in a string in the header"));
    CHECK(contains(msg, "at byte " + std::to_string(at) + " of the"));
  }
  // Well-formed raw UTF-8 of every length passes through unchanged.
  const std::string name = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
  auto ok = file_with("{\"" + name + "\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4);
  auto sd = nn::parse_safetensors(ok.data(), ok.size());
  REQUIRE(sd.size() == 1);
  CHECK(sd[0].first == name);

  // load() names the file as well.
  TempDir dir;
  const std::string path = dir.path + "/bad_utf8.safetensors";
  auto bytes = file_with("{\"__metadata__\":{\"k\":\"\xfe\"}}", 0);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  try {
    nn::load(path);
    FAIL("expected a loom::Error");
  } catch (const Error& e) {
    CHECK(contains(e.what(), path));
    CHECK(contains(e.what(), "invalid UTF-8"));
  }
}

TEST_CASE("safetensors survives byte flips without reading out of bounds", "[nn][serialization]") {
  // A cheap in-tree cousin of tests/fuzz/fuzz_safetensors.cpp: every byte of a
  // small file set to a few values parses or raises a loom::Error.
  auto bytes = nn::serialize_safetensors({{"w", ones({2, 2})}, {"b", from_vector<bool>({true}, {1})}}, {{"k", "v"}});
  const uint8_t values[] = {0, 1, '"', '{', '}', '[', ']', ',', ':', '\\', '-', '9', 0x7f, 0xff};
  int errors = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t v : values) {
      auto m = bytes;
      m[i] = v;
      try {
        nn::parse_safetensors(m.data(), m.size());
      } catch (const Error&) {
        ++errors;
      }
    }
  }
  CHECK(errors > 0);
}

TEST_CASE("safetensors loads a stored PyTorch fixture", "[nn][serialization]") {
  const std::string path = std::string(LOOM_SOURCE_DIR) + "/tests/data/torch_linear.safetensors";
  if (access(path.c_str(), R_OK) != 0) SKIP("fixture missing: " << path);
  auto sd = nn::load(path);
  REQUIRE(sd.size() == 2);
  std::map<std::string, Tensor> by_name(sd.begin(), sd.end());
  CHECK(by_name.at("weight").sizes() == Shape{3, 4});
  CHECK(by_name.at("bias").sizes() == Shape{3});
  CHECK(by_name.at("weight").dtype() == DType::Float32);

  // Loaded into the matching module, it reproduces torch's output
  // (tests/data/torch_linear_io.json, written by make_torch_fixtures.py).
  nn::Linear layer(4, 3);
  layer.load_state_dict(sd);
  Tensor x = from_vector<float>({0.6035430431365967f, 0.8109818696975708f, -0.04508150741457939f, 0.8796946406364441f,
                                 1.0482062101364136f, -0.04450046643614769f, -0.7228844165802002f, 2.866340160369873f},
                                {2, 4});
  test::check_close(layer.forward(x),
                    {-0.5675593018531799, 0.010562628507614136, -0.2052406370639801, -1.2507766485214233,
                     0.6045385599136353, -0.4309893250465393},
                    1e-6, 1e-6);
}

TEST_CASE("safetensors round trip of a module's state_dict", "[nn][serialization]") {
  TempDir dir;
  const std::string path = dir.path + "/linear.safetensors";
  nn::Linear a(5, 2), b(5, 2);
  nn::save(a.state_dict(), path);
  b.load_state_dict(nn::load(path));
  Tensor x = randn({3, 5});
  test::check_close(b.forward(x), a.forward(x), 0.0, 0.0);
}

TEST_CASE("safetensors checkpoint of a model and its optimizer resumes training", "[nn][serialization]") {
  // The optimizer's state_dict is a flat name -> tensor map (nn/optim/optimizer.h),
  // stored as-is; a std::map converts to and from StateDict.
  TempDir dir;
  Tensor x = randn({4, 3});
  auto step = [&](nn::Linear& m, optim::Adam& opt) {
    opt.zero_grad();
    m.forward(x).pow(2.0).sum().backward();
    opt.step();
  };
  nn::Linear m1(3, 2), m2(3, 2);
  optim::Adam o1(m1.parameters(), optim::AdamOptions{0.1}), o2(m2.parameters(), optim::AdamOptions{0.1});
  step(m1, o1);
  auto osd = o1.state_dict();
  nn::save(m1.state_dict(), dir.path + "/model.safetensors");
  nn::save(StateDict(osd.begin(), osd.end()), dir.path + "/optim.safetensors");

  m2.load_state_dict(nn::load(dir.path + "/model.safetensors"));
  auto loaded = nn::load(dir.path + "/optim.safetensors");
  o2.load_state_dict(std::map<std::string, Tensor>(loaded.begin(), loaded.end()));
  step(m1, o1);
  step(m2, o2);
  auto a = m1.state_dict(), b = m2.state_dict();
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) test::check_close(b[i].second, a[i].second, 0.0, 0.0);
}

TEST_CASE("save removes temporaries of killed saves, never a live one", "[nn][serialization]") {
  TempDir dir;
  const std::string path = dir.path + "/ck.safetensors";
  auto touch = [&](const std::string& name) { std::ofstream(dir.path + "/" + name) << "partial"; };
  touch("ck.safetensors.tmp.AbC123");     // left by a save that was killed: nobody holds its lock
  touch("ck.safetensors.tmp.toolong1");   // not a name save makes
  touch("other.safetensors.tmp.XyZ789");  // another target's
  touch("ck.safetensors.tmp.Live01");
  // A save in progress holds an exclusive lock on its temporary.
  int live = ::open((dir.path + "/ck.safetensors.tmp.Live01").c_str(), O_RDONLY);
  REQUIRE(live >= 0);
  REQUIRE(::flock(live, LOCK_EX) == 0);
  StateDict sd{{"w", ones({2, 3})}};
  nn::save(sd, path);
  ::close(live);
  auto files = dir.files();
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{"ck.safetensors", "ck.safetensors.tmp.Live01", "ck.safetensors.tmp.toolong1",
                                          "other.safetensors.tmp.XyZ789"});
  // Its lock released (its writer died), the next save removes it too.
  nn::save(sd, path);
  files = dir.files();
  CHECK(std::count(files.begin(), files.end(), "ck.safetensors.tmp.Live01") == 0);
  auto loaded = nn::load(path);
  REQUIRE(loaded.size() == 1);
  test::check_close(loaded[0].second, std::vector<double>(6, 1.0));
}

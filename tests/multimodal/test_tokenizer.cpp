// WordTokenizer of multimodal/tokenizer.h: splitting, the deterministic
// vocabulary order, encode/decode round trips, truncation and padding, the
// padding mask, save/load, unknown words and the errors for bad input.
#include <catch2/catch_test_macros.hpp>
#include <catch2/matchers/catch_matchers_string.hpp>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "multimodal/tokenizer.h"
#include "test_util.h"

using namespace loom;
using namespace loom::multimodal;
using Catch::Matchers::ContainsSubstring;
using Strings = std::vector<std::string>;

namespace {

const Strings kCorpus = {"A photo of a sneaker.", "a black-and-white picture of a pullover",
                         "A photo of a bag, seen from above!"};

WordTokenizer built() {
  WordTokenizer tok;
  tok.build(kCorpus);
  return tok;
}

std::string temp_path(const std::string& name) {
  const std::string file = "loom_test_tokenizer_" + std::to_string(getpid()) + "_" + name;
  return (std::filesystem::temp_directory_path() / file).string();
}

}  // namespace

TEST_CASE("multimodal tokenizer: split lower-cases and separates punctuation", "[multimodal]") {
  CHECK(WordTokenizer::split("A Black-and-White picture, 2x!") ==
        Strings{"a", "black", "-", "and", "-", "white", "picture", ",", "2x", "!"});
  CHECK(WordTokenizer::split("  \t\n ") == Strings{});
  CHECK(WordTokenizer::split("...") == Strings{".", ".", "."});
  CHECK(WordTokenizer::split("<pad>") == Strings{"<", "pad", ">"});  // specials cannot be spelled
  // Non-ASCII bytes stay inside their word unchanged (only ASCII is lower-cased).
  CHECK(WordTokenizer::split("Caf\xC3\xA9 \xC3\x89T\xC3\x89") == Strings{"caf\xC3\xA9", "\xC3\x89t\xC3\x89"});
}

TEST_CASE("multimodal tokenizer: build orders by frequency then bytewise", "[multimodal]") {
  WordTokenizer tok;
  CHECK(tok.vocab_size() == 4);
  tok.build({"b a a", "c b a", "z y"});
  // a:3, b:2, then the count-1 tokens in byte order: c, y, z.
  const Strings expected = {"<pad>", "<unk>", "<bos>", "<eos>", "a", "b", "c", "y", "z"};
  REQUIRE(tok.vocab_size() == static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    CHECK(tok.id_to_token(static_cast<int64_t>(i)) == expected[i]);
    CHECK(tok.token_to_id(expected[i]) == static_cast<int64_t>(i));
  }
  // The same corpus in another order gives the same ids.
  WordTokenizer again;
  again.build({"z y", "c b a", "b a a"});
  for (int64_t i = 0; i < tok.vocab_size(); ++i) CHECK(again.id_to_token(i) == tok.id_to_token(i));

  tok.build({"b a a", "c b a", "z y"}, 2);
  CHECK(tok.vocab_size() == 6);  // specials + a, b
  tok.build({"b a a", "c b a", "z y"}, 1, 5);
  CHECK(tok.vocab_size() == 5);
  CHECK(tok.id_to_token(4) == "a");
}

TEST_CASE("multimodal tokenizer: encode and decode round trip", "[multimodal]") {
  WordTokenizer tok = built();
  for (const std::string& text : kCorpus) {
    std::vector<int64_t> ids = tok.encode(text, 32);
    REQUIRE(ids.size() == 32);
    CHECK(ids.front() == WordTokenizer::kBos);
    const Strings words = WordTokenizer::split(text);
    CHECK(ids[words.size() + 1] == WordTokenizer::kEos);
    for (size_t i = words.size() + 2; i < ids.size(); ++i) CHECK(ids[i] == WordTokenizer::kPad);
    std::string joined;
    for (const std::string& w : words) joined += (joined.empty() ? "" : " ") + w;
    CHECK(tok.decode(ids) == joined);
  }
  CHECK(tok.decode(tok.encode("a photo, of a bag", 10, false)) == "a photo , of a bag");
  CHECK(tok.encode("a photo", 4, false) == std::vector<int64_t>{tok.token_to_id("a"), tok.token_to_id("photo"), 0, 0});
}

TEST_CASE("multimodal tokenizer: truncation keeps <eos> last", "[multimodal]") {
  WordTokenizer tok = built();
  const std::vector<int64_t> ids = tok.encode("a photo of a sneaker", 4);
  CHECK(ids ==
        std::vector<int64_t>{WordTokenizer::kBos, tok.token_to_id("a"), tok.token_to_id("photo"), WordTokenizer::kEos});
  CHECK(tok.encode("a photo of a sneaker", 2) == std::vector<int64_t>{WordTokenizer::kBos, WordTokenizer::kEos});
  CHECK(tok.encode("a photo of a sneaker", 2, false) ==
        std::vector<int64_t>{tok.token_to_id("a"), tok.token_to_id("photo")});
  // An exact fit needs no truncation.
  CHECK(tok.encode("a photo", 4).back() == WordTokenizer::kEos);
}

TEST_CASE("multimodal tokenizer: unknown words map to <unk>", "[multimodal]") {
  WordTokenizer tok = built();
  CHECK(tok.token_to_id("zebra") == WordTokenizer::kUnk);
  const std::vector<int64_t> ids = tok.encode("a ZEBRA photo", 6);
  CHECK(ids == std::vector<int64_t>{2, tok.token_to_id("a"), WordTokenizer::kUnk, tok.token_to_id("photo"), 3, 0});
  CHECK(tok.decode(ids) == "a <unk> photo");
}

TEST_CASE("multimodal tokenizer: encode_batch and padding_mask", "[multimodal]") {
  WordTokenizer tok = built();
  const Strings texts = {"a photo of a bag", "a pullover", ""};
  const Tensor ids = tok.encode_batch(texts, 7);
  REQUIRE(ids.sizes() == Shape{3, 7});
  CHECK(ids.dtype() == DType::Int64);
  std::vector<double> expected;
  for (const std::string& t : texts)
    for (int64_t id : tok.encode(t, 7)) expected.push_back(static_cast<double>(id));
  CHECK(ids.to_vector() == expected);
  CHECK(tok.decode(ids.select(0, 1)) == "a pullover");

  const Tensor mask = padding_mask(ids);
  REQUIRE(mask.sizes() == Shape{3, 7});
  CHECK(mask.dtype() == DType::Bool);
  const std::vector<double> m = mask.to_vector();
  for (size_t i = 0; i < m.size(); ++i) CHECK((m[i] != 0) == (expected[i] == WordTokenizer::kPad));
  CHECK(tok.encode_batch({}, 5).sizes() == Shape{0, 5});
}

TEST_CASE("multimodal tokenizer: save and load round trip", "[multimodal]") {
  WordTokenizer tok;
  tok.build({"Caf\xC3\xA9 au lait, caf\xC3\xA9 noir", "du lait"});
  const std::string path = temp_path("vocab.txt");
  tok.save(path);
  const WordTokenizer back = WordTokenizer::load(path);
  REQUIRE(back.vocab_size() == tok.vocab_size());
  for (int64_t i = 0; i < tok.vocab_size(); ++i) CHECK(back.id_to_token(i) == tok.id_to_token(i));
  CHECK(back.token_to_id("caf\xC3\xA9") == tok.token_to_id("caf\xC3\xA9"));
  CHECK(back.encode("caf\xC3\xA9 au lait", 8) == tok.encode("caf\xC3\xA9 au lait", 8));
  // The file is one token per line, specials first.
  std::ifstream f(path);
  std::string first;
  std::getline(f, first);
  CHECK(first == "<pad>");
  std::remove(path.c_str());
}

TEST_CASE("multimodal tokenizer: bad input raises naming the function", "[multimodal]") {
  WordTokenizer tok = built();
  CHECK(test::error_kind([&] { tok.encode("a", 1); }) == ErrorKind::Value);
  CHECK_THAT(loom::test::error_message([&] { tok.encode("a", 1); }),
             ContainsSubstring("WordTokenizer::encode") && ContainsSubstring("max_len"));
  CHECK(test::error_kind([&] { tok.encode("a", 0, false); }) == ErrorKind::Value);
  CHECK(test::error_kind([&] { tok.encode_batch({"a"}, 1); }) == ErrorKind::Value);
  CHECK(test::error_kind([&] { tok.id_to_token(tok.vocab_size()); }) == ErrorKind::Index);
  CHECK(test::error_kind([&] { tok.decode(std::vector<int64_t>{2, -1}); }) == ErrorKind::Index);
  CHECK(test::error_kind([&] { tok.build(kCorpus, 0); }) == ErrorKind::Value);
  CHECK(test::error_kind([&] { tok.build(kCorpus, 1, 3); }) == ErrorKind::Value);
  CHECK_THAT(loom::test::error_message([&] {
               tok.decode(ones({2, 2}, DType::Int64));
             }),
             ContainsSubstring("WordTokenizer::decode") && ContainsSubstring("[2, 2]"));
  CHECK_THAT(loom::test::error_message([&] {
               padding_mask(ones({2, 3}));
             }),
             ContainsSubstring("padding_mask") && ContainsSubstring("float32") && ContainsSubstring("[2, 3]"));
  CHECK_THAT(loom::test::error_message([&] {
               padding_mask(zeros({1, 2, 3}, DType::Int64));
             }),
             ContainsSubstring("padding_mask") && ContainsSubstring("[1, 2, 3]"));

  CHECK_THAT(loom::test::error_message([] { WordTokenizer::load(temp_path("does_not_exist.txt")); }),
             ContainsSubstring("WordTokenizer::load") && ContainsSubstring("cannot open"));
  const std::string path = temp_path("bad_vocab.txt");
  {
    std::ofstream f(path);
    f << "<pad>\n<unk>\n<bos>\n<eos>\nword\nword\n";
  }
  CHECK_THAT(loom::test::error_message([&] { WordTokenizer::load(path); }), ContainsSubstring("appears twice"));
  {
    std::ofstream f(path);
    f << "<unk>\n<pad>\n<bos>\n<eos>\n";
  }
  CHECK_THAT(loom::test::error_message([&] { WordTokenizer::load(path); }), ContainsSubstring("expected '<pad>'"));
  std::remove(path.c_str());
}

TEST_CASE("multimodal tokenizer: load rejects invalid UTF-8, naming the file and the byte", "[multimodal]") {
  const std::string path = temp_path("binary_vocab.txt");
  {
    std::ofstream f(path, std::ios::binary);
    f << "<pad>\n<unk>\n<bos>\n<eos>\ncaf\xC3\xA9\nok\xFF\n";
  }
  const std::string msg = loom::test::error_message([&] { WordTokenizer::load(path); });
  CHECK_THAT(msg, ContainsSubstring("WordTokenizer::load") && ContainsSubstring(path) &&
                      ContainsSubstring("invalid UTF-8") && ContainsSubstring("at byte 32 (line 6)"));
  // A binary file fails on its first bad byte, before the special-token check.
  {
    std::ofstream f(path, std::ios::binary);
    f << "\x89PNG\r\n\x1a\n";
  }
  CHECK_THAT(loom::test::error_message([&] { WordTokenizer::load(path); }),
             ContainsSubstring("invalid UTF-8") && ContainsSubstring("at byte 0 (line 1)"));
  // Overlong forms and encoded surrogates are not UTF-8 either.
  for (const char* bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82"}) {
    {
      std::ofstream f(path, std::ios::binary);
      f << "<pad>\n<unk>\n<bos>\n<eos>\n" << bad << "\n";
    }
    CHECK_THAT(loom::test::error_message([&] { WordTokenizer::load(path); }), ContainsSubstring("at byte 24 (line 5)"));
  }
  std::remove(path.c_str());
}

// Found by tests/fuzz/fuzz_tokenizer (tests/fuzz/regressions/fuzz_tokenizer/):
// "x\r\r\n" loaded as the token "x\r", which save() wrote back as "x\r\n" and
// the next load() read as "x" (or as a repeat of an existing "x").
TEST_CASE("multimodal tokenizer: load rejects tokens holding whitespace, CRLF line ends aside", "[multimodal]") {
  const std::string path = temp_path("space_vocab.txt");
  {
    std::ofstream f(path, std::ios::binary);
    f << "<pad>\r\n<unk>\r\n<bos>\r\n<eos>\r\nok\r\n";
  }
  CHECK(WordTokenizer::load(path).id_to_token(4) == "ok");
  for (const char* bad : {"opad>\r\r", "a b", "a\tb", "\x0b"}) {
    {
      std::ofstream f(path, std::ios::binary);
      f << "<pad>\n<unk>\n<bos>\n<eos>\n" << bad << "\n";
    }
    const std::string msg = loom::test::error_message([&] { WordTokenizer::load(path); });
    CHECK_THAT(msg, ContainsSubstring("WordTokenizer::load: whitespace") && ContainsSubstring(path) &&
                        ContainsSubstring("(line 5)"));
  }
  {
    std::ofstream f(path, std::ios::binary);
    f << "<pad>\n<unk>\n<bos>\n<eos>\nopad>\r\r\n";
  }
  CHECK_THAT(loom::test::error_message([&] { WordTokenizer::load(path); }),
             ContainsSubstring("character code 13") && ContainsSubstring("at byte 29 (line 5)"));
  std::remove(path.c_str());
}

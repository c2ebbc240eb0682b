// ImageCaptionFolder of image_folder.h.
//
// The captions file is read whole and parsed here: CSV by a small RFC 4180
// state machine, JSONL line by line with the library's JSON reader
// (core/json.h), whose depth limit makes a line of 100,000 '[' raise instead
// of overflowing the stack. Both report errors by file and line.
#include "multimodal/image_folder.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unordered_map>
#include <utility>

#include "core/json.h"
#include "core/utf8.h"

namespace loom::multimodal {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- captions files

namespace {

// One image and its captions as a captions file names them.
struct Row {
  std::string image;
  std::vector<std::string> captions;
  int64_t label = -1;
  int64_t line = 0;
};

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int64_t line_of(const std::string& text, size_t pos) {
  return 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(std::min(pos, text.size())), '\n');
}

// A decimal integer label; empty -> -1.
int64_t parse_label(const std::string& s, const std::string& where) {
  if (s.empty()) return -1;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  bool ok = i < s.size() && s.size() - i <= 18;
  for (size_t j = i; ok && j < s.size(); ++j) ok = s[j] >= '0' && s[j] <= '9';
  LOOM_CHECK_VALUE(ok, where, ": the label must be an integer, got '", s, "'");
  return std::stoll(s);
}

struct CsvRecord {
  std::vector<std::string> fields;
  int64_t line;
};

std::vector<CsvRecord> parse_csv(const std::string& text, const std::string& who) {
  std::vector<CsvRecord> records;
  CsvRecord rec{{}, 1};
  std::string field;
  int64_t line = 1;
  bool quoted = false, was_quoted = false;
  int64_t quote_line = 0;
  auto end_record = [&] {
    rec.fields.push_back(std::move(field));
    field.clear();
    const bool blank = rec.fields.size() == 1 && rec.fields[0].empty() && !was_quoted;
    if (!blank) records.push_back(std::move(rec));
    rec = CsvRecord{{}, line};
    was_quoted = false;
  };
  const size_t n = text.size();
  for (size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < n && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
          // Spaces may follow the closing quote; anything else is a stray quote.
          size_t j = i + 1;
          while (j < n && (text[j] == ' ' || text[j] == '\t')) ++j;
          LOOM_CHECK_VALUE(j == n || text[j] == ',' || text[j] == '\n' || text[j] == '\r', who, ": line ", line,
                           ": unexpected '", std::string(1, text[j]),
                           "' after a closing quote (a quote inside a quoted field is written \"\")");
          i = j - 1;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"' && field.find_first_not_of(" \t") == std::string::npos) {
      // A quote opens a quoted field, also after spaces ("a.png, \"a dog, running\"").
      field.clear();
      quoted = was_quoted = true;
      quote_line = line;
    } else if (c == ',') {
      rec.fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
      ++line;
      end_record();
    } else {
      field += c;
    }
  }
  LOOM_CHECK_VALUE(!quoted, who, ": line ", quote_line, ": a quoted field is never closed");
  if (!field.empty() || !rec.fields.empty() || was_quoted) end_record();
  return records;
}

std::vector<Row> read_csv(const std::string& text, const std::string& who) {
  std::vector<CsvRecord> records = parse_csv(text, who);
  LOOM_CHECK_VALUE(!records.empty(), who, ": the file is empty: expected a header row image,caption[,label]");
  int64_t image_col = -1, caption_col = -1, label_col = -1;
  const std::vector<std::string>& header = records[0].fields;
  for (size_t j = 0; j < header.size(); ++j) {
    const std::string name = lower(trim(header[j]));
    if (name == "image" && image_col < 0) image_col = static_cast<int64_t>(j);
    if (name == "caption" && caption_col < 0) caption_col = static_cast<int64_t>(j);
    if (name == "label" && label_col < 0) label_col = static_cast<int64_t>(j);
  }
  LOOM_CHECK_VALUE(image_col >= 0 && caption_col >= 0, who, ": line ", records[0].line,
                   ": the header row must name the columns image and caption (and optionally label), got ", header);
  const size_t needed = static_cast<size_t>(std::max({image_col, caption_col, label_col})) + 1;
  std::vector<Row> rows;
  for (size_t r = 1; r < records.size(); ++r) {
    const CsvRecord& rec = records[r];
    const std::string where = who + ": line " + std::to_string(rec.line);
    // A missing trailing label column reads as no label.
    const size_t have = rec.fields.size();
    LOOM_CHECK_VALUE(
        have >= needed || (label_col >= 0 && have == needed - 1 && static_cast<size_t>(label_col) == needed - 1), where,
        ": expected ", needed, " fields as the header names, got ", have);
    Row row;
    row.line = rec.line;
    row.image = trim(rec.fields[image_col]);
    row.captions.push_back(trim(rec.fields[caption_col]));
    if (label_col >= 0 && static_cast<size_t>(label_col) < have)
      row.label = parse_label(trim(rec.fields[label_col]), where);
    LOOM_CHECK_VALUE(!row.image.empty(), where, ": the image field is empty");
    rows.push_back(std::move(row));
  }
  return rows;
}

using Json = json::Value;

// A line of 100,000 '[' must raise, not overflow the stack.
constexpr int kMaxJsonDepth = 64;

const char* json_kind_name(Json::Kind k) {
  switch (k) {
    case Json::Null: return "null";
    case Json::Bool: return "a boolean";
    case Json::Number: return "a number";
    case Json::String: return "a string";
    case Json::Array: return "a list";
    case Json::Object: return "an object";
  }
  return "?";
}

std::string jsonl_message(const json::ParseError& e, bool at_end) {
  using C = json::ErrorCode;
  switch (e.code) {
    case C::TooDeep: return "the JSON nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    case C::ExpectedValue:
      return at_end ? "unexpected end of line: expected a JSON value" : "unexpected character '" + e.detail + "'";
    case C::ExpectedKey: return "expected a \"key\" in the object";
    case C::ExpectedColon: return "expected ':' after the key \"" + e.detail + "\"";
    case C::ExpectedObjectEnd: return "expected ',' or '}' in the object";
    case C::ExpectedArrayEnd: return "expected ',' or ']' in the list";
    case C::UnterminatedString:
    case C::UnterminatedEscape: return "a string is never closed";
    case C::ControlCharacter: return "a control character inside a string (write \\n, \\t, ...)";
    case C::UnknownEscape: return "unknown escape '\\" + e.detail + "'";
    case C::TruncatedUnicodeEscape:
    case C::BadHexDigit: return "a \\u escape needs four hex digits";
    case C::UnpairedHighSurrogate:
    case C::BadLowSurrogate: return "a \\u escape of a high surrogate must be followed by a low one";
    case C::UnpairedLowSurrogate: return "a lone low surrogate in a \\u escape";
    case C::TrailingData: return "unexpected text after the JSON value";
    case C::DuplicateKey:
    case C::InvalidUtf8: break;  // not asked for
  }
  return e.what();
}

// The JSON value of text[begin, end), one line; errors name `where` and the column.
Json parse_json_line(const std::string& text, size_t begin, size_t end, const std::string& where) {
  json::Options options;
  options.max_depth = kMaxJsonDepth;
  try {
    return json::parse(text.data() + begin, end - begin, options);
  } catch (const json::ParseError& e) {
    LOOM_THROW(ErrorKind::Value, where, ", column ", e.offset + 1, ": ", jsonl_message(e, e.offset >= end - begin));
  }
}

std::vector<Row> read_jsonl(const std::string& text, const std::string& who) {
  std::vector<Row> rows;
  int64_t line = 0;
  for (size_t begin = 0; begin < text.size();) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    ++line;
    const size_t next = end + 1;
    if (trim(text.substr(begin, end - begin)).empty()) {
      begin = next;
      continue;
    }
    const std::string where = who + ": line " + std::to_string(line);
    Json obj = parse_json_line(text, begin, end, where);
    LOOM_CHECK_VALUE(obj.kind == Json::Object, where,
                     ": expected a JSON object {\"image\": ..., \"caption\": ...}, got ", json_kind_name(obj.kind));
    Row row;
    row.line = line;
    const Json* image = nullptr;
    const Json* caption = nullptr;
    const Json* label = nullptr;
    for (const auto& [key, value] : obj.members) {
      if (key == "image") image = &value;
      if (key == "caption") caption = &value;
      if (key == "label") label = &value;
    }
    LOOM_CHECK_VALUE(image != nullptr && caption != nullptr, where,
                     ": the object must have the keys \"image\" and \"caption\"");
    LOOM_CHECK_VALUE(image->kind == Json::String && !image->text.empty(), where,
                     ": \"image\" must be a non-empty string (a file path), got ", json_kind_name(image->kind));
    row.image = image->text;
    if (caption->kind == Json::String) {
      row.captions.push_back(caption->text);
    } else {
      LOOM_CHECK_VALUE(caption->kind == Json::Array && !caption->items.empty(), where,
                       ": \"caption\" must be a string or a non-empty list of strings, got ",
                       caption->kind == Json::Array ? "an empty list" : json_kind_name(caption->kind));
      for (const Json& c : caption->items) {
        LOOM_CHECK_VALUE(c.kind == Json::String, where, ": \"caption\" lists ", json_kind_name(c.kind),
                         ": expected strings only");
        row.captions.push_back(c.text);
      }
    }
    if (label != nullptr && label->kind != Json::Null) {
      LOOM_CHECK_VALUE(label->kind == Json::Number, where, ": \"label\" must be an integer or null, got ",
                       json_kind_name(label->kind));
      row.label = parse_label(label->text, where);
    }
    rows.push_back(std::move(row));
    begin = next;
  }
  return rows;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// ---------------------------------------------------------------- ImageCaptionFolder

ImageCaptionFolder::ImageCaptionFolder(const std::string& captions_file, ImageCaptionFolderOptions options)
    : captions_file_(captions_file), options_(std::move(options)) {
  const std::string who = "ImageCaptionFolder: '" + captions_file + "'";
  LOOM_CHECK_VALUE(!captions_file.empty(), "ImageCaptionFolder: empty captions file path");
  const Shape& size = options_.size;
  LOOM_CHECK_VALUE(size.empty() || ((size.size() == 1 || size.size() == 2) && size[0] > 0 && size.back() > 0),
                   "ImageCaptionFolder: size must be empty (keep each image's size), {s} or {h, w} with positive "
                   "entries, got ",
                   size);
  LOOM_CHECK_VALUE(options_.max_len >= 1, "ImageCaptionFolder: max_len must be >= 1, got ", options_.max_len);

  std::error_code ec;
  LOOM_CHECK(!fs::is_directory(captions_file, ec), who,
             " is a directory: expected a captions file (CSV or JSONL) that names the images");
  std::ifstream f(captions_file, std::ios::binary);
  if (!f) LOOM_THROW(ErrorKind::Runtime, who, ": cannot open the captions file: ", std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) LOOM_THROW(ErrorKind::Runtime, who, ": cannot read the captions file: ", std::strerror(errno));
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);  // a byte-order mark from spreadsheet exports
  const size_t bad = invalid_utf8_at(text);
  LOOM_CHECK_VALUE(bad == std::string::npos, who, ": line ", line_of(text, bad),
                   ": the captions file is not valid UTF-8 text");

  const std::string name = lower(fs::path(captions_file).filename().string());
  bool jsonl;
  if (ends_with(name, ".csv")) {
    jsonl = false;
  } else if (ends_with(name, ".jsonl") || ends_with(name, ".ndjson") || ends_with(name, ".json")) {
    jsonl = true;
  } else {
    const size_t first = text.find_first_not_of(" \t\r\n");
    jsonl = first != std::string::npos && text[first] == '{';
  }
  const std::vector<Row> rows = jsonl ? read_jsonl(text, who) : read_csv(text, who);

  root_ = options_.root.empty() ? fs::path(captions_file).parent_path().string() : options_.root;
  if (root_.empty()) root_ = ".";
  std::unordered_map<std::string, int64_t> ids;
  std::vector<int64_t> first_line;
  for (const Row& row : rows) {
    fs::path p(row.image);
    const std::string resolved = (p.is_absolute() ? p : fs::path(root_) / p).lexically_normal().string();
    auto [it, inserted] = ids.emplace(resolved, static_cast<int64_t>(images_.size()));
    if (inserted) {
      images_.push_back(resolved);
      first_line.push_back(row.line);
    }
    for (const std::string& c : row.captions) entries_.push_back(Entry{it->second, c, row.label, row.line});
  }
  LOOM_CHECK_VALUE(!entries_.empty(), who, " names no images: expected ",
                   jsonl ? "one {\"image\": ..., \"caption\": ...} object per line"
                         : "a header row image,caption[,label] and one row per example");

  std::vector<int64_t> missing;
  for (size_t i = 0; i < images_.size(); ++i)
    if (!fs::is_regular_file(images_[i], ec)) missing.push_back(static_cast<int64_t>(i));
  if (!missing.empty()) {
    std::string list;
    for (size_t k = 0; k < std::min<size_t>(missing.size(), 3); ++k)
      list += detail::str(k ? ", " : "", "'", images_[missing[k]], "' (line ", first_line[missing[k]], ")");
    LOOM_THROW(ErrorKind::Runtime, who, ": ", missing.size(), " of ", images_.size(),
               " image files are missing or not regular files: ", list, missing.size() > 3 ? ", ..." : "",
               " (relative paths resolve against '", root_, "')");
  }

  if (options_.tokenizer) {
    std::vector<std::string> captions;
    captions.reserve(entries_.size());
    for (const Entry& e : entries_) captions.push_back(e.caption);
    tokens_ = options_.tokenizer->encode_batch(captions, options_.max_len);
  }
  if (options_.cache) cache_.resize(images_.size());
}

Tensor ImageCaptionFolder::load(int64_t id) const {
  if (options_.cache) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_[id].defined()) return cache_[id];
  }
  Tensor image = read_image(images_[id], options_.mode).to(DType::Float32) / 255.0;
  if (!options_.size.empty()) image = transforms::resize_bilinear(image, options_.size);
  if (options_.cache) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    cache_[id] = image;
  }
  return image;
}

Example ImageCaptionFolder::get(int64_t index) const {
  LOOM_CHECK_INDEX(index >= 0 && index < size(), "ImageCaptionFolder::get: index ", index,
                   " is out of range for a dataset of ", size(), " examples");
  const Entry& e = entries_[index];
  Example ex;
  try {
    ex.image = load(e.image);
  } catch (const Error& err) {
    LOOM_THROW(err.kind(), "ImageCaptionFolder: example ", index, " ('", captions_file_, "' line ", e.line,
               "): ", err.what());
  }
  if (tokens_.defined()) ex.tokens = tokens_.select(0, index);
  ex.label = e.label;
  ex.caption = e.caption;
  return ex;
}

int64_t ImageCaptionFolder::image_id(int64_t index) const {
  LOOM_CHECK_INDEX(index >= 0 && index < size(), "ImageCaptionFolder::image_id: index ", index,
                   " is out of range for a dataset of ", size(), " examples");
  return entries_[index].image;
}

const std::string& ImageCaptionFolder::image_path(int64_t id) const {
  LOOM_CHECK_INDEX(id >= 0 && id < num_images(), "ImageCaptionFolder::image_path: image id ", id,
                   " is out of range for ", num_images(), " images");
  return images_[id];
}

const std::string& ImageCaptionFolder::caption(int64_t index) const {
  LOOM_CHECK_INDEX(index >= 0 && index < size(), "ImageCaptionFolder::caption: index ", index,
                   " is out of range for a dataset of ", size(), " examples");
  return entries_[index].caption;
}

int64_t ImageCaptionFolder::label(int64_t index) const {
  LOOM_CHECK_INDEX(index >= 0 && index < size(), "ImageCaptionFolder::label: index ", index,
                   " is out of range for a dataset of ", size(), " examples");
  return entries_[index].label;
}

Tensor ImageCaptionFolder::image_ids() const {
  std::vector<int64_t> ids;
  ids.reserve(entries_.size());
  for (const Entry& e : entries_) ids.push_back(e.image);
  return from_vector(ids, {size()});
}

}  // namespace loom::multimodal

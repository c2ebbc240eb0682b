// PNG and JPEG files of image_io.h.
//
// libpng and libjpeg report errors by calling a handler that must not return;
// the only way back into the caller is longjmp. A longjmp over a C++ frame
// with live destructors is undefined behaviour, so each call into the
// libraries sits in a small C-like function (the png_run_* / jpeg_run_*
// below) that holds the setjmp, owns no C++ objects and reports failure by
// returning false; the library structs, buffers and messages belong to the
// C++ caller, which frees them through guards and throws. The callbacks
// (memory reader and writer, error and warning handlers) own no C++ objects
// either. Decoding works on whole files in memory: images are small next to
// the tensors made from them, and a memory source lets a short read be told
// apart from a corrupt one.
#include "multimodal/image_io.h"

#include <fcntl.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>

// jpeglib.h needs size_t and FILE declared before it.
#include <jpeglib.h>
#include <jerror.h>

namespace loom::multimodal {

namespace {

// Decoded images hold at most this many samples (H * W * C): a 16384 x 16384
// RGBA image. A corrupt header cannot make us allocate more than that.
constexpr uint64_t kMaxSamples = uint64_t{1} << 30;

// Interleaved 8-bit pixels [H, W, C] as the libraries read and write them.
struct Pixels {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> data;
};

std::string hex_prefix(const uint8_t* data, size_t size) {
  std::string s;
  char buf[4];
  for (size_t i = 0; i < std::min<size_t>(size, 8); ++i) {
    std::snprintf(buf, sizeof buf, "%s%02x", i ? " " : "", data[i]);
    s += buf;
  }
  return s;
}

void check_size(int64_t h, int64_t w, int64_t c, const std::string& who) {
  LOOM_CHECK(h > 0 && w > 0, who, ": the image is ", w, " x ", h, " pixels: expected at least 1 x 1");
  LOOM_CHECK(static_cast<uint64_t>(h) * static_cast<uint64_t>(w) * static_cast<uint64_t>(c) <= kMaxSamples, who,
             ": the image is ", w, " x ", h, " pixels with ", c, " channels, more than the ", kMaxSamples,
             " samples loom decodes (is the header corrupt?)");
}

// ---------------------------------------------------------------- PNG

// What libpng's callbacks share with the caller: the bytes read or written
// and the message of the error that stopped it.
struct PngIo {
  const uint8_t* data = nullptr;
  size_t size = 0, pos = 0;
  std::vector<uint8_t>* out = nullptr;
  char message[256] = {0};
};

void png_on_error(png_structp png, png_const_charp msg) {
  auto* io = static_cast<PngIo*>(png_get_error_ptr(png));
  std::snprintf(io->message, sizeof io->message, "%s", msg);
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}

void png_read_bytes(png_structp png, png_bytep dst, size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  if (n > io->size - io->pos) png_error(png, "unexpected end of file: the file is truncated");
  std::memcpy(dst, io->data + io->pos, n);
  io->pos += n;
}

void png_write_bytes(png_structp png, png_bytep src, size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  bool ok = true;
  try {
    io->out->insert(io->out->end(), src, src + n);
  } catch (...) {
    ok = false;
  }
  if (!ok) png_error(png, "out of memory");
}

void png_flush_bytes(png_structp) {}

struct PngShape {
  png_uint_32 width = 0, height = 0;
  int channels = 0;
  size_t rowbytes = 0;
};

// Reads the header and asks libpng for 8-bit gray, gray + alpha, RGB or RGBA.
bool png_run_header(png_structp png, png_infop info, PngShape* shape) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  const int color = png_get_color_type(png, info);
  const int depth = png_get_bit_depth(png, info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (depth == 16) png_set_scale_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  shape->width = png_get_image_width(png, info);
  shape->height = png_get_image_height(png, info);
  shape->channels = png_get_channels(png, info);
  shape->rowbytes = png_get_rowbytes(png, info);
  return true;
}

// Reads the pixels and the chunks after them, so that a file cut anywhere
// before its end raises.
bool png_run_pixels(png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  return true;
}

bool png_run_write(png_structp png, png_infop info, png_uint_32 width, png_uint_32 height, int color_type, int level,
                   png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, width, height, 8, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, level);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

class PngReadGuard {
 public:
  PngReadGuard(png_structp png, png_infop info) : png_(png), info_(info) {}
  ~PngReadGuard() { png_destroy_read_struct(&png_, info_ ? &info_ : nullptr, nullptr); }
  PngReadGuard(const PngReadGuard&) = delete;
  PngReadGuard& operator=(const PngReadGuard&) = delete;

 private:
  png_structp png_;
  png_infop info_;
};

class PngWriteGuard {
 public:
  PngWriteGuard(png_structp png, png_infop info) : png_(png), info_(info) {}
  ~PngWriteGuard() { png_destroy_write_struct(&png_, info_ ? &info_ : nullptr); }
  PngWriteGuard(const PngWriteGuard&) = delete;
  PngWriteGuard& operator=(const PngWriteGuard&) = delete;

 private:
  png_structp png_;
  png_infop info_;
};

Pixels decode_png(const uint8_t* data, size_t size, const std::string& who) {
  PngIo io;
  io.data = data;
  io.size = size;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, png_on_error, png_on_warning);
  LOOM_CHECK_KIND(png != nullptr, ErrorKind::OutOfMemory, who, ": cannot create a libpng reader");
  png_infop info = png_create_info_struct(png);
  PngReadGuard guard(png, info);
  LOOM_CHECK_KIND(info != nullptr, ErrorKind::OutOfMemory, who, ": cannot create a libpng reader");
  png_set_read_fn(png, &io, png_read_bytes);

  PngShape shape;
  if (!png_run_header(png, info, &shape))
    LOOM_THROW(ErrorKind::Runtime, who, ": not a valid PNG file (", io.message, ")");
  Pixels px;
  px.height = shape.height;
  px.width = shape.width;
  px.channels = shape.channels;
  check_size(px.height, px.width, px.channels, who);
  LOOM_CHECK(shape.rowbytes == static_cast<size_t>(px.width * px.channels), who, ": libpng returned rows of ",
             shape.rowbytes, " bytes for ", px.width, " pixels of ", px.channels, " 8-bit channels");
  px.data.resize(static_cast<size_t>(px.height) * shape.rowbytes);
  std::vector<png_bytep> rows(static_cast<size_t>(px.height));
  for (int64_t y = 0; y < px.height; ++y) rows[y] = px.data.data() + static_cast<size_t>(y) * shape.rowbytes;
  if (!png_run_pixels(png, info, rows.data()))
    LOOM_THROW(ErrorKind::Runtime, who, ": corrupt PNG file (", io.message, ")");
  return px;
}

// ---------------------------------------------------------------- JPEG

struct JpegError {
  jpeg_error_mgr mgr;  // first, so that a j_common_ptr's err points at the whole struct
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jpeg_on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// libjpeg would pad a file that ends early with gray and only warn; a
// truncated file is an error here. Other warnings (stray bytes between
// markers, common in files from cameras) are ignored as libjpeg's own
// handler does by default.
void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) jpeg_on_error(cinfo);
}

void jpeg_init_error(JpegError* err) {
  jpeg_std_error(&err->mgr);
  err->mgr.error_exit = jpeg_on_error;
  err->mgr.emit_message = jpeg_on_message;
  err->message[0] = '\0';
}

struct JpegShape {
  JDIMENSION width = 0, height = 0;
  int components = 0;
  J_COLOR_SPACE color = JCS_UNKNOWN;
};

bool jpeg_run_header(jpeg_decompress_struct* cinfo, JpegError* err, const uint8_t* data, size_t size,
                     JpegShape* shape) {
  if (setjmp(err->jump)) return false;
  jpeg_mem_src(cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  shape->width = cinfo->image_width;
  shape->height = cinfo->image_height;
  shape->components = cinfo->num_components;
  shape->color = cinfo->jpeg_color_space;
  return true;
}

// Decodes into out, rows of width * out_components bytes.
bool jpeg_run_pixels(jpeg_decompress_struct* cinfo, JpegError* err, J_COLOR_SPACE out_space, uint8_t* out,
                     size_t stride) {
  if (setjmp(err->jump)) return false;
  cinfo->out_color_space = out_space;
  jpeg_start_decompress(cinfo);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = out + static_cast<size_t>(cinfo->output_scanline) * stride;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

// A destination that appends to a vector. (libjpeg's jpeg_mem_dest only
// publishes its buffer when compression finishes, so after a failure the
// caller cannot tell which buffer to free.)
struct JpegSink {
  jpeg_destination_mgr mgr;  // first, so that cinfo->dest points at the whole struct
  std::vector<uint8_t>* out;
  JOCTET buffer[1 << 16];
};

bool jpeg_sink_append(JpegSink* sink, size_t n) {
  try {
    sink->out->insert(sink->out->end(), sink->buffer, sink->buffer + n);
    return true;
  } catch (...) {
    return false;
  }
}

void jpeg_sink_init(j_compress_ptr cinfo) {
  auto* sink = reinterpret_cast<JpegSink*>(cinfo->dest);
  sink->mgr.next_output_byte = sink->buffer;
  sink->mgr.free_in_buffer = sizeof sink->buffer;
}

boolean jpeg_sink_empty(j_compress_ptr cinfo) {
  auto* sink = reinterpret_cast<JpegSink*>(cinfo->dest);
  // libjpeg asks for the whole buffer to be taken, whatever free_in_buffer says.
  if (!jpeg_sink_append(sink, sizeof sink->buffer)) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
  jpeg_sink_init(cinfo);
  return TRUE;
}

void jpeg_sink_term(j_compress_ptr cinfo) {
  auto* sink = reinterpret_cast<JpegSink*>(cinfo->dest);
  if (!jpeg_sink_append(sink, sizeof sink->buffer - sink->mgr.free_in_buffer)) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
}

bool jpeg_run_compress(jpeg_compress_struct* cinfo, JpegError* err, const uint8_t* pixels, JDIMENSION width,
                       JDIMENSION height, int channels, int quality) {
  if (setjmp(err->jump)) return false;
  cinfo->image_width = width;
  cinfo->image_height = height;
  cinfo->input_components = channels;
  cinfo->in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(cinfo);
  jpeg_set_quality(cinfo, quality, TRUE);
  jpeg_start_compress(cinfo, TRUE);
  while (cinfo->next_scanline < cinfo->image_height) {
    // libjpeg's rows are not const but it only reads them.
    JSAMPROW row = const_cast<uint8_t*>(pixels) + static_cast<size_t>(cinfo->next_scanline) * width * channels;
    jpeg_write_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_compress(cinfo);
  return true;
}

const char* jpeg_color_name(J_COLOR_SPACE c) {
  switch (c) {
    case JCS_CMYK: return "CMYK";
    case JCS_YCCK: return "YCCK";
    default: return "an unknown colour space";
  }
}

Pixels decode_jpeg(const uint8_t* data, size_t size, const std::string& who) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = &err.mgr;
  jpeg_init_error(&err);
  jpeg_create_decompress(&cinfo);
  struct Guard {
    jpeg_decompress_struct* c;
    ~Guard() { jpeg_destroy_decompress(c); }
  } guard{&cinfo};

  JpegShape shape;
  if (!jpeg_run_header(&cinfo, &err, data, size, &shape))
    LOOM_THROW(ErrorKind::Runtime, who, ": not a valid JPEG file (", err.message, ")");
  J_COLOR_SPACE out_space;
  if (shape.color == JCS_GRAYSCALE && shape.components == 1) {
    out_space = JCS_GRAYSCALE;
  } else if ((shape.color == JCS_YCbCr || shape.color == JCS_RGB) && shape.components == 3) {
    out_space = JCS_RGB;
  } else {
    LOOM_THROW(ErrorKind::NotImplemented, who, ": JPEG files in ", jpeg_color_name(shape.color), " (", shape.components,
               " components) are not supported: only gray and YCbCr/RGB ones; convert the "
               "image to RGB first");
  }
  Pixels px;
  px.height = shape.height;
  px.width = shape.width;
  px.channels = out_space == JCS_GRAYSCALE ? 1 : 3;
  check_size(px.height, px.width, px.channels, who);
  px.data.resize(static_cast<size_t>(px.height * px.width * px.channels));
  if (!jpeg_run_pixels(&cinfo, &err, out_space, px.data.data(), static_cast<size_t>(px.width * px.channels)))
    LOOM_THROW(ErrorKind::Runtime, who, ": corrupt JPEG file (", err.message, ")");
  return px;
}

// ---------------------------------------------------------------- pixels <-> tensors

const uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

bool starts_with(const uint8_t* data, size_t size, const char* magic, size_t n) {
  return size >= n && std::memcmp(data, magic, n) == 0;
}

// The name of a format that loom recognises but does not read, or nullptr.
const char* other_format(const uint8_t* data, size_t size) {
  if (starts_with(data, size, "GIF8", 4)) return "GIF";
  if (starts_with(data, size, "BM", 2)) return "BMP";
  if (size >= 12 && starts_with(data, size, "RIFF", 4) && std::memcmp(data + 8, "WEBP", 4) == 0) return "WebP";
  if (starts_with(data, size, "II*\0", 4) || starts_with(data, size, "MM\0*", 4)) return "TIFF";
  return nullptr;
}

Pixels decode_pixels(const uint8_t* data, size_t size, const std::string& who) {
  LOOM_CHECK(size > 0, who, ": the data is empty: expected a PNG or JPEG file");
  if (size >= 8 && std::memcmp(data, kPngSignature, 8) == 0) return decode_png(data, size, who);
  if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) return decode_jpeg(data, size, who);
  if (const char* fmt = other_format(data, size))
    LOOM_THROW(ErrorKind::NotImplemented, who, ": ", fmt, " images are not supported: expected a PNG or JPEG file");
  LOOM_THROW(ErrorKind::Runtime, who, ": not a PNG or JPEG file (it starts with bytes ", hex_prefix(data, size),
             "; PNG starts with 89 50 4e 47, JPEG with ff d8 ff)");
}

int64_t mode_channels(ImageReadMode mode, int64_t native) {
  switch (mode) {
    case ImageReadMode::Unchanged: return native;
    case ImageReadMode::Gray: return 1;
    case ImageReadMode::GrayAlpha: return 2;
    case ImageReadMode::RGB: return 3;
    case ImageReadMode::RGBA: return 4;
  }
  return native;
}

// Rounded 0.299 R + 0.587 G + 0.114 B in 16-bit fixed point.
inline int32_t luma(int32_t r, int32_t g, int32_t b) { return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16; }

// Interleaved [H, W, n] bytes -> int32 [C, H, W], converting the channels.
Tensor to_tensor(const Pixels& px, ImageReadMode mode) {
  const int64_t n = px.channels, c = mode_channels(mode, n), hw = px.height * px.width;
  Tensor out = empty({c, px.height, px.width}, TensorOptions(DType::Int32));
  int32_t* dst = out.data_ptr<int32_t>();
  const uint8_t* src = px.data.data();
  const bool color = n >= 3, alpha = n == 2 || n == 4;
  for (int64_t i = 0; i < hw; ++i) {
    const uint8_t* s = src + i * n;
    const int32_t r = s[0], g = color ? s[1] : s[0], b = color ? s[2] : s[0];
    const int32_t a = alpha ? s[n - 1] : 255;
    if (c <= 2) {
      dst[i] = color ? luma(r, g, b) : r;
      if (c == 2) dst[hw + i] = a;
    } else {
      dst[i] = r;
      dst[hw + i] = g;
      dst[2 * hw + i] = b;
      if (c == 4) dst[3 * hw + i] = a;
    }
  }
  return out;
}

// [C, H, W] of any dtype and device -> interleaved [H, W, C] bytes.
Pixels from_tensor(const Tensor& image, const std::string& who, const std::vector<int64_t>& channels,
                   const char* channels_text) {
  LOOM_CHECK(image.defined(), who, ": the image tensor is undefined");
  LOOM_CHECK(image.dim() == 3, who, ": expected an image [C, H, W], got shape ", image.sizes(),
             image.dim() == 2 ? " (a gray image [H, W] is image.unsqueeze(0))" : "");
  const int64_t c = image.size(0), h = image.size(1), w = image.size(2);
  LOOM_CHECK(std::find(channels.begin(), channels.end(), c) != channels.end(), who, ": expected ", channels_text,
             " channels in an image [C, H, W], got shape ", image.sizes());
  LOOM_CHECK(h > 0 && w > 0 && h <= 0x7fffffff && w <= 0x7fffffff, who, ": cannot encode an image of shape ",
             image.sizes(), ": expected 1 <= H, W < 2^31");
  const DType dt = image.dtype();
  LOOM_CHECK_TYPE(is_floating(dt) || is_integral(dt), who,
                  ": expected an integer image in 0..255 or a floating image in [0, 1], got dtype ", dtype_name(dt));
  Tensor src = image.detach().cpu().contiguous();
  Pixels px;
  px.height = h;
  px.width = w;
  px.channels = c;
  px.data.resize(static_cast<size_t>(c * h * w));
  const int64_t hw = h * w;
  auto convert = [&](auto* p) {
    for (int64_t ch = 0; ch < c; ++ch) {
      for (int64_t i = 0; i < hw; ++i) {
        const auto v = p[ch * hw + i];
        uint8_t byte;
        if constexpr (std::is_floating_point_v<std::remove_const_t<std::remove_reference_t<decltype(v)>>>) {
          LOOM_CHECK_VALUE(!std::isnan(v), who, ": the image holds NaN (channel ", ch, ", row ", i / w, ", column ",
                           i % w, ")");
          const double x = std::min(1.0, std::max(0.0, static_cast<double>(v)));
          byte = static_cast<uint8_t>(std::floor(x * 255.0 + 0.5));
        } else {
          LOOM_CHECK_VALUE(v >= 0 && v <= 255, who, ": integer images hold values in 0..255, got ", v, " (channel ", ch,
                           ", row ", i / w, ", column ", i % w, ")");
          byte = static_cast<uint8_t>(v);
        }
        px.data[static_cast<size_t>(i * c + ch)] = byte;
      }
    }
  };
  switch (dt) {
    case DType::Float32: convert(src.data_ptr<float>()); break;
    case DType::Float64: convert(src.data_ptr<double>()); break;
    case DType::Int32: convert(src.data_ptr<int32_t>()); break;
    case DType::Int64: convert(src.data_ptr<int64_t>()); break;
    default: break;
  }
  return px;
}

std::vector<uint8_t> read_file(const std::string& path, const std::string& who) {
  LOOM_CHECK_VALUE(!path.empty(), who, ": empty path");
  std::ifstream f(path, std::ios::binary);
  if (!f) LOOM_THROW(ErrorKind::Runtime, who, ": cannot open '", path, "': ", std::strerror(errno));
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    LOOM_THROW(ErrorKind::Runtime, who, ": '", path, "' is a directory, not an image file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) LOOM_THROW(ErrorKind::Runtime, who, ": cannot read '", path, "': ", std::strerror(errno));
  return bytes;
}

// Writes to <path>.tmp.XXXXXX beside the target, then renames it over.
void write_file_atomic(const std::vector<uint8_t>& bytes, const std::string& path, const std::string& who) {
  LOOM_CHECK_VALUE(!path.empty(), who, ": empty path");
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) LOOM_THROW(ErrorKind::Runtime, who, ": cannot create a file beside '", path, "': ", std::strerror(errno));
  const std::string tmp(name.data());
  const auto fail = [&](const char* what) {
    const int e = errno;
    ::unlink(tmp.c_str());
    LOOM_THROW(ErrorKind::Runtime, who, ": cannot ", what, " '", path, "': ", std::strerror(e));
  };
  // mkstemp makes the file private; an image is as readable as any new file.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);
  const uint8_t* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail("write");
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::close(fd) != 0) fail("write");
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("replace");
}

std::string describe(const std::string& fn, const std::string& path) { return fn + ": '" + path + "'"; }

}  // namespace

ImageReadMode parse_image_read_mode(const std::string& name) {
  std::string s = name;
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (s == "unchanged") return ImageReadMode::Unchanged;
  if (s == "gray" || s == "grey" || s == "l") return ImageReadMode::Gray;
  if (s == "gray_alpha" || s == "la") return ImageReadMode::GrayAlpha;
  if (s == "rgb") return ImageReadMode::RGB;
  if (s == "rgb_alpha" || s == "rgba") return ImageReadMode::RGBA;
  LOOM_THROW(ErrorKind::Value, "ImageReadMode: unknown mode '", name,
             "': expected unchanged, gray, gray_alpha, rgb or rgb_alpha");
}

const char* image_read_mode_name(ImageReadMode mode) {
  switch (mode) {
    case ImageReadMode::Unchanged: return "unchanged";
    case ImageReadMode::Gray: return "gray";
    case ImageReadMode::GrayAlpha: return "gray_alpha";
    case ImageReadMode::RGB: return "rgb";
    case ImageReadMode::RGBA: return "rgb_alpha";
  }
  return "?";
}

Tensor read_image(const std::string& path, ImageReadMode mode) {
  const std::vector<uint8_t> bytes = read_file(path, "read_image");
  if (bytes.empty()) LOOM_THROW(ErrorKind::Runtime, "read_image: '", path, "' is empty: expected a PNG or JPEG file");
  return to_tensor(decode_pixels(bytes.data(), bytes.size(), describe("read_image", path)), mode);
}

Tensor decode_image(const uint8_t* data, size_t size, ImageReadMode mode) {
  LOOM_CHECK_VALUE(data != nullptr || size == 0, "decode_image: data is null");
  return to_tensor(decode_pixels(data, size, "decode_image"), mode);
}

Tensor decode_image(const std::vector<uint8_t>& data, ImageReadMode mode) {
  return decode_image(data.data(), data.size(), mode);
}

namespace {

std::vector<uint8_t> encode_png_as(const Tensor& image, int level, const std::string& who) {
  LOOM_CHECK_VALUE(level >= 0 && level <= 9, who, ": compression_level must be in 0..9, got ", level);
  Pixels px = from_tensor(image, who, {1, 2, 3, 4}, "1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA)");
  static const int kColorTypes[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                     PNG_COLOR_TYPE_RGB_ALPHA};
  std::vector<uint8_t> out;
  PngIo io;
  io.out = &out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, png_on_error, png_on_warning);
  LOOM_CHECK_KIND(png != nullptr, ErrorKind::OutOfMemory, who, ": cannot create a libpng writer");
  png_infop info = png_create_info_struct(png);
  PngWriteGuard guard(png, info);
  LOOM_CHECK_KIND(info != nullptr, ErrorKind::OutOfMemory, who, ": cannot create a libpng writer");
  png_set_write_fn(png, &io, png_write_bytes, png_flush_bytes);
  const size_t stride = static_cast<size_t>(px.width * px.channels);
  std::vector<png_bytep> rows(static_cast<size_t>(px.height));
  for (int64_t y = 0; y < px.height; ++y) rows[y] = px.data.data() + static_cast<size_t>(y) * stride;
  if (!png_run_write(png, info, static_cast<png_uint_32>(px.width), static_cast<png_uint_32>(px.height),
                     kColorTypes[px.channels], level, rows.data()))
    LOOM_THROW(ErrorKind::Runtime, who, ": libpng failed (", io.message, ")");
  return out;
}

std::vector<uint8_t> encode_jpeg_as(const Tensor& image, int quality, const std::string& who) {
  LOOM_CHECK_VALUE(quality >= 1 && quality <= 100, who, ": quality must be in 1..100, got ", quality);
  Pixels px = from_tensor(image, who, {1, 3}, "1 (gray) or 3 (RGB)");
  LOOM_CHECK(px.width <= JPEG_MAX_DIMENSION && px.height <= JPEG_MAX_DIMENSION, who, ": JPEG images are at most ",
             JPEG_MAX_DIMENSION, " pixels on a side, got shape ", image.sizes());
  std::vector<uint8_t> out;
  // The sink is large (its buffer): keep it off the stack.
  auto sink = std::make_unique<JpegSink>();
  sink->mgr.init_destination = jpeg_sink_init;
  sink->mgr.empty_output_buffer = jpeg_sink_empty;
  sink->mgr.term_destination = jpeg_sink_term;
  sink->out = &out;
  jpeg_compress_struct cinfo;
  JpegError err;
  cinfo.err = &err.mgr;
  jpeg_init_error(&err);
  jpeg_create_compress(&cinfo);
  struct Guard {
    jpeg_compress_struct* c;
    ~Guard() { jpeg_destroy_compress(c); }
  } guard{&cinfo};
  cinfo.dest = &sink->mgr;
  if (!jpeg_run_compress(&cinfo, &err, px.data.data(), static_cast<JDIMENSION>(px.width),
                         static_cast<JDIMENSION>(px.height), static_cast<int>(px.channels), quality))
    LOOM_THROW(ErrorKind::Runtime, who, ": libjpeg failed (", err.message, ")");
  return out;
}

}  // namespace

std::vector<uint8_t> encode_png(const Tensor& image, int compression_level) {
  return encode_png_as(image, compression_level, "encode_png");
}

void write_png(const Tensor& image, const std::string& path, int compression_level) {
  LOOM_CHECK_VALUE(!path.empty(), "write_png: empty path");
  write_file_atomic(encode_png_as(image, compression_level, describe("write_png", path)), path, "write_png");
}

std::vector<uint8_t> encode_jpeg(const Tensor& image, int quality) {
  return encode_jpeg_as(image, quality, "encode_jpeg");
}

void write_jpeg(const Tensor& image, const std::string& path, int quality) {
  LOOM_CHECK_VALUE(!path.empty(), "write_jpeg: empty path");
  write_file_atomic(encode_jpeg_as(image, quality, describe("write_jpeg", path)), path, "write_jpeg");
}

}  // namespace loom::multimodal

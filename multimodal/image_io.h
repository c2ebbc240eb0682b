// Image files in and out, named after torchvision.io: PNG through libpng and
// JPEG through libjpeg. Everything runs on the host.
//
// Pixels are int32 [C, H, W] with values 0..255: loom has no uint8 dtype, and
// int32 is the smallest integer type it has (image.to(Float32) / 255 gives the
// float [0, 1] image the models take). What comes back:
//   * PNG: 1-, 2-, 4-, 8- and 16-bit samples (16-bit scaled to 8 with
//     rounding: v * 255 / 65535), palettes expanded to RGB, a tRNS chunk
//     expanded to an alpha channel, interlaced files; no gamma correction
//     (like Pillow and torchvision, the stored values are returned).
//   * JPEG: baseline and progressive, gray or YCbCr (returned as RGB).
//     CMYK and YCCK files raise NotImplemented.
// A truncated or corrupt file raises (a JPEG missing its end is not padded
// with gray as libjpeg would by default); so does a file in another format.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace loom::multimodal {

// The channels read_image returns, as torchvision.io.ImageReadMode:
// Unchanged keeps the file's (1 gray, 2 gray + alpha, 3 RGB, 4 RGBA); the
// others convert. Gray from colour is the rounded ITU-R 601 luma
// (0.299 R + 0.587 G + 0.114 B, as Pillow's convert("L")); colour from gray
// repeats it; dropping alpha ignores it (no compositing); an added alpha is 255.
enum class ImageReadMode { Unchanged, Gray, GrayAlpha, RGB, RGBA };

// "unchanged", "gray", "gray_alpha", "rgb", "rgb_alpha" (or "rgba"), any
// case; ValueError otherwise.
ImageReadMode parse_image_read_mode(const std::string& name);
const char* image_read_mode_name(ImageReadMode mode);

// int32 [C, H, W] in 0..255 from a PNG or JPEG file (the format is told by
// its first bytes, not the file name).
Tensor read_image(const std::string& path, ImageReadMode mode = ImageReadMode::Unchanged);
// The same from the bytes of a file in memory.
Tensor decode_image(const uint8_t* data, size_t size, ImageReadMode mode = ImageReadMode::Unchanged);
Tensor decode_image(const std::vector<uint8_t>& data, ImageReadMode mode = ImageReadMode::Unchanged);

// image: [C, H, W] with C = 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA),
// on any device; an integer dtype with values in 0..255, or a floating dtype
// in [0, 1] (clamped, then rounded: floor(255 x + 0.5)). compression_level:
// zlib's 0 (none) .. 9 (smallest). The file is written to a temporary beside
// it and renamed, so it is never left half-written.
std::vector<uint8_t> encode_png(const Tensor& image, int compression_level = 6);
void write_png(const Tensor& image, const std::string& path, int compression_level = 6);

// As encode_png with C = 1 or 3 (JPEG has no alpha); quality 1..100, 4:2:0
// chroma subsampling (libjpeg's defaults).
std::vector<uint8_t> encode_jpeg(const Tensor& image, int quality = 75);
void write_jpeg(const Tensor& image, const std::string& path, int quality = 75);

}  // namespace loom::multimodal

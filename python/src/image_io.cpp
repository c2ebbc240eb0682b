// loom._C._functional._io: image files (multimodal/image_io.h) and the
// ImageCaptionFolder dataset (multimodal/image_folder.h), wrapped by
// python/loom/io and loom.multimodal. Decoding and encoding release the GIL,
// so a thread pool can read images in parallel.
#include "common.h"
#include "multimodal/image_folder.h"
#include "multimodal/image_io.h"
#include "multimodal/tokenizer.h"

namespace loom::python {
namespace {

using namespace loom::multimodal;

// A mode given as a str ("rgb") or as a member of loom.io.ImageReadMode.
ImageReadMode to_mode(py::handle mode, const char* op) {
  if (py::isinstance<py::str>(mode)) return parse_image_read_mode(mode.cast<std::string>());
  if (py::hasattr(mode, "name") && py::isinstance<py::str>(mode.attr("name")))
    return parse_image_read_mode(mode.attr("name").cast<std::string>());
  throw py::type_error(std::string(op) + ": mode must be a loom.io.ImageReadMode or a str such as \"rgb\", got " +
                       py::str(py::type::of(mode).attr("__name__")).cast<std::string>());
}

// None, an int s (s x s) or a sequence (h, w).
Shape to_size(py::handle size, const char* op) {
  if (size.is_none()) return {};
  if (py::isinstance<py::int_>(size)) return {py_int_to_int64(size, op)};
  if (is_int_sequence(size)) {
    Shape s;
    for (py::handle v : sequence_items(size)) s.push_back(to_int(v, op));
    return s;
  }
  throw py::type_error(std::string(op) + ": size must be None, an int or a sequence (h, w), got " +
                       py::str(py::type::of(size).attr("__name__")).cast<std::string>());
}

py::bytes to_bytes(const std::vector<uint8_t>& v) {
  return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
}

int64_t wrap_index(int64_t i, int64_t n, const char* op) {
  if (i < 0) i += n;
  if (i < 0 || i >= n)
    throw py::index_error(std::string(op) + ": index out of range for a dataset of " + std::to_string(n) + " examples");
  return i;
}

void bind(py::module_& f) {
  py::module_ m = f.def_submodule("_io", "image files and the image-caption dataset (multimodal/image_io.h)");

  m.def(
      "read_image",
      [](py::handle path, py::handle mode) {
        const std::string p = to_fs_path(path, "read_image");
        const ImageReadMode md = to_mode(mode, "read_image");
        py::gil_scoped_release release;
        return read_image(p, md);
      },
      py::arg("path"), py::arg("mode") = "unchanged");
  m.def(
      "decode_image",
      [](py::handle data, py::handle mode) {
        if (!PyObject_CheckBuffer(data.ptr()) || py::isinstance<py::str>(data))
          throw py::type_error("decode_image: data must be bytes, bytearray or a memoryview of a file's bytes, got " +
                               py::str(py::type::of(data).attr("__name__")).cast<std::string>());
        const ImageReadMode md = to_mode(mode, "decode_image");
        py::buffer_info info = py::reinterpret_borrow<py::buffer>(data).request();
        if (info.ndim > 1 && !(info.strides.empty() || info.strides.back() == info.itemsize))
          throw py::value_error("decode_image: data must be a contiguous buffer of bytes");
        const auto* p = static_cast<const uint8_t*>(info.ptr);
        const size_t n = static_cast<size_t>(info.size * info.itemsize);
        py::gil_scoped_release release;
        return decode_image(p, n, md);
      },
      py::arg("data"), py::arg("mode") = "unchanged");
  m.def(
      "write_png",
      [](const Tensor& image, py::handle path, int level) {
        const std::string p = to_fs_path(path, "write_png");
        py::gil_scoped_release release;
        write_png(image, p, level);
      },
      py::arg("input"), py::arg("filename"), py::arg("compression_level") = 6);
  m.def(
      "encode_png",
      [](const Tensor& image, int level) {
        std::vector<uint8_t> bytes;
        {
          py::gil_scoped_release release;
          bytes = encode_png(image, level);
        }
        return to_bytes(bytes);
      },
      py::arg("input"), py::arg("compression_level") = 6);
  m.def(
      "write_jpeg",
      [](const Tensor& image, py::handle path, int quality) {
        const std::string p = to_fs_path(path, "write_jpeg");
        py::gil_scoped_release release;
        write_jpeg(image, p, quality);
      },
      py::arg("input"), py::arg("filename"), py::arg("quality") = 75);
  m.def(
      "encode_jpeg",
      [](const Tensor& image, int quality) {
        std::vector<uint8_t> bytes;
        {
          py::gil_scoped_release release;
          bytes = encode_jpeg(image, quality);
        }
        return to_bytes(bytes);
      },
      py::arg("input"), py::arg("quality") = 75);
  m.def(
      "resize_bilinear",
      [](const Tensor& x, py::handle size) { return transforms::resize_bilinear(x, to_size(size, "resize_bilinear")); },
      py::arg("input"), py::arg("size"));

  py::class_<ImageCaptionFolder, std::shared_ptr<ImageCaptionFolder>>(m, "ImageCaptionFolder")
      .def(py::init([](py::handle captions_file, py::handle root, py::handle size, py::handle mode,
                       py::handle tokenizer, int64_t max_len, bool cache) {
             const char* op = "ImageCaptionFolder";
             ImageCaptionFolderOptions o;
             if (!root.is_none()) o.root = to_fs_path(root, op);
             o.size = to_size(size, op);
             o.mode = to_mode(mode, op);
             // A copy: the Python tokenizer may change or go away while the dataset lives.
             if (!tokenizer.is_none())
               o.tokenizer = std::make_shared<WordTokenizer>(tokenizer.cast<const WordTokenizer&>());
             o.max_len = max_len;
             o.cache = cache;
             const std::string path = to_fs_path(captions_file, op);
             py::gil_scoped_release release;
             return std::make_shared<ImageCaptionFolder>(path, std::move(o));
           }),
           py::arg("captions_file"), py::arg("root") = py::none(), py::arg("size") = py::none(),
           py::arg("mode") = "rgb", py::arg("tokenizer") = py::none(), py::arg("max_len") = 32,
           py::arg("cache") = false)
      .def("__len__", &ImageCaptionFolder::size)
      .def("__getitem__",
           [](const ImageCaptionFolder& d, int64_t i) {
             i = wrap_index(i, d.size(), "ImageCaptionFolder");
             Example e;
             {
               py::gil_scoped_release release;
               e = d.get(i);
             }
             return py::make_tuple(e.image, e.caption, e.label);
           })
      .def(
          "example",
          [](const ImageCaptionFolder& d, int64_t i) {
            i = wrap_index(i, d.size(), "ImageCaptionFolder.example");
            Example e;
            {
              py::gil_scoped_release release;
              e = d.get(i);
            }
            py::dict out;
            out["image"] = e.image;
            out["caption"] = e.caption;
            out["label"] = e.label;
            out["tokens"] = as_python(e.tokens);
            out["image_id"] = d.image_id(i);
            return out;
          },
          py::arg("index"))
      .def(
          "image_id",
          [](const ImageCaptionFolder& d, int64_t i) { return d.image_id(wrap_index(i, d.size(), "image_id")); },
          py::arg("index"))
      .def_property_readonly("num_images", &ImageCaptionFolder::num_images)
      .def(
          "image_path",
          [](const ImageCaptionFolder& d, int64_t id) {
            // As os.fsdecode: a file name's bytes that are not UTF-8 survive the round trip.
            const std::string& p = d.image_path(id);
            PyObject* s = PyUnicode_DecodeFSDefaultAndSize(p.data(), static_cast<Py_ssize_t>(p.size()));
            if (s == nullptr) throw py::error_already_set();
            return py::reinterpret_steal<py::object>(s);
          },
          py::arg("image_id"))
      .def("image_ids", &ImageCaptionFolder::image_ids)
      .def_property_readonly("captions",
                             [](const ImageCaptionFolder& d) {
                               std::vector<std::string> c;
                               for (int64_t i = 0; i < d.size(); ++i) c.push_back(d.caption(i));
                               return c;
                             })
      .def_property_readonly("labels", [](const ImageCaptionFolder& d) {
        std::vector<int64_t> l;
        for (int64_t i = 0; i < d.size(); ++i) l.push_back(d.label(i));
        return l;
      });
}

}  // namespace

static RegisterFunctional reg_image_io(&bind);

}  // namespace loom::python

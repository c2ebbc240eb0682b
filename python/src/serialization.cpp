// loom.save / loom.load: checkpoints in the safetensors format (nn/serialization.h).
//
// A flat dict {str: Tensor} (a module's state_dict) is written as a plain
// safetensors file that any safetensors reader opens, and loads back as a
// dict in file order. Anything else that is a dict, such as an optimizer's
// state_dict ({"state": {0: {"step": 3, "exp_avg": T}}, "param_groups": [...]}),
// is stored as
//   * its tensors, under their key paths joined with "." ("state.0.exp_avg");
//   * the whole tree as JSON in __metadata__["loom.structure"], with each
//     tensor replaced by {"$tensor": "<flat name>"}, each dict written as
//     {"$dict": [[key, value], ...]} (keys may be str, int, float, bool or
//     None and keep their type) and each tuple as {"$tuple": [...]}; ints,
//     floats, strings, bools, None and lists are stored as JSON values.
// load() rebuilds the same nested structure. Users call them as torch.save /
// torch.load: loom.save(model.state_dict(), "m.safetensors"),
// model.load_state_dict(loom.load("m.safetensors", map_location="cpu")).
//
// The functions live in loom._C._functional._serialization (a submodule that
// the functional registry lets this file add without editing module.cpp) and
// are re-exported as loom.save / loom.load.
#include <set>
#include <string>

#include "common.h"
#include "nn/serialization.h"

namespace loom::python {
namespace {

constexpr const char* kStructureKey = "loom.structure";
constexpr int kMaxNesting = 64;

bool is_json_key(py::handle k) {
  return py::isinstance<py::str>(k) || py::isinstance<py::int_>(k) || py::isinstance<py::float_>(k) || k.is_none();
}

struct Flattener {
  nn::StateDict tensors;
  std::set<std::string> names;

  py::object encode(py::handle obj, const std::string& path, int depth) {
    if (depth > kMaxNesting)
      throw py::value_error("loom.save: the object nests deeper than " + std::to_string(kMaxNesting) + " levels");
    if (py::isinstance<Tensor>(obj)) {
      if (!names.insert(path).second)
        throw py::value_error("loom.save: two tensors flatten to the same key '" + path +
                              "' (keys are joined with '.')");
      tensors.emplace_back(path, obj.cast<Tensor>());
      py::dict ref;
      ref["$tensor"] = path;
      return std::move(ref);
    }
    if (py::isinstance<py::dict>(obj)) {
      py::list items;
      for (auto kv : py::reinterpret_borrow<py::dict>(obj)) {
        if (!is_json_key(kv.first))
          throw py::type_error("loom.save: dict key " + py::repr(kv.first).cast<std::string>() + " at '" + path +
                               "' must be a str, int, float, bool or None");
        std::string k = py::str(kv.first).cast<std::string>();
        items.append(py::make_tuple(kv.first, encode(kv.second, path.empty() ? k : path + "." + k, depth + 1)));
      }
      py::dict d;
      d["$dict"] = items;
      return std::move(d);
    }
    if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj)) {
      py::list items;
      size_t i = 0;
      for (auto v : obj) {
        std::string k = std::to_string(i++);
        items.append(encode(v, path.empty() ? k : path + "." + k, depth + 1));
      }
      if (py::isinstance<py::list>(obj)) return std::move(items);
      py::dict t;
      t["$tuple"] = items;
      return std::move(t);
    }
    if (obj.is_none() || py::isinstance<py::bool_>(obj) || py::isinstance<py::int_>(obj) ||
        py::isinstance<py::float_>(obj) || py::isinstance<py::str>(obj))
      return py::reinterpret_borrow<py::object>(obj);
    throw py::type_error("loom.save: cannot save an object of type " +
                         py::str(py::type::of(obj).attr("__name__")).cast<std::string>() + " at '" + path +
                         "' (expected tensors, dicts, lists, tuples, str, int, float, bool or None)");
  }
};

struct Rebuilder {
  std::map<std::string, py::object> tensors;

  py::object decode(py::handle node, int depth) {
    if (depth > kMaxNesting) throw py::value_error("loom.load: the stored structure nests too deep");
    if (py::isinstance<py::dict>(node)) {
      auto d = py::reinterpret_borrow<py::dict>(node);
      if (d.size() == 1 && d.contains("$tensor")) {
        std::string name = py::str(d["$tensor"]).cast<std::string>();
        auto it = tensors.find(name);
        if (it == tensors.end())
          throw py::value_error("loom.load: the stored structure names a tensor '" + name + "' that the file lacks");
        return it->second;
      }
      if (d.size() == 1 && d.contains("$dict")) {
        py::dict out;
        for (auto item : d["$dict"]) {
          auto pair = py::reinterpret_borrow<py::sequence>(item);
          if (pair.size() != 2) throw py::value_error("loom.load: malformed dict entry in the stored structure");
          out[pair[0]] = decode(pair[1], depth + 1);
        }
        return std::move(out);
      }
      if (d.size() == 1 && d.contains("$tuple")) {
        py::list items;
        for (auto v : d["$tuple"]) items.append(decode(v, depth + 1));
        return py::tuple(items);
      }
      throw py::value_error("loom.load: malformed node in the stored structure");
    }
    if (py::isinstance<py::list>(node)) {
      py::list items;
      for (auto v : node) items.append(decode(v, depth + 1));
      return std::move(items);
    }
    return py::reinterpret_borrow<py::object>(node);
  }
};

void save(py::object obj, py::object path, py::object metadata) {
  if (!py::isinstance<py::dict>(obj))
    throw py::type_error("loom.save: expected a dict such as a state_dict, got " +
                         py::str(py::type::of(obj).attr("__name__")).cast<std::string>());
  nn::Metadata meta;
  if (!metadata.is_none()) {
    for (auto kv : metadata.cast<py::dict>()) {
      if (!py::isinstance<py::str>(kv.first) || !py::isinstance<py::str>(kv.second))
        throw py::type_error("loom.save: metadata must map str to str");
      std::string k = kv.first.cast<std::string>();
      if (k == kStructureKey)
        throw py::value_error(std::string("loom.save: metadata key '") + kStructureKey + "' is reserved");
      meta[k] = kv.second.cast<std::string>();
    }
  }
  auto dict = py::reinterpret_borrow<py::dict>(obj);
  bool flat = true;
  for (auto kv : dict) flat = flat && py::isinstance<py::str>(kv.first) && py::isinstance<Tensor>(kv.second);

  nn::StateDict tensors;
  if (flat) {
    for (auto kv : dict) tensors.emplace_back(kv.first.cast<std::string>(), kv.second.cast<Tensor>());
  } else {
    Flattener f;
    py::object tree = f.encode(obj, "", 0);
    meta[kStructureKey] = py::module_::import("json").attr("dumps")(tree).cast<std::string>();
    tensors = std::move(f.tensors);
  }
  std::string p = to_fs_path(path, "loom.save");
  py::gil_scoped_release nogil;
  nn::save(tensors, p, meta);
}

py::object load(py::object path, py::object map_location) {
  std::string p = to_fs_path(path, "loom.load");
  Device device;
  if (!map_location.is_none()) {
    if (py::isinstance<py::dict>(map_location) || PyCallable_Check(map_location.ptr()))
      throw py::type_error("loom.load: map_location must be None, a device or a device string");
    device = to_device(map_location);
  }
  // Checked on the Python path: p is bytes, not necessarily UTF-8.
  if (!py::module_::import("os").attr("path").attr("exists")(path).cast<bool>()) {
    py::object name = py::module_::import("os").attr("fspath")(path);
    PyErr_Format(PyExc_FileNotFoundError, "loom.load: no such file: %R", name.ptr());
    throw py::error_already_set();
  }
  nn::Checkpoint ck;
  {
    py::gil_scoped_release nogil;
    ck = nn::load_checkpoint(p, device);
  }
  auto it = ck.metadata.find(kStructureKey);
  if (it == ck.metadata.end()) {
    py::dict out;
    for (auto& [name, t] : ck.tensors) out[py::str(name)] = py::cast(t);
    return std::move(out);
  }
  Rebuilder r;
  for (auto& [name, t] : ck.tensors) r.tensors.emplace(name, py::cast(t));
  py::object tree;
  try {
    tree = py::module_::import("json").attr("loads")(it->second);
  } catch (py::error_already_set& e) {
    throw py::value_error("loom.load: __metadata__['loom.structure'] is not valid JSON: " + std::string(e.what()));
  }
  return r.decode(tree, 0);
}

void bind(py::module_& functional) {
  py::module_ m = functional.def_submodule("_serialization", "loom.save / loom.load (safetensors checkpoints)");
  m.def("save", &save, py::arg("obj"), py::arg("f"), py::arg("metadata") = py::none(),
        "Saves a dict of tensors (or a nested dict such as an optimizer state_dict) to a safetensors file, "
        "atomically. Non-tensor leaves and the nesting go to __metadata__['loom.structure'] as JSON.");
  m.def("load", &load, py::arg("f"), py::arg("map_location") = py::none(),
        "Loads a safetensors file written by loom.save or by the safetensors library; map_location picks the "
        "device of the tensors.");
}

RegisterFunctional reg(&bind);

}  // namespace
}  // namespace loom::python

// nn::Module: the base of every layer. Holds named parameters, buffers and
// child modules in registration order; names compose like PyTorch's
// state_dict keys ("encoder.layers.0.self_attn.in_proj_weight").
//
// forward() is not part of the base: each module has its own typed forward.
// Parameters live in slots owned by the module; a module reads them through
// param("weight") (or its typed accessors), so to(device) and
// load_state_dict can replace or overwrite them.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace loom::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using StateDict = NamedTensors;  // ordered like PyTorch's OrderedDict

class Module;
using ModulePtr = std::shared_ptr<Module>;

class Module {
 public:
  explicit Module(std::string type_name = "Module") : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const std::string& type_name() const { return type_name_; }

  // ---- registration ----
  // A parameter is stored as a detached leaf with requires_grad set (an
  // undefined tensor registers nothing: PyTorch's `bias=None`).
  Tensor& register_parameter(const std::string& name, const Tensor& t, bool requires_grad = true);
  Tensor& register_buffer(const std::string& name, const Tensor& t, bool persistent = true);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    register_module_impl(name, std::static_pointer_cast<Module>(m));
    return m;
  }
  // Replaces an existing child (same name), e.g. to swap a layer.
  void replace_module(const std::string& name, ModulePtr m);

  // ---- lookup ----
  Tensor& param(const std::string& name);  // raises naming the module when absent
  const Tensor& param(const std::string& name) const;
  Tensor param_or_undefined(const std::string& name) const;  // undefined when absent
  Tensor& buffer(const std::string& name);
  bool has_parameter(const std::string& name) const;
  bool has_buffer(const std::string& name) const;
  ModulePtr child(const std::string& name) const;  // raises when absent

  // ---- traversal (registration order, children depth-first) ----
  NamedTensors named_parameters(const std::string& prefix = "", bool recurse = true) const;
  TensorList parameters(bool recurse = true) const;
  NamedTensors named_buffers(const std::string& prefix = "", bool recurse = true) const;
  TensorList buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, ModulePtr>> named_children() const { return children_; }
  std::vector<ModulePtr> children() const;
  // Self first ("" or prefix), then every descendant; each module once.
  std::vector<std::pair<std::string, Module*>> named_modules(const std::string& prefix = "");
  int64_t num_parameters(bool trainable_only = false) const;

  // ---- mode, device, grads ----
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void to(Device device);
  void to(DType dtype);  // floating parameters and buffers only, like PyTorch
  void to(Device device, DType dtype);
  void zero_grad(bool set_to_none = true);
  // fn on every child (recursively) and then on this module, like PyTorch.
  void apply(const std::function<void(Module&)>& fn);

  // ---- checkpoints ----
  // Parameters then persistent buffers per module, recursively; detached.
  StateDict state_dict(const std::string& prefix = "") const;
  // Copies values in place (no grad). strict: raises loom::Error listing
  // missing and unexpected keys; size mismatches always raise.
  // Returns {missing, unexpected} when not strict.
  std::pair<std::vector<std::string>, std::vector<std::string>> load_state_dict(const StateDict& dict,
                                                                                bool strict = true);

  // ---- printing ----
  std::string repr() const;  // PyTorch's layout plus a parameter-count line at the top level
  virtual std::string extra_repr() const { return ""; }

 protected:
  void register_module_impl(const std::string& name, ModulePtr m);

 private:
  struct Slot {
    std::string name;
    Tensor value;
    bool persistent = true;
  };
  void check_new_name(const std::string& name, const char* what) const;
  void collect_modules(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out);
  void convert(const std::function<Tensor(const Tensor&)>& fn);
  std::string repr_body() const;

  std::string type_name_;
  bool training_ = true;
  std::deque<Slot> params_;  // deque: references stay valid
  std::deque<Slot> buffers_;
  std::vector<std::pair<std::string, ModulePtr>> children_;
};

std::ostream& operator<<(std::ostream& os, const Module& m);

}  // namespace loom::nn

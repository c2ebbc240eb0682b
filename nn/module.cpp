#include "nn/module.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "autograd/node.h"

namespace loom::nn {

namespace {
std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}
std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}
std::string indent(const std::string& s, int n) {
  std::string out;
  std::string pad(n, ' ');
  for (size_t i = 0; i < s.size(); ++i) {
    out += s[i];
    if (s[i] == '\n') out += pad;
  }
  return out;
}
}  // namespace

void Module::check_new_name(const std::string& name, const char* what) const {
  LOOM_CHECK_VALUE(!name.empty(), type_name_, ".", what, ": name can't be empty");
  LOOM_CHECK_VALUE(name.find('.') == std::string::npos, type_name_, ".", what, ": name can't contain \".\", got '",
                   name, "'");
  auto taken = [&](const auto& v) {
    return std::any_of(v.begin(), v.end(), [&](const auto& s) { return s.name == name; });
  };
  bool child = std::any_of(children_.begin(), children_.end(), [&](const auto& c) { return c.first == name; });
  LOOM_CHECK_VALUE(!taken(params_) && !taken(buffers_) && !child, type_name_, ".", what, ": attribute '", name,
                   "' already exists");
}

Tensor& Module::register_parameter(const std::string& name, const Tensor& t, bool requires_grad) {
  check_new_name(name, "register_parameter");
  Tensor v;
  if (t.defined()) {
    v = t.detach();
    v.requires_grad_(requires_grad);
  }
  params_.push_back({name, v, true});
  return params_.back().value;
}

Tensor& Module::register_buffer(const std::string& name, const Tensor& t, bool persistent) {
  check_new_name(name, "register_buffer");
  buffers_.push_back({name, t.defined() ? t.detach() : t, persistent});
  return buffers_.back().value;
}

void Module::register_module_impl(const std::string& name, ModulePtr m) {
  check_new_name(name, "register_module");
  LOOM_CHECK_VALUE(m != nullptr, type_name_, ".register_module: module '", name, "' is null");
  children_.emplace_back(name, std::move(m));
}

void Module::replace_module(const std::string& name, ModulePtr m) {
  for (auto& c : children_)
    if (c.first == name) {
      c.second = std::move(m);
      return;
    }
  LOOM_THROW(ErrorKind::Index, type_name_, ".replace_module: no child named '", name, "'");
}

Tensor& Module::param(const std::string& name) {
  for (auto& s : params_)
    if (s.name == name) return s.value;
  LOOM_THROW(ErrorKind::Index, type_name_, ": no parameter named '", name, "'");
}
const Tensor& Module::param(const std::string& name) const { return const_cast<Module*>(this)->param(name); }
Tensor Module::param_or_undefined(const std::string& name) const {
  for (auto& s : params_)
    if (s.name == name) return s.value;
  return Tensor();
}
Tensor& Module::buffer(const std::string& name) {
  for (auto& s : buffers_)
    if (s.name == name) return s.value;
  LOOM_THROW(ErrorKind::Index, type_name_, ": no buffer named '", name, "'");
}
bool Module::has_parameter(const std::string& name) const {
  for (auto& s : params_)
    if (s.name == name && s.value.defined()) return true;
  return false;
}
bool Module::has_buffer(const std::string& name) const {
  for (auto& s : buffers_)
    if (s.name == name && s.value.defined()) return true;
  return false;
}
ModulePtr Module::child(const std::string& name) const {
  for (auto& c : children_)
    if (c.first == name) return c.second;
  LOOM_THROW(ErrorKind::Index, type_name_, ": no submodule named '", name, "'");
}

NamedTensors Module::named_parameters(const std::string& prefix, bool recurse) const {
  NamedTensors out;
  std::set<const TensorImpl*> seen;  // shared parameters appear once, like PyTorch
  auto visit = [&](const Module& m, const std::string& pre, auto&& self) -> void {
    for (auto& s : m.params_)
      if (s.value.defined() && seen.insert(s.value.impl()).second) out.emplace_back(join(pre, s.name), s.value);
    if (!recurse) return;
    for (auto& c : m.children_) self(*c.second, join(pre, c.first), self);
  };
  visit(*this, prefix, visit);
  return out;
}

TensorList Module::parameters(bool recurse) const {
  TensorList out;
  for (auto& p : named_parameters("", recurse)) out.push_back(p.second);
  return out;
}

NamedTensors Module::named_buffers(const std::string& prefix, bool recurse) const {
  NamedTensors out;
  auto visit = [&](const Module& m, const std::string& pre, auto&& self) -> void {
    for (auto& s : m.buffers_)
      if (s.value.defined()) out.emplace_back(join(pre, s.name), s.value);
    if (!recurse) return;
    for (auto& c : m.children_) self(*c.second, join(pre, c.first), self);
  };
  visit(*this, prefix, visit);
  return out;
}

TensorList Module::buffers(bool recurse) const {
  TensorList out;
  for (auto& p : named_buffers("", recurse)) out.push_back(p.second);
  return out;
}

std::vector<ModulePtr> Module::children() const {
  std::vector<ModulePtr> out;
  for (auto& c : children_) out.push_back(c.second);
  return out;
}

void Module::collect_modules(const std::string& prefix, std::vector<std::pair<std::string, Module*>>& out) {
  for (auto& e : out)
    if (e.second == this) return;
  out.emplace_back(prefix, this);
  for (auto& c : children_) c.second->collect_modules(join(prefix, c.first), out);
}

std::vector<std::pair<std::string, Module*>> Module::named_modules(const std::string& prefix) {
  std::vector<std::pair<std::string, Module*>> out;
  collect_modules(prefix, out);
  return out;
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (auto& p : named_parameters())
    if (!trainable_only || p.second.requires_grad()) n += p.second.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& c : children_) c.second->train(on);
}

void Module::convert(const std::function<Tensor(const Tensor&)>& fn) {
  autograd::NoGradGuard guard;
  for (auto& c : children_) c.second->convert(fn);
  for (auto& s : params_) {
    if (!s.value.defined()) continue;
    // A parameter already in place stays the same tensor, so that an
    // optimizer built before to() keeps updating the module's parameters.
    Tensor r = fn(s.value);
    if (r.is_same(s.value)) continue;
    bool rg = s.value.requires_grad();
    Tensor g = s.value.grad();
    Tensor v = r.detach();
    v.requires_grad_(rg);
    if (g.defined()) v.set_grad(fn(g).detach());
    s.value = v;
  }
  for (auto& s : buffers_) {
    if (!s.value.defined()) continue;
    Tensor r = fn(s.value);
    if (!r.is_same(s.value)) s.value = r.detach();
  }
}

void Module::to(Device device) {
  convert([&](const Tensor& t) { return t.device() == device ? t : t.to(device); });
}
void Module::to(DType dtype) {
  convert([&](const Tensor& t) { return (t.is_floating_point() && t.dtype() != dtype) ? t.to(dtype) : t; });
}
void Module::to(Device device, DType dtype) {
  to(device);
  to(dtype);
}

void Module::zero_grad(bool set_to_none) {
  for (auto& p : parameters()) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (set_to_none) {
      p.set_grad(Tensor());
    } else {
      autograd::NoGradGuard guard;
      Tensor z = g.detach();
      z.zero_();
    }
  }
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& c : children_) c.second->apply(fn);
  fn(*this);
}

StateDict Module::state_dict(const std::string& prefix) const {
  StateDict out;
  for (auto& s : params_)
    if (s.value.defined()) out.emplace_back(join(prefix, s.name), s.value.detach());
  for (auto& s : buffers_)
    if (s.value.defined() && s.persistent) out.emplace_back(join(prefix, s.name), s.value.detach());
  for (auto& c : children_) {
    auto sub = c.second->state_dict(join(prefix, c.first));
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

std::pair<std::vector<std::string>, std::vector<std::string>> Module::load_state_dict(const StateDict& dict,
                                                                                      bool strict) {
  // Destination slots, keyed like state_dict().
  std::vector<std::pair<std::string, Tensor*>> dest;
  auto visit = [&](Module& m, const std::string& pre, auto&& self) -> void {
    for (auto& s : m.params_)
      if (s.value.defined()) dest.emplace_back(join(pre, s.name), &s.value);
    for (auto& s : m.buffers_)
      if (s.value.defined() && s.persistent) dest.emplace_back(join(pre, s.name), &s.value);
    for (auto& c : m.children_) self(*c.second, join(pre, c.first), self);
  };
  visit(*this, "", visit);

  std::vector<std::string> missing, unexpected, mismatch;
  std::set<std::string> dest_names;
  for (auto& d : dest) dest_names.insert(d.first);
  for (auto& kv : dict)
    if (!dest_names.count(kv.first)) unexpected.push_back(kv.first);
  for (auto& d : dest) {
    auto it = std::find_if(dict.begin(), dict.end(), [&](const auto& kv) { return kv.first == d.first; });
    if (it == dict.end()) {
      missing.push_back(d.first);
      continue;
    }
    if (it->second.sizes() != d.second->sizes())
      mismatch.push_back("size mismatch for " + d.first + ": copying a param with shape " +
                         shape_str(it->second.sizes()) + " from checkpoint, the shape in current model is " +
                         shape_str(d.second->sizes()) + ".");
  }
  auto quoted = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", \"" : "\"") + v[i] + "\"";
    return s;
  };
  std::vector<std::string> errors;
  if (strict && !missing.empty()) errors.push_back("Missing key(s) in state_dict: " + quoted(missing) + ".");
  if (strict && !unexpected.empty()) errors.push_back("Unexpected key(s) in state_dict: " + quoted(unexpected) + ".");
  errors.insert(errors.end(), mismatch.begin(), mismatch.end());
  if (!errors.empty()) {
    std::string msg = "Error(s) in loading state_dict for " + type_name_ + ":";
    for (auto& e : errors) msg += "\n\t" + e;
    LOOM_THROW(ErrorKind::Runtime, msg);
  }
  autograd::NoGradGuard guard;
  for (auto& d : dest) {
    auto it = std::find_if(dict.begin(), dict.end(), [&](const auto& kv) { return kv.first == d.first; });
    if (it != dict.end()) d.second->copy_(it->second);
  }
  return {missing, unexpected};
}

std::string Module::repr_body() const {
  std::string out = type_name_ + "(";
  std::string extra = extra_repr();
  if (children_.empty()) return out + extra + ")";
  if (!extra.empty()) out += "\n  " + indent(extra, 2);
  for (auto& c : children_) out += "\n  (" + c.first + "): " + indent(c.second->repr_body(), 2);
  return out + "\n)";
}

std::string Module::repr() const {
  int64_t n = num_parameters(), nt = num_parameters(true);
  std::ostringstream os;
  os << repr_body() << "\n# parameters: " << n;
  if (nt != n) os << " (" << nt << " trainable)";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Module& m) { return os << m.repr(); }

}  // namespace loom::nn

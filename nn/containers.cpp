#include "nn/containers.h"

namespace loom::nn {

void Sequential::push_back(AnyModule m) {
  LOOM_CHECK_VALUE(m.module && m.forward, "Sequential.push_back: null module");
  register_module(std::to_string(items_.size()), m.module);
  items_.push_back(std::move(m));
}

Tensor Sequential::forward(const Tensor& x) const {
  Tensor y = x;
  for (auto& m : items_) y = m.forward(y);
  return y;
}

ModulePtr Sequential::operator[](size_t i) const {
  LOOM_CHECK_INDEX(i < items_.size(), "Sequential: index ", i, " is out of range for ", items_.size(), " modules");
  return items_[i].module;
}

void ModuleList::push_back(ModulePtr m) {
  register_module(std::to_string(items_.size()), m);
  items_.push_back(std::move(m));
}

ModulePtr ModuleList::operator[](size_t i) const {
  LOOM_CHECK_INDEX(i < items_.size(), "ModuleList: index ", i, " is out of range for ", items_.size(), " modules");
  return items_[i];
}

void ModuleDict::insert(const std::string& key, ModulePtr m) {
  if (contains(key)) replace_module(key, std::move(m));
  else register_module(key, std::move(m));
}

bool ModuleDict::contains(const std::string& key) const {
  for (auto& c : named_children())
    if (c.first == key) return true;
  return false;
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> out;
  for (auto& c : named_children()) out.push_back(c.first);
  return out;
}

}  // namespace loom::nn

// Sequential (Tensor -> Tensor chain), ModuleList and ModuleDict.
#pragma once
#include <functional>
#include <type_traits>

#include "nn/module.h"

namespace loom::nn {

// A module with its Tensor -> Tensor forward, type-erased.
struct AnyModule {
  ModulePtr module;
  std::function<Tensor(const Tensor&)> forward;

  AnyModule() = default;
  template <typename M>
  AnyModule(std::shared_ptr<M> m)  // NOLINT: implicit on purpose
      : module(m), forward([raw = m.get()](const Tensor& x) { return raw->forward(x); }) {}
  AnyModule(ModulePtr m, std::function<Tensor(const Tensor&)> fn) : module(std::move(m)), forward(std::move(fn)) {}
};

// Children are named "0", "1", ... like torch.nn.Sequential.
class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<AnyModule> mods) : Module("Sequential") {
    for (auto& m : mods) push_back(m);
  }
  void push_back(AnyModule m);
  template <typename M>
  void push_back(std::shared_ptr<M> m) {
    push_back(AnyModule(std::move(m)));
  }
  Tensor forward(const Tensor& x) const;
  size_t size() const { return items_.size(); }
  ModulePtr operator[](size_t i) const;

 private:
  std::vector<AnyModule> items_;
};

class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  void push_back(ModulePtr m);
  size_t size() const { return items_.size(); }
  ModulePtr operator[](size_t i) const;
  template <typename M>
  std::shared_ptr<M> at(size_t i) const {
    auto p = std::dynamic_pointer_cast<M>((*this)[i]);
    LOOM_CHECK_TYPE(p != nullptr, "ModuleList: element ", i, " has another type");
    return p;
  }
  std::vector<ModulePtr>::const_iterator begin() const { return items_.begin(); }
  std::vector<ModulePtr>::const_iterator end() const { return items_.end(); }

 private:
  std::vector<ModulePtr> items_;
};

class ModuleDict : public Module {
 public:
  ModuleDict() : Module("ModuleDict") {}
  void insert(const std::string& key, ModulePtr m);
  bool contains(const std::string& key) const;
  ModulePtr operator[](const std::string& key) const { return child(key); }
  std::vector<std::string> keys() const;
  size_t size() const { return named_children().size(); }
};

}  // namespace loom::nn

#pragma once
// Values visible while a graph runs: its own, then its enclosing graphs'
// (an If/Loop body sees the outer scope, as ONNX specifies).
#include <torch/script.h>

#include <string>
#include <unordered_map>

namespace mlopt::onnx_eval {

class Scope {
 public:
  explicit Scope(const Scope* parent = nullptr) : parent_(parent) {}
  void set(const std::string& name, at::Tensor value) { values_[name] = std::move(value); }
  const at::Tensor* find(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent_) {
      auto it = s->values_.find(name);
      if (it != s->values_.end()) return &it->second;
    }
    return nullptr;
  }
  bool has_local(const std::string& name) const { return values_.count(name) > 0; }

 private:
  const Scope* parent_;
  std::unordered_map<std::string, at::Tensor> values_;
};

}  // namespace mlopt::onnx_eval

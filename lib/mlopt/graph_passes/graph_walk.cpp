#include "mlopt/graph_passes/graph_walk.h"

#include <torch/csrc/jit/api/function_impl.h>

#include <set>
#include <string>

namespace mlopt::graph_passes {

std::vector<std::shared_ptr<torch::jit::Graph>> method_graphs(const torch::jit::Module& module) {
  std::set<std::string> seen;
  std::vector<std::shared_ptr<torch::jit::Graph>> out;
  for (const auto& m : module.modules()) {
    const auto& type = m.type();
    if (!seen.insert(type->name()->qualifiedName()).second) continue;
    for (auto* fn : type->methods()) out.push_back(torch::jit::toGraphFunction(*fn).graph());
  }
  return out;
}

}  // namespace mlopt::graph_passes

#pragma once
// Walking TorchScript graphs: every node of a block and the blocks nested in
// it, and every method graph of a module tree (once per class: modules of one
// class share their graphs).
#include <torch/script.h>

#include <memory>
#include <vector>

namespace mlopt::graph_passes {

// Calls f(node) for every node of `block`, each before the nodes nested in it.
template <class F>
void for_each_node(torch::jit::Block* block, const F& f) {
  for (torch::jit::Node* node : block->nodes()) {
    f(node);
    for (torch::jit::Block* sub : node->blocks()) for_each_node(sub, f);
  }
}

// The graph of every method of `module` and its submodules, once per class.
std::vector<std::shared_ptr<torch::jit::Graph>> method_graphs(const torch::jit::Module& module);

}  // namespace mlopt::graph_passes

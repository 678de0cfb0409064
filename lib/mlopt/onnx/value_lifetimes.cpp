#include "mlopt/onnx/value_lifetimes.h"

#include <unordered_set>

namespace mlopt::onnx_export {

using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Value;

namespace {

// Every value `node` reads, its nested blocks' reads included.
void collect_reads(const Node* node, std::vector<const Value*>& reads) {
  for (const Value* v : node->inputs()) reads.push_back(v);
  for (const Block* sub : node->blocks()) {
    for (const Node* inner : sub->nodes()) collect_reads(inner, reads);
    for (const Value* v : sub->outputs()) reads.push_back(v);
  }
}

}  // namespace

DeathPlan plan_value_deaths(const Block* block) {
  std::unordered_set<const Value*> owned(block->inputs().begin(), block->inputs().end());
  for (const Node* node : block->nodes())
    for (const Value* v : node->outputs()) owned.insert(v);
  for (const Value* v : block->outputs()) owned.erase(v);

  std::unordered_map<const Value*, const Node*> last_reader;
  std::vector<const Value*> reads;
  for (const Node* node : block->nodes()) {
    reads.clear();
    collect_reads(node, reads);
    for (const Value* v : reads)
      if (owned.count(v)) last_reader[v] = node;
  }
  DeathPlan plan;
  for (auto& [value, node] : last_reader) plan[node].push_back(value);
  // Outputs nobody reads die where they are made.
  for (const Node* node : block->nodes())
    for (const Value* v : node->outputs())
      if (owned.count(v) && !last_reader.count(v)) plan[node].push_back(v);
  return plan;
}

}  // namespace mlopt::onnx_export

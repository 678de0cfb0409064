#include "mlopt/prune/channel_rules.h"

#include <map>

#include "mlopt/prune/graph_prep.h"

namespace mlopt::pruning {

namespace {
using ChannelRuleRegistry = Registry<ChannelRule>;
}  // namespace

ChannelRuleRegistrar::ChannelRuleRegistrar(const std::vector<std::string>& ops, ChannelRule rule) {
  ChannelRuleRegistry::instance().add_all(ops, rule);
}

const ChannelRule* find_channel_rule(const std::string& op) { return ChannelRuleRegistry::instance().find(op); }

std::optional<int64_t> constant_int(const torch::jit::Value* v) {
  auto iv = torch::jit::toIValue(v);
  if (!iv || !iv->isInt()) return std::nullopt;
  return iv->toInt();
}

std::optional<std::vector<int64_t>> constant_int_list(const torch::jit::Value* v) {
  auto iv = torch::jit::toIValue(v);
  if (!iv) return std::nullopt;
  if (iv->isIntList()) return iv->toIntVector();
  if (iv->isInt()) return std::vector<int64_t>{iv->toInt()};
  return std::nullopt;
}

std::optional<std::pair<std::string, std::string>> parameter_of(const torch::jit::Value* v) {
  auto path = attribute_path(v);
  if (!path) return std::nullopt;
  auto dot = path->rfind('.');
  if (dot == std::string::npos) return std::make_pair(std::string(), *path);
  return std::make_pair(path->substr(0, dot), path->substr(dot + 1));
}

void lock_inputs(torch::jit::Node* node, ChannelGraph& graph, const std::string& reason) {
  for (auto* input : node->inputs()) graph.lock_value(input, reason);
}

void passthrough_rule(torch::jit::Node* node, ChannelGraph& graph) {
  const Layout* in = graph.layout(node->input(0));
  if (!in) return;
  // Other tensor inputs (a weight of prelu, say) are not followed.
  for (size_t i = 1; i < node->inputs().size(); ++i)
    if (graph.layout(node->input(i))) {
      lock_inputs(node, graph, fmt::format("{} combines channels of several tensors", node->kind().toQualString()));
      return;
    }
  Layout out = *in;
  auto shape = graph.shape(node->output(0));
  if (!shape.empty() && static_cast<int64_t>(shape.size()) != in->rank) {
    lock_inputs(node, graph, fmt::format("{} changes the rank", node->kind().toQualString()));
    return;
  }
  for (auto* output : node->outputs())
    if (output->type()->kind() == c10::TypeKind::TensorType) graph.set_layout(output, out);
}

}  // namespace mlopt::pruning

#pragma once
// The pattern table of channel pruning: for each op, how channels flow from
// its inputs to its outputs and which parameters they couple. One small file
// per op family under rules/, registered at its bottom:
//   MLOPT_CHANNEL_RULE({"aten::relu", "aten::relu_"}, passthrough_rule);
#include <fmt/format.h>

#include <functional>
#include <string>
#include <vector>

#include "mlopt/core/registry.h"
#include "mlopt/prune/channel_graph.h"

namespace mlopt::pruning {

using ChannelRule = std::function<void(torch::jit::Node* node, ChannelGraph& graph)>;

const ChannelRule* find_channel_rule(const std::string& op);

struct ChannelRuleRegistrar {
  ChannelRuleRegistrar(const std::vector<std::string>& ops, ChannelRule rule);
};

// Shared helpers of the rules.
// Constant int / int list inputs (nullopt when not constant).
std::optional<int64_t> constant_int(const torch::jit::Value* v);
std::optional<std::vector<int64_t>> constant_int_list(const torch::jit::Value* v);
// The module path and attribute of a parameter read through GetAttr ("conv1", "weight").
std::optional<std::pair<std::string, std::string>> parameter_of(const torch::jit::Value* v);
// Locks every input layout of `node` (an op whose channel coupling is unknown).
void lock_inputs(torch::jit::Node* node, ChannelGraph& graph, const std::string& reason);
// Output keeps input 0's layout (elementwise unary ops, pooling, dropout).
void passthrough_rule(torch::jit::Node* node, ChannelGraph& graph);

}  // namespace mlopt::pruning

#define MLOPT_CHANNEL_RULE(...) MLOPT_STATIC_REGISTRAR(::mlopt::pruning::ChannelRuleRegistrar, __VA_ARGS__)

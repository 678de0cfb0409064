// Convolutions and linear layers open a new channel space (their output
// channels) and consume their input's channels (the weight's dim 1). A
// depthwise convolution instead keeps its input's channels: its weight, bias
// and `groups` follow the input.
#include "mlopt/prune/channel_rules.h"

namespace mlopt::pruning {
namespace {

Layout single_space_layout(int space, int64_t length, int64_t dim, int64_t rank) {
  Layout l;
  l.dim = dim;
  l.rank = rank;
  l.segments.push_back({space, length});
  return l;
}

at::Tensor parameter_tensor(ChannelGraph& graph, const std::pair<std::string, std::string>& param) {
  torch::jit::Module owner = graph.module();
  size_t start = 0;
  while (!param.first.empty()) {
    size_t dot = param.first.find('.', start);
    owner = owner.attr(param.first.substr(start, dot == std::string::npos ? dot : dot - start)).toModule();
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return owner.attr(param.second).toTensor();
}

std::string joined(const std::pair<std::string, std::string>& p) {
  return p.first.empty() ? p.second : p.first + "." + p.second;
}

// Output channels of a layer: a fresh space, locked when `lock_reason` is given.
void open_output_space(torch::jit::Node* node, ChannelGraph& graph, const std::string& layer, int64_t out,
                       int64_t dim_from_end, const std::string& lock_reason) {
  auto shape = graph.shape(node->output());
  int64_t rank = shape.empty() ? 2 : static_cast<int64_t>(shape.size());
  int space = graph.new_space(out, layer);
  if (!lock_reason.empty()) {
    graph.space(space).locked = true;
    graph.space(space).lock_reason = lock_reason;
  }
  graph.set_layout(node->output(), single_space_layout(space, out, rank - dim_from_end, rank));
}

void slice_outputs(ChannelGraph& graph, const std::pair<std::string, std::string>& weight, torch::jit::Value* bias,
                   const Layout& layout) {
  graph.add_slice({joined(weight), 0, layout, true});
  if (auto b = parameter_of(bias)) graph.add_slice({joined(*b), 0, layout, false});
}

void conv_rule(torch::jit::Node* node, ChannelGraph& graph) {
  bool generic = node->kind() == c10::aten::_convolution;
  const Layout* in = graph.layout(node->input(0));
  auto weight = parameter_of(node->input(1));
  torch::jit::Value* bias = node->input(2);
  if (generic && torch::jit::toIValue(node->input(6)).value_or(true).toBool()) {
    lock_inputs(node, graph, "transposed convolution");
    return;
  }
  bool bias_ok = bias->type()->kind() == c10::TypeKind::NoneType || torch::jit::toIValue(bias) || parameter_of(bias);
  if (!weight || !bias_ok) {
    lock_inputs(node, graph, "convolution whose weight is not a module parameter");
    return;
  }
  std::string layer = weight->first;
  at::Tensor w = parameter_tensor(graph, *weight);
  int64_t out = w.size(0);
  auto groups = constant_int(node->input(generic ? 8 : 6));
  if (graph.shared_weight(joined(*weight)) || !groups) {
    lock_inputs(node, graph, fmt::format("'{}' shares its weight or has non-constant groups", layer));
    open_output_space(node, graph, layer, out, 0, "shared weight or non-constant groups");
    return;
  }
  auto shape = graph.shape(node->output());
  int64_t rank = shape.empty() ? w.dim() : static_cast<int64_t>(shape.size());
  if (*groups == 1) {
    if (in) {
      if (in->dim != 1 || in->repeat != 1) {
        graph.lock(*in, fmt::format("'{}' reads channels from an unexpected dimension", layer));
      } else {
        graph.add_slice({joined(*weight), 1, *in, false});
        graph.note_layer(*in, layer);
      }
    }
    int space = graph.new_space(out, layer);
    Layout layout = single_space_layout(space, out, rank - w.dim() + 1, rank);
    layout.dim = 1;
    slice_outputs(graph, *weight, bias, layout);
    graph.set_layout(node->output(), layout);
    return;
  }
  if (in && in->dim == 1 && in->repeat == 1 && *groups == in->channels() && out == *groups) {
    // Depthwise: channel c of the output is computed from channel c of the input only.
    Layout layout = *in;
    layout.rank = rank;
    slice_outputs(graph, *weight, bias, layout);
    graph.add_constant_fix({node, static_cast<size_t>(generic ? 8 : 6), layout});
    graph.note_layer(layout, layer);
    graph.set_layout(node->output(), layout);
    return;
  }
  lock_inputs(node, graph, fmt::format("'{}' is a grouped convolution", layer));
  open_output_space(node, graph, layer, out, rank - 1, fmt::format("'{}' is a grouped convolution", layer));
}
MLOPT_CHANNEL_RULE({"aten::conv1d", "aten::conv2d", "aten::conv3d", "aten::_convolution"}, conv_rule);

void linear_rule(torch::jit::Node* node, ChannelGraph& graph) {
  const Layout* in = graph.layout(node->input(0));
  auto weight = parameter_of(node->input(1));
  torch::jit::Value* bias = node->input(2);
  bool bias_ok = bias->type()->kind() == c10::TypeKind::NoneType || torch::jit::toIValue(bias) || parameter_of(bias);
  if (!weight || !bias_ok) {
    lock_inputs(node, graph, "linear layer whose weight is not a module parameter");
    return;
  }
  std::string layer = weight->first;
  at::Tensor w = parameter_tensor(graph, *weight);
  if (graph.shared_weight(joined(*weight))) {
    lock_inputs(node, graph, fmt::format("'{}' shares its weight", layer));
    open_output_space(node, graph, layer, w.size(0), 1, "shared weight");
    return;
  }
  if (in) {
    if (in->dim != in->rank - 1 || in->channels() * in->repeat != w.size(1)) {
      graph.lock(*in, fmt::format("'{}' reads features that are not the channels of its input", layer));
    } else {
      graph.add_slice({joined(*weight), 1, *in, false});
      graph.note_layer(*in, layer);
    }
  }
  auto shape = graph.shape(node->output());
  int64_t rank = shape.empty() ? 2 : static_cast<int64_t>(shape.size());
  int space = graph.new_space(w.size(0), layer);
  Layout layout = single_space_layout(space, w.size(0), rank - 1, rank);
  slice_outputs(graph, *weight, bias, layout);
  graph.set_layout(node->output(), layout);
}
MLOPT_CHANNEL_RULE({"aten::linear"}, linear_rule);

}  // namespace
}  // namespace mlopt::pruning

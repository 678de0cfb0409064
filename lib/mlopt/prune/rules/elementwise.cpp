// Ops that keep each channel where it is: activations, dropout, pooling,
// padding of spatial dims; and binary elementwise ops, which couple the
// channels of both operands (a residual add prunes both branches together).
#include "mlopt/prune/channel_rules.h"

namespace mlopt::pruning {
namespace {

MLOPT_CHANNEL_RULE({"aten::relu", "aten::relu_", "aten::relu6", "aten::relu6_", "aten::hardtanh", "aten::hardtanh_",
                    "aten::sigmoid", "aten::sigmoid_", "aten::tanh", "aten::tanh_", "aten::gelu", "aten::silu",
                    "aten::silu_", "aten::hardswish", "aten::hardswish_", "aten::hardsigmoid", "aten::hardsigmoid_",
                    "aten::leaky_relu", "aten::leaky_relu_", "aten::elu", "aten::elu_", "aten::mish", "aten::neg",
                    "aten::abs", "aten::exp", "aten::clamp", "aten::clamp_", "aten::dropout", "aten::dropout_",
                    "aten::feature_dropout", "aten::alpha_dropout", "aten::contiguous", "aten::clone",
                    "aten::detach", "aten::max_pool1d", "aten::max_pool2d", "aten::max_pool3d", "aten::avg_pool1d",
                    "aten::avg_pool2d", "aten::avg_pool3d", "aten::adaptive_avg_pool1d",
                    "aten::adaptive_avg_pool2d", "aten::adaptive_avg_pool3d", "aten::adaptive_max_pool2d",
                    "aten::max_pool2d_with_indices", "aten::upsample_nearest2d", "aten::upsample_bilinear2d"},
                   passthrough_rule);

// Padding is fine as long as it pads dims after the channels.
void pad_rule(torch::jit::Node* node, ChannelGraph& graph) {
  const Layout* in = graph.layout(node->input(0));
  if (!in) return;
  auto pads = constant_int_list(node->input(1));
  if (!pads || static_cast<int64_t>(pads->size() / 2) > in->rank - in->dim - 1) {
    lock_inputs(node, graph, "padding of the channel dimension");
    return;
  }
  passthrough_rule(node, graph);
}
MLOPT_CHANNEL_RULE({"aten::constant_pad_nd", "aten::pad", "aten::reflection_pad2d", "aten::replication_pad2d"},
                   pad_rule);

// a (op) b with broadcasting: channels of both sides are one space.
void binary_rule(torch::jit::Node* node, ChannelGraph& graph) {
  auto* a = node->input(0);
  auto* b = node->input(1);
  const Layout* la = graph.layout(a);
  const Layout* lb = graph.layout(b);
  std::string op = node->kind().toQualString();
  auto out_shape = graph.shape(node->output());
  auto with_rank = [&](Layout l) {
    if (!out_shape.empty()) {
      l.dim += static_cast<int64_t>(out_shape.size()) - l.rank;
      l.rank = static_cast<int64_t>(out_shape.size());
    }
    return l;
  };
  if (la && lb) {
    if (la->dim_from_end() != lb->dim_from_end() || !graph.unite_layouts(*la, *lb)) {
      lock_inputs(node, graph, fmt::format("{} of tensors whose channels do not line up", op));
      return;
    }
    graph.set_layout(node->output(), with_rank(*la));
    return;
  }
  const Layout* l = la ? la : lb;
  if (!l) return;
  auto* other = la ? b : a;
  if (other->type()->kind() == c10::TypeKind::TensorType) {
    // A tensor without channel layout (a constant, an input) must broadcast along the channels.
    auto shape = graph.shape(other);
    int64_t pos = static_cast<int64_t>(shape.size()) - l->dim_from_end();
    bool broadcasts = !graph.shape(other).empty() && (pos < 0 || shape[pos] == 1);
    if (!broadcasts) {
      lock_inputs(node, graph, fmt::format("{} with a tensor of fixed channels", op));
      return;
    }
  }
  graph.set_layout(node->output(), with_rank(*l));
}
MLOPT_CHANNEL_RULE({"aten::add", "aten::add_", "aten::sub", "aten::sub_", "aten::mul", "aten::mul_", "aten::div",
                    "aten::div_", "aten::maximum", "aten::minimum"},
                   binary_rule);

}  // namespace
}  // namespace mlopt::pruning

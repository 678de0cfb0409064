// Batch / instance norm: per-channel parameters and statistics follow the
// input's channels (segment by segment after a concatenation).
#include "mlopt/prune/channel_rules.h"

namespace mlopt::pruning {
namespace {

// aten::batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, cudnn_enabled)
// aten::instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps, cudnn_enabled)
void norm_rule(torch::jit::Node* node, ChannelGraph& graph) {
  const Layout* in = graph.layout(node->input(0));
  if (!in) return;
  if (in->dim != 1 || in->repeat != 1) {
    lock_inputs(node, graph, "normalization over an unexpected dimension");
    return;
  }
  std::vector<std::string> params;
  for (size_t i = 1; i <= 4; ++i) {
    auto* v = node->input(i);
    if (v->type()->kind() == c10::TypeKind::NoneType || (torch::jit::toIValue(v) && torch::jit::toIValue(v)->isNone()))
      continue;
    auto p = parameter_of(v);
    if (!p) {
      lock_inputs(node, graph, "normalization whose parameters are not module attributes");
      return;
    }
    params.push_back(p->first.empty() ? p->second : p->first + "." + p->second);
  }
  for (const auto& p : params) graph.add_slice({p, 0, *in, false});
  if (!params.empty()) graph.note_layer(*in, params.front().substr(0, params.front().rfind('.')));
  graph.set_layout(node->output(), *in);
}
MLOPT_CHANNEL_RULE({"aten::batch_norm", "aten::instance_norm"}, norm_rule);

}  // namespace
}  // namespace mlopt::pruning

#pragma once
// Channel pruning: physically removes output channels of convolutions and
// neurons of linear layers, with everything coupled to them (see
// channel_graph.h), leaving a smaller dense module with the same signature.
#include <torch/script.h>

#include <string>
#include <vector>

#include "mlopt/prune/attention_heads.h"

namespace mlopt::pruning {

struct ChannelGroupReport {
  std::vector<std::string> layers;
  int64_t channels_before = 0, channels_after = 0;
  bool pruned = false;
  std::string reason;  // why a group was left alone
};

struct ChannelPruneReport {
  std::vector<ChannelGroupReport> groups;
  std::vector<HeadPruneReport> attention;  // one per attention module matching the patterns
};

// Prunes `module` in place: its forward is inlined (see graph_prep.h), its
// parameters replaced by smaller ones and the graph constants that name
// channel counts (depthwise groups, reshape sizes) rewritten. `inputs` drive
// the shape probe. A group is pruned when one of its producing layers matches
// `patterns` (all when empty); `amount` of its channels, ranked by the summed
// Ln norm of the producers' weights, are removed (at least one channel stays).
// `head_amount` of the heads of each selected attention module go too
// (attention_heads.h); PyTorch's fused transformer fast paths are lowered to
// their unfused math first, since they cannot run a pruned attention (nor do
// the channel rules see through them).
ChannelPruneReport prune_channels(torch::jit::Module& module, const std::vector<at::Tensor>& inputs, double amount,
                                  int norm, const std::vector<std::string>& patterns, double head_amount = 0);

}  // namespace mlopt::pruning

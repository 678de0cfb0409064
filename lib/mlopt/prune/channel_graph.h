#pragma once
// The dependency graph of channel pruning. Every conv / linear output opens a
// channel *space*; the rules (channel_rules.h) follow each tensor's channel
// *layout* through the graph and unite spaces that must be pruned together
// (both sides of a residual add, a depthwise conv's input and output), record
// the parameter slices each space implies (BatchNorm entries, consumers' input
// channels, a Linear after a flatten), and lock spaces whose coupling they
// cannot resolve (an unknown op, a model output, a shared weight).
#include <torch/script.h>

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "mlopt/prune/graph_prep.h"

namespace mlopt::pruning {

// `length` consecutive channels belonging to a space.
struct Segment {
  int space = -1;
  int64_t length = 0;
};

// Where a tensor's channels are and which spaces they come from. `dim` is the
// channel dimension of a tensor of rank `rank`; after a flatten each channel
// spans `repeat` consecutive features. A cat along the channels makes several
// segments.
struct Layout {
  int64_t dim = 1;
  int64_t rank = 4;
  std::vector<Segment> segments;
  int64_t repeat = 1;
  int64_t channels() const;
  // Position counted from the last dimension (for broadcasting).
  int64_t dim_from_end() const { return rank - dim; }
};

// Slice parameter `path` along `dim` to the kept channels of `layout`.
struct ParamSlice {
  std::string path;  // "layers.0.bn1.running_mean"
  int64_t dim = 0;
  Layout layout;
  bool scores = false;  // this parameter's per-channel norms rank the channels (a producer's weight)
};

// Replace input `index` of `node` by a constant: kept channels of `layout`
// times `layout.repeat` (reshape sizes, depthwise groups).
struct ConstantFix {
  torch::jit::Node* node = nullptr;
  size_t index = 0;
  Layout layout;
};

struct Space {
  int64_t length = 0;
  int parent = -1;
  bool locked = false;
  std::string lock_reason;
  std::vector<std::string> producers;  // module paths of the convs / linears that open it (and those united)
  std::vector<std::string> layers;     // every layer touching it, for the report
  bool selected = false;               // some producer matches --layers
};

class ChannelGraph {
 public:
  ChannelGraph(torch::jit::Module& module, std::shared_ptr<torch::jit::Graph> graph, ShapeMap shapes)
      : module_(module), graph_(std::move(graph)), shapes_(std::move(shapes)) {}

  torch::jit::Module& module() { return module_; }
  torch::jit::Graph& graph() { return *graph_; }

  // Spaces and their union.
  int new_space(int64_t length, const std::string& producer);
  int find(int space);
  void unite(int a, int b);
  Space& space(int id) { return spaces_[find(id)]; }
  size_t space_count() const { return spaces_.size(); }

  // Layouts of values.
  const Layout* layout(const torch::jit::Value* v) const;
  void set_layout(const torch::jit::Value* v, Layout layout) { layouts_[v] = std::move(layout); }
  // Shape observed by the probe run (empty when unknown: values inside blocks, non-tensors).
  std::vector<int64_t> shape(const torch::jit::Value* v) const;

  void lock(const Layout& layout, const std::string& reason);
  // Locks the layout of `v` (if it has one).
  void lock_value(const torch::jit::Value* v, const std::string& reason);
  // Unites two layouts of the same structure segment by segment; false when
  // the structures differ (the caller locks).
  bool unite_layouts(const Layout& a, const Layout& b);

  void add_slice(ParamSlice slice) { slices_.push_back(std::move(slice)); }
  void add_constant_fix(ConstantFix fix) { fixes_.push_back(std::move(fix)); }
  void note_layer(const Layout& layout, const std::string& module_path);
  // Records that a layer's weight parameter is used by a graph node; a
  // weight used by more than one node is shared and locks its spaces.
  void count_weight_use(const std::string& path) { ++weight_uses_[path]; }
  bool shared_weight(const std::string& path) const {
    auto it = weight_uses_.find(path);
    return it != weight_uses_.end() && it->second > 1;
  }

  const std::vector<ParamSlice>& slices() const { return slices_; }
  const std::vector<ConstantFix>& fixes() const { return fixes_; }

 private:
  torch::jit::Module& module_;
  std::shared_ptr<torch::jit::Graph> graph_;
  ShapeMap shapes_;
  std::vector<Space> spaces_;
  std::unordered_map<const torch::jit::Value*, Layout> layouts_;
  std::vector<ParamSlice> slices_;
  std::vector<ConstantFix> fixes_;
  std::map<std::string, int> weight_uses_;
};

// Walks the graph's nodes in order, applying the rule registered for each op
// (channel_rules.h); values reaching an op without a rule, a nested block
// (other than for size queries) or a model output have their spaces locked.
void analyze_channels(ChannelGraph& graph);

}  // namespace mlopt::pruning

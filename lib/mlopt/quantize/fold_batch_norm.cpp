#include "mlopt/quantize/fold_batch_norm.h"

#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "mlopt/core/detection_match.h"
#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/core/model_io.h"
#include "mlopt/quantize/patterns.h"

namespace mlopt::quant {

namespace {

using torch::jit::Graph;
using torch::jit::Module;
using torch::jit::Node;
using torch::jit::Value;
using Path = std::vector<std::string>;

std::string dotted(const Path& path) {
  std::string s;
  for (const auto& p : path) s += (s.empty() ? "" : ".") + p;
  return s;
}

bool is_call_forward(const Node* n) {
  return n->kind() == c10::prim::CallMethod && n->s(c10::attr::name) == "forward" && n->inputs().size() == 2;
}

// The module path of `v` (a chain of GetAttr from the graph's self), or nullopt.
c10::optional<Path> module_path(Value* v, const Value* self) {
  Path path;
  while (v != self) {
    if (v->node()->kind() != c10::prim::GetAttr) return c10::nullopt;
    path.insert(path.begin(), v->node()->s(c10::attr::name));
    v = v->node()->input(0);
  }
  return path;
}

c10::optional<Module> child_at(const Module& root, const Path& path) {
  Module m = root;
  for (const auto& name : path) {
    if (!m.hasattr(name) || !m.attr(name).isModule()) return c10::nullopt;
    m = m.attr(name).toModule();
  }
  return m;
}

c10::optional<at::Tensor> tensor_attr(const Module& m, const std::string& name) {
  if (!m.hasattr(name) || !m.attr(name).isTensor()) return c10::nullopt;
  return m.attr(name).toTensor();
}

// The aten::batch_norm the module's forward calls directly (mlopt's compiled
// BatchNorm), or nullptr (PyTorch's calls it inside F.batch_norm).
Node* direct_batch_norm(const Module& bn) {
  for (auto* n : bn.get_method("forward").graph()->nodes())
    if (n->kind() == c10::aten::batch_norm) return n;
  return nullptr;
}

struct BatchNormParams {
  at::Tensor mean, var, weight, bias;
  double eps = 0;
};

// A BatchNorm in eval mode with running statistics, its parameters resolved.
c10::optional<BatchNormParams> batch_norm_params(const Module& bn) {
  auto type_name = bn.type()->name() ? bn.type()->name()->qualifiedName() : "";
  Node* call = direct_batch_norm(bn);
  if (type_name.find("BatchNorm") == std::string::npos && !call) return c10::nullopt;
  if (bn.is_training()) return c10::nullopt;
  BatchNormParams p;
  auto mean = tensor_attr(bn, "running_mean"), var = tensor_attr(bn, "running_var");
  if (!mean || !var || !mean->is_floating_point() || mean->dim() != 1 || !var->sizes().equals(mean->sizes()))
    return c10::nullopt;
  p.mean = *mean;
  p.var = *var;
  // Affine parameters: attributes by name, else what the direct call passes (None: identity).
  auto affine = [&](const char* name, size_t input, double identity) -> c10::optional<at::Tensor> {
    if (auto t = tensor_attr(bn, name)) return *t;
    if (bn.hasattr(name) && !bn.attr(name).isNone()) return c10::nullopt;
    if (call && !call->input(input)->mustBeNone()) {
      auto* src = call->input(input)->node();
      if (src->kind() != c10::prim::GetAttr) return c10::nullopt;
      auto t = tensor_attr(bn, src->s(c10::attr::name));
      if (!t) return c10::nullopt;
      return *t;
    }
    return at::full_like(p.mean, identity);
  };
  auto weight = affine("weight", 1, 1.0), bias = affine("bias", 2, 0.0);
  if (!weight || !bias) return c10::nullopt;
  p.weight = *weight;
  p.bias = *bias;
  if (bn.hasattr("eps") && bn.attr("eps").isDouble()) {
    p.eps = bn.attr("eps").toDouble();
  } else if (call) {
    auto eps = torch::jit::toIValue(call->input(7));
    if (!eps || !eps->isDouble()) return c10::nullopt;
    p.eps = eps->toDouble();
  } else {
    return c10::nullopt;
  }
  return p;
}

bool is_weight_call(const Node* n) {
  return n->kind() == c10::aten::conv1d || n->kind() == c10::aten::conv2d || n->kind() == c10::aten::conv3d ||
         n->kind() == c10::aten::linear || n->kind() == c10::aten::_convolution;
}

// Calls in the layer's own methods that pass self.weight and a literal None bias.
std::vector<Node*> bias_free_calls(const Module& layer) {
  std::vector<Node*> out;
  for (const auto& method : layer.get_methods()) {
    auto graph = method.graph();
    const Value* self = graph->inputs()[0];
    for (auto* n : graph->nodes()) {
      if (!is_weight_call(n) || n->inputs().size() < 3 || !n->input(2)->mustBeNone()) continue;
      auto* w = n->input(1)->node();
      if (w->kind() == c10::prim::GetAttr && w->input(0) == self && w->s(c10::attr::name) == "weight")
        out.push_back(n);
    }
  }
  return out;
}

enum class BiasState { kTensor, kOptional, kLiteralNone, kUnusable };

// How the folded bias can reach the layer's computation.
BiasState bias_state(const Module& layer) {
  if (tensor_attr(layer, "bias")) return BiasState::kTensor;
  const auto& type = layer.type();
  if (type->hasAttribute("bias")) {
    // PyTorch's register_parameter("bias", None): an Optional[Tensor] parameter the code reads.
    auto t = type->getAttribute("bias")->cast<c10::OptionalType>();
    bool optional_tensor = t && t->getElementType()->kind() == c10::TypeKind::TensorType;
    return optional_tensor && type->is_parameter(type->getAttributeSlot("bias")) ? BiasState::kOptional
                                                                                  : BiasState::kUnusable;
  }
  return bias_free_calls(layer).empty() ? BiasState::kUnusable : BiasState::kLiteralNone;
}

struct Candidate {
  Path layer, bn;
  Node* layer_call;
  Node* bn_call;
  bool linear = false;
  bool inlined = false;  // ops in the parent's graph, not forward calls
};

// The module path of an attribute read `self.<path>.<name>`, or nullopt.
c10::optional<Path> owner_of_attr(Value* v, const Value* self, const char* name) {
  auto* n = v->node();
  if (n->kind() != c10::prim::GetAttr || n->s(c10::attr::name) != name) return c10::nullopt;
  return module_path(n->input(0), self);
}

// A conv/linear op on a layer's own weight and bias followed by an
// aten::batch_norm on a BatchNorm's statistics, both inlined into the parent's
// graph (what channel pruning writes): the same pair as two forward calls.
// Besides the BatchNorm, only shape reads (BatchNorm's inlined training-mode size check).
bool only_feeds(Value* x, const Node* batch_norm) {
  for (const auto& use : x->uses())
    if (use.user != batch_norm && use.user->kind() != c10::aten::size && use.user->kind() != c10::aten::dim)
      return false;
  return true;
}

c10::optional<Candidate> inlined_candidate(Node* n, const Value* self) {
  if (n->kind() != c10::aten::batch_norm || n->inputs().size() < 9) return c10::nullopt;
  Value* x = n->input(0);
  Node* producer = x->node();
  if (!is_weight_call(producer) || producer->inputs().size() < 3 || !only_feeds(x, n)) return c10::nullopt;
  auto layer = owner_of_attr(producer->input(1), self, "weight");
  if (!layer || layer->empty()) return c10::nullopt;
  // The bias: the layer's own, or a literal None the fold replaces with a bias parameter.
  if (!producer->input(2)->mustBeNone() && owner_of_attr(producer->input(2), self, "bias") != layer)
    return c10::nullopt;
  auto bn = owner_of_attr(n->input(3), self, "running_mean");
  if (!bn || bn->empty() || owner_of_attr(n->input(4), self, "running_var") != bn) return c10::nullopt;
  for (size_t i : {1, 2}) {
    const char* name = i == 1 ? "weight" : "bias";
    if (!n->input(i)->mustBeNone() && owner_of_attr(n->input(i), self, name) != bn) return c10::nullopt;
  }
  return Candidate{*layer, *bn, producer, n, false, true};
}

void collect_candidates(torch::jit::Block* block, const Value* self, std::vector<Candidate>& out) {
  for (auto* n : block->nodes()) {
    for (auto* sub : n->blocks()) collect_candidates(sub, self, out);
    if (auto inlined = inlined_candidate(n, self)) out.push_back(*inlined);
    if (!is_call_forward(n)) continue;
    Value* x = n->input(1);
    Node* producer = x->node();
    if (!is_call_forward(producer) || x->uses().size() != 1) continue;
    auto bn_path = module_path(n->input(0), self), layer_path = module_path(producer->input(0), self);
    if (!bn_path || !layer_path || bn_path->empty() || layer_path->empty()) continue;
    out.push_back({*layer_path, *bn_path, producer, n});
  }
}

// How often the graph calls the module at `path` or runs an op on its weight
// inline (a layer used twice cannot take one fold).
int calls_of(torch::jit::Block* block, const Value* self, const Path& path) {
  int count = 0;
  for (auto* n : block->nodes()) {
    for (auto* sub : n->blocks()) count += calls_of(sub, self, path);
    if (n->kind() == c10::prim::CallMethod) {
      auto p = module_path(n->input(0), self);
      count += p && *p == path;
    } else if (is_weight_call(n) && n->inputs().size() > 1) {
      count += owner_of_attr(n->input(1), self, "weight") == path;
    }
  }
  return count;
}

bool pair_foldable(const Module& owner, Candidate& c, bool with_linear) {
  auto layer = child_at(owner, c.layer), bn = child_at(owner, c.bn);
  if (!layer || !bn) return false;
  const auto* pattern = pattern_of(*layer);
  auto fold = pattern ? pattern->batch_norm : BatchNormFolding::none;
  if (fold == BatchNormFolding::none || (fold == BatchNormFolding::linear && !with_linear)) return false;
  c.linear = fold == BatchNormFolding::linear;
  auto params = batch_norm_params(*bn);
  auto weight = tensor_attr(*layer, "weight");
  if (!params || !weight || weight->size(0) != params->mean.numel()) return false;
  if (c.inlined && c.layer_call->input(2)->mustBeNone())
    return !layer->type()->hasAttribute("bias") || bias_state(*layer) == BiasState::kOptional;
  return bias_state(*layer) != BiasState::kUnusable;
}

// An inlined call with a literal None bias reads the layer's bias instead
// (a parameter the class gets when it has none; zero for its other modules).
void wire_inlined_bias(Module& root, const Module& layer, Node* call) {
  auto type = layer.type();
  if (!type->hasAttribute("bias"))
    for (auto m : root.modules())
      if (m.type() == type) {
        auto w = m.attr("weight").toTensor();
        m.register_parameter("bias", at::zeros({w.size(0)}, w.options()), /*is_buffer=*/false);
      }
  auto* graph = call->owningGraph();
  torch::jit::WithInsertPoint guard(call);
  auto* bias = graph->insertGetAttr(call->input(1)->node()->input(0), "bias");
  bias->setType(type->getAttribute("bias"));
  call->replaceInput(2, bias);
}

struct FoldedValues {
  at::Tensor weight, bias;
};

FoldedValues folded_values(const Module& layer, const BatchNormParams& bn) {
  auto w = layer.attr("weight").toTensor();
  auto b = tensor_attr(layer, "bias");
  auto scale = bn.weight.to(at::kDouble) * (bn.var.to(at::kDouble) + bn.eps).rsqrt();
  std::vector<int64_t> shape(w.dim(), 1);
  shape[0] = -1;
  FoldedValues out;
  out.weight = (w.to(at::kDouble) * scale.reshape(shape)).to(w.scalar_type());
  auto bias = b ? b->to(at::kDouble) : at::zeros({w.size(0)}, at::kDouble);
  out.bias = ((bias - bn.mean.to(at::kDouble)) * scale + bn.bias.to(at::kDouble)).to(w.scalar_type());
  return out;
}

// Wires a bias parameter into every bias-free call of the layer's class, and
// gives every module of that class a zero bias (the same computation).
void add_bias_parameter(Module& root, const Module& layer) {
  auto type = layer.type();
  auto calls = bias_free_calls(layer);
  // The class gets the attribute first (GetAttr nodes are checked against it).
  for (auto m : root.modules()) {
    if (m.type() != type) continue;
    auto w = m.attr("weight").toTensor();
    m.register_parameter("bias", at::zeros({w.size(0)}, w.options()), /*is_buffer=*/false);
  }
  for (auto* call : calls) {
    auto* graph = call->owningGraph();
    torch::jit::WithInsertPoint guard(call);
    auto* bias = graph->insertGetAttr(graph->inputs()[0], "bias");
    bias->setType(c10::TensorType::get());
    call->replaceInput(2, bias);
  }
}

void reach(torch::jit::Block* block, std::set<Graph*>& live) {
  for (auto* n : block->nodes()) {
    for (auto* sub : n->blocks()) reach(sub, live);
    if (n->kind() != c10::prim::CallMethod) continue;
    auto type = n->input(0)->type()->cast<c10::ClassType>();
    auto* method = type ? type->findMethod(n->s(c10::attr::name)) : nullptr;
    if (!method) continue;
    auto* graph = torch::jit::toGraphFunction(*method).graph().get();
    if (live.insert(graph).second) reach(graph->block(), live);
  }
}

std::set<Graph*> live_graphs(const Module& root) {
  std::set<Graph*> live;
  for (const auto& method : root.get_methods()) {
    auto* graph = method.graph().get();
    if (live.insert(graph).second) reach(graph->block(), live);
  }
  return live;
}

// An inlined BatchNorm checks its input's size when training (`if bn.training:
// ... size(x) ...`, no outputs): gone with the BatchNorm, so that the layer's
// output feeds its ReLU alone and conv+ReLU still fuse into one int8 kernel.
void drop_training_checks(const Candidate& c, const Value* self) {
  std::vector<Node*> checks;
  for (const auto& use : c.layer_call->output()->uses()) {
    if (use.user == c.bn_call) continue;
    Node* owner = use.user->owningBlock()->owningNode();
    while (owner && owner->kind() != c10::prim::If) owner = owner->owningBlock()->owningNode();
    if (!owner || !owner->outputs().empty()) continue;
    if (owner_of_attr(owner->input(0), self, "training") != c.bn) continue;
    if (std::find(checks.begin(), checks.end(), owner) == checks.end()) checks.push_back(owner);
  }
  for (auto* check : checks) check->destroy();
}

BatchNormFold fold(const Module& model, bool with_linear) {
  BatchNormFold out;
  out.module = model.clone();
  out.module.eval();
  Module& root = out.module;

  // Graphs belong to classes: every module of a class shares them. Only the
  // graphs the root's methods reach count: a module whose forward its parent
  // inlined (channel pruning's output) keeps a forward nothing calls.
  auto live = live_graphs(root);
  std::vector<std::shared_ptr<Graph>> graphs;
  std::map<Graph*, std::vector<std::pair<std::string, Module>>> owners;
  for (const auto& named : root.named_modules()) {
    for (const auto& method : named.value.get_methods()) {
      auto g = method.graph();
      if (!live.count(g.get())) continue;
      if (!owners.count(g.get())) graphs.push_back(g);
      owners[g.get()].push_back({named.name, named.value});
    }
  }

  std::map<Graph*, std::vector<Candidate>> chosen;
  for (const auto& g : graphs) {
    const Value* self = g->inputs()[0];
    std::vector<Candidate> candidates;
    collect_candidates(g->block(), self, candidates);
    for (auto& c : candidates) {
      if (calls_of(g->block(), self, c.layer) != 1) continue;
      bool ok = true;
      for (const auto& [name, owner] : owners[g.get()]) ok = ok && pair_foldable(owner, c, with_linear);
      if (ok) chosen[g.get()].push_back(c);
    }
  }

  // New weights and biases, computed before anything changes.
  struct Update {
    Module layer;
    FoldedValues values;
  };
  std::vector<Update> updates;
  std::set<c10::ClassTypePtr> needs_bias;
  std::vector<Module> needs_bias_example;
  for (const auto& g : graphs) {
    for (const auto& c : chosen[g.get()]) {
      for (const auto& [name, owner] : owners[g.get()]) {
        auto layer = *child_at(owner, c.layer);
        auto bn = *child_at(owner, c.bn);
        updates.push_back({layer, folded_values(layer, *batch_norm_params(bn))});
        auto prefix = name.empty() ? "" : name + ".";
        out.folded.push_back({prefix + dotted(c.layer), prefix + dotted(c.bn)});
        if (!c.inlined && bias_state(layer) == BiasState::kLiteralNone && needs_bias.insert(layer.type()).second)
          needs_bias_example.push_back(layer);
      }
    }
  }
  for (const auto& layer : needs_bias_example) add_bias_parameter(root, layer);
  for (const auto& g : graphs)
    for (const auto& c : chosen[g.get()])
      if (c.inlined && c.layer_call->input(2)->mustBeNone())
        wire_inlined_bias(root, *child_at(owners[g.get()].front().second, c.layer), c.layer_call);
  for (auto& u : updates) {
    u.layer.setattr("weight", u.values.weight);
    u.layer.setattr("bias", u.values.bias);
  }
  // The BatchNorm calls go: their users read the layer's output.
  for (const auto& g : graphs) {
    if (chosen[g.get()].empty()) continue;
    for (const auto& c : chosen[g.get()]) {
      if (c.inlined) drop_training_checks(c, g->inputs()[0]);
      c.bn_call->output()->replaceAllUsesWith(c.layer_call->output());
      c.bn_call->destroy();
    }
    torch::jit::EliminateDeadCode(g);
  }
  return out;
}

// Keypoints ([N, K, 3]: x, y, visibility) are the argmax of a heatmap: a
// last-bit change breaks a tie between two cells and moves that keypoint by a
// cell (Keypoint R-CNN after the fold: 4.7 px of 320, 1.5% of the output's
// scale). A wrong fold moves them all, so what is checked is the share that moved.
bool keypoint_rows(const at::Tensor& t) { return t.dim() == 3 && t.size(2) == 3 && t.is_floating_point(); }

// |a - b| element by element, relative to a's scale (its largest magnitude, at least 1).
at::Tensor relative_change(const at::Tensor& a, const at::Tensor& b) {
  auto scale = std::max(1.0, a.abs().max().item<double>());
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs() / scale;
}

double max_difference(Module& a, Module& b, const std::vector<at::Tensor>& inputs, double tolerance) {
  auto x = run_module(a, inputs), y = run_module(b, inputs);
  if (x.size() != y.size()) return INFINITY;
  // A detector: matched detections, compared pair by pair. The fold's rounding can swap near-equal detections
  // at the score cut and flip non-maximum suppression where two boxes overlap by about its threshold (FCOS with
  // untrained heads: 81 of 100 pair up); a wrong fold moves every score and box, and nothing pairs.
  constexpr double kMinAgreement = 0.9;
  auto matched = align_detections(x, y, MatchCriteria::close(0.01));
  if (matched && matched->agreement < kMinAgreement) {
    log::info("quantize: the fold check's detections: {} of {} matched ({} after the fold, {} at the cut), "
              "agreement {:.3f}",
              matched->matched, matched->reference_detections, matched->got_detections, matched->at_cut,
              matched->agreement);
    return INFINITY;
  }
  std::vector<bool> keypoints(x.size(), false);
  if (matched)
    for (const auto& g : matched->groups)
      for (size_t k : g.rows) keypoints[k] = keypoint_rows(x[k]);
  constexpr double kMaxMovedKeypoints = 0.1;
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!x[i].sizes().equals(y[i].sizes())) return INFINITY;
    if (x[i].numel() == 0) continue;
    auto change = relative_change(x[i], y[i]);
    if (keypoints[i]) {  // the share of keypoints that moved
      if (change.amax(-1).gt(tolerance).to(at::kDouble).mean().item<double>() > kMaxMovedKeypoints) return INFINITY;
      continue;
    }
    worst = std::max(worst, change.max().item<double>());
  }
  return worst;
}

}  // namespace

BatchNormFold fold_batch_norms(const torch::jit::Module& model, const std::vector<at::Tensor>& check_inputs) {
  auto result = fold(model, /*with_linear=*/true);
  if (check_inputs.empty() || result.folded.empty()) return result;
  auto reference = model.clone();
  // Both copies are run once and dropped: unoptimized, since the graph executor
  // keeps each module's optimized plan (and tensors with it) for good.
  torch::jit::GraphOptimizerEnabledGuard unoptimized(false);
  // Relative to the output's scale: float32 rounding of the folded weights stays far below this.
  constexpr double kTolerance = 1e-3;
  double diff = max_difference(reference, result.module, check_inputs, kTolerance);
  if (diff <= kTolerance) return result;
  auto conv_only = fold(model, /*with_linear=*/false);
  double conv_diff = conv_only.folded.empty() ? 0 : max_difference(reference, conv_only.module, check_inputs, kTolerance);
  if (conv_diff <= kTolerance) {
    log::info("quantize: BatchNorm after linear layers left unfolded (the fold changes the output by {:.3g})", diff);
    return conv_only;
  }
  std::vector<std::string> names;
  for (const auto& f : conv_only.folded) {
    if (names.size() == 3) {
      names.push_back(fmt::format("and {} more", conv_only.folded.size() - 3));
      break;
    }
    names.push_back(f.batch_norm + " into " + f.layer);
  }
  fail("folding BatchNorm ({}) changes the float model's output by {:.3g} (relative); an mlopt bug: please report it",
       fmt::join(names, ", "), conv_diff);
}

}  // namespace mlopt::quant

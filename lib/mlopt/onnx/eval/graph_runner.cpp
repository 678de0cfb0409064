#include "mlopt/onnx/eval/graph_runner.h"

#include <set>
#include <unordered_map>
#include <unordered_set>

#include "mlopt/core/error.h"
#include "mlopt/onnx/eval/loop_budget.h"
#include "mlopt/onnx/eval/op_registry.h"
#include "mlopt/onnx/proto/tensor.h"

namespace mlopt::onnx_eval {

using onnx_proto::tensor_from_proto;
namespace {

std::string node_label(const onnx::NodeProto& n) {
  return n.name().empty() ? fmt::format("{} node (output '{}')", n.op_type(), n.output_size() ? n.output(0) : "")
                          : fmt::format("{} node '{}'", n.op_type(), n.name());
}

// Values a subgraph takes from the enclosing scope count as inputs of the
// node that owns it (for ordering).
void collect_outer_refs(const onnx::GraphProto& g, std::unordered_set<std::string>& refs) {
  std::unordered_set<std::string> local;
  for (const auto& i : g.input()) local.insert(i.name());
  for (const auto& i : g.initializer()) local.insert(i.name());
  for (const auto& n : g.node())
    for (const auto& o : n.output()) local.insert(o);
  for (const auto& n : g.node()) {
    for (const auto& i : n.input())
      if (!i.empty() && !local.count(i)) refs.insert(i);
    for (const auto& a : n.attribute()) {
      if (a.has_g()) {
        std::unordered_set<std::string> inner;
        collect_outer_refs(a.g(), inner);
        for (const auto& r : inner)
          if (!local.count(r)) refs.insert(r);
      }
    }
  }
}

std::vector<std::string> dependencies(const onnx::NodeProto& n) {
  std::unordered_set<std::string> refs;
  for (const auto& i : n.input())
    if (!i.empty()) refs.insert(i);
  for (const auto& a : n.attribute())
    if (a.has_g()) collect_outer_refs(a.g(), refs);
  return {refs.begin(), refs.end()};
}

}  // namespace

std::vector<const onnx::NodeProto*> execution_order(const onnx::GraphProto& graph, const Scope* outer,
                                                    const std::string& what) {
  std::unordered_set<std::string> available;
  for (const auto& i : graph.input()) available.insert(i.name());
  for (const auto& i : graph.initializer()) available.insert(i.name());
  std::unordered_map<std::string, size_t> producer;
  for (int i = 0; i < graph.node_size(); ++i)
    for (const auto& o : graph.node(i).output())
      if (!o.empty()) producer[o] = static_cast<size_t>(i);

  std::vector<const onnx::NodeProto*> order;
  std::vector<int> state(static_cast<size_t>(graph.node_size()), 0);  // 0 new, 1 visiting, 2 done
  // Iterative depth-first search: deep graphs must not overflow the stack.
  for (int start = 0; start < graph.node_size(); ++start) {
    if (state[start]) continue;
    std::vector<std::pair<size_t, std::vector<std::string>>> stack;
    stack.push_back({static_cast<size_t>(start), dependencies(graph.node(start))});
    state[start] = 1;
    while (!stack.empty()) {
      auto& [index, deps] = stack.back();
      if (deps.empty()) {
        state[index] = 2;
        order.push_back(&graph.node(static_cast<int>(index)));
        stack.pop_back();
        continue;
      }
      std::string dep = deps.back();
      deps.pop_back();
      if (available.count(dep)) continue;
      auto it = producer.find(dep);
      if (it == producer.end()) {
        if (outer && outer->find(dep)) continue;
        fail("{}: {} uses '{}', which no node, graph input or initializer produces", what,
             node_label(graph.node(static_cast<int>(index))), dep);
      }
      if (state[it->second] == 2) continue;
      if (state[it->second] == 1)
        fail("{}: the graph has a cycle through {}", what, node_label(graph.node(static_cast<int>(it->second))));
      state[it->second] = 1;
      stack.push_back({it->second, dependencies(graph.node(static_cast<int>(it->second)))});
    }
  }
  return order;
}

std::vector<at::Tensor> run_graph(const onnx::GraphProto& graph, const std::vector<at::Tensor>& inputs,
                                  const Scope* parent, int64_t opset, const std::string& what) {
  if (!parent) reset_loop_iterations();  // the budget counts one run of the main graph
  Scope scope(parent);
  for (const auto& init : graph.initializer())
    scope.set(init.name(), tensor_from_proto(init, fmt::format("{}: initializer '{}'", what, init.name())));
  std::set<std::string> initializer_names;
  for (const auto& init : graph.initializer()) initializer_names.insert(init.name());
  size_t required = 0;
  for (const auto& i : graph.input())
    if (!initializer_names.count(i.name())) ++required;
  if (inputs.size() < required || inputs.size() > static_cast<size_t>(graph.input_size()))
    fail("{}: the graph takes {} input(s), got {}", what, required, inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) scope.set(graph.input(static_cast<int>(i)).name(), inputs[i]);

  for (const onnx::NodeProto* node : execution_order(graph, parent, what)) {
    if (!node->domain().empty() && node->domain() != "ai.onnx")
      fail("{}: {} is in domain '{}'; the evaluator runs the standard ONNX domain only", what, node_label(*node),
           node->domain());
    const OpKernel* kernel = find_op(node->op_type());
    if (!kernel) fail("{}: op {} is not supported by the ONNX evaluator", what, node_label(*node));
    OpContext ctx{*node, {}, opset, &scope};
    for (const auto& name : node->input()) {
      if (name.empty()) {
        ctx.inputs.emplace_back();
        continue;
      }
      const at::Tensor* value = scope.find(name);
      if (!value) fail("{}: {} input '{}' has no value", what, node_label(*node), name);
      ctx.inputs.push_back(*value);
    }
    std::vector<at::Tensor> outputs;
    std::string context = fmt::format("{}: {}", what, node_label(*node));
    try {
      outputs = (*kernel)(ctx);
    } catch (const Error& e) {
      // Errors from nested graphs already name their node; keep them whole.
      if (std::string(e.what()).rfind(what, 0) == 0) throw;
      throw Error(fmt::format("{}: {}", context, e.what()), e.exit_code(), e.detail());
    } catch (...) {
      rethrow_as_error(context);
    }
    for (int o = 0; o < node->output_size(); ++o) {
      if (node->output(o).empty()) continue;
      if (static_cast<size_t>(o) >= outputs.size() || !outputs[static_cast<size_t>(o)].defined()) {
        // Optional outputs the kernel does not compute are fine unless used.
        continue;
      }
      scope.set(node->output(o), outputs[static_cast<size_t>(o)]);
    }
  }
  std::vector<at::Tensor> results;
  for (const auto& out : graph.output()) {
    const at::Tensor* value = scope.find(out.name());
    if (!value) fail("{}: graph output '{}' was never computed", what, out.name());
    results.push_back(*value);
  }
  return results;
}

}  // namespace mlopt::onnx_eval

// ONNX quantization rewrites (see onnx_rewrite.h). Each works on a copy of the
// float model: nodes are re-emitted in order, with new nodes placed right
// after the producer of the value they read, so the graph stays sorted.
#include "mlopt/quantize/onnx_rewrite.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>
#include <torch/script.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>

#include "mlopt/core/error.h"
#include "mlopt/onnx/proto/graph_edit.h"
#include "mlopt/onnx/proto/node.h"
#include "mlopt/onnx/proto/tensor.h"

namespace mlopt::quant {

namespace {

using TP = onnx::TensorProto;
using onnx_proto::Attr;
using onnx_proto::consumers_of;
using onnx_proto::make_node;
using onnx_proto::remove_unused_initializers;
using onnx_proto::tensor_from_proto;
using onnx_proto::tensor_to_proto;
using Names = onnx_proto::FreshNames;

// Broadcast shape of per-channel `scales` against a tensor of rank `rank` along `axis`.
at::Tensor along(const at::Tensor& scales, int64_t axis, int64_t rank) {
  if (scales.numel() == 1) return scales.reshape({});
  std::vector<int64_t> shape(static_cast<size_t>(rank), 1);
  shape[static_cast<size_t>(axis)] = -1;
  return scales.reshape(shape);
}

// uint8 asymmetric parameters covering [low, high] and zero.
ActivationQ activation_q(const Range& r) {
  double lo = std::min(r.low, 0.0), hi = std::max(r.high, 0.0);
  ActivationQ q;
  double scale = (hi - lo) / 255.0;
  if (!(scale > 1e-12)) scale = 1.0;
  q.scale = static_cast<float>(scale);
  q.zero_point = static_cast<uint8_t>(std::clamp(std::round(-lo / scale), 0.0, 255.0));
  return q;
}

TP scalar_proto(const at::Tensor& t, const std::string& name) { return tensor_to_proto(t.reshape({}), name); }

}  // namespace

void qdq_weight_and_bias(QdqContext& c, const OnnxLayer& l) {
  const auto& n = c.node;
  auto w = tensor_from_proto(*c.inits.at(n.input(l.weight.weight_input)), n.input(l.weight.weight_input));
  int64_t axis = l.weight.channel_axis;
  auto scales = symmetric_int8_scales(w, c.per_channel, axis);
  auto wq = (w / along(scales, axis, w.dim())).round().clamp(-127, 127).to(at::kChar);
  std::string base = n.input(l.weight.weight_input);
  auto wq_name = c.names.fresh(base + "_quantized"), ws_name = c.names.fresh(base + "_scale"),
       wz_name = c.names.fresh(base + "_zero_point"), wdq = c.names.fresh(base + "_dequantized");
  bool per_channel = scales.numel() > 1 || c.per_channel;
  *c.out.add_initializer() = tensor_to_proto(wq, wq_name);
  *c.out.add_initializer() = per_channel ? tensor_to_proto(scales.to(at::kFloat), ws_name) : scalar_proto(scales, ws_name);
  auto zeros = at::zeros_like(scales, at::kChar);
  *c.out.add_initializer() = per_channel ? tensor_to_proto(zeros, wz_name) : scalar_proto(zeros, wz_name);
  auto dq = make_node("DequantizeLinear", {wq_name, ws_name, wz_name}, {wdq}, wdq);
  if (per_channel) onnx_proto::add_attribute(dq, {"axis", axis});
  c.before.push_back(dq);
  std::string bdq;
  if (l.weight.bias_input >= 0) {
    // int32 at input scale x weight scale.
    const auto& bname = n.input(l.weight.bias_input);
    auto b = tensor_from_proto(*c.inits.at(bname), bname).to(at::kDouble);
    auto bscale = (scales.to(at::kDouble) * c.activations.at(n.input(0)).scale).to(at::kFloat);
    auto bq = (b / bscale.to(at::kDouble)).round().clamp(-2147483647.0, 2147483647.0).to(at::kInt);
    auto bq_name = c.names.fresh(bname + "_quantized"), bs_name = c.names.fresh(bname + "_scale");
    bdq = c.names.fresh(bname + "_dequantized");
    *c.out.add_initializer() = tensor_to_proto(bq, bq_name);
    *c.out.add_initializer() = per_channel ? tensor_to_proto(bscale, bs_name) : scalar_proto(bscale, bs_name);
    auto bnode = make_node("DequantizeLinear", {bq_name, bs_name}, {bdq}, bdq);
    if (per_channel) onnx_proto::add_attribute(bnode, {"axis", 0});
    c.before.push_back(bnode);
  }
  c.node.set_input(l.weight.weight_input, wdq);
  if (!bdq.empty()) c.node.set_input(l.weight.bias_input, bdq);
}

void matmul_integer(DynamicContext& c, const OnnxLayer& l) {
  const auto& n = c.graph.node(l.node_index);
  const auto& x = n.input(0);
  if (!c.quantized_inputs.count(x)) {
    std::array<std::string, 3> q{c.names.fresh(x + "_quantized"), c.names.fresh(x + "_scale"),
                                 c.names.fresh(x + "_zero_point")};
    *c.out.add_node() = make_node("DynamicQuantizeLinear", {x}, {q[0], q[1], q[2]}, q[0]);
    c.quantized_inputs[x] = q;
  }
  const auto& q = c.quantized_inputs[x];
  // MatMulInteger wants B as [K, N]: a transposed Gemm weight is stored transposed.
  const auto& wname = n.input(l.weight.weight_input);
  auto w = tensor_from_proto(*c.inits.at(wname), wname);
  if (l.weight.transposed) w = w.t().contiguous();
  auto scales = symmetric_int8_scales(w, per_channel_weights(w.t(), c.granularity), 1);  // [K, N]: channels along dim 1
  auto wq = (w / along(scales, 1, 2)).round().clamp(-127, 127).to(at::kChar);
  auto wq_name = c.names.fresh(wname + "_quantized"), ws_name = c.names.fresh(wname + "_scale"),
       wz_name = c.names.fresh(wname + "_zero_point");
  *c.out.add_initializer() = tensor_to_proto(wq, wq_name);
  *c.out.add_initializer() = scales.numel() > 1 ? tensor_to_proto(scales.to(at::kFloat), ws_name)
                                                : scalar_proto(scales.to(at::kFloat), ws_name);
  *c.out.add_initializer() = scalar_proto(torch::zeros({}, at::kChar), wz_name);
  const auto& y = n.output(0);
  auto acc = c.names.fresh(y + "_int32"), accf = c.names.fresh(y + "_int32_float"), scale = c.names.fresh(y + "_scale");
  *c.out.add_node() = make_node("MatMulInteger", {q[0], wq_name, q[2], wz_name}, {acc}, acc);
  *c.out.add_node() = make_node("Cast", {acc}, {accf}, accf, {{"to", int64_t{TP::FLOAT}}});
  *c.out.add_node() = make_node("Mul", {q[1], ws_name}, {scale}, scale);
  if (l.weight.bias_input >= 0) {
    auto scaled = c.names.fresh(y + "_scaled");
    *c.out.add_node() = make_node("Mul", {accf, scale}, {scaled}, scaled);
    *c.out.add_node() = make_node("Add", {scaled, n.input(l.weight.bias_input)}, {y}, y + "_bias");
  } else {
    *c.out.add_node() = make_node("Mul", {accf, scale}, {y}, y + "_rescale");
  }
}

void gather_rows_int8(DynamicContext& c, const OnnxLayer& l) {
  const auto& n = c.graph.node(l.node_index);
  const auto& tname = n.input(l.weight.weight_input);
  auto table = tensor_from_proto(*c.inits.at(tname), tname).to(at::kFloat);
  // Per row, whatever --per-channel says: one lookup reads one row, and rows differ in range.
  auto scales = (table.abs().amax({1}, /*keepdim=*/true) / 127.0).clamp_min(1e-8);
  auto q = (table / scales).round().clamp(-127, 127).to(at::kChar);
  auto q_name = c.names.fresh(tname + "_quantized"), s_name = c.names.fresh(tname + "_row_scale");
  *c.out.add_initializer() = tensor_to_proto(q, q_name);
  *c.out.add_initializer() = tensor_to_proto(scales, s_name);  // [rows, 1]: gathered, it broadcasts over the row
  const auto& y = n.output(0);
  const auto& ids = n.input(1);
  auto rows = c.names.fresh(y + "_int8"), rows_f = c.names.fresh(y + "_int8_float"),
       row_scales = c.names.fresh(y + "_row_scale");
  *c.out.add_node() = make_node("Gather", {q_name, ids}, {rows}, rows, {{"axis", int64_t{0}}});
  *c.out.add_node() = make_node("Gather", {s_name, ids}, {row_scales}, row_scales, {{"axis", int64_t{0}}});
  *c.out.add_node() = make_node("Cast", {rows}, {rows_f}, rows_f, {{"to", int64_t{TP::FLOAT}}});
  *c.out.add_node() = make_node("Mul", {rows_f, row_scales}, {y}, y + "_rescale");
}

std::vector<OnnxLayer> layers_to_quantize(const std::vector<OnnxLayer>& layers, const std::string& mode,
                                          const std::set<std::string>& float_layers) {
  std::vector<OnnxLayer> out;
  for (const auto& l : layers) {
    bool supported = mode == "static" ? l.pattern->static_rewrite != nullptr : l.pattern->dynamic_rewrite != nullptr;
    if (supported && l.why_not.empty() && !float_layers.count(l.name)) out.push_back(l);
  }
  return out;
}

namespace {

// The value a layer's output is quantized at: after its Relu when the Relu is
// the only reader (ONNX Runtime then folds the Relu into the zero point), or
// "" when the output is a graph output (it stays float for the caller).
std::string quantized_output(const onnx::GraphProto& g, const OnnxLayer& l,
                             const std::map<std::string, std::vector<int>>& consumers, const std::set<std::string>& outs) {
  std::string y = g.node(l.node_index).output(0);
  if (outs.count(y)) return "";
  auto it = consumers.find(y);
  if (it != consumers.end() && it->second.size() == 1 && g.node(it->second[0]).op_type() == "Relu") {
    std::string r = g.node(it->second[0]).output(0);
    return outs.count(r) ? "" : r;
  }
  return y;
}

}  // namespace

std::vector<std::string> qdq_activations(const onnx::ModelProto& model, const std::vector<OnnxLayer>& layers) {
  const auto& g = model.graph();
  auto consumers = consumers_of(g);
  auto outs = onnx_proto::graph_output_names(g);
  std::vector<std::string> values;
  auto add = [&](const std::string& v) {
    if (!v.empty() && std::find(values.begin(), values.end(), v) == values.end()) values.push_back(v);
  };
  for (const auto& l : layers) {
    add(g.node(l.node_index).input(0));
    add(quantized_output(g, l, consumers, outs));
  }
  return values;
}

onnx::ModelProto quantize_qdq(const onnx::ModelProto& model, const std::vector<OnnxLayer>& layers, const QdqPlan& plan) {
  onnx::ModelProto out = model;
  const auto& g = model.graph();
  auto* og = out.mutable_graph();
  Names names(g);
  auto inits = initializers_of(g);
  auto values = qdq_activations(model, layers);
  std::set<std::string> quantized(values.begin(), values.end());

  // Activation QDQ: value -> its dequantized name, and the nodes that make it.
  std::map<std::string, std::string> dequantized;
  std::map<std::string, std::vector<onnx::NodeProto>> qdq_nodes;
  std::map<std::string, ActivationQ> qparams;
  for (const auto& v : values) {
    auto r = plan.ranges.find(v);
    if (r == plan.ranges.end()) fail("static int8: no calibrated range for activation '{}'", v);
    auto q = activation_q(r->second);
    qparams[v] = q;
    auto scale = names.fresh(v + "_scale"), zp = names.fresh(v + "_zero_point");
    *og->add_initializer() = scalar_proto(torch::scalar_tensor(q.scale), scale);
    *og->add_initializer() = scalar_proto(torch::scalar_tensor(static_cast<int64_t>(q.zero_point)).to(at::kByte), zp);
    auto qv = names.fresh(v + "_quantized"), dq = names.fresh(v + "_dequantized");
    qdq_nodes[v] = {make_node("QuantizeLinear", {v, scale, zp}, {qv}, qv),
                    make_node("DequantizeLinear", {qv, scale, zp}, {dq}, dq)};
    dequantized[v] = dq;
  }

  // Each layer's parameters, by its pattern's rewrite: the DQ nodes placed
  // before it and the node rewired to read them.
  std::map<int, std::vector<onnx::NodeProto>> before;
  std::map<int, onnx::NodeProto> rewired;
  for (const auto& l : layers) {
    QdqContext c{g, *og, names, inits, plan.per_channel, qparams, {}, g.node(l.node_index)};
    l.pattern->static_rewrite(c, l);
    before[l.node_index] = std::move(c.before);
    rewired[l.node_index] = std::move(c.node);
  }

  // Re-emit: graph-input QDQ first, then each node (its parameter DQs before
  // it, activation QDQs of its outputs after it), readers rewired to DQ outputs.
  og->clear_node();
  for (const auto& in : g.input())
    if (quantized.count(in.name()))
      for (const auto& q : qdq_nodes[in.name()]) *og->add_node() = q;
  for (int i = 0; i < g.node_size(); ++i) {
    auto r = rewired.find(i);
    onnx::NodeProto n = r != rewired.end() ? r->second : g.node(i);
    for (const auto& q : before[i]) *og->add_node() = q;
    for (int k = 0; k < n.input_size(); ++k) {
      auto it = dequantized.find(n.input(k));
      if (it != dequantized.end()) n.set_input(k, it->second);
    }
    *og->add_node() = n;
    for (const auto& o : n.output())
      if (quantized.count(o))
        for (const auto& q : qdq_nodes[o]) *og->add_node() = q;
  }
  remove_unused_initializers(*og);
  return out;
}

onnx::ModelProto quantize_dynamic_onnx(const onnx::ModelProto& model, const std::vector<OnnxLayer>& layers,
                                       Granularity granularity) {
  onnx::ModelProto out = model;
  const auto& g = model.graph();
  auto* og = out.mutable_graph();
  Names names(g);
  auto inits = initializers_of(g);
  std::map<int, const OnnxLayer*> layer_at;
  for (const auto& l : layers) layer_at[l.node_index] = &l;
  DynamicContext c{g, *og, names, inits, granularity, {}};
  og->clear_node();
  for (int i = 0; i < g.node_size(); ++i) {
    auto it = layer_at.find(i);
    if (it == layer_at.end()) *og->add_node() = g.node(i);
    else it->second->pattern->dynamic_rewrite(c, *it->second);
  }
  remove_unused_initializers(*og);
  return out;
}

namespace {

// Inputs that ONNX requires in float32 whatever the compute type (Resize's scales).
bool must_stay_float(const onnx::NodeProto& n, int input) {
  return n.op_type() == "Resize" && input == 2;
}

TP to_half(const TP& t) {
  auto v = tensor_from_proto(t, t.name());
  return tensor_to_proto(v.to(at::kHalf), t.name());
}

// Float32 element types in node attributes (Cast targets, constants) -> float16.
void halve_attributes(onnx::GraphProto& g, const std::set<std::string>& keep) {
  for (auto& n : *g.mutable_node()) {
    bool kept = false;
    for (const auto& o : n.output()) kept |= keep.count(o) > 0;
    for (auto& a : *n.mutable_attribute()) {
      if (a.has_g()) halve_attributes(*a.mutable_g(), keep);
      if (kept) continue;
      if ((n.op_type() == "Cast" && a.name() == "to") || (n.op_type() == "EyeLike" && a.name() == "dtype") ||
          (n.op_type().rfind("Random", 0) == 0 && a.name() == "dtype")) {
        if (a.i() == TP::FLOAT) a.set_i(TP::FLOAT16);
      } else if (a.has_t() && a.t().data_type() == TP::FLOAT) {
        *a.mutable_t() = to_half(a.t());
      }
    }
  }
}

}  // namespace

onnx::ModelProto convert_fp16(const onnx::ModelProto& model) {
  onnx::ModelProto out = model;
  auto* g = out.mutable_graph();
  Names names(model.graph());
  // Values that must stay float32 (and the constants producing them).
  std::set<std::string> keep;
  for (const auto& n : g->node())
    for (int k = 0; k < n.input_size(); ++k)
      if (must_stay_float(n, k)) keep.insert(n.input(k));
  for (auto& t : *g->mutable_initializer())
    if (t.data_type() == TP::FLOAT && !keep.count(t.name())) t = to_half(t);
  halve_attributes(*g, keep);

  // Casts at the boundary: float32 in and out for the caller.
  std::vector<onnx::NodeProto> head, tail;
  std::set<std::string> inits;
  for (const auto& t : g->initializer()) inits.insert(t.name());
  for (const auto& in : g->input()) {
    if (inits.count(in.name()) || in.type().tensor_type().elem_type() != TP::FLOAT) continue;
    auto half = names.fresh(in.name() + "_fp16");
    onnx_proto::rename_uses(*g, in.name(), half);
    head.push_back(make_node("Cast", {in.name()}, {half}, half, {{"to", int64_t{TP::FLOAT16}}}));
  }
  for (const auto& o : g->output()) {
    if (o.type().tensor_type().elem_type() != TP::FLOAT) continue;
    auto half = names.fresh(o.name() + "_fp16");
    onnx_proto::rename_uses(*g, o.name(), half);
    for (auto& n : *g->mutable_node())
      for (int k = 0; k < n.output_size(); ++k)
        if (n.output(k) == o.name()) n.set_output(k, half);
    tail.push_back(make_node("Cast", {half}, {o.name()}, o.name() + "_to_float", {{"to", int64_t{TP::FLOAT}}}));
  }
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (auto& n : head) *nodes.Add() = n;
  for (const auto& n : g->node()) *nodes.Add() = n;
  for (auto& n : tail) *nodes.Add() = n;
  g->mutable_node()->Swap(&nodes);
  // Intermediate types changed: let shape inference recompute them.
  g->clear_value_info();
  return out;
}

onnx::ModelProto round_weights_fp16(const onnx::ModelProto& model) {
  onnx::ModelProto out = model;
  for (auto& t : *out.mutable_graph()->mutable_initializer())
    if (t.data_type() == TP::FLOAT)
      t = tensor_to_proto(tensor_from_proto(t, t.name()).to(at::kHalf).to(at::kFloat), t.name());
  return out;
}

void check_onnx(const onnx::ModelProto& model, const std::string& what) {
  try {
    onnx::checker::check_model(model);
    onnx::ModelProto copy = model;
    onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*error_mode=*/1));
  } catch (const std::exception& e) {
    std::string text = e.what();
    throw Error(fmt::format("{} fails the ONNX checker: {}", what, text.substr(0, text.find('\n'))), kExitError, text);
  }
}

}  // namespace mlopt::quant

#include "mlopt/onnx/export.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <sys/resource.h>
#include <torch/script.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <functional>
#include <set>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/core/version.h"
#include "mlopt/onnx/converter_driver.h"
#include "mlopt/onnx/example_probes.h"
#include "mlopt/onnx/module_state.h"
#include "mlopt/onnx/lowering.h"
#include "mlopt/onnx/proto/fold_output_identities.h"
#include "mlopt/onnx/proto/graph_edit.h"
#include "mlopt/onnx/proto/model_file.h"

namespace mlopt {

using namespace onnx_export;

namespace {

long minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// `--verbose` timing of the export's phases, one line per phase. Page faults
// are counted too: on a VM each first touch of a 4 KB page costs microseconds,
// so every copy of the weights shows up there (and in sys time) first.
class PhaseClock {
 public:
  void lap(const char* phase) {
    auto now = std::chrono::steady_clock::now();
    std::clock_t cpu = std::clock();
    long faults = minor_page_faults();
    log::debug("export-onnx: {:<16} {:8.1f} ms wall {:8.1f} ms cpu {:7d} page faults", phase,
               std::chrono::duration<double, std::milli>(now - last_).count(),
               1000.0 * static_cast<double>(cpu - last_cpu_) / CLOCKS_PER_SEC, faults - last_faults_);
    last_ = now;
    last_cpu_ = cpu;
    last_faults_ = faults;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  std::clock_t last_cpu_ = std::clock();
  long last_faults_ = minor_page_faults();
};

// One model output: a tensor (or number) with its default name.
struct NamedOutput {
  std::string name;
  ValPtr value;
};

std::string key_name(const c10::IValue& key) {
  if (key.isString()) return key.toStringRef();
  if (key.isInt()) return std::to_string(key.toInt());
  if (key.isBool()) return key.toBool() ? "True" : "False";
  if (key.isDouble()) return fmt::format("{}", key.toDouble());
  fail("a model output is a dict with keys of type {} (expected str, int, float or bool)", key.tagKind());
}

std::string child_name(const std::string& prefix, const std::string& part) {
  return prefix.empty() ? part : prefix + "." + part;
}

// Flattens a returned value in the order LibTorch's flatten_outputs does
// (depth first, dicts in insertion order, None left out), naming each leaf by
// its path: the graph's i-th value is `output` (i = 0) or `output_i`, a dict
// at the top names its values by their keys, and below that dict keys and
// list/tuple positions are appended with '.': `out`, `aux`, `output.0`,
// `output_1.boxes`.
void flatten_vals(const ValPtr& v, const std::string& prefix, bool top, std::vector<NamedOutput>& out) {
  auto item_name = [&](size_t i) {
    if (!top) return child_name(prefix, std::to_string(i));
    return i == 0 ? std::string("output") : fmt::format("output_{}", i);
  };
  if (v->is_list() && v->dict) {
    for (size_t i = 0; i < v->items.size(); ++i) flatten_vals(v->items[i], child_name(prefix, key_name(v->keys[i])), false, out);
  } else if (v->is_list()) {
    for (size_t i = 0; i < v->items.size(); ++i) flatten_vals(v->items[i], item_name(i), false, out);
  } else if (v->is_constant() && v->constant.isGenericDict()) {
    for (const auto& kv : v->constant.toGenericDict())
      flatten_vals(Val::of_constant(kv.value()), child_name(prefix, key_name(kv.key())), false, out);
  } else if (v->is_constant() && (v->constant.isTuple() || v->constant.isList())) {
    std::vector<c10::IValue> items = v->constant.isTuple() ? v->constant.toTupleRef().elements().vec()
                                                           : v->constant.toListRef().vec();
    for (size_t i = 0; i < items.size(); ++i) flatten_vals(Val::of_constant(items[i]), item_name(i), false, out);
  } else if (v->is_constant() && v->constant.isNone()) {
    // None outputs are left out, as LibTorch's callers see them.
  } else {
    out.push_back({prefix.empty() ? "output" : prefix, v});
  }
}

void set_shape(onnx::ValueInfoProto* vi, c10::ScalarType type, const std::vector<int64_t>& sizes,
               const std::vector<std::string>& dim_names) {
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx_dtype(type));
  auto* shape = tt->mutable_shape();
  for (size_t d = 0; d < sizes.size(); ++d) {
    auto* dim = shape->add_dim();
    if (!dim_names[d].empty()) dim->set_dim_param(dim_names[d]);
    else dim->set_dim_value(sizes[d]);
  }
}

std::string list_unsupported(const std::map<std::string, std::vector<std::string>>& ops) {
  std::string text;
  for (auto& [kind, locs] : ops) {
    std::set<std::string> where(locs.begin(), locs.end());
    where.erase("");
    std::string places;
    for (auto& w : where) places += (places.empty() ? "" : ", ") + w;
    text += fmt::format("{}{} x{}{}", text.empty() ? "" : "; ", kind, locs.size(), places.empty() ? "" : " at " + places);
  }
  return text;
}

// A copy for shape inference without the bytes of large floating-point
// initializers (weights): inference reads their type and dims, never their
// values (ops read only small integer inputs such as shapes), and the copy is
// then a few kilobytes instead of the whole model.
// (The bytes are moved out and back, not copied: `model` is unchanged after.)
onnx::ModelProto copy_without_weight_bytes(onnx::ModelProto& model) {
  auto* inits = model.mutable_graph()->mutable_initializer();
  std::vector<std::pair<int, std::string>> held;
  for (int k = 0; k < inits->size(); ++k) {
    auto* t = inits->Mutable(k);
    bool weight = t->data_type() == onnx::TensorProto::FLOAT || t->data_type() == onnx::TensorProto::DOUBLE ||
                  t->data_type() == onnx::TensorProto::FLOAT16 || t->data_type() == onnx::TensorProto::BFLOAT16;
    if (!weight || t->raw_data().size() < 4096) continue;
    held.emplace_back(k, std::string());
    held.back().second.swap(*t->mutable_raw_data());
  }
  onnx::ModelProto copy = model;
  for (auto& [k, bytes] : held) inits->Mutable(k)->mutable_raw_data()->swap(bytes);
  return copy;
}

// onnx::checker (full) plus strict shape inference, on a copy.
void check_model(onnx::ModelProto& model, PhaseClock& clock) {
  try {
    onnx::checker::check_model(model);
    clock.lap("checker");
    onnx::ModelProto copy = copy_without_weight_bytes(model);
    onnx::shape_inference::InferShapes(copy, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(/*check_type=*/true, /*error_mode=*/1));
    clock.lap("shape inference");
  } catch (const std::exception& e) {
    throw Error("exported graph fails the ONNX checker: " + first_line(e.what()), kExitError, e.what());
  }
}

}  // namespace

onnx::ModelProto export_module(torch::jit::Module& module, const std::vector<InputSpec>& specs,
                               const ModuleExportOptions& options) {
  if (options.opset < kMinOpset || options.opset > kMaxOpset)
    fail_usage("--opset {}: expected {}..{}", options.opset, kMinOpset, kMaxOpset);
  PhaseClock clock;
  auto graph = lower_for_export(module);
  clock.lap("lowering");
  size_t n_args = graph->inputs().size() - 1;
  if (specs.size() > n_args) fail("the model's forward takes {} inputs, but {} input specs were given", n_args, specs.size());
  auto schema = module.get_method("forward").function().getSchema();
  for (size_t i = specs.size(); i < n_args; ++i)
    if (!schema.arguments()[i + 1].default_value())
      fail("the model's forward takes {} inputs, but {} input specs were given (argument '{}' has no default)", n_args,
           specs.size(), schema.arguments()[i + 1].name());

  torch::NoGradGuard no_grad;
  // Probe: run at the example sizes, and at other sizes when some dims are dynamic.
  ProbeRequest request;
  request.specs = &specs;
  request.self = module._ivalue();
  for (size_t i = specs.size(); i < n_args; ++i) request.defaults.push_back(*schema.arguments()[i + 1].default_value());
  request.allow_meta = options.probe_on_meta;
  request.lap = [&](const char* phase) { clock.lap(phase); };
  ProbeRuns probes = run_probes(*graph, request);
  warn_about_module_state(attributes_read_before_written(module, *graph), probes.module_writes);
  if (!probes.meta_failure.empty())
    log::debug("export-onnx: probed on real tensors (meta tensors failed: {})", probes.meta_failure);
  const ShapeInfo& shapes = probes.shapes;
  const auto& probe_outputs = probes.outputs;
  const auto& probe_specs = probes.input_specs;
  const auto& defaults = request.defaults;

  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("mlopt");
  model.set_producer_version(options.producer_version.empty() ? mlopt_version() : options.producer_version);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(options.opset);
  auto* g = model.mutable_graph();
  g->set_name("mlopt_graph");
  GraphBuilder builder(g);
  Converter conv(builder, shapes, options.opset);

  // `self`: freezing folds every attribute forward only reads; what is left is
  // read from the module as it is now (ops/object.cpp).
  conv.set(graph->inputs()[0], Val::of_constant(c10::IValue(module._ivalue())));
  std::vector<std::string> spec_texts;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& s = specs[i];
    auto* vi = g->add_input();
    vi->set_name(s.name);
    std::vector<std::string> names;
    for (auto& d : s.dims) names.push_back(d.name);
    auto type = scalar_type_of(s.dtype);
    set_shape(vi, type, s.shape(), names);
    conv.set(graph->inputs()[i + 1], Val::of_tensor(s.name, type, static_cast<int64_t>(s.dims.size())));
    spec_texts.push_back(s.to_string());
  }
  for (size_t i = specs.size(); i < n_args; ++i) conv.set(graph->inputs()[i + 1], Val::of_constant(defaults[i - specs.size()]));

  with_context("converting the graph", [&] { conv.convert_block(graph->block()); });
  if (!conv.unsupported().empty())
    fail("unsupported ops: {}", list_unsupported(conv.unsupported()));
  clock.lap("conversion");

  // Outputs, named from the options, with symbolic dims where they changed between probes.
  std::vector<NamedOutput> outs;
  if (graph->outputs().size() == 1) {
    flatten_vals(conv.get(graph->outputs()[0]), "", true, outs);
  } else {
    std::vector<ValPtr> values;
    for (auto* v : graph->outputs()) values.push_back(conv.get(v));
    flatten_vals(Val::of_list(values, true), "", true, outs);
  }
  if (outs.size() != probe_outputs[0].size())
    fail("internal: the model returns {} tensors, but {} outputs were converted", probe_outputs[0].size(), outs.size());
  if (!options.output_names.empty() && options.output_names.size() != outs.size())
    fail("--output-names gives {} names, but the model has {} outputs", options.output_names.size(), outs.size());
  std::set<std::string> taken;
  for (auto& i : g->input()) taken.insert(i.name());
  for (size_t k = 0; k < outs.size(); ++k) {
    std::string final_name = options.output_names.empty() ? outs[k].name : options.output_names[k];
    if (taken.count(final_name))
      fail("output name '{}' is already an input or output name (name the outputs with --output-names)", final_name);
    taken.insert(final_name);
    auto v = outs[k].value;
    if (v->is_constant() && !v->constant.isTensor() && !v->constant.isInt() && !v->constant.isDouble() && !v->constant.isBool())
      fail("output {} is not a tensor (a {})", k, v->constant.tagKind());
    // Rename the producing node's output, or pass the value through an Identity.
    std::string name = builder.add1("Identity", {Context(conv, graph->return_node()).materialize(v)});
    onnx_proto::rename_value(*g, name, final_name);
    const at::Tensor& t1 = probe_outputs[0][k];
    std::vector<std::string> dim_names(t1.dim());
    if (probe_outputs.size() > 1) {
      const at::Tensor& t2 = probe_outputs[1][k];
      for (int64_t d = 0; d < t1.dim(); ++d) {
        if (t2.dim() != t1.dim() || t1.size(d) == t2.size(d)) continue;
        // The input dim that changed the same way, else a fresh name.
        for (size_t s = 0; s < specs.size() && dim_names[d].empty(); ++s)
          for (size_t j = 0; j < specs[s].dims.size(); ++j)
            if (specs[s].dims[j].dynamic() && specs[s].dims[j].size == t1.size(d) &&
                probe_specs[1][s].dims[j].size == t2.size(d)) {
              dim_names[d] = specs[s].dims[j].name;
              break;
            }
        if (dim_names[d].empty()) dim_names[d] = fmt::format("{}_dim{}", final_name, d);
      }
    }
    auto* output_info = g->add_output();
    output_info->set_name(final_name);
    if (probe_outputs.size() > 1 && probe_outputs[1][k].dim() != t1.dim()) {
      // Its rank follows the input sizes (squeeze of a dynamic dim): every dim symbolic.
      for (int64_t d = 0; d < t1.dim(); ++d) dim_names[d] = fmt::format("{}_dim{}", final_name, d);
    }
    set_shape(output_info, t1.scalar_type(), t1.sizes().vec(), dim_names);
  }
  // Output Identities fold into their producers, then dead nodes and unused initializers go.
  onnx_proto::fold_output_identities(*g);
  onnx_proto::remove_dead_nodes(*g);
  onnx_proto::remove_unused_initializers(*g);
  auto* meta = model.add_metadata_props();
  meta->set_key("mlopt.input_spec");
  std::string joined;
  for (auto& t : spec_texts) joined += (joined.empty() ? "" : " ") + t;
  meta->set_value(joined);
  clock.lap("outputs, cleanup");
  check_model(model, clock);
  return model;
}

void summarize_model(const onnx::ModelProto& model, ExportResult& result) {
  std::function<void(const onnx::GraphProto&)> count = [&](const onnx::GraphProto& g) {
    for (const auto& n : g.node()) {
      result.ops[n.op_type()]++;
      result.node_count++;
      for (const auto& a : n.attribute())
        if (a.has_g()) count(a.g());
    }
  };
  count(model.graph());
  result.opset = static_cast<int>(model.opset_import(0).version());
  result.initializer_count = model.graph().initializer_size();
  std::set<std::string> dims;
  for (const auto* list : {&model.graph().input(), &model.graph().output()})
    for (const auto& vi : *list) {
      for (const auto& d : vi.type().tensor_type().shape().dim())
        if (!d.dim_param().empty()) dims.insert(d.dim_param());
    }
  result.dynamic_dims.assign(dims.begin(), dims.end());
  for (const auto& i : model.graph().input()) result.input_names.push_back(i.name());
  for (const auto& o : model.graph().output()) result.output_names.push_back(o.name());
}

ExportResult export_onnx(const ExportOptions& options, const GlobalOptions& globals) {
  (void)globals;
  auto start = std::chrono::steady_clock::now();
  if (options.output.empty()) fail_usage("missing -o/--output");
  if (options.inputs.empty()) fail_usage("give at least one --input spec");
  auto specs = parse_input_specs(options.inputs);
  PhaseClock clock;
  torch::jit::Module module = load_model(options.model);
  clock.lap("load");
  ModuleExportOptions module_options;
  module_options.opset = options.opset;
  module_options.output_names = options.output_names;
  onnx::ModelProto model = export_module(module, specs, module_options);
  clock = PhaseClock();
  onnx_proto::write_model_file(model, options.output);
  clock.lap("serialize+write");
  ExportResult result;
  result.path = options.output;
  result.file_size = file_size(options.output);
  summarize_model(model, result);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info("exported {} -> {} ({} nodes, opset {})", options.model.path, options.output, result.node_count, result.opset);
  return result;
}

nlohmann::json ExportResult::to_json() const {
  return {{"path", path},
          {"opset", opset},
          {"file_size", file_size},
          {"node_count", node_count},
          {"ops", ops},
          {"dynamic_dims", dynamic_dims},
          {"inputs", input_names},
          {"outputs", output_names},
          {"initializers", initializer_count},
          {"seconds", seconds}};
}

std::string ExportResult::to_text() const {
  std::string dims;
  for (auto& d : dynamic_dims) dims += (dims.empty() ? "" : ", ") + d;
  std::string top;
  std::vector<std::pair<int64_t, std::string>> sorted;
  for (auto& [op, n] : ops) sorted.emplace_back(-n, op);
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size() && i < 8; ++i)
    top += fmt::format("{}{} {}", i ? ", " : "", sorted[i].second, -sorted[i].first);
  return fmt::format("wrote {} ({:.1f} KB, opset {}, {} nodes: {}{})\ndynamic dims: {}\n", path, file_size / 1024.0, opset,
                     node_count, top, sorted.size() > 8 ? ", ..." : "", dims.empty() ? "none" : dims);
}

}  // namespace mlopt

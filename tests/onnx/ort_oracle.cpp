#include "onnx/ort_oracle.h"

#include <catch2/catch.hpp>

#include <filesystem>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/input_spec.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "mlopt/onnx/export.h"
#include "support/test_support.h"

namespace mlopt::test {

bool ort_available() {
  return std::filesystem::exists(source_path("tests/oracle/node_modules/onnxruntime-node"));
}

void require_ort() {
  INFO("ONNX Runtime (tests/oracle/node_modules/onnxruntime-node) is missing: run scripts/setup.sh");
  REQUIRE(ort_available());
}

OrtRun try_run_in_ort(const std::string& onnx_path, const NamedTensors& inputs) {
  auto dir = temp_dir("ort_run");
  std::string in_path = dir + "/in.npz", out_path = dir + "/out.npz";
  save_tensors(in_path, inputs);
  auto r = run_shell("node " + shell_quote(source_path("tests/oracle/run_ort.js")) + " " + shell_quote(onnx_path) + " " +
                     shell_quote(in_path) + " " + shell_quote(out_path));
  OrtRun run;
  run.ok = r.exit_code == 0;
  if (!run.ok) {
    run.error = r.err.substr(0, r.err.find('\n'));
    if (run.error.empty()) run.error = "exit " + std::to_string(r.exit_code);
    return run;
  }
  run.outputs = load_tensors(out_path);
  return run;
}

NamedTensors run_in_ort(const std::string& onnx_path, const NamedTensors& inputs) {
  require_ort();
  auto run = try_run_in_ort(onnx_path, inputs);
  INFO("ONNX Runtime on " << onnx_path << ": " << run.error);
  REQUIRE(run.ok);
  return run.outputs;
}

std::map<std::string, int64_t> op_counts(const onnx::ModelProto& model) {
  std::map<std::string, int64_t> ops;
  std::function<void(const onnx::GraphProto&)> walk = [&](const onnx::GraphProto& g) {
    for (const auto& n : g.node()) {
      ops[n.op_type()]++;
      for (const auto& a : n.attribute())
        if (a.has_g()) walk(a.g());
    }
  };
  walk(model.graph());
  return ops;
}

namespace {

double rel_error(const at::Tensor& got, const at::Tensor& want) {
  if (!got.sizes().equals(want.sizes())) {
    FAIL("output shape " << got.sizes() << " != LibTorch's " << want.sizes());
  }
  if (!at::isFloatingType(want.scalar_type())) return at::equal(got.to(want.scalar_type()), want) ? 0.0 : 1.0;
  if (want.numel() == 0) return 0.0;
  auto g = got.to(at::kDouble), w = want.to(at::kDouble);
  // NaN where LibTorch has NaN, the same infinities; the rest relative to its largest finite magnitude.
  auto w_nan = w.isnan(), w_inf = w.isinf();
  if (!at::equal(g.isnan(), w_nan)) return 1.0;
  if (!at::equal(g.masked_select(w_inf), w.masked_select(w_inf))) return 1.0;
  auto finite = w.isfinite();
  if (!at::equal(g.isfinite(), finite)) return 1.0;
  if (finite.sum().item<int64_t>() == 0) return 0.0;
  auto gf = g.masked_select(finite), wf = w.masked_select(finite);
  double scale = std::max(wf.abs().max().item<double>(), 1e-6);
  return (gf - wf).abs().max().item<double>() / scale;
}

double run_once(torch::jit::Module& module, const std::string& onnx_path, const std::vector<InputSpec>& specs,
                const std::vector<at::Tensor>& inputs) {
  NamedTensors named;
  for (size_t i = 0; i < specs.size(); ++i) named.emplace_back(specs[i].name, inputs[i]);
  auto got = run_in_ort(onnx_path, named);
  auto want = run_module(module, inputs);
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, rel_error(got[i].second, want[i]));
  return worst;
}

}  // namespace

OrtComparison compare_with_ort(torch::jit::Module& module, const std::vector<std::string>& spec_texts,
                               const std::vector<int64_t>& dynamic_sizes, int opset,
                               const std::vector<std::vector<at::Tensor>>& extra_inputs) {
  auto specs = parse_input_specs(spec_texts);
  ModuleExportOptions options;
  options.opset = opset;
  OrtComparison result;
  result.model = export_module(module, specs, options);
  result.ops = op_counts(result.model);
  require_ort();
  std::string dir = temp_dir("onnx");
  static int counter = 0;
  std::string path = dir + "/model" + std::to_string(counter++) + ".onnx";
  std::string bytes;
  result.model.SerializeToString(&bytes);
  write_file_atomically(path, bytes);
  int index = 0;
  result.max_rel_error.push_back(run_once(module, path, specs, random_inputs(specs, 7)));
  for (int64_t size : dynamic_sizes) {
    std::vector<InputSpec> resized;
    for (auto& s : specs) resized.push_back(s.with_dynamic_size(size));
    result.max_rel_error.push_back(run_once(module, path, resized, random_inputs(resized, 11 + ++index)));
  }
  for (auto& inputs : extra_inputs) result.max_rel_error.push_back(run_once(module, path, specs, inputs));
  return result;
}

OrtComparison expect_matches_ort(const std::string& body, const std::vector<std::string>& specs,
                                 const std::vector<int64_t>& dynamic_sizes,
                                 const std::vector<std::vector<at::Tensor>>& extra_inputs,
                                 const std::map<std::string, at::Tensor>& params, double tolerance) {
  require_ort();
  auto m = make_module(body, params);
  auto r = compare_with_ort(m, specs, dynamic_sizes, 17, extra_inputs);
  REQUIRE(r.max_rel_error.size() == 1 + dynamic_sizes.size() + extra_inputs.size());
  for (size_t k = 0; k < r.max_rel_error.size(); ++k) {
    INFO("run " << k << " (0: example sizes, then dynamic sizes, then edge inputs)");
    CHECK(r.max_rel_error[k] < tolerance);
  }
  return r;
}

OrtComparison expect_matches_ort_and_evaluator(const std::string& body, const std::vector<std::string>& spec_texts,
                                               const std::vector<int64_t>& dynamic_sizes,
                                               const std::vector<std::vector<at::Tensor>>& extra_inputs,
                                               const std::map<std::string, at::Tensor>& params, double tolerance) {
  auto r = expect_matches_ort(body, spec_texts, dynamic_sizes, extra_inputs, params, tolerance);
  auto module = make_module(body, params);
  std::string bytes;
  r.model.SerializeToString(&bytes);
  auto evaluator = onnx_eval::Evaluator::from_bytes(bytes, "the exported model");
  auto specs = parse_input_specs(spec_texts);
  std::vector<std::vector<at::Tensor>> runs{random_inputs(specs, 7)};
  int index = 0;
  for (int64_t size : dynamic_sizes) {
    std::vector<InputSpec> resized;
    for (auto& s : specs) resized.push_back(s.with_dynamic_size(size));
    runs.push_back(random_inputs(resized, 11 + ++index));
  }
  runs.insert(runs.end(), extra_inputs.begin(), extra_inputs.end());
  for (size_t k = 0; k < runs.size(); ++k) {
    INFO("evaluator run " << k << " (0: example sizes, then dynamic sizes, then edge inputs)");
    auto got = evaluator.run(runs[k]);
    auto want = run_module(module, runs[k]);
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      INFO("output " << i);
      CHECK(rel_error(got[i], want[i]) < tolerance);
    }
  }
  return r;
}

torch::jit::Module make_module(const std::string& source, const std::map<std::string, at::Tensor>& params) {
  torch::jit::Module m("m");
  for (auto& [name, t] : params) m.register_parameter(name, t, false);
  m.define(source + "\n");
  m.eval();
  return m;
}

}  // namespace mlopt::test

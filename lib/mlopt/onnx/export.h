#pragma once
// `mlopt export-onnx`: TorchScript module -> ONNX file that ONNX Runtime runs
// with the same outputs. Lowering (lowering.h), shape probing (shape_probe.h),
// op-by-op conversion through a registry (converter.h, ops/); the ONNX protobuf
// toolkit (proto/: dtypes, tensors, model files, graph edits).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mlopt/core/input_spec.h"
#include "mlopt/core/options.h"
#include "mlopt/script/model_source.h"

namespace torch::jit {
struct Module;
}
namespace onnx {
class ModelProto;
}

namespace mlopt {

inline constexpr int kMinOpset = 13;
inline constexpr int kMaxOpset = 17;

struct ExportOptions {
  ModelSource model;
  std::vector<std::string> inputs;        // input specs, one per forward argument
  std::vector<std::string> output_names;  // default: output, output_1, ...
  int opset = kMaxOpset;
  std::string output;

  template <class V>
  void visit(V& v) {
    v.positional("model", model.path, "TorchScript archive (.pt) or Python model (.py)");
    model.visit_python_fields(v);
    v.required_option("input", inputs, "Input spec NAME:SHAPE[:DTYPE], e.g. x:batch=1x3x224x224 (repeatable)");
    v.option("output-names", output_names, "Names of the ONNX outputs (repeatable, in order)");
    v.option("opset", opset, "ONNX opset, 13..17");
    v.output("output", output, "Where to write the .onnx file");
  }
};

// Knobs of the lower-level API.
struct ModuleExportOptions {
  int opset = kMaxOpset;
  std::vector<std::string> output_names;
  std::string producer_version;  // default: mlopt's version
  bool probe_on_meta = true;     // false: probe on real tensors only (the meta probe's reference, in tests)
};

struct ExportResult {
  std::string path;
  int opset = 0;
  int64_t file_size = 0;
  int64_t node_count = 0;
  std::map<std::string, int64_t> ops;             // node count by op type (main graph and subgraphs)
  std::vector<std::string> dynamic_dims;          // symbolic dim names
  std::vector<std::string> input_names, output_names;
  int64_t initializer_count = 0;
  double seconds = 0;

  nlohmann::json to_json() const;
  std::string to_text() const;
};

// Exports `module` (eval mode; it is cloned, not changed) for inputs `specs`
// to a checked ModelProto (onnx::checker full check + shape inference pass).
// Throws mlopt::Error listing every unsupported op when some are.
onnx::ModelProto export_module(torch::jit::Module& module, const std::vector<InputSpec>& specs,
                               const ModuleExportOptions& options = {});

// Summary of a model (op counts, dynamic dims) as reported by ExportResult.
void summarize_model(const onnx::ModelProto& model, ExportResult& result);

ExportResult export_onnx(const ExportOptions& options, const GlobalOptions& globals);

}  // namespace mlopt

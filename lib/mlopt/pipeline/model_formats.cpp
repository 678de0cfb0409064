#include "mlopt/pipeline/model_formats.h"

#include <onnx/onnx_pb.h>
#include <torch/script.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/dynamic_resize.h"
#include "mlopt/core/error.h"
#include "mlopt/core/input_spec.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/onnx/proto/dtype.h"
#include "mlopt/onnx/proto/model_file.h"
#include "mlopt/runtime/runner.h"

namespace mlopt::pipeline {

std::string format_of(const std::string& path) {
  const std::string ext = extension_of(path);
  if (ext == ".ptl") return "torchscript-lite";
  if (ext == ".onnx") return "onnx";
  if (ext == ".pt") return "torchscript";
  return ext.empty() ? "file" : ext.substr(1);
}

void save_lite(const std::string& from, const std::string& to, const std::vector<std::string>& input_specs,
               uint64_t seed) {
  torch::jit::Module module = load_torchscript(from);
  SaveOptions options;
  options.metadata_json = read_metadata(from);
  if (!input_specs.empty()) options.check_inputs = random_inputs(parse_input_specs(input_specs), seed);
  save_module(module, to, options);
}

namespace {
// mlopt's dtype name, or "typeN" for an ONNX element type tensors cannot hold.
std::string onnx_dtype(int type) {
  std::string name = onnx_proto::onnx_dtype_name(type);
  return name.empty() ? "type" + std::to_string(type) : name;
}

nlohmann::json value_infos(const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& values) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& value : values) {
    nlohmann::json shape = nlohmann::json::array();
    for (const auto& dim : value.type().tensor_type().shape().dim())
      shape.push_back(dim.has_dim_param() ? nlohmann::json(dim.dim_param()) : nlohmann::json(dim.dim_value()));
    list.push_back({{"name", value.name()}, {"shape", shape}, {"dtype", onnx_dtype(value.type().tensor_type().elem_type())}});
  }
  return list;
}

nlohmann::json onnx_signature(const std::string& path) {
  const onnx::ModelProto model = onnx_proto::read_model_file(path);
  return {{"inputs", value_infos(model.graph().input())}, {"outputs", value_infos(model.graph().output())}};
}

nlohmann::json torchscript_signature(const std::string& path, const std::vector<std::string>& input_specs, uint64_t seed) {
  nlohmann::json inputs = nlohmann::json::array();
  const auto specs = parse_input_specs(input_specs);
  for (const auto& spec : specs) {
    nlohmann::json shape = nlohmann::json::array();
    for (const auto& dim : spec.dims) shape.push_back(dim.dynamic() ? nlohmann::json(dim.name) : nlohmann::json(dim.size));
    inputs.push_back({{"name", spec.name}, {"shape", shape}, {"dtype", spec.dtype}});
  }
  nlohmann::json outputs = nlohmann::json::array();
  if (!specs.empty()) {
    with_context("running " + path + " for its output signature", [&] {
      auto runner = load_runner(path);
      auto first = runner->run(random_inputs(specs, seed));
      // A second run with every dynamic dim at its own new size tells which
      // output dims follow which input dim (the ONNX signature names them too).
      const std::vector<InputSpec> moved = with_moved_dynamic_dims(specs);
      const auto dynamic = moved_dynamic_dims(specs, moved);  // name -> (first, second size)
      std::vector<at::Tensor> second;
      if (!dynamic.empty()) second = runner->run(random_inputs(moved, seed));
      for (size_t i = 0; i < first.size(); ++i) {
        nlohmann::json shape = nlohmann::json::array();
        for (int64_t d = 0; d < first[i].dim(); ++d) {
          int64_t a = first[i].size(d);
          int64_t b = i < second.size() && d < second[i].dim() ? second[i].size(d) : a;
          std::string name;
          if (a != b) {
            name = "dynamic";
            for (const auto& [n, sizes] : dynamic)
              if (sizes.first == a && sizes.second == b) name = n;
          }
          shape.push_back(name.empty() ? nlohmann::json(a) : nlohmann::json(name));
        }
        outputs.push_back({{"shape", shape}, {"dtype", dtype_name(first[i].scalar_type())}});
      }
    });
  }
  return {{"inputs", inputs}, {"outputs", outputs}};
}
}  // namespace

nlohmann::json artifact_signature(const std::string& path, const std::vector<std::string>& input_specs, uint64_t seed) {
  const std::string format = format_of(path);
  if (format == "onnx") return onnx_signature(path);
  if (format == "torchscript") return torchscript_signature(path, input_specs, seed);
  return nlohmann::json::object();  // .ptl: the same as the .pt it was saved from
}

}  // namespace mlopt::pipeline

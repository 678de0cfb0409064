// libFuzzer target: the YAML pipeline loader (env substitution, --set
// overrides, structure and reference checks) on hostile text. A first line
// `#set key=value` is applied as a --set override, so overrides are fuzzed too.
#include <cstdint>
#include <filesystem>
#include <string>

#include "mlopt/core/atomic_write.h"

#include "mlopt/core/error.h"
#include "mlopt/pipeline/pipeline_config.h"
#include "mlopt/pipeline/step_registry.h"

namespace {
// The real step types (lib/mlopt/commands) run every subcommand; the loader
// only looks them up by name, so the fuzz build registers stand-ins under the
// real names.
mlopt::pipeline::StepType stub(const char* name, const char* extension) {
  mlopt::pipeline::StepType type;
  type.name = name;
  type.summary = "fuzz stand-in";
  type.artifact_extension = extension;
  type.primary_model_key = "model";
  return type;
}
MLOPT_REGISTER_STEP(stub("script", ".pt"));
MLOPT_REGISTER_STEP(stub("trace", ".pt"));
MLOPT_REGISTER_STEP(stub("quantize-onnx", ".onnx"));
MLOPT_REGISTER_STEP(stub("export-onnx", ".onnx"));
MLOPT_REGISTER_STEP(stub("quantize", ".pt"));
MLOPT_REGISTER_STEP(stub("prune", ".pt"));
MLOPT_REGISTER_STEP(stub("distill", ".pt"));
MLOPT_REGISTER_STEP(stub("verify", ""));
MLOPT_REGISTER_STEP(stub("profile", ""));

// A folder with the files the seed pipelines name, so that the checks behind
// the file references are reached.
const std::string& base_dir() {
  static const std::string dir = [] {
    std::string d = std::filesystem::temp_directory_path().string() + "/mlopt-fuzz-pipeline";
    std::filesystem::create_directories(d);
    for (const char* name : {"model.pt", "model.py", "w.pth", "data.csv", "data.npz"})
      mlopt::write_file_atomically(d + "/" + name, "x");
    return d;
  }();
  return dir;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> overrides;
  if (text.rfind("#set ", 0) == 0) {
    auto end = text.find('\n');
    overrides.push_back(text.substr(5, end == std::string::npos ? std::string::npos : end - 5));
  }
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return std::string("/home/fuzz");
    return std::nullopt;
  };
  try {
    mlopt::pipeline::parse_pipeline(text, "fuzz.yaml", base_dir(), overrides, env);
  } catch (const mlopt::Error&) {
  }
  return 0;
}

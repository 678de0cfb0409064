#include "mlopt/serve/artifact.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "mlopt/core/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mlopt::serving {
namespace {

bool servable_extension(const std::string& ext) { return ext == ".pt" || ext == ".ptl" || ext == ".onnx"; }

json read_manifest(const fs::path& dir) {
  const fs::path file = dir / "manifest.json";
  std::ifstream in(file);
  if (!in) fail("{}: a release folder needs the manifest.json that `mlopt run --out` writes", dir.string());
  std::stringstream text;
  text << in.rdbuf();
  json manifest = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded() || !manifest.is_object() || !manifest.contains("artifacts") ||
      !manifest["artifacts"].is_array())
    fail("{}: not a manifest of `mlopt run` (expected an object with an \"artifacts\" list)", file.string());
  return manifest;
}

const json* pick(const json& artifacts, const std::string& choice, const fs::path& dir) {
  const json* found = nullptr;
  std::string names;
  for (const auto& a : artifacts) {
    if (!a.is_object() || !a.contains("path") || !a["path"].is_string()) continue;
    const std::string path = a["path"];
    const std::string step = a.value("step", "");
    names += (names.empty() ? "" : ", ") + path;
    if (!choice.empty()) {
      if (path == choice || (step == choice && !found)) found = &a;
    } else if (a.value("format", "") == "torchscript" || fs::path(path).extension() == ".pt") {
      found = &a;  // the last one: the most refined model of the pipeline
    }
  }
  if (!found) {
    if (choice.empty()) fail("{}: the manifest lists no TorchScript artifact (has: {}); pick one with --artifact",
                             (dir / "manifest.json").string(), names.empty() ? "none" : names);
    fail("{}: no artifact '{}' in the manifest (has: {})", (dir / "manifest.json").string(), choice, names);
  }
  return found;
}

// The manifest signature's inputs: {name, shape: [int | "dim name"], dtype}.
std::vector<InputSpec> inputs_of(const json& signature) {
  std::vector<InputSpec> specs;
  if (!signature.is_object() || !signature.contains("inputs") || !signature["inputs"].is_array()) return specs;
  for (const auto& input : signature["inputs"]) {
    if (!input.is_object() || !input.contains("shape") || !input["shape"].is_array()) return {};
    InputSpec spec;
    spec.name = input.value("name", "input" + std::to_string(specs.size()));
    spec.dtype = input.value("dtype", "float32");
    for (const auto& d : input["shape"]) {
      Dim dim;
      if (d.is_number_integer()) dim.size = d.get<int64_t>();
      else dim.name = d.is_string() ? d.get<std::string>() : "dynamic";
      spec.dims.push_back(dim);
    }
    specs.push_back(spec);
  }
  return specs;
}

std::vector<std::string> output_names_of(const json& signature) {
  std::vector<std::string> names;
  if (!signature.is_object() || !signature.contains("outputs") || !signature["outputs"].is_array()) return names;
  for (const auto& output : signature["outputs"]) {
    if (!output.is_object() || !output.contains("name") || !output["name"].is_string()) return {};
    names.push_back(output["name"]);
  }
  return names;
}

}  // namespace

ServedArtifact find_artifact(const std::string& model_or_dir, const std::string& choice, const std::string& name) {
  if (model_or_dir.find("://") != std::string::npos)
    fail("{}: serve loads local files only, never a URL", model_or_dir);
  const fs::path given(model_or_dir);
  std::error_code ec;
  ServedArtifact served;
  if (fs::is_directory(given, ec)) {
    const json manifest = read_manifest(given);
    const json& artifact = *pick(manifest["artifacts"], choice, given);
    served.path = (given / artifact["path"].get<std::string>()).string();
    const json signature = artifact.value("signature", json::object());
    served.inputs = inputs_of(signature);
    served.output_names = output_names_of(signature);
    served.name = manifest.value("pipeline", fs::path(served.path).stem().string());
  } else {
    if (!choice.empty()) fail("--artifact picks a file of a release folder; {} is a file", model_or_dir);
    if (!fs::exists(given, ec)) fail("{}: no such file or folder", model_or_dir);
    served.path = model_or_dir;
    served.name = given.stem().string();
  }
  const std::string ext = fs::path(served.path).extension().string();
  if (!servable_extension(ext)) fail("{}: serve runs .pt, .ptl or .onnx artifacts, not '{}'", served.path, ext);
  if (!fs::is_regular_file(served.path, ec)) fail("{}: the artifact is missing", served.path);
  if (!name.empty()) served.name = name;
  for (char c : served.name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      fail("model name '{}': use letters, digits, '-', '_' and '.' only (it is part of the URLs); set one with --name",
           served.name);
  return served;
}

TensorSpec tensor_spec(const InputSpec& spec) {
  TensorSpec t{spec.name, datatype_of_dtype(spec.dtype), {}};
  if (t.datatype.empty()) fail("input '{}': dtype {} cannot be served", spec.name, spec.dtype);
  for (const auto& dim : spec.dims) t.shape.push_back(dim.dynamic() ? -1 : dim.size);
  return t;
}

}  // namespace mlopt::serving

// The one place where serve meets LibTorch: host tensors <-> at::Tensor around
// the artifact runners of runtime/runner.h.
#include <torch/script.h>

#include <ATen/Parallel.h>

#include <cstdlib>
#include <cstring>
#include <strings.h>
#include <mutex>
#include <set>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/serve/model.h"
#include "mlopt/runtime/quantized_engine.h"
#include "mlopt/runtime/runner.h"

namespace mlopt::serving {
namespace {

at::ScalarType scalar_type_of(const std::string& datatype) {
  static const std::pair<const char*, at::ScalarType> table[] = {
      {"BOOL", at::kBool},   {"UINT8", at::kByte},  {"INT8", at::kChar},  {"INT16", at::kShort},
      {"INT32", at::kInt},   {"INT64", at::kLong},  {"FP16", at::kHalf},  {"BF16", at::kBFloat16},
      {"FP32", at::kFloat},  {"FP64", at::kDouble}};
  for (const auto& [name, type] : table)
    if (datatype == name) return type;
  fail("datatype {} is not supported", datatype);
}

std::string datatype_of(at::ScalarType type) {
  switch (type) {
    case at::kBool: return "BOOL";
    case at::kByte: return "UINT8";
    case at::kChar: return "INT8";
    case at::kShort: return "INT16";
    case at::kInt: return "INT32";
    case at::kLong: return "INT64";
    case at::kHalf: return "FP16";
    case at::kBFloat16: return "BF16";
    case at::kFloat: return "FP32";
    case at::kDouble: return "FP64";
    default: fail("the model returned a {} tensor, which the v2 protocol cannot carry", c10::toString(type));
  }
}

at::Tensor to_torch(const HostTensor& host) {
  // The request's bytes are copied: the model may write into its inputs.
  return at::from_blob(const_cast<char*>(host.bytes.data()), host.shape,
                       at::TensorOptions().dtype(scalar_type_of(host.datatype)))
      .clone();
}

HostTensor to_host(at::Tensor tensor) {
  if (tensor.is_quantized()) tensor = tensor.dequantize();
  tensor = tensor.contiguous();
  HostTensor host;
  host.datatype = datatype_of(tensor.scalar_type());
  host.shape = tensor.sizes().vec();
  host.bytes.assign(static_cast<const char*>(tensor.data_ptr()), tensor.nbytes());
  return host;
}

// TorchScript's first line says only that the interpreter failed; the cause
// (the model's own exception) is the last line of the original text.
std::string with_cause(const Error& e) {
  std::string detail = e.detail();
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
  const std::string cause = detail.substr(detail.find_last_of('\n') + 1);
  if (cause.empty() || std::string(e.what()).find(cause) != std::string::npos) return e.what();
  return std::string(e.what()) + " " + cause;
}

class TorchModel : public Model {
 public:
  explicit TorchModel(std::unique_ptr<Runner> runner) : runner_(std::move(runner)) {}

  std::vector<HostTensor> run(const std::vector<HostTensor>& inputs) override {
    // Inference mode is per thread: every worker sets it for its own runs.
    c10::InferenceMode inference;
    std::vector<at::Tensor> args;
    args.reserve(inputs.size());
    for (const auto& input : inputs) args.push_back(to_torch(input));
    std::vector<at::Tensor> outputs;
    try {
      outputs = runner_->run(args);
    } catch (const Error& e) {
      throw Error(with_cause(e));
    }
    std::vector<HostTensor> result;
    result.reserve(outputs.size());
    for (auto& output : outputs) result.push_back(to_host(output));
    return result;
  }
  std::vector<InputSpec> declared_inputs() const override { return runner_->declared_inputs(); }
  std::vector<std::string> output_names() const override { return runner_->output_names(); }
  std::string engine() const override { return runner_->engine(); }

 private:
  std::unique_ptr<Runner> runner_;
};

// The environment settings the artifact's int8 engine wants on this many
// threads (runtime/quantized_engine.h) that this process did not start with:
// they are read at start-up, so the server can only say so (once per artifact,
// not once per worker's copy).
void warn_about_missing_engine_settings(const Runner& runner) {
  static std::mutex mutex;
  static std::set<std::string> warned;
  std::lock_guard<std::mutex> lock(mutex);
  if (!warned.insert(runner.path()).second) return;
  for (const auto& [name, value] : engine_tuning_env(runner.quantized_engine(), at::get_num_threads())) {
    const char* set = std::getenv(name.c_str());
    if (set && strcasecmp(set, value.c_str()) == 0) continue;  // libgomp reads it case-insensitively
    log::warn("{}: int8 on {} with {} threads: start the server with {}={} (OpenMP's spinning workers hold the "
              "cores {}'s own thread pool needs; several times slower without it) or with --threads 1",
              runner.path(), runner.quantized_engine(), at::get_num_threads(), name, value, runner.quantized_engine());
  }
}

}  // namespace

std::unique_ptr<Model> load_model(const std::string& path) {
  auto runner = load_runner(path);
  warn_about_missing_engine_settings(*runner);
  return std::make_unique<TorchModel>(std::move(runner));
}

}  // namespace mlopt::serving

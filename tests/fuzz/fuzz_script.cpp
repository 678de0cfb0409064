// libFuzzer target: the `script` front end on arbitrary source text: the
// Python-subset preprocessing and parser, then, for the first class in the
// file, the __init__ evaluator, module builder and TorchScript compiler.
// Every input must compile or fail with an error (mlopt::Error, or
// c10::Error from the TorchScript compiler, which the CLI rewrites into one
// line), never crash or hang.
#include <unistd.h>

#include <cstdint>
#include <string>

#include <torch/script.h>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/script/parameter_budget.h"
#include "mlopt/script/python_model.h"
#include "mlopt/script/source_file.h"

// Parameters a fuzzed model may create: 256 MiB, well under libFuzzer's
// -malloc_limit_mb (the budget's default, 8 GiB, is for real models).
constexpr uint64_t kParameterBudgetBytes = uint64_t{256} << 20;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool limited = (mlopt::script::ParameterBudget::set_default_limit_bytes(kParameterBudgetBytes), true);
  (void)limited;
  static const std::string path = "/tmp/mlopt-fuzz-script-" + std::to_string(getpid()) + ".py";
  mlopt::write_file_atomically(path, std::string(reinterpret_cast<const char*>(data), size));
  std::string class_name;
  try {
    auto file = mlopt::script::parse_model_file(path);
    if (file.classes.empty()) return 0;
    class_name = file.classes.front().name().name();
  } catch (const mlopt::Error&) {
    return 0;
  }
  try {
    mlopt::ModelSource source;
    source.path = path;
    source.class_name = class_name;
    mlopt::compile_python_model(source);
  } catch (const mlopt::Error&) {
  } catch (const c10::Error&) {
  }
  return 0;
}

// Replays the fuzz corpora and crash inputs of the targets beyond core
// (ONNX loader and evaluator, pipeline config, script front end; the core parsers' replay is
// tests/core/fuzz_regressions_test.cpp, which also runs under ASan/UBSan):
// each must load or fail with an error — never crash.
#include <catch2/catch.hpp>
#include <torch/script.h>

#include <filesystem>
#include <functional>
#include <map>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "mlopt/onnx/eval/tensor_limits.h"
#include "mlopt/pipeline/pipeline_config.h"
#include "mlopt/script/parameter_budget.h"
#include "mlopt/script/python_model.h"
#include "mlopt/script/source_file.h"
#include "support/test_support.h"

namespace fs = std::filesystem;

namespace {
const std::map<std::string, std::function<void(const std::string&)>>& parsers() {
  static const std::map<std::string, std::function<void(const std::string&)>> table = {
      {"onnx_model",
       [](const std::string& bytes) {
         auto model = mlopt::onnx_eval::Evaluator::from_bytes(bytes, "'replay.onnx'");
         model.input_specs();
         model.op_types();
         CHECK(model.parameter_bytes() >= 0);
       }},
      {"onnx_eval",
       [](const std::string& bytes) {
         // As tests/fuzz/fuzz_onnx_eval.cpp: models that load also run, on
         // small inputs, with the value limit the fuzzer used.
         // (restored after, for the tests that follow in this process)
         mlopt::onnx_eval::ValueLimitScope limit(int64_t{1} << 24);
         auto model = mlopt::onnx_eval::Evaluator::from_bytes(bytes, "'replay.onnx'");
         auto specs = model.input_specs();
         for (const auto& spec : specs)
           if (spec.numel() > 4096) return;
         auto outputs = model.run(mlopt::random_inputs(specs, 7));
         CHECK(outputs.size() == model.output_names().size());
       }},
      {"pipeline_config",
       [](const std::string& bytes) {
         // The files the seed pipelines name (as in tests/fuzz/fuzz_pipeline_config.cpp).
         static const std::string base = [] {
           std::string dir = mlopt::test::temp_dir("pipeline-replay");
           for (const char* name : {"model.pt", "model.py", "w.pth", "data.csv", "data.npz"})
             mlopt::write_file_atomically(dir + "/" + name, "x");
           return dir;
         }();
         std::vector<std::string> overrides;
         if (bytes.rfind("#set ", 0) == 0) overrides.push_back(bytes.substr(5, bytes.find('\n') - 5));
         auto env = [](const std::string& name) -> std::optional<std::string> {
           if (name == "HOME") return std::string("/home/fuzz");
           return std::nullopt;
         };
         mlopt::pipeline::parse_pipeline(bytes, "replay.yaml", base, overrides, env);
       }},
      {"script",
       [](const std::string& bytes) {
         struct BudgetScope {  // the fuzz target's parameter budget, restored after
           uint64_t saved = mlopt::script::ParameterBudget::default_limit_bytes();
           BudgetScope() { mlopt::script::ParameterBudget::set_default_limit_bytes(uint64_t{256} << 20); }
           ~BudgetScope() { mlopt::script::ParameterBudget::set_default_limit_bytes(saved); }
         } budget;
         std::string path = mlopt::test::temp_dir("script-replay") + "/replay.py";
         mlopt::write_file_atomically(path, bytes);
         auto file = mlopt::script::parse_model_file(path);
         if (file.classes.empty()) return;
         mlopt::ModelSource source;
         source.path = path;
         source.class_name = file.classes.front().name().name();
         try {
           mlopt::compile_python_model(source);
         } catch (const c10::Error&) {  // TorchScript's compiler; the CLI rewrites it into one line
         }
       }},
  };
  return table;
}
}  // namespace

TEST_CASE("fuzz corpora and crash regressions of the ONNX, pipeline and script targets load or fail cleanly", "[hardening][fuzz]") {
  const int replayed = mlopt::test::replay_fuzz_inputs(parsers());
  CHECK(replayed >= 12);
}

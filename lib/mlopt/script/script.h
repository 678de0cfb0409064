#pragma once
// `mlopt script`: compile a Python model file into a TorchScript module
// (.pt) or a lite-interpreter file (.ptl) without a Python interpreter.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "mlopt/core/options.h"
#include "mlopt/script/model_source.h"

namespace mlopt {

struct ScriptOptions {
  ModelSource source;               // source.path: the .py file
  std::vector<std::string> inputs;  // input specs: a forward run on random inputs, and the .ptl check
  std::string output;               // .pt | .ptl
  std::string weights_key;          // checkpoint entry holding the state_dict
  bool strict = true;               // false: partial state_dicts load (what they lack stays at init)
  std::vector<std::string> paths;   // folders imports of the model's own modules are resolved against

  template <class V>
  void visit(V& v) {
    v.positional("model", source.path, "Python model file (.py)");
    source.visit_python_fields(v);
    v.option("weights-key", weights_key, "Checkpoint entry holding the state_dict (dots reach nested dicts), when not state_dict/model_state_dict/model/net");
    v.option("strict", strict, "false: load a partial state_dict; missing entries stay at their initialization (listed)");
    v.option("path", paths, "Folder the model's own imports (from models.layers import X) are resolved against (repeatable)");
    v.option("input", inputs, "Input spec NAME:SHAPE[:DTYPE[:LOW..HIGH]] (repeatable): runs forward once and checks .ptl output");
    v.output("output", output, "Output file: .pt (TorchScript) or .ptl (lite interpreter)");
  }
};

struct ScriptResult {
  std::string model;
  std::string class_name;
  std::string output;
  std::string format;  // torchscript | torchscript-lite
  std::string weights;  // the weights file loaded, or empty (seeded initialization)
  int64_t parameters = 0;
  int64_t parameter_bytes = 0;
  int64_t size = 0;
  std::vector<std::string> output_shapes;  // with --input: shapes of forward's outputs
  bool lite_checked = false;
  double lite_max_abs_diff = 0;
  double seconds = 0;

  nlohmann::json to_json() const;
  std::string to_text() const;
};

ScriptResult script(const ScriptOptions& options, const GlobalOptions& globals);

}  // namespace mlopt

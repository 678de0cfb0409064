#pragma once
// `mlopt trace`: records a static graph of a model by running it on example
// inputs, then checks the recording against the model on fresh inputs.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "mlopt/core/options.h"
#include "mlopt/script/model_source.h"

namespace mlopt {

struct TraceOptions {
  ModelSource model;
  std::vector<std::string> inputs;  // input specs, one per forward argument
  std::string output;               // .pt or .ptl
  int check_inputs = 3;             // fresh random inputs the trace is checked on
  bool no_check = false;
  double rtol = 1e-4, atol = 1e-5;  // check tolerance (numpy.allclose)

  template <class V>
  void visit(V& v) {
    v.positional("model", model.path, "Model to trace: TorchScript archive (.pt) or Python model (.py)");
    model.visit_python_fields(v);
    v.option("input", inputs, "Input spec NAME:SHAPE[:DTYPE[:LOW..HIGH]], e.g. x:batch=1x3x32x32 (repeatable, in forward order)");
    v.output("output", output, "Traced model to write: .pt (TorchScript) or .ptl (lite interpreter)");
    v.option("check-inputs", check_inputs, "Fresh random inputs the trace is checked on (dynamic dims at other sizes)");
    v.flag("no-check", no_check, "Skip checking the trace against the model");
    v.option("rtol", rtol, "Relative tolerance of the check");
    v.option("atol", atol, "Absolute tolerance of the check");
  }
};

// One check input: the trace against the model on fresh random values.
struct TraceCheck {
  int index = 0;                     // 1-based
  std::vector<std::string> inputs;   // the specs used (dynamic dims at their check size)
  double max_abs_diff = 0;
  bool passed = true;
  bool sizes_fixed = false;          // failed only at other sizes of the dynamic dims
  std::string problem;               // when failed: what differed
};

struct TraceResult {
  std::string model;
  std::string output;
  std::string format;                // torchscript | torchscript-lite
  int64_t size_bytes = 0;
  std::vector<std::string> inputs;
  int64_t graph_nodes = 0;
  int64_t parameters = 0;
  double trace_seconds = 0;
  std::vector<TraceCheck> checks;
  bool dynamic_dims_checked = false; // some check ran with dynamic dims at another size
  bool lite_checked = false;

  nlohmann::json to_json() const;
  std::string to_text() const;
};

// Traces, checks (unless no_check) and saves. A failed check throws
// mlopt::Error with exit code 3 naming the input and the difference, and
// writes nothing.
TraceResult trace(const TraceOptions& options, const GlobalOptions& globals);

}  // namespace mlopt

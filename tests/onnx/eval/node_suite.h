#pragma once
// The ONNX standard's node tests (Debian's libonnx-testdata: one folder per
// case with model.onnx and test_data_set_*/input_*.pb, output_*.pb) run
// through the built-in evaluator, each case in a child process with a time
// limit, so that a hang or a crash is a verdict rather than a stuck test.
#include <string>
#include <vector>

namespace mlopt::test {

// Where the node tests live: $MLOPT_ONNX_NODE_TESTS, else libonnx-testdata's folder.
std::string node_tests_dir();

struct NodeCase {
  std::string name;    // the folder name, "test_abs"
  std::string folder;  // its path
  int64_t opset = 0;   // the default domain's opset
  bool tensor_only = false;  // every graph input and output is a tensor (no sequence/optional/map)
  std::vector<std::string> op_types;  // of the main graph's nodes
};

// Every case under `dir`, sorted by name. Errors when `dir` holds none.
std::vector<NodeCase> list_node_cases(const std::string& dir);

enum class Verdict {
  pass,
  wrong,    // ran, and an output differs from the expected one (type, shape or values)
  refused,  // a clean mlopt error: an op, attribute or dtype the evaluator does not run
  error,    // an mlopt error carrying a lower-level library message (a kernel that failed)
  hang,     // ran past the time limit
  crash,    // the child died (a signal) or returned nothing
};
const char* verdict_name(Verdict v);

struct CaseOutcome {
  Verdict verdict = Verdict::crash;
  std::string detail;  // the error, or what differed
};

// Runs every test_data_set of `c` in this process and compares outputs
// (rtol 1e-3, atol 1e-5 for floating types, NaN matching NaN; exact otherwise).
CaseOutcome run_node_case(const NodeCase& c);
// The same in a forked child, killed after `seconds`.
CaseOutcome run_node_case_isolated(const NodeCase& c, double seconds);

}  // namespace mlopt::test

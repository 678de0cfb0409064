#pragma once
// A small digits release for the registry tests: the bundled DigitsCNN
// scripted and trained for a few epochs (seconds), checked by verify (which
// records its accuracy), with a `publish:` section.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "mlopt/core/atomic_write.h"
#include "support/test_support.h"

namespace mlopt::test {

inline std::string digits_pipeline(const std::string& dir, int epochs = 4, const std::string& extra = "") {
  const std::string path = dir + "/digits-small.yaml";
  mlopt::write_file_atomically(path, R"(name: digits-small
seed: 0
model:
  path: )" + source_path("examples/models/digits_cnn.py") + R"(
  class: DigitsCNN
  init: {num_classes: 10, width: 16, dropout: 0.1}
inputs:
  - {name: x, shape: [batch=1, 1, 8, 8], dtype: float32}
data:
  digits: {path: )" + source_path("examples/data/digits.csv.gz") + R"(, reshape: 1x8x8, scale: 0.0625}
steps:
  - {name: script, type: script}
  - {name: train, type: distill, alpha: 0, data: digits, epochs: )" + std::to_string(epochs) + R"(, batch_size: 64, lr: 0.003, no_latency: true}
  - {name: check, type: verify, from: train, reference: train, data: digits, max_samples: 1000}
publish:
  model: digits
  artifact: train
)" + extra);
  return path;
}

// The bundled regressor release (configs/digits-regressor.yaml): a linear
// regressor on the digits, one `script` step, published as `regressor` with
// drift thresholds set in the pipeline (`publish: monitor:` max_psi 0.3,
// window 100, min_rows 50).
inline std::string regressor_pipeline() { return source_path("configs/digits-regressor.yaml"); }

// Runs the pipeline into `out` (publishing to `repo` when given); REQUIREs success.
inline CommandResult run_digits(const std::string& pipeline, const std::string& out, const std::string& repo = "",
                                std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"run", pipeline, "--out", out, "--threads", "1"};
  if (!repo.empty()) args.insert(args.end(), {"--publish", repo});
  args.insert(args.end(), more.begin(), more.end());
  auto r = run_mlopt(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

// `mlopt monitor VERSION --data DATA --json`: its report, after checking the exit code.
inline nlohmann::json monitor_report(const std::string& version, const std::string& data, int expected_exit) {
  auto r = run_mlopt({"monitor", version, "--data", data, "--json"});
  INFO(data << "\n" << r.out << r.err);
  CHECK(r.exit_code == expected_exit);
  return nlohmann::json::parse(r.out);
}

}  // namespace mlopt::test

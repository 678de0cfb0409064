#pragma once
// Runs the mlopt binary the way the hostile-input tests need: under a time
// limit and GNU time (peak RSS), separating a crash signal from an exit code
// and collecting the `mlopt: error:` lines.
#include <string>
#include <vector>

namespace mlopt::test {

struct GuardedOutcome {
  int exit_code = -1;   // 128 + N when killed by signal N; 137 when the time limit hit
  long max_rss_kb = 0;
  std::vector<std::string> error_lines;  // stderr lines starting "mlopt: error:"
  std::string err;
};

GuardedOutcome run_mlopt_guarded(const std::vector<std::string>& args, int time_limit_s = 120);

}  // namespace mlopt::test

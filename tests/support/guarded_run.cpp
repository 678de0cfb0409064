#include "support/guarded_run.h"

#include <sstream>

#include "support/test_support.h"

namespace mlopt::test {

GuardedOutcome run_mlopt_guarded(const std::vector<std::string>& args, int time_limit_s) {
  std::string line = "NO_COLOR=1 timeout -s KILL " + std::to_string(time_limit_s) +
                     " /usr/bin/time -f 'mlopt-test-maxrss=%M' " + shell_quote(MLOPT_BINARY);
  for (const auto& a : args) line += " " + shell_quote(a);
  auto r = run_shell(line);
  GuardedOutcome o;
  o.err = r.err;
  std::istringstream in(r.err);
  std::string l;
  while (std::getline(in, l)) {
    if (l.rfind("mlopt-test-maxrss=", 0) == 0) o.max_rss_kb = std::stol(l.substr(18));
    if (l.rfind("mlopt: error:", 0) == 0) o.error_lines.push_back(l);
    // GNU time reports a child killed by a signal as "Command terminated by signal N".
    if (l.rfind("Command terminated by signal", 0) == 0) o.exit_code = 128 + std::stoi(l.substr(29));
  }
  if (o.exit_code < 0) o.exit_code = r.exit_code;
  return o;
}

}  // namespace mlopt::test

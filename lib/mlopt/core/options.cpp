#include "mlopt/core/options.h"

#include <sched.h>
#include <ATen/Parallel.h>
#include <torch/script.h>

#include "mlopt/core/log.h"

namespace mlopt {

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return 1;
}

void apply_global_options(const GlobalOptions& options) {
  log::set_level(options.quiet ? log::Level::kQuiet : options.verbose ? log::Level::kVerbose : log::Level::kNormal);
  int threads = options.threads > 0 ? options.threads : available_cores();
  at::set_num_threads(threads);
  torch::manual_seed(options.seed);
}

}  // namespace mlopt

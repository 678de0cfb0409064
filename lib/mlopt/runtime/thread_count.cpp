#include "mlopt/runtime/thread_count.h"

#include <ATen/Parallel.h>

namespace mlopt {

ThreadCountScope::ThreadCountScope() : before_(at::get_num_threads()) {}

ThreadCountScope::ThreadCountScope(int threads) : ThreadCountScope() {
  if (threads != before_) at::set_num_threads(threads);
}

ThreadCountScope::~ThreadCountScope() {
  if (at::get_num_threads() != before_) at::set_num_threads(before_);
}

}  // namespace mlopt

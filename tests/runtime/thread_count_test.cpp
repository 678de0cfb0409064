#include <ATen/Parallel.h>
#include <catch2/catch.hpp>

#include <stdexcept>

#include "mlopt/runtime/thread_count.h"

using mlopt::ThreadCountScope;

TEST_CASE("thread count scope: sets a count and gives the caller's back on every way out", "[runtime]") {
  const int caller = at::get_num_threads();
  const int other = caller == 1 ? 2 : 1;
  {
    ThreadCountScope scope(other);
    CHECK(at::get_num_threads() == other);
  }
  CHECK(at::get_num_threads() == caller);
  try {
    ThreadCountScope scope(other);
    throw std::runtime_error("a model failed");
  } catch (const std::runtime_error&) {
  }
  CHECK(at::get_num_threads() == caller);
  {
    ThreadCountScope restore;  // whatever the scope sets in between
    at::set_num_threads(other);
  }
  CHECK(at::get_num_threads() == caller);
}

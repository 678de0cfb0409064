#pragma once
// Reading a quantize report in tests.
#include <catch2/catch.hpp>

#include <string>

#include "mlopt/quantize/quantize.h"

namespace mlopt::test {

// The report's row for layer `name`; fails the test when there is none.
inline const QuantizedLayer& layer_named(const QuantizeResult& r, const std::string& name) {
  for (const auto& l : r.layers)
    if (l.name == name) return l;
  FAIL("no layer " << name << " in the quantize report");
  throw;
}

}  // namespace mlopt::test

#pragma once
// The digits data set (tests/data/digits.csv.gz, 8x8 images) and top-1
// accuracy, for the tests that train or quantize a real classifier on it.
#include <torch/script.h>

#include "mlopt/core/dataset.h"
#include "support/test_support.h"

namespace mlopt::test {

inline mlopt::Dataset digits_dataset() {
  mlopt::DataOptions d;
  d.path = test_data("digits.csv.gz");
  d.reshape = "1x8x8";
  d.scale = 0.0625;
  return mlopt::load_dataset(d);
}

// Percent of rows whose argmax is the label.
inline double top1_percent(const at::Tensor& logits, const at::Tensor& labels) {
  return 100.0 * logits.argmax(1).eq(labels).sum().item<double>() / static_cast<double>(labels.size(0));
}

}  // namespace mlopt::test

#pragma once
// Data sets shared by verify, quantize, prune and distill: `.npz` (arrays `x`,
// optional `y`) or numeric `.csv`/`.csv.gz` with or without a header row.
// A seeded, fixed train/validation split.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace mlopt {

struct DataOptions {
  std::string path;
  int64_t label_column = -1;      // csv: column of the label; -1 = last; use `no_labels` for none
  bool no_labels = false;         // csv: every column is a feature
  std::string reshape;            // per-sample shape, e.g. "1x8x8" (default: flat features)
  double scale = 1.0;             // features are multiplied by this (e.g. 0.0625 for 0..16 pixels)
  double val_split = 0.2;         // share of samples held out for validation
  uint64_t split_seed = 0;        // the split is fixed by this seed

  template <class V>
  void visit(V& v) {
    v.option("label-column", label_column, "CSV column holding the label (-1: last)");
    v.flag("no-labels", no_labels, "CSV has no label column");
    v.option("reshape", reshape, "Per-sample shape of the features, e.g. 1x8x8");
    v.option("scale", scale, "Multiply features by this factor");
    v.option("val-split", val_split, "Share of samples held out for validation");
    v.option("split-seed", split_seed, "Seed of the fixed train/validation split");
  }
};

struct Dataset {
  at::Tensor x;        // [N, ...] float32 (or the .npz dtype)
  at::Tensor y;        // [N] int64 labels, undefined when the data has none
  at::Tensor x_train, y_train, x_val, y_val;  // the seeded split (y_* undefined without labels)
  bool has_labels() const { return y.defined(); }
  int64_t size() const { return x.size(0); }
  int64_t num_classes() const;  // max label + 1 (0 without labels)
};

// Loads and splits a data set; malformed rows are errors naming file:line.
Dataset load_dataset(const DataOptions& options);

}  // namespace mlopt

#include "mlopt/core/dataset.h"

#include <torch/script.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/csv_table.h"
#include "mlopt/core/error.h"
#include "mlopt/core/tensor_file.h"

namespace mlopt {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<int64_t> parse_reshape(const std::string& path, const std::string& text) {
  std::vector<int64_t> dims;
  size_t start = 0;
  while (true) {
    size_t pos = text.find('x', start);
    std::string part = text.substr(start, pos == std::string::npos ? std::string::npos : pos - start);
    char* end = nullptr;
    long long v = std::strtoll(part.c_str(), &end, 10);
    if (part.empty() || end != part.c_str() + part.size() || v < 1)
      fail("'{}': --reshape '{}': expected positive sizes joined by 'x', e.g. 1x8x8", path, text);
    dims.push_back(v);
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return dims;
}

// Labels are class indices: whole numbers >= 0.
at::Tensor labels_from_csv(const CsvTable& t, int64_t column, const std::string& path) {
  auto y = torch::empty({t.rows}, at::kLong);
  auto* out = y.data_ptr<int64_t>();
  for (int64_t r = 0; r < t.rows; ++r) {
    double v = t.at(r, column);
    if (v < 0 || v != std::floor(v) || v > 1e9)
      fail("{}:{}: label {} in column {} is not a class index (a whole number >= 0)", path, t.line_of_row[r], v,
           column + 1);
    out[r] = static_cast<int64_t>(v);
  }
  return y;
}

void load_csv(const DataOptions& o, Dataset& d) {
  CsvTable t = read_numeric_csv(o.path);
  int64_t label_column = -1;
  if (!o.no_labels) {
    label_column = o.label_column < 0 ? t.columns + o.label_column : o.label_column;
    if (label_column < 0 || label_column >= t.columns)
      fail("'{}': --label-column {} is outside the file's {} columns (0..{}, or -1 for the last)", o.path,
           o.label_column, t.columns, t.columns - 1);
    if (t.columns < 2) fail("'{}': one column only, and it is the label; nothing left as features", o.path);
    d.y = labels_from_csv(t, label_column, o.path);
  }
  int64_t features = t.columns - (label_column >= 0 ? 1 : 0);
  d.x = torch::empty({t.rows, features}, at::kFloat);
  auto* x = d.x.data_ptr<float>();
  for (int64_t r = 0; r < t.rows; ++r)
    for (int64_t c = 0; c < t.columns; ++c)
      if (c != label_column) *x++ = static_cast<float>(t.at(r, c));
}

void load_npz(const DataOptions& o, Dataset& d) {
  for (auto& [name, tensor] : load_tensors(o.path)) {
    if (name == "x") d.x = tensor;
    if (name == "y") d.y = tensor;
  }
  if (!d.x.defined()) fail("'{}': no array named 'x' (expected arrays x and, optionally, y)", o.path);
  if (d.x.dim() < 1) fail("'{}': array 'x' is a scalar; expected [N, ...] samples", o.path);
  if (o.no_labels) d.y = at::Tensor();
  if (d.y.defined()) {
    if (d.y.dim() != 1 || d.y.size(0) != d.x.size(0))
      fail("'{}': array 'y' has shape {}; expected [{}] (one label per sample of x)", o.path,
           c10::str(d.y.sizes()), d.x.size(0));
    if (d.y.is_floating_point() && !torch::equal(d.y, d.y.floor()))
      fail("'{}': array 'y' holds fractional values; expected class indices", o.path);
    if (d.y.scalar_type() == at::kBool) d.y = d.y.to(at::kLong);
    d.y = d.y.to(at::kLong);
    if (d.y.numel() > 0 && d.y.min().item<int64_t>() < 0) fail("'{}': array 'y' holds negative labels", o.path);
  }
}

void apply_reshape_and_scale(const DataOptions& o, Dataset& d) {
  if (!o.reshape.empty()) {
    auto dims = parse_reshape(o.path, o.reshape);
    int64_t per_sample = d.size() == 0 ? 0 : d.x.numel() / d.size();
    int64_t wanted = 1;
    for (auto v : dims) wanted *= v;
    if (wanted != per_sample)
      fail("'{}': --reshape {} holds {} values, but each sample has {}", o.path, o.reshape, wanted, per_sample);
    dims.insert(dims.begin(), d.size());
    d.x = d.x.reshape(dims).contiguous();
  }
  if (o.scale != 1.0) {
    if (!d.x.is_floating_point()) d.x = d.x.to(at::kFloat);
    d.x = d.x * o.scale;
  }
}

// A portable seeded permutation (std::shuffle differs between standard
// libraries; this one is the same everywhere for a given seed).
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> p(n);
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  std::mt19937_64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    uint64_t bound = static_cast<uint64_t>(i) + 1;
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;  // rejection keeps the draw unbiased
    uint64_t r;
    do r = rng(); while (r >= limit);
    std::swap(p[i], p[static_cast<int64_t>(r % bound)]);
  }
  return p;
}

void split(const DataOptions& o, Dataset& d) {
  if (!(o.val_split >= 0.0 && o.val_split < 1.0))
    fail("--val-split {}: expected a share in [0, 1), e.g. 0.2", o.val_split);
  int64_t n = d.size();
  int64_t n_val = static_cast<int64_t>(std::llround(o.val_split * static_cast<double>(n)));
  if (o.val_split > 0 && n_val == 0 && n > 1) n_val = 1;
  if (n_val >= n && n > 0) n_val = n - 1;
  auto perm = seeded_permutation(n, o.split_seed);
  std::vector<int64_t> val(perm.begin(), perm.begin() + n_val), train(perm.begin() + n_val, perm.end());
  // File order within each part keeps the data easy to inspect.
  std::sort(val.begin(), val.end());
  std::sort(train.begin(), train.end());
  auto index = [](const std::vector<int64_t>& v) { return torch::tensor(v, at::kLong); };
  auto train_idx = index(train), val_idx = index(val);
  d.x_train = d.x.index_select(0, train_idx);
  d.x_val = d.x.index_select(0, val_idx);
  if (d.y.defined()) {
    d.y_train = d.y.index_select(0, train_idx);
    d.y_val = d.y.index_select(0, val_idx);
  }
}

}  // namespace

int64_t Dataset::num_classes() const {
  if (!y.defined() || y.numel() == 0) return 0;
  return y.max().item<int64_t>() + 1;
}

Dataset load_dataset(const DataOptions& options) {
  if (options.path.empty()) fail("no data set given (expected --data FILE.npz|.csv|.csv.gz)");
  std::string name = lower(options.path);
  Dataset d;
  if (ends_with(name, ".npz")) {
    load_npz(options, d);
  } else if (ends_with(name, ".csv") || ends_with(name, ".csv.gz")) {
    load_csv(options, d);
  } else {
    fail("'{}': expected a data set ending in .npz, .csv or .csv.gz", options.path);
  }
  apply_reshape_and_scale(options, d);
  split(options, d);
  return d;
}

}  // namespace mlopt

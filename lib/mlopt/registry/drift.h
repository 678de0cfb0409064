#pragma once
// Drift of a model's traffic against its baseline (the statistics of its
// validation data, measured at publish): the population stability index of
// the predicted-class distribution, the shift of mean confidence, and each
// input's mean shift in baseline standard deviations. The same figures for
// `mlopt monitor` (a whole file) and `mlopt serve` (a rolling window).
// No LibTorch here: rows are summarized by row_stats.h.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace mlopt::registry {

// When a figure counts as drift. Defaults, then the pipeline's
// `publish: monitor:` section (kept in baseline.json), then flags.
struct Thresholds {
  double max_psi = 0.2;               // predicted-class PSI (0.1 moderate, 0.25 large, by the usual rule)
  double max_confidence_shift = 0.1;  // |mean confidence - baseline| (probability units)
  double max_input_shift = 0.25;      // |input mean - baseline| / baseline std
  // |regressor output mean - baseline| / baseline std. Wider than the inputs':
  // an output's std is that of whole rows, so a 50-row window's mean wanders
  // ~0.14 std by chance (an input's std is that of its elements).
  double max_output_shift = 0.5;
  int64_t window = 500;               // rows in serve's rolling window
  int64_t min_rows = 50;              // fewer rows: no verdict yet (serve)

  nlohmann::json to_json() const;
  // Overrides the fields `j` names; `what` names the source in errors.
  void merge(const nlohmann::json& j, const std::string& what);
};

// One request row, summarized: per input the sum and sum of squares of its
// elements; per output the predicted class and its probability (classifier)
// or the row's mean value (regressor).
struct RowStats {
  struct Input {
    double sum = 0, sum_sq = 0;
    int64_t count = 0;
  };
  struct Output {
    int64_t predicted = -1;  // -1: a regressor output
    double confidence = 0;   // classifier: the top probability
    double value = 0;        // regressor: mean of the row's values
    int64_t classes = 0;     // classifier: the output's columns
  };
  std::vector<Input> inputs;
  std::vector<Output> outputs;
};

inline constexpr int kConfidenceBins = 10;  // histogram of confidence over [0, 1]

// Quantiles of a regressor output's values, and the deciles (p10..p90) whose
// 10 bins its value distribution is counted in.
inline constexpr int kQuantiles[] = {1, 5, 10, 25, 50, 75, 90, 95, 99};
inline constexpr int kValueBins = 10;

// Aggregates of many rows; a bounded window forgets the oldest row.
class StatsWindow {
 public:
  explicit StatsWindow(int64_t capacity = 0);  // 0: unbounded
  void add(const RowStats& row);
  int64_t rows() const { return static_cast<int64_t>(count_); }
  // {"rows", "inputs": [{mean, std}], "outputs": [{kind, class_counts, class_distribution,
  //  mean_confidence, confidence_histogram} | {kind, mean, std, quantiles, value_bins: {edges, distribution}}]}
  // A regressor's values are counted in the bins of `baseline`'s same output
  // (a baseline.json) when it has them, else in the window's own deciles (so a
  // baseline is the window of its validation rows).
  nlohmann::json to_json(const std::vector<std::string>& input_names, const std::vector<std::string>& output_names,
                         const nlohmann::json& baseline = nlohmann::json()) const;

 private:
  void apply(const RowStats& row, double sign);
  struct OutputAgg {
    std::vector<double> class_counts;
    std::vector<double> confidence_bins = std::vector<double>(kConfidenceBins, 0.0);
    double confidence_sum = 0, value_sum = 0, value_sum_sq = 0;
    std::vector<double> values;  // regressor values of an unbounded window (a bounded one reads kept_)
    bool classifier = false;
  };
  std::vector<double> values_of(size_t output) const;
  int64_t capacity_;
  double count_ = 0;
  std::deque<RowStats> kept_;  // bounded windows only
  std::vector<RowStats::Input> inputs_;
  std::vector<OutputAgg> outputs_;
};

struct DriftFigure {
  std::string subject;  // "output0", "input x"
  std::string kind;     // class_psi | confidence_shift | input_shift | output_shift | value_psi
  double value = 0, threshold = 0;
  bool drift = false;
};

struct DriftReport {
  int64_t rows = 0;
  Thresholds thresholds;
  std::vector<DriftFigure> figures;
  std::string verdict;  // "drift" | "no drift" | "too few rows"
  nlohmann::json baseline, current;  // the two summaries compared (for charts)
  bool drift() const { return verdict == "drift"; }
  nlohmann::json to_json() const;
  std::string to_markdown(const std::string& title) const;
  std::string to_html(const std::string& title) const;
};

// Population stability index of two distributions over the same bins.
double population_stability_index(const std::vector<double>& expected, const std::vector<double>& actual);

// The p-th percentile of sorted values (linear between neighbours).
double percentile(const std::vector<double>& sorted, double p);

// Compares a window's summary (StatsWindow::to_json) with a baseline.json.
DriftReport compare_to_baseline(const nlohmann::json& baseline, const nlohmann::json& current,
                                const Thresholds& thresholds);

}  // namespace mlopt::registry

#pragma once
// Prometheus metrics of one served model (prometheus-cpp behind this class, so
// its headers stay out of the rest of serve). Thread-safe.
#include <cstdint>
#include <memory>
#include <string>

namespace prometheus {
class Registry;
}

namespace mlopt::serving {

// The metric families several Metrics share (one per version of a model
// repository): each adds its own labelled series, text() shows them all.
class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  std::string text() const;  // the text exposition format

 private:
  friend class Metrics;
  std::shared_ptr<prometheus::Registry> registry_;
};

class Metrics {
 public:
  explicit Metrics(const std::string& model);  // its own families, labelled model
  // A version of a repository's model: labelled model and version, in `shared`.
  Metrics(MetricsRegistry& shared, const std::string& model, const std::string& version);
  ~Metrics();

  void request(int status, double seconds);  // requests by model/code + latency histogram
  void queue_time(double seconds);
  void inference_time(double seconds);       // one model run (one batch)
  void batch_size(int64_t size);             // requests stacked into one run
  void set_queue_depth(int64_t depth);
  void add_in_flight(int64_t delta);
  void set_load_time(double seconds);
  void set_warmup_time(double seconds);

  // The text exposition format (GET /metrics) of its families (shared ones: every version's).
  std::string text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlopt::serving

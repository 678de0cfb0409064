#include "mlopt/serve/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <map>
#include <mutex>

namespace mlopt::serving {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

namespace {

// Latency buckets from 0.5 ms to 10 s: the range a CPU model server lives in.
prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace

struct Metrics::Impl {
  Impl(std::shared_ptr<prometheus::Registry> shared, std::map<std::string, std::string> labels_)
      : registry_ptr(std::move(shared)),
        labels(std::move(labels_)),
        requests(BuildCounter().Name("mlopt_serve_requests_total").Help("Requests by model and HTTP status code").Register(registry)),
        latency(BuildHistogram().Name("mlopt_serve_request_duration_seconds").Help("Infer request latency, receipt to response")
                    .Register(registry).Add(labels, latency_buckets())),
        queue(BuildHistogram().Name("mlopt_serve_queue_duration_seconds").Help("Time a request waited for a worker")
                  .Register(registry).Add(labels, latency_buckets())),
        inference(BuildHistogram().Name("mlopt_serve_inference_duration_seconds").Help("Time of one model run (one batch)")
                      .Register(registry).Add(labels, latency_buckets())),
        batch(BuildHistogram().Name("mlopt_serve_batch_size").Help("Requests stacked into one model run")
                  .Register(registry).Add(labels, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128})),
        depth(BuildGauge().Name("mlopt_serve_queue_depth").Help("Requests waiting for a worker").Register(registry).Add(labels)),
        in_flight(BuildGauge().Name("mlopt_serve_in_flight").Help("Infer requests being handled").Register(registry).Add(labels)),
        load(BuildGauge().Name("mlopt_serve_model_load_seconds").Help("Time to load the model").Register(registry).Add(labels)),
        warmup(BuildGauge().Name("mlopt_serve_warmup_seconds").Help("Time of the warm-up runs").Register(registry).Add(labels)) {}

  prometheus::Counter& counter_for(int status) {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = by_status.find(status);
    if (it != by_status.end()) return *it->second;
    auto with_code = labels;
    with_code["code"] = std::to_string(status);
    auto& c = requests.Add(with_code);
    by_status[status] = &c;
    return c;
  }

  // A shared registry (the default Merge behaviour) hands every version the same families.
  std::shared_ptr<prometheus::Registry> registry_ptr;
  prometheus::Registry& registry = *registry_ptr;
  std::map<std::string, std::string> labels;
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Histogram& latency;
  prometheus::Histogram& queue;
  prometheus::Histogram& inference;
  prometheus::Histogram& batch;
  prometheus::Gauge& depth;
  prometheus::Gauge& in_flight;
  prometheus::Gauge& load;
  prometheus::Gauge& warmup;
  std::mutex mutex;
  std::map<int, prometheus::Counter*> by_status;
};

MetricsRegistry::MetricsRegistry() : registry_(std::make_shared<prometheus::Registry>()) {}
MetricsRegistry::~MetricsRegistry() = default;
std::string MetricsRegistry::text() const { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

Metrics::Metrics(const std::string& model)
    : impl_(std::make_unique<Impl>(std::make_shared<prometheus::Registry>(), std::map<std::string, std::string>{{"model", model}})) {}
Metrics::Metrics(MetricsRegistry& shared, const std::string& model, const std::string& version)
    : impl_(std::make_unique<Impl>(shared.registry_, std::map<std::string, std::string>{{"model", model}, {"version", version}})) {}
Metrics::~Metrics() = default;

void Metrics::request(int status, double seconds) {
  impl_->counter_for(status).Increment();
  impl_->latency.Observe(seconds);
}
void Metrics::queue_time(double seconds) { impl_->queue.Observe(seconds); }
void Metrics::inference_time(double seconds) { impl_->inference.Observe(seconds); }
void Metrics::batch_size(int64_t size) { impl_->batch.Observe(static_cast<double>(size)); }
void Metrics::set_queue_depth(int64_t depth) { impl_->depth.Set(static_cast<double>(depth)); }
void Metrics::add_in_flight(int64_t delta) { impl_->in_flight.Increment(static_cast<double>(delta)); }
void Metrics::set_load_time(double seconds) { impl_->load.Set(seconds); }
void Metrics::set_warmup_time(double seconds) { impl_->warmup.Set(seconds); }

std::string Metrics::text() const { return prometheus::TextSerializer().Serialize(impl_->registry.Collect()); }

}  // namespace mlopt::serving

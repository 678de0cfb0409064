#pragma once
// Dynamic batching over a bounded queue: worker threads take the oldest
// request, wait up to max_delay for compatible company (same dims apart from
// the batch dim), stack them along dim 0 up to max_batch rows, run the model
// once and split the outputs back per request.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mlopt/serve/clock.h"
#include "mlopt/serve/metrics.h"
#include "mlopt/serve/model.h"
#include "mlopt/serve/tensor.h"

namespace mlopt::serving {

struct BatchOptions {
  int max_batch = 1;         // rows per model run; 1: no batching
  double max_delay_ms = 0;   // how long the oldest request waits for company
  int queue = 64;            // requests waiting at most (beyond: refused)
  bool batchable = false;    // every input and output has the batch as dim 0
};

// One request's trip through the queue.
struct Job {
  std::vector<HostTensor> inputs;
  std::vector<std::string> output_names;
  Clock::time_point enqueued = Clock::now();
  std::chrono::steady_clock::time_point deadline = Clock::time_point::max();

  // Filled by the worker, then `done` is set under `mutex`.
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  bool abandoned = false;  // the client was answered (504): skip it
  std::vector<HostTensor> outputs;
  std::string error;  // non-empty: the model failed on this request
};

class Batcher {
 public:
  // One model per worker thread (each run is single-caller).
  Batcher(BatchOptions options, std::vector<std::unique_ptr<Model>> models, Metrics& metrics);
  ~Batcher();

  enum class Admission { kQueued, kFull, kStopped };
  Admission submit(const std::shared_ptr<Job>& job);
  // Waits for the job until its deadline; false on timeout (the job is abandoned).
  bool wait(Job& job);
  // Finishes every queued job, then joins the workers.
  void drain();
  int64_t depth() const;
  // True when submit() would refuse for lack of room: lets a caller refuse
  // before spending time on the request.
  bool full() const;

 private:
  void work(Model& model);
  std::vector<std::shared_ptr<Job>> next_batch(std::unique_lock<std::mutex>& lock);
  void run_batch(Model& model, const std::vector<std::shared_ptr<Job>>& batch);
  void run_alone(Model& model, Job& job);

  BatchOptions options_;
  std::vector<std::unique_ptr<Model>> models_;
  Metrics& metrics_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace mlopt::serving

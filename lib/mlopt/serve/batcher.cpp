#include "mlopt/serve/batcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>

namespace mlopt::serving {
namespace {

// Requests batch together when every input has the same dims after dim 0.
bool compatible(const Job& a, const Job& b) {
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    const auto& x = a.inputs[i].shape;
    const auto& y = b.inputs[i].shape;
    if (x.size() != y.size() || !std::equal(x.begin() + 1, x.end(), y.begin() + 1)) return false;
  }
  return true;
}

int64_t rows(const Job& job) { return job.inputs.empty() || job.inputs[0].shape.empty() ? 1 : job.inputs[0].shape[0]; }

void finish(Job& job, std::vector<HostTensor> outputs, std::string error) {
  for (size_t i = 0; i < outputs.size(); ++i)
    outputs[i].name = i < job.output_names.size() ? job.output_names[i] : "output" + std::to_string(i);
  std::lock_guard<std::mutex> lock(job.mutex);
  job.outputs = std::move(outputs);
  job.error = std::move(error);
  job.done = true;
  job.cv.notify_all();
}

std::string message_of(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::string text = e.what();
    return text.substr(0, text.find('\n'));
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace

Batcher::Batcher(BatchOptions options, std::vector<std::unique_ptr<Model>> models, Metrics& metrics)
    : options_(options), models_(std::move(models)), metrics_(metrics) {
  if (!options_.batchable) options_.max_batch = 1;
  for (auto& model : models_) workers_.emplace_back([this, m = model.get()] { work(*m); });
}

Batcher::~Batcher() { drain(); }

Batcher::Admission Batcher::submit(const std::shared_ptr<Job>& job) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_) return Admission::kStopped;
  if (static_cast<int>(queue_.size()) >= options_.queue) return Admission::kFull;
  queue_.push_back(job);
  metrics_.set_queue_depth(static_cast<int64_t>(queue_.size()));
  cv_.notify_one();
  return Admission::kQueued;
}

bool Batcher::wait(Job& job) {
  std::unique_lock<std::mutex> lock(job.mutex);
  if (job.cv.wait_until(lock, job.deadline, [&] { return job.done; })) return true;
  job.abandoned = true;
  return false;
}

void Batcher::drain() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_)
    if (w.joinable()) w.join();
}

int64_t Batcher::depth() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(queue_.size());
}

bool Batcher::full() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(queue_.size()) >= options_.queue;
}

void Batcher::work(Model& model) {
  for (;;) {
    std::vector<std::shared_ptr<Job>> batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to finish
      batch = next_batch(lock);
      metrics_.set_queue_depth(static_cast<int64_t>(queue_.size()));
    }
    if (!batch.empty()) run_batch(model, batch);
  }
}

// Called with the queue locked and not empty; may wait (unlocking) for company.
std::vector<std::shared_ptr<Job>> Batcher::next_batch(std::unique_lock<std::mutex>& lock) {
  auto abandoned = [](const std::shared_ptr<Job>& job) {
    std::lock_guard<std::mutex> job_lock(job->mutex);
    return job->abandoned;
  };
  std::vector<std::shared_ptr<Job>> batch;
  while (!queue_.empty() && batch.empty()) {
    auto job = queue_.front();
    queue_.pop_front();
    if (!abandoned(job)) batch.push_back(job);
  }
  if (batch.empty() || options_.max_batch <= 1) return batch;
  int64_t total = rows(*batch[0]);
  const auto until = batch[0]->enqueued + std::chrono::microseconds(static_cast<int64_t>(options_.max_delay_ms * 1000));
  for (;;) {
    for (auto it = queue_.begin(); it != queue_.end() && total < options_.max_batch;) {
      if (compatible(*batch[0], **it) && total + rows(**it) <= options_.max_batch) {
        if (!abandoned(*it)) {
          total += rows(**it);
          batch.push_back(*it);
        }
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    if (total >= options_.max_batch || stopping_ || Clock::now() >= until) break;
    cv_.wait_until(lock, until);
  }
  return batch;
}

void Batcher::run_alone(Model& model, Job& job) {
  const auto start = Clock::now();
  try {
    auto outputs = model.run(job.inputs);
    metrics_.inference_time(seconds_since(start));
    finish(job, std::move(outputs), "");
  } catch (...) {
    finish(job, {}, message_of(std::current_exception()));
  }
}

void Batcher::run_batch(Model& model, const std::vector<std::shared_ptr<Job>>& batch) {
  const auto start = Clock::now();
  for (const auto& job : batch) metrics_.queue_time(std::chrono::duration<double>(start - job->enqueued).count());
  metrics_.batch_size(static_cast<int64_t>(batch.size()));
  if (batch.size() == 1) return run_alone(model, *batch[0]);

  // Stack every input along dim 0: row-major bytes simply concatenate.
  int64_t total = 0;
  for (const auto& job : batch) total += rows(*job);
  std::vector<HostTensor> stacked = batch[0]->inputs;
  for (size_t i = 0; i < stacked.size(); ++i) {
    stacked[i].shape[0] = total;
    stacked[i].bytes.reserve(stacked[i].bytes.size() * static_cast<size_t>(total));
    for (size_t j = 1; j < batch.size(); ++j) stacked[i].bytes += batch[j]->inputs[i].bytes;
  }
  std::vector<HostTensor> outputs;
  try {
    outputs = model.run(stacked);
  } catch (...) {
    // One bad request must not fail its neighbours: run each alone.
    for (const auto& job : batch) run_alone(model, *job);
    return;
  }
  metrics_.inference_time(seconds_since(start));
  for (const auto& out : outputs)
    if (out.shape.empty() || out.shape[0] != total) {
      for (const auto& job : batch) run_alone(model, *job);
      return;
    }
  // Split every output back by each request's rows.
  int64_t row = 0;
  for (const auto& job : batch) {
    const int64_t n = rows(*job);
    std::vector<HostTensor> mine;
    for (const auto& out : outputs) {
      const size_t row_bytes = out.bytes.size() / static_cast<size_t>(total);
      HostTensor part{out.name, out.datatype, out.shape, out.bytes.substr(static_cast<size_t>(row) * row_bytes,
                                                                         static_cast<size_t>(n) * row_bytes)};
      part.shape[0] = n;
      mine.push_back(std::move(part));
    }
    row += n;
    finish(*job, std::move(mine), "");
  }
}

}  // namespace mlopt::serving

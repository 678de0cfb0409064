#pragma once
// The infer call both servers answer (`serve MODEL` and `serve REPO`): refuse
// early when the queue is full, parse and validate the v2 body, queue it for
// the batcher, wait, answer with the outputs (naming the version, when there
// is one) and count it in the model's metrics. What a server does besides
// (its own checks first, drift and request logs after) is its own.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mlopt/serve/batcher.h"
#include "mlopt/serve/clock.h"
#include "mlopt/serve/metrics.h"
#include "mlopt/serve/tensor.h"
#include "mlopt/serve/v2_protocol.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace mlopt::serving {

// What one infer call runs on.
struct InferTarget {
  std::string model;
  std::string version;  // "": a single model (no model_version, no X-Model-Version)
  const Signature& signature;
  const std::unique_ptr<Batcher>& batcher;  // read only once `refusal` (if any) lets the call run
  Metrics& metrics;
  double timeout_ms = 10000;
};

// After a request is run, before its 200 goes out: its validated inputs and the model's outputs.
using AnsweredHook = std::function<void(const httplib::Request&, const std::vector<HostTensor>& inputs,
                                        const std::vector<HostTensor>& outputs)>;

// Answers `req` into `res` and counts it (in flight, status, latency from
// `start`). `refusal`, when it returns a status other than 0, has already
// written its answer (a wrong model name, a model not ready) and nothing runs.
void answer_infer(const InferTarget& target, const httplib::Request& req, httplib::Response& res, Clock::time_point start,
                  const std::function<int()>& refusal = {}, const AnsweredHook& answered = {});

// The Inference-Header-Content-Length header (binary tensor data), when present; throws RequestError.
std::optional<size_t> header_length(const httplib::Request& req);

// `body` as the answer, with `status` and content type `type`.
void reply(httplib::Response& res, int status, const std::string& body, const char* type = "application/json");

// A model metadata list: [{name, datatype, shape}, ...].
nlohmann::json tensor_specs(const std::vector<TensorSpec>& specs);

// {"error": message} with `status`.
void reply_error(httplib::Response& res, int status, const std::string& message);

}  // namespace mlopt::serving

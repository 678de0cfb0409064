#include "mlopt/serve/infer_handler.h"

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

namespace mlopt::serving {
namespace {

void refuse_full(httplib::Response& res) {
  res.set_header("Retry-After", "1");
  reply_error(res, 503, "the request queue is full (--queue); retry later");
}

void run_infer(const InferTarget& target, const httplib::Request& req, httplib::Response& res, Clock::time_point start,
               const AnsweredHook& answered) {
  if (!target.version.empty()) res.set_header("X-Model-Version", target.version);
  // Under overload, refuse before parsing: a 503 must stay cheap, or
  // refusing the excess takes the CPU the admitted requests need.
  if (target.batcher->full()) return refuse_full(res);
  InferRequest request;
  try {
    request = parse_infer_request(req.body, header_length(req), target.signature);
  } catch (const RequestError& e) {
    return reply_error(res, e.status(), e.what());
  }
  auto job = std::make_shared<Job>();
  job->inputs = std::move(request.inputs);  // the batcher only reads them: the hook gets them back
  for (const auto& spec : target.signature.outputs) job->output_names.push_back(spec.name);
  job->enqueued = start;
  job->deadline = start + std::chrono::microseconds(static_cast<int64_t>(target.timeout_ms * 1000));
  switch (target.batcher->submit(job)) {
    case Batcher::Admission::kFull:
      return refuse_full(res);
    case Batcher::Admission::kStopped:
      return reply_error(res, 503, "the server is shutting down");
    case Batcher::Admission::kQueued:
      break;
  }
  if (!target.batcher->wait(*job))
    return reply_error(res, 504, fmt::format("no answer within --timeout-ms {}", target.timeout_ms));
  if (!job->error.empty()) return reply_error(res, 500, "model error: " + job->error);
  if (answered) answered(req, job->inputs, job->outputs);
  InferResponse response = encode_infer_response(target.model, request, job->outputs, target.version);
  if (response.json_length) res.set_header("Inference-Header-Content-Length", std::to_string(*response.json_length));
  res.status = 200;
  res.set_content(response.body, response.content_type.c_str());
}

}  // namespace

void reply(httplib::Response& res, int status, const std::string& body, const char* type) {
  res.status = status;
  res.set_content(body, type);
}

nlohmann::json tensor_specs(const std::vector<TensorSpec>& specs) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : specs) list.push_back({{"name", s.name}, {"datatype", s.datatype}, {"shape", s.shape}});
  return list;
}

void reply_error(httplib::Response& res, int status, const std::string& message) { reply(res, status, error_body(message)); }

std::optional<size_t> header_length(const httplib::Request& req) {
  if (!req.has_header("Inference-Header-Content-Length")) return std::nullopt;
  const std::string text = req.get_header_value("Inference-Header-Content-Length");
  size_t used = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw RequestError(400, fmt::format("Inference-Header-Content-Length '{}' is not a byte count", text));
  return static_cast<size_t>(n);
}

void answer_infer(const InferTarget& target, const httplib::Request& req, httplib::Response& res, Clock::time_point start,
                  const std::function<int()>& refusal, const AnsweredHook& answered) {
  target.metrics.add_in_flight(1);
  if (!refusal || refusal() == 0) run_infer(target, req, res, start, answered);
  target.metrics.add_in_flight(-1);
  target.metrics.request(res.status, seconds_since(start));
}

}  // namespace mlopt::serving

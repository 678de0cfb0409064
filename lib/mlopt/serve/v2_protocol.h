#pragma once
// The Open Inference Protocol (KServe v2) REST body of an infer call: JSON
// tensors, optionally followed by raw tensor bytes (the binary tensor data
// extension, whose JSON length is the Inference-Header-Content-Length header).
// Every request is validated against the model's signature here, before it is
// queued, so the model only ever sees well-formed inputs.
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "mlopt/serve/tensor.h"

namespace mlopt::serving {

// A request the server refuses: the HTTP status (400) and one line naming the
// input or field and what was expected.
class RequestError : public std::runtime_error {
 public:
  RequestError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// A 400: the request is malformed or does not fit the model.
[[noreturn]] inline void bad_request(const std::string& message) { throw RequestError(400, message); }

struct RequestedOutput {
  std::string name;
  bool binary = false;
};

struct InferRequest {
  std::string id;
  std::vector<HostTensor> inputs;        // in the signature's order, validated
  std::vector<RequestedOutput> outputs;  // empty: every output
  bool binary_output = false;            // parameters.binary_data_output
};

// `json_length`: the Inference-Header-Content-Length header when present.
// Throws RequestError.
InferRequest parse_infer_request(const std::string& body, std::optional<size_t> json_length, const Signature& signature);

struct InferResponse {
  std::string body;
  std::string content_type;           // application/json or application/octet-stream
  std::optional<size_t> json_length;  // set when binary tensors follow the JSON
};

// `outputs` are every output of the model, named, for this request alone;
// `model_version`, when given, is named right after the model.
InferResponse encode_infer_response(const std::string& model_name, const InferRequest& request,
                                    const std::vector<HostTensor>& outputs, const std::string& model_version = "");

// {"error": "..."}
std::string error_body(const std::string& message);

}  // namespace mlopt::serving

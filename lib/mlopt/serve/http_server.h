#pragma once
// The HTTP layer (cpp-httplib behind a pimpl): Open Inference Protocol v2
// routes, /metrics, the access log. Knows the model only through its
// signature and the batcher, never LibTorch.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "mlopt/serve/batcher.h"
#include "mlopt/serve/metrics.h"
#include "mlopt/serve/tensor.h"

namespace mlopt::serving {

// What the routes share with serve(); the batcher is set before `ready`.
struct ServerState {
  explicit ServerState(const std::string& model) : metrics(model) {}
  Signature signature;
  std::string platform;  // pytorch_torchscript | onnx
  Metrics metrics;
  std::unique_ptr<Batcher> batcher;
  std::atomic<bool> ready{false};
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> failed{0};
  double timeout_ms = 10000;
  bool access_log = true;
  bool json_log = false;
};

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8000;  // 0: any free port
  int threads = 256;
  int64_t max_body = 64 << 20;
};

class HttpServer {
 public:
  // Binds at once (so a port in use fails before loading anything else).
  HttpServer(ServerState& state, const HttpOptions& options);
  ~HttpServer();
  int port() const;
  // Serves until stop(); then returns after the requests in flight are answered.
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlopt::serving

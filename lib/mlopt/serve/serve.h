#pragma once
// `mlopt serve MODEL|RELEASE_DIR`: the artifact behind an HTTP endpoint that
// speaks the Open Inference Protocol (KServe v2, REST), with validation,
// dynamic batching, a bounded queue, Prometheus metrics and a graceful drain on
// SIGTERM/SIGINT. Torch-free header.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "mlopt/core/options.h"

namespace mlopt {

struct ServeOptions {
  std::string model;                  // .pt/.ptl/.onnx, or a `mlopt run --out` folder
  std::string artifact;               // which artifact of a release folder (file or step name)
  std::string name;                   // model name in the URLs (default: file stem / pipeline name)
  std::vector<std::string> input;     // input specs when the artifact declares none
  std::string host = "127.0.0.1";
  int port = 8000;                    // 0: any free port (printed on stderr)
  int max_batch = 8;
  double max_delay_ms = 2;
  int workers = 1;
  int queue = 64;
  double timeout_ms = 10000;
  int64_t max_body = 64 << 20;
  int http_threads = 256;             // connections served at once
  int warmup = 2;                     // warm-up runs per batch size
  // A model repository (docs/registry.md): A/B splits, sticky key, drift window, how often to look for new versions.
  std::vector<std::string> split;     // name=v1:90,v2:10
  std::string split_key = "X-Request-Key";
  int drift_window = 0;               // 0: the model's publish.monitor window (default 500)
  int poll_ms = 1000;
  std::string log_requests;           // a folder: each version's JSON requests, for `mlopt monitor`
  int log_max_mb = 64;

  template <class V>
  void visit(V& v) {
    v.positional("model", model, "Artifact to serve (.pt, .ptl, .onnx), a release folder (`mlopt run --out`) or a model repository");
    v.option("artifact", artifact, "Artifact of a release folder to serve: file or step name (default: the last .pt)");
    v.option("name", name, "Model name in the URLs (default: the file's stem, or the pipeline's name)");
    v.option("input", input, "Input spec NAME:SHAPE[:DTYPE] when the artifact declares none, e.g. x:batch=1x1x8x8");
    v.option("host", host, "Address to bind (default loopback; 0.0.0.0 for every interface)");
    v.option("port", port, "TCP port (0: any free port)");
    v.option("max-batch", max_batch, "Rows stacked into one model run (1: no batching)");
    v.option("max-delay-ms", max_delay_ms, "How long the oldest request waits for others to batch with");
    v.option("workers", workers, "Inference threads, each with its own copy of the model");
    v.option("queue", queue, "Requests waiting at most; beyond, 503 with Retry-After");
    v.option("timeout-ms", timeout_ms, "A request not answered within this many ms gets 504");
    v.option("max-body", max_body, "Largest request body in bytes");
    v.option("http-threads", http_threads, "Connections served at once");
    v.option("warmup", warmup, "Warm-up runs per batch size before ready");
    v.option("split", split, "Model repository: route NAME's traffic by share, e.g. digits=1:90,2:10 (repeatable)");
    v.option("split-key", split_key, "Model repository: header whose value keeps a client on one version of a split");
    v.option("drift-window", drift_window, "Model repository: rows in each version's drift window (0: the model's)");
    v.option("poll-ms", poll_ms, "Model repository: how often to look for new and promoted versions");
    v.option("log-requests", log_requests, "Model repository: write each version's JSON requests to DIR/<model>-<version>.jsonl");
    v.option("log-max-mb", log_max_mb, "Model repository: rotate a request log past this size (MB); one old file is kept");
  }
};

struct ServeResult {
  std::string model;
  std::string url;
  int64_t requests = 0;   // infer requests answered
  int64_t failed = 0;     // of which not 200
  double seconds = 0;     // serving time

  nlohmann::json to_json() const;
  std::string to_text() const;
};

// Blocks until SIGTERM or SIGINT, then stops accepting, finishes what is
// queued and in flight, and returns. Throws mlopt::Error on a bad artifact or
// a port it cannot bind.
ServeResult serve(const ServeOptions& options, const GlobalOptions& global);

}  // namespace mlopt

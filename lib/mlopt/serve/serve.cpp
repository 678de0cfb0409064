#include "mlopt/serve/serve.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <chrono>
#include <thread>

#include "mlopt/core/allocator_tuning.h"
#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/serve/artifact.h"
#include "mlopt/serve/batcher.h"
#include "mlopt/serve/http_server.h"
#include "mlopt/serve/repository_server.h"
#include "mlopt/serve/shutdown_signal.h"
#include "mlopt/serve/warmup.h"

namespace mlopt {
namespace {

using namespace serving;

void check_options(const ServeOptions& o) {
  if (o.port < 0 || o.port > 65535) fail_usage("--port {}: expected 0 to 65535", o.port);
  if (o.max_batch < 1 || o.max_batch > 4096) fail_usage("--max-batch {}: expected 1 to 4096", o.max_batch);
  if (o.max_delay_ms < 0 || o.max_delay_ms > 60000) fail_usage("--max-delay-ms {}: expected 0 to 60000", o.max_delay_ms);
  if (o.workers < 1 || o.workers > 256) fail_usage("--workers {}: expected 1 to 256", o.workers);
  if (o.queue < 1) fail_usage("--queue {}: expected at least 1", o.queue);
  if (o.timeout_ms <= 0) fail_usage("--timeout-ms {}: expected a positive number", o.timeout_ms);
  if (o.max_body < 1) fail_usage("--max-body {}: expected a positive byte count", o.max_body);
  if (o.http_threads < 1 || o.http_threads > 10000) fail_usage("--http-threads {}: expected 1 to 10000", o.http_threads);
  if (o.warmup < 0) fail_usage("--warmup {}: expected 0 or more", o.warmup);
}

// Input specs: --input, else the release manifest's signature, else what the artifact declares.
std::vector<InputSpec> input_specs(const ServeOptions& o, const ServedArtifact& artifact, const Model& model) {
  if (!o.input.empty()) return parse_input_specs(o.input);
  if (!artifact.inputs.empty()) return artifact.inputs;
  auto declared = model.declared_inputs();
  if (declared.empty())
    fail("{}: the artifact declares no inputs (no mlopt.json metadata); give them with --input NAME:SHAPE[:DTYPE], "
         "e.g. --input x:batch=1x1x8x8",
         artifact.path);
  return declared;
}

// The models run on worker threads, and glibc gives each thread its own arena:
// heaps of at most 64 MB that the steady-state settings of
// core/allocator_tuning.h do not keep, so every run of a large model maps its
// activations afresh. Measured on ResNet-18 at batch 8: ~4,000 page faults per
// run against ~1,000 with one arena, and the model's own time 20-30% slower
// than `mlopt profile` on the main thread. One arena for the whole process.
void one_heap_arena() {
#if defined(__GLIBC__)
  mallopt(M_ARENA_MAX, 1);
#endif
}

}  // namespace

ServeResult serve(const ServeOptions& options, const GlobalOptions& global) {
  check_options(options);
  one_heap_arena();  // before any thread is started
  tune_allocator_for_steady_state();  // a long-lived server keeps freed activations (core/allocator_tuning.h)
  fmt::print(stderr, "mlopt serve: glibc malloc tuned for a long-lived process, as `mlopt profile` recommends ({})\n",
             allocator_tuning_env_text());
  if (is_model_repository(options.model)) return serve_repository(options, global);
  const ServedArtifact artifact = find_artifact(options.model, options.artifact, options.name);
  catch_shutdown_signals();

  ServerState state(artifact.name);
  state.timeout_ms = options.timeout_ms;
  state.access_log = !global.quiet;
  state.json_log = global.json;
  // Bind first: a port in use fails before the model is loaded.
  HttpServer http(state, {options.host, options.port, options.http_threads, options.max_body});
  const std::string url = fmt::format("http://{}:{}", options.host, http.port());

  const auto load_start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<Model>> models;
  for (int i = 0; i < options.workers; ++i)
    models.push_back(with_context("loading " + artifact.path, [&] { return load_model(artifact.path); }));
  state.metrics.set_load_time(seconds_since(load_start));
  state.platform = models[0]->engine() == "onnx-reference-evaluator" ? "onnx" : "pytorch_torchscript";

  state.signature.name = artifact.name;
  std::vector<std::vector<int64_t>> examples;
  for (const auto& spec : input_specs(options, artifact, *models[0])) {
    state.signature.inputs.push_back(tensor_spec(spec));
    examples.push_back(spec.shape());
  }
  std::thread listener([&] {
    http.run();
    notify_shutdown();
  });
  fmt::print(stderr, "mlopt serve: model '{}' ({}) on {}, warming up\n", artifact.name, artifact.path, url);

  std::vector<Model*> raw;
  for (auto& m : models) raw.push_back(m.get());
  WarmupResult warm;
  try {
    std::vector<std::string> names = artifact.output_names.empty() ? models[0]->output_names() : artifact.output_names;
    warm = warm_up(raw, state.signature.inputs, examples, options.max_batch, std::max(options.warmup, 1), names);
  } catch (...) {
    http.stop();
    listener.join();
    throw;
  }
  state.signature.outputs = warm.outputs;
  state.metrics.set_warmup_time(warm.seconds);
  BatchOptions batching{options.max_batch, options.max_delay_ms, options.queue, warm.batchable};
  state.batcher = std::make_unique<Batcher>(batching, std::move(models), state.metrics);
  const auto serving_start = std::chrono::steady_clock::now();
  state.ready = true;
  fmt::print(stderr, "mlopt serve: ready on {}/v2/models/{} (max batch {}, {} worker(s), warm-up {:.2f}s)\n", url,
             artifact.name, warm.batchable ? options.max_batch : 1, options.workers, warm.seconds);

  const int sig = wait_for_shutdown();
  // Drain: not ready (balancers stop sending), stop accepting, answer what is in flight.
  state.ready = false;
  fmt::print(stderr, "mlopt serve: {}, draining\n", sig == 2 ? "SIGINT" : sig == 15 ? "SIGTERM" : "server stopped");
  http.stop();
  listener.join();
  state.batcher->drain();

  ServeResult result;
  result.model = artifact.name;
  result.url = url;
  result.requests = state.requests;
  result.failed = state.failed;
  result.seconds = seconds_since(serving_start);
  return result;
}

nlohmann::json ServeResult::to_json() const {
  return {{"model", model}, {"url", url}, {"requests", requests}, {"failed", failed}, {"seconds", seconds}};
}

std::string ServeResult::to_text() const {
  return fmt::format("served '{}' on {}: {} infer requests ({} not 200) in {:.1f}s\n", model, url, requests, failed, seconds);
}

}  // namespace mlopt

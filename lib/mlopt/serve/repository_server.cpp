#include "mlopt/serve/repository_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"
#include "mlopt/core/version.h"
#include "mlopt/registry/drift.h"
#include "mlopt/registry/repository.h"
#include "mlopt/serve/artifact.h"
#include "mlopt/serve/batcher.h"
#include "mlopt/serve/drift_rows.h"
#include "mlopt/serve/infer_handler.h"
#include "mlopt/serve/metrics.h"
#include "mlopt/serve/request_log.h"
#include "mlopt/serve/shutdown_signal.h"
#include "mlopt/serve/traffic_split.h"
#include "mlopt/serve/v2_protocol.h"
#include "mlopt/serve/warmup.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mlopt::serving {
namespace {


// One loaded version: its model copies behind a batcher, its metrics, its drift window.
struct VersionSlot {
  std::string model, version, dir;
  Signature signature;
  std::string platform;
  std::unique_ptr<Metrics> metrics;
  std::unique_ptr<Batcher> batcher;
  json baseline;
  registry::Thresholds thresholds;
  std::mutex drift_mutex;
  std::unique_ptr<registry::StatsWindow> window;
  int64_t rows_since_warning = 0;
  bool warned = false;
};

using SlotPtr = std::shared_ptr<VersionSlot>;

std::vector<std::string> names_of(const json& list) {
  std::vector<std::string> names;
  if (list.is_array())
    for (const auto& item : list) names.push_back(item.value("name", ""));
  return names;
}

SlotPtr load_version(const std::string& repo, const std::string& model, const std::string& version,
                     const ServeOptions& options, MetricsRegistry& metrics) {
  auto slot = std::make_shared<VersionSlot>();
  slot->model = model;
  slot->version = version;
  slot->dir = (fs::path(repo) / model / version).string();
  const json manifest = registry::read_version_manifest(slot->dir);
  const ServedArtifact artifact = find_artifact(slot->dir, manifest["artifact"].get<std::string>(), model);
  const auto start = Clock::now();
  std::vector<std::unique_ptr<Model>> models;
  for (int i = 0; i < options.workers; ++i)
    models.push_back(with_context("loading " + artifact.path, [&] { return load_model(artifact.path); }));
  const double load_seconds = seconds_since(start);
  slot->platform = models[0]->engine() == "onnx-reference-evaluator" ? "onnx" : "pytorch_torchscript";
  slot->signature.name = model;
  std::vector<InputSpec> specs = !options.input.empty() ? parse_input_specs(options.input) : artifact.inputs;
  if (specs.empty()) specs = models[0]->declared_inputs();
  if (specs.empty()) fail("{}: the artifact declares no inputs; give them with --input", artifact.path);
  std::vector<std::vector<int64_t>> examples;
  for (const auto& spec : specs) {
    slot->signature.inputs.push_back(tensor_spec(spec));
    examples.push_back(spec.shape());
  }
  std::vector<Model*> raw;
  for (auto& m : models) raw.push_back(m.get());
  const auto names = artifact.output_names.empty() ? models[0]->output_names() : artifact.output_names;
  const WarmupResult warm = warm_up(raw, slot->signature.inputs, examples, options.max_batch, std::max(options.warmup, 1), names);
  slot->signature.outputs = warm.outputs;
  // Its series join the shared families once it loaded (a version that fails shows none).
  slot->metrics = std::make_unique<Metrics>(metrics, model, version);
  slot->metrics->set_load_time(load_seconds);
  slot->metrics->set_warmup_time(warm.seconds);
  slot->batcher = std::make_unique<Batcher>(
      BatchOptions{options.max_batch, options.max_delay_ms, options.queue, warm.batchable}, std::move(models),
      *slot->metrics);
  const std::string baseline_path = (fs::path(slot->dir) / registry::kBaselineFile).string();
  slot->baseline = registry::read_json_file(baseline_path, "the baseline that `mlopt publish` writes");
  slot->thresholds.merge(slot->baseline.value("thresholds", json::object()), baseline_path + ": thresholds");
  if (options.drift_window > 0) slot->thresholds.window = options.drift_window;
  slot->window = std::make_unique<registry::StatsWindow>(slot->thresholds.window);
  return slot;
}

// The versions being served, refreshed from the folder while serving.
class Repository {
 public:
  Repository(std::string repo, const ServeOptions& options) : repo_(std::move(repo)), options_(options) {
    for (const auto& text : options.split) {
      TrafficSplit split = parse_split(text);
      splits_[split.model] = split;
    }
  }

  // Loads versions not seen yet and re-reads which are promoted.
  void refresh() {
    for (const auto& model : registry::list_models(repo_)) {
      for (const auto& version : registry::list_versions(repo_, model)) {
        const std::string id = model + ":" + version;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (seen_.count(id)) continue;
          seen_.insert(id);
        }
        try {
          SlotPtr slot = load_version(repo_, model, version, options_, metrics_);
          std::lock_guard<std::mutex> lock(mutex_);
          slots_[model][version] = slot;
          fmt::print(stderr, "mlopt serve: loaded {} ({})\n", id, slot->dir);
        } catch (const std::exception& e) {
          log::warn("{} not served: {}", id, first_line(e.what()));
        }
      }
      std::lock_guard<std::mutex> lock(mutex_);
      promoted_[model] = registry::promoted_version(repo_, model);
    }
  }

  SlotPtr find(const std::string& model, const std::string& version) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto m = slots_.find(model);
    if (m == slots_.end()) return nullptr;
    auto v = m->second.find(version);
    return v == m->second.end() ? nullptr : v->second;
  }

  // The version answering an unpinned request.
  SlotPtr route(const std::string& model, const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto m = slots_.find(model);
    if (m == slots_.end() || m->second.empty()) return nullptr;
    auto split = splits_.find(model);
    if (split != splits_.end()) {
      const TrafficSplit& s = split->second;
      const uint64_t slot = key.empty() ? cycle_[model]++ : slot_of_key(key, s.total());
      auto v = m->second.find(s.version_at(slot));
      if (v != m->second.end()) return v->second;
    }
    const std::string promoted = promoted_[model];
    auto p = m->second.find(promoted);
    if (!promoted.empty() && p != m->second.end()) return p->second;
    std::string newest = m->second.begin()->first;
    for (const auto& [version, slot] : m->second)
      if (registry::version_less(newest, version)) newest = version;
    return m->second.at(newest);
  }

  std::vector<SlotPtr> all() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<SlotPtr> out;
    for (const auto& [model, versions] : slots_)
      for (const auto& [version, slot] : versions) out.push_back(slot);
    return out;
  }

  std::vector<std::string> versions_of(const std::string& model) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> out;
    auto m = slots_.find(model);
    if (m != slots_.end())
      for (const auto& [version, slot] : m->second) out.push_back(version);
    std::sort(out.begin(), out.end(), registry::version_less);
    return out;
  }

  std::string metrics_text() const { return metrics_.text(); }

  void check_splits() {
    for (const auto& [model, split] : splits_)
      for (const auto& [version, weight] : split.shares)
        if (!find(model, version))
          fail_usage("--split {}: version {} of '{}' is not served (versions: {})", model, version, model,
                     fmt::join(versions_of(model), ", "));
  }

 private:
  std::string repo_;
  const ServeOptions& options_;
  std::mutex mutex_;
  std::set<std::string> seen_;
  std::map<std::string, std::map<std::string, SlotPtr>> slots_;
  std::map<std::string, std::string> promoted_;
  std::map<std::string, TrafficSplit> splits_;
  std::map<std::string, uint64_t> cycle_;
  MetricsRegistry metrics_;  // every version's series, labelled model and version
};

registry::DriftReport drift_of(VersionSlot& slot) {
  std::lock_guard<std::mutex> lock(slot.drift_mutex);
  const json current = slot.window->to_json(names_of(slot.baseline["inputs"]), names_of(slot.baseline["outputs"]), slot.baseline);
  return registry::compare_to_baseline(slot.baseline, current, slot.thresholds);
}

// Adds a request's rows to the window; warns once per window while drifting.
void observe(VersionSlot& slot, const std::vector<HostTensor>& inputs, const std::vector<HostTensor>& outputs) {
  const auto rows = drift_rows(inputs, outputs);
  bool check = false;
  {
    std::lock_guard<std::mutex> lock(slot.drift_mutex);
    for (const auto& row : rows) slot.window->add(row);
    slot.rows_since_warning += static_cast<int64_t>(rows.size());
    check = !slot.warned || slot.rows_since_warning >= slot.thresholds.window;
  }
  if (!check) return;
  const auto report = drift_of(slot);
  if (!report.drift()) return;
  std::lock_guard<std::mutex> lock(slot.drift_mutex);
  if (slot.warned && slot.rows_since_warning < slot.thresholds.window) return;
  slot.warned = true;
  slot.rows_since_warning = 0;
  // One line per warning: the figures that crossed, so a log counts windows.
  std::vector<std::string> crossed;
  for (const auto& f : report.figures)
    if (f.drift) crossed.push_back(fmt::format("{} {} = {:.4f} beyond {:g}", f.subject, f.kind, f.value, f.threshold));
  log::warn("drift on {}:{} (last {} rows): {}", slot.model, slot.version, report.rows, fmt::join(crossed, "; "));
}

std::string drift_metrics(const std::vector<SlotPtr>& slots) {
  std::string psi, value_psi, conf, input, rows, verdict;
  for (const auto& slot : slots) {
    const auto report = drift_of(*slot);
    const std::string labels = fmt::format("model={},version={}", json(slot->model).dump(), json(slot->version).dump());
    rows += fmt::format("mlopt_serve_drift_window_rows{{{}}} {}\n", labels, report.rows);
    verdict += fmt::format("mlopt_serve_drift{{{}}} {}\n", labels, report.drift() ? 1 : 0);
    for (const auto& f : report.figures) {
      const std::string subject = fmt::format("{},subject={}", labels, json(f.subject).dump());
      if (f.kind == "class_psi") psi += fmt::format("mlopt_serve_drift_class_psi{{{}}} {}\n", subject, f.value);
      else if (f.kind == "value_psi") value_psi += fmt::format("mlopt_serve_drift_value_psi{{{}}} {}\n", subject, f.value);
      else if (f.kind == "confidence_shift")
        conf += fmt::format("mlopt_serve_drift_confidence_shift{{{}}} {}\n", subject, f.value);
      else input += fmt::format("mlopt_serve_drift_mean_shift_std{{{}}} {}\n", subject, f.value);
    }
  }
  return "# HELP mlopt_serve_drift_window_rows Rows in the version's drift window\n"
         "# TYPE mlopt_serve_drift_window_rows gauge\n" + rows +
         "# HELP mlopt_serve_drift 1 when a drift figure of the window crosses its threshold\n"
         "# TYPE mlopt_serve_drift gauge\n" + verdict +
         "# HELP mlopt_serve_drift_class_psi Population stability index of the predicted classes against the baseline\n"
         "# TYPE mlopt_serve_drift_class_psi gauge\n" + psi +
         "# HELP mlopt_serve_drift_value_psi Population stability index of a regressor output's values over the baseline's decile bins\n"
         "# TYPE mlopt_serve_drift_value_psi gauge\n" + value_psi +
         "# HELP mlopt_serve_drift_confidence_shift Mean confidence minus the baseline's\n"
         "# TYPE mlopt_serve_drift_confidence_shift gauge\n" + conf +
         "# HELP mlopt_serve_drift_mean_shift_std Input (or regressor output) mean shift in baseline standard deviations\n"
         "# TYPE mlopt_serve_drift_mean_shift_std gauge\n" + input;
}

class RepositoryHttp {
 public:
  RepositoryHttp(Repository& repo, const ServeOptions& options, bool access_log)
      : repo_(repo), options_(options), access_log_(access_log) {
    if (!options.log_requests.empty())
      request_log_ = std::make_unique<RequestLog>(options.log_requests, int64_t{options.log_max_mb} << 20);
    server_.new_task_queue = [n = options.http_threads] { return new httplib::ThreadPool(static_cast<size_t>(n)); };
    server_.set_payload_max_length(static_cast<size_t>(options.max_body));
    server_.set_keep_alive_timeout(2);
    server_.set_tcp_nodelay(true);
    server_.set_socket_options([](int sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    routes();
    if (options.port == 0) {
      port_ = server_.bind_to_any_port(options.host);
      if (port_ <= 0) fail("cannot bind {}: no free port", options.host);
    } else {
      if (!server_.bind_to_port(options.host, options.port))
        fail("cannot bind {}:{} (in use, or not an address of this machine)", options.host, options.port);
      port_ = options.port;
    }
  }

  int port() const { return port_; }
  void run() { server_.listen_after_bind(); }
  void stop() { server_.stop(); }
  std::atomic<bool> ready{false};
  std::atomic<int64_t> requests{0}, failed{0};

 private:
  void routes() {
    server_.Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) { reply(res, 200, R"({"live":true})"); });
    server_.Get("/v2/health/ready", [this](const httplib::Request&, httplib::Response& res) {
      reply(res, ready ? 200 : 503, json{{"ready", ready.load()}}.dump());
    });
    server_.Get("/v2", [](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, json{{"name", "mlopt"}, {"version", mlopt_version()}, {"extensions", {"binary_tensor_data"}}}.dump());
    });
    server_.Get(R"(/v2/models/([^/]+)/drift)", [this](const httplib::Request& req, httplib::Response& res) { drift(req, res); });
    server_.Get(R"(/v2/models/([^/]+)(?:/versions/([^/]+))?)", [this](const httplib::Request& req, httplib::Response& res) {
      SlotPtr slot = target(req, res);
      if (!slot) return;
      reply(res, 200, json{{"name", slot->model}, {"versions", repo_.versions_of(slot->model)}, {"version", slot->version},
                           {"platform", slot->platform}, {"inputs", tensor_specs(slot->signature.inputs)},
                           {"outputs", tensor_specs(slot->signature.outputs)}}.dump());
    });
    server_.Get(R"(/v2/models/([^/]+)(?:/versions/([^/]+))?/ready)", [this](const httplib::Request& req, httplib::Response& res) {
      SlotPtr slot = target(req, res);
      if (slot) reply(res, 200, json{{"name", slot->model}, {"version", slot->version}, {"ready", true}}.dump());
    });
    server_.Post(R"(/v2/models/([^/]+)(?:/versions/([^/]+))?/infer)", [this](const httplib::Request& req, httplib::Response& res) {
      const auto start = Clock::now();
      SlotPtr slot = target(req, res);
      if (!slot) return;
      VersionSlot& s = *slot;
      const InferTarget infer{s.model, s.version, s.signature, s.batcher, *s.metrics, options_.timeout_ms};
      answer_infer(infer, req, res, start, {}, [&](const httplib::Request& r, const auto& inputs, const auto& outputs) {
        observe(s, inputs, outputs);
        if (request_log_ && !header_length(r)) request_log_->write(s.model, s.version, r.body);
      });
      ++requests;
      if (res.status != 200) ++failed;
    });
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      const auto slots = repo_.all();
      reply(res, 200, repo_.metrics_text() + drift_metrics(slots), "text/plain; version=0.0.4");
    });
    server_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (res.body.empty()) reply(res, res.status == 413 ? 400 : res.status, error_body(fmt::format("no route for {} {}", req.method, req.path)));
    });
    server_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      if (!access_log_) return;
      const std::string version = res.get_header_value("X-Model-Version");
      const std::string line = fmt::format("{} \"{} {}\" {}{}\n", req.remote_addr, req.method, req.path, res.status,
                                           version.empty() ? "" : " version " + version);
      std::lock_guard<std::mutex> lock(log_mutex_);
      std::fwrite(line.data(), 1, line.size(), stderr);
    });
  }

  // The version a request names (or the routed one), or a 404 naming what is served.
  SlotPtr target(const httplib::Request& req, httplib::Response& res) {
    const std::string model = req.matches[1];
    const std::string version = req.matches.size() > 2 ? req.matches[2].str() : "";
    SlotPtr slot = version.empty() ? repo_.route(model, req.get_header_value(options_.split_key.c_str()))
                                   : repo_.find(model, version);
    if (slot) return slot;
    const auto versions = repo_.versions_of(model);
    reply(res, 404, error_body(versions.empty() ? fmt::format("no model '{}' in the repository", model)
                                                : fmt::format("no version '{}' of '{}' is served (versions: {})", version,
                                                              model, fmt::join(versions, ", "))));
    return nullptr;
  }

  void drift(const httplib::Request& req, httplib::Response& res) {
    const std::string model = req.matches[1];
    const std::string only = req.has_param("version") ? req.get_param_value("version") : "";
    json versions = json::array();
    bool any = false;
    for (const auto& slot : repo_.all()) {
      if (slot->model != model || (!only.empty() && slot->version != only)) continue;
      const auto report = drift_of(*slot);
      json j = report.to_json();
      j["version"] = slot->version;
      versions.push_back(j);
      any = any || report.drift();
    }
    if (versions.empty()) return reply(res, 404, error_body(fmt::format("no model '{}' (or version '{}') is served", model, only)));
    reply(res, 200, json{{"model", model}, {"drift", any}, {"verdict", any ? "drift" : "no drift"}, {"versions", versions}}.dump());
  }

  Repository& repo_;
  const ServeOptions& options_;
  bool access_log_;
  std::unique_ptr<RequestLog> request_log_;
  httplib::Server server_;
  std::mutex log_mutex_;
  int port_ = 0;
};

}  // namespace

bool is_model_repository(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec) || fs::exists(fs::path(path) / "manifest.json", ec)) return false;
  for (const auto& model : registry::list_models(path))
    for (const auto& version : registry::list_versions(path, model))
      if (fs::exists(fs::path(path) / model / version / registry::kVersionManifest, ec)) return true;
  return false;
}

ServeResult serve_repository(const ServeOptions& options, const GlobalOptions& global) {
  if (!options.artifact.empty() || !options.name.empty())
    fail_usage("--artifact and --name pick one model; a repository serves each version's own artifact under its model name");
  if (options.poll_ms < 10) fail_usage("--poll-ms {}: expected at least 10", options.poll_ms);
  if (options.log_max_mb < 1) fail_usage("--log-max-mb {}: expected at least 1", options.log_max_mb);
  catch_shutdown_signals();
  Repository repo(options.model, options);
  RepositoryHttp http(repo, options, !global.quiet);
  const std::string url = fmt::format("http://{}:{}", options.host, http.port());
  std::thread listener([&] {
    http.run();
    notify_shutdown();
  });
  fmt::print(stderr, "mlopt serve: repository {} on {}, loading\n", options.model, url);
  try {
    repo.refresh();
    if (repo.all().empty()) fail("{}: no version of any model could be loaded", options.model);
    repo.check_splits();
  } catch (...) {
    http.stop();
    listener.join();
    throw;
  }
  // New versions and promotions are picked up while serving.
  std::mutex poll_mutex;
  std::condition_variable poll_cv;
  bool stopping = false;
  std::thread poller([&] {
    std::unique_lock<std::mutex> lock(poll_mutex);
    while (!poll_cv.wait_for(lock, std::chrono::milliseconds(options.poll_ms), [&] { return stopping; })) {
      lock.unlock();
      try {
        repo.refresh();
      } catch (const std::exception& e) {
        log::warn("{}: {}", options.model, first_line(e.what()));
      }
      lock.lock();
    }
  });
  const auto serving_start = Clock::now();
  http.ready = true;
  fmt::print(stderr, "mlopt serve: ready on {}/v2/models/{{name}}[/versions/{{v}}] (repository {})\n", url, options.model);

  const int sig = wait_for_shutdown();
  http.ready = false;
  fmt::print(stderr, "mlopt serve: {}, draining\n", sig == 2 ? "SIGINT" : sig == 15 ? "SIGTERM" : "server stopped");
  {
    std::lock_guard<std::mutex> lock(poll_mutex);
    stopping = true;
  }
  poll_cv.notify_all();
  poller.join();
  http.stop();
  listener.join();
  for (const auto& slot : repo.all()) slot->batcher->drain();

  ServeResult result;
  result.model = options.model;
  result.url = url;
  result.requests = http.requests;
  result.failed = http.failed;
  result.seconds = seconds_since(serving_start);
  return result;
}

}  // namespace mlopt::serving

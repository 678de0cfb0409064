#include "mlopt/serve/http_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <sys/socket.h>

#include <cstdio>
#include <mutex>

#include "mlopt/core/error.h"
#include "mlopt/core/version.h"
#include "mlopt/serve/infer_handler.h"
#include "mlopt/serve/v2_protocol.h"

using nlohmann::json;

namespace mlopt::serving {
namespace {

// Set by the pre-routing handler; the logger runs on the same thread after the response.
thread_local Clock::time_point t_request_start;

}  // namespace

struct HttpServer::Impl {
  Impl(ServerState& s, const HttpOptions& o) : state(s), options(o) {}

  void routes() {
    server.new_task_queue = [n = options.threads] { return new httplib::ThreadPool(static_cast<size_t>(n)); };
    server.set_payload_max_length(static_cast<size_t>(options.max_body));
    server.set_keep_alive_max_count(1000000);  // keep a client's connection: reconnecting costs more than serving
    server.set_keep_alive_timeout(2);          // an idle connection holds a drain back at most this long
    server.set_tcp_nodelay(true);
    // httplib's default adds SO_REUSEPORT, which lets a second server share a
    // port in use (and split its traffic); a port in use must be an error.
    server.set_socket_options([this](int sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      listen_socket = sock;  // only the listening socket goes through here
    });
    server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
      t_request_start = Clock::now();
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      if (res.status == 413) {
        res.status = 400;  // the v2 protocol reports every refused request as a 400
        return reply_error(res, 400, fmt::format("request body of {} bytes is larger than --max-body {}",
                                                 req.get_header_value("Content-Length"), options.max_body));
      }
      reply_error(res, res.status, fmt::format("no route for {} {}", req.method, req.path));
    });
    server.set_logger([this](const httplib::Request& req, const httplib::Response& res) { log(req, res); });

    server.Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, R"({"live":true})");
    });
    server.Get("/v2/health/ready", [this](const httplib::Request&, httplib::Response& res) {
      reply(res, state.ready ? 200 : 503, state.ready ? R"({"ready":true})" : R"({"ready":false})");
    });
    server.Get("/v2", [](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, json{{"name", "mlopt"}, {"version", mlopt_version()}, {"extensions", {"binary_tensor_data"}}}.dump());
    });
    server.Get(R"(/v2/models/([^/]+)(?:/versions/[^/]+)?)", [this](const httplib::Request& req, httplib::Response& res) {
      if (!known(req, res)) return;
      reply(res, 200, json{{"name", state.signature.name}, {"versions", {"1"}}, {"platform", state.platform},
                           {"inputs", tensor_specs(state.signature.inputs)},
                           {"outputs", tensor_specs(state.signature.outputs)}}.dump());
    });
    server.Get(R"(/v2/models/([^/]+)(?:/versions/[^/]+)?/ready)", [this](const httplib::Request& req, httplib::Response& res) {
      if (!known(req, res)) return;
      reply(res, state.ready ? 200 : 503, json{{"name", state.signature.name}, {"ready", state.ready.load()}}.dump());
    });
    server.Post(R"(/v2/models/([^/]+)(?:/versions/[^/]+)?/infer)", [this](const httplib::Request& req, httplib::Response& res) {
      const InferTarget target{state.signature.name, "", state.signature, state.batcher, state.metrics, state.timeout_ms};
      answer_infer(target, req, res, t_request_start, [&] {
        if (!known(req, res)) return res.status;
        if (state.ready) return 0;
        reply_error(res, 503, "the model is not ready (loading or warming up)");
        return 503;
      });
      ++state.requests;
      if (res.status != 200) ++state.failed;
    });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      reply(res, 200, state.metrics.text(), "text/plain; version=0.0.4");
    });
  }

  bool known(const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1] == state.signature.name) return true;
    reply_error(res, 404, fmt::format("no model '{}' (this server serves '{}')", req.matches[1].str(), state.signature.name));
    return false;
  }

  // One line per request on stderr: text, or JSON lines with --json.
  void log(const httplib::Request& req, const httplib::Response& res) {
    if (!state.access_log) return;
    const double ms = 1000 * seconds_since(t_request_start);
    std::string line;
    if (state.json_log) {
      line = json{{"remote", req.remote_addr}, {"method", req.method}, {"path", req.path}, {"status", res.status},
                  {"ms", ms}, {"bytes", res.body.size()}}.dump() + "\n";
    } else {
      line = fmt::format("{} \"{} {}\" {} {:.2f}ms {}B\n", req.remote_addr, req.method, req.path, res.status, ms,
                         res.body.size());
    }
    std::lock_guard<std::mutex> lock(log_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
  }

  ServerState& state;
  HttpOptions options;
  httplib::Server server;
  std::mutex log_mutex;
  int listen_socket = -1;
  int port = 0;
};

namespace {

// cpp-httplib 0.11 listens with a backlog of 5, built into Debian's shared
// library. When more clients connect at once (wrk's 64, a balancer opening its
// pool), the kernel drops the SYNs or final ACKs beyond it and each such client
// stalls for a TCP retransmit: 1 s and up. That was the p99 of ~0.8 s. Calling
// listen() again on the bound socket raises the backlog (Linux caps it at
// net.core.somaxconn).
void widen_backlog(int sock) {
  if (sock >= 0) ::listen(sock, SOMAXCONN);
}

}  // namespace

HttpServer::HttpServer(ServerState& state, const HttpOptions& options) : impl_(std::make_unique<Impl>(state, options)) {
  impl_->routes();
  if (options.port == 0) {
    impl_->port = impl_->server.bind_to_any_port(options.host);
    if (impl_->port <= 0) fail("cannot bind {}: no free port", options.host);
  } else {
    if (!impl_->server.bind_to_port(options.host, options.port))
      fail("cannot bind {}:{} (in use, or not an address of this machine)", options.host, options.port);
    impl_->port = options.port;
  }
  widen_backlog(impl_->listen_socket);
}

HttpServer::~HttpServer() = default;
int HttpServer::port() const { return impl_->port; }
void HttpServer::run() { impl_->server.listen_after_bind(); }
void HttpServer::stop() { impl_->server.stop(); }

}  // namespace mlopt::serving

// Scale-out on a real load balancer: nginx on loopback in front of two
// `mlopt serve` replicas; one is killed under load; nginx retries on the other.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "serve/serve_support.h"
#include "support/test_support.h"

using namespace mlopt::test;

TEST_CASE("nginx in front of two replicas: killing one under load fails no request", "[serve][nginx]") {
  REQUIRE(run_shell("command -v nginx").exit_code == 0);  // scripts/setup.sh installs it
  ServerProcess a({serve_fixture("digits.pt"), "-q"});
  ServerProcess b({serve_fixture("digits.pt"), "-q"});
  const std::string dir = temp_dir("nginx");
  const int port = free_port();
  std::ofstream(dir + "/nginx.conf") << "worker_processes 1;\n"
      "pid " << dir << "/nginx.pid;\nerror_log " << dir << "/error.log;\n"
      "events { worker_connections 256; }\n"
      "http {\n  access_log off;\n"
      "  client_body_temp_path " << dir << "/body; proxy_temp_path " << dir << "/proxy;\n"
      "  fastcgi_temp_path " << dir << "/fastcgi; uwsgi_temp_path " << dir << "/uwsgi; scgi_temp_path " << dir << "/scgi;\n"
      "  upstream mlopt {\n    server 127.0.0.1:" << a.port() << " max_fails=1 fail_timeout=30s;\n"
      "    server 127.0.0.1:" << b.port() << " max_fails=1 fail_timeout=30s;\n    keepalive 16;\n  }\n"
      "  server {\n    listen 127.0.0.1:" << port << ";\n    location / {\n      proxy_pass http://mlopt;\n"
      "      proxy_http_version 1.1;\n      proxy_set_header Connection \"\";\n"
      // Inference is idempotent, so a POST may be retried on the other replica.
      "      proxy_next_upstream error timeout http_502 http_503 non_idempotent;\n"
      "      proxy_connect_timeout 1s;\n    }\n  }\n}\n";
  const pid_t nginx = ::fork();
  if (nginx == 0) {
    ::execlp("nginx", "nginx", "-p", dir.c_str(), "-c", (dir + "/nginx.conf").c_str(), "-g", "daemon off;", nullptr);
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (http_get(port, "/v2/health/ready").status != 200 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(http_get(port, "/v2/health/ready").status == 200);

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  const std::string body = fp32_request("x", {1, 1, 8, 8}, std::vector<float>(64, 0.5f));
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&] {
      while (!stop) (http_post(port, "/v2/models/digits/infer", body).status == 200 ? ok : failed)++;
    });
  // Kill replica A (SIGKILL: a crash, no drain) once load is flowing, then keep going.
  while (ok < 200 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  a.stop(SIGKILL);
  const int at_kill = ok;
  while (ok < at_kill + 400 && std::chrono::steady_clock::now() < deadline + std::chrono::seconds(30))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  stop = true;
  for (auto& c : clients) c.join();
  ::kill(nginx, SIGTERM);
  ::waitpid(nginx, nullptr, 0);
  INFO("requests answered 200: " << ok << ", failed: " << failed);
  WARN("nginx failover: " << ok << " requests ok, " << failed << " failed, replica killed after " << at_kill);
  CHECK(ok >= at_kill + 400);
  CHECK(failed == 0);
}

#include "serve/serve_support.h"

#include <torch/script.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "support/test_support.h"

namespace fs = std::filesystem;

namespace mlopt::test {
namespace {

std::string read_all(int fd) {
  std::string data;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    data.append(buffer, static_cast<size_t>(n));
  }
  return data;
}


}  // namespace

HttpReply http_request(int port, const std::string& method, const std::string& path, const std::string& body,
                       const std::map<std::string, std::string>& headers) {
  HttpReply reply;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{60, 0};  // bounded: a hung server fails the test instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return reply;
  }
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
  if (method == "POST") request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  const std::string raw = read_all(fd);
  ::close(fd);
  const size_t head_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 5, "HTTP/") != 0 || head_end == std::string::npos) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  std::istringstream head(raw.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  while (std::getline(head, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (!value.empty() && value.back() == '\r') value.pop_back();
    reply.headers[key] = value;
  }
  reply.body = raw.substr(head_end + 4);
  return reply;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

ServerProcess::ServerProcess(const std::vector<std::string>& args, bool wait_ready, int port) {
  log_path_ = temp_dir("serve-log") + "/stderr";
  std::vector<std::string> argv{MLOPT_BINARY, "serve"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--port");
  argv.push_back(std::to_string(port));
  pid_ = ::fork();
  if (pid_ == 0) {
    int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(log, STDERR_FILENO);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    std::vector<char*> c;
    for (auto& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    ::execv(c[0], c.data());
    _exit(127);
  }
  // The port is on the first line of its log; readiness is polled, never slept for.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  const std::regex listening(R"(on http://[^:]+:(\d+))");
  while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    const std::string text = log();
    if (std::regex_search(text, m, listening)) port_ = std::stoi(m[1]);
    int status = 0;
    if (port_ == 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL("mlopt serve exited before listening: " << log());
    }
    if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  REQUIRE(port_ != 0);
  if (!wait_ready) return;
  while (std::chrono::steady_clock::now() < deadline) {
    if (http_get(port_, "/v2/health/ready").status == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL("mlopt serve was not ready within 120 s: " << log());
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) stop(SIGKILL);
}

int ServerProcess::stop(int sig) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ServerProcess::log() const { return slurp(log_path_); }

std::string serve_fixture(const std::string& name) {
  static std::once_flag once;
  static std::string dir;
  std::call_once(once, [] {
    dir = temp_dir("serve-fixtures");
    auto made = run_shell("/usr/bin/python3 " + shell_quote(source_path("tests/serve/make_serve_fixtures.py")) + " " + shell_quote(dir));
    REQUIRE(made.exit_code == 0);
    auto scripted = run_mlopt({"script", source_path("examples/models/digits_cnn.py"), "--class", "DigitsCNN", "--input",
                               "x:batch=1x1x8x8", "-o", dir + "/digits.pt", "-q"});
    REQUIRE(scripted.exit_code == 0);
  });
  return dir + "/" + name;
}

std::string fp32_request(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& data) {
  return nlohmann::json{{"inputs", {{{"name", name}, {"shape", shape}, {"datatype", "FP32"}, {"data", data}}}}}.dump();
}

std::string digits_rows_request(const at::Tensor& rows) {
  const at::Tensor flat = rows.reshape({-1}).contiguous();
  std::vector<float> data(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
  return fp32_request("x", {rows.size(0), 1, 8, 8}, data);
}

std::string model_version_of(const HttpReply& reply) {
  auto it = reply.headers.find("x-model-version");
  return it == reply.headers.end() ? "" : it->second;
}

}  // namespace mlopt::test

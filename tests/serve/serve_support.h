#pragma once
// Test helpers for `mlopt serve`: a minimal HTTP/1.1 client (one connection
// per request), a server process started through the CLI and waited for by
// polling /v2/health/ready, and the fixture models.
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace mlopt::test {

struct HttpReply {
  int status = 0;  // 0: no answer (connection refused or reset)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

HttpReply http_request(int port, const std::string& method, const std::string& path, const std::string& body = "",
                       const std::map<std::string, std::string>& headers = {});
inline HttpReply http_get(int port, const std::string& path) { return http_request(port, "GET", path); }
inline HttpReply http_post(int port, const std::string& path, const std::string& body) {
  return http_request(port, "POST", path, body);
}

// A port free right now (for nginx, whose port must be known in advance).
int free_port();

// `mlopt serve ARGS --port 0` in the background; the constructor returns once
// the server answers ready (bounded deadline), the destructor stops it.
class ServerProcess {
 public:
  explicit ServerProcess(const std::vector<std::string>& args, bool wait_ready = true, int port = 0);
  ~ServerProcess();
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sends `sig` and waits for the exit code (128 + signal when killed by it).
  int stop(int sig);
  std::string log() const;  // its stderr so far

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

// The fixture models, made once per test binary (Python writes them):
// digits.pt (DigitsCNN via `mlopt script`), two_inputs.pt, fails.pt, slow.pt.
std::string serve_fixture(const std::string& name);

// {"inputs":[{"name":NAME,"shape":SHAPE,"datatype":"FP32","data":DATA}]}
std::string fp32_request(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& data);
// A request for the digits model ("x", N x 1 x 8 x 8) holding these rows.
std::string digits_rows_request(const at::Tensor& rows);
// The version that answered (the x-model-version header), or "".
std::string model_version_of(const HttpReply& reply);

}  // namespace mlopt::test

#pragma once
// `serve REPO --log-requests DIR`: the JSON infer requests each version
// answered, one per line in DIR/<model>-<version>.jsonl, which is what
// `mlopt monitor --data` reads. Bounded: past --log-max-mb a file is rotated
// to .1 (the previous .1 is dropped), so a log never holds more than twice that.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace mlopt::serving {

class RequestLog {
 public:
  RequestLog(std::string dir, int64_t max_bytes);
  // Appends one request body (a JSON object on one line); bodies with binary tensors are not logged.
  void write(const std::string& model, const std::string& version, const std::string& json_body);

 private:
  std::string dir_;
  int64_t max_bytes_;
  std::mutex mutex_;
  std::map<std::string, int64_t> sizes_;
};

}  // namespace mlopt::serving

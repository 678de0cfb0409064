#include "mlopt/serve/request_log.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "mlopt/core/error.h"
#include "mlopt/core/log.h"

namespace fs = std::filesystem;

namespace mlopt::serving {

RequestLog::RequestLog(std::string dir, int64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) fail("--log-requests {}: cannot create the folder: {}", dir_, ec.message());
}

void RequestLog::write(const std::string& model, const std::string& version, const std::string& json_body) {
  // One line per request: re-serialized, so a pretty-printed body stays one line.
  const auto parsed = nlohmann::json::parse(json_body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return;
  const std::string line = parsed.dump() + "\n";
  const fs::path path = fs::path(dir_) / (model + "-" + version + ".jsonl");
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = sizes_.find(path.string());
  if (it == sizes_.end()) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    it = sizes_.emplace(path.string(), ec ? 0 : static_cast<int64_t>(size)).first;
  }
  if (it->second > 0 && it->second + static_cast<int64_t>(line.size()) > max_bytes_) {
    std::error_code ec;
    fs::rename(path, path.string() + ".1", ec);
    it->second = 0;
  }
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << line;
  if (!out) {
    log::warn("--log-requests: cannot write {}", path.string());
    return;
  }
  it->second += static_cast<int64_t>(line.size());
}

}  // namespace mlopt::serving

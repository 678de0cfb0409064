#include "mlopt/serve/traffic_split.h"

#include "mlopt/core/error.h"

namespace mlopt::serving {

int64_t TrafficSplit::total() const {
  int64_t sum = 0;
  for (const auto& [version, weight] : shares) sum += weight;
  return sum;
}

const std::string& TrafficSplit::version_at(uint64_t slot) const {
  int64_t at = static_cast<int64_t>(slot % static_cast<uint64_t>(total()));
  for (const auto& [version, weight] : shares) {
    if (at < weight) return version;
    at -= weight;
  }
  return shares.back().first;
}

TrafficSplit parse_split(const std::string& text) {
  const auto usage = [&](const std::string& why) {
    fail_usage("--split {}: {} (expected NAME=VERSION:SHARE,VERSION:SHARE, e.g. digits=1:90,2:10)", text, why);
  };
  TrafficSplit split;
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) usage("no model name");
  split.model = text.substr(0, eq);
  std::string rest = text.substr(eq + 1);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string part = rest.substr(0, comma);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
    const auto colon = part.rfind(':');
    if (colon == std::string::npos || colon == 0) usage("'" + part + "' is not VERSION:SHARE");
    int64_t weight = -1;
    try {
      size_t used = 0;
      weight = std::stoll(part.substr(colon + 1), &used);
      if (used != part.size() - colon - 1) weight = -1;
    } catch (const std::exception&) {
      weight = -1;
    }
    if (weight <= 0) usage("the share of '" + part.substr(0, colon) + "' is not a positive integer");
    split.shares.push_back({part.substr(0, colon), weight});
  }
  if (split.shares.empty()) usage("no versions");
  return split;
}

uint64_t slot_of_key(const std::string& key, int64_t total) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : key) hash = (hash ^ c) * 1099511628211ull;
  return hash % static_cast<uint64_t>(total > 0 ? total : 1);
}

}  // namespace mlopt::serving

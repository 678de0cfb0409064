#pragma once
// `serve REPO --split digits=1:90,2:10`: which version of a model answers a
// request. A request with a key (the --split-key header) always lands on the
// same version; one without takes the next slot of a 100-slot cycle, so the
// shares hold exactly over every cycle.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mlopt::serving {

struct TrafficSplit {
  std::string model;
  std::vector<std::pair<std::string, int64_t>> shares;  // version, weight (> 0)
  int64_t total() const;
  // The version for a slot in [0, total()).
  const std::string& version_at(uint64_t slot) const;
};

// "NAME=V1:W1,V2:W2,...": fails with a usage error naming the text.
TrafficSplit parse_split(const std::string& text);

// A stable slot for a request key (FNV-1a).
uint64_t slot_of_key(const std::string& key, int64_t total);

}  // namespace mlopt::serving

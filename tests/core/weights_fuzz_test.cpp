// Hardening: load_weights on many broken copies of real weight files must
// either load or throw mlopt::Error — never crash, hang or throw anything else.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/weights_file.h"
#include "support/test_support.h"

using namespace mlopt;

namespace {

// Loads `bytes` as `name`; returns true when it loaded, false for an mlopt::Error.
bool loads_or_fails_cleanly(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;  // no fsync: thousands of writes
  try {
    auto tensors = load_weights(path);
    for (auto& [key, t] : tensors) (void)t.sum().item<double>();  // touch every element
    return true;
  } catch (const Error& e) {
    INFO(e.what());
    CHECK(std::string(e.what()).find(name) != std::string::npos);  // errors name the file
    return false;
  }
}

void mutate_and_load(const std::string& fixture, const std::string& ext, int flips) {
  std::string dir = test::temp_dir("weights-fuzz");
  std::string good = read_file(test::test_data("weights/" + fixture));
  INFO(fixture);
  // Truncated at many offsets (every offset near the start and the end, strided in between).
  for (size_t n = 0; n < good.size(); n += (n < 64 || n + 64 > good.size()) ? 1 : 29) {
    INFO("truncated to " << n << " bytes");
    CHECK_FALSE(loads_or_fails_cleanly(dir, "trunc" + ext, good.substr(0, n)));
  }
  // Single bytes replaced by random values, and bursts of random bytes.
  std::mt19937_64 rng(1234);
  for (int i = 0; i < flips; ++i) {
    std::string bad = good;
    size_t at = rng() % bad.size();
    size_t len = i % 4 == 3 ? 1 + rng() % 16 : 1;
    for (size_t k = at; k < std::min(bad.size(), at + len); ++k) bad[k] = static_cast<char>(rng());
    INFO("mutation " << i << " at byte " << at);
    loads_or_fails_cleanly(dir, "flip" + ext, bad);
  }
}

}  // namespace

TEST_CASE("weights fuzz: broken torch.save archives never crash", "[weights][fuzz]") {
  mutate_and_load("state_dict.pth", ".pth", 600);
  mutate_and_load("parameter.pth", ".pth", 300);
}

TEST_CASE("weights fuzz: broken safetensors files never crash", "[weights][fuzz]") {
  mutate_and_load("state_dict.safetensors", ".safetensors", 600);
}

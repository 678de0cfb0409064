// Replays the fuzz corpora and every input a fuzzer ever crashed on
// (tests/data/fuzz-corpus/<target>/, tests/data/fuzz-regressions/<target>/):
// each must parse or fail with mlopt::Error — never crash.
#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <map>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/input_spec.h"
#include "mlopt/core/npy.h"
#include "mlopt/core/weights_file.h"
#include "support/test_support.h"

namespace fs = std::filesystem;

namespace {
const std::map<std::string, std::function<void(const std::string&)>>& parsers() {
  static const std::map<std::string, std::function<void(const std::string&)>> table = {
      {"input_spec", [](const std::string& bytes) { mlopt::parse_input_spec(bytes); }},
      {"npy",
       [](const std::string& bytes) {
         try {
           mlopt::parse_npy(bytes, "replay.npy");
         } catch (const mlopt::Error&) {
         }
         mlopt::parse_npz(bytes, "replay.npz");
       }},
      {"weights",
       [](const std::string& bytes) {
         // The loaders read files: replay the bytes under both extensions.
         std::string dir = mlopt::test::temp_dir("weights-replay");
         for (const char* name : {"/w.pth", "/w.safetensors"}) {
           mlopt::write_file_atomically(dir + name, bytes);
           try {
             mlopt::load_weights(dir + name);
           } catch (const mlopt::Error&) {
           }
         }
       }},
  };
  return table;
}
}  // namespace

TEST_CASE("fuzz corpora and crash regressions parse or fail cleanly", "[core][fuzz]") {
  const int replayed = mlopt::test::replay_fuzz_inputs(parsers());
  CHECK(replayed >= 8);
}

// `serve REPO --log-requests DIR` (lib/mlopt/serve/request_log.h): one JSON
// request per line per version, bounded by rotation to .1.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>

#include "mlopt/core/atomic_write.h"
#include "mlopt/serve/request_log.h"
#include "support/test_support.h"

namespace fs = std::filesystem;

namespace {
size_t lines(const std::string& path) {
  const std::string text = mlopt::read_file(path);
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}
}  // namespace

TEST_CASE("serve: the request log writes one line per request and version, rotates past its bound", "[serve][registry]") {
  const std::string dir = mlopt::test::temp_dir("request-log") + "/requests";
  // Each line below is 37 bytes: at most 3 fit in 128.
  mlopt::serving::RequestLog log(dir, 128);
  const std::string body = "{\n  \"inputs\": [{\"name\": \"x\", \"data\": [1]}]\n}";
  log.write("digits", "1", body);
  log.write("digits", "2", body);
  log.write("digits", "1", "not json");  // a binary-tensor body: not logged
  CHECK(lines(dir + "/digits-1.jsonl") == 1);
  CHECK(lines(dir + "/digits-2.jsonl") == 1);
  CHECK(mlopt::read_file(dir + "/digits-1.jsonl") == R"({"inputs":[{"data":[1],"name":"x"}]})" "\n");
  for (int i = 0; i < 7; ++i) log.write("digits", "1", body);  // 8 in all: 3 + 3 rotated, 2 kept
  CHECK(lines(dir + "/digits-1.jsonl") == 2);
  CHECK(lines(dir + "/digits-1.jsonl.1") == 3);
  CHECK(fs::file_size(dir + "/digits-1.jsonl") <= 128);
  CHECK(fs::file_size(dir + "/digits-1.jsonl.1") <= 128);
  CHECK_FALSE(fs::exists(dir + "/digits-1.jsonl.2"));
}

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <filesystem>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "support/test_support.h"

using namespace mlopt;

TEST_CASE("atomic write: a failed write keeps the previous file and leaves no temp file", "[core][atomic]") {
  std::string dir = test::temp_dir("atomic");
  std::string path = dir + "/artifact.bin";
  write_file_atomically(path, "first");
  CHECK(read_file(path) == "first");
  CHECK_THROWS_AS(write_atomically(path, [](const std::string& tmp) {
                    write_file_atomically(tmp, "partial");
                    fail("simulated failure");
                  }),
                  Error);
  CHECK(read_file(path) == "first");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("atomic write: artifacts get the usual permissions, not the temp file's 0600", "[core][atomic]") {
  namespace fs = std::filesystem;
  const std::string path = test::temp_dir("atomic-mode") + "/artifact.bin";
  const mode_t mask = umask(0022);
  write_file_atomically(path, "bytes");
  umask(mask);
  CHECK((fs::status(path).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read));
}

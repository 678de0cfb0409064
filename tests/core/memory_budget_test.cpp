// core/memory_budget: size parsing, input estimates and the refusal before
// allocating (the watchdog's stop is shown through the CLI in
// tests/cli/hardening_test.cpp, since it ends the process).
#include <catch2/catch.hpp>

#include "mlopt/core/error.h"
#include "mlopt/core/memory_budget.h"

using namespace mlopt;

TEST_CASE("memory budget: sizes parse with binary units", "[core][memory]") {
  CHECK(parse_memory_size("") == 0);
  CHECK(parse_memory_size("0") == 0);
  CHECK(parse_memory_size("1000") == 1000);
  CHECK(parse_memory_size("2G") == (uint64_t{2} << 30));
  CHECK(parse_memory_size("512M") == (uint64_t{512} << 20));
  CHECK(parse_memory_size("512MB") == (uint64_t{512} << 20));
  CHECK(parse_memory_size("1.5GiB") == (uint64_t{3} << 29));
  CHECK(parse_memory_size("64k") == 65536);
  for (const char* bad : {"lots", "2X", "-1G", "1e30", "G"}) {
    INFO(bad);
    try {
      parse_memory_size(bad);
      FAIL("accepted");
    } catch (const Error& e) {
      CHECK(e.exit_code() == kExitUsage);
      CHECK_THAT(e.what(), Catch::Contains("--max-memory"));
    }
  }
}

TEST_CASE("memory budget: input estimates multiply shape and dtype, saturating", "[core][memory]") {
  auto specs = parse_input_specs({"x:batch=8x3x32x32", "ids:8x128:int64"});
  CHECK(input_bytes(specs) == 8u * 3 * 32 * 32 * 4 + 8u * 128 * 8);
  InputSpec huge;
  huge.dims = {{int64_t{1} << 40, ""}, {int64_t{1} << 40, ""}};
  CHECK(input_bytes({huge}) == std::numeric_limits<uint64_t>::max());
}

TEST_CASE("memory budget: a reservation over the budget is refused, naming the budget", "[core][memory]") {
  MemoryBudget none(0);
  CHECK_NOTHROW(none.reserve(uint64_t{1} << 50, "anything"));
  uint64_t now = resident_bytes();
  REQUIRE(now > 0);
  MemoryBudget budget(now + (uint64_t{256} << 20));
  CHECK_NOTHROW(budget.reserve(uint64_t{1} << 20, "a small tensor"));
  try {
    budget.reserve(uint64_t{1} << 30, "the inputs at batch 64");
    FAIL("accepted");
  } catch (const Error& e) {
    CHECK(e.exit_code() == kExitError);
    CHECK_THAT(e.what(), Catch::Contains("--max-memory") && Catch::Contains("the inputs at batch 64") &&
                             Catch::Contains("1.0 GiB") && Catch::Contains("refusing before allocating"));
  }
}

// What quantize's blame checks between builds: memory the system can still give,
// and the heap's free pages handed back (the resident set does not grow by it).
TEST_CASE("memory budget: available system memory is read, and freed heap pages go back", "[core][memory]") {
  const uint64_t available = available_system_bytes();
  CHECK(available > (64ull << 20));
  {
    std::vector<std::vector<char>> blocks;
    for (int i = 0; i < 64; ++i) blocks.emplace_back(1 << 20, static_cast<char>(i));  // 64 x 1 MiB, heap-allocated
  }
  const uint64_t before = resident_bytes();
  release_free_heap();
  CHECK(resident_bytes() <= before + (8u << 20));  // nothing grows by it (a sanitizer allocator may keep its own)
}

#include "mlopt/core/registry.h"

#include <catch2/catch.hpp>


namespace {
struct TestTag;
using TestRegistry = mlopt::Registry<int, TestTag>;
struct TestRegistrar {
  TestRegistrar(std::initializer_list<const char*> names, int value) { TestRegistry::instance().add_all(names, value); }
};
MLOPT_STATIC_REGISTRAR(TestRegistrar, {"b", "a"}, 7);
MLOPT_STATIC_REGISTRAR(TestRegistrar, {"c"}, 9);
}  // namespace

TEST_CASE("registry: static registrars fill one table per tag, found by name, listed sorted", "[core]") {
  auto& table = TestRegistry::instance();
  REQUIRE(table.find("a"));
  CHECK(*table.find("a") == 7);
  CHECK(*table.find("c") == 9);
  CHECK(table.find("missing") == nullptr);
  CHECK(table.names() == std::vector<std::string>{"a", "b", "c"});
  CHECK(table.duplicates().empty());
  // Another tag over the same entry type is another table.
  CHECK(mlopt::Registry<int>::instance().find("a") == nullptr);
}

TEST_CASE("registry: a name registered twice keeps its last entry and is reported", "[core]") {
  struct Tag;
  auto& table = mlopt::Registry<int, Tag>::instance();
  table.add("x", 1);
  table.add("x", 2);
  CHECK(*table.find("x") == 2);
  CHECK(table.duplicates() == std::vector<std::string>{"x"});
}

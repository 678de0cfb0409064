// The torchvision zoo as a test corpus (tests/zoo/make_zoo.py writes the models
// and $MLOPT_ZOO_DIR/zoo.txt): every model exports, and its ONNX file matches
// LibTorch in ONNX Runtime at two batch sizes. Hidden from the default run
// ([.zoo]); ctest runs it as `zoo_fast` (-DMLOPT_ZOO_TESTS=ON) and `zoo_full`
// (-DMLOPT_ZOO_FULL=ON), label `zoo`. One line per model on stdout.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "mlopt/core/model_io.h"
#include "onnx/ort_oracle.h"

TEST_CASE("zoo: every model exports to ONNX and matches ONNX Runtime at two batch sizes", "[.zoo]") {
  const char* dir = std::getenv("MLOPT_ZOO_DIR");
  REQUIRE(dir != nullptr);
  std::ifstream list(std::string(dir) + "/zoo.txt");
  REQUIRE(list);
  mlopt::test::require_ort();
  std::string line;
  int models = 0;
  while (std::getline(list, line)) {
    std::istringstream fields(line);
    std::string name, spec;
    if (!(fields >> name >> spec)) continue;
    INFO(name << " " << spec);
    auto module = mlopt::load_torchscript(std::string(dir) + "/" + name + ".pt");
    auto r = mlopt::test::compare_with_ort(module, {spec}, {2});
    REQUIRE(r.max_rel_error.size() == 2);
    std::cout << "zoo: " << name << " nodes " << r.model.graph().node_size() << " outputs "
              << r.model.graph().output_size() << " max rel error " << r.max_rel_error[0] << ", "
              << r.max_rel_error[1] << std::endl;
    for (double e : r.max_rel_error) CHECK(e < 1e-3);
    ++models;
  }
  CHECK(models > 0);
}

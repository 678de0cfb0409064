// docs/kserve/mlopt-serve.yaml parses and wires mlopt serve the way KServe needs.
#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include "support/test_support.h"

using namespace mlopt::test;

TEST_CASE("the KServe ServingRuntime and InferenceService in docs are valid and wired to serve", "[serve]") {
  const auto docs = YAML::LoadAllFromFile(source_path("docs/kserve/mlopt-serve.yaml"));
  REQUIRE(docs.size() == 2);
  const YAML::Node& runtime = docs[0];
  const YAML::Node& service = docs[1];
  CHECK(runtime["apiVersion"].as<std::string>() == "serving.kserve.io/v1alpha1");
  REQUIRE(runtime["kind"].as<std::string>() == "ServingRuntime");
  CHECK(runtime["spec"]["protocolVersions"][0].as<std::string>() == "v2");
  const YAML::Node container = runtime["spec"]["containers"][0];
  CHECK(container["command"][0].as<std::string>() == "mlopt");
  CHECK(container["args"][0].as<std::string>() == "serve");
  bool binds_all = false;
  for (const auto& arg : container["args"]) binds_all = binds_all || arg.as<std::string>() == "--host=0.0.0.0";
  CHECK(binds_all);
  CHECK(container["readinessProbe"]["httpGet"]["path"].as<std::string>() == "/v2/health/ready");
  CHECK(container["livenessProbe"]["httpGet"]["path"].as<std::string>() == "/v2/health/live");
  CHECK(container["readinessProbe"]["httpGet"]["port"].as<int>() == container["ports"][0]["containerPort"].as<int>());

  REQUIRE(service["kind"].as<std::string>() == "InferenceService");
  const YAML::Node predictor = service["spec"]["predictor"];
  CHECK(predictor["model"]["runtime"].as<std::string>() == runtime["metadata"]["name"].as<std::string>());
  CHECK(predictor["model"]["protocolVersion"].as<std::string>() == "v2");
  CHECK(predictor["model"]["modelFormat"]["name"].as<std::string>() ==
        runtime["spec"]["supportedModelFormats"][0]["name"].as<std::string>());
  CHECK(predictor["terminationGracePeriodSeconds"].as<int>() > 0);
}

// The pipeline machinery on toy steps (tests/pipeline/toy_steps.cpp):
// validation with positions, env and --set, graph, cache, manifest, gates, reports.
#include <catch2/catch.hpp>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/hash.h"
#include "mlopt/pipeline/did_you_mean.h"
#include "mlopt/pipeline/env_substitution.h"
#include "mlopt/pipeline/pipeline_config.h"
#include "mlopt/pipeline/plan.h"
#include "mlopt/pipeline/run.h"
#include "mlopt/pipeline/step_cache.h"
#include "pipeline/toy_steps.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using namespace mlopt;
using namespace mlopt::pipeline;
using mlopt::test::error_of;
using mlopt::test::temp_dir;
using mlopt::test::toy::write;

namespace {

const char* kToy = R"(name: toy
seed: 3
model: model.pt
inputs:
  - x:batch=1x4:float32
data:
  numbers: {path: numbers.csv, scale: 0.5}
steps:
  - name: double
    type: toy-transform
    factor: 2
    data: numbers
  - name: half
    type: toy-transform
    factor: 3
  - name: measure
    type: toy-measure
    from: [double, half]
gates:
  - artifact: half
    max_p50_latency_ms: 100
  - artifact: half
    max_accuracy_drop: 0.05
)";

struct Toy {
  std::string dir = temp_dir("pipeline");
  std::string file;
  explicit Toy(const std::string& yaml = kToy) {
    write(dir, "model.pt", "toy model\n");
    write(dir, "numbers.csv", "1,2,3\n4,5,6\n");
    file = write(dir, "toy.yaml", yaml);
  }
  RunOptions options() const {
    RunOptions o;
    o.pipeline = file;
    o.out = dir + "/out";
    return o;
  }
};

PipelineConfig parse(const std::string& yaml, const std::vector<std::string>& sets = {},
                     const EnvLookup& env = [](const std::string&) { return std::nullopt; }) {
  static Toy files;  // model.pt and numbers.csv for relative paths
  return parse_pipeline(yaml, "toy.yaml", files.dir, sets, env);
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

nlohmann::json manifest_of(const std::string& out) { return nlohmann::json::parse(read_file(out + "/manifest.json")); }

}  // namespace

TEST_CASE("pipeline: edit distance and did-you-mean", "[pipeline]") {
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(closest_match("epoch", {"epochs", "lr", "batch_size"}) == "epochs");
  CHECK(closest_match("zzzzzz", {"epochs", "lr"}).empty());
  CHECK(did_you_mean("stpes", {"steps", "name"}) == " (did you mean 'steps'?)");
}

TEST_CASE("pipeline: a valid config binds every step's options", "[pipeline]") {
  auto config = parse(kToy);
  CHECK(config.name == "toy");
  CHECK(config.seed == 3);
  REQUIRE(config.steps.size() == 3);
  auto plan = build_plan(config, "/tmp/out", {});
  const PlannedStep* d = plan.find("double");
  REQUIRE(d);
  const auto& options = d->runs.at(0).bound.options;
  CHECK(options["factor"] == 2);
  CHECK(options["scale"] == 0.5);  // from the data set's options
  CHECK(options["data"].get<std::string>().find("numbers.csv") != std::string::npos);
  CHECK(options["input"] == nlohmann::json::array({"x:batch=1x4:float32"}));
  CHECK(options["output"] == "/tmp/out/double.txt");
  CHECK(plan.find("half")->runs.at(0).target == "double");  // default: the previous model step
  CHECK(plan.find("measure")->runs.size() == 2);               // fan-in over two models
  CHECK(plan.baseline == "double");
}

TEST_CASE("pipeline: validation errors carry file:line:column", "[pipeline]") {
  SECTION("unknown top-level key, with a suggestion") {
    auto e = error_of([] { parse(replace(kToy, "gates:", "gatse:")); });
    CHECK_THAT(e, Catch::StartsWith("toy.yaml:19:1: the pipeline: unknown key 'gatse' (did you mean 'gates'?)"));
  }
  SECTION("unknown step option, with a suggestion") {
    auto e = error_of([] { build_plan(parse(replace(kToy, "factor: 3", "factr: 3")), "/o", {}); });
    CHECK_THAT(e, Catch::StartsWith("toy.yaml:15:5: step 'half': unknown key 'factr' (did you mean 'factor'?)"));
  }
  SECTION("wrong type") {
    auto e = error_of([] { build_plan(parse(replace(kToy, "factor: 3", "factor: three")), "/o", {}); });
    CHECK_THAT(e, Catch::StartsWith("toy.yaml:15:13: step 'half': factor expects an integer, got 'three'"));
  }
  SECTION("a choice outside its list") {
    auto e = error_of([] { build_plan(parse(replace(kToy, "factor: 3", "mode: wild")), "/o", {}); });
    CHECK_THAT(e, Catch::Contains("toy.yaml:15:11: step 'half': mode must be one of plain, fancy, got 'wild'"));
  }
  SECTION("a list where a scalar belongs") {
    auto e = error_of([] { build_plan(parse(replace(kToy, "factor: 3", "factor: [1, 2]")), "/o", {}); });
    CHECK_THAT(e, Catch::Contains("toy.yaml:15:13: step 'half': factor expects an integer, got a list"));
  }
  SECTION("missing file") {
    auto e = error_of([] { parse(replace(kToy, "model: model.pt", "model: missing.pt")); });
    CHECK_THAT(e, Catch::StartsWith("toy.yaml:3:8: model: no such file 'missing.pt'"));
  }
  SECTION("unknown step type") {
    auto e = error_of([] { parse(replace(kToy, "type: toy-measure", "type: toy-mesure")); });
    CHECK_THAT(e, Catch::Contains("toy.yaml:17:11: step 'measure': unknown step type 'toy-mesure' (did you mean 'toy-measure'?)"));
  }
  SECTION("unknown step reference") {
    auto e = error_of([] { build_plan(parse(replace(kToy, "from: [double, half]", "from: [double, hlaf]")), "/o", {}); });
    CHECK_THAT(e, Catch::Contains("toy.yaml:18:11: step 'measure': from: no step named 'hlaf' (did you mean 'half'?)"));
  }
  SECTION("reading a measuring step") {
    auto e = error_of([] { build_plan(parse(replace(kToy, "factor: 3", "factor: 3\n    from: measure")), "/o", {}); });
    CHECK_THAT(e, Catch::Contains("step 'measure' measures a model and writes none"));
  }
  SECTION("cycles") {
    auto yaml = replace(replace(kToy, "factor: 2", "factor: 2\n    from: half"), "factor: 3", "factor: 3\n    from: double");
    auto e = error_of([&] { build_plan(parse(yaml), "/o", {}); });
    CHECK_THAT(e, Catch::Contains("steps form a cycle: double -> half -> double"));
    CHECK_THAT(e, Catch::StartsWith("toy.yaml:9:5:"));
  }
  SECTION("bad input spec") {
    auto e = error_of([] { parse(replace(kToy, "x:batch=1x4:float32", "x:1x4:float99")); });
    CHECK_THAT(e, Catch::StartsWith("toy.yaml:5:5: inputs:"));
  }
  SECTION("YAML syntax") {
    auto e = error_of([] { parse("name: [unclosed\n"); });
    CHECK_THAT(e, Catch::StartsWith("toy.yaml:2:1:"));
  }
}

TEST_CASE("pipeline: ${VAR} and ${VAR:-default} substitution", "[pipeline]") {
  EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "TOY_FACTOR") return "9";
    return std::nullopt;
  };
  CHECK(substitute_env("a${TOY_FACTOR}b", env) == "a9b");
  CHECK(substitute_env("${NOPE:-x/y}", env) == "x/y");
  CHECK(substitute_env("cost $$5", env) == "cost $5");
  auto config = parse(replace(replace(kToy, "factor: 2", "factor: ${TOY_FACTOR}"), "factor: 3", "factor: ${MISSING:-4}"), {}, env);
  auto plan = build_plan(config, "/o", {});
  CHECK(plan.find("double")->runs[0].bound.options["factor"] == 9);
  CHECK(plan.find("half")->runs[0].bound.options["factor"] == 4);
  auto e = error_of([&] { parse(replace(kToy, "factor: 2", "factor: ${MISSING}"), {}, env); });
  CHECK_THAT(e, Catch::StartsWith("toy.yaml:11:13: environment variable MISSING is not set"));
}

TEST_CASE("pipeline: --set overrides any field", "[pipeline]") {
  auto config = parse(kToy, {"steps.half.factor=11", "steps.0.tags=[a, b]", "seed=8", "gates.0.max_p50_latency_ms=1"});
  auto plan = build_plan(config, "/o", {});
  CHECK(plan.find("half")->runs[0].bound.options["factor"] == 11);
  CHECK(plan.find("double")->runs[0].bound.options["tags"] == nlohmann::json::array({"a", "b"}));
  CHECK(config.seed == 8);
  CHECK(*config.gates[0].max == 1);
  // Overridden values are checked like the file's, and named as --set.
  auto e = error_of([] { build_plan(parse(kToy, {"steps.half.factor=many"}), "/o", {}); });
  CHECK_THAT(e, Catch::StartsWith("--set: step 'half': factor expects an integer, got 'many'"));
  e = error_of([] { build_plan(parse(kToy, {"steps.half.facto=1"}), "/o", {}); });
  CHECK_THAT(e, Catch::Contains("unknown key 'facto' (did you mean 'factor'?)"));
  CHECK_THAT(error_of([] { parse(kToy, {"steps.nope.factor=1"}); }), Catch::Contains("no item named 'nope'"));
  CHECK_THAT(error_of([] { parse(kToy, {"seed"}); }), Catch::Contains("expected key.path=value"));
}

TEST_CASE("pipeline: a run writes artifacts, a correct manifest and both reports", "[pipeline]") {
  Toy toy;
  auto result = run_pipeline(toy.options(), {});
  const std::string out = toy.dir + "/out";
  REQUIRE(result.artifacts.size() == 2);
  CHECK(result.passed());
  auto manifest = manifest_of(out);
  REQUIRE(manifest["artifacts"].size() == 2);
  for (const auto& a : manifest["artifacts"]) {
    const std::string path = out + "/" + a["path"].get<std::string>();
    CHECK(a["sha256"] == sha256_file(path));
    CHECK(a["size"] == file_size(path));
    CHECK(a["metrics"]["latency_ms"]["p50"] == Approx(file_size(path) / 100.0));
  }
  CHECK(manifest["artifacts"][1]["step"] == "half");
  CHECK(read_file(out + "/half.txt") ==
        "toy model\nfactor=2 mode=plain scale=0.500000 seed=3 inputs=1 data=12\nfactor=3 mode=plain scale=1.000000 seed=3 inputs=1\n");
  CHECK(manifest["mlopt_version"].is_string());
  CHECK_THAT(manifest["libtorch_version"].get<std::string>(), Catch::StartsWith("1.13"));
  CHECK(manifest["onnx_version"].is_string());
  CHECK(manifest["config"]["steps"][0]["factor"] == 2);
  const std::string md = read_file(out + "/report.md");
  CHECK_THAT(md, Catch::Contains("| `half.txt` | half | txt |"));
  CHECK_THAT(md, Catch::Contains("✅ **pass** `half: max_p50_latency_ms <= 100`"));
  const std::string html = read_file(out + "/report.html");
  CHECK_THAT(html, Catch::Contains("<svg") && Catch::Contains("Latency distribution") && Catch::Contains("half.txt"));
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // self-contained
}

TEST_CASE("pipeline: the step cache hits on a re-run and misses when an input, option or version changes", "[pipeline]") {
  Toy toy;
  auto& runs = mlopt::test::toy::transform_runs();
  run_pipeline(toy.options(), {});
  const int first = runs;
  const std::string half = read_file(toy.dir + "/out/half.txt");

  auto again = run_pipeline(toy.options(), {});
  CHECK(runs == first);
  for (const auto& step : again.steps) CHECK(step.status == "cached");
  CHECK(again.to_text().find("0 step(s) ran, 3 reused from the cache") != std::string::npos);

  SECTION("a deleted artifact is restored from the cache") {
    fs::remove(toy.dir + "/out/half.txt");
    run_pipeline(toy.options(), {});
    CHECK(runs == first);
    CHECK(read_file(toy.dir + "/out/half.txt") == half);
  }
  SECTION("an input file changes") {
    write(toy.dir, "numbers.csv", "1,2,3\n");
    auto r = run_pipeline(toy.options(), {});
    CHECK(runs == first + 2);  // double reads the data; half reads double's new output
    CHECK(r.steps[0].status == "ran");
  }
  SECTION("an option changes") {
    auto o = toy.options();
    o.set = {"steps.half.factor=5"};
    auto r = run_pipeline(o, {});
    CHECK(runs == first + 1);
    CHECK(r.steps[0].status == "cached");
    CHECK(r.steps[1].status == "ran");
  }
  SECTION("--force recomputes and writes byte-identical artifacts") {
    auto o = toy.options();
    o.force = true;
    auto r = run_pipeline(o, {});
    CHECK(runs == first + 2);
    CHECK(read_file(toy.dir + "/out/half.txt") == half);
    CHECK(manifest_of(toy.dir + "/out")["artifacts"][1]["sha256"] == sha256_hex(half));
  }
  SECTION("the versions are part of the key") {
    CacheKeyInputs a{"quantize", {{"mode", "int8"}}, {}, 0, {"0.1.0", "1.13.1", "1.12.0"}};
    CacheKeyInputs b = a;
    b.versions.libtorch = "2.0.0";
    CacheKeyInputs c = a;
    c.versions.mlopt = "0.2.0";
    CacheKeyInputs d = a;
    d.versions.onnx = "1.13.0";
    CacheKeyInputs e = a;
    e.seed = 1;
    CHECK(cache_key(a) == cache_key(CacheKeyInputs(a)));
    for (const auto& other : {b, c, d, e}) CHECK(cache_key(a) != cache_key(other));
  }
}

TEST_CASE("pipeline: cache keys follow file content, not location", "[pipeline]") {
  const std::string dir = temp_dir("keys");
  write(dir, "a.csv", "same");
  write(dir, "b.csv", "same");
  write(dir, "c.csv", "different");
  auto key = [](const std::string& path) { return options_for_key({{"data", path}}, "")["data"]; };
  CHECK(key(dir + "/a.csv") == key(dir + "/b.csv"));
  CHECK(key(dir + "/a.csv") != key(dir + "/c.csv"));
  CHECK(key(dir + "/a.csv") == "sha256:" + sha256_hex("same"));
}

TEST_CASE("pipeline: a failed gate is reported with its figure and the report is still written", "[pipeline]") {
  Toy toy;
  auto o = toy.options();
  o.set = {"gates.0.max_p50_latency_ms=0.5"};
  auto result = run_pipeline(o, {});
  CHECK_FALSE(result.passed());
  REQUIRE(result.failed_gates().size() == 1);
  CHECK(result.failed_gates()[0]->name == "half: max_p50_latency_ms <= 0.5");
  CHECK_THAT(result.failed_gates()[0]->figure, Catch::StartsWith("p50 latency 1.200 ms"));
  CHECK_THAT(read_file(toy.dir + "/out/report.md"), Catch::Contains("❌ **FAIL** `half: max_p50_latency_ms <= 0.5` — p50 latency"));
  CHECK(manifest_of(toy.dir + "/out")["passed"] == false);

  SECTION("accuracy drop against the baseline") {
    o.set = {"gates.1.max_accuracy_drop=0.001"};
    auto r = run_pipeline(o, {});
    REQUIRE(r.failed_gates().size() == 1);
    CHECK(r.failed_gates()[0]->figure == "accuracy drop 0.0100 (0.9800 -> 0.9700)");
  }
  SECTION("speedup over the baseline, and a bound on any measured metric") {
    o.set = {"gates.0={artifact: half, min_speedup: 100}", "gates.1={artifact: half, metric: latency_ms.p50, max: 0.1}"};
    auto r = run_pipeline(o, {});
    REQUIRE(r.failed_gates().size() == 2);
    CHECK(r.failed_gates()[0]->name == "half: min_speedup >= 100");
    CHECK_THAT(r.failed_gates()[0]->figure, Catch::Contains("speedup"));
    CHECK_THAT(r.failed_gates()[1]->name, Catch::Contains("latency_ms.p50"));
    o.set = {"gates.0={artifact: half, min_speedup: 0.1}", "gates.1={artifact: half, metric: latency_ms.p50, max: 1000}"};
    CHECK(run_pipeline(o, {}).passed());
  }
  SECTION("a check that fails inside a step (verify tolerances)") {
    o.set = {"steps.measure.fail=true"};
    auto r = run_pipeline(o, {});
    CHECK_FALSE(r.passed());
    CHECK_THAT(r.failed_gates()[0]->figure, Catch::Contains("outputs differ by 0.5"));
    CHECK_THAT(read_file(toy.dir + "/out/report.md"), Catch::Contains("measure on double: toy-measure passes"));
  }
  SECTION("a gate on a figure nobody measured") {
    o.set = {"gates.0.artifact=source"};
    auto r = run_pipeline(o, {});
    CHECK_THAT(r.failed_gates()[0]->figure, Catch::Contains("no p50 latency measured on 'source'"));
  }
}

TEST_CASE("pipeline: --dry-run prints the plan and runs nothing, --only and --from", "[pipeline]") {
  Toy toy;
  auto o = toy.options();
  o.dry_run = true;
  auto plan = run_pipeline(o, {});
  CHECK_THAT(plan.to_text(), Catch::Contains("half [toy-transform] reads double -> half.txt") && Catch::Contains("factor: 3"));
  CHECK_FALSE(fs::exists(toy.dir + "/out"));

  o.dry_run = false;
  o.only = "half";
  CHECK_THAT(error_of([&] { run_pipeline(o, {}); }), Catch::Contains("step 'double' is needed by the steps you selected"));
  o.only = "";
  run_pipeline(o, {});
  auto& runs = mlopt::test::toy::transform_runs();
  const int before = runs;
  o.only = "half";
  o.force = true;
  auto r = run_pipeline(o, {});
  CHECK(runs == before + 1);
  CHECK(r.steps[0].status == "cached");
  CHECK(r.steps[2].status == "skipped");
  o.only = "";
  o.from = "nope";
  CHECK_THAT(error_of([&] { run_pipeline(o, {}); }), Catch::Contains("--from nope: no such step"));
}

TEST_CASE("pipeline: model keys beyond from: (a reference positional, teacher/student options)", "[pipeline]") {
  const char* yaml = R"(name: shapes
model: model.pt
steps:
  - name: big
    type: toy-transform
    factor: 100
  - name: student
    type: toy-train
    from: source
    teacher: big
    epochs: 2
  - name: compare
    type: toy-compare
    from: student
    reference: big
    tolerance: 1000
gates:
  - {artifact: student, max_accuracy_drop: 0.0}
)";
  Toy toy(yaml);
  auto result = run_pipeline(toy.options(), {});
  CHECK(read_file(toy.dir + "/out/student.txt") == "toy model\ntrained 2 epochs with a teacher of 63 bytes\n");
  // Accuracy recorded on both models: the candidate and its reference (the baseline, big).
  auto manifest = manifest_of(toy.dir + "/out");
  CHECK(manifest["artifacts"][0]["metrics"]["accuracy"] == Approx(0.98));
  CHECK(manifest["artifacts"][1]["metrics"]["accuracy"] == Approx(0.98));
  CHECK(result.passed());

  SECTION("a required option left out") {
    Toy bad(replace(yaml, "    epochs: 2\n", ""));
    CHECK_THAT(error_of([&] { run_pipeline(bad.options(), {}); }), Catch::Contains("step 'student': missing required key 'epochs'"));
  }
  SECTION("a failed comparison fails the run after the report") {
    auto o = toy.options();
    o.set = {"steps.compare.tolerance=0"};
    auto r = run_pipeline(o, {});
    CHECK_FALSE(r.passed());
    CHECK(r.failed_gates()[0]->name == "compare on student: toy-compare passes");
    CHECK(fs::exists(toy.dir + "/out/report.html"));
  }
  SECTION("a reference to a missing step") {
    Toy bad(replace(yaml, "reference: big", "reference: bgi"));
    CHECK_THAT(error_of([&] { run_pipeline(bad.options(), {}); }),
               Catch::Contains("toy.yaml:15:16: step 'compare': reference: no step named 'bgi' (did you mean 'big'?)"));
  }
}

TEST_CASE("pipeline: a partial run skips the gates it cannot judge instead of failing them", "[pipeline]") {
  Toy toy;
  auto o = toy.options();
  o.set = {"gates.0.max_p50_latency_ms=0.5"};  // would fail on a full run
  REQUIRE_FALSE(run_pipeline(o, {}).passed());
  // --only half: the step measuring its latency does not run, so no figure is new.
  o.only = "half";
  auto r = run_pipeline(o, {});
  CHECK(r.passed());
  CHECK(r.gates.empty());
  // --from measure: the figures are measured again, and the gate fails again.
  o.only.clear();
  o.from = "measure";
  CHECK_FALSE(run_pipeline(o, {}).passed());
}

// What a run may write and what it leaves behind (issue 15): the output folder
// is the run's own, one run at a time, a cache that never serves wrong bytes,
// a manifest that always describes the files beside it, and YAML that cannot
// hide keys, loop or explode.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/folder_lock.h"
#include "mlopt/core/hash.h"
#include "mlopt/core/npy.h"
#include "mlopt/pipeline/pipeline_config.h"
#include "mlopt/pipeline/run.h"
#include "mlopt/pipeline/yaml_guard.h"
#include "pipeline/toy_steps.h"
#include "support/test_support.h"

namespace fs = std::filesystem;
using namespace mlopt;
using namespace mlopt::pipeline;
using mlopt::test::error_of;
using mlopt::test::run_mlopt;
using mlopt::test::temp_dir;
using mlopt::test::toy::write;

namespace {

const char* kTwoSteps = R"(name: toy
model: model.pt
steps:
  - name: double
    type: toy-transform
    factor: 2
  - name: half
    type: toy-transform
    factor: 3
  - name: measure
    type: toy-measure
)";

struct Folder {
  std::string dir = temp_dir("integrity");
  std::string file;
  explicit Folder(const std::string& yaml = kTwoSteps) {
    write(dir, "model.pt", "toy model\n");
    file = write(dir, "toy.yaml", yaml);
  }
  RunOptions options(const std::vector<std::string>& set = {}) const {
    RunOptions o;
    o.pipeline = file;
    o.out = dir + "/out";
    o.set = set;
    return o;
  }
};

nlohmann::json manifest_json(const std::string& out) { return nlohmann::json::parse(read_file(out + "/manifest.json")); }

}  // namespace

TEST_CASE("integrity: names and artifacts are plain file names inside --out", "[pipeline][integrity]") {
  Folder f;
  CHECK_THAT(error_of([&] { run_pipeline(f.options({"name=.."}), {}); }), Catch::Contains("name expects letters"));
  CHECK_THAT(error_of([&] { run_pipeline(f.options({"name="}), {}); }), Catch::Contains("name expects letters"));
  CHECK_THAT(error_of([&] { run_pipeline(f.options({"steps.half.artifact=../escaped"}), {}); }),
             Catch::Contains("artifact names a file inside the output folder"));
  CHECK_THAT(error_of([&] { run_pipeline(f.options({"steps.half.artifact=/tmp/abs"}), {}); }),
             Catch::Contains("got '/tmp/abs'"));
  CHECK_THAT(error_of([&] { run_pipeline(f.options({"steps.half.artifact=double"}), {}); }),
             Catch::Contains("which step 'double' writes too"));
  CHECK_THAT(error_of([&] { run_pipeline(f.options({"steps.half.artifact=manifest"}), {}); }),
             Catch::Contains("(no error)"));  // manifest.txt is not reserved
  CHECK_FALSE(fs::exists(f.dir + "/escaped.txt"));
  CHECK_FALSE(fs::exists("/tmp/abs.txt"));
}

TEST_CASE("integrity: no step writes over an input of the run", "[pipeline][integrity]") {
  Folder f;
  const std::string source = read_file(f.dir + "/model.pt");
  SECTION("an artifact named like an input, with --out on the input's folder") {
    write(f.dir, "numbers.txt", "the user's own data\n");
    f.file = write(f.dir, "toy.yaml", std::string(kTwoSteps) + "data:\n  numbers: numbers.txt\n");
    auto o = f.options({"steps.double.artifact=numbers", "steps.double.data=numbers"});
    o.out = f.dir;
    CHECK_THAT(error_of([&] { run_pipeline(o, {}); }), Catch::Contains("an input of this run"));
    CHECK(read_file(f.dir + "/numbers.txt") == "the user's own data\n");
  }
  SECTION("a written file option is placed inside --out, and a path is refused") {
    auto r = run_pipeline(f.options({"steps.measure.trace=model.pt"}), {});
    CHECK(read_file(f.dir + "/model.pt") == source);
    CHECK_THAT(read_file(f.dir + "/out/model.pt"), Catch::StartsWith("trace of"));
    CHECK_THAT(error_of([&] { run_pipeline(f.options({"steps.measure.trace=../model.pt"}), {}); }),
               Catch::Contains("trace names a file inside the output folder"));
    CHECK_THAT(error_of([&] { run_pipeline(f.options({"steps.measure.trace=half.txt"}), {}); }),
               Catch::Contains("which step 'half' writes too"));
  }
  SECTION("the same file from one step measuring two models") {
    CHECK_THAT(error_of([&] { run_pipeline(f.options({"steps.measure.from=[double, half]", "steps.measure.trace=t.json"}), {}); }),
               Catch::Contains("more than once"));
  }
}

TEST_CASE("integrity: a command never writes over a file it reads", "[cli][integrity]") {
  const std::string dir = temp_dir("overwrite");
  const std::string model = dir + "/m.pt";
  fs::copy_file(mlopt::test::test_data("quantize_digits_mlp.pt"), model);
  const std::string before = sha256_file(model);
  auto r = run_mlopt({"profile", model, "--input", "x:1x64", "--iters", "2", "--ops", "--trace", model});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("it would be overwritten"));
  CHECK(sha256_file(model) == before);
}

TEST_CASE("integrity: one run per output folder", "[pipeline][integrity]") {
  Folder f;
  fs::create_directories(f.dir + "/out");
  {
    FolderLock held(f.dir + "/out", "a test");
    CHECK_THAT(error_of([&] { run_pipeline(f.options(), {}); }), Catch::Contains("is in use by another mlopt process (a test, pid"));
  }
  CHECK(run_pipeline(f.options(), {}).passed());  // released with its holder
}

TEST_CASE("integrity: a bad cache blob or record is a miss, recomputed and replaced", "[pipeline][integrity]") {
  Folder f;
  auto& runs = mlopt::test::toy::transform_runs();
  run_pipeline(f.options(), {});
  const std::string out = f.dir + "/out";
  const std::string good = sha256_file(out + "/half.txt");
  SECTION("a truncated blob") {
    for (const auto& blob : fs::directory_iterator(out + "/.cache/blobs")) fs::resize_file(blob.path(), 3);
    fs::remove(out + "/half.txt");
    fs::remove(out + "/double.txt");
    const int before = runs;
    auto r = run_pipeline(f.options(), {});
    CHECK(runs == before + 2);
    CHECK(sha256_file(out + "/half.txt") == good);
    CHECK(manifest_json(out)["artifacts"][1]["sha256"] == good);
    for (const auto& blob : fs::directory_iterator(out + "/.cache/blobs"))
      CHECK(sha256_file(blob.path().string()) == blob.path().filename().string());
  }
  SECTION("a malformed record") {
    for (const auto& entry : fs::directory_iterator(out + "/.cache"))
      if (entry.path().extension() == ".json") write_file_atomically(entry.path().string(), R"({"artifacts": [{"name": 3}]})");
    const int before = runs;
    CHECK(run_pipeline(f.options(), {}).passed());
    CHECK(runs == before + 2);
  }
}

TEST_CASE("integrity: a failed step leaves a manifest and reports that say so", "[pipeline][integrity]") {
  Folder f;
  const std::string out = f.dir + "/out";
  REQUIRE(run_pipeline(f.options(), {}).passed());
  REQUIRE(manifest_json(out)["passed"] == true);
  CHECK_THAT(error_of([&] { run_pipeline(f.options({"steps.half.crash=true"}), {}); }),
             Catch::Contains("the toy step broke"));
  auto manifest = manifest_json(out);
  CHECK(manifest["passed"] == false);
  CHECK(manifest["status"] == "failed");
  CHECK(manifest["failure"]["step"] == "half");
  CHECK_THAT(manifest["failure"]["error"].get<std::string>(), Catch::Contains("the toy step broke"));
  // Only what this run wrote is listed: half.txt of the previous run is not current.
  REQUIRE(manifest["artifacts"].size() == 1);
  CHECK(manifest["artifacts"][0]["path"] == "double.txt");
  CHECK(manifest["artifacts"][0]["sha256"] == sha256_file(out + "/double.txt"));
  const std::string md = read_file(out + "/report.md");
  CHECK_THAT(md, Catch::Contains("**FAILED**") && Catch::Contains("step `half` stopped the run"));
  CHECK_THAT(read_file(out + "/report.html"), Catch::Contains("stopped the run"));
}

TEST_CASE("integrity: while a run is under way its manifest says it has not finished", "[pipeline][integrity]") {
  // The manifest and reports are replaced before any step runs, so a SIGKILL
  // at any later point leaves "incomplete", never the previous "passed".
  Folder f;
  const std::string out = f.dir + "/out";
  REQUIRE(run_pipeline(f.options(), {}).passed());
  REQUIRE(manifest_json(out)["status"] == "passed");
  run_pipeline(f.options({"steps.measure.peek=true"}), {});
  const auto steps = manifest_json(out)["steps"];
  REQUIRE(steps.size() == 3);
  CHECK(steps[2]["results"][0]["result"]["manifest_status"] == "incomplete");
  // A run refused at validation touches nothing.
  REQUIRE(run_pipeline(f.options(), {}).passed());
  CHECK_THAT(error_of([&] { run_pipeline(f.options({"steps.double.factor=-1"}), {}); }), Catch::Contains("expected 0 or more"));
  CHECK(manifest_json(out)["status"] == "passed");
}

TEST_CASE("integrity: duplicate keys, extra documents and alias tricks are errors with lines", "[pipeline][integrity]") {
  CHECK_THAT(error_of([] { check_yaml_text("a: 1\nb: 2\na: 3\n", "p.yaml"); }),
             Catch::Contains("p.yaml:3:1: duplicate key 'a' (first at line 1)"));
  CHECK_THAT(error_of([] { check_yaml_text("gates: []\n---\ngates: []\n", "p.yaml"); }),
             Catch::Contains("p.yaml:2:1: a pipeline file holds one YAML document"));
  CHECK_THAT(error_of([] { check_yaml_text("extra: &e {a: *e}\n", "p.yaml"); }), Catch::Contains("refers to the node that contains it"));
  CHECK_THAT(error_of([] { check_yaml_text("l: &l [1, *l]\n", "p.yaml"); }), Catch::Contains("a cycle"));
  // 10 levels of 10 aliases each: 10^10 nodes once expanded.
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    bomb += "]\n";
  }
  const auto start = std::chrono::steady_clock::now();
  CHECK_THAT(error_of([&] { check_yaml_text(bomb, "p.yaml"); }), Catch::Contains("expands to more than"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK_THAT(error_of([] { check_yaml_text("a: &x {b: 1}\nc: *x\nd: [*x, *x]\n", "p.yaml"); }), Catch::Contains("(no error)"));

  Folder f(std::string(kTwoSteps) + "steps: []\n");
  CHECK_THAT(error_of([&] { run_pipeline(f.options(), {}); }), Catch::Contains("duplicate key 'steps'"));
  Folder g;
  CHECK_THAT(error_of([&] { run_pipeline(g.options({"steps.half.tags=&e [*e]"}), {}); }), Catch::Contains("a cycle"));
  auto r = run_mlopt({"run", f.file, "--dry-run"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("toy.yaml:") && Catch::Contains("duplicate key 'steps'"));
}

TEST_CASE("integrity: --dry-run refuses values the run would refuse, with the step's position", "[pipeline][integrity]") {
  Folder f;
  auto o = f.options({"steps.half.factor=-1"});
  o.dry_run = true;
  CHECK_THAT(error_of([&] { run_pipeline(o, {}); }), Catch::Contains("toy.yaml:") && Catch::Contains("--factor -1: expected 0 or more"));
  // The real step types check their options at validation too (quantize, prune, distill).
  const std::string release = mlopt::test::source_path("configs/digits-release.yaml");
  for (auto [set, expected] : std::vector<std::pair<std::string, std::string>>{
           {"steps.int8.percentile=20", "digits-release.yaml:38:5: step 'int8': --percentile 20: expected (50, 100]"},
           {"steps.prune.amount=.inf", "step 'prune': --amount inf"},
           {"steps.train.epochs=-5", "step 'train': --epochs -5: expected at least 1"}}) {
    auto r = run_mlopt({"run", release, "--dry-run", "--out", temp_dir("dry-checks"), "--set", set});
    INFO(set);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.err, Catch::Contains(expected));
  }
}

TEST_CASE("integrity: bad numbers and empty inputs are errors, not silent results", "[cli][integrity]") {
  const std::string dir = temp_dir("numbers");
  NpyArray empty;
  empty.dtype = "float32";
  empty.shape = {0, 64};
  write_npy(dir + "/empty.npy", empty);
  auto r = run_mlopt({"verify", mlopt::test::test_data("quantize_digits_mlp.pt"), mlopt::test::test_data("quantize_digits_mlp.pt"),
                      "--inputs", dir + "/empty.npy"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("no elements"));
  r = run_mlopt({"verify", mlopt::test::test_data("quantize_digits_mlp.pt"), mlopt::test::test_data("quantize_digits_mlp.pt"),
                 "--inputs", "/dev/zero"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("'/dev/zero'"));
  r = run_mlopt({"distill", "--student", mlopt::test::source_path("examples/models/mlp.py"), "--data",
                 mlopt::test::test_data("digits.csv.gz"), "--alpha", "0", "--lr", "inf", "-o", dir + "/s.pt"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--lr inf: expected a positive finite number"));
  r = run_mlopt({"verify", "--threads", "100000", mlopt::test::test_data("quantize_digits_mlp.pt")});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("100000") && Catch::Contains("1024"));
}

TEST_CASE("integrity: file names up to 250 bytes are written atomically", "[core][integrity]") {
  const std::string dir = temp_dir("longname");
  const std::string path = dir + "/" + std::string(246, 'a') + ".txt";
  write_file_atomically(path, "x");
  CHECK(read_file(path) == "x");
  for (const auto& entry : fs::directory_iterator(dir)) CHECK(entry.path().string() == path);
}

TEST_CASE("integrity: artifacts are byte-identical whatever the working folder, cached or --force", "[cli][integrity]") {
  const std::string dir = temp_dir("same-bytes");
  const std::string source = mlopt::test::source_path("");
  const std::string mlopt_bin = mlopt::test::shell_quote(MLOPT_BINARY);
  auto inside = mlopt::test::run_shell("cd " + mlopt::test::shell_quote(source) + " && " + mlopt_bin +
                                       " run configs/digits-release.yaml -q --out " + mlopt::test::shell_quote(dir + "/a"));
  REQUIRE(inside.exit_code == 0);
  auto outside = mlopt::test::run_shell("cd / && " + mlopt_bin + " run " +
                                        mlopt::test::shell_quote(source + "/configs/digits-release.yaml") + " -q --out " +
                                        mlopt::test::shell_quote(dir + "/b"));
  REQUIRE(outside.exit_code == 0);
  auto forced = run_mlopt({"run", source + "/configs/digits-release.yaml", "-q", "--force", "--out", dir + "/b"});
  REQUIRE(forced.exit_code == 0);
  const auto a = manifest_json(dir + "/a")["artifacts"];
  const auto b = manifest_json(dir + "/b")["artifacts"];
  REQUIRE(a.size() == b.size());
  REQUIRE(a.size() >= 6);
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i]["path"]);
    CHECK(a[i]["sha256"] == b[i]["sha256"]);
    CHECK(sha256_file(dir + "/b/" + b[i]["path"].get<std::string>()) == b[i]["sha256"]);
  }
}

TEST_CASE("integrity: thousands of data entries are validated in linear memory", "[cli][integrity]") {
  // Each data entry's options used to merge the whole document's node memory
  // (3000 entries: 6 GB and 100 s; 5000 here); a 3 GB address-space limit now has room to spare.
  Folder f;
  write(f.dir, "d.csv", "a,label\n1,0\n2,1\n");
  std::string yaml = "name: many\nmodel: model.pt\ndata:\n";
  for (int i = 0; i < 5000; ++i) yaml += "  d" + std::to_string(i) + ": {path: d.csv, scale: 0.5}\n";
  yaml += "steps:\n  - name: measure\n    type: profile\n";
  const std::string file = write(f.dir, "many.yaml", yaml);
  auto r = mlopt::test::run_shell("ulimit -v 3000000; " + mlopt::test::shell_quote(MLOPT_BINARY) + " run " +
                                  mlopt::test::shell_quote(file) + " --dry-run -q --out " + mlopt::test::shell_quote(f.dir + "/out"));
  INFO(r.err);
  CHECK(r.exit_code == 0);
}

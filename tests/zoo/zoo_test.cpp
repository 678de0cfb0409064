// The torchvision zoo as a test corpus (tests/zoo/make_zoo.py writes the models
// and $MLOPT_ZOO_DIR/zoo.json). Every subcommand runs on every model through
// the CLI and either works or refuses with one error line; nothing is silently
// wrong:
//   export-onnx   the file matches LibTorch in ONNX Runtime at the example size
//                 and a second one (batch 2, where the batch dim is dynamic);
//                 required for the families PyTorch's exporter handles
//                 (classification, segmentation, video);
//   torch.onnx    PyTorch's own export (made by make_zoo.py), same ORT check;
//   quantize      static and dynamic, .pt and .onnx: exit 0 only with output
//                 SQNR (and top-1 agreement on classifiers) over the floors,
//                 else exit 3 naming the layers to blame;
//   prune         channel pruning 30%, checked by prune itself;
//   profile, verify (.pt against mlopt's .onnx), trace to .ptl.
// One JSON file per model goes to $MLOPT_ZOO_DIR/results/ (tests/zoo/
// coverage_table.py turns them into docs/model-coverage.md); one line per step
// on stdout. Hidden from the default run ([.zoo]); ctest runs it as `zoo_fast`
// and `zoo_full` (label `zoo`), scripts/zoo.sh the whole zoo.
// Environment: MLOPT_ZOO_ONLY (comma list of models), MLOPT_ZOO_TIMEOUT
// (seconds per command, default 900), MLOPT_ZOO_STEPS (comma list of steps,
// default all: export,torch-onnx,quantize,prune,profile,verify,ptl; quantize-ptl:
// the static .ptl of quantize alone).
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/input_spec.h"
#include "mlopt/core/model_io.h"
#include "mlopt/core/random_inputs.h"
#include "mlopt/core/tensor_file.h"
#include "onnx/ort_oracle.h"
#include "support/test_support.h"

namespace {

using nlohmann::json;
using mlopt::test::CommandResult;

constexpr double kOrtTolerance = 1e-3;  // max |ort - torch| / max |torch|, worst output
// Detections: scores of untrained heads sit within a few percent of each other,
// and a ResNet-50's float arithmetic moves them by ~1e-3 of the largest.
constexpr double kDetectionTolerance = 1e-2;
constexpr double kSqnrFloor = 15;       // quantize's default --min-sqnr

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::set<std::string> comma_set(const std::string& s) {
  std::set<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.insert(item);
  return out;
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<std::string> error_lines(const std::string& err) {
  std::vector<std::string> out;
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("mlopt: error:", 0) == 0) out.push_back(line);
  return out;
}

// Why a step that printed no error line failed (exit 3: the check's warning).
// LibTorch's own logging (glog's "WARNING: Logging before InitGoogleLogging()",
// "W20261204 ..." lines, c10 "[W ...]" warnings) is never the reason.
bool libtorch_log_line(const std::string& line) {
  return line.rfind("WARNING: Logging before", 0) == 0 || line.rfind("[W ", 0) == 0 ||
         (line.size() > 9 && (line[0] == 'W' || line[0] == 'I' || line[0] == 'E') && std::isdigit(line[1]) &&
          std::isdigit(line[8]));
}

std::string last_reason(const std::string& err) {
  std::istringstream in(err);
  std::string reason, first;
  for (std::string line; std::getline(in, line);) {
    if (line.find("badly wrong") != std::string::npos || line.rfind("mlopt: ", 0) == 0) reason = line;
    if (first.empty() && !line.empty() && !libtorch_log_line(line)) first = line;
  }
  return reason.empty() ? first : reason;
}

// One step through the CLI: what it printed, how long it took, and the rule
// every step obeys: exit 0, or exit 1/3 with exactly one error line (no crash,
// no trace dump).
struct Step {
  CommandResult r;
  json out;  // --json result when it printed one
  double seconds = 0;
  std::string error;  // the error line, without "mlopt: error: "
};

Step run_step(std::vector<std::string> args, const std::string& timeout) {
  args.push_back("--json");
  args.push_back("--timeout");
  args.push_back(timeout);
  auto start = std::chrono::steady_clock::now();
  Step s;
  s.r = mlopt::test::run_mlopt(args);
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  s.out = json::parse(s.r.out, nullptr, false);
  if (s.out.is_discarded()) s.out = json();
  INFO("mlopt " << args[0] << " exit " << s.r.exit_code << ", stderr:\n" << s.r.err);
  CHECK((s.r.exit_code == 0 || s.r.exit_code == 1 || s.r.exit_code == 3));
  auto errors = error_lines(s.r.err);
  if (s.r.exit_code == 1) CHECK(errors.size() == 1);
  CHECK(s.r.err.find("Traceback") == std::string::npos);
  CHECK(s.r.err.find("terminate called") == std::string::npos);
  if (!errors.empty()) s.error = errors.back().substr(std::string("mlopt: error: ").size());
  if (s.r.exit_code != 0 && s.error.empty()) s.error = last_reason(s.r.err);
  return s;
}

json step_json(const Step& s) {
  json j{{"exit", s.r.exit_code}, {"seconds", s.seconds}};
  if (!s.error.empty()) j["error"] = s.error;
  return j;
}

// Detections (boxes [N, 4], scores [N], labels [N], then masks, keypoints:
// every output whose first dim is N) come sorted by score, two detections of
// one label may score the same to the last bit, and which of two near-equal
// candidates makes the cut (a score threshold, the detections-per-image cap)
// can turn on the last bits of a deep network's arithmetic. So the rows are
// matched: each of LibTorch's to the unused one of ONNX Runtime's with the same
// label nearest in box and score (within `tolerance`, relative to the largest),
// and compared pairwise. A detection without a match is allowed only at the
// cut: its score within `tolerance` of the lowest score kept on its side.
struct AlignedDetections {
  std::vector<at::Tensor> got, want;
  int64_t at_cut = 0;            // detections without a match, all at the cut
  std::set<size_t> row_outputs;  // masks, keypoints: compared row by row (see rows_agreeing)
};

std::vector<at::Tensor> rows(const std::vector<at::Tensor>& outputs, int64_t n, const std::vector<int64_t>& index) {
  auto picked = torch::tensor(index, at::kLong);
  std::vector<at::Tensor> out;
  for (const auto& t : outputs) out.push_back(t.dim() >= 1 && t.size(0) == n ? t.index_select(0, picked) : t);
  return out;
}

std::optional<AlignedDetections> align_detections(const std::vector<at::Tensor>& got,
                                                  const std::vector<at::Tensor>& want, double tolerance,
                                                  std::string& why) {
  if (want.size() < 3 || want[0].dim() != 2 || want[0].size(1) != 4) return AlignedDetections{got, want};
  const int64_t n = want[0].size(0);
  int labels = -1, scores = -1;
  for (size_t i = 1; i < want.size(); ++i)
    if (want[i].dim() == 1 && want[i].size(0) == n) {
      if (at::isFloatingType(want[i].scalar_type()) && scores < 0) scores = static_cast<int>(i);
      if (!at::isFloatingType(want[i].scalar_type()) && labels < 0) labels = static_cast<int>(i);
    }
  if (labels < 0 || scores < 0) return AlignedDetections{got, want};
  if (got.size() != want.size() || got[0].dim() != 2 || got[scores].dim() != 1 || got[labels].dim() != 1) {
    why = "ONNX Runtime's detections are not boxes, scores and labels";
    return std::nullopt;
  }
  const int64_t m = got[0].size(0);
  auto wb_t = want[0].to(at::kDouble).contiguous(), gb_t = got[0].to(at::kDouble).contiguous();
  auto ws_t = want[scores].to(at::kDouble).contiguous(), gs_t = got[scores].to(at::kDouble).contiguous();
  auto wl_t = want[labels].to(at::kLong).contiguous(), gl_t = got[labels].to(at::kLong).contiguous();
  auto wb = wb_t.accessor<double, 2>(), gb = gb_t.accessor<double, 2>();
  auto ws = ws_t.accessor<double, 1>(), gs = gs_t.accessor<double, 1>();
  auto wl = wl_t.accessor<int64_t, 1>(), gl = gl_t.accessor<int64_t, 1>();
  double box_scale = std::max(n ? wb_t.abs().max().item<double>() : 0.0, 1e-6);
  double score_scale = std::max(n ? ws_t.abs().max().item<double>() : 0.0, 1e-6);
  double want_cut = n ? ws_t.min().item<double>() : 0.0, got_cut = m ? gs_t.min().item<double>() : 0.0;
  std::vector<int64_t> want_rows, got_rows;
  std::vector<bool> used(m, false);
  AlignedDetections aligned;
  for (int64_t i = 0; i < n; ++i) {
    int64_t best = -1;
    double best_distance = tolerance;
    for (int64_t j = 0; j < m; ++j) {
      if (used[j] || gl[j] != wl[i]) continue;
      double d = std::abs(gs[j] - ws[i]) / score_scale;
      for (int c = 0; c < 4; ++c) d = std::max(d, std::abs(gb[j][c] - wb[i][c]) / box_scale);
      if (d < best_distance) best = j, best_distance = d;
    }
    if (best >= 0) {
      used[best] = true;
      want_rows.push_back(i);
      got_rows.push_back(best);
    } else if (ws[i] <= want_cut + tolerance * score_scale) {
      ++aligned.at_cut;
    } else {
      why = fmt::format("LibTorch's detection {} (label {}, score {:.6g}) has no match in ONNX Runtime's", i, wl[i],
                        ws[i]);
      return std::nullopt;
    }
  }
  for (int64_t j = 0; j < m; ++j) {
    if (used[j]) continue;
    if (gs[j] > got_cut + tolerance * score_scale) {
      why = fmt::format("ONNX Runtime's detection {} (label {}, score {:.6g}) has no match in LibTorch's", j, gl[j],
                        gs[j]);
      return std::nullopt;
    }
    ++aligned.at_cut;
  }
  aligned.want = rows(want, n, want_rows);
  aligned.got = rows(got, m, got_rows);
  for (size_t k = 1; k < want.size(); ++k)
    if (static_cast<int>(k) != scores && static_cast<int>(k) != labels && want[k].dim() >= 2 && want[k].size(0) == n)
      aligned.row_outputs.insert(k);
  return aligned;
}

// Masks and keypoints turn on discontinuities: a mask is pasted at int(box
// coordinate), so a box 1e-4 pixel off can move it a whole pixel, and a
// keypoint is the argmax of a heatmap, which jumps a cell on a near-tie. They
// are compared per detection; the fraction of detections whose row is within
// `tolerance` (relative to the output's largest value) must reach kRowsAgreeing.
constexpr double kRowsAgreeing = 0.9;

double rows_agreeing(const at::Tensor& got, const at::Tensor& want, double tolerance) {
  if (want.size(0) == 0) return 1.0;
  auto g = got.to(at::kDouble), w = want.to(at::kDouble);
  double scale = std::max(w.abs().max().item<double>(), 1e-6);
  auto row_error = (g - w).abs().flatten(1).amax(1) / scale;
  return (row_error < tolerance).to(at::kDouble).mean().item<double>();
}

// Runs `onnx_path` in ONNX Runtime and the module in LibTorch on the same
// random inputs (example size, then every dynamic dim at `size`, or other
// values at the example size when no dim is dynamic): the worst relative error
// per run, or the reason it could not compare.
json ort_match_or_throw(torch::jit::Module& module, const std::string& onnx_path,
                        const std::vector<std::string>& spec_texts, const json& size, double tolerance) {
  using namespace mlopt;
  auto specs = parse_input_specs(spec_texts);
  std::vector<std::vector<InputSpec>> runs{specs};
  if (size.is_number_integer()) {
    std::vector<InputSpec> resized;
    for (auto& s : specs) resized.push_back(s.with_dynamic_size(size.get<int64_t>()));
    runs.push_back(resized);
  } else {
    runs.push_back(specs);  // the inputs differ by seed
  }
  json errors = json::array();
  int64_t at_cut = 0;
  double least_agreeing = 1.0;
  for (size_t k = 0; k < runs.size(); ++k) {
    auto inputs = random_inputs(runs[k], 7 + k);
    std::vector<std::pair<std::string, at::Tensor>> named;
    for (size_t i = 0; i < specs.size(); ++i) named.emplace_back(specs[i].name, inputs[i]);
    auto run = test::try_run_in_ort(onnx_path, named);
    if (!run.ok) return {{"ok", false}, {"error", "ONNX Runtime: " + run.error.substr(0, 300)}};
    auto reference = run_module(module, inputs);
    if (run.outputs.size() != reference.size())
      return {{"ok", false},
              {"error", fmt::format("{} outputs, LibTorch has {}", run.outputs.size(), reference.size())}};
    std::vector<at::Tensor> outputs;
    for (auto& named_output : run.outputs) outputs.push_back(named_output.second);
    std::string why;
    auto aligned = align_detections(outputs, reference, tolerance, why);
    if (!aligned) return {{"ok", false}, {"error", why}};
    at_cut += aligned->at_cut;
    const auto& want = aligned->want;
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      auto g = aligned->got[i], w = want[i];
      if (!g.sizes().equals(w.sizes()))
        return {{"ok", false}, {"error", fmt::format("output {} shape differs from LibTorch's", i)}};
      if (w.numel() == 0) continue;
      if (aligned->row_outputs.count(i)) {
        double agreeing = rows_agreeing(g, w, tolerance);
        least_agreeing = std::min(least_agreeing, agreeing);
        if (agreeing < kRowsAgreeing) worst = std::max(worst, 1.0);
        continue;
      }
      if (!at::isFloatingType(w.scalar_type())) {
        worst = std::max(worst, at::equal(g.to(w.scalar_type()), w) ? 0.0 : 1.0);
        continue;
      }
      auto gd = g.to(at::kDouble), wd = w.to(at::kDouble);
      double scale = std::max(wd.abs().max().item<double>(), 1e-6);
      double e = (gd - wd).abs().max().item<double>() / scale;
      worst = std::max(worst, std::isfinite(e) ? e : 1.0);
    }
    errors.push_back(worst);
  }
  bool ok = true;
  for (auto& e : errors) ok = ok && e.get<double>() < tolerance;
  json result{{"ok", ok}, {"max_rel_error", errors}};
  if (at_cut > 0) result["detections_at_cut"] = at_cut;
  if (least_agreeing < 1.0) result["rows_agreeing"] = least_agreeing;
  return result;
}

json ort_match(torch::jit::Module& module, const std::string& onnx_path, const std::vector<std::string>& spec_texts,
               const json& size, double tolerance) {
  try {
    return ort_match_or_throw(module, onnx_path, spec_texts, size, tolerance);
  } catch (const std::exception& e) {
    std::string what = e.what();
    return {{"ok", false}, {"error", what.substr(0, what.find('\n')).substr(0, 300)}};
  }
}

struct Model {
  std::string name, family, dir;
  std::vector<std::string> specs;
  json meta;
  std::string timeout;
  std::string path(const std::string& suffix) const { return dir + "/" + name + suffix; }
  double tolerance() const { return family == "detection" ? kDetectionTolerance : kOrtTolerance; }
  std::vector<std::string> with_inputs(std::vector<std::string> args, const std::vector<std::string>& specs_) const {
    for (auto& s : specs_) {
      args.push_back("--input");
      args.push_back(s);
    }
    return args;
  }
};

json no_module(const std::string& load_error) {
  return {{"ok", false}, {"error", "LibTorch cannot load the model: " + load_error.substr(0, 300)}};
}

json export_step(const Model& m, std::optional<torch::jit::Module>& module, const std::string& load_error,
                 const std::string& work) {
  auto s = run_step(m.with_inputs({"export-onnx", m.path(".pt"), "-o", work + "/mlopt.onnx"}, m.specs), m.timeout);
  json j = step_json(s);
  if (s.r.exit_code == 0) {
    j["nodes"] = s.out.value("node_count", 0);
    j["ort"] = module ? ort_match(*module, work + "/mlopt.onnx", m.specs, m.meta["sizes"], m.tolerance())
                      : no_module(load_error);
  }
  return j;
}

json torch_onnx_step(const Model& m, std::optional<torch::jit::Module>& module, const std::string& load_error,
                     const std::string& work) {
  json j{{"status", m.meta.value("torch_onnx", "not run")}};
  if (j["status"] == "ok")
    j["ort"] = module ? ort_match(*module, m.path(".torch.onnx"), m.specs, m.meta["sizes"], m.tolerance())
                      : no_module(load_error);
  return j;
}

// Classifiers are quantized at batch 4 (16 reference samples: top-1 agreement
// is measured and floored), timed at batch 1.
std::vector<std::string> quantize_specs(const Model& m) {
  if (m.family != "classification") return m.specs;
  std::vector<std::string> out;
  for (auto s : m.specs) {
    auto at = s.find("batch=1x");
    if (at != std::string::npos) s.replace(at, 8, "batch=4x");
    out.push_back(s);
  }
  return out;
}

json quantize_step(const Model& m, const std::string& mode, const std::string& ext, const std::string& work) {
  auto out = work + "/q-" + mode + ext;
  auto s = run_step(
      m.with_inputs({"quantize", m.path(".pt"), "--mode", mode, "-o", out, "--latency-batch", "1"}, quantize_specs(m)),
      m.timeout);
  json j = step_json(s);
  if (s.out.is_object()) {
    auto q = s.out.value("quality", json::object());
    j["sqnr_db"] = s.out.value("output_sqnr_db", json());
    if (q.contains("top1_agreement")) j["top1_agreement"] = q["top1_agreement"];
    if (q.contains("top1_clear_samples")) j["top1_clear_samples"] = q["top1_clear_samples"];
    if (q.contains("detection_agreement")) j["detection_agreement"] = q["detection_agreement"];
    if (s.out.contains("latency")) {
      j["speedup"] = s.out["latency"].value("speedup", json());
      j["latency_verdict"] = s.out["latency"].value("verdict", json());  // "inconclusive" on a noisy machine
    }
    j["size_ratio"] = s.out.value("size_ratio", json());
    // A written artifact is over the floors; under them it is exit 3 with the blame, and no file.
    if (s.r.exit_code == 0) {
      INFO(m.name << " quantize " << mode << ext);
      CHECK(q.value("ok", false));
      CHECK(s.out.value("output_sqnr_db", 0.0) >= kSqnrFloor);
      CHECK(std::filesystem::exists(out));
    }
  }
  if (s.r.exit_code == 3) {
    INFO(m.name << " quantize " << mode << ext << ": " << s.r.err);
    CHECK(!std::filesystem::exists(out));
  }
  std::filesystem::remove(out);
  return j;
}

json prune_step(const Model& m, const std::string& work) {
  auto s = run_step(m.with_inputs({"prune", m.path(".pt"), "--method", "channel", "--amount", "0.3", "-o",
                                   work + "/pruned.pt"},
                                  m.specs),
                    m.timeout);
  json j = step_json(s);
  if (s.r.exit_code == 0 && s.out.contains("totals")) {
    j["param_ratio"] = s.out["totals"].value("param_ratio", json());
    j["flops_ratio"] = s.out["totals"].value("flops_ratio", json());
  }
  std::filesystem::remove(work + "/pruned.pt");
  return j;
}

// One fresh process, a few runs after the JIT's profiling and optimizing ones
// (a run that optimizes a large graph takes seconds, not the model's latency).
json profile_step(const Model& m) {
  auto s = run_step(
      m.with_inputs({"profile", m.path(".pt"), "--iters", "5", "--warmup", "3", "--processes", "1"}, m.specs),
      m.timeout);
  json j = step_json(s);
  if (s.r.exit_code == 0 && s.out.contains("latency_ms")) {
    j["latency_ms"] = s.out["latency_ms"].value("p50", json());
    if (s.out.contains("flops")) j["gflops"] = s.out["flops"].value("total", 0.0) / 1e9;
  }
  return j;
}

json verify_step(const Model& m, const std::string& work) {
  if (!std::filesystem::exists(work + "/mlopt.onnx")) return {{"skipped", "no ONNX file (export failed)"}};
  auto s = run_step(
      m.with_inputs({"verify", m.path(".pt"), work + "/mlopt.onnx", "--samples", "1", "--no-dynamic-check"}, m.specs),
      m.timeout);
  json j = step_json(s);
  j["passed"] = s.out.is_object() && s.out.value("passed", false);
  if (s.out.is_object() && s.out.contains("failures") && !s.out["failures"].empty())
    j["failure"] = s.out["failures"][0];
  return j;
}

json ptl_step(const Model& m, const std::string& work) {
  auto s = run_step(m.with_inputs({"trace", m.path(".pt"), "-o", work + "/model.ptl", "--check-inputs", "1"}, m.specs),
                    m.timeout);
  std::filesystem::remove(work + "/model.ptl");
  return step_json(s);
}

std::string brief(const json& j) {
  if (j.contains("error")) return "error: " + j["error"].get<std::string>();
  auto copy = j;
  copy.erase("seconds");
  return copy.dump();
}

}  // namespace

TEST_CASE("zoo: every subcommand runs on every model of the zoo or refuses with one line, nothing silently wrong",
          "[.zoo]") {
  const std::string dir = env_or("MLOPT_ZOO_DIR", "");
  REQUIRE(!dir.empty());
  std::ifstream list(dir + "/zoo.json");
  REQUIRE(list);
  auto zoo = json::parse(list);
  mlopt::test::require_ort();
  auto only = comma_set(env_or("MLOPT_ZOO_ONLY", ""));
  auto steps = comma_set(env_or("MLOPT_ZOO_STEPS", "export,torch-onnx,quantize,prune,profile,verify,ptl"));
  auto on = [&](const std::string& step) { return steps.count(step) > 0; };
  std::filesystem::create_directories(dir + "/results");
  int models = 0;
  for (const auto& meta : zoo) {
    Model m{meta["name"], meta["family"], dir, words(meta["spec"]), meta, env_or("MLOPT_ZOO_TIMEOUT", "900")};
    if (!only.empty() && !only.count(m.name)) continue;
    INFO(m.name << " " << meta["spec"]);
    auto work = mlopt::test::temp_dir("zoo-" + m.name);
    // A model LibTorch cannot load (torchvision's detection models call torchvision::nms, an op
    // outside LibTorch) still goes through the CLI steps, which must refuse it in one line.
    std::optional<torch::jit::Module> loaded;
    std::string load_error;
    try {
      loaded = mlopt::load_torchscript(m.path(".pt"));
    } catch (const std::exception& e) {
      load_error = e.what();
    }
    json r{{"name", m.name}, {"family", m.family}, {"spec", meta["spec"]}, {"how", meta["how"]},
           {"params", meta.value("params", 0)}};
    auto report = [&](const std::string& step, json j) {
      std::cout << "zoo: " << m.name << " " << step << ": " << brief(j) << std::endl;
      r[step] = std::move(j);
      mlopt::write_file_atomically(dir + "/results/" + m.name + ".json", r.dump(1));
    };
    if (on("export")) {
      report("export", export_step(m, loaded, load_error, work));
      // The families PyTorch's exporter handles must export and match.
      if (m.family == "classification" || m.family == "segmentation" || m.family == "video") {
        CHECK(r["export"]["exit"] == 0);
      }
      // Whatever exports matches: no silently wrong file.
      if (r["export"]["exit"] == 0) CHECK(r["export"]["ort"]["ok"] == true);
    }
    if (on("torch-onnx")) report("torch_onnx", torch_onnx_step(m, loaded, load_error, work));
    if (on("quantize"))
      for (std::string mode : {"static", "dynamic"})
        for (std::string ext : {".pt", ".onnx"}) report("quantize_" + mode + ext, quantize_step(m, mode, ext, work));
    // The lite interpreter's int8 file (checked against the module by quantize itself); `quantize-ptl` runs it alone.
    if (on("quantize") || on("quantize-ptl"))
      report("quantize_static.ptl", quantize_step(m, "static", ".ptl", work));
    if (on("prune")) report("prune", prune_step(m, work));
    if (on("profile")) report("profile", profile_step(m));
    if (on("verify")) report("verify", verify_step(m, work));
    if (on("ptl")) {
      report("ptl", ptl_step(m, work));
      // LibTorch's mobile conv-BN fusion broke trained-statistics ResNets; the .ptl must match now.
      if (m.family == "classification" && m.name.rfind("resnet", 0) == 0) CHECK(r["ptl"]["exit"] == 0);
    }
    std::filesystem::remove_all(work);
    ++models;
  }
  CHECK(models > 0);
}

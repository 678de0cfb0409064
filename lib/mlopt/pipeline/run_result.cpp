#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mlopt/pipeline/run.h"

namespace mlopt {

bool RunResult::passed() const { return stopped.empty() && failed_gates().empty() && inconclusive_gates().empty(); }

std::string RunResult::status() const {
  if (!stopped.empty()) return stopped;
  if (!failed_gates().empty()) return "failed";
  return inconclusive_gates().empty() ? "passed" : "inconclusive";
}

std::vector<const GateVerdict*> RunResult::failed_gates() const {
  std::vector<const GateVerdict*> failed;
  for (const auto& gate : gates)
    if (!gate.passed && !gate.inconclusive) failed.push_back(&gate);
  return failed;
}

std::vector<const GateVerdict*> RunResult::inconclusive_gates() const {
  std::vector<const GateVerdict*> noisy;
  for (const auto& gate : gates)
    if (gate.inconclusive) noisy.push_back(&gate);
  return noisy;
}

nlohmann::json RunResult::to_json() const {
  using nlohmann::json;
  if (dry_run) return {{"pipeline", name}, {"dry_run", true}, {"plan", json::parse(plan_json)}};
  json steps_json = json::array(), artifacts_json = json::array(), gates_json = json::array();
  for (const auto& s : steps)
    steps_json.push_back({{"name", s.name}, {"type", s.type}, {"status", s.status}, {"seconds", s.seconds},
                          {"models", s.models}, {"failure", s.failure}});
  for (const auto& a : artifacts)
    artifacts_json.push_back({{"path", a.path}, {"format", a.format}, {"sha256", a.sha256}, {"size", a.size},
                              {"step", a.step}, {"signature", json::parse(a.signature_json)},
                              {"metrics", json::parse(a.metrics_json)}});
  for (const auto& g : gates)
    gates_json.push_back({{"gate", g.name}, {"figure", g.figure}, {"passed", g.passed}, {"inconclusive", g.inconclusive}});
  json j = {{"pipeline", name},      {"out", out_dir},         {"passed", passed()},   {"baseline", baseline},
            {"steps", steps_json},   {"artifacts", artifacts_json}, {"gates", gates_json}, {"seconds", seconds},
            {"steps_seconds", steps_seconds}, {"status", status()}};
  if (!published_dir.empty()) j["published"] = {{"dir", published_dir}, {"version", published_version}};
  if (!error.empty()) j["failure"] = {{"step", failed_step}, {"error", error}};
  return j;
}

std::string RunResult::to_text() const {
  if (dry_run) return plan_text;
  int cached = 0, ran = 0;
  for (const auto& s : steps) {
    if (s.status == "cached") ++cached;
    if (s.status == "ran") ++ran;
  }
  std::string text = fmt::format("pipeline {}: {} step(s) ran, {} reused from the cache, {:.2f} s\n", name, ran, cached, seconds);
  for (const auto& a : artifacts) text += fmt::format("  {}/{}  {} bytes  sha256 {}\n", out_dir, a.path, a.size, a.sha256.substr(0, 16));
  for (const auto& g : gates)
    text += fmt::format("  gate {}: {} ({})\n", g.inconclusive ? "INCONCLUSIVE" : g.passed ? "pass" : "FAIL", g.name,
                        g.figure);
  if (!published_dir.empty()) text += fmt::format("published: version {} -> {}\n", published_version, published_dir);
  text += fmt::format("report: {}/report.md, {}/report.html; manifest: {}/manifest.json\n", out_dir, out_dir, out_dir);
  return text;
}

}  // namespace mlopt

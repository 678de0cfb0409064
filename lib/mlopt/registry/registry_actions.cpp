#include "mlopt/registry/registry_actions.h"

#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <set>

#include "mlopt/core/error.h"
#include "mlopt/registry/repository.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace mlopt {
namespace {
using namespace registry;

void expect_targets(const RegistryOptions& o, size_t low, size_t high, const std::string& usage) {
  if (o.targets.size() < low || o.targets.size() > high) fail_usage("registry {}: usage: mlopt registry {}", o.action, usage);
}

json version_summary(const std::string& repo, const std::string& model, const std::string& version) {
  const std::string dir = (fs::path(repo) / model / version).string();
  json s = {{"model", model}, {"version", version}, {"dir", dir}};
  try {
    const json m = read_version_manifest(dir);
    s["artifact"] = m["artifact"];
    s["created_at"] = m.value("created_at", "");
    s["created_by"] = m.value("created_by", "");
    s["metrics"] = m.value("metrics", json::object());
  } catch (const Error& e) {
    s["error"] = e.what();
  }
  return s;
}

// A figure by dotted path ("latency_ms.p50"), "-" when not measured.
std::string figure(const json& metrics, const std::string& path) {
  const json* at = &metrics;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!at->is_object() || !at->contains(key)) return "-";
    at = &(*at)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return at->is_number() ? fmt::format("{:.4g}", at->get<double>()) : "-";
}

RegistryResult list(const RegistryOptions& o) {
  expect_targets(o, 0, 1, "list REPO [MODEL]");
  RegistryResult r;
  json models = json::array();
  const auto names = o.targets.empty() ? list_models(o.repo) : std::vector<std::string>{parse_ref(o.targets[0]).model};
  for (const auto& model : names) {
    if (!fs::is_directory(fs::path(o.repo) / model)) fail("{}: no model '{}'", o.repo, model);
    const std::string promoted = promoted_version(o.repo, model);
    json versions = json::array();
    r.text += fmt::format("{}  (default version {}{})\n", model, default_version(o.repo, model),
                          promoted.empty() ? ", the newest: none promoted" : ", promoted");
    for (const auto& v : list_versions(o.repo, model)) {
      json s = version_summary(o.repo, model, v);
      s["promoted"] = v == promoted;
      const json metrics = s.value("metrics", json::object());
      r.text += fmt::format("  {:<8} {:<16} accuracy {:<8} size {:<8} p50 {:<6} ms  {} {}{}\n", v,
                            s.value("artifact", "?"), figure(metrics, "accuracy"), figure(metrics, "size"),
                            figure(metrics, "latency_ms.p50"), s.value("created_at", ""), s.value("created_by", ""),
                            v == promoted ? "  [promoted]" : "");
      versions.push_back(s);
    }
    models.push_back({{"model", model}, {"promoted", promoted}, {"default", default_version(o.repo, model)},
                      {"versions", versions}});
  }
  r.data = {{"repo", o.repo}, {"models", models}};
  return r;
}

RegistryResult show(const RegistryOptions& o) {
  expect_targets(o, 1, 1, "show REPO MODEL[:VERSION]");
  VersionRef ref = parse_ref(o.targets[0]);
  const std::string dir = version_dir(o.repo, ref);
  ref.version = fs::path(dir).filename().string();
  json m = read_version_manifest(dir);
  RegistryResult r;
  r.data = m;
  r.data["version"] = ref.version;
  r.data["dir"] = dir;
  r.data["promoted"] = promoted_version(o.repo, ref.model) == ref.version;
  r.text = fmt::format("{}  ({})\n  artifact   {} ({})\n  created    {} by {}\n  pipeline   {} (status {}) from {}\n",
                       ref.to_string(), dir, m.value("artifact", ""), m.value("format", ""), m.value("created_at", ""),
                       m.value("created_by", ""), m.value("pipeline", ""), m.value("status", ""), m.value("source", ""));
  const json versions = m.value("versions", json::object());
  r.text += fmt::format("  versions   mlopt {}, LibTorch {}, ONNX {}\n", versions.value("mlopt", "?"),
                        versions.value("libtorch", "?"), versions.value("onnx", "?"));
  const json metrics = m.value("metrics", json::object());  // items() must not outlive it
  for (const auto& [key, value] : metrics.items())
    if (value.is_number()) r.text += fmt::format("  metric     {} = {:g}\n", key, value.get<double>());
  for (const auto& gate : m.value("gates", json::array()))
    r.text += fmt::format("  gate       {}: {} ({})\n", gate.value("passed", false) ? "pass" : "FAIL", gate.value("gate", ""),
                          gate.value("figure", ""));
  for (const auto& a : m.value("artifacts", json::array()))
    r.text += fmt::format("  file       {} {} bytes\n", a.value("path", ""), a.value("size", int64_t{0}));
  return r;
}

// Every leaf of a JSON tree by its dotted path.
void flatten(const json& j, const std::string& prefix, std::map<std::string, json>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else if (j.is_array() && !j.empty() && j.front().is_object() && j.front().contains("name")) {
    for (const auto& item : j) flatten(item, prefix + "." + item.value("name", "?"), out);
  } else {
    out[prefix] = j;
  }
}

RegistryResult diff(const RegistryOptions& o) {
  expect_targets(o, 2, 2, "diff REPO MODEL:A MODEL:B");
  VersionRef a = parse_ref(o.targets[0]), b = parse_ref(o.targets[1]);
  const std::string dir_a = version_dir(o.repo, a), dir_b = version_dir(o.repo, b);
  const json ma = read_version_manifest(dir_a), mb = read_version_manifest(dir_b);
  RegistryResult r;
  r.text = fmt::format("{} -> {}\n", o.targets[0], o.targets[1]);
  json metrics = json::object();
  std::map<std::string, json> fa, fb;
  flatten(ma.value("metrics", json::object()), "", fa);
  flatten(mb.value("metrics", json::object()), "", fb);
  std::set<std::string> keys;
  for (const auto& [k, v] : fa) keys.insert(k);
  for (const auto& [k, v] : fb) keys.insert(k);
  for (const auto& k : keys) {
    const json x = fa.count(k) ? fa[k] : json(), y = fb.count(k) ? fb[k] : json();
    json entry = {{"a", x}, {"b", y}};
    if (x.is_number() && y.is_number()) {
      entry["delta"] = y.get<double>() - x.get<double>();
      r.text += fmt::format("  metric {:<24} {:>12g} -> {:<12g} ({:+g})\n", k, x.get<double>(), y.get<double>(),
                            entry["delta"].get<double>());
    } else if (x != y) {
      r.text += fmt::format("  metric {:<24} {} -> {}\n", k, x.dump(), y.dump());
    }
    metrics[k] = entry;
  }
  if (ma.value("artifact", "") != mb.value("artifact", ""))
    r.text += fmt::format("  artifact {} -> {}\n", ma.value("artifact", ""), mb.value("artifact", ""));
  std::map<std::string, json> ca, cb;
  flatten(ma.value("config", json::object()), "", ca);
  flatten(mb.value("config", json::object()), "", cb);
  json config = json::object();
  std::set<std::string> config_keys;
  for (const auto& [k, v] : ca) config_keys.insert(k);
  for (const auto& [k, v] : cb) config_keys.insert(k);
  for (const auto& k : config_keys) {
    const json x = ca.count(k) ? ca[k] : json(), y = cb.count(k) ? cb[k] : json();
    if (x == y) continue;
    config[k] = {{"a", x}, {"b", y}};
    r.text += fmt::format("  config {}: {} -> {}\n", k, x.dump(), y.dump());
  }
  if (config.empty()) r.text += "  config: identical\n";
  r.data = {{"a", {{"ref", o.targets[0]}, {"dir", dir_a}, {"artifact", ma.value("artifact", "")}}},
            {"b", {{"ref", o.targets[1]}, {"dir", dir_b}, {"artifact", mb.value("artifact", "")}}},
            {"metrics", metrics},
            {"config", config}};
  return r;
}

RegistryResult promote_action(const RegistryOptions& o) {
  expect_targets(o, 1, 1, "promote REPO MODEL:VERSION");
  const VersionRef ref = parse_ref(o.targets[0]);
  const std::string before = promoted_version(o.repo, ref.model);
  promote(o.repo, ref);
  RegistryResult r;
  r.data = {{"model", ref.model}, {"promoted", ref.version}, {"previous", before}};
  r.text = fmt::format("{}: version {} is served by default (was {})\n", ref.model, ref.version,
                       before.empty() ? "the newest, none promoted" : before);
  return r;
}

RegistryResult verify(const RegistryOptions& o) {
  expect_targets(o, 0, 1, "verify REPO [MODEL[:VERSION]]");
  std::vector<std::pair<std::string, std::string>> versions;
  if (!o.targets.empty() && o.targets[0].find(':') != std::string::npos) {
    const VersionRef ref = parse_ref(o.targets[0]);
    version_dir(o.repo, ref);
    versions.push_back({ref.model, ref.version});
  } else {
    const auto models = o.targets.empty() ? list_models(o.repo) : std::vector<std::string>{parse_ref(o.targets[0]).model};
    for (const auto& model : models)
      for (const auto& v : list_versions(o.repo, model)) versions.push_back({model, v});
  }
  RegistryResult r;
  json checked = json::array();
  int64_t bad = 0;
  for (const auto& [model, version] : versions) {
    const auto problems = check_version_files((fs::path(o.repo) / model / version).string());
    json p = json::array();
    for (const auto& problem : problems) {
      p.push_back({{"file", problem.file}, {"problem", problem.problem}});
      r.text += fmt::format("  FAIL {}:{} {}: {}\n", model, version, problem.file, problem.problem);
    }
    if (!problems.empty()) ++bad;
    checked.push_back({{"model", model}, {"version", version}, {"intact", problems.empty()}, {"problems", p}});
  }
  r.passed = bad == 0;
  r.text = fmt::format("verified {} version(s) in {}: {}\n", versions.size(), o.repo,
                       r.passed ? "every file matches its sha256" : fmt::format("{} changed", bad)) + r.text;
  r.data = {{"repo", o.repo}, {"passed", r.passed}, {"versions", checked}};
  return r;
}

}  // namespace

RegistryResult registry_action(const RegistryOptions& options, const GlobalOptions&) {
  RegistryResult r;
  if (options.action == "list") r = list(options);
  else if (options.action == "show") r = show(options);
  else if (options.action == "diff") r = diff(options);
  else if (options.action == "promote") r = promote_action(options);
  else if (options.action == "verify") r = verify(options);
  else fail_usage("registry: unknown action '{}' (expected list, show, diff, promote or verify)", options.action);
  r.action = options.action;
  return r;
}

}  // namespace mlopt

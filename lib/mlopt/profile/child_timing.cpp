#include "mlopt/profile/child_timing.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>


extern char** environ;

namespace mlopt {
namespace {

LatencyStats stats_from_json(const nlohmann::json& j) {
  LatencyStats s;
  s.mean_ms = j.value("mean", 0.0);
  s.stddev_ms = j.value("stddev", 0.0);
  s.min_ms = j.value("min", 0.0);
  s.p50_ms = j.value("p50", 0.0);
  s.p90_ms = j.value("p90", 0.0);
  s.p99_ms = j.value("p99", 0.0);
  s.max_ms = j.value("max", 0.0);
  s.cv = j.value("cv", 0.0);
  s.iterations = j.value("iterations", int64_t{0});
  return s;
}

// This process's environment, with `tuning` set (replacing any the user set).
std::vector<std::string> child_environment(const EnvSettings& tuning) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry = *e;
    bool replaced = false;
    for (const auto& [name, value] : tuning) replaced = replaced || entry.rfind(name + "=", 0) == 0;
    if (!replaced) env.push_back(entry);
  }
  for (const auto& [name, value] : tuning) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::string env_settings_text(const EnvSettings& settings) {
  std::string out;
  for (const auto& [name, value] : settings) out += (out.empty() ? "" : " ") + name + "=" + value;
  return out;
}

std::string mlopt_executable() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || exe.filename() != "mlopt") return {};
  return exe.string();
}

ChildTimings time_in_child_process(const std::string& exe, const std::vector<std::string>& profile_args,
                                   const EnvSettings& settings) {
  ChildTimings t;
  const char* which = settings.empty() ? "timing" : "tuned";
  std::vector<std::string> args = {exe, "profile"};
  args.insert(args.end(), profile_args.begin(), profile_args.end());
  args.push_back("--latency-only");
  args.push_back("--json");
  args.push_back("-q");
  std::vector<std::string> env = child_environment(settings);
  auto argv = c_strings(args);
  auto envp = c_strings(env);

  int out[2];
  if (pipe(out) != 0) {
    t.not_measured = fmt::format("cannot start the {} run: {}", which, std::strerror(errno));
    return t;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addclose(&actions, out[1]);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    t.not_measured = fmt::format("cannot start '{}': {}", exe, std::strerror(rc));
    return t;
  }
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    t.not_measured = WIFEXITED(status) ? fmt::format("the {} run exited with {}", which, WEXITSTATUS(status))
                                       : fmt::format("the {} run was killed", which);
    return t;
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("runs") || !j["runs"].is_array()) {
    t.not_measured = fmt::format("the {} run printed no figures", which);
    return t;
  }
  for (const auto& run : j["runs"]) t.runs.push_back(stats_from_json(run.value("latency_ms", nlohmann::json::object())));
  return t;
}

}  // namespace mlopt

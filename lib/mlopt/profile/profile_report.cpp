// ProfileResult as JSON (stable keys the pipeline gates read: latency_ms.p50,
// throughput, peak_rss_bytes, ...) and as a table.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "mlopt/core/log.h"
#include "mlopt/profile/profile.h"

namespace mlopt {
namespace {

nlohmann::json run_json(const ProfileRun& r) {
  return {{"batch", r.batch},
          {"threads", r.threads},
          {"shapes", r.shapes},
          {"latency_ms", r.latency.to_json()},
          {"throughput", r.throughput},
          {"flops", r.flops},
          {"gflops_per_s", r.gflops_per_s},
          {"cv", r.latency.cv},
          {"noisy", r.noisy}};
}

std::string bytes_text(int64_t b) {
  if (b >= (int64_t{1} << 30)) return fmt::format("{:.2f} GiB", static_cast<double>(b) / (1 << 30));
  if (b >= (1 << 20)) return fmt::format("{:.1f} MiB", static_cast<double>(b) / (1 << 20));
  if (b >= (1 << 10)) return fmt::format("{:.1f} KiB", static_cast<double>(b) / (1 << 10));
  return fmt::format("{} B", b);
}

std::string flops_text(double f) {
  if (f >= 1e9) return fmt::format("{:.2f} GFLOP", f / 1e9);
  if (f >= 1e6) return fmt::format("{:.2f} MFLOP", f / 1e6);
  if (f >= 1e3) return fmt::format("{:.1f} kFLOP", f / 1e3);
  return fmt::format("{:.0f} FLOP", f);
}

double ratio(double b, double a) { return a != 0 ? b / a : 0.0; }

std::string model_header(const ModelProfile& m) {
  return fmt::format("{} ({}{}, {}): file {}, {} parameters ({}), peak RSS {}, {} per run\n", m.path, m.engine,
                     m.reference_path ? " - reference path, not a runtime" : "", m.precision, bytes_text(m.file_size),
                     m.parameter_count, bytes_text(m.parameter_bytes), bytes_text(m.peak_rss_bytes),
                     flops_text(static_cast<double>(m.flops.total)));
}

std::string runs_table(const ModelProfile& m) {
  std::string out = fmt::format("{:>6} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>12} {:>8} {:>6}\n", "batch",
                                "threads", "mean ms", "stddev", "min", "p50", "p90", "p99", "max", "samples/s",
                                "GFLOP/s", "cv");
  for (const auto& r : m.runs) {
    const auto& l = r.latency;
    out += fmt::format("{:>6} {:>7} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>9.3f} {:>12.1f} {:>8.2f} {:>5.1f}%{}\n",
                       r.batch, r.threads, l.mean_ms, l.stddev_ms, l.min_ms, l.p50_ms, l.p90_ms, l.p99_ms, l.max_ms,
                       r.throughput, r.gflops_per_s, 100 * l.cv, r.noisy ? " !" : "");
  }
  return out;
}

std::string ops_table(const ModelProfile& m) {
  if (m.ops.empty()) return {};
  std::string out = fmt::format("top ops by self time ({}):\n{:<40} {:>10} {:>11} {:>7}\n", m.path, "op", "calls/run",
                                "self ms/run", "share");
  for (const auto& s : m.ops)
    out += fmt::format("{:<40} {:>10.1f} {:>11.4f} {:>6.1f}%\n", s.name, s.calls_per_run, s.self_ms_per_run, 100 * s.share);
  return out;
}

}  // namespace

nlohmann::json ModelProfile::to_json() const {
  nlohmann::json runs_json = nlohmann::json::array();
  for (const auto& r : runs) runs_json.push_back(run_json(r));
  nlohmann::json j = {{"model", path},
                      {"engine", engine},
                      {"reference_path", reference_path},
                      {"precision", precision},
                      {"file_size_bytes", file_size},
                      {"parameter_count", parameter_count},
                      {"parameter_bytes", parameter_bytes},
                      {"peak_rss_bytes", peak_rss_bytes},
                      {"rss_before_bytes", rss_before_bytes},
                      {"peak_rss_reset", peak_reset},
                      {"flops", flops.to_json()},
                      {"runs", runs_json},
                      {"ops", op_stats_json(ops)},
                      {"warnings", warnings}};
  // The first configuration at the top level: the keys gates read.
  if (!runs.empty()) {
    j["latency_ms"] = runs[0].latency.to_json();
    j["throughput"] = runs[0].throughput;
    j["gflops_per_s"] = runs[0].gflops_per_s;
    j["batch"] = runs[0].batch;
    j["threads"] = runs[0].threads;
  }
  return j;
}

nlohmann::json ProfileResult::to_json() const {
  nlohmann::json j = a.to_json();
  j["environment"] = {{"cpu_model", cpu_model}, {"cores", cores}, {"libtorch", libtorch_version}};
  j["warnings"] = warnings;
  if (b) {
    nlohmann::json cmp = b->to_json();
    nlohmann::json ratios = nlohmann::json::array();
    for (size_t i = 0; i < std::min(a.runs.size(), b->runs.size()); ++i) {
      const auto &ra = a.runs[i], &rb = b->runs[i];
      ratios.push_back({{"batch", ra.batch},
                        {"threads", ra.threads},
                        {"latency_p50", ratio(rb.latency.p50_ms, ra.latency.p50_ms)},
                        {"latency_mean", ratio(rb.latency.mean_ms, ra.latency.mean_ms)},
                        {"throughput", ratio(rb.throughput, ra.throughput)}});
    }
    cmp["ratios"] = {{"runs", ratios},
                     {"latency_p50", ratios.empty() ? 0.0 : ratios[0]["latency_p50"].get<double>()},
                     {"throughput", ratios.empty() ? 0.0 : ratios[0]["throughput"].get<double>()},
                     {"file_size", ratio(static_cast<double>(b->file_size), static_cast<double>(a.file_size))},
                     {"parameter_bytes", ratio(static_cast<double>(b->parameter_bytes), static_cast<double>(a.parameter_bytes))},
                     {"peak_rss", ratio(static_cast<double>(b->peak_rss_bytes), static_cast<double>(a.peak_rss_bytes))},
                     {"flops", ratio(static_cast<double>(b->flops.total), static_cast<double>(a.flops.total))}};
    j["compare"] = cmp;
  }
  return j;
}

std::string ProfileResult::to_text() const {
  std::string out = fmt::format("CPU: {} ({} cores available), LibTorch {}\n", cpu_model, cores, libtorch_version);
  out += "A: " + model_header(a) + runs_table(a);
  if (b) {
    out += "B: " + model_header(*b) + runs_table(*b);
    out += fmt::format("{:>6} {:>7} {:>10} {:>10} {:>8} {:>13} {:>13} {:>8}\n", "batch", "threads", "A p50 ms",
                       "B p50 ms", "B/A", "A samples/s", "B samples/s", "B/A");
    for (size_t i = 0; i < std::min(a.runs.size(), b->runs.size()); ++i) {
      const auto &ra = a.runs[i], &rb = b->runs[i];
      out += fmt::format("{:>6} {:>7} {:>10.3f} {:>10.3f} {:>7.3f}x {:>13.1f} {:>13.1f} {:>7.3f}x\n", ra.batch, ra.threads,
                         ra.latency.p50_ms, rb.latency.p50_ms, ratio(rb.latency.p50_ms, ra.latency.p50_ms), ra.throughput,
                         rb.throughput, ratio(rb.throughput, ra.throughput));
    }
    out += fmt::format("B/A: file size {:.3f}x, parameter bytes {:.3f}x, peak RSS {:.3f}x, FLOPs {:.3f}x\n",
                       ratio(static_cast<double>(b->file_size), static_cast<double>(a.file_size)),
                       ratio(static_cast<double>(b->parameter_bytes), static_cast<double>(a.parameter_bytes)),
                       ratio(static_cast<double>(b->peak_rss_bytes), static_cast<double>(a.peak_rss_bytes)),
                       ratio(static_cast<double>(b->flops.total), static_cast<double>(a.flops.total)));
  }
  out += ops_table(a);
  if (b) out += ops_table(*b);
  for (const auto& w : warnings) out += log::yellow("warning: ") + w + "\n";
  return out;
}

}  // namespace mlopt

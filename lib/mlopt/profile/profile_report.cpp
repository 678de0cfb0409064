// ProfileResult as JSON (stable keys the pipeline gates read: latency_ms.p50,
// throughput, peak_rss_bytes, ...) and as a table.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "mlopt/core/log.h"
#include "mlopt/profile/profile.h"

namespace mlopt {
namespace {

double ratio(double b, double a) { return a != 0 ? b / a : 0.0; }

nlohmann::json run_json(const ProfileRun& r) {
  nlohmann::json tuned = nullptr;
  if (r.has_tuned)
    tuned = {{"latency_ms", r.tuned.to_json()}, {"speedup_p50", ratio(r.latency.p50_ms, r.tuned.p50_ms)}};
  return {{"batch", r.batch},
          {"threads", r.threads},
          {"shapes", r.shapes},
          {"latency_ms", r.latency.to_json()},
          {"throughput", r.throughput},
          {"flops", r.flops},
          {"gflops_per_s", r.gflops_per_s},
          {"cv", r.latency.cv},
          {"noisy", r.noisy},
          {"tuned_allocator", tuned},
          {"process_p50_ms", r.process_p50_ms}};
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

std::string model_header(const ModelProfile& m) {
  std::string kernels = m.quantized_engine.empty() ? "" : " on " + m.quantized_engine;
  return fmt::format("{} ({}{}, {}{}): file {}, {} parameters ({}), peak RSS {}, {} per run\n", m.path, m.engine,
                     m.reference_path ? " - reference path, not a runtime" : "", m.precision, kernels,
                     bytes_text(m.file_size),
                     m.parameter_count, bytes_text(m.parameter_bytes), bytes_text(m.peak_rss_bytes),
                     flops_text(static_cast<double>(m.flops.total)));
}

// The p50 of each fresh process a default figure was taken in.
std::string process_spread_line(const std::vector<double>& p50s) {
  std::string values;
  for (double v : p50s) values += fmt::format("{}{:.3f}", values.empty() ? "" : ", ", v);
  return fmt::format("{:>14} p50 in each of the {} fresh processes: {} ms\n", "", p50s.size(), values);
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
    if (r.process_p50_ms.size() > 1) out += process_spread_line(r.process_p50_ms);
  }
  return out;
}

// The tuned figures, as a recommendation naming the settings.
std::string tuned_lines(const ModelProfile& m) {
  if (!m.tuned_not_measured.empty()) return {};
  bool passive_omp = m.tuned_settings.find("OMP_WAIT_POLICY=") != std::string::npos;
  std::string out = fmt::format("with tuned glibc malloc{} (recommended for a long-lived serving process: {}):\n",
                                passive_omp ? " and passive OpenMP workers" : "", m.tuned_settings);
  if (passive_omp)
    out += "  (OpenMP's workers spin after each op and hold the cores QNNPACK's own thread pool needs)\n";
  for (const auto& r : m.runs)
    if (r.has_tuned)
      out += fmt::format("{:>6} {:>7} p50 {:.3f} ms (default {:.3f} ms: {:.2f}x){}\n", r.batch, r.threads,
                         r.tuned.p50_ms, r.latency.p50_ms, ratio(r.latency.p50_ms, r.tuned.p50_ms),
                         r.tuned.cv > 0.05 ? " noisy" : "");
  return out;
}

std::string verdict_text(const AbComparison& c) {
  if (c.noisy) return "inconclusive (the rounds disagree: a busy machine, not a finding)";
  if (c.verdict == "same") return "same speed (within the noise)";
  return "B is " + c.verdict;
}

// B against A per configuration, from the interleaved timing (each model's own
// table above is not a comparison: the machine may have changed between them).
std::string compare_table(const ModelProfile& a, const std::vector<AbComparison>& ab) {
  if (ab.empty()) return {};
  std::string out = fmt::format(
      "B vs A, timed interleaved in one process ({} rounds alternating A,B / B,A; the median call of each round):\n",
      ab.front().a_round_ms.size());
  out += fmt::format("{:>6} {:>7} {:>10} {:>10} {:>8} {:>13} {:>7}  {}\n", "batch", "threads", "A ms", "B ms", "B/A",
                     "B/A samples/s", "noise", "verdict");
  for (size_t i = 0; i < ab.size() && i < a.runs.size(); ++i) {
    const auto& c = ab[i];
    out += fmt::format("{:>6} {:>7} {:>10.3f} {:>10.3f} {:>7.3f}x {:>12.3f}x {:>6.1f}%  {}\n", a.runs[i].batch,
                       a.runs[i].threads, c.a_ms, c.b_ms, ratio(c.b_ms, c.a_ms), ratio(c.a_ms, c.b_ms), 100 * c.noise,
                       verdict_text(c));
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
                      {"quantized_engine", quantized_engine},
                      {"file_size_bytes", file_size},
                      {"parameter_count", parameter_count},
                      {"parameter_bytes", parameter_bytes},
                      {"peak_rss_bytes", peak_rss_bytes},
                      {"rss_before_bytes", rss_before_bytes},
                      {"peak_rss_reset", peak_reset},
                      {"flops", flops.to_json()},
                      {"runs", runs_json},
                      {"ops", op_stats_json(ops)},
                      {"warnings", warnings},
                      {"allocator", allocator},
                      {"timed_in", timed_in},
                      {"processes", processes}};
  if (!tuned_not_measured.empty()) j["tuned_allocator_not_measured"] = tuned_not_measured;
  if (!tuned_settings.empty()) j["tuned_settings"] = tuned_settings;
  // The first configuration at the top level: the keys gates read.
  if (!runs.empty()) {
    j["latency_ms"] = runs[0].latency.to_json();
    j["throughput"] = runs[0].throughput;
    j["gflops_per_s"] = runs[0].gflops_per_s;
    j["batch"] = runs[0].batch;
    j["threads"] = runs[0].threads;
    j["tuned_allocator"] = run_json(runs[0])["tuned_allocator"];
  }
  return j;
}

nlohmann::json ProfileResult::to_json() const {
  nlohmann::json j = a.to_json();
  j["environment"] = {{"cpu_model", cpu_model}, {"cores", cores}, {"libtorch", libtorch_version}};
  j["warnings"] = warnings;
  j["allocator_settings"] = allocator_settings;
  if (b) {
    nlohmann::json cmp = b->to_json();
    // Per configuration: latency and throughput ratios from A and B timed
    // interleaved (ab[i]); each model's own p50s differ by whatever the machine
    // did between them, so they are kept apart (separate_p50_ms).
    nlohmann::json ratios = nlohmann::json::array();
    for (size_t i = 0; i < std::min(a.runs.size(), b->runs.size()); ++i) {
      const auto &ra = a.runs[i], &rb = b->runs[i];
      nlohmann::json row{{"batch", ra.batch},
                         {"threads", ra.threads},
                         {"separate_p50_ms", {{"a", ra.latency.p50_ms}, {"b", rb.latency.p50_ms}}}};
      if (i < ab.size()) {
        row["latency_p50"] = ratio(ab[i].b_ms, ab[i].a_ms);
        row["throughput"] = ratio(ab[i].a_ms, ab[i].b_ms);  // same batch: samples/s go as 1 / latency
        row["interleaved"] = ab[i].to_json();
      }
      ratios.push_back(row);
    }
    const auto first_ratio = [&](const char* key) {
      return !ratios.empty() && ratios[0].contains(key) ? ratios[0][key].get<double>() : 0.0;
    };
    if (!ab.empty()) cmp["interleaved"] = ab.front().to_json();
    cmp["ratios"] = {{"runs", ratios},
                     {"latency_p50", first_ratio("latency_p50")},
                     {"throughput", first_ratio("throughput")},
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
  out += fmt::format("latencies of a {} process (glibc malloc {}), timed in {}\n",
                     a.allocator == "default" ? "default" : "tuned",
                     a.allocator == "default" ? "defaults, as in your own process" : "tuned by the caller",
                     a.timed_in != "fresh process" ? "this process"
                     : a.processes > 1 ? fmt::format("{} fresh processes (the median one's figures)", a.processes)
                                       : "a fresh process");
  out += "A: " + model_header(a) + runs_table(a) + tuned_lines(a);
  if (b) {
    out += "B: " + model_header(*b) + runs_table(*b) + tuned_lines(*b);
    out += compare_table(a, ab);
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

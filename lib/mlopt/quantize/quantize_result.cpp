#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "mlopt/quantize/quality_check.h"
#include "mlopt/quantize/quantize.h"

namespace mlopt {

nlohmann::json QuantizeResult::to_json() const {
  nlohmann::json layers_json = nlohmann::json::array();
  for (const auto& l : layers) {
    nlohmann::json j{{"name", l.name},           {"kind", l.kind},
                     {"quantized", l.quantized}, {"weight_rel_error", l.weight_rel_error},
                     {"weight_sqnr_db", l.weight_sqnr_db}};
    if (l.quantized && !l.weight_scales.empty()) j["weight_scales"] = l.weight_scales;
    if (!l.quantized) j["float_reason"] = l.float_reason;
    if (l.output_sqnr_db != 0) j["output_sqnr_db_alone"] = l.output_sqnr_db;
    if (!l.output_sqnr_on.empty()) j["output_sqnr_alone_on"] = l.output_sqnr_on;
    if (l.sensitivity_measured) j["accuracy_drop_alone"] = l.accuracy_drop;
    layers_json.push_back(j);
  }
  nlohmann::json ops = nlohmann::json::object();
  for (const auto& [op, n] : quantized_ops) ops[op] = n;
  nlohmann::json j{{"model", model},
                   {"output", output},
                   {"mode", mode},
                   {"engine", engine},
                   {"format", format},
                   {"size_before", size_before},
                   {"size_after", size_after},
                   {"size_ratio", size_ratio},
                   {"output_sqnr_db", output_sqnr_db},
                   {"layers", layers_json},
                   {"quantized_ops", ops},
                   {"warnings", warnings},
                   {"exit_code", exit_code}};
  if (!candidate_output.empty()) j["candidate_output"] = candidate_output;
  if (!output_sqnr_by_output.empty()) {
    nlohmann::json each = nlohmann::json::array();
    for (const auto& [name, db] : output_sqnr_by_output) each.push_back({{"output", name}, {"sqnr_db", db}});
    j["output_sqnr_db_by_output"] = each;
  }
  // NaN (NaN/Inf in the quantized output) is written as null.
  nlohmann::json quality{{"output_sqnr_db", output_sqnr_db}, {"min_sqnr_db", min_sqnr_db},
                         {"min_top1", min_top1},           {"nonfinite_outputs", nonfinite_outputs},
                         {"ok", quality_ok}};
  if (has_top1_agreement) {
    quality["top1_agreement"] = top1_agreement;
    quality["top1_samples"] = top1_samples;
    quality["top1_clear_agreement"] = top1_clear_agreement;
    quality["top1_clear_samples"] = top1_clear_samples;
  }
  if (has_detection_agreement) {
    quality["detection_agreement"] = detection_agreement;
    quality["detections"] = {{"float", float_detections}, {"quantized", quantized_detections},
                             {"matched", matched_detections}, {"at_cut", detections_at_cut}};
  }
  if (!quality_ok) quality["failure"] = quality_failure;
  j["quality"] = quality;
  if (has_accuracy)
    j["accuracy"] = {{"metric", accuracy_metric}, {"before", accuracy_before}, {"after", accuracy_after},
                     {"drop", accuracy_before - accuracy_after}, {"agreement", agreement}, {"samples", eval_samples}, {"fits", accuracy_fits}};
  if (has_training) {
    auto history = nlohmann::json::array();
    for (const auto& e : training_history)
      history.push_back({{"phase", e.phase}, {"epoch", e.epoch}, {"lr", e.lr}, {"loss", e.loss},
                         {"train_accuracy", e.train_accuracy}, {"val_accuracy", e.val_accuracy}, {"resumed", e.resumed}});
    j["training"] = {{"epochs", train_epochs},
                     {"seconds", train_seconds},
                     {"fake_quant_accuracy", fake_quant_accuracy},
                     {"distillation", distillation},
                     {"alpha", distillation_alpha},
                     {"resumed_epochs", resumed_epochs},
                     {"history", history}};
  }
  if (has_latency) {
    j["latency"] = {{"batch", latency_batch}, {"threads", latency_threads}, {"runs", latency_runs}, {"float_ms", latency_float_ms}, {"quantized_ms", latency_quant_ms},
                    {"speedup", speedup}, {"noise", latency_noise}, {"verdict", latency_verdict},
                    {"method", "interleaved rounds, medians"}};
    if (!latency_caveat().empty()) j["latency"]["caveat"] = latency_caveat();
  }
  return j;
}

// QNNPACK is the mobile engine: on an x86 host its SSE kernels run, not the ARM
// NEON kernels a phone runs, against oneDNN's AVX float kernels; and on several
// threads its own thread pool competes with OpenMP's spinning workers
// (runtime/quantized_engine.h), which a phone's PyTorch does not have, so the
// driver times both sides at 1 thread.
std::string QuantizeResult::latency_caveat() const {
  std::string caveat;
  if (latency_threads_lowered)
    caveat = "timed at 1 thread, both sides (on more, OpenMP's spinning workers hold the cores QNNPACK's own thread "
             "pool needs; `mlopt profile` times it with OMP_WAIT_POLICY=PASSIVE too); ";
#if defined(__x86_64__) || defined(__i386__)
  if (engine == "qnnpack")
    caveat += "QNNPACK's x86 kernels against x86 float kernels: a phone runs QNNPACK's ARM kernels, time the file there";
#endif
  return caveat;
}

std::string QuantizeResult::to_text() const {
  std::string s;
  std::string written = !output.empty() ? output : !candidate_output.empty() ? candidate_output : "(nothing written)";
  std::string format_text = format.empty() ? "" : format + ", ";  // no format when nothing was written
  s += fmt::format("{} {} -> {} ({}engine {})\n", mode, model, written, format_text, engine);
  if (size_after > 0)
    s += fmt::format("size: {:.1f} KB -> {:.1f} KB ({:.2f}x)\n", size_before / 1024.0, size_after / 1024.0, size_ratio);
  s += fmt::format("{} SQNR vs float: {:.1f} dB (floor {:g} dB)",
                   has_detection_agreement ? "matched detections'" : "output", output_sqnr_db, min_sqnr_db);
  if (has_detection_agreement) {
    s += fmt::format("\ndetection agreement with float: {:.1f}% ({} of {} float detections matched by label and IoU "
                     ">= 0.5, {} quantized, {} unmatched at the cut left out; score-weighted F1, floor {:.0f}%)",
                     100.0 * detection_agreement, matched_detections, float_detections, quantized_detections,
                     detections_at_cut, 100.0 * min_top1);
  } else if (!output_sqnr_by_output.empty()) {
    std::string each;
    for (const auto& [name, db] : output_sqnr_by_output) each += fmt::format("{}{} {:.1f} dB", each.empty() ? "" : ", ", name, db);
    s += fmt::format(" on the first output; per output: {}", each);
  }
  s += "\n";
  if (has_top1_agreement) {
    s += fmt::format("top-1 agreement with float: {:.1f}% of {} samples; ", 100.0 * top1_agreement, top1_samples);
    s += top1_clear_samples == 0 ? std::string("none has a clear float top-1")
                                 : fmt::format("{:.1f}% of the {} whose float top-1 is clear",
                                               100.0 * top1_clear_agreement, top1_clear_samples);
    if (top1_clear_samples >= quant_support::kMinTop1Samples)
      s += fmt::format(" (floor {:.0f}%)\n", 100.0 * min_top1);
    else
      s += fmt::format(" (too few for the {:.0f}% floor, which needs {}: near ties flip under any int8 noise; the SQNR "
                       "floor decides, or give --eval data)\n",
                       100.0 * min_top1, quant_support::kMinTop1Samples);
  }
  if (has_accuracy)
    s += fmt::format("accuracy ({}, {} samples): {:.2f}% -> {:.2f}% (drop {:.2f} points); top-1 agreement with float {:.2f}%\n",
                     accuracy_metric, eval_samples, accuracy_before, accuracy_after, accuracy_before - accuracy_after,
                     agreement);
  if (has_training) {
    std::string how = distillation ? fmt::format(" with distillation (alpha {:g})", distillation_alpha) : "";
    if (resumed_epochs > 0) how += fmt::format(", resumed after epoch {}", resumed_epochs);
    s += fmt::format("quantization-aware training: {} epoch(s){} in {:.1f} s ({:.2f}% fake-quantized on the --data "
                     "validation split)\n",
                     train_epochs, how, train_seconds, fake_quant_accuracy);
    for (const auto& e : training_history)
      s += fmt::format("  epoch {} ({}{}): loss {:.4f}, train {:.2f}%, val {:.2f}%, lr {:.3g}\n", e.epoch, e.phase,
                       e.resumed ? ", from the checkpoint" : "", e.loss, e.train_accuracy, e.val_accuracy, e.lr);
  }
  if (has_latency)
    s += fmt::format("latency at batch {}, {} thread{}: float {:.3f} ms, {} {:.3f} ms ({:.2f}x, {}; noise {:.1f}% over "
                     "interleaved rounds, {} timed run{} each)\n",
                     latency_batch, latency_threads, latency_threads == 1 ? "" : "s", latency_float_ms, mode, latency_quant_ms, speedup, latency_verdict,
                     100 * latency_noise, latency_runs, latency_runs == 1 ? "" : "s");
  if (has_latency && !latency_caveat().empty()) s += "  (" + latency_caveat() + ")\n";
  s += "layers:\n";
  for (const auto& l : layers) {
    const std::string& scales = l.quantized ? l.weight_scales : std::string();  // a float layer's are hypothetical
    s += fmt::format("  {:<24} {:<16} {:<7} weight err {:.4f} ({:.1f} dB{}{})", l.name, l.kind,
                     l.quantized ? mode : "float", l.weight_rel_error, l.weight_sqnr_db,
                     scales.empty() ? "" : ", ", scales);
    // Measured on the outputs the layer changes (the worst); 200 dB: it changes none.
    if (l.output_sqnr_db >= 200.0) s += ", no output changes alone";
    else if (l.output_sqnr_db != 0) s += fmt::format(", output SQNR alone {:.1f} dB", l.output_sqnr_db);
    if (l.output_sqnr_db != 0 && !l.output_sqnr_on.empty()) s += fmt::format(" (on {})", l.output_sqnr_on);
    if (l.sensitivity_measured) s += fmt::format(", costs {:.2f} points alone", l.accuracy_drop);
    if (!l.quantized) s += fmt::format("  [float: {}]", l.float_reason);
    s += "\n";
  }
  if (!quantized_ops.empty()) {
    s += "kernels:";
    for (const auto& [op, n] : quantized_ops) s += fmt::format(" {} x{}", op, n);
    s += "\n";
  }
  if (!candidate_output.empty()) s += fmt::format("best candidate written to {}\n", candidate_output);
  // The warnings went to stderr as the run ended (driver.cpp), once; --json carries them too.
  return s;
}

}  // namespace mlopt

#include "mlopt/profile/op_recorder.h"

#include <ATen/record_function.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/profile/flops.h"

namespace mlopt {
namespace {

using Clock = std::chrono::steady_clock;

struct Frame {
  size_t event;
  std::vector<std::vector<int64_t>> input_shapes;
  bool transposed = false;
  bool counts = false;     // this op's FLOPs are counted (no counted op encloses it)
  bool attention = false;  // this op is an attention op
  double child_us = 0;
};

// RecordFunction callbacks are plain function pointers: the recording lives in
// thread-local state, set up and torn down by record_ops on this thread.
struct ThreadState {
  std::vector<OpEvent>* events = nullptr;
  std::vector<Frame> stack;
  Clock::time_point origin;
  int counted_depth = 0;
  int attention_depth = 0;
  std::map<const void*, std::vector<int64_t>> packed_shapes;  // unpacked once per packed-params object
};
thread_local ThreadState t_state;

double now_us() {
  return std::chrono::duration<double, std::micro>(Clock::now() - t_state.origin).count();
}

// Quantized conv and linear ops take their weight as a packed-params object;
// its `unpack()` method gives the weight tensor back, whose shape the FLOP
// formulas need. Anything else that is not a tensor has no shape.
std::vector<int64_t> input_shape(const c10::IValue& v) {
  if (v.isTensor()) return v.toTensor().sizes().vec();
  if (!v.isObject()) return {};
  const void* key = &v.toObjectRef();
  auto cached = t_state.packed_shapes.find(key);
  if (cached != t_state.packed_shapes.end()) return cached->second;
  auto& shape = t_state.packed_shapes[key];
  try {
    auto* unpack = v.toObject()->type()->findMethod("unpack");
    if (!unpack) return {};
    // unpack() runs ATen ops of its own (clones): they must not be recorded.
    at::RecordFunctionGuard not_recorded(false);
    torch::jit::Stack stack{v};
    unpack->run(stack);
    if (stack.empty() || !stack.back().isTuple()) return {};
    const auto& parts = stack.back().toTupleRef().elements();
    if (!parts.empty() && parts[0].isTensor()) shape = parts[0].toTensor().sizes().vec();
  } catch (const std::exception&) {
    // An object we cannot unpack: its op is counted without FLOPs.
  }
  return shape;
}

// The op's own arguments. A boxed call records the whole interpreter stack as
// its inputs, and the lite interpreter leaves values there that later ops
// take (the first branch's output while the second branch runs, waiting for a
// cat): the arguments are the last ones, as many as the schema declares.
c10::ArrayRef<const c10::IValue> op_arguments(const at::RecordFunction& fn) {
  auto inputs = fn.inputs();
  if (auto schema = fn.operator_schema()) {
    size_t declared = schema->arguments().size();
    if (inputs.size() > declared) return inputs.slice(inputs.size() - declared);
  }
  return inputs;
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  auto& s = t_state;
  if (!s.events) return nullptr;
  Frame f;
  f.event = s.events->size();
  OpEvent e;
  e.name = fn.name();
  e.depth = static_cast<int>(s.stack.size());
  f.attention = is_attention_op(e.name);
  f.counts = s.counted_depth == 0 && counts_flops(e.name);
  if (f.counts) {
    auto inputs = op_arguments(fn);
    for (const auto& v : inputs) f.input_shapes.push_back(input_shape(v));
    // aten::convolution / _convolution(input, weight, bias, stride, padding, dilation, transposed, ...)
    if (inputs.size() > 6 && inputs[6].isBool()) f.transposed = inputs[6].toBool();
    ++s.counted_depth;
  }
  if (f.attention) ++s.attention_depth;
  s.stack.push_back(std::move(f));
  e.start_us = now_us();  // last, so the bookkeeping above is not charged to the op
  s.events->push_back(std::move(e));
  return nullptr;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext*) {
  auto& s = t_state;
  if (!s.events || s.stack.empty()) return;
  double end = now_us();
  Frame f = std::move(s.stack.back());
  s.stack.pop_back();
  OpEvent& e = (*s.events)[f.event];
  e.duration_us = end - e.start_us;
  e.self_us = std::max(0.0, e.duration_us - f.child_us);
  if (!s.stack.empty()) s.stack.back().child_us += e.duration_us;
  if (f.attention) --s.attention_depth;
  if (f.counts) {
    --s.counted_depth;
    const auto& outs = fn.outputs();
    std::vector<int64_t> out_shape;
    if (!outs.empty() && outs[0].isTensor()) out_shape = outs[0].toTensor().sizes().vec();
    std::string category;
    e.flops = op_flops(e.name, f.input_shapes, out_shape, f.transposed, &category);
    e.flop_category = s.attention_depth > 0 ? "attention" : category;
  }
}

}  // namespace

OpRecording record_ops(const std::function<void()>& run_once, int runs) {
  OpRecording r;
  r.runs = runs;
  t_state = ThreadState{};
  t_state.events = &r.events;
  t_state.origin = Clock::now();
  auto handle = at::addThreadLocalCallback(at::RecordFunctionCallback(on_start, on_end)
                                               .needsInputs(true)
                                               .needsOutputs(true)
                                               .scopes({at::RecordScope::FUNCTION}));
  try {
    for (int i = 0; i < runs; ++i) run_once();
  } catch (...) {
    at::removeCallback(handle);
    t_state = ThreadState{};
    throw;
  }
  at::removeCallback(handle);
  t_state = ThreadState{};
  return r;
}

std::vector<OpStat> op_breakdown(const OpRecording& r, int top) {
  std::map<std::string, OpStat> by_name;
  double total_self = 0;
  for (const auto& e : r.events) {
    auto& s = by_name[e.name];
    s.name = e.name;
    s.calls_per_run += 1;
    s.self_ms_per_run += e.self_us / 1000.0;
    s.total_ms_per_run += e.duration_us / 1000.0;
    total_self += e.self_us / 1000.0;
  }
  std::vector<OpStat> stats;
  double runs = std::max(r.runs, 1);
  for (auto& [name, s] : by_name) {
    s.share = total_self > 0 ? s.self_ms_per_run / total_self : 0;
    s.calls_per_run /= runs;
    s.self_ms_per_run /= runs;
    s.total_ms_per_run /= runs;
    stats.push_back(s);
  }
  std::sort(stats.begin(), stats.end(), [](const OpStat& a, const OpStat& b) { return a.self_ms_per_run > b.self_ms_per_run; });
  if (top > 0 && static_cast<int>(stats.size()) > top) stats.resize(static_cast<size_t>(top));
  return stats;
}

nlohmann::json op_stats_json(const std::vector<OpStat>& stats) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& s : stats)
    j.push_back({{"name", s.name},
                 {"calls_per_run", s.calls_per_run},
                 {"self_ms", s.self_ms_per_run},
                 {"total_ms", s.total_ms_per_run},
                 {"share", s.share}});
  return j;
}

void write_chrome_trace(const OpRecording& r, const std::string& path) {
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : r.events) {
    nlohmann::json ev = {{"name", e.name}, {"ph", "X"},  {"ts", e.start_us}, {"dur", e.duration_us},
                         {"pid", 0},       {"tid", 0},   {"cat", "cpu_op"}};
    if (e.flops) ev["args"] = {{"flops", e.flops}};
    events.push_back(ev);
  }
  nlohmann::json trace = {{"traceEvents", events}, {"displayTimeUnit", "ms"}};
  write_file_atomically(path, trace.dump());
}

}  // namespace mlopt

#include "onnx/eval/node_suite.h"

#include <onnx/onnx_pb.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <ATen/Parallel.h>
#include <torch/script.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/onnx/eval/evaluator.h"
#include "mlopt/onnx/proto/tensor.h"

namespace fs = std::filesystem;

namespace mlopt::test {
namespace {

constexpr double kRtol = 1e-3, kAtol = 1e-5;

template <typename Proto>
Proto parse_proto(const std::string& path) {
  Proto proto;
  if (!proto.ParseFromString(read_file(path))) fail("'{}': not a valid protobuf message", path);
  return proto;
}

bool all_tensors(const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& values) {
  return std::all_of(values.begin(), values.end(), [](const auto& v) { return v.type().has_tensor_type(); });
}

std::vector<std::string> numbered_files(const fs::path& folder, const std::string& prefix) {
  std::vector<std::string> files;
  for (int i = 0;; ++i) {
    fs::path p = folder / (prefix + std::to_string(i) + ".pb");
    if (!fs::exists(p)) break;
    files.push_back(p.string());
  }
  return files;
}

// "" when they match, else what differs.
std::string compare(const at::Tensor& actual, const at::Tensor& expected) {
  if (actual.scalar_type() != expected.scalar_type())
    return fmt::format("dtype {} where {} is expected", c10::toString(actual.scalar_type()),
                       c10::toString(expected.scalar_type()));
  if (actual.sizes() != expected.sizes())
    return fmt::format("shape {} where {} is expected", fmt::join(actual.sizes(), "x"), fmt::join(expected.sizes(), "x"));
  if (expected.numel() == 0) return "";
  if (expected.is_floating_point()) {
    auto a = actual.to(at::kDouble), e = expected.to(at::kDouble);
    auto close = at::isclose(a, e, kRtol, kAtol, /*equal_nan=*/true);
    if (close.all().item<bool>()) return "";
    auto bad = at::logical_not(close).reshape({-1}).nonzero().reshape({-1});
    int64_t i = bad[0].item<int64_t>();
    return fmt::format("{} of {} values differ (first at flat index {}: {} where {} is expected)", bad.numel(),
                       e.numel(), i, a.reshape({-1})[i].item<double>(), e.reshape({-1})[i].item<double>());
  }
  if (at::equal(actual, expected)) return "";
  auto bad = at::ne(actual, expected).reshape({-1}).nonzero().reshape({-1});
  return fmt::format("{} of {} values differ (first at flat index {})", bad.numel(), expected.numel(),
                     bad[0].item<int64_t>());
}

// The test data of a graph value. ONNX 1.12 stores bfloat16 data as UINT16
// bit patterns (numpy has no bfloat16): read as the type the graph declares.
at::Tensor read_value(const std::string& path, const google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>& values,
                      size_t index) {
  auto proto = parse_proto<onnx::TensorProto>(path);
  bool declared_bf16 = index < static_cast<size_t>(values.size()) &&
                       values[static_cast<int>(index)].type().tensor_type().elem_type() == onnx::TensorProto::BFLOAT16;
  if (declared_bf16 && proto.data_type() == onnx::TensorProto::UINT16) proto.set_data_type(onnx::TensorProto::BFLOAT16);
  return onnx_proto::tensor_from_proto(proto, path);
}

CaseOutcome run_data_set(const onnx_eval::Evaluator& ev, const fs::path& set) {
  const auto& graph = ev.model().graph();
  std::vector<at::Tensor> inputs;
  for (const auto& f : numbered_files(set, "input_")) inputs.push_back(read_value(f, graph.input(), inputs.size()));
  std::vector<at::Tensor> expected;
  for (const auto& f : numbered_files(set, "output_")) expected.push_back(read_value(f, graph.output(), expected.size()));
  auto outputs = ev.run(inputs);
  if (outputs.size() != expected.size())
    return {Verdict::wrong, fmt::format("{}: {} outputs where {} are expected", set.filename().string(), outputs.size(),
                                        expected.size())};
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string diff = compare(outputs[i].contiguous(), expected[i]);
    if (!diff.empty()) return {Verdict::wrong, fmt::format("{} output {}: {}", set.filename().string(), i, diff)};
  }
  return {Verdict::pass, ""};
}

}  // namespace

std::string node_tests_dir() {
  const char* env = std::getenv("MLOPT_ONNX_NODE_TESTS");
  return env && *env ? env : "/usr/share/libonnx-testdata/data/node";
}

std::vector<NodeCase> list_node_cases(const std::string& dir) {
  std::vector<NodeCase> cases;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return cases;
  for (const auto& entry : fs::directory_iterator(dir)) {
    fs::path model = entry.path() / "model.onnx";
    if (!fs::exists(model)) continue;
    auto proto = parse_proto<onnx::ModelProto>(model.string());
    NodeCase c;
    c.name = entry.path().filename().string();
    c.folder = entry.path().string();
    for (const auto& imp : proto.opset_import())
      if (imp.domain().empty() || imp.domain() == "ai.onnx") c.opset = imp.version();
    c.tensor_only = all_tensors(proto.graph().input()) && all_tensors(proto.graph().output());
    for (const auto& n : proto.graph().node()) c.op_types.push_back(n.op_type());
    cases.push_back(std::move(c));
  }
  std::sort(cases.begin(), cases.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return cases;
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::pass: return "pass";
    case Verdict::wrong: return "wrong";
    case Verdict::refused: return "refused";
    case Verdict::error: return "error";
    case Verdict::hang: return "hang";
    case Verdict::crash: return "crash";
  }
  return "?";
}

CaseOutcome run_node_case(const NodeCase& c) {
  try {
    auto ev = onnx_eval::Evaluator::load((fs::path(c.folder) / "model.onnx").string());
    std::vector<fs::path> sets;
    for (const auto& entry : fs::directory_iterator(c.folder))
      if (entry.is_directory() && entry.path().filename().string().rfind("test_data_set_", 0) == 0)
        sets.push_back(entry.path());
    std::sort(sets.begin(), sets.end());
    if (sets.empty()) return {Verdict::wrong, "the case has no test_data_set folder"};
    for (const auto& set : sets) {
      auto outcome = run_data_set(ev, set);
      if (outcome.verdict != Verdict::pass) return outcome;
    }
    return {Verdict::pass, ""};
  } catch (const Error& e) {
    // A message built from a lower-level (LibTorch) exception keeps it as detail.
    return {e.detail().empty() ? Verdict::refused : Verdict::error, e.what()};
  } catch (const std::exception& e) {
    return {Verdict::error, std::string("uncaught exception: ") + e.what()};
  }
}

CaseOutcome run_node_case_isolated(const NodeCase& c, double seconds) {
  int fds[2];
  if (pipe(fds) != 0) fail("pipe() failed");
  pid_t pid = fork();
  if (pid < 0) fail("fork() failed");
  if (pid == 0) {
    close(fds[0]);
    at::set_num_threads(1);
    CaseOutcome outcome = run_node_case(c);
    std::string line = std::string(verdict_name(outcome.verdict)) + "\t" + outcome.detail;
    for (size_t done = 0; done < line.size();) {
      ssize_t n = write(fds[1], line.data() + done, line.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    _exit(0);  // no atexit handlers or static destructors of the parent's state
  }
  close(fds[1]);
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;  // the deadline check above ends the loop
    char buffer[4096];
    ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n <= 0) break;  // EOF: the child is done (or died)
    text.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  if (timed_out) return {Verdict::hang, fmt::format("still running after {:.0f} s", seconds)};
  if (WIFSIGNALED(status)) return {Verdict::crash, fmt::format("killed by signal {}", WTERMSIG(status))};
  auto tab = text.find('\t');
  if (tab == std::string::npos) return {Verdict::crash, "the child reported nothing"};
  std::string name = text.substr(0, tab), detail = text.substr(tab + 1);
  for (Verdict v : {Verdict::pass, Verdict::wrong, Verdict::refused, Verdict::error, Verdict::hang})
    if (name == verdict_name(v)) return {v, detail};
  return {Verdict::crash, "unreadable report: " + text};
}

}  // namespace mlopt::test

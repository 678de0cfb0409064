// mlopt serve through the CLI binary and HTTP: every endpoint, every validation
// error, batching correctness, queue full, timeouts, model errors, drain.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "mlopt/core/allocator_tuning.h"
#include "serve/serve_support.h"
#include "support/test_support.h"

using namespace mlopt::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

std::string error_of(const HttpReply& r) {
  auto j = json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("error") ? j["error"].get<std::string>() : "<no JSON error: " + r.body + ">";
}

// Runs `n` requests at once, one thread each.
std::vector<HttpReply> concurrently(int n, const std::function<HttpReply(int)>& request) {
  std::vector<HttpReply> replies(static_cast<size_t>(n));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) threads.emplace_back([&, i] { replies[static_cast<size_t>(i)] = request(i); });
  for (auto& t : threads) t.join();
  return replies;
}

// A metric's value in the /metrics text (first sample whose line starts with `prefix`).
double metric(int port, const std::string& prefix) {
  std::istringstream text(http_get(port, "/metrics").body);
  std::string line;
  while (std::getline(text, line))
    if (line.rfind(prefix, 0) == 0) return std::stod(line.substr(line.rfind(' ') + 1));
  return -1;
}

}  // namespace

TEST_CASE("serve answers every v2 endpoint and /metrics", "[serve]") {
  ServerProcess server({serve_fixture("digits.pt")});
  const int port = server.port();
  // The allocator settings `mlopt profile` recommends for a long-lived process, applied and named.
  CHECK_THAT(server.log(), Catch::Contains("glibc malloc tuned for a long-lived process") &&
                               Catch::Contains(mlopt::allocator_tuning_env_text()));
  CHECK(http_get(port, "/v2/health/live").status == 200);
  CHECK(http_get(port, "/v2/health/ready").status == 200);
  auto meta = json::parse(http_get(port, "/v2").body);
  CHECK(meta["name"] == "mlopt");
  CHECK(meta["extensions"][0] == "binary_tensor_data");

  auto model = http_get(port, "/v2/models/digits");
  REQUIRE(model.status == 200);
  auto m = json::parse(model.body);
  CHECK(m["inputs"][0]["name"] == "x");
  CHECK(m["inputs"][0]["datatype"] == "FP32");
  CHECK(m["inputs"][0]["shape"] == json({-1, 1, 8, 8}));
  CHECK(m["outputs"][0]["name"] == "output0");
  CHECK(m["outputs"][0]["shape"] == json({-1, 10}));
  CHECK(http_get(port, "/v2/models/digits/ready").status == 200);
  CHECK(http_get(port, "/v2/models/other").status == 404);
  CHECK(error_of(http_get(port, "/v2/models/other/ready")).find("no model 'other'") != std::string::npos);
  CHECK(http_get(port, "/nope").status == 404);

  // JSON tensors in and out, nested data accepted.
  auto x = random_floats(64, 1);
  auto reply = http_post(port, "/v2/models/digits/infer", fp32_request("x", {1, 1, 8, 8}, x));
  REQUIRE(reply.status == 200);
  auto out = json::parse(reply.body);
  CHECK(out["model_name"] == "digits");
  CHECK(out["outputs"][0]["shape"] == json({1, 10}));
  CHECK(out["outputs"][0]["data"].size() == 10);

  // The binary tensor extension, both ways: the same numbers as JSON.
  json header = {{"inputs", {{{"name", "x"}, {"shape", {1, 1, 8, 8}}, {"datatype", "FP32"},
                              {"parameters", {{"binary_data_size", 256}}}}}},
                 {"outputs", {{{"name", "output0"}, {"parameters", {{"binary_data", true}}}}}}};
  std::string head = header.dump();
  std::string body = head + std::string(reinterpret_cast<const char*>(x.data()), 256);
  auto binary = http_request(port, "POST", "/v2/models/digits/infer", body,
                             {{"Inference-Header-Content-Length", std::to_string(head.size())}});
  REQUIRE(binary.status == 200);
  const size_t json_length = std::stoul(binary.headers.at("inference-header-content-length"));
  auto binary_json = json::parse(binary.body.substr(0, json_length));
  CHECK(binary_json["outputs"][0]["parameters"]["binary_data_size"] == 40);
  REQUIRE(binary.body.size() == json_length + 40);
  std::vector<float> logits(10);
  std::memcpy(logits.data(), binary.body.data() + json_length, 40);
  for (size_t i = 0; i < 10; ++i) CHECK(logits[i] == Approx(out["outputs"][0]["data"][i].get<float>()).epsilon(1e-6));

  const std::string metrics = http_get(port, "/metrics").body;
  for (const char* name : {"mlopt_serve_requests_total{code=\"200\",model=\"digits\"}", "mlopt_serve_request_duration_seconds_bucket",
                           "mlopt_serve_queue_duration_seconds", "mlopt_serve_inference_duration_seconds",
                           "mlopt_serve_batch_size_bucket", "mlopt_serve_queue_depth", "mlopt_serve_in_flight",
                           "mlopt_serve_model_load_seconds", "mlopt_serve_warmup_seconds"})
    CHECK(metrics.find(name) != std::string::npos);
  CHECK(server.log().find("\"POST /v2/models/digits/infer\" 200") != std::string::npos);
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE("serve refuses every malformed request with a 400 naming the input", "[serve]") {
  ServerProcess server({serve_fixture("two_inputs.pt"), "--max-body", "4000", "--json"});
  const int port = server.port();
  const std::string url = "/v2/models/two_inputs/infer";
  auto input = [](const std::string& name, json shape, json data, const std::string& type = "FP32") {
    return json{{"name", name}, {"shape", shape}, {"datatype", type}, {"data", data}};
  };
  const json a = input("a", {1, 3}, {1, 2, 3});
  const json b = input("b", {1, 3}, {4, 5, 6});

  // Several inputs, and the outputs selection.
  auto ok = http_post(port, url, json{{"inputs", {a, b}}, {"outputs", {{{"name", "output1"}}}}}.dump());
  REQUIRE(ok.status == 200);
  auto ok_json = json::parse(ok.body);
  REQUIRE(ok_json["outputs"].size() == 1);
  CHECK(ok_json["outputs"][0]["name"] == "output1");
  CHECK(ok_json["outputs"][0]["data"] == json({4, 10, 18}));

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"inputs\": [", "malformed JSON"},
      {"[1, 2]", "must be a JSON object"},
      {json{{"inputs", json::array()}}.dump(), "\"inputs\" must be a non-empty list"},
      {json{{"inputs", {a, b, input("c", {1, 3}, {1, 2, 3})}}}.dump(), "unknown input 'c'"},
      {json{{"inputs", {a}}}.dump(), "missing input 'b'"},
      {json{{"inputs", {a, a, b}}}.dump(), "input 'a' is given twice"},
      {json{{"inputs", {a, input("b", {1, 3}, {4, 5, 6}, "INT64")}}}.dump(), "input 'b': datatype INT64, expected FP32"},
      {json{{"inputs", {a, input("b", {3}, {4, 5, 6})}}}.dump(), "input 'b': shape [3] has rank 1, expected rank 2"},
      {json{{"inputs", {a, input("b", {1, 2}, {4, 5})}}}.dump(), "input 'b': dim 1 is 2, expected 3"},
      {json{{"inputs", {a, input("b", {1, 3}, {4, 5})}}}.dump(), "input 'b': shape [1, 3] has 3 elements, \"data\" has 2"},
      {json{{"inputs", {a, input("b", {1, 3}, {4, "x", 6})}}}.dump(), "input 'b': element 1 is \"x\", expected a number"},
      {json{{"inputs", {a, input("b", {2, 3}, {1, 2, 3, 4, 5, 6})}}}.dump(), "batch dim (dim 0) is 2, but input 'a' has 1"},
      {json{{"inputs", {a, input("b", {0, 3}, json::array())}}}.dump(), "input 'b': dim 0 is 0"},
      {json{{"inputs", {a, b}}, {"outputs", {{{"name", "nope"}}}}}.dump(), "unknown output 'nope'"},
      {json{{"inputs", {a, b}}, {"pad", std::string(5000, ' ')}}.dump(), "larger than --max-body 4000"},
  };
  for (const auto& [body, expected] : cases) {
    INFO(body.substr(0, 200));
    auto reply = http_post(port, url, body);
    CHECK(reply.status == 400);
    CHECK_THAT(error_of(reply), Catch::Contains(expected));
  }
  // Binary extension errors.
  const std::string head = json{{"inputs", {a, {{"name", "b"}, {"shape", {1, 3}}, {"datatype", "FP32"},
                                                {"parameters", {{"binary_data_size", 12}}}}}}}.dump();
  auto short_binary = http_request(port, "POST", url, head + "12345",
                                   {{"Inference-Header-Content-Length", std::to_string(head.size())}});
  CHECK(short_binary.status == 400);
  CHECK_THAT(error_of(short_binary), Catch::Contains("only 5 follow"));
  auto bad_header = http_request(port, "POST", url, head, {{"Inference-Header-Content-Length", "abc"}});
  CHECK(bad_header.status == 400);
  CHECK_THAT(error_of(bad_header), Catch::Contains("not a byte count"));
  // The server still serves, and --json made the access log JSON lines.
  CHECK(http_post(port, url, json{{"inputs", {a, b}}}.dump()).status == 200);
  CHECK(server.log().find("{\"bytes\":") != std::string::npos);
  CHECK(server.stop(SIGINT) == 0);
}

TEST_CASE("serve batches concurrent requests and each answer equals the request run alone", "[serve]") {
  // A long delay makes the batch form however loaded the machine is.
  ServerProcess server({serve_fixture("digits.pt"), "--max-batch", "8", "--max-delay-ms", "300", "--http-threads", "32"});
  const int port = server.port();
  const int n = 16;
  std::vector<std::vector<float>> inputs;
  std::vector<json> alone;
  for (int i = 0; i < n; ++i) {
    inputs.push_back(random_floats(64 * static_cast<size_t>(1 + i % 2), 100 + static_cast<unsigned>(i)));
    auto r = http_post(port, "/v2/models/digits/infer", fp32_request("x", {1 + i % 2, 1, 8, 8}, inputs.back()));
    REQUIRE(r.status == 200);
    alone.push_back(json::parse(r.body)["outputs"][0]);
  }
  const double runs_before = metric(port, "mlopt_serve_batch_size_count");
  auto replies = concurrently(n, [&](int i) {
    return http_post(port, "/v2/models/digits/infer", fp32_request("x", {1 + i % 2, 1, 8, 8}, inputs[static_cast<size_t>(i)]));
  });
  for (int i = 0; i < n; ++i) {
    REQUIRE(replies[static_cast<size_t>(i)].status == 200);
    auto got = json::parse(replies[static_cast<size_t>(i)].body)["outputs"][0];
    CHECK(got["shape"] == alone[static_cast<size_t>(i)]["shape"]);
    REQUIRE(got["data"].size() == alone[static_cast<size_t>(i)]["data"].size());
    for (size_t k = 0; k < got["data"].size(); ++k)  // a batched GEMM may round differently in the last bits
      CHECK(got["data"][k].get<double>() == Approx(alone[static_cast<size_t>(i)]["data"][k].get<double>()).margin(1e-5));
  }
  const double runs = metric(port, "mlopt_serve_batch_size_count") - runs_before;
  INFO("model runs for " << n << " concurrent requests: " << runs);
  CHECK(runs < n);
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE("serve answers 503 with Retry-After when the queue is full, 504 past --timeout-ms", "[serve]") {
  SECTION("queue full") {
    ServerProcess server({serve_fixture("slow.pt"), "--queue", "1", "--workers", "1"});
    auto replies = concurrently(8, [&](int) {
      return http_post(server.port(), "/v2/models/slow/infer", fp32_request("x", {1, 4}, {1, 2, 3, 4}));
    });
    int ok = 0, full = 0;
    for (const auto& r : replies) {
      if (r.status == 200) ++ok;
      if (r.status == 503) {
        ++full;
        CHECK(r.headers.count("retry-after") == 1);
        CHECK_THAT(error_of(r), Catch::Contains("queue is full"));
      }
    }
    CHECK(ok + full == 8);
    CHECK(ok >= 1);
    CHECK(full >= 1);
    CHECK(metric(server.port(), "mlopt_serve_requests_total{code=\"503\"") == full);
  }
  SECTION("timeout") {
    ServerProcess server({serve_fixture("slow.pt"), "--timeout-ms", "20"});
    auto r = http_post(server.port(), "/v2/models/slow/infer", fp32_request("x", {1, 4}, {1, 2, 3, 4}));
    CHECK(r.status == 504);
    CHECK_THAT(error_of(r), Catch::Contains("--timeout-ms 20"));
    CHECK(http_get(server.port(), "/v2/health/live").status == 200);
  }
}

TEST_CASE("serve answers a model error with a 500 and keeps serving, also inside a batch", "[serve]") {
  ServerProcess server({serve_fixture("fails.pt"), "--max-batch", "4", "--max-delay-ms", "300"});
  const int port = server.port();
  const std::string url = "/v2/models/fails/infer";
  auto bad = http_post(port, url, fp32_request("x", {1, 4}, {1000, 1000, 1000, 1000}));
  CHECK(bad.status == 500);
  CHECK_THAT(error_of(bad), Catch::Contains("input too large for this model"));
  CHECK(error_of(bad).find('\n') == std::string::npos);
  auto replies = concurrently(4, [&](int i) {
    const float v = i == 0 ? 1000.f : static_cast<float>(i);
    return http_post(port, url, fp32_request("x", {1, 4}, {v, v, v, v}));
  });
  CHECK(replies[0].status == 500);
  for (int i = 1; i < 4; ++i) {
    REQUIRE(replies[static_cast<size_t>(i)].status == 200);
    CHECK(json::parse(replies[static_cast<size_t>(i)].body)["outputs"][0]["data"][0] == 2.0 * i);
  }
  CHECK(http_get(port, "/v2/health/ready").status == 200);
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE("serve drains on SIGTERM: queued and in-flight requests are answered, exit 0", "[serve]") {
  ServerProcess server({serve_fixture("slow.pt"), "--queue", "8"});
  const int port = server.port();
  std::vector<HttpReply> replies(3);
  std::vector<std::thread> clients;
  for (int i = 0; i < 3; ++i)
    clients.emplace_back([&, i] {
      replies[static_cast<size_t>(i)] = http_post(port, "/v2/models/slow/infer", fp32_request("x", {1, 4}, {1, 2, 3, 4}));
    });
  // Wait (bounded) until all three are inside the server, then terminate it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (metric(port, "mlopt_serve_in_flight") < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(metric(port, "mlopt_serve_in_flight") == 3);
  const int code = server.stop(SIGTERM);
  for (auto& c : clients) c.join();
  CHECK(code == 0);
  for (const auto& r : replies) CHECK(r.status == 200);
  CHECK(http_get(port, "/v2/health/live").status == 0);  // no longer listening
}

TEST_CASE("serve serves an artifact of a release folder with the manifest's signature", "[serve]") {
  const std::string dir = temp_dir("serve-release");
  fs::copy_file(serve_fixture("digits.pt"), dir + "/train.pt");
  json manifest = {{"pipeline", "digits-release"},
                   {"artifacts",
                    {{{"path", "train.pt"}, {"format", "torchscript"}, {"step", "train"},
                      {"signature", {{"inputs", {{{"name", "image"}, {"shape", {"batch", 1, 8, 8}}, {"dtype", "float32"}}}},
                                     {"outputs", {{{"name", "logits"}, {"shape", {"batch", 10}}, {"dtype", "float32"}}}}}}}}}};
  std::ofstream(dir + "/manifest.json") << manifest.dump(2);
  ServerProcess server({dir});
  auto m = json::parse(http_get(server.port(), "/v2/models/digits-release").body);
  CHECK(m["inputs"][0]["name"] == "image");
  CHECK(m["outputs"][0]["name"] == "logits");
  auto r = http_post(server.port(), "/v2/models/digits-release/infer", fp32_request("image", {1, 1, 8, 8}, random_floats(64, 3)));
  CHECK(r.status == 200);
  CHECK(server.stop(SIGTERM) == 0);

  auto missing = run_mlopt({"serve", dir, "--artifact", "int8.ptl"});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("no artifact 'int8.ptl' in the manifest (has: train.pt)"));
}

TEST_CASE("serve refuses bad artifacts and flags with one line", "[serve]") {
  auto url = run_mlopt({"serve", "http://example.com/model.pt"});
  CHECK(url.exit_code == 1);
  CHECK_THAT(url.err, Catch::Contains("local files only"));
  auto missing = run_mlopt({"serve", "/nonexistent/model.pt"});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.err, Catch::Contains("no such file"));
  const std::string dir = temp_dir("serve-bad");
  std::ofstream(dir + "/model.pt") << "not a zip";
  auto garbage = run_mlopt({"serve", dir + "/model.pt", "--port", "0"});
  CHECK(garbage.exit_code == 1);
  CHECK_THAT(garbage.err, Catch::Contains("model.pt"));
  auto no_inputs = run_mlopt({"serve", test_data("quantize_digits_mlp.pt"), "--port", "0"});
  CHECK(no_inputs.exit_code == 1);
  CHECK_THAT(no_inputs.err, Catch::Contains("--input"));
  auto batch = run_mlopt({"serve", serve_fixture("digits.pt"), "--max-batch", "0"});
  CHECK(batch.exit_code == 2);
  CHECK_THAT(batch.err, Catch::Contains("--max-batch 0"));
  ServerProcess first({serve_fixture("digits.pt")});
  auto in_use = run_mlopt({"serve", serve_fixture("digits.pt"), "--port", std::to_string(first.port()), "--timeout", "60"});
  CHECK(in_use.exit_code == 1);
  CHECK_THAT(in_use.err, Catch::Contains("cannot bind"));
}

TEST_CASE("serve takes and returns FP16 and BF16 tensors as JSON numbers", "[serve]") {
  ServerProcess server({serve_fixture("halves.pt"), "--max-batch", "1"});
  const int port = server.port();
  auto request = [](const json& h, const json& b) {
    return json{{"inputs", {{{"name", "h"}, {"shape", {1, 3}}, {"datatype", "FP16"}, {"data", h}},
                            {{"name", "b"}, {"shape", {1, 3}}, {"datatype", "BF16"}, {"data", b}}}}}.dump();
  };
  // 1000.1 is 1000 in FP16; 0.1 is 0.10009765625 in BF16, and 1.10009765625 rounds to 1.1015625.
  // 3e-6 is a subnormal FP16: 50 units of 2^-24.
  auto r = http_post(port, "/v2/models/halves/infer", request({0.5, 1000.1, 3e-6}, {1.0, 3.0, 0.1}));
  REQUIRE(r.status == 200);
  auto outputs = json::parse(r.body)["outputs"];
  CHECK(outputs[0]["datatype"] == "FP16");
  CHECK(outputs[0]["data"][0].get<double>() == 1.0);
  CHECK(outputs[0]["data"][1].get<double>() == 2000.0);
  CHECK(outputs[0]["data"][2].get<double>() == Approx(100.0 / (1 << 24)).epsilon(1e-6));
  CHECK(outputs[1]["datatype"] == "BF16");
  CHECK(outputs[1]["data"] == json({2.0, 4.0, 1.1015625}));

  auto big = http_post(port, "/v2/models/halves/infer", request({0.5, 70000, 0}, {1, 2, 3}));
  CHECK(big.status == 400);
  CHECK_THAT(error_of(big), Catch::Contains("input 'h': element 1 is 70000, out of range for FP16"));
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE("serve's listen backlog holds a burst of connections while no thread accepts", "[serve]") {
  // With cpp-httplib's backlog of 5 the kernel drops the SYNs beyond it and
  // those clients wait for a retransmit (1 s, then 3 s, ...): the old p99.
  ServerProcess server({serve_fixture("digits.pt")});
  REQUIRE(kill(server.pid(), SIGSTOP) == 0);  // nothing accepts: only the kernel's queue holds them
  const int n = 100;
  std::vector<pollfd> fds;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < n; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    fds.push_back({fd, POLLOUT, 0});
  }
  // A handshake on loopback takes microseconds; a dropped SYN is retried after 1 s.
  int connected = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(800);
  for (auto& p : fds) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    int error = 0;
    socklen_t size = sizeof error;
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count()))) == 1 &&
        getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 && error == 0)
      ++connected;
  }
  REQUIRE(kill(server.pid(), SIGCONT) == 0);
  for (auto& p : fds) close(p.fd);
  CHECK(connected == n);
  CHECK(server.stop(SIGTERM) == 0);
}

TEST_CASE("serve says when an int8 QNNPACK artifact needs passive OpenMP workers on several threads", "[serve]") {
  const std::string dir = temp_dir("serve-qnnpack");
  auto q = run_mlopt({"quantize", serve_fixture("digits.pt"), "--mode", "static", "--engine", "qnnpack", "--input",
                      "x:batch=1x1x8x8", "-o", dir + "/int8.ptl", "--no-latency", "--min-sqnr", "0", "--min-top1", "0"});
  INFO(q.err);
  REQUIRE(q.exit_code == 0);
  // Two threads: QNNPACK's own pool and OpenMP's spinning workers compete for the cores.
  ServerProcess two({dir + "/int8.ptl", "--threads", "2"});
  CHECK(two.stop(SIGTERM) == 0);
  CHECK_THAT(two.log(), Catch::Contains("int8.ptl: int8 on qnnpack with 2 threads: start the server with "
                                        "OMP_WAIT_POLICY=PASSIVE"));
  ServerProcess one({dir + "/int8.ptl", "--threads", "1"});
  CHECK(one.stop(SIGTERM) == 0);
  CHECK_THAT(one.log(), !Catch::Contains("OMP_WAIT_POLICY"));
}

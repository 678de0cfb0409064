// Hostile files through the CLI: truncated and bit-flipped .pt, .pth,
// .safetensors, .onnx and .npy files (made here from real fixtures with a
// fixed seed), zip bombs and tensors declaring more data than the file holds.
// Each run must end with an exit code (never a signal), within a time limit
// and a memory bound, and a failure must be one `mlopt: error:` line.
#include <catch2/catch.hpp>
#include <onnx/onnx_pb.h>
#include <torch/script.h>
#include <zlib.h>

#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/npy.h"
#include "mlopt/core/weights_file.h"
#include "support/guarded_run.h"
#include "support/test_support.h"

using namespace mlopt::test;
namespace fs = std::filesystem;

namespace {

constexpr int kVariants = 20;           // per file type: half truncated, half bit-flipped
constexpr long kFilesMaxRssKb = 1536 * 1024;  // LibTorch itself takes ~300 MB

using Outcome = GuardedOutcome;
Outcome run_guarded(const std::vector<std::string>& args) { return run_mlopt_guarded(args); }

// A clean refusal: exit 1 (or 2/3), exactly one error line, bounded memory.
void check_clean(const Outcome& o, const std::string& label, bool allow_success) {
  INFO(label << "\nstderr:\n" << o.err);
  CHECK(o.exit_code != 124);  // hang (killed by timeout)
  CHECK(o.exit_code < 128);   // no crash signal
  CHECK(o.max_rss_kb < kFilesMaxRssKb);
  if (o.exit_code == 0) {
    CHECK(allow_success);
  } else if (o.exit_code == 1) {
    CHECK(o.error_lines.size() == 1);
  } else {
    CHECK((o.exit_code == 2 || o.exit_code == 3));
  }
}

// Variant i of `bytes`: the first half truncate at seeded lengths, the second
// half flip 1-8 seeded bits.
std::string damaged(const std::string& bytes, int i, bool& truncated) {
  std::mt19937_64 rng(20260 + i);
  truncated = i < kVariants / 2;
  if (truncated) return bytes.substr(0, std::uniform_int_distribution<size_t>(0, bytes.size() - 1)(rng));
  std::string out = bytes;
  int flips = std::uniform_int_distribution<int>(1, 8)(rng);
  for (int f = 0; f < flips; ++f) {
    size_t at = std::uniform_int_distribution<size_t>(0, out.size() - 1)(rng);
    out[at] = static_cast<char>(out[at] ^ (1 << std::uniform_int_distribution<int>(0, 7)(rng)));
  }
  return out;
}

// Runs `command(path)` on every damaged variant of `fixture`.
void run_variants(const std::string& fixture, const std::string& ext, bool truncation_may_pass,
                  const std::function<std::vector<std::string>(const std::string& path, int i)>& command) {
  std::string dir = temp_dir("hostile" + ext.substr(1));
  std::string original = mlopt::read_file(fixture);
  int refused = 0;
  for (int i = 0; i < kVariants; ++i) {
    bool truncated = false;
    std::string path = dir + "/v" + std::to_string(i) + ext;
    mlopt::write_file_atomically(path, damaged(original, i, truncated));
    auto o = run_guarded(command(path, i));
    check_clean(o, fmt::format("{} variant {} ({})", ext, i, truncated ? "truncated" : "bit-flipped"),
                !truncated || truncation_may_pass);
    if (o.exit_code != 0) ++refused;
  }
  CHECK(refused >= kVariants / 2);
}

// The MLP's state_dict as .safetensors (the format: u64 header length, JSON
// header with dtype/shape/data_offsets, then the raw data).
std::string mlp_safetensors(const std::string& dir) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [name, tensor] : mlopt::load_weights(test_data("script/mlp.pth"))) {
    at::Tensor t = tensor.contiguous().to(at::kFloat);
    size_t begin = data.size();
    data.append(static_cast<const char*>(t.data_ptr()), t.nbytes());
    header[name] = {{"dtype", "F32"}, {"shape", t.sizes().vec()}, {"data_offsets", {begin, data.size()}}};
  }
  std::string json = header.dump();
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes += static_cast<char>((json.size() >> (8 * i)) & 0xff);
  std::string path = dir + "/mlp.safetensors";
  mlopt::write_file_atomically(path, bytes + json + data);
  return path;
}

// A zip whose central directory lists `copies` entries, all pointing at one
// deflated run of `each` zeros (overlapping entries: the "non-recursive" zip
// bomb). Declared sizes are honest; only their sum is absurd.
std::string overlapping_zip_bomb(size_t each, int copies, const std::string& name) {
  std::string zeros(each, '\0');
  uLongf bound = compressBound(each);
  std::string deflated(bound, '\0');
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  zs.next_in = reinterpret_cast<Bytef*>(zeros.data());
  zs.avail_in = static_cast<uInt>(each);
  zs.next_out = reinterpret_cast<Bytef*>(deflated.data());
  zs.avail_out = static_cast<uInt>(bound);
  deflate(&zs, Z_FINISH);
  deflated.resize(zs.total_out);
  deflateEnd(&zs);
  uint32_t crc = static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(zeros.data()), static_cast<uInt>(each)));
  auto u16 = [](std::string& b, uint16_t v) { b += char(v & 0xff), b += char(v >> 8); };
  auto u32 = [](std::string& b, uint32_t v) { for (int i = 0; i < 4; ++i) b += char((v >> (8 * i)) & 0xff); };
  std::string out;
  u32(out, 0x04034b50); u16(out, 20); u16(out, 0); u16(out, 8); u16(out, 0); u16(out, 0x21);
  u32(out, crc); u32(out, uint32_t(deflated.size())); u32(out, uint32_t(each));
  u16(out, uint16_t(name.size())); u16(out, 0);
  out += name + deflated;
  std::string central;
  for (int c = 0; c < copies; ++c) {
    std::string entry = c == 0 ? name : name + std::to_string(c);
    u32(central, 0x02014b50); u16(central, 20); u16(central, 20); u16(central, 0); u16(central, 8);
    u16(central, 0); u16(central, 0x21); u32(central, crc); u32(central, uint32_t(deflated.size()));
    u32(central, uint32_t(each)); u16(central, uint16_t(entry.size())); u16(central, 0); u16(central, 0);
    u16(central, 0); u16(central, 0); u32(central, 0); u32(central, 0);
    central += entry;
  }
  uint32_t cd_off = uint32_t(out.size());
  out += central;
  u32(out, 0x06054b50); u16(out, 0); u16(out, 0); u16(out, uint16_t(copies)); u16(out, uint16_t(copies));
  u32(out, uint32_t(central.size())); u32(out, cd_off); u16(out, 0);
  return out;
}

const std::string kMlpPy = source_path("examples/models/mlp.py");

}  // namespace

TEST_CASE("hostile files: truncated and bit-flipped .pt archives are clean errors", "[cli][hardening][hostile]") {
  std::string dir = temp_dir("hostile-pt-out");
  run_variants(test_data("verify/mlp.pt"), ".pt", false, [&](const std::string& path, int i) {
    if (i % 2) return std::vector<std::string>{"export-onnx", path, "--input", "x:batch=1x16", "-o", dir + "/o.onnx"};
    return std::vector<std::string>{"verify", path, test_data("verify/mlp.onnx")};
  });
}

TEST_CASE("hostile files: truncated and bit-flipped .onnx files are clean errors", "[cli][hardening][hostile]") {
  // A truncation at a field boundary can leave a loadable model; a flipped weight a failed check (exit 3).
  run_variants(test_data("verify/mlp.onnx"), ".onnx", true, [&](const std::string& path, int i) {
    if (i % 2) return std::vector<std::string>{"profile", path, "--iters", "2", "--warmup", "0"};
    return std::vector<std::string>{"verify", path, test_data("verify/mlp.pt")};
  });
}

TEST_CASE("hostile files: truncated and bit-flipped .pth and .safetensors weights are clean errors",
          "[cli][hardening][hostile]") {
  std::string dir = temp_dir("hostile-weights-out");
  auto script_with = [&](const std::string& path, int) {
    return std::vector<std::string>{"script", kMlpPy, "--class", "MLP", "--weights", path, "-o", dir + "/m.pt"};
  };
  run_variants(test_data("script/mlp.pth"), ".pth", false, script_with);
  // The fixture itself must load, or the variants prove nothing.
  std::string safetensors = mlp_safetensors(dir);
  REQUIRE(run_guarded(script_with(safetensors, 0)).exit_code == 0);
  run_variants(safetensors, ".safetensors", false, script_with);
}

TEST_CASE("hostile files: truncated and bit-flipped .npy inputs are clean errors", "[cli][hardening][hostile]") {
  std::string dir = temp_dir("hostile-npy");
  auto io = mlopt::parse_npz(mlopt::read_file(test_data("verify/mlp_io.npz")), "mlp_io.npz");
  REQUIRE(io.front().first == "x");
  std::string npy = dir + "/x.npy";
  mlopt::write_npy(npy, io.front().second);
  REQUIRE(run_guarded({"verify", test_data("verify/mlp.onnx"), test_data("verify/mlp.pt"), "--inputs", npy}).exit_code == 0);
  run_variants(npy, ".npy", false, [&](const std::string& path, int) {
    return std::vector<std::string>{"verify", test_data("verify/mlp.onnx"), test_data("verify/mlp.pt"), "--inputs", path};
  });
}

TEST_CASE("hostile files: zip bombs are refused before inflating", "[cli][hardening][hostile]") {
  std::string dir = temp_dir("hostile-bomb");
  // 200 overlapping entries of 64 MiB zeros: ~12.5 GiB declared from a file of ~100 KiB.
  std::string bomb = overlapping_zip_bomb(64u << 20, 200, "archive/data.pkl");
  for (const char* ext : {".pth", ".pt", ".npz"}) mlopt::write_file_atomically(dir + "/bomb" + ext, bomb);
  struct Case {
    std::vector<std::string> args;
  };
  std::vector<Case> cases = {
      {{"script", kMlpPy, "--class", "MLP", "--weights", dir + "/bomb.pth", "-o", dir + "/m.pt"}},
      {{"verify", dir + "/bomb.pt", test_data("verify/mlp.onnx")}},
      {{"verify", test_data("verify/mlp.onnx"), test_data("verify/mlp.pt"), "--inputs", dir + "/bomb.npz"}},
  };
  for (const auto& c : cases) {
    auto o = run_guarded(c.args);
    check_clean(o, c.args[0] + " " + c.args[1], false);
    CHECK(o.exit_code == 1);
    REQUIRE(o.error_lines.size() == 1);
    CHECK_THAT(o.error_lines[0], Catch::Contains("bomb") && Catch::Contains("over the limit"));
  }
}

TEST_CASE("hostile files: tensors declaring more data than the file holds are refused", "[cli][hardening][hostile]") {
  std::string dir = temp_dir("hostile-sizes");
  // .npy: a 100000 x 100000 float32 header (40 GB) over 64 bytes of data.
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }";
  header.resize(118, ' ');
  header += '\n';
  std::string npy = std::string("\x93NUMPY\x01\x00", 8) + char(header.size() & 0xff) + char(header.size() >> 8) + header +
                    std::string(64, '\0');
  mlopt::write_file_atomically(dir + "/huge.npy", npy);
  // .safetensors: a tensor whose data_offsets run past the end of the file.
  std::string json = R"({"body.0.weight":{"dtype":"F32","shape":[100000,100000],"data_offsets":[0,40000000000]}})";
  std::string st;
  for (int i = 0; i < 8; ++i) st += static_cast<char>((json.size() >> (8 * i)) & 0xff);
  mlopt::write_file_atomically(dir + "/huge.safetensors", st + json + std::string(64, '\0'));
  // .onnx: the first initializer declared 2^20 x 2^20 over its few raw bytes.
  onnx::ModelProto model;
  REQUIRE(model.ParseFromString(mlopt::read_file(test_data("verify/mlp.onnx"))));
  REQUIRE(model.graph().initializer_size() > 0);
  auto* init = model.mutable_graph()->mutable_initializer(0);
  init->clear_dims();
  init->add_dims(int64_t{1} << 20);
  init->add_dims(int64_t{1} << 20);
  mlopt::write_file_atomically(dir + "/huge.onnx", model.SerializeAsString());

  std::vector<std::vector<std::string>> runs = {
      {"verify", test_data("verify/mlp.onnx"), test_data("verify/mlp.pt"), "--inputs", dir + "/huge.npy"},
      {"script", kMlpPy, "--class", "MLP", "--weights", dir + "/huge.safetensors", "-o", dir + "/m.pt"},
      {"verify", dir + "/huge.onnx", test_data("verify/mlp.pt")},
      {"profile", dir + "/huge.onnx", "--iters", "1"},
  };
  for (const auto& args : runs) {
    auto o = run_guarded(args);
    check_clean(o, args[0] + " " + args[1] + " " + args.back(), false);
    CHECK(o.exit_code == 1);
    REQUIRE(o.error_lines.size() == 1);
    CHECK_THAT(o.error_lines[0], Catch::Contains("huge."));
  }
}

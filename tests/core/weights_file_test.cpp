// load_weights against fixtures made by tests/fixtures/make_weights_fixtures.py
// with PyTorch itself: values are compared with the .npz PyTorch wrote.
#include <catch2/catch.hpp>
#include <zlib.h>
#include <nlohmann/json.hpp>
#include <torch/script.h>

#include <map>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/core/tensor_file.h"
#include "mlopt/core/weights_file.h"
#include "support/test_support.h"

using namespace mlopt;

namespace {

std::string weights(const std::string& name) { return test::test_data("weights/" + name); }

// PyTorch's state_dict order: the root's own buffers, then each child's.
const std::vector<std::string> kStateDictKeys = {
    "table_f64", "table_f16", "table_bf16", "ids_i32",   "ids_i16",   "ids_i8",         "ids_u8",
    "mask",      "transposed", "head",      "tail",      "conv.weight", "conv.bias",    "bn.weight",
    "bn.bias",   "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "fc.weight", "fc.bias"};

// Every tensor equals PyTorch's own values (from the .npz) with the dtype PyTorch reported.
void check_matches_pytorch(const NamedTensors& loaded) {
  auto expected = load_tensors(weights("state_dict.npz"));
  auto dtypes = nlohmann::json::parse(read_file(weights("state_dict_dtypes.json")));
  REQUIRE(loaded.size() == expected.size());
  for (size_t i = 0; i < loaded.size(); ++i) {
    INFO(loaded[i].first);
    CHECK(loaded[i].first == expected[i].first);
    const at::Tensor& t = loaded[i].second;
    CHECK(dtype_name(t.scalar_type()) == dtypes[loaded[i].first].get<std::string>());
    at::Tensor want = expected[i].second;
    CHECK(t.sizes() == want.sizes());
    CHECK(torch::equal(t.scalar_type() == at::kBFloat16 ? t.to(at::kFloat) : t, want));
  }
}

}  // namespace

TEST_CASE("weights: torch.save state_dict loads with PyTorch's names, dtypes and values", "[weights]") {
  auto loaded = load_weights(weights("state_dict.pth"));
  std::vector<std::string> names;
  for (const auto& [name, t] : loaded) names.push_back(name);
  CHECK(names == kStateDictKeys);
  check_matches_pytorch(loaded);
  std::map<std::string, at::Tensor> by_name(loaded.begin(), loaded.end());
  // Strides and storage offsets are honoured: a transposed buffer and two views of one storage.
  CHECK(by_name["transposed"].strides() == c10::IntArrayRef{1, 3});
  CHECK(by_name["tail"].storage_offset() == 6);
  CHECK(by_name["bn.num_batches_tracked"].item<int64_t>() == 7);
}

TEST_CASE("weights: safetensors loads the same tensors", "[weights]") {
  check_matches_pytorch(load_weights(weights("state_dict.safetensors")));
}

TEST_CASE("weights: checkpoints and parameters", "[weights]") {
  SECTION("a checkpoint dict with a 'model' entry uses that entry") {
    auto loaded = load_weights(weights("checkpoint.pth"));
    check_matches_pytorch(loaded);
  }
  SECTION("nn.Parameter values (torch._utils._rebuild_parameter)") {
    auto loaded = load_weights(weights("parameter.pth"));
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0].first == "w");
    CHECK(torch::equal(loaded[0].second, torch::arange(6.0).view({2, 3}).to(at::kFloat)));
  }
}

TEST_CASE("weights: pickles that name other globals are refused by name, never run", "[weights]") {
  CHECK_THROWS_WITH(load_weights(weights("malicious.pth")),
                    Catch::Contains("malicious.pth': refusing to load pickle global 'posix.system' (only tensors, "
                                    "containers and primitives are allowed)"));
  CHECK_THROWS_WITH(load_weights(weights("malicious_stack_global.pth")),
                    Catch::Contains("refusing to load pickle global 'builtins.exec'"));
  // Through the CLI-facing contract too: an mlopt::Error with exit code 1.
  try {
    load_weights(weights("malicious.pth"));
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.exit_code() == kExitError);
  }
}

TEST_CASE("weights: bad files are one-line errors naming the file", "[weights]") {
  CHECK_THROWS_WITH(load_weights(weights("oversized_tensor.pth")),
                    Catch::Contains("oversized_tensor.pth") && Catch::Contains("needs 10 elements but its storage holds 4"));
  CHECK_THROWS_WITH(load_weights(weights("legacy.pth")), Catch::Contains("legacy (pre-1.6, non-zip)"));
  CHECK_THROWS_WITH(load_weights(weights("missing.pth")), Catch::Contains("weights file") && Catch::Contains("missing.pth") &&
                                                             Catch::Contains("does not exist"));
  std::string dir = test::temp_dir("weights-bad");
  std::string good = read_file(weights("state_dict.pth"));

  write_file_atomically(dir + "/truncated.pth", good.substr(0, good.size() / 2));
  CHECK_THROWS_WITH(load_weights(dir + "/truncated.pth"), Catch::Contains("truncated.pth"));
  write_file_atomically(dir + "/text.pth", "hello");
  CHECK_THROWS_WITH(load_weights(dir + "/text.pth"), Catch::Contains("text.pth' is not a weights file"));

  // A flipped bit in the pickle's first opcode (PROTO 0x80 -> 0xc0).
  std::string flipped = good;
  size_t name_at = flipped.find("state_dict/data.pkl");
  size_t header = name_at - 30;  // the local file header before the name
  auto u16 = [&](size_t off) { return size_t(uint8_t(flipped[off])) | size_t(uint8_t(flipped[off + 1])) << 8; };
  size_t at = name_at + u16(header + 26) + u16(header + 28);  // first data byte
  REQUIRE(uint8_t(flipped[at]) == 0x80);
  flipped[at] = static_cast<char>(0xc0);
  write_file_atomically(dir + "/flipped.pth", flipped);
  // The archive check sees the damage first: the entry's CRC-32 no longer matches.
  CHECK_THROWS_WITH(load_weights(dir + "/flipped.pth"),
                    Catch::Contains("flipped.pth' is not a readable torch.save archive: entry 'state_dict/data.pkl' "
                                    "is corrupt (CRC mismatch)"));
  // With the CRC fixed up in both headers (a deliberate forgery), the pickle reader refuses the opcode.
  auto u32 = [&](size_t off) {
    return uint32_t(u16(off)) | uint32_t(u16(off + 2)) << 16;
  };
  auto put32 = [&](size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i) flipped[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  size_t central_name = flipped.find("state_dict/data.pkl", name_at + 1);
  REQUIRE(central_name != std::string::npos);
  uint32_t size = u32(central_name - 46 + 24);  // the central directory's sizes are authoritative
  uint32_t crc = static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(flipped.data() + at), size));
  put32(header + 14, crc);
  put32(central_name - 46 + 16, crc);
  write_file_atomically(dir + "/forged.pth", flipped);
  CHECK_THROWS_WITH(load_weights(dir + "/forged.pth"),
                    Catch::Contains("forged.pth': malformed pickle at byte 0: unsupported opcode 0xc0"));

  // A TorchScript model is not a state_dict.
  torch::jit::Module m("M");
  m.register_parameter("w", torch::ones({2}), false);
  m.define("def forward(self, x):\n  return x * self.w\n");
  m.save(dir + "/scripted.pt");
  CHECK_THROWS_WITH(load_weights(dir + "/scripted.pt"), Catch::Contains("TorchScript model archive, not a state_dict"));
}

TEST_CASE("weights: malformed safetensors headers are errors naming the tensor", "[weights]") {
  std::string dir = test::temp_dir("weights-st");
  auto file = [&](const std::string& header, const std::string& data) {
    std::string bytes;
    for (int i = 0; i < 8; ++i) bytes += static_cast<char>((header.size() >> (8 * i)) & 0xff);
    write_file_atomically(dir + "/t.safetensors", bytes + header + data);
    return dir + "/t.safetensors";
  };
  CHECK(load_weights(file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0')))
            .at(0)
            .second.sizes() == c10::IntArrayRef{2});
  CHECK_THROWS_WITH(load_weights(file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0'))),
                    Catch::Contains("tensor 'a'") && Catch::Contains("need 12"));
  CHECK_THROWS_WITH(load_weights(file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0'))),
                    Catch::Contains("outside the 8 data bytes"));
  CHECK_THROWS_WITH(load_weights(file(R"({"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}})", std::string(8, '\0'))),
                    Catch::Contains("unsupported dtype 'Q4'"));
  CHECK_THROWS_WITH(load_weights(file(R"({"a":)", "")), Catch::Contains("not a JSON object"));
  CHECK_THROWS_WITH(load_weights(file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}})", std::string(8, '\0'))),
                    Catch::Contains("non-negative"));
  write_file_atomically(dir + "/huge.safetensors", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10));
  CHECK_THROWS_WITH(load_weights(dir + "/huge.safetensors"), Catch::Contains("exceeds the file size"));
}

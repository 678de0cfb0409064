// write_model_file: large-block serialization into the atomically written file.
#include <catch2/catch.hpp>
#include <onnx/onnx_pb.h>
#include <sys/resource.h>

#include <csignal>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"
#include "mlopt/onnx/proto/model_file.h"
#include "support/test_support.h"

using mlopt::test::temp_dir;

namespace {

// A model whose serialized form spans several 1 MB write blocks, with a tail.
onnx::ModelProto model_with_large_initializer() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  auto* init = model.mutable_graph()->add_initializer();
  init->set_name("w");
  init->set_data_type(onnx::TensorProto::FLOAT);
  init->add_dims(3 * 1024 * 1024 / 4 + 123);
  std::string bytes(3 * 1024 * 1024 + 123 * 4, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131 % 251);
  init->set_raw_data(std::move(bytes));
  return model;
}

}  // namespace

TEST_CASE("onnx model file: the written bytes are exactly the serialized model", "[onnx]") {
  auto model = model_with_large_initializer();
  std::string path = temp_dir("onnx-model-file") + "/m.onnx";
  mlopt::onnx_proto::write_model_file(model, path);
  std::string expected;
  REQUIRE(model.SerializeToString(&expected));
  CHECK(mlopt::read_file(path) == expected);
}

TEST_CASE("onnx model file: a write that fails midway is an error and leaves no file", "[onnx]") {
  // A file size limit below the model's size makes a write(2) fail with EFBIG
  // after the first blocks went through (SIGXFSZ ignored, so that it is an error).
  std::string path = temp_dir("onnx-model-file-limit") + "/m.onnx";
  auto old_handler = signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit{};
  getrlimit(RLIMIT_FSIZE, &old_limit);
  rlimit limit = old_limit;
  limit.rlim_cur = 1536 * 1024;
  setrlimit(RLIMIT_FSIZE, &limit);
  std::string error;
  try {
    mlopt::onnx_proto::write_model_file(model_with_large_initializer(), path);
  } catch (const mlopt::Error& e) {
    error = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old_limit);
  signal(SIGXFSZ, old_handler);
  CHECK_THAT(error, Catch::Contains("cannot write '" + path + "'") && Catch::Contains("too large"));
  CHECK_FALSE(mlopt::file_exists(path));
}

TEST_CASE("onnx model file: reading gives back the written model", "[onnx][onnx-proto]") {
  auto model = model_with_large_initializer();
  std::string path = temp_dir("onnx-model-read") + "/m.onnx";
  mlopt::onnx_proto::write_model_file(model, path);
  auto back = mlopt::onnx_proto::read_model_file(path);
  std::string a, b;
  REQUIRE(model.SerializeToString(&a));
  REQUIRE(back.SerializeToString(&b));
  CHECK(a == b);
}

TEST_CASE("onnx model file: missing, empty and truncated files are one error naming the file", "[onnx][onnx-proto]") {
  std::string dir = temp_dir("onnx-model-bad");
  auto error_of = [](const std::string& path) {
    try {
      mlopt::onnx_proto::read_model_file(path);
    } catch (const mlopt::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of(dir + "/missing.onnx") == "'" + dir + "/missing.onnx': no such file");
  mlopt::write_file_atomically(dir + "/empty.onnx", "");
  CHECK(error_of(dir + "/empty.onnx") == "'" + dir + "/empty.onnx': not a valid ONNX model (protobuf parse failed)");
  std::string bytes;
  REQUIRE(model_with_large_initializer().SerializeToString(&bytes));
  mlopt::write_file_atomically(dir + "/cut.onnx", bytes.substr(0, bytes.size() / 2));
  CHECK(error_of(dir + "/cut.onnx") == "'" + dir + "/cut.onnx': not a valid ONNX model (protobuf parse failed)");
}

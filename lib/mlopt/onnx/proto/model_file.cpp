#include "mlopt/onnx/proto/model_file.h"

#include <fcntl.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"

namespace mlopt::onnx_proto {

namespace {

constexpr int kWriteBlock = 1 << 20;  // bytes per write(2)

// write(2) to a file descriptor, whole blocks at a time. (protobuf's own
// FileOutputStream ignores its block_size here and writes 8 KB at a time.)
class FdOutput : public google::protobuf::io::CopyingOutputStream {
 public:
  explicit FdOutput(int fd) : fd_(fd) {}
  bool Write(const void* data, int size) override {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      ssize_t n = ::write(fd_, p, static_cast<size_t>(size));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        errno_ = n < 0 ? errno : EIO;
        return false;
      }
      p += n;
      size -= static_cast<int>(n);
    }
    return true;
  }
  int error() const { return errno_; }

 private:
  int fd_;
  int errno_ = 0;
};

void serialize_into(const onnx::ModelProto& model, int fd, const std::string& path) {
  FdOutput file(fd);
  google::protobuf::io::CopyingOutputStreamAdaptor out(&file, kWriteBlock);
  bool serialized = model.SerializeToZeroCopyStream(&out);
  bool flushed = out.Flush();
  if (!serialized && flushed) fail("'{}': the model is too large to serialize (over 2 GB)", path);
  if (!flushed) fail("cannot write '{}': {}", path, std::strerror(file.error()));
}

}  // namespace

onnx::ModelProto parse_model(const std::string& bytes, const std::string& what) {
  onnx::ModelProto model;
  google::protobuf::io::CodedInputStream stream(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                static_cast<int>(std::min<size_t>(bytes.size(), INT32_MAX)));
  stream.SetTotalBytesLimit(INT32_MAX);
  if (bytes.empty() || !model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage())
    fail("{}: not a valid ONNX model (protobuf parse failed)", what);
  return model;
}

onnx::ModelProto read_model_file(const std::string& path) {
  if (!file_exists(path)) fail("'{}': no such file", path);
  return parse_model(read_file(path), "'" + path + "'");
}

void write_model_file(const onnx::ModelProto& model, const std::string& path) {
  write_atomically(path, [&](const std::string& tmp) {
    int fd = ::open(tmp.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) fail("cannot write '{}': {}", path, std::strerror(errno));
    try {
      serialize_into(model, fd, path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (::close(fd) != 0) fail("cannot write '{}': {}", path, std::strerror(errno));
  });
}

}  // namespace mlopt::onnx_proto

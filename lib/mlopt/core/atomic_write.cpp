#include "mlopt/core/atomic_write.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "mlopt/core/error.h"
#include "mlopt/core/interrupt.h"

namespace mlopt {
namespace fs = std::filesystem;

namespace {
// `<name>.tmp-XXXXXX` beside the target, so a leftover says what it was for;
// a name near the 255-byte limit is shortened so the suffix still fits.
std::string make_temp_path(const std::string& path) {
  constexpr size_t kNameMax = 255, kSuffix = 11;
  const fs::path target(path);
  std::string name = target.filename().string();
  if (name.size() + kSuffix > kNameMax) name.resize(kNameMax - kSuffix);
  std::string templ = (target.parent_path() / (name + ".tmp-XXXXXX")).string();
  int fd = mkstemp(templ.data());
  if (fd < 0) fail("cannot write '{}': {}", path, std::strerror(errno));
  close(fd);
  return templ;
}

// mkstemp creates the temporary file 0600; the artifact must get what any new
// file gets (0666 less the umask), or CI jobs and other users cannot read it.
void give_default_permissions(const std::string& tmp) {
  const mode_t mask = umask(0);
  umask(mask);
  chmod(tmp.c_str(), 0666 & ~mask);
}

void fsync_path(const std::string& path, const std::string& target) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) fail("cannot write '{}': {}", target, std::strerror(errno));
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) fail("cannot write '{}': {}", target, std::strerror(err));
}
}  // namespace

void ensure_parent_dir(const std::string& path) {
  fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  fs::create_directories(parent, ec);
  if (ec) fail("cannot create folder '{}': {}", parent.string(), ec.message());
}

void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write) {
  ensure_parent_dir(path);
  std::string tmp = make_temp_path(path);
  register_temp_file(tmp);
  try {
    write(tmp);
    give_default_permissions(tmp);
    fsync_path(tmp, path);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) fail("cannot write '{}': {}", path, std::strerror(errno));
    unregister_temp_file(tmp);
  } catch (...) {
    std::remove(tmp.c_str());
    unregister_temp_file(tmp);
    try {
      throw;
    } catch (const Error& e) {
      // Name the final path, not the temporary one, in the message.
      std::string msg = e.what();
      for (auto pos = msg.find(tmp); pos != std::string::npos; pos = msg.find(tmp)) msg.replace(pos, tmp.size(), path);
      throw Error(msg, e.exit_code(), e.detail());
    } catch (...) {
      rethrow_as_error(fmt::format("cannot write '{}'", path));
    }
  }
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) fail("cannot write '{}': {}", tmp, std::strerror(errno ? errno : EIO));
  });
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) fail("'{}' is a folder, expected a file", path);
  // A device or pipe (/dev/zero, a FIFO) may never end: only regular files are read.
  if (fs::exists(path, ec) && !fs::is_regular_file(path, ec)) fail("'{}' is not a regular file", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read '{}': {}", path, std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool file_exists(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

int64_t file_size(const std::string& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  return ec ? -1 : static_cast<int64_t>(size);
}

std::string extension_of(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".gz") {
    std::string stem_ext = fs::path(path).stem().extension().string();
    return stem_ext + ext;
  }
  return ext;
}

}  // namespace mlopt

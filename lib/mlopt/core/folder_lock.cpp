#include "mlopt/core/folder_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

#include "mlopt/core/error.h"

namespace mlopt {

namespace {
std::string read_holder(int fd) {
  char buffer[256] = {};
  const ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
  std::string text = n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  // The holder writes its name just after taking the lock: a reader in between sees none.
  return text.empty() ? "" : " (" + text + ")";
}
}  // namespace

FolderLock::FolderLock(const std::string& dir, const std::string& holder) {
  const std::string path = (std::filesystem::path(dir) / ".mlopt.lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot lock the output folder {}: {}", dir, std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string other = read_holder(fd_);
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      fail("the output folder {} is in use by another mlopt process{}; wait for it to finish or choose another --out",
           dir, other);
    fail("cannot lock the output folder {}: {}", dir, std::strerror(err));
  }
  const std::string me = fmt::format("{}, pid {}\n", holder, static_cast<long>(::getpid()));
  if (::ftruncate(fd_, 0) == 0) {
    ssize_t ignored = ::pwrite(fd_, me.data(), me.size(), 0);
    (void)ignored;
  }
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace mlopt

#pragma once
// One writer per output folder: an advisory lock (flock) on `<dir>/.mlopt.lock`,
// held while the object lives and released by the kernel on any exit,
// SIGKILL included. Two runs on one folder would otherwise interleave their
// artifacts, manifest and cache.
#include <string>

namespace mlopt {

class FolderLock {
 public:
  // Throws mlopt::Error when another process holds the folder, naming it
  // (its pid and what it is) and what to do.
  FolderLock(const std::string& dir, const std::string& holder);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace mlopt

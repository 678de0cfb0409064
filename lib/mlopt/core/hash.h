#pragma once
#include <string>

namespace mlopt {
// SHA-256 of bytes / of a file's content, as lower-case hex.
std::string sha256_hex(const std::string& bytes);
std::string sha256_file(const std::string& path);
}  // namespace mlopt

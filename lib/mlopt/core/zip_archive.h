#pragma once
// A minimal, defensive ZIP reader/writer for .npz files (stored and deflated
// entries). Sizes are checked against the archive and a sane limit before
// anything is inflated, so a zip bomb is an error, not an allocation.
#include <cstdint>
#include <string>
#include <vector>

namespace mlopt {

struct ZipEntry {
  std::string name;
  std::string data;
};

// Reads every entry; `what` names the file in error messages.
std::vector<ZipEntry> read_zip(const std::string& bytes, const std::string& what,
                               uint64_t max_uncompressed = uint64_t{8} << 30);
// Writes stored (uncompressed) entries with CRC-32, as numpy.savez does.
std::string write_zip(const std::vector<ZipEntry>& entries);

}  // namespace mlopt

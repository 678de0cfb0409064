#pragma once
// A minimal, defensive ZIP reader/writer for .npz files (stored and deflated
// entries). Sizes are checked against the archive and a sane limit before
// anything is inflated, so a zip bomb is an error, not an allocation.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mlopt {

struct ZipEntry {
  std::string name;
  std::string data;
};

// Reads every entry; `what` names the file in error messages.
std::vector<ZipEntry> read_zip(const std::string& bytes, const std::string& what,
                               uint64_t max_uncompressed = uint64_t{8} << 30);
// Checks the archive's structure, sizes and every entry's CRC-32 without
// keeping the contents (validation before handing a file to another reader).
void check_zip(std::string_view bytes, const std::string& what, uint64_t max_uncompressed = uint64_t{8} << 30);
// check_zip on a file (mapped, not read), e.g. a TorchScript archive before
// LibTorch's reader, which is not hardened against corrupt files, opens it.
// `what` starts every message.
void check_zip_file(const std::string& path, const std::string& what);
// Writes stored (uncompressed) entries with CRC-32, as numpy.savez does.
std::string write_zip(const std::vector<ZipEntry>& entries);

}  // namespace mlopt

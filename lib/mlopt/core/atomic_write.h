#pragma once
// Every artifact is written to `path.tmp-XXXXXX` beside its target and renamed
// into place, so an interrupted or failed write never leaves a partial file
// under the final name (and the previous artifact stays intact).
#include <functional>
#include <string>

namespace mlopt {

// Calls `write(tmp_path)`, fsyncs the result and renames it over `path`.
// On any failure the temporary file is removed and mlopt::Error is thrown
// naming `path` (a full disk included).
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp_path)>& write);

// Convenience for in-memory content.
void write_file_atomically(const std::string& path, const std::string& bytes);

std::string read_file(const std::string& path);
bool file_exists(const std::string& path);
int64_t file_size(const std::string& path);
// Creates the parent folder of `path` if it is missing.
void ensure_parent_dir(const std::string& path);
std::string extension_of(const std::string& path);  // ".pt", ".onnx", ... (lower case)

}  // namespace mlopt

#pragma once
// What a pipeline may write, and where: every file of a run is a plain file
// name inside the output folder, no two steps write the same file, and no
// file the run writes is one of the files it reads.
#include <string>
#include <vector>

namespace mlopt::pipeline {

// Letters, digits, '-', '_' and '.', not starting with '.' ('.', '..' and
// hidden names excluded), at most 200 bytes: a file name that stays inside
// its folder on every platform, with room for a temporary suffix.
bool is_plain_file_name(const std::string& name);

// Files the runner writes itself, beside the artifacts.
const std::vector<std::string>& reserved_output_names();

}  // namespace mlopt::pipeline

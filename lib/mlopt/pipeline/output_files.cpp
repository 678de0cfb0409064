#include "mlopt/pipeline/output_files.h"

#include <cctype>

namespace mlopt::pipeline {

bool is_plain_file_name(const std::string& name) {
  if (name.empty() || name.size() > 200 || name.front() == '.') return false;
  for (char ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') return false;
  return true;
}

const std::vector<std::string>& reserved_output_names() {
  static const std::vector<std::string> names = {"manifest.json", "report.md", "report.html"};
  return names;
}

}  // namespace mlopt::pipeline

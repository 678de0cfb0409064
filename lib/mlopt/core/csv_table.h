#pragma once
// Numeric CSV tables (plain or gzip-compressed), read without LibTorch so the
// parser stays light and fuzzable. Used by data sets (dataset.h).
#include <cstdint>
#include <string>
#include <vector>

namespace mlopt {

struct CsvTable {
  std::vector<std::string> header;  // column names; empty when the file has no header row
  int64_t rows = 0;
  int64_t columns = 0;
  std::vector<double> values;       // rows x columns, row-major
  std::vector<int64_t> line_of_row; // 1-based line number of each row in the file (for errors)
  double at(int64_t row, int64_t column) const { return values[row * columns + column]; }
};

// Reads a numeric CSV. A first row that is not all numbers is taken as the
// header. Blank lines are skipped; every other row must have the same number of
// columns and only numbers. Errors name `path:line` and the offending field.
CsvTable read_numeric_csv(const std::string& path);
// The same, from text already in memory (`what` names the source in errors).
CsvTable parse_numeric_csv(const std::string& text, const std::string& what);

// Whole-file read that transparently decompresses gzip (zlib's gzread).
std::string read_maybe_gzipped(const std::string& path);

}  // namespace mlopt

#include "mlopt/core/csv_table.h"

#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <memory>

#include "mlopt/core/atomic_write.h"
#include "mlopt/core/error.h"

namespace mlopt {
namespace {

// Data files larger than this are refused rather than read into memory.
constexpr int64_t kMaxCsvBytes = int64_t{2} << 30;

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    size_t pos = line.find(',', start);
    fields.push_back(trim(line.substr(start, pos == std::string::npos ? std::string::npos : pos - start)));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return fields;
}

bool parse_number(const std::string& field, double& value) {
  if (field.empty()) return false;
  char* end = nullptr;
  value = std::strtod(field.c_str(), &end);
  return end == field.c_str() + field.size() && std::isfinite(value);
}

bool all_numeric(const std::vector<std::string>& fields) {
  double v = 0;
  for (const auto& f : fields)
    if (!parse_number(f, v)) return false;
  return true;
}

}  // namespace

std::string read_maybe_gzipped(const std::string& path) {
  if (!file_exists(path)) fail("'{}': no such file", path);
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file(gzopen(path.c_str(), "rb"), gzclose);
  if (!file) fail("'{}': cannot open for reading", path);
  std::string text;
  char buffer[1 << 16];
  while (true) {
    int n = gzread(file.get(), buffer, sizeof(buffer));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      fail("'{}': cannot decompress ({})", path, message ? message : "gzip error");
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (static_cast<int64_t>(text.size()) > kMaxCsvBytes) fail("'{}': larger than 2 GiB; too large for a data set", path);
  }
  // gzread returns what it could at a truncated stream and records
  // Z_BUF_ERROR ("unexpected end of file"): short data must not pass as whole.
  int code = 0;
  gzerror(file.get(), &code);
  if (code != Z_OK) fail("'{}': truncated or corrupt gzip data", path);
  return text;
}

CsvTable parse_numeric_csv(const std::string& text, const std::string& what) {
  CsvTable table;
  size_t start = 0;
  int64_t line_number = 0;
  bool first_content_line = true;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = trim(text.substr(start, end - start));
    start = end + 1;
    ++line_number;
    if (line.empty()) continue;
    auto fields = split_fields(line);
    if (first_content_line) {
      first_content_line = false;
      table.columns = static_cast<int64_t>(fields.size());
      if (!all_numeric(fields)) {
        table.header = fields;
        continue;
      }
    }
    if (static_cast<int64_t>(fields.size()) != table.columns)
      fail("{}:{}: expected {} columns, got {}", what, line_number, table.columns, fields.size());
    for (size_t c = 0; c < fields.size(); ++c) {
      double v = 0;
      if (!parse_number(fields[c], v))
        fail("{}:{}: column {}: '{}' is not a number", what, line_number, c + 1,
             fields[c].size() > 40 ? fields[c].substr(0, 40) + "..." : fields[c]);
      table.values.push_back(v);
    }
    table.line_of_row.push_back(line_number);
    ++table.rows;
  }
  if (table.rows == 0) fail("{}: no data rows", what);
  return table;
}

CsvTable read_numeric_csv(const std::string& path) { return parse_numeric_csv(read_maybe_gzipped(path), path); }

}  // namespace mlopt

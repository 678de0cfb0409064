#include "mlopt/core/input_spec.h"

#include <cmath>
#include <limits>

#include <cctype>
#include <charconv>
#include <cstdlib>

#include "mlopt/core/error.h"
#include "mlopt/core/saturating_count.h"

namespace mlopt {
namespace {

const std::vector<std::string>& known_dtypes() {
  static const std::vector<std::string> dtypes = {"float32", "float64", "float16", "bfloat16", "int64",
                                                  "int32",   "int16",   "int8",    "uint8",    "bool"};
  return dtypes;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return parts;
}

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

int64_t parse_dim_size(const std::string& spec, const std::string& text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < 0)
    fail("input spec '{}': dim '{}' is not a non-negative integer (expected e.g. 1x3x224x224 or batch=1x3x224x224; "
         "0 for an empty dim)",
         spec, text);
  return value;
}

double parse_bound(const std::string& spec, const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size())
    fail("input spec '{}': bound '{}' is not a number (expected LOW..HIGH, e.g. 0..8000)", spec, text);
  return v;
}

// Random inputs are drawn in [LOW, HIGH): the range must be representable in
// the dtype they are drawn in (float32 for floating dtypes, int64 otherwise).
void check_bounds_fit_dtype(const std::string& text, const InputSpec& spec) {
  const double low = *spec.low, high = *spec.high;
  const bool floating = spec.dtype.rfind("float", 0) == 0 || spec.dtype == "bfloat16";
  const double limit = floating ? static_cast<double>(std::numeric_limits<float>::max()) : 9.0e18;
  if (!std::isfinite(low) || !std::isfinite(high) || std::abs(low) > limit || std::abs(high) > limit ||
      high - low > limit)
    fail("input spec '{}': bounds {}..{} do not fit {} (expected finite bounds within +-{:g})", text, low, high,
         floating ? "float32" : "int64", limit);
}

}  // namespace

std::vector<int64_t> InputSpec::shape() const {
  std::vector<int64_t> s;
  for (const auto& d : dims) s.push_back(d.size);
  return s;
}

int64_t InputSpec::numel() const { return saturating_numel(shape()); }

void require_within_spec_limit(const InputSpec& spec) {
  if (spec.numel() > kMaxSpecElements)
    fail("input '{}': {} elements, more than the limit of {}; refusing to allocate it", spec.name,
         spec.numel() == INT64_MAX ? std::string("over 2^63") : std::to_string(spec.numel()), kMaxSpecElements);
}

bool InputSpec::has_dynamic_dims() const {
  for (const auto& d : dims)
    if (d.dynamic()) return true;
  return false;
}

std::string InputSpec::to_string() const {
  std::string s = name + ":";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += "x";
    if (dims[i].dynamic()) s += dims[i].name + "=";
    s += std::to_string(dims[i].size);
  }
  s += ":" + dtype;
  if (low && high) s += fmt::format(":{}..{}", *low, *high);
  return s;
}

InputSpec InputSpec::with_dynamic_size(int64_t size) const {
  InputSpec copy = *this;
  for (auto& d : copy.dims)
    if (d.dynamic()) d.size = size;
  return copy;
}

bool is_known_dtype(const std::string& dtype) {
  for (const auto& d : known_dtypes())
    if (d == dtype) return true;
  return false;
}

InputSpec parse_input_spec(const std::string& text) {
  auto fields = split(text, ':');
  if (fields.size() < 2 || fields.size() > 4)
    fail("input spec '{}': expected NAME:SHAPE[:DTYPE[:LOW..HIGH]], e.g. x:batch=1x3x224x224:float32", text);
  InputSpec spec;
  spec.name = fields[0];
  if (!is_identifier(spec.name)) fail("input spec '{}': '{}' is not a valid input name", text, spec.name);
  if (fields[1].empty()) fail("input spec '{}': the shape is empty (expected e.g. 1x3x224x224)", text);
  // A scalar input is written with shape `scalar`.
  if (fields[1] != "scalar") {
    for (const auto& dim_text : split(fields[1], 'x')) {
      Dim dim;
      auto eq = dim_text.find('=');
      if (eq != std::string::npos) {
        dim.name = dim_text.substr(0, eq);
        if (!is_identifier(dim.name)) fail("input spec '{}': '{}' is not a valid dim name", text, dim.name);
        dim.size = parse_dim_size(text, dim_text.substr(eq + 1));
      } else {
        dim.size = parse_dim_size(text, dim_text);
      }
      spec.dims.push_back(dim);
    }
    if (spec.numel() > kMaxSpecElements)
      fail("input spec '{}': more than {} elements; refusing to allocate it", text, kMaxSpecElements);
  }
  if (fields.size() >= 3 && !fields[2].empty()) {
    spec.dtype = fields[2];
    if (spec.dtype == "float") spec.dtype = "float32";
    if (spec.dtype == "long") spec.dtype = "int64";
    if (spec.dtype == "int") spec.dtype = "int32";
    if (spec.dtype == "half") spec.dtype = "float16";
    if (!is_known_dtype(spec.dtype))
      fail("input spec '{}': unknown dtype '{}' (expected one of float32, float64, float16, bfloat16, int64, "
           "int32, int16, int8, uint8, bool)",
           text, spec.dtype);
  }
  if (fields.size() == 4) {
    auto dots = fields[3].find("..");
    if (dots == std::string::npos)
      fail("input spec '{}': bounds '{}' must be LOW..HIGH, e.g. 0..8000", text, fields[3]);
    spec.low = parse_bound(text, fields[3].substr(0, dots));
    spec.high = parse_bound(text, fields[3].substr(dots + 2));
    if (*spec.high <= *spec.low) fail("input spec '{}': HIGH must be greater than LOW", text);
    check_bounds_fit_dtype(text, spec);
  }
  return spec;
}

std::vector<InputSpec> parse_input_specs(const std::vector<std::string>& texts) {
  std::vector<InputSpec> specs;
  for (const auto& t : texts) {
    specs.push_back(parse_input_spec(t));
    for (size_t i = 0; i + 1 < specs.size(); ++i)
      if (specs[i].name == specs.back().name) fail("input spec '{}': input '{}' is given twice", t, specs.back().name);
  }
  return specs;
}

}  // namespace mlopt

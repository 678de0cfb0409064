#pragma once
// Input specs describe a model's inputs everywhere (tracing examples, ONNX
// dynamic dims, random inputs): NAME:SHAPE[:DTYPE[:LOW..HIGH]], where SHAPE is
// `1x3x224x224` and any dim may be `batch=1` (dynamic, named, example size 1).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlopt {

struct Dim {
  int64_t size = 1;   // example size
  std::string name;   // non-empty: a dynamic dim with this symbolic name
  bool dynamic() const { return !name.empty(); }
};

struct InputSpec {
  std::string name;
  std::vector<Dim> dims;
  std::string dtype = "float32";  // float32|float64|float16|bfloat16|int64|int32|int16|int8|uint8|bool
  std::optional<double> low, high;  // bounds for random values

  std::vector<int64_t> shape() const;
  int64_t numel() const;  // saturating at INT64_MAX
  bool has_dynamic_dims() const;
  // The spec written back in its textual form.
  std::string to_string() const;
  // The same spec with every dynamic dim set to `size` (for checks at a second shape).
  InputSpec with_dynamic_size(int64_t size) const;
};

// Largest number of elements a spec may ask for; larger specs are refused
// before anything is allocated.
inline constexpr int64_t kMaxSpecElements = int64_t{1} << 31;

// Refuses (mlopt::Error) a spec of more than kMaxSpecElements elements, e.g.
// one whose dynamic dims were resized after parsing.
void require_within_spec_limit(const InputSpec& spec);

// Parses one spec; throws mlopt::Error naming the spec and what was expected.
InputSpec parse_input_spec(const std::string& text);
std::vector<InputSpec> parse_input_specs(const std::vector<std::string>& texts);

bool is_known_dtype(const std::string& dtype);

}  // namespace mlopt

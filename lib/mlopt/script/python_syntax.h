#pragma once
// Python syntax that LibTorch's TorchScript parser does not take, handled
// before it sees a model file: trailing commas it refuses are removed, and
// constructs mlopt does not support are reported in Python's words
// ("lambda is not supported"), every one of them in one message, instead of
// the parser's token names for the first.
#include <string>
#include <vector>

namespace mlopt::script {

// `{"a": 1, "b": 2,}` -> `{"a": 1, "b": 2 }` (strings and comments untouched,
// line numbers kept). Other trailing commas the parser already accepts.
std::string drop_trailing_commas(const std::string& text);

// "LINE: CONSTRUCT is not supported" for each unsupported construct found in
// the code (not in strings or comments), in file order.
std::vector<std::string> unsupported_constructs(const std::string& text);

}  // namespace mlopt::script

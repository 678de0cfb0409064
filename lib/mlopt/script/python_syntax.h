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

// Python sugar rewritten, on the same lines, into forms the parser takes and
// the __init__ evaluator understands:
//   f"x{a}y{b:.2f}"        -> "x{}y{:.2f}".format(a, b)
//   lambda x, y=1: body    -> __lambda__(body, x, y=1)
//   def f(a, *args, **kw)  -> def f(a, __va__args, __kw__kw)   (bare `*,` and `/,` dropped)
//   f(a, **kw)             -> f(a, __kwargs_0=kw)
std::string rewrite_python_sugar(const std::string& text);

// "LINE: CONSTRUCT is not supported" for each unsupported construct found in
// the code (not in strings or comments), in file order.
std::vector<std::string> unsupported_constructs(const std::string& text);

}  // namespace mlopt::script

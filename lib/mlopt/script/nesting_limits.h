#pragma once
// Limits on how deeply a `.py` model's source may nest, checked before and
// after parsing. TorchScript's parser and compiler, and the __init__
// evaluator, recurse once per level: 10000 nested parentheses, `- - - ... x`,
// `a ** a ** ...` or `x + x + ... + x` (a left-deep tree the compiler walks
// recursively) would overflow the stack. Python's own parser refuses such
// files too (200 nested parentheses, 100 indentation levels).
#include <torch/csrc/jit/frontend/tree.h>

#include <string>

namespace mlopt::script {

inline constexpr int kMaxSourceNesting = 100;  // brackets + prefix/right-recursive operators per line; indents
inline constexpr int kMaxTreeDepth = 400;      // levels of the parsed syntax tree

// Scans the raw text (strings and comments skipped) and fails with
// "PATH:LINE: ..." where brackets, indentation or chains of prefix and
// right-associative operators nest beyond kMaxSourceNesting.
void check_source_nesting(const std::string& text, const std::string& path);

// Fails, naming the file and line of the deepest node, when `tree` is deeper
// than kMaxTreeDepth. Iterative: the check itself cannot overflow.
void check_tree_depth(const torch::jit::TreeRef& tree);

}  // namespace mlopt::script

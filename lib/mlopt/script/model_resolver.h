#pragma once
// Name resolution for methods compiled from a model file: `torch`, `nn`, `F`
// and `math` (through the file's import aliases), top-level constants, and the
// file's helper functions (compiled on first use into the same compilation unit).
#include <torch/csrc/jit/frontend/resolver.h>

#include "mlopt/script/init_evaluator.h"
#include "mlopt/script/source_file.h"

namespace mlopt::script {

std::shared_ptr<torch::jit::Resolver> make_model_resolver(const ParsedFile& file, const InitEvaluator& evaluator,
                                                          const std::shared_ptr<torch::jit::CompilationUnit>& cu);

// Rewrites a TorchScript front-end error into one `file:line: message` error.
[[noreturn]] void fail_from_frontend(const std::exception& e, const std::string& fallback_location);

}  // namespace mlopt::script

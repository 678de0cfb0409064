#pragma once
// A model split across files: `from .blocks import ResBlock` and
// `from models.layers import Attention` are resolved relative to the model
// file (and its parent folders) or to the given search folders, parsed, and
// their classes, functions and constants join the model file's. Imports of
// anything else than torch, typing, math, functools, collections, __future__
// and the model's own files are an error naming the import.
#include <string>
#include <vector>

#include "mlopt/script/source_file.h"

namespace mlopt::script {

ParsedFile parse_model_files(const std::string& path, const std::vector<std::string>& search_paths);

// Is this class defined in the model file itself (not in a file it imports)?
bool defined_in_model_file(const ParsedFile& file, const torch::jit::ClassDef& cls);

}  // namespace mlopt::script

#pragma once
// Module attributes that forward writes. Freezing folds every attribute that
// forward only reads; what it writes stays a prim::GetAttr / prim::SetAttr:
// SSD's warn-once flag, the anchor generator's and the pooler's caches, a call
// counter. The export reads them as they are now (the shape probes keep their
// writes to themselves, see shape_probe.cpp), and an exported graph keeps no
// state between runs: the user is warned when that changes what the model
// computes, that is when forward reads an attribute before it writes it, the
// value read matters (not a flag that only decides whether to warn, not an
// empty cache) and the probe wrote a different value back (not a cache
// refilled with what it held).
#include <torch/script.h>

#include <map>
#include <set>
#include <string>
#include <utility>

namespace mlopt::onnx_export {

// (object, attribute) -> the value a probe run wrote.
using ModuleWrites = std::map<std::pair<const c10::ivalue::Object*, std::string>, c10::IValue>;

// Attributes (by name) forward reads before writing them, where the value read matters.
std::set<std::string> attributes_read_before_written(const torch::jit::Module& module, torch::jit::Graph& graph);

// Warns once per attribute of `reads` that a probe wrote with a value other than its own.
void warn_about_module_state(const std::set<std::string>& reads, const ModuleWrites& writes);

}  // namespace mlopt::onnx_export

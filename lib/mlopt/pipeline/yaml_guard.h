#pragma once
// Checks a YAML text before it is turned into a node tree: one document, no
// duplicate keys, and aliases expanded within a budget. yaml-cpp itself keeps
// the first of two equal keys, silently ignores documents after the first,
// links an alias that names its own enclosing node into a cycle (and every
// walk over the tree then recurses forever), and shares aliased nodes so that
// a few hundred bytes can stand for billions of nodes. Reading the parser's
// events catches all of it in one linear pass.
#include <cstdint>
#include <string>

namespace mlopt::pipeline {

struct YamlLimits {
  uint64_t max_nodes = 200000;  // nodes after expanding every alias
  int max_depth = 64;           // nesting, through aliases too
};

// Throws mlopt::Error "FILE:LINE:COL: ..." on the first problem. `file` names
// the text in messages ("pipeline.yaml", "--set steps.a.x=...").
void check_yaml_text(const std::string& text, const std::string& file, const YamlLimits& limits = {});

}  // namespace mlopt::pipeline

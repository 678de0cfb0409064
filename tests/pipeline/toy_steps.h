#pragma once
// Test-only step types: they work on small text files, so the pipeline
// machinery (binding, graph, cache, manifest, gates, reports) is tested without
// depending on the real subcommands.
#include <string>
#include <vector>

namespace mlopt::test::toy {

// The number of times toy steps ran (cache tests check it).
int& transform_runs();
// The number of times toy-measure ran.
int& measure_runs();

// Writes a file under `dir` and returns its path.
std::string write(const std::string& dir, const std::string& name, const std::string& content);

}  // namespace mlopt::test::toy

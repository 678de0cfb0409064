#pragma once
// "did you mean ...?" suggestions for misspelt keys and step names.
#include <string>
#include <vector>

namespace mlopt::pipeline {

// Levenshtein distance (insert, delete, substitute: cost 1 each).
size_t edit_distance(const std::string& a, const std::string& b);

// The closest candidate within a distance that scales with the word's length,
// or an empty string when nothing is close enough.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace mlopt::pipeline

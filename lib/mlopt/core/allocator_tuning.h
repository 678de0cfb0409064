#pragma once
// Heap settings for steady-state inference.
#include <string>
#include <utility>
#include <vector>

namespace mlopt {

// A fresh process's glibc heap gives memory back to the OS after model calls
// (the freed activations sit at the top of the heap) and page-faults it in
// again on the next call: 20-30% slower p50 on a CNN, up to 2x on MobileNetV2.
// A long-lived server does better to keep freed memory: larger trim/top-pad
// thresholds, and activations below 64 MB from the heap.
//
// mlopt applies this where it runs models for itself (`serve`). It does not
// apply it to the process `profile` measures: users deploy in their own
// processes, which start with glibc's defaults; `profile` measures the tuned
// figure in a second process started with the environment below, and reports
// it as a recommendation. Idempotent.
void tune_allocator_for_steady_state();

// Whether tune_allocator_for_steady_state() ran in this process.
bool allocator_tuned();

// The same settings as environment variables glibc reads at start-up
// (name, value): what a user sets to get the tuned figure.
std::vector<std::pair<std::string, std::string>> allocator_tuning_env();

// "MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_TOP_PAD_=67108864 MALLOC_MMAP_THRESHOLD_=67108864"
std::string allocator_tuning_env_text();

}  // namespace mlopt

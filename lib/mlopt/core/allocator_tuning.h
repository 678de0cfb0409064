#pragma once
// Heap settings for steady-state inference.

namespace mlopt {

// A fresh process's glibc heap gives memory back to the OS after every model
// call (the freed activations sit at the top of the heap) and page-faults it in
// again on the next call. Measured here: 10x the page faults of a Python
// process running the same TorchScript module, and a 20-30% slower p50. A
// long-lived server's heap does not do that, so mlopt keeps freed memory:
// larger trim/top-pad thresholds, and activations below 64 MB from the heap.
// Idempotent; call before measuring or serving.
void tune_allocator_for_steady_state();

}  // namespace mlopt

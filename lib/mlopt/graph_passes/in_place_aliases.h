#pragma once
// Reads of a tensor after an in-place op made reads of the op's result.
//
// `x = self.act(x) + x` with an in-place activation adds the activated tensor
// to itself, and so does `z = F.silu(y, inplace=True); z * y`: the second read
// sees the first's write. LibTorch's graph-mode quantization passes put a
// dequantize (a copy) in front of a float in-place op, so its write no longer
// reaches the other read: the int8 model computed act(x) + x, silently (18 dB
// against float on a small model, over the default floor). Reading the op's
// result instead is the same program for the float model and leaves nothing
// for a copy to break.
namespace torch::jit {
struct Module;
}

namespace mlopt::graph_passes {

// In every method of `module` and its submodules (graphs changed in place:
// give it a copy): after a node that writes its first input in place and
// returns it (aten::silu_, aten::add_, ...), or a forward call that returns its
// argument (a module that activates in place), later reads of that input in
// the same block read the node's result. Returns how many reads.
int read_in_place_results(torch::jit::Module& module);

}  // namespace mlopt::graph_passes

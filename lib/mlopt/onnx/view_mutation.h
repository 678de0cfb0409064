#pragma once
// In-place ops on a slice or select of a tensor write into the tensor they
// view: `attn[:, :, 1:, 1:] += rel_pos` (MViT), `x[:, 0] *= 2`, `y[1:] = z`.
// PyTorch's RemoveTensorMutation leaves them (the view aliases its base), and
// converting them as functional ops would drop the write, a silently wrong
// export. Here each becomes the functional op on the view, written back with
// aten::slice_scatter / aten::select_scatter level by level into the base, and
// every later use of the base or of a view in the chain reads the result.
// An in-place op on any other kind of view (a transpose, a reshape, ...) is
// refused with the op named, never exported wrong.
#include <memory>

namespace torch::jit {
struct Graph;
}

namespace mlopt::onnx_export {

void write_back_view_mutations(std::shared_ptr<torch::jit::Graph>& graph);

}  // namespace mlopt::onnx_export

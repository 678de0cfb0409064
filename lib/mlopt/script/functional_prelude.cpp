#include "mlopt/script/functional_prelude.h"

namespace mlopt::script {

const std::string& functional_prelude_source() {
  static const std::string source = R"(
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return torch.relu_(input)
    return torch.relu(input)

def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return torch.hardtanh_(input, 0.0, 6.0)
    return torch.hardtanh(input, 0.0, 6.0)

def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    if inplace:
        return torch.leaky_relu_(input, negative_slope)
    return torch.leaky_relu(input, negative_slope)

def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    if inplace:
        return torch.elu_(input, alpha)
    return torch.elu(input, alpha)

def silu(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return torch.silu_(input)
    return torch.silu(input)

def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return torch.hardswish_(input)
    return torch.hardswish(input)

def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    if inplace:
        return torch.hardsigmoid_(input)
    return torch.hardsigmoid(input)

def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    if inplace:
        return torch.hardtanh_(input, min_val, max_val)
    return torch.hardtanh(input, min_val, max_val)

def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    return torch.gelu(input, approximate=approximate)

def logsigmoid(input: Tensor) -> Tensor:
    return torch.log_sigmoid(input)

def softmax(input: Tensor, dim: int, _stacklevel: int = 3, dtype: Optional[int] = None) -> Tensor:
    return torch.softmax(input, dim, dtype)

def log_softmax(input: Tensor, dim: int, _stacklevel: int = 3, dtype: Optional[int] = None) -> Tensor:
    return torch.log_softmax(input, dim, dtype)

def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    return torch.dropout(input, p, training)

def embedding(input: Tensor, weight: Tensor, padding_idx: Optional[int] = None, max_norm: Optional[float] = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    idx = -1
    if padding_idx is not None:
        idx = padding_idx
    return torch.embedding(weight, input, idx, scale_grad_by_freq, sparse)

def batch_norm(input: Tensor, running_mean: Optional[Tensor], running_var: Optional[Tensor],
               weight: Optional[Tensor] = None, bias: Optional[Tensor] = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-05) -> Tensor:
    return torch.batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps, False)

def layer_norm(input: Tensor, normalized_shape: List[int], weight: Optional[Tensor] = None,
               bias: Optional[Tensor] = None, eps: float = 1e-05) -> Tensor:
    return torch.layer_norm(input, normalized_shape, weight, bias, eps, False)

def group_norm(input: Tensor, num_groups: int, weight: Optional[Tensor] = None, bias: Optional[Tensor] = None,
               eps: float = 1e-05) -> Tensor:
    return torch.group_norm(input, num_groups, weight, bias, eps, False)

def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    denom = input.norm(p, [dim], True).clamp_min(eps).expand_as(input)
    return input / denom

def _reduction(reduction: str) -> int:
    if reduction == "none":
        return 0
    if reduction == "sum":
        return 2
    return 1

def cross_entropy(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, size_average: Optional[bool] = None,
                  ignore_index: int = -100, reduce: Optional[bool] = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    return torch.cross_entropy_loss(input, target, weight, _reduction(reduction), ignore_index, label_smoothing)

def nll_loss(input: Tensor, target: Tensor, weight: Optional[Tensor] = None, size_average: Optional[bool] = None,
             ignore_index: int = -100, reduce: Optional[bool] = None, reduction: str = "mean") -> Tensor:
    return torch.nll_loss_nd(input, target, weight, _reduction(reduction), ignore_index)

def mse_loss(input: Tensor, target: Tensor, size_average: Optional[bool] = None, reduce: Optional[bool] = None,
             reduction: str = "mean") -> Tensor:
    return torch.mse_loss(input, target, _reduction(reduction))

def _interpolate(input: Tensor, size: Optional[List[int]], scale_factor: Optional[List[float]], mode: str,
                 align_corners: Optional[bool], recompute_scale_factor: Optional[bool], antialias: bool) -> Tensor:
    # F.interpolate after functional_calls.cpp made size / scale_factor lists (one item: for every dimension)
    assert not antialias, "F.interpolate: antialias=True is not supported"
    dim = input.dim() - 2
    output_size: Optional[List[int]] = None
    scales: Optional[List[float]] = None
    if size is not None:
        assert scale_factor is None, "F.interpolate: only one of size or scale_factor should be defined"
        if len(size) == dim:
            output_size = size
        else:
            output_size = [size[0]] * dim
    else:
        assert scale_factor is not None, "F.interpolate: either size or scale_factor should be defined"
        sf = scale_factor
        if len(sf) != dim:
            sf = [sf[0]] * dim
        recompute = False
        if recompute_scale_factor is not None:
            recompute = recompute_scale_factor
        if recompute or mode == "area":
            computed: List[int] = []
            for i in range(dim):
                computed.append(int(float(input.size(i + 2)) * sf[i]))
            output_size = computed
        else:
            scales = sf
    if mode == "nearest" or mode == "nearest-exact" or mode == "area":
        assert align_corners is None, "F.interpolate: align_corners can only be set with the linear, bilinear, bicubic or trilinear modes"
    if mode == "nearest":
        if dim == 1:
            return torch.upsample_nearest1d(input, output_size, scales)
        if dim == 2:
            return torch.upsample_nearest2d(input, output_size, scales)
        return torch.upsample_nearest3d(input, output_size, scales)
    if mode == "nearest-exact":
        if dim == 1:
            return torch._upsample_nearest_exact1d(input, output_size, scales)
        if dim == 2:
            return torch._upsample_nearest_exact2d(input, output_size, scales)
        return torch._upsample_nearest_exact3d(input, output_size, scales)
    if mode == "area":
        assert output_size is not None
        if dim == 1:
            return torch.adaptive_avg_pool1d(input, output_size)
        if dim == 2:
            return torch.adaptive_avg_pool2d(input, output_size)
        return torch.adaptive_avg_pool3d(input, output_size)
    align = False
    if align_corners is not None:
        align = align_corners
    if mode == "linear":
        assert dim == 1, "F.interpolate: mode 'linear' needs a 3-D input"
        return torch.upsample_linear1d(input, output_size, align, scales)
    if mode == "bilinear":
        assert dim == 2, "F.interpolate: mode 'bilinear' needs a 4-D input"
        return torch.upsample_bilinear2d(input, output_size, align, scales)
    if mode == "bicubic":
        assert dim == 2, "F.interpolate: mode 'bicubic' needs a 4-D input"
        return torch.upsample_bicubic2d(input, output_size, align, scales)
    assert mode == "trilinear", "F.interpolate: unknown mode " + mode
    assert dim == 3, "F.interpolate: mode 'trilinear' needs a 5-D input"
    return torch.upsample_trilinear3d(input, output_size, align, scales)

def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Optional[Tensor] = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: Optional[float] = None) -> Tensor:
    # PyTorch 2's fused attention, written out (LibTorch 1.13 has no such op)
    s = 1.0 / float(query.size(-1)) ** 0.5
    if scale is not None:
        s = scale
    attn = torch.matmul(query, key.transpose(-2, -1)) * s
    if is_causal:
        masked = torch.ones([query.size(-2), key.size(-2)]).tril() == 0
        attn = attn.masked_fill(masked, float("-inf"))
    if attn_mask is not None:
        if attn_mask.is_floating_point():
            attn = attn + attn_mask
        else:
            attn = attn.masked_fill(attn_mask.logical_not(), float("-inf"))
    attn = torch.softmax(attn, -1)
    if dropout_p > 0.0:
        attn = torch.dropout(attn, dropout_p, True)
    return torch.matmul(attn, value)

def pad(input: Tensor, pad: List[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    if mode == "constant":
        return torch.constant_pad_nd(input, pad, value)
    n = len(pad) // 2
    if mode == "reflect":
        if n == 1:
            return torch.reflection_pad1d(input, pad)
        if n == 2:
            return torch.reflection_pad2d(input, pad)
        return torch.reflection_pad3d(input, pad)
    assert mode == "replicate", "F.pad: mode must be constant, reflect or replicate"
    if n == 1:
        return torch.replication_pad1d(input, pad)
    if n == 2:
        return torch.replication_pad2d(input, pad)
    return torch.replication_pad3d(input, pad)
)";
  return source;
}

}  // namespace mlopt::script

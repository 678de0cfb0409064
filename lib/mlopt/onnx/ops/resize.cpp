// Upsampling (nn.Upsample, F.interpolate): aten::upsample_* -> ONNX Resize.
//
// PyTorch's coordinate rules, as ONNX Resize attributes:
//   nearest         src = floor(dst * scale)                -> asymmetric + floor
//   nearest-exact   src = floor((dst + 0.5) * scale)        -> half_pixel + round_prefer_ceil
//   linear, cubic   src = (dst + 0.5) * scale - 0.5         -> half_pixel (cubic: a = -0.75)
//   align_corners   src = dst * (in - 1) / (out - 1)        -> align_corners
// where scale is 1 / scale_factor when the caller gave one (F.interpolate's
// scale_factor without recompute_scale_factor), else in / out. So a scale
// factor becomes Resize's `scales` (the same rule), an output size its
// `sizes` (batch and channel dims read from the input at run time, so
// dynamic dims survive). align_corners ignores scale factors (as PyTorch does).
// antialias=True (aten::_upsample_*_aa) has no Resize equivalent before opset 18.
#include <cmath>

#include "mlopt/onnx/converter.h"

namespace mlopt::onnx_export {
namespace {

struct ResizeArgs {
  std::optional<size_t> output_size;  // input index, when given (not None)
  std::vector<double> scales;         // one per spatial dim, when given
  bool align_corners = false;
};

ResizeArgs parse_args(Context& ctx, int64_t spatial) {
  const auto* node = ctx.node();
  if (!node->maybeSchema()) ctx.fail_op("unknown overload");
  ResizeArgs args;
  if (auto i = schema_arg(node, "output_size"); i && !ctx.is_none(*i)) args.output_size = *i;
  if (auto i = schema_arg(node, "align_corners")) args.align_corners = ctx.to_bool(*i);
  if (auto i = schema_arg(node, "scale_factors"); i && !ctx.is_none(*i)) {
    args.scales = ctx.constant(*i).toDoubleVector();
  } else {
    // The per-dim overload: scales / scales_d, scales_h, scales_w (all given or none).
    std::vector<std::string> names = spatial == 1 ? std::vector<std::string>{"scales"}
                                     : spatial == 2 ? std::vector<std::string>{"scales_h", "scales_w"}
                                                    : std::vector<std::string>{"scales_d", "scales_h", "scales_w"};
    std::vector<double> scales;
    for (auto& n : names)
      if (auto i = schema_arg(node, n); i && !ctx.is_none(*i)) scales.push_back(ctx.to_double(*i));
    if (scales.size() == names.size()) args.scales = scales;
  }
  if (!args.scales.empty() && static_cast<int64_t>(args.scales.size()) != spatial)
    ctx.fail_op(fmt::format("expected {} scale factors, got {}", spatial, args.scales.size()));
  if (!args.output_size && args.scales.empty()) ctx.fail_op("neither an output size nor scale factors");
  return args;
}

// A scale factor as Resize takes it (float). The output size PyTorch computes
// from it (floor(in * scale) in double) and the one ONNX Runtime computes (in
// float) agree whenever in * scale is not within float rounding of an integer,
// which holds for the usual factors (2, 0.5, 1.5, ...: exact in float).
float resize_scale(double s) { return static_cast<float>(s); }

// When the output size is given next to the scale factors (the per-dim
// overload), Resize can only follow the scales: check that they agree where
// the sizes are static.
void check_sizes_follow_scales(Context& ctx, const ResizeArgs& args, int64_t spatial) {
  if (!args.output_size || !ctx.is_constant(*args.output_size)) return;
  auto sizes = ctx.to_ints(*args.output_size);
  auto ti = ctx.info(0);
  if (!ti) return;
  for (int64_t d = 0; d < spatial; ++d) {
    if (ti->dynamic[2 + d]) continue;
    auto want = static_cast<int64_t>(std::floor(ti->sizes[2 + d] * static_cast<double>(resize_scale(args.scales[d]))));
    if (want != sizes[d])
      ctx.fail_op(fmt::format("output size {} of dim {} does not follow from its scale factor {} (input size {})",
                              sizes[d], 2 + d, args.scales[d], ti->sizes[2 + d]));
  }
}

void convert_resize(Context& ctx, const std::string& mode, bool exact_nearest) {
  int64_t rank = ctx.rank(0);
  int64_t spatial = rank - 2;
  if (spatial < 1 || spatial > 3) ctx.fail_op(fmt::format("expected a 3-D to 5-D input, got {}-D", rank));
  auto args = parse_args(ctx, spatial);
  std::string x = ctx.tensor(0);
  bool use_scales = !args.scales.empty() && !(args.align_corners && args.output_size);
  if (use_scales && args.output_size) check_sizes_follow_scales(ctx, args, spatial);

  std::string scales, sizes;
  if (use_scales) {
    std::vector<float> s{1.0f, 1.0f};
    for (double v : args.scales) s.push_back(resize_scale(v));
    scales = ctx.b().constant(torch::tensor(s, at::kFloat), "scales");
  } else if (args.output_size) {
    std::string lead = ctx.b().add1("Slice", {shape_of(ctx, x), ctx.b().ints({0}), ctx.b().ints({2})});
    sizes = ctx.b().add1("Concat", {lead, ctx.ints_1d(*args.output_size)}, {{"axis", int64_t{0}}}, "sizes");
  } else {
    // align_corners with scale factors only: the output size is floor(in * scale).
    std::vector<float> s{1.0f, 1.0f};
    for (double v : args.scales) s.push_back(resize_scale(v));
    scales = ctx.b().constant(torch::tensor(s, at::kFloat), "scales");
  }

  std::vector<Attr> attrs{{"mode", mode}};
  if (mode == "nearest") {
    attrs.emplace_back("coordinate_transformation_mode", exact_nearest ? "half_pixel" : "asymmetric");
    attrs.emplace_back("nearest_mode", exact_nearest ? "round_prefer_ceil" : "floor");
  } else {
    attrs.emplace_back("coordinate_transformation_mode", args.align_corners ? "align_corners" : "half_pixel");
    if (mode == "cubic") attrs.emplace_back("cubic_coeff_a", -0.75f);
  }
  std::vector<std::string> ins{x, "", scales};
  if (!sizes.empty()) ins.push_back(sizes);
  ctx.set_tensor(0, ctx.b().add_node("Resize", ins, attrs, 1, "resize")[0]);
}

void convert_upsample_nearest(Context& ctx) { convert_resize(ctx, "nearest", false); }
void convert_upsample_nearest_exact(Context& ctx) { convert_resize(ctx, "nearest", true); }
void convert_upsample_linear(Context& ctx) { convert_resize(ctx, "linear", false); }
void convert_upsample_cubic(Context& ctx) { convert_resize(ctx, "cubic", false); }

}  // namespace

REGISTER_CONVERTER({"aten::upsample_nearest1d", "aten::upsample_nearest2d", "aten::upsample_nearest3d"},
                   convert_upsample_nearest);
REGISTER_CONVERTER({"aten::_upsample_nearest_exact1d", "aten::_upsample_nearest_exact2d",
                    "aten::_upsample_nearest_exact3d"},
                   convert_upsample_nearest_exact);
REGISTER_CONVERTER({"aten::upsample_linear1d", "aten::upsample_bilinear2d", "aten::upsample_trilinear3d"},
                   convert_upsample_linear);
REGISTER_CONVERTER({"aten::upsample_bicubic2d"}, convert_upsample_cubic);

}  // namespace mlopt::onnx_export

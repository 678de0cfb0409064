#include "mlopt/serve/validate.h"

#include <fmt/format.h>

#include "mlopt/core/shape_text.h"
#include "mlopt/serve/v2_protocol.h"

namespace mlopt::serving {
namespace {

std::string names_of(const std::vector<TensorSpec>& specs) {
  std::string names;
  for (const auto& s : specs) names += (names.empty() ? "" : ", ") + s.name;
  return names;
}

}  // namespace

const TensorSpec& spec_named(const Signature& signature, const std::string& name) {
  for (const auto& spec : signature.inputs)
    if (spec.name == name) return spec;
  bad_request(fmt::format("unknown input '{}' (model '{}' takes: {})", name, signature.name, names_of(signature.inputs)));
}

void check_header(const HostTensor& tensor, const TensorSpec& spec) {
  if (tensor.datatype != spec.datatype)
    bad_request(fmt::format("input '{}': datatype {}, expected {}", spec.name, tensor.datatype, spec.datatype));
  if (tensor.shape.size() != spec.shape.size())
    bad_request(fmt::format("input '{}': shape {} has rank {}, expected rank {} ({})", spec.name, sizes_text(tensor.shape),
                       tensor.shape.size(), spec.shape.size(), sizes_text(spec.shape)));
  int64_t elements = 1;
  for (size_t d = 0; d < spec.shape.size(); ++d) {
    const int64_t size = tensor.shape[d];
    if (size < 1)
      bad_request(fmt::format("input '{}': dim {} is {}, expected a size of at least 1", spec.name, d, size));
    if (spec.shape[d] >= 0 && size != spec.shape[d])
      bad_request(fmt::format("input '{}': dim {} is {}, expected {} (shape {})", spec.name, d, size, spec.shape[d],
                         sizes_text(spec.shape)));
    if (size > kMaxRequestElements / elements)
      bad_request(fmt::format("input '{}': shape {} has more than {} elements", spec.name, sizes_text(tensor.shape),
                         kMaxRequestElements));
    elements *= size;
  }
}

void check_complete(const std::vector<const HostTensor*>& by_position, const Signature& signature) {
  for (size_t i = 0; i < signature.inputs.size(); ++i)
    if (!by_position[i])
      bad_request(fmt::format("missing input '{}' (model '{}' takes: {})", signature.inputs[i].name, signature.name,
                         names_of(signature.inputs)));
  bool batched = !signature.inputs.empty();
  for (const auto& spec : signature.inputs) batched = batched && !spec.shape.empty() && spec.shape[0] < 0;
  if (!batched) return;
  const int64_t batch = by_position[0]->shape[0];
  for (size_t i = 1; i < by_position.size(); ++i)
    if (by_position[i]->shape[0] != batch)
      bad_request(fmt::format("input '{}': batch dim (dim 0) is {}, but input '{}' has {}; inputs must agree",
                         signature.inputs[i].name, by_position[i]->shape[0], signature.inputs[0].name, batch));
}

}  // namespace mlopt::serving

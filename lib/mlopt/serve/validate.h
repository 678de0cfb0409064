#pragma once
// Checks a request's tensor header (name, datatype, shape) against the model's
// signature, so that a bad request is a 400 naming the input, never a model
// error. Throws RequestError.
#include <string>
#include <vector>

#include "mlopt/serve/tensor.h"

namespace mlopt::serving {

// The largest element count one input may declare (the body limit bounds the
// data anyway; this keeps the shape arithmetic far from overflow).
inline constexpr int64_t kMaxRequestElements = int64_t{1} << 34;

// The signature entry for `name`; throws "unknown input" listing the names.
const TensorSpec& spec_named(const Signature& signature, const std::string& name);

// Datatype, rank, fixed dims and element count bound.
void check_header(const HostTensor& tensor, const TensorSpec& spec);

// Inputs in signature order: none missing, and, for a model whose inputs all
// start with a dynamic dim, every input agreeing on that (batch) dim.
void check_complete(const std::vector<const HostTensor*>& by_position, const Signature& signature);

}  // namespace mlopt::serving

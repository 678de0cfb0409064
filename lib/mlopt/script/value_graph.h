#pragma once
// Walks what a value holds (list/tuple/dict items, a module's members and
// children) without recursion, so that `self.me = self`, `a.append(a)` and
// `self.layers.append(self)` are refused when made, instead of sending the
// module builder, repr() or a comparison into endless recursion later.
#include "mlopt/script/py_value.h"

namespace mlopt::script {

// Deepest nesting of containers and modules allowed in __init__ values: the
// builder, repr() and comparisons recurse once per level.
inline constexpr int kMaxValueNesting = 100;

// The identity of a container as the walk sees it: a list/tuple/dict's items, a module object.
const void* container_identity(const PyValue& value);

// True when `target` (a container_identity) is `value` itself or is held, at
// any depth, by it.
bool holds(const PyValue& value, const void* target);

// Levels of nested containers and modules in `value` (a scalar: 0), counted up
// to kMaxValueNesting + 1 and no further.
int nesting_depth(const PyValue& value);

}  // namespace mlopt::script

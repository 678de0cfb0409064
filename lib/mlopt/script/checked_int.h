#pragma once
// Python int arithmetic on int64, checked: where Python would give a number
// outside int64 (2 ** 64, -(-2**63), (-2**63) // -1) these return nullopt and
// the evaluator reports an error naming the line, instead of wrapping or
// trapping (SIGFPE). Division and modulo by zero are the caller's to check.
#include <cstdint>
#include <optional>

namespace mlopt::script::checked {

std::optional<int64_t> add(int64_t a, int64_t b);
std::optional<int64_t> sub(int64_t a, int64_t b);
std::optional<int64_t> mul(int64_t a, int64_t b);
std::optional<int64_t> neg(int64_t a);
std::optional<int64_t> abs(int64_t a);
// Python's floor division and modulo (the result takes the divisor's sign); b != 0.
std::optional<int64_t> floor_div(int64_t a, int64_t b);
std::optional<int64_t> mod(int64_t a, int64_t b);
// a ** b for b >= 0, by squaring (so 2 ** 10**18 fails at once, not after 10**18 steps).
std::optional<int64_t> pow(int64_t a, int64_t b);
// a << b and a >> b for b >= 0 (Python: a negative count is a ValueError, the caller's).
std::optional<int64_t> shl(int64_t a, int64_t b);
int64_t shr(int64_t a, int64_t b);
// A float's integer part as int64 (int(x), math.floor ...): nullopt for nan, inf and out of range.
std::optional<int64_t> from_double(double x);

}  // namespace mlopt::script::checked

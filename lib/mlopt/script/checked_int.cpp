#include "mlopt/script/checked_int.h"

#include <cmath>
#include <limits>

namespace mlopt::script::checked {

namespace {
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
}

std::optional<int64_t> add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<int64_t> sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<int64_t> mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<int64_t> neg(int64_t a) {
  if (a == kMin) return std::nullopt;
  return -a;
}

std::optional<int64_t> abs(int64_t a) {
  if (a == kMin) return std::nullopt;
  return a < 0 ? -a : a;
}

std::optional<int64_t> floor_div(int64_t a, int64_t b) {
  if (a == kMin && b == -1) return std::nullopt;  // the one quotient outside int64 (and x86's SIGFPE)
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

std::optional<int64_t> mod(int64_t a, int64_t b) {
  if (b == -1) return 0;  // kMin % -1 traps on x86, and is 0 for every a
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

std::optional<int64_t> pow(int64_t a, int64_t b) {
  if (a == 0 || a == 1) return b == 0 ? 1 : a;
  if (a == -1) return (b % 2 == 0) ? 1 : -1;
  int64_t result = 1, base = a;
  while (b > 0) {
    if (b & 1) {
      auto r = mul(result, base);
      if (!r) return std::nullopt;
      result = *r;
    }
    b >>= 1;
    if (b > 0) {
      auto sq = mul(base, base);
      if (!sq) return std::nullopt;
      base = *sq;
    }
  }
  return result;
}

std::optional<int64_t> shl(int64_t a, int64_t b) {
  if (a == 0) return 0;
  if (b >= 63) return std::nullopt;
  int64_t limit = std::numeric_limits<int64_t>::max() >> b;
  if (a > limit || a < -limit - 1) return std::nullopt;
  return static_cast<int64_t>(static_cast<uint64_t>(a) << b);
}

int64_t shr(int64_t a, int64_t b) { return b >= 63 ? (a < 0 ? -1 : 0) : (a >> b); }

std::optional<int64_t> from_double(double x) {
  if (!std::isfinite(x)) return std::nullopt;
  x = std::trunc(x);
  // [-2^63, 2^63): both bounds are exact doubles.
  if (x < -9223372036854775808.0 || x >= 9223372036854775808.0) return std::nullopt;
  return static_cast<int64_t>(x);
}

}  // namespace mlopt::script::checked

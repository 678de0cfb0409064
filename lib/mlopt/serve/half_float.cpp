#include "mlopt/serve/half_float.h"

#include <cmath>
#include <cstring>

namespace mlopt::serving {
namespace {

uint32_t bits_of(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

float float_of(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// q plus the rounding of the `shift` bits cut off below it (`rest`), to nearest, ties to even.
uint32_t round_even(uint32_t q, uint32_t rest, uint32_t shift) {
  const uint32_t half = 1u << (shift - 1);
  return rest > half || (rest == half && (q & 1u)) ? q + 1 : q;
}

}  // namespace

uint16_t fp16_from_float(float value) {
  const uint32_t x = bits_of(value);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t mag = x & 0x7fffffffu;
  if (mag > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (mag >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to 65520 or more: infinity
  if (mag >= 0x38800000u) {  // a normal half: rebias the exponent (127 -> 15), keep 10 mantissa bits
    const uint32_t q = (mag >> 13) - (112u << 10);
    return static_cast<uint16_t>(sign | round_even(q, mag & 0x1fffu, 13));  // a carry moves into the exponent
  }
  if (mag < 0x33000000u) return static_cast<uint16_t>(sign);  // at most 2^-25: rounds to zero
  // A subnormal half counts units of 2^-24.
  const uint32_t exponent = mag >> 23;
  const uint32_t significand = (mag & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - exponent;
  const uint32_t q = significand >> shift;
  return static_cast<uint16_t>(sign | round_even(q, significand & ((1u << shift) - 1), shift));
}

float float_from_fp16(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0x1f) return float_of(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    const float v = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -v : v;
  }
  return float_of(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

uint16_t bf16_from_float(float value) {
  const uint32_t x = bits_of(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);  // NaN stays NaN
  return static_cast<uint16_t>(round_even(x >> 16, x & 0xffffu, 16));
}

float float_from_bf16(uint16_t bits) { return float_of(static_cast<uint32_t>(bits) << 16); }

}  // namespace mlopt::serving

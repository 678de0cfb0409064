#pragma once
// IEEE half (FP16) and bfloat16 <-> float, round to nearest even: the JSON
// form of FP16/BF16 tensors carries numbers, the model their 16-bit bytes.
#include <cstdint>

namespace mlopt::serving {

// Values beyond FP16's range become infinity (callers refuse them).
uint16_t fp16_from_float(float value);
float float_from_fp16(uint16_t bits);
uint16_t bf16_from_float(float value);
float float_from_bf16(uint16_t bits);

}  // namespace mlopt::serving

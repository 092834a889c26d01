// IEEE 754 binary16 <-> binary32, for bundle tensors stored as TENSOR_DTYPE_F16.
//
// FloatToHalf rounds to nearest, ties to even (the IEEE default), gives +-inf for magnitudes
// that round beyond 65504 and keeps NaN a NaN; HalfToFloat is exact (every binary16 value,
// subnormals included, is a binary32 value). Plain integer code: no F16C instructions, so the
// reader works on any x86-64 and under the fuzzing build's clang.
#ifndef ADASPRING_ENGINE_SRC_BUNDLE_HALF_H_
#define ADASPRING_ENGINE_SRC_BUNDLE_HALF_H_

#include <cstdint>
#include <cstring>

namespace adaspring::engine::bundle_internal {

inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0x1f) {  // inf / NaN
    bits = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {  // normal: rebias 15 -> 127
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {  // +-0
    bits = sign;
  } else {        // subnormal: mant x 2^-24, normalised for binary32
    int e = 113;  // exponent field of 2^-14
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --e;
    }
    bits = sign | (static_cast<uint32_t>(e) << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

inline uint16_t FloatToHalf(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  const uint32_t exp = (bits >> 23) & 0xffu;
  const uint32_t mant = bits & 0x7fffffu;
  if (exp == 0xff) {  // inf / NaN (a NaN keeps a non-zero mantissa)
    return static_cast<uint16_t>(sign | 0x7c00u | (mant != 0 ? 0x200u | (mant >> 13) : 0u));
  }
  const int e = static_cast<int>(exp) - 127 + 15;               // binary16 exponent field
  if (e >= 0x1f) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow -> inf
  if (e <= 0) {
    // Subnormal or zero in binary16: value = m x 2^-24 with m = full mantissa >> shift.
    if (e < -10) return sign;  // below half the smallest subnormal: rounds to 0
    const uint32_t full = mant | 0x800000u;
    const int shift = 14 - e;  // 14..24
    uint32_t m = full >> shift;
    const uint32_t rest = full & ((1u << shift) - 1);
    const uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (m & 1u))) ++m;  // may carry into the normal range
    return static_cast<uint16_t>(sign | m);
  }
  uint32_t h = (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry may reach inf: correct
  return static_cast<uint16_t>(sign | h);
}

}  // namespace adaspring::engine::bundle_internal

#endif  // ADASPRING_ENGINE_SRC_BUNDLE_HALF_H_

// The portable CRC32C path, exposed so that tests can compare it with the hardware one.
#ifndef ADASPRING_ENGINE_SRC_BUNDLE_CRC32C_INTERNAL_H_
#define ADASPRING_ENGINE_SRC_BUNDLE_CRC32C_INTERNAL_H_

#include <cstddef>
#include <cstdint>

namespace adaspring::engine::bundle_internal {

// Raw register update (no pre/post inversion).
uint32_t Crc32cUpdateSoftware(uint32_t state, const uint8_t* p, size_t n);
// Same contract as adaspring::engine::Crc32c, always without the crc32 instruction.
uint32_t Crc32cSoftware(const void* data, size_t size, uint32_t crc = 0);

}  // namespace adaspring::engine::bundle_internal

#endif  // ADASPRING_ENGINE_SRC_BUNDLE_CRC32C_INTERNAL_H_

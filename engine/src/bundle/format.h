// Fixed part of the .asb layout (documented in proto/adaspring/v1/bundle.proto): a 20-byte
// little-endian header, the manifest, then 64-byte aligned tensors.
#ifndef ADASPRING_ENGINE_SRC_BUNDLE_FORMAT_H_
#define ADASPRING_ENGINE_SRC_BUNDLE_FORMAT_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "adaspring/engine/model.h"

namespace adaspring::engine::bundle_internal {

// Tensors are handed out as zero-copy float views of the file, so the host must share the
// file's byte order.
static_assert(std::endian::native == std::endian::little,
              "the .asb tensor section is little-endian and mapped without conversion");

// Fuzz builds (tests/fuzz) define FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, the usual libFuzzer
// convention: CRCs are still computed but a mismatch is not fatal, because a fuzzer cannot
// forge checksums and would otherwise never get past them into the manifest and tensor checks.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
inline constexpr bool kRejectBadChecksums = false;
#else
inline constexpr bool kRejectBadChecksums = true;
#endif

inline constexpr size_t kHeaderBytes = 20;
inline constexpr size_t kVersionOffset = 8, kManifestLengthOffset = 12, kManifestCrcOffset = 16;
// The manifest of resnet18 is a few KB; a larger one is hostile or broken.
inline constexpr uint32_t kMaxManifestBytes = 64u << 20;
// Bounds on a tensor's shape; the real ones (conv OIHW, BN [widths, C]) have rank <= 4.
inline constexpr int kMaxRank = 8;
inline constexpr int64_t kMaxDim = int64_t{1} << 31;

inline uint32_t LoadU32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
inline void StoreU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Validates and decodes a whole bundle held at [data, data + size); `name` prefixes every
// error. The tensors of the returned model point into `data`, kept alive by `keep_alive`
// (nullptr: the caller guarantees the bytes outlive the model, e.g. a check-only parse).
// `widened`, when given, receives the (offset, size) of every float16 tensor: its bytes were
// copied out (widened to float32) and are not referenced by the model.
absl::StatusOr<std::shared_ptr<Model>> DecodeBundle(
    const uint8_t* data, size_t size, const std::string& name,
    std::shared_ptr<const void> keep_alive,
    std::vector<std::pair<uint64_t, uint64_t>>* widened = nullptr);

}  // namespace adaspring::engine::bundle_internal

#endif  // ADASPRING_ENGINE_SRC_BUNDLE_FORMAT_H_

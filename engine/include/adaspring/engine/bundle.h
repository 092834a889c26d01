// Model bundle (.asb) I/O. File layout: proto/adaspring/v1/bundle.proto.
//
// ReadBundle memory-maps the file read-only; the returned Model's tensors point into the
// mapping (kept alive by the Model). Every offset, size, dtype, shape and checksum is validated
// before use: a damaged or hostile file yields INVALID_ARGUMENT (or NOT_FOUND /
// PERMISSION_DENIED for open errors) whose message starts with the path and names the
// problem; it never crashes.
//
// WriteBundle writes to a temporary file in the same directory, fsyncs it and renames it over
// `path`, so readers see either the old or the new bundle, never a torn one.
#ifndef ADASPRING_ENGINE_BUNDLE_H_
#define ADASPRING_ENGINE_BUNDLE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "adaspring/engine/model.h"

namespace adaspring::engine {

inline constexpr char kBundleMagic[8] = {'A', 'S', 'B', 'U', 'N', 'D', 'L', '1'};
inline constexpr uint32_t kBundleFormatVersion = 1;
inline constexpr uint64_t kBundleAlignment = 64;

absl::StatusOr<std::shared_ptr<const Model>> ReadBundle(const std::string& path);
// Parses a bundle held in memory (`name` is used in error messages). The bytes are copied.
absl::StatusOr<std::shared_ptr<const Model>> ParseBundle(std::string_view bytes,
                                                         const std::string& name);
absl::Status WriteBundle(const Model& model, const std::string& path);
// Serialises to bytes (what WriteBundle writes).
absl::StatusOr<std::string> SerializeBundle(const Model& model);

// CRC32C (Castagnoli) as used for the manifest and each tensor.
uint32_t Crc32c(const void* data, size_t size, uint32_t crc = 0);

}  // namespace adaspring::engine

#endif  // ADASPRING_ENGINE_BUNDLE_H_

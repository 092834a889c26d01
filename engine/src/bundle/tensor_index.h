// Validation of a manifest's tensor entries against the file that holds them.
#ifndef ADASPRING_ENGINE_SRC_BUNDLE_TENSOR_INDEX_H_
#define ADASPRING_ENGINE_SRC_BUNDLE_TENSOR_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bundle/manifest_codec.h"

namespace adaspring::engine::bundle_internal {

struct TensorRef {
  std::string name;
  std::vector<int64_t> shape;
  uint64_t offset = 0, size_bytes = 0;
  bool f16 = false;  // TENSOR_DTYPE_F16 (2 bytes per element) rather than F32
};

// Checks every entry: a name, unique; dtype f32 or f16; rank 1..8 with dims 1..2^31 and no
// overflow of their product; size_bytes == numel * 4 (f32) or * 2 (f16); offset 64-aligned, at or
// after `data_begin` (the end of the manifest) and with offset + size within `file_size`; no two
// tensors overlapping; and finally each tensor's CRC32C over `file`. Messages name the tensor and
// the numbers involved; no path prefix.
absl::StatusOr<std::vector<TensorRef>> ValidateTensorEntries(const pb::BundleManifest& manifest,
                                                             const uint8_t* file,
                                                             uint64_t file_size,
                                                             uint64_t data_begin);

}  // namespace adaspring::engine::bundle_internal

#endif  // ADASPRING_ENGINE_SRC_BUNDLE_TENSOR_INDEX_H_

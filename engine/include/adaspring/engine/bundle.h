// Model bundle (.asb) I/O. File layout: proto/adaspring/v1/bundle.proto.
//
// ReadBundle memory-maps the file read-only; the returned Model's float32 tensors point into
// the mapping (kept alive by the Model, via TensorStore::SetKeepAlive); float16 tensors
// (TENSOR_DTYPE_F16, see RoundWeightsToF16) are widened into owned float32 copies, and their
// pages of the mapping are given back (MADV_DONTNEED). Every offset,
// size, dtype, shape and checksum is validated before use: a damaged or hostile file yields
// INVALID_ARGUMENT (or NOT_FOUND / PERMISSION_DENIED for open errors) whose message starts
// with the path and names the problem; it never crashes. What is checked, in order:
//   header (size, magic, version, manifest length, manifest CRC32C), manifest (protobuf parse,
//   format_version, architecture via ValidateArch), tensor entries (name unique, dtype f32
//   or f16, rank 1..8, dims 1..2^31, no overflow, size_bytes == numel * 4 (f32) or * 2 (f16),
//   offset 64-aligned and after the manifest, inside the file, no overlaps, CRC32C), tensors
//   against the architecture (Model::CheckTensors: present, right shape, finite, variances >= 0),
//   labels (one per class), input spec (shape, NCHW, one mean and one std > 0 per channel),
//   calibration scales (finite, >= 0), predictor (AccuracyPredictor::Validate) and measured
//   configurations (parse, accuracy in [0, 1], split "val" | "test").
// A tensor the architecture does not use is REJECTED, not ignored ("unexpected tensor"): such
// a bundle was almost certainly written for another architecture.
// Contract: a mapped bundle must not be truncated or rewritten in place while a Model uses it
// (reads would fault); WriteBundle never does that, it renames a new file over the old one.
//
// WriteBundle writes to a temporary file in the same directory, fsyncs it and renames it over
// `path` (then fsyncs the directory), so readers see either the old or the new bundle, never
// a torn one; on failure the temporary file is removed and the old file is untouched. Errors:
// NOT_FOUND (directory missing), PERMISSION_DENIED, RESOURCE_EXHAUSTED (disk full, file-size
// limit), INVALID_ARGUMENT (a model that would not read back; see SerializeBundle).
//
// SerializeBundle checks its output with the reader's validation, so it never produces bytes
// ReadBundle would refuse; the bytes are deterministic for a given model.
//
// Thread safety: all functions are thread-safe (no shared state).
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

// A copy of `model` whose convolution and fully connected weights (tensors named "*.weight")
// are rounded to the nearest IEEE binary16 value and marked TensorStorage::kF16: bundles
// written from it store those tensors in half the bytes, and read back bit-identical to the
// copy (batch-norm statistics and biases stay float32). Calibration, predictor and measured
// table are copied unchanged: measure the copy, not the original, when they must describe the
// stored weights. OUT_OF_RANGE, naming the tensor, when a weight's magnitude rounds beyond
// binary16's largest finite value (65504). Idempotent.
absl::StatusOr<std::shared_ptr<Model>> RoundWeightsToF16(const Model& model);

// CRC32C (Castagnoli) as used for the manifest and each tensor.
uint32_t Crc32c(const void* data, size_t size, uint32_t crc = 0);

}  // namespace adaspring::engine

#endif  // ADASPRING_ENGINE_BUNDLE_H_

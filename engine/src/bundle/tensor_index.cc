#include "bundle/tensor_index.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "adaspring/engine/bundle.h"
#include "bundle/format.h"

namespace adaspring::engine::bundle_internal {
namespace {

template <typename... Parts>
absl::Status Bad(const Parts&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(parts...));
}

std::string Range(uint64_t offset, uint64_t size) {
  // offset + size may wrap for hostile values; print the parts instead of the sum then.
  if (size > UINT64_MAX - offset) return absl::StrCat("[", offset, ", ", offset, "+", size, ")");
  return absl::StrCat("[", offset, ", ", offset + size, ")");
}

absl::StatusOr<TensorRef> CheckEntry(const pb::TensorEntry& e, uint64_t file_size,
                                     uint64_t data_begin) {
  TensorRef t;
  t.name = e.name();
  const std::string q = absl::StrCat("tensor '", t.name, "'");
  if (e.dtype() != pb::TENSOR_DTYPE_F32 && e.dtype() != pb::TENSOR_DTYPE_F16)
    return Bad(q, " has dtype ", e.dtype(),
               ", expected TENSOR_DTYPE_F32 (1) or TENSOR_DTYPE_F16 (2)");
  t.f16 = e.dtype() == pb::TENSOR_DTYPE_F16;
  const uint64_t elem = t.f16 ? 2 : 4;
  if (e.shape_size() < 1 || e.shape_size() > kMaxRank)
    return Bad(q, " has rank ", e.shape_size(), ", expected 1..", kMaxRank);
  uint64_t numel = 1;
  for (int i = 0; i < e.shape_size(); ++i) {
    const int64_t d = e.shape(i);
    if (d < 1 || d > kMaxDim)
      return Bad(q, " has dimension ", i, " = ", d, ", expected 1..", kMaxDim);
    if (__builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel) || numel > file_size / elem)
      return Bad(q, " has an absurd shape [", absl::StrJoin(e.shape(), ","),
                 "]: more elements than the file (", file_size, " bytes) can hold");
  }
  t.shape.assign(e.shape().begin(), e.shape().end());
  if (e.size_bytes() != numel * elem)
    return Bad(q, " has size_bytes ", e.size_bytes(), ", but its shape [",
               absl::StrJoin(t.shape, ","), "] needs ", numel, " x ", elem, " = ", numel * elem,
               t.f16 ? " (float16)" : "");
  t.offset = e.offset();
  t.size_bytes = e.size_bytes();
  if (t.offset % kBundleAlignment != 0)
    return Bad(q, " offset ", t.offset, " is not ", kBundleAlignment, "-byte aligned");
  if (t.offset < data_begin)
    return Bad(q, " offset ", t.offset, " lies inside the header and manifest (which end at ",
               data_begin, ")");
  if (t.offset > file_size || t.size_bytes > file_size - t.offset)
    return Bad(q, " at ", Range(t.offset, t.size_bytes), " extends past the end of the file (",
               file_size, " bytes; truncated?)");
  return t;
}

}  // namespace

absl::StatusOr<std::vector<TensorRef>> ValidateTensorEntries(const pb::BundleManifest& manifest,
                                                             const uint8_t* file,
                                                             uint64_t file_size,
                                                             uint64_t data_begin) {
  std::vector<TensorRef> refs;
  std::set<std::string> names;
  for (int i = 0; i < manifest.tensors_size(); ++i) {
    const pb::TensorEntry& e = manifest.tensors(i);
    if (e.name().empty()) return Bad("tensor entry ", i, " has no name");
    if (!names.insert(e.name()).second) return Bad("tensor '", e.name(), "' is listed twice");
    auto ref = CheckEntry(e, file_size, data_begin);
    if (!ref.ok()) return ref.status();
    refs.push_back(std::move(*ref));
  }
  // Overlap: after sorting by offset, each tensor must end before the next begins (sizes are
  // >= 2 bytes, so equal offsets overlap too).
  std::vector<const TensorRef*> by_offset;
  for (const TensorRef& r : refs) by_offset.push_back(&r);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorRef* a, const TensorRef* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const TensorRef& a = *by_offset[i - 1];
    const TensorRef& b = *by_offset[i];
    if (a.offset + a.size_bytes > b.offset)
      return Bad("tensors '", a.name, "' ", Range(a.offset, a.size_bytes), " and '", b.name, "' ",
                 Range(b.offset, b.size_bytes), " overlap");
  }
  // Checksums last: everything above is cheap, this reads every byte.
  for (int i = 0; i < manifest.tensors_size(); ++i) {
    const TensorRef& r = refs[i];
    const uint32_t computed = Crc32c(file + r.offset, r.size_bytes);
    const uint32_t stored = manifest.tensors(i).crc32c();
    if (computed != stored && kRejectBadChecksums)
      return Bad(absl::StrFormat("tensor '%s' checksum mismatch (stored 0x%08x, computed 0x%08x)",
                                 r.name, stored, computed));
  }
  return refs;
}

}  // namespace adaspring::engine::bundle_internal

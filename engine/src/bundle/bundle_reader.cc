// ReadBundle / ParseBundle: validate everything, then hand out zero-copy tensor views (float16
// tensors are widened into owned copies).
#include <cstring>
#include <new>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adaspring/engine/bundle.h"
#include "bundle/format.h"
#include "bundle/half.h"
#include "bundle/manifest_codec.h"
#include "bundle/posix_file.h"
#include "bundle/tensor_index.h"

namespace adaspring::engine {
namespace bundle_internal {
namespace {

std::string Hex(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) absl::StrAppendFormat(&s, "%s%02x", i ? " " : "", p[i]);
  return s;
}

// Header checks; on success `manifest` holds the parsed manifest and `data_begin` the first
// byte after it.
absl::Status DecodeHeader(const uint8_t* data, size_t size, pb::BundleManifest* manifest,
                          uint64_t* data_begin) {
  auto bad = [](auto&&... parts) { return absl::InvalidArgumentError(absl::StrCat(parts...)); };
  if (size == 0) return bad("file is empty (0 bytes)");
  if (size < kHeaderBytes)
    return bad("truncated: file is ", size, " bytes, shorter than the ", kHeaderBytes,
               "-byte header");
  if (std::memcmp(data, kBundleMagic, sizeof(kBundleMagic)) != 0)
    return bad("bad magic (not a model bundle): starts with ", Hex(data, sizeof(kBundleMagic)),
               ", expected \"ASBUNDL1\"");
  const uint32_t version = LoadU32(data + kVersionOffset);
  if (version != kBundleFormatVersion)
    return bad("unsupported format version ", version, " (this build reads version ",
               kBundleFormatVersion, ")");
  const uint32_t length = LoadU32(data + kManifestLengthOffset);
  if (length > kMaxManifestBytes)
    return bad("manifest length ", length, " exceeds the limit of ", kMaxManifestBytes, " bytes");
  if (length > size - kHeaderBytes)
    return bad("truncated: manifest length ", length, " needs ", kHeaderBytes + length,
               " bytes, file has ", size);
  const uint8_t* bytes = data + kHeaderBytes;
  const uint32_t stored = LoadU32(data + kManifestCrcOffset);
  const uint32_t computed = Crc32c(bytes, length);
  if (stored != computed && kRejectBadChecksums)
    return bad(absl::StrFormat("manifest checksum mismatch (stored 0x%08x, computed 0x%08x)",
                               stored, computed));
  if (!manifest->ParseFromArray(bytes, static_cast<int>(length)))
    return bad("manifest (", length, " bytes) is not a valid BundleManifest protobuf");
  if (manifest->format_version() != version)
    return bad("manifest format_version ", manifest->format_version(),
               " disagrees with the header's version ", version);
  *data_begin = kHeaderBytes + uint64_t{length};
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Model>> Decode(const uint8_t* data, size_t size,
                                              std::shared_ptr<const void> keep_alive,
                                              std::vector<std::pair<uint64_t, uint64_t>>* widened) {
  pb::BundleManifest manifest;
  uint64_t data_begin = 0;
  if (absl::Status s = DecodeHeader(data, size, &manifest, &data_begin); !s.ok()) return s;
  if (!manifest.has_architecture())
    return absl::InvalidArgumentError("manifest has no architecture");
  auto arch = ArchFromProto(manifest.architecture());
  if (!arch.ok()) return arch.status();
  auto refs = ValidateTensorEntries(manifest, data, size, data_begin);
  if (!refs.ok()) return refs.status();

  // Tensors the architecture does not use are rejected rather than ignored: such a bundle
  // was almost certainly written for a different architecture (or hand-edited), and serving
  // it would hide that.
  const ConfigSpace space(*arch);
  std::set<std::string> expected;
  for (const auto& [name, shape] : Model::ExpectedTensors(space.net())) expected.insert(name);
  TensorStore store;
  for (const TensorRef& r : *refs) {
    if (expected.count(r.name) == 0)
      return absl::InvalidArgumentError(absl::StrCat(
          "unexpected tensor '", r.name, "': architecture '", arch->name, "' has no such tensor"));
    if (r.f16) {
      std::vector<float> wide(r.size_bytes / 2);
      for (size_t i = 0; i < wide.size(); ++i) {
        uint16_t h;
        std::memcpy(&h, data + r.offset + 2 * i, sizeof(h));
        wide[i] = HalfToFloat(h);
      }
      store.Add(r.name, r.shape, std::move(wide), TensorStorage::kF16);
      if (widened != nullptr) widened->emplace_back(r.offset, r.size_bytes);
    } else {
      store.AddView(r.name, r.shape, reinterpret_cast<const float*>(data + r.offset));
    }
  }
  store.SetKeepAlive(std::move(keep_alive));

  auto extras = ExtrasFromManifest(manifest, space);
  if (!extras.ok()) return extras.status();
  auto model = std::make_shared<Model>(*arch, std::move(extras->meta), std::move(store));
  // Presence, shapes against the architecture, finite values, variances >= 0.
  if (absl::Status s = model->CheckTensors(); !s.ok())
    return absl::InvalidArgumentError(s.message());
  model->activation_amax = std::move(extras->activation_amax);
  model->predictor = std::move(extras->predictor);
  model->measured = std::move(extras->measured);
  return model;
}

}  // namespace

absl::StatusOr<std::shared_ptr<Model>> DecodeBundle(
    const uint8_t* data, size_t size, const std::string& name,
    std::shared_ptr<const void> keep_alive, std::vector<std::pair<uint64_t, uint64_t>>* widened) {
  auto model = Decode(data, size, std::move(keep_alive), widened);
  if (!model.ok())
    return absl::Status(model.status().code(), absl::StrCat(name, ": ", model.status().message()));
  return model;
}

}  // namespace bundle_internal

absl::StatusOr<std::shared_ptr<const Model>> ReadBundle(const std::string& path) {
  auto file = bundle_internal::MapReadOnly(path);
  if (!file.ok()) return file.status();
  std::vector<std::pair<uint64_t, uint64_t>> widened;
  auto model =
      bundle_internal::DecodeBundle(file->data, file->size, path, file->keep_alive, &widened);
  if (!model.ok()) return model.status();
  // The float16 bytes were read once to widen them; their pages need not stay resident.
  for (const auto& [offset, bytes] : widened) bundle_internal::DropPages(*file, offset, bytes);
  (*model)->source_path = path;
  return std::shared_ptr<const Model>(std::move(*model));
}

absl::StatusOr<std::shared_ptr<const Model>> ParseBundle(std::string_view bytes,
                                                         const std::string& name) {
  // A 64-byte aligned copy, so the tensor views are as aligned as in a mapped file.
  constexpr std::align_val_t kAlign{kBundleAlignment};
  std::shared_ptr<const void> buffer;
  const uint8_t* data = nullptr;
  if (!bytes.empty()) {
    auto* p = static_cast<uint8_t*>(::operator new(bytes.size(), kAlign));
    std::memcpy(p, bytes.data(), bytes.size());
    buffer = std::shared_ptr<const void>(p, [](const void* q) {
      ::operator delete (const_cast<void*>(q), std::align_val_t{kBundleAlignment});
    });
    data = p;
  }
  auto model = bundle_internal::DecodeBundle(data, bytes.size(), name, std::move(buffer));
  if (!model.ok()) return model.status();
  return std::shared_ptr<const Model>(std::move(*model));
}

}  // namespace adaspring::engine

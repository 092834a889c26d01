// SerializeBundle / WriteBundle.
#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "adaspring/engine/bundle.h"
#include "bundle/format.h"
#include "bundle/half.h"
#include "bundle/manifest_codec.h"
#include "bundle/posix_file.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace adaspring::engine {
namespace {

namespace pb = ::adaspring::v1::bundle;

// Deterministic, so that the same model always gives the same bytes (map order included).
std::string SerializeDeterministic(const pb::BundleManifest& manifest) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    manifest.SerializeToCodedStream(&coded);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> SerializeBundle(const Model& model) {
  using namespace bundle_internal;  // NOLINT: format constants and helpers
  pb::BundleManifest manifest;
  manifest.set_format_version(kBundleFormatVersion);
  ModelToManifest(model, &manifest);
  // Tensors in name order (TensorStore's order), each 64-byte aligned. Float16 ones are
  // narrowed here (round to nearest even; exact for RoundWeightsToF16's values).
  const auto& entries = model.tensors().entries();
  std::vector<std::vector<uint16_t>> halves;  // the narrowed tensors' bytes
  std::vector<const void*> sources;           // each entry's bytes, in manifest order
  halves.reserve(entries.size());             // no reallocation while `sources` points into it
  for (const auto& [name, e] : entries) {
    pb::TensorEntry* t = manifest.add_tensors();
    t->set_name(name);
    for (int64_t d : e.shape) t->add_shape(d);
    if (e.storage == TensorStorage::kF16) {
      std::vector<uint16_t>& h = halves.emplace_back(static_cast<size_t>(e.numel));
      for (size_t i = 0; i < h.size(); ++i) h[i] = FloatToHalf(e.data[i]);
      t->set_dtype(pb::TENSOR_DTYPE_F16);
      t->set_size_bytes(h.size() * sizeof(uint16_t));
      sources.push_back(h.data());
    } else {
      t->set_dtype(pb::TENSOR_DTYPE_F32);
      t->set_size_bytes(static_cast<uint64_t>(e.numel) * sizeof(float));
      sources.push_back(e.data);
    }
    t->set_crc32c(Crc32c(sources.back(), t->size_bytes()));
  }
  // The offsets are inside the manifest, whose length moves the offsets: iterate until the
  // tensor section starts after the manifest. Offsets only grow, so this settles in a few
  // rounds (any gap left before the first tensor is zero padding, allowed by the format).
  uint64_t data_begin = AlignUp(kHeaderBytes, kBundleAlignment);
  std::string bytes;
  for (;;) {
    uint64_t offset = data_begin;
    for (pb::TensorEntry& t : *manifest.mutable_tensors()) {
      t.set_offset(offset);
      offset = AlignUp(offset + t.size_bytes(), kBundleAlignment);
    }
    bytes = SerializeDeterministic(manifest);
    const uint64_t needed = AlignUp(kHeaderBytes + bytes.size(), kBundleAlignment);
    if (needed <= data_begin) break;
    data_begin = needed;
  }
  if (bytes.size() > kMaxManifestBytes)
    return absl::InvalidArgumentError(
        absl::StrCat("bundle manifest of ", bytes.size(), " bytes exceeds the format's limit"));

  uint64_t total = data_begin;
  if (manifest.tensors_size() > 0) {
    const pb::TensorEntry& last = manifest.tensors(manifest.tensors_size() - 1);
    total = last.offset() + last.size_bytes();
  }
  std::string out(total, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  std::memcpy(p, kBundleMagic, sizeof(kBundleMagic));
  StoreU32(p + kVersionOffset, kBundleFormatVersion);
  StoreU32(p + kManifestLengthOffset, static_cast<uint32_t>(bytes.size()));
  StoreU32(p + kManifestCrcOffset, Crc32c(bytes.data(), bytes.size()));
  std::memcpy(p + kHeaderBytes, bytes.data(), bytes.size());
  for (int i = 0; i < manifest.tensors_size(); ++i) {
    const pb::TensorEntry& t = manifest.tensors(i);
    if (t.size_bytes() > 0) std::memcpy(p + t.offset(), sources[i], t.size_bytes());
  }

  // Never write what ReadBundle would refuse: decode the result with the reader's checks
  // (no copy; the model is dropped at once).
  const std::string label =
      model.meta().name.empty() ? std::string("bundle") : "bundle of '" + model.meta().name + "'";
  auto check = DecodeBundle(p, out.size(), label, nullptr);
  if (!check.ok()) return check.status();
  return out;
}

absl::Status WriteBundle(const Model& model, const std::string& path) {
  auto bytes = SerializeBundle(model);
  if (!bytes.ok())
    return absl::Status(bytes.status().code(),
                        absl::StrCat(path, ": not written: ", bytes.status().message()));
  return bundle_internal::WriteFileAtomically(path, *bytes);
}

}  // namespace adaspring::engine

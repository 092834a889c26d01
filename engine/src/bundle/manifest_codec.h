// Conversion between the engine's model types and the bundle manifest (bundle.proto).
// Private to the engine: the generated proto header must not reach engine/include.
#ifndef ADASPRING_ENGINE_SRC_BUNDLE_MANIFEST_CODEC_H_
#define ADASPRING_ENGINE_SRC_BUNDLE_MANIFEST_CODEC_H_

#include "absl/status/statusor.h"
#include "adaspring/engine/arch.h"
#include "adaspring/engine/model.h"
#include "adaspring/v1/bundle.pb.h"

namespace adaspring::engine::bundle_internal {

namespace pb = ::adaspring::v1::bundle;

void ArchToProto(const ArchSpec& arch, pb::Architecture* out);
// INVALID_ARGUMENT for unspecified/unknown enums or values ValidateArch rejects; messages
// start with "architecture".
absl::StatusOr<ArchSpec> ArchFromProto(const pb::Architecture& in);

// Everything except the tensor entries: meta, input spec, architecture, amax, predictor,
// measured table, provenance.
void ModelToManifest(const Model& model, pb::BundleManifest* out);

// The metadata parts of a manifest, validated against `space` (labels per class, one mean
// and std > 0 per input channel, finite calibration scales, a predictor that fits the space,
// measured configurations that parse). Messages name the field; no path prefix.
struct ManifestExtras {
  ModelMeta meta;
  std::map<std::string, float> activation_amax;
  std::optional<PredictorParams> predictor;
  std::vector<MeasuredConfig> measured;
};
absl::StatusOr<ManifestExtras> ExtrasFromManifest(const pb::BundleManifest& in,
                                                  const ConfigSpace& space);

}  // namespace adaspring::engine::bundle_internal

#endif  // ADASPRING_ENGINE_SRC_BUNDLE_MANIFEST_CODEC_H_

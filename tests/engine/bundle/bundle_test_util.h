// Helpers for the bundle tests: a tiny architecture, a model carrying every kind of metadata,
// temporary directories and a way to edit a serialised bundle's manifest in place.
#ifndef ADASPRING_TESTS_ENGINE_BUNDLE_BUNDLE_TEST_UTIL_H_
#define ADASPRING_TESTS_ENGINE_BUNDLE_BUNDLE_TEST_UTIL_H_

#include <functional>
#include <memory>
#include <string>

#include "adaspring/engine/model.h"
#include "adaspring/v1/bundle.pb.h"

namespace adaspring::engine::testing {

namespace pb = ::adaspring::v1::bundle;

// 1x8x8 input, stem 8, stages {8 x 2, stride 1} and {16 x 1, stride 2}, 3 classes, widths
// {50, 100}, ranks {1, 2}: a bundle of a few KB.
ArchSpec TinyArch();

// Model::Random plus labels, normalisation, provenance (with a long `command`, which leaves
// room for EditManifest), activation scales, a predictor and a measured table.
std::shared_ptr<Model> FullModel(const ArchSpec& arch, uint64_t seed);

// A fresh empty directory under the test temp dir.
std::string MakeTempDir(const std::string& tag);
std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& bytes);

// Parses the manifest of a valid serialised bundle, clears provenance.command (making room),
// applies `edit`, and writes the manifest back with a correct length and CRC while leaving
// the tensor section where it is. Fails the test if the edited manifest does not fit.
std::string EditManifest(const std::string& bundle,
                         const std::function<void(pb::BundleManifest&)>& edit);
pb::BundleManifest ManifestOf(const std::string& bundle);
// Index of the tensor entry `name` in the manifest (-1 when absent).
int EntryIndex(const pb::BundleManifest& m, const std::string& name);
// Overwrites element `index` of tensor `name` and fixes that tensor's CRC, so that only the
// value check can object.
std::string SetFloat(const std::string& bundle, const std::string& name, int64_t index,
                     float value);

}  // namespace adaspring::engine::testing

#endif  // ADASPRING_TESTS_ENGINE_BUNDLE_BUNDLE_TEST_UTIL_H_

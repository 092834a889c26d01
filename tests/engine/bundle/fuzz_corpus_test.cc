// The seed corpus of the bundle fuzzer (tests/fuzz/corpus/bundle/) is generated here, and
// checked: valid seeds must equal what the writer produces today (a golden test of the
// format: a change to the layout fails here until the corpus is regenerated) and damaged seeds
// must be rejected. Regenerate with:
//   ADASPRING_WRITE_FUZZ_CORPUS=1 engine_tests --gtest_filter='FuzzCorpusTest.*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include "adaspring/engine/bundle.h"
#include "engine/bundle/bundle_test_util.h"

namespace adaspring::engine {
namespace {

using testing::EditManifest;
using testing::ManifestOf;
using testing::ReadFileOrDie;
using testing::WriteFileOrDie;

// The smallest useful supernets: a few KB per bundle, so that the fuzzer runs fast.
ArchSpec MicroArch(bool inverted) {
  ArchSpec a;
  a.name = inverted ? "micro-inverted" : "micro";
  a.in_channels = 1;
  a.in_height = a.in_width = 4;
  a.num_classes = 2;
  a.stem_channels = 4;
  a.stages = {{4, 2, 1, inverted ? 2 : 1}};
  a.width_percent = {50, 100};
  a.rank_divisors = {1, 2};
  if (inverted) {
    a.block_kind = BlockKind::kInverted;
    a.activation = Activation::kRelu6;
    a.head_channels = 8;
  }
  return a;
}

std::shared_ptr<Model> Micro(bool inverted, bool extras) {
  auto m = Model::Random(MicroArch(inverted), 1);
  if (!extras) return m;
  m->activation_amax = {{"stem.out", 2.0f}};
  PredictorParams p;
  p.kind = "ridge";
  p.feature_names = {"int8"};
  p.coefficients = {-0.01};
  p.intercept = 0.8;
  m->predictor = p;
  m->measured = {{m->space().ToText(m->space().Full()), 0.9, "val", false}};
  return m;
}

std::map<std::string, std::string> ExpectedCorpus() {
  std::map<std::string, std::string> c;
  auto ser = [](const Model& m) {
    auto b = SerializeBundle(m);
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *b : std::string();
  };
  const std::string valid = ser(*Micro(false, true));
  c["valid_micro.asb"] = valid;
  c["valid_micro_plain.asb"] = ser(*Micro(false, false));
  c["valid_micro_inverted.asb"] = ser(*Micro(true, true));
  auto f16 = RoundWeightsToF16(*Micro(false, true));  // float16 weight tensors
  EXPECT_TRUE(f16.ok()) << f16.status();
  if (f16.ok()) c["valid_micro_f16.asb"] = ser(**f16);
  const uint64_t manifest_end = 20 + ManifestOf(valid).ByteSizeLong();
  c["bad_truncated_header.asb"] = valid.substr(0, 13);
  c["bad_truncated_manifest.asb"] = valid.substr(0, manifest_end - 9);
  c["bad_truncated_tensor.asb"] = valid.substr(0, valid.size() - 3);
  std::string b = valid;
  b[2] = 'x';
  c["bad_magic.asb"] = b;
  b = valid;
  b[30] ^= 4;
  c["bad_manifest_crc.asb"] = b;
  b = valid;
  b[b.size() - 2] ^= 4;
  c["bad_tensor_crc.asb"] = b;
  c["bad_overlap.asb"] = EditManifest(valid, [](testing::pb::BundleManifest& m) {
    m.mutable_tensors(1)->set_offset(m.tensors(0).offset());
  });
  return c;
}

std::string CorpusDir() { return std::string(ADASPRING_SOURCE_DIR) + "/tests/fuzz/corpus/bundle"; }

TEST(FuzzCorpusTest, SeedsAreCurrentAndClassifiedCorrectly) {
  const auto corpus = ExpectedCorpus();
  size_t total = 0;
  for (const auto& [name, bytes] : corpus) total += bytes.size();
  EXPECT_LT(total, 100u << 10);
  if (const char* w = std::getenv("ADASPRING_WRITE_FUZZ_CORPUS"); w && std::string(w) == "1") {
    std::filesystem::create_directories(CorpusDir());
    for (const auto& [name, bytes] : corpus) WriteFileOrDie(CorpusDir() + "/" + name, bytes);
  }
  for (const auto& [name, bytes] : corpus) {
    const std::string path = CorpusDir() + "/" + name;
    ASSERT_TRUE(std::filesystem::exists(path)) << path << " missing: regenerate (see top)";
    EXPECT_EQ(ReadFileOrDie(path), bytes) << name << " is stale: regenerate (see top)";
    auto r = ReadBundle(path);
    EXPECT_EQ(r.ok(), name.rfind("valid_", 0) == 0) << name << ": " << r.status();
  }
}

}  // namespace
}  // namespace adaspring::engine

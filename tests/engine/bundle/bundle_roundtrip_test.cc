// Write -> read round trips: bit-exact tensors and every piece of metadata.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "adaspring/engine/bundle.h"
#include "adaspring/engine/predictor.h"
#include "engine/bundle/bundle_test_util.h"

namespace adaspring::engine {
namespace {

using testing::FullModel;
using testing::MakeTempDir;
using testing::ReadFileOrDie;
using testing::TinyArch;

void ExpectSameModel(const Model& a, const Model& b) {
  EXPECT_EQ(a.arch().name, b.arch().name);
  EXPECT_EQ(b.space().ToText(b.space().Full()), a.space().ToText(a.space().Full()));
  EXPECT_EQ(a.net().blocks.size(), b.net().blocks.size());
  EXPECT_EQ(a.arch().width_percent, b.arch().width_percent);
  EXPECT_EQ(a.arch().rank_divisors, b.arch().rank_divisors);
  EXPECT_EQ(a.arch().stem_max_pool, b.arch().stem_max_pool);
  EXPECT_EQ(a.arch().block_kind, b.arch().block_kind);
  EXPECT_EQ(a.arch().activation, b.arch().activation);
  EXPECT_EQ(a.arch().head_channels, b.arch().head_channels);

  const ModelMeta &ma = a.meta(), &mb = b.meta();
  EXPECT_EQ(ma.name, mb.name);
  EXPECT_EQ(ma.version, mb.version);
  EXPECT_EQ(ma.task, mb.task);
  EXPECT_EQ(ma.labels, mb.labels);
  EXPECT_EQ(ma.mean, mb.mean);
  EXPECT_EQ(ma.std, mb.std);
  EXPECT_EQ(ma.provenance.dataset, mb.provenance.dataset);
  EXPECT_EQ(ma.provenance.commit, mb.provenance.commit);
  EXPECT_EQ(ma.provenance.command, mb.provenance.command);
  EXPECT_EQ(ma.provenance.created, mb.provenance.created);
  EXPECT_EQ(ma.provenance.seed, mb.provenance.seed);
  EXPECT_EQ(ma.provenance.epochs, mb.provenance.epochs);
  EXPECT_EQ(ma.provenance.train_seconds, mb.provenance.train_seconds);
  EXPECT_EQ(ma.provenance.table_split, mb.provenance.table_split);

  EXPECT_EQ(a.activation_amax, b.activation_amax);
  ASSERT_EQ(a.predictor.has_value(), b.predictor.has_value());
  if (a.predictor) {
    const PredictorParams &pa = *a.predictor, &pb = *b.predictor;
    EXPECT_EQ(pa.kind, pb.kind);
    EXPECT_EQ(pa.feature_names, pb.feature_names);
    EXPECT_EQ(pa.coefficients, pb.coefficients);  // doubles, bit-exact
    EXPECT_EQ(pa.intercept, pb.intercept);
    EXPECT_EQ(pa.kendall_tau, pb.kendall_tau);
    EXPECT_EQ(pa.mae_pt, pb.mae_pt);
    EXPECT_EQ(pa.fitted_configs, pb.fitted_configs);
    EXPECT_EQ(pa.heldout_configs, pb.heldout_configs);
    EXPECT_EQ(pa.target, pb.target);
    EXPECT_EQ(pa.kernel_feature_names, pb.kernel_feature_names);
    EXPECT_EQ(pa.kernel_scales, pb.kernel_scales);  // bit-exact
    EXPECT_EQ(pa.support_configs, pb.support_configs);
    EXPECT_EQ(pa.dual_coefficients, pb.dual_coefficients);  // bit-exact
    EXPECT_EQ(pa.kernel_gamma, pb.kernel_gamma);
    EXPECT_EQ(pa.kernel_lambda, pb.kernel_lambda);
  }
  ASSERT_EQ(a.measured.size(), b.measured.size());
  for (size_t i = 0; i < a.measured.size(); ++i) {
    EXPECT_EQ(a.measured[i].config, b.measured[i].config);
    EXPECT_EQ(a.measured[i].accuracy, b.measured[i].accuracy);
    EXPECT_EQ(a.measured[i].split, b.measured[i].split);
    EXPECT_EQ(a.measured[i].heldout, b.measured[i].heldout);
  }

  ASSERT_EQ(a.tensors().entries().size(), b.tensors().entries().size());
  for (const auto& [name, ea] : a.tensors().entries()) {
    const TensorStore::Entry* eb = b.tensors().Find(name);
    ASSERT_NE(eb, nullptr) << name;
    EXPECT_EQ(ea.shape, eb->shape) << name;
    ASSERT_EQ(ea.numel, eb->numel) << name;
    EXPECT_EQ(std::memcmp(ea.data, eb->data, ea.numel * sizeof(float)), 0) << name;
  }
}

TEST(BundleRoundTripTest, TinyInMemoryIsBitExactAndStable) {
  auto model = FullModel(TinyArch(), 1);
  auto bytes = SerializeBundle(*model);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_LT(bytes->size(), 32u << 10);
  auto read = ParseBundle(*bytes, "mem.asb");
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSameModel(*model, **read);
  EXPECT_EQ((*read)->source_path, "");
  // Serialising what was read gives the same bytes (deterministic manifest, same layout).
  auto again = SerializeBundle(**read);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *bytes);
}

TEST(BundleRoundTripTest, Smallres28ThroughAFile) {
  auto arch = BuiltinArch("smallres28");
  ASSERT_TRUE(arch.ok());
  auto model = FullModel(*arch, 28);
  const std::string path = MakeTempDir("rt") + "/smallres28.asb";
  ASSERT_TRUE(WriteBundle(*model, path).ok());
  auto read = ReadBundle(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSameModel(*model, **read);
  EXPECT_EQ((*read)->source_path, path);
  // Zero-copy views into the mapping, as aligned as the format promises.
  for (const auto& [name, e] : (*read)->tensors().entries())
    EXPECT_EQ(reinterpret_cast<uintptr_t>(e.data) % kBundleAlignment, 0u) << name;
  auto bytes = SerializeBundle(**read);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, ReadFileOrDie(path));
}

TEST(BundleRoundTripTest, Resnet18ThroughAFile) {
  auto arch = BuiltinArch("resnet18");
  ASSERT_TRUE(arch.ok());
  auto model = Model::Random(*arch, 18);
  model->activation_amax["stem.out"] = 12.5f;
  const std::string path = MakeTempDir("rt18") + "/resnet18.asb";
  ASSERT_TRUE(WriteBundle(*model, path).ok());
  auto read = ReadBundle(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSameModel(*model, **read);
  EXPECT_FALSE((*read)->predictor.has_value());
}

TEST(BundleRoundTripTest, MobileNetV2InMemory) {
  auto arch = BuiltinArch("mobilenetv2");
  ASSERT_TRUE(arch.ok());
  auto model = FullModel(*arch, 2);
  auto bytes = SerializeBundle(*model);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto read = ParseBundle(*bytes, "mbv2.asb");
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSameModel(*model, **read);
}

TEST(BundleRoundTripTest, FittedPredictorSurvivesAndPredictsTheSame) {
  auto model = FullModel(TinyArch(), 3);
  const ConfigSpace& space = model->space();
  std::mt19937_64 rng(5);
  std::vector<std::pair<Config, double>> fitted, heldout;
  for (int i = 0; i < 80; ++i) {
    Config c = space.Sample(rng);
    double acc = 0.5 + 0.1 * AccuracyPredictor::Features(space, c)[0] + 0.001 * (i % 7);
    (i < 60 ? fitted : heldout).push_back({c, acc});
  }
  auto params = AccuracyPredictor::Fit(space, fitted, heldout, 0.1);
  ASSERT_TRUE(params.ok()) << params.status();
  model->predictor = *params;
  auto bytes = SerializeBundle(*model);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto read = ParseBundle(*bytes, "p.asb");
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSameModel(*model, **read);
  const AccuracyPredictor before(space, *params), after((*read)->space(), *(*read)->predictor);
  for (const auto& [c, acc] : heldout) EXPECT_EQ(before.Predict(c), after.Predict(c));
}

// 80 random configurations of the tiny architecture with a smooth made-up accuracy: 60 to
// fit a predictor on, 20 held out.
using Table = std::vector<std::pair<Config, double>>;
std::pair<Table, Table> TinyTable(const ConfigSpace& space, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Table fitted, heldout;
  for (int i = 0; i < 80; ++i) {
    Config c = space.Sample(rng);
    const std::vector<double> x = AccuracyPredictor::Features(space, c);
    double acc = 0.9 - 0.2 * std::exp(-3 * x[0]) + 0.001 * (i % 7);
    (i < 60 ? fitted : heldout).push_back({c, acc});
  }
  return {fitted, heldout};
}

// Stores `params` in `model`, writes and parses the bundle, and checks the parsed predictor is
// of `kind` and predicts bit for bit what the original does; returns the parsed model.
std::shared_ptr<const Model> ExpectPredictorRoundTrip(std::shared_ptr<Model> model,
                                                      const PredictorParams& params,
                                                      const std::string& kind) {
  const ConfigSpace& space = model->space();
  model->predictor = params;
  auto bytes = SerializeBundle(*model);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  if (!bytes.ok()) return nullptr;
  auto read = ParseBundle(*bytes, kind + ".asb");
  EXPECT_TRUE(read.ok()) << read.status();
  if (!read.ok()) return nullptr;
  ExpectSameModel(*model, **read);
  const AccuracyPredictor before(space, params), after((*read)->space(), *(*read)->predictor);
  EXPECT_EQ(after.kind(), kind);
  std::mt19937_64 probe(9);
  for (int i = 0; i < 200; ++i) {
    const Config c = space.Sample(probe);
    EXPECT_EQ(before.Predict(c), after.Predict(c)) << space.ToText(c);
  }
  EXPECT_EQ(MakeAccuracyEstimator(**read)->kind(), kind);
  return *read;
}

TEST(BundleRoundTripTest, KernelPredictorSurvivesAndPredictsBitExactly) {
  auto model = FullModel(TinyArch(), 4);
  const auto [fitted, heldout] = TinyTable(model->space(), 6);
  auto params = AccuracyPredictor::FitKrr(model->space(), fitted, heldout, 0.3, 0.01);
  ASSERT_TRUE(params.ok()) << params.status();
  ASSERT_EQ(params->kind, "krr");
  ExpectPredictorRoundTrip(model, *params, "krr");
}

TEST(BundleRoundTripTest, MlpPredictorSurvivesAndPredictsBitExactly) {
  auto model = FullModel(TinyArch(), 4);
  const auto [fitted, heldout] = TinyTable(model->space(), 7);
  auto params = AccuracyPredictor::FitMlp(model->space(), fitted, heldout, 8, 2, 5);
  ASSERT_TRUE(params.ok()) << params.status();
  auto read = ExpectPredictorRoundTrip(model, *params, "mlp");
  ASSERT_NE(read, nullptr);
  ASSERT_TRUE(read->predictor.has_value());
  EXPECT_EQ(read->predictor->mlp_weights, params->mlp_weights);
  EXPECT_EQ(read->predictor->mlp_input_names, params->mlp_input_names);
  EXPECT_EQ(read->predictor->mlp_epochs, 5);
}

TEST(BundleRoundTripTest, ModelOutlivesNothingButItself) {
  // The mapping stays valid as long as the model, even after the file is replaced.
  const std::string dir = MakeTempDir("alive");
  const std::string path = dir + "/m.asb";
  auto a = FullModel(TinyArch(), 10), b = FullModel(TinyArch(), 11);
  ASSERT_TRUE(WriteBundle(*a, path).ok());
  auto read = ReadBundle(path);
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(WriteBundle(*b, path).ok());  // renamed over: the old inode lives on
  ExpectSameModel(*a, **read);
  auto read_b = ReadBundle(path);
  ASSERT_TRUE(read_b.ok());
  ExpectSameModel(*b, **read_b);
}

}  // namespace
}  // namespace adaspring::engine

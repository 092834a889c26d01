// Float16 weight storage: RoundWeightsToF16's rounding, bundles that store weights as
// TENSOR_DTYPE_F16 (smaller, bit-exact round trip), and damaged float16 entries.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "absl/strings/match.h"
#include "adaspring/engine/bundle.h"
#include "engine/bundle/bundle_test_util.h"

namespace adaspring::engine {
namespace {

using testing::EditManifest;
using testing::EntryIndex;
using testing::FullModel;
using testing::MakeTempDir;
using testing::ManifestOf;
using testing::TinyArch;
namespace pb = testing::pb;

// `model` with the first values.size() elements of fc.weight replaced.
std::shared_ptr<Model> WithFcValues(const Model& model, const std::vector<float>& values) {
  TensorStore store;
  for (const auto& [name, e] : model.tensors().entries()) {
    std::vector<float> v(e.data, e.data + e.numel);
    if (name == "fc.weight") {
      EXPECT_GE(v.size(), values.size());
      std::copy(values.begin(), values.end(), v.begin());
    }
    store.Add(name, e.shape, std::move(v));
  }
  auto out = std::make_shared<Model>(model.arch(), model.meta(), std::move(store));
  out->activation_amax = model.activation_amax;
  out->predictor = model.predictor;
  out->measured = model.measured;
  return out;
}

TEST(BundleF16Test, RoundsToNearestEvenAndLeavesOtherTensorsAlone) {
  auto base = FullModel(TinyArch(), 3);
  const float two_m24 = std::ldexp(1.f, -24);  // smallest float16 subnormal
  // value -> expected float16 value
  const std::vector<std::pair<float, float>> cases = {
      {1.f, 1.f},
      {-2.5f, -2.5f},
      {1.f / 3.f, 0.333251953125f},                                 // nearest binary16
      {1.f + std::ldexp(1.f, -11), 1.f},                            // tie -> even (down)
      {1.f + 3 * std::ldexp(1.f, -11), 1.f + std::ldexp(1.f, -9)},  // tie -> even (up)
      {65504.f, 65504.f},                                           // largest finite
      {0.f, 0.f},
      {-0.f, -0.f},
      {std::ldexp(1.f, -14), std::ldexp(1.f, -14)},  // smallest normal
      {3 * two_m24, 3 * two_m24},                    // subnormal, exact
      {2.5f * two_m24, 2 * two_m24},                 // subnormal tie -> even
      {0.75f * two_m24, two_m24},                    // above half the smallest: rounds up
      {0.5f * two_m24, 0.f},                         // exactly half: ties to even (0)
      {1e-9f, 0.f},                                  // underflow
      {std::ldexp(1.f, -14) - two_m24 / 4, std::ldexp(1.f, -14)},  // subnormal carries up
  };
  std::vector<float> in;
  for (const auto& c : cases) in.push_back(c.first);
  auto model = WithFcValues(*base, in);
  auto rounded = RoundWeightsToF16(*model);
  ASSERT_TRUE(rounded.ok()) << rounded.status();
  const TensorStore::Entry* fc = (*rounded)->tensors().Find("fc.weight");
  ASSERT_NE(fc, nullptr);
  EXPECT_EQ(fc->storage, TensorStorage::kF16);
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(fc->data[i], cases[i].second) << "case " << i << ": " << cases[i].first;
    EXPECT_EQ(std::signbit(fc->data[i]), std::signbit(cases[i].second)) << "case " << i;
  }
  for (const auto& [name, e] : model->tensors().entries()) {
    const TensorStore::Entry* r = (*rounded)->tensors().Find(name);
    ASSERT_NE(r, nullptr) << name;
    const bool weight = absl::EndsWith(name, ".weight");
    EXPECT_EQ(r->storage, weight ? TensorStorage::kF16 : TensorStorage::kF32) << name;
    if (!weight) {
      EXPECT_EQ(std::memcmp(r->data, e.data, e.numel * sizeof(float)), 0) << name;
    } else {
      for (int64_t i = 0; i < e.numel; ++i)  // within half a float16 ulp (relative 2^-11)
        ASSERT_LE(std::fabs(r->data[i] - e.data[i]),
                  std::max(std::fabs(e.data[i]) * std::ldexp(1.f, -11), two_m24 / 2))
            << name << "[" << i << "]";
    }
  }
  // Idempotent, and the metadata comes along.
  auto twice = RoundWeightsToF16(**rounded);
  ASSERT_TRUE(twice.ok());
  for (const auto& [name, e] : (*rounded)->tensors().entries())
    EXPECT_EQ(std::memcmp((*twice)->tensors().Find(name)->data, e.data, e.numel * sizeof(float)), 0)
        << name;
  EXPECT_EQ((*rounded)->activation_amax, model->activation_amax);
  EXPECT_EQ((*rounded)->measured.size(), model->measured.size());
  EXPECT_TRUE((*rounded)->predictor.has_value());
}

TEST(BundleF16Test, WeightBeyondFloat16RangeIsRefusedNamingTheTensor) {
  auto model = WithFcValues(*FullModel(TinyArch(), 3), {0.5f, 70000.f});
  auto rounded = RoundWeightsToF16(*model);
  ASSERT_FALSE(rounded.ok());
  EXPECT_EQ(rounded.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(rounded.status().message().find("tensor 'fc.weight' element 1 = 70000"),
            std::string::npos)
      << rounded.status();
}

TEST(BundleF16Test, Float16BundleIsSmallerAndReadsBackBitExact) {
  auto arch = BuiltinArch("smallres28");
  ASSERT_TRUE(arch.ok());
  auto model = FullModel(*arch, 28);
  auto f32_bytes = SerializeBundle(*model);
  ASSERT_TRUE(f32_bytes.ok());
  auto rounded = RoundWeightsToF16(*model);
  ASSERT_TRUE(rounded.ok()) << rounded.status();
  auto f16_bytes = SerializeBundle(**rounded);
  ASSERT_TRUE(f16_bytes.ok()) << f16_bytes.status();
  EXPECT_LT(f16_bytes->size(), f32_bytes->size() * 6 / 10);
  const pb::BundleManifest m = ManifestOf(*f16_bytes);
  for (const pb::TensorEntry& t : m.tensors()) {
    const bool weight = absl::EndsWith(t.name(), ".weight");
    EXPECT_EQ(t.dtype(), weight ? pb::TENSOR_DTYPE_F16 : pb::TENSOR_DTYPE_F32) << t.name();
  }

  const std::string path = MakeTempDir("f16") + "/smallres28-f16.asb";
  ASSERT_TRUE(WriteBundle(**rounded, path).ok());
  auto read = ReadBundle(path);
  ASSERT_TRUE(read.ok()) << read.status();
  for (const auto& [name, e] : (*rounded)->tensors().entries()) {
    const TensorStore::Entry* r = (*read)->tensors().Find(name);
    ASSERT_NE(r, nullptr) << name;
    EXPECT_EQ(r->storage, e.storage) << name;
    ASSERT_EQ(r->numel, e.numel) << name;
    EXPECT_EQ(std::memcmp(r->data, e.data, e.numel * sizeof(float)), 0) << name;
  }
  // Writing what was read keeps float16 storage and gives the same bytes.
  auto again = SerializeBundle(**read);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *f16_bytes);
}

class BundleF16DamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto rounded = RoundWeightsToF16(*FullModel(TinyArch(), 5));
    ASSERT_TRUE(rounded.ok());
    auto bytes = SerializeBundle(**rounded);
    ASSERT_TRUE(bytes.ok());
    good_ = *bytes;
  }
  void ExpectRejected(const std::string& bytes, const std::string& what) {
    auto r = ParseBundle(bytes, "f16.asb");
    ASSERT_FALSE(r.ok()) << "accepted; expected: " << what;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(what), std::string::npos)
        << "message: " << r.status().message() << "\nexpected: " << what;
  }
  std::string good_;
};

TEST_F(BundleF16DamageTest, GoodBundleParses) { EXPECT_TRUE(ParseBundle(good_, "f16.asb").ok()); }

TEST_F(BundleF16DamageTest, WrongSizeForFloat16) {
  ExpectRejected(EditManifest(good_,
                              [](pb::BundleManifest& m) {
                                auto* t = m.mutable_tensors(EntryIndex(m, "fc.weight"));
                                t->set_size_bytes(t->size_bytes() * 2);
                              }),
                 "tensor 'fc.weight' has size_bytes 192, but its shape [3,16] needs 48 x 2 = 96 "
                 "(float16)");
}

TEST_F(BundleF16DamageTest, Float32TensorRelabelledFloat16) {
  ExpectRejected(
      EditManifest(good_,
                   [](pb::BundleManifest& m) {
                     m.mutable_tensors(EntryIndex(m, "fc.bias"))->set_dtype(pb::TENSOR_DTYPE_F16);
                   }),
      "tensor 'fc.bias' has size_bytes 12, but its shape [3] needs 3 x 2 = 6 "
      "(float16)");
}

TEST_F(BundleF16DamageTest, InfinityInAFloat16TensorIsRejected) {
  const pb::BundleManifest m = ManifestOf(good_);
  const int i = EntryIndex(m, "fc.weight");
  ASSERT_GE(i, 0);
  std::string bad = good_;
  const uint16_t inf = 0x7c00;
  std::memcpy(bad.data() + m.tensors(i).offset() + 2 * 5, &inf, sizeof(inf));
  const uint32_t crc = Crc32c(bad.data() + m.tensors(i).offset(), m.tensors(i).size_bytes());
  bad = EditManifest(bad, [&](pb::BundleManifest& e) { e.mutable_tensors(i)->set_crc32c(crc); });
  ExpectRejected(bad, "tensor 'fc.weight' has a non-finite value at element 5");
}

TEST_F(BundleF16DamageTest, UnknownDtypeNamesBothAccepted) {
  ExpectRejected(EditManifest(good_,
                              [](pb::BundleManifest& m) {
                                m.mutable_tensors(EntryIndex(m, "fc.weight"))
                                    ->set_dtype(static_cast<pb::TensorDType>(7));
                              }),
                 "tensor 'fc.weight' has dtype 7, expected TENSOR_DTYPE_F32 (1) or "
                 "TENSOR_DTYPE_F16 (2)");
}

}  // namespace
}  // namespace adaspring::engine

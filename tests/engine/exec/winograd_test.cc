// Winograd convolutions (the large 3 x 3 stride-1 layers of 224-pixel networks): the same
// results as the plain reference, at every batch size and thread count, and only where the
// rule in BuiltLayer::UseWinograd says so.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "adaspring/engine/variant.h"
#include "engine/exec/test_util.h"

namespace adaspring::engine {
namespace {

using testing_util::RandomInput;
using testing_util::RelError;

// Small enough for the reference, large enough that the 64-channel 3 x 3 layers at 32 x 32
// (37.7 M multiply-adds) take the Winograd path while the narrower ones do not.
ArchSpec WinogradArch() {
  ArchSpec a;
  a.name = "winograd-test";
  a.in_channels = 3;
  a.in_height = a.in_width = 32;
  a.num_classes = 10;
  a.stem_channels = 32;
  a.stages = {{64, 2, 1, 1}, {80, 1, 2, 1}};
  return a;
}

class WinogradTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new std::shared_ptr<Model>(Model::Random(WinogradArch(), 5));
    EvolverOptions o;
    o.threads = 1;
    auto e = Evolver::Create(*model_, o);
    ASSERT_TRUE(e.ok()) << e.status();
    evolver_ = e->release();
  }
  static void TearDownTestSuite() {
    delete evolver_;
    delete model_;
  }
  const ConfigSpace& space() { return (*model_)->space(); }
  static int WinogradLayers(const Variant& v) {
    int n = 0;
    for (const std::string& name : v.LayerNames()) n += name.find("wino") != std::string::npos;
    return n;
  }

  static std::shared_ptr<Model>* model_;
  static Evolver* evolver_;
};
std::shared_ptr<Model>* WinogradTest::model_ = nullptr;
Evolver* WinogradTest::evolver_ = nullptr;

TEST_F(WinogradTest, LargeLayersUseItAndMatchTheReference) {
  std::mt19937_64 rng(3);
  const int batch = 3;
  const auto in = RandomInput((*model_)->arch(), batch, 4);
  int with_winograd = 0;
  for (int i = 0; i < 6; ++i) {
    Config c = i == 0 ? space().Full(Precision::kF32) : space().Sample(rng);
    c.precision = Precision::kF32;
    std::fill(c.rank_idx.begin(), c.rank_idx.end(), 0);
    auto v = evolver_->Evolve(c);
    ASSERT_TRUE(v.ok()) << v.status();
    if (i == 0) {
      // Full width: s0.b0.conv2, s0.b1.conv1 and s0.b1.conv2 (64 -> 64 at 32 x 32); not the
      // 32 -> 64 conv1 of s0.b0 (18.9 M multiply-adds) nor the 80-channel ones at 16 x 16
      // (14.7 M).
      EXPECT_EQ(WinogradLayers(**v), 3) << ::testing::PrintToString((*v)->LayerNames());
    }
    with_winograd += WinogradLayers(**v) > 0;
    std::vector<float> ref(batch * 10), got(ref.size());
    ASSERT_TRUE(ReferenceForward(**model_, c, in.data(), batch, ref.data()).ok());
    auto ws = NewWorkspace(1);
    ASSERT_TRUE((*v)->Run(in.data(), batch, got.data(), ws.get()).ok());
    EXPECT_LE(RelError(got, ref), 1e-4) << space().ToText(c);
  }
  EXPECT_GE(with_winograd, 2);
}

TEST_F(WinogradTest, EveryBatchAndThreadCountGivesTheSingleImageResult) {
  auto v = evolver_->Evolve(space().Full(Precision::kF32));
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_GT(WinogradLayers(**v), 0);
  const int batch = 4;
  const auto in = RandomInput((*model_)->arch(), batch, 6);
  const size_t image = in.size() / batch;
  std::vector<float> singles(batch * 10);
  auto one_thread = NewWorkspace(1);
  for (int i = 0; i < batch; ++i) {
    ASSERT_TRUE(
        (*v)->Run(in.data() + i * image, 1, singles.data() + i * 10, one_thread.get()).ok());
  }
  for (int threads : {1, 2}) {
    auto ws = NewWorkspace(threads);
    for (int n : {2, 4}) {
      std::vector<float> got(n * 10);
      ASSERT_TRUE((*v)->Run(in.data(), n, got.data(), ws.get()).ok()) << n << " " << threads;
      std::vector<float> want(singles.begin(), singles.begin() + n * 10);
      EXPECT_LE(RelError(got, want), 1e-5) << "batch " << n << ", " << threads << " threads";
    }
  }
}

TEST_F(WinogradTest, LowRankAndInt8VariantsStillMatch) {
  const int batch = 2;
  const auto in = RandomInput((*model_)->arch(), batch, 7);
  Config c = space().Full(Precision::kF32);
  std::fill(c.rank_idx.begin(), c.rank_idx.end(), 1);
  auto v = evolver_->Evolve(c);
  ASSERT_TRUE(v.ok()) << v.status();
  std::vector<float> ref(batch * 10), got(ref.size());
  ASSERT_TRUE(ReferenceForwardLowRank(**model_, c, in.data(), batch, ref.data()).ok());
  auto ws = NewWorkspace(1);
  ASSERT_TRUE((*v)->Run(in.data(), batch, got.data(), ws.get()).ok());
  EXPECT_LE(RelError(got, ref), 1e-4) << space().ToText(c);
  // int8 never takes the Winograd path.
  auto q = evolver_->Evolve(space().Full(Precision::kInt8));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(WinogradLayers(**q), 0);
}

}  // namespace
}  // namespace adaspring::engine

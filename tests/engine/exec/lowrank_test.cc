// SVD factorisation: full rank reconstructs the layer, truncation error follows
// Eckart-Young, and the two factors multiply to the truncation.
#include "../../../engine/src/exec/lowrank.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace adaspring::engine::exec {
namespace {

DenseConv RandomConv(int oc, int ic, int k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.f, 1.f);
  DenseConv d;
  d.oc = oc;
  d.ic_per_group = ic;
  d.kernel = k;
  d.weights.resize(static_cast<size_t>(oc) * ic * k * k);
  for (float& w : d.weights) w = n(rng);
  d.bias.resize(oc);
  for (float& b : d.bias) b = n(rng);
  return d;
}

TEST(LowRankTest, FullRankEqualsTheUnfactorisedLayer) {
  const DenseConv w = RandomConv(32, 16, 3, 1);
  const auto f = ComputeSvd(w);
  ASSERT_EQ(f->full_rank, 32);
  const DenseConv r = Truncated(*f, f->full_rank);
  double max_err = 0, max_w = 0;
  for (size_t i = 0; i < w.weights.size(); ++i) {
    max_err = std::max(max_err, static_cast<double>(std::fabs(r.weights[i] - w.weights[i])));
    max_w = std::max(max_w, static_cast<double>(std::fabs(w.weights[i])));
  }
  EXPECT_LE(max_err / max_w, 1e-5);
  EXPECT_EQ(r.bias, w.bias);
}

TEST(LowRankTest, TruncationErrorIsTheDroppedSingularValues) {
  const DenseConv w = RandomConv(24, 8, 3, 2);
  const auto f = ComputeSvd(w);
  for (int rank : {1, 6, 12, 23}) {
    const DenseConv r = Truncated(*f, rank);
    double err2 = 0, dropped2 = 0;
    for (size_t i = 0; i < w.weights.size(); ++i) {
      const double d = r.weights[i] - w.weights[i];
      err2 += d * d;
    }
    for (int j = rank; j < f->full_rank; ++j) dropped2 += f->singular[j] * f->singular[j];
    EXPECT_NEAR(err2, dropped2, 1e-3 * dropped2 + 1e-6) << "rank " << rank;
  }
  for (size_t j = 1; j < f->singular.size(); ++j) EXPECT_LE(f->singular[j], f->singular[j - 1]);
}

TEST(LowRankTest, KeepingFewerDirectionsGivesTheSameFactors) {
  const DenseConv w = RandomConv(32, 16, 3, 4);
  const auto all = ComputeSvd(w);
  const auto kept = ComputeSvd(w, 16);
  EXPECT_EQ(kept->full_rank, all->full_rank);
  EXPECT_EQ(kept->kept, 16);
  EXPECT_EQ(kept->singular, all->singular);
  EXPECT_EQ(kept->p.size() * 2, all->p.size());
  for (int rank : {1, 8, 16}) {
    EXPECT_EQ(FirstFactor(*kept, rank).weights, FirstFactor(*all, rank).weights) << rank;
    EXPECT_EQ(SecondFactor(*kept, rank).weights, SecondFactor(*all, rank).weights) << rank;
    EXPECT_EQ(Truncated(*kept, rank).weights, Truncated(*all, rank).weights) << rank;
  }
  EXPECT_EQ(ComputeSvd(w, 100)->kept, 32);  // capped at the full rank
}

TEST(LowRankTest, FactorsMultiplyToTheTruncation) {
  const DenseConv w = RandomConv(16, 12, 1, 3);
  const auto f = ComputeSvd(w);
  const int rank = 5;
  const DenseConv a = FirstFactor(*f, rank), b = SecondFactor(*f, rank), t = Truncated(*f, rank);
  ASSERT_EQ(a.oc, rank);
  ASSERT_EQ(b.ic_per_group, rank);
  EXPECT_TRUE(a.bias.empty());
  const int cols = 12;
  for (int o = 0; o < 16; ++o)
    for (int c = 0; c < cols; ++c) {
      double s = 0;
      for (int j = 0; j < rank; ++j) s += b.weights[o * rank + j] * a.weights[j * cols + c];
      EXPECT_NEAR(s, t.weights[o * cols + c], 1e-4);
    }
}

}  // namespace
}  // namespace adaspring::engine::exec

// Every training layer's backward pass against central finite differences of its forward.
//
// Loss = sum(dst * r) for a fixed random r, so d(loss)/d(dst) = r. Forward values are float;
// losses are accumulated in double, eps = 1e-2, and a gradient passes when
// |analytic - numeric| <= 1e-2 * max(1, |numeric|) (+ a small absolute slack for float noise).
#include "adaspring/engine/train/layers.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <vector>

namespace adaspring::engine::train {
namespace {

// One OpenMP thread: these shapes are tiny, and the suite runs on a shared machine.
const int kThreads = (SetTrainingThreads(1), 1);

using Vec = std::vector<float>;

Vec Random(size_t n, std::mt19937& rng, float scale = 1.f) {
  std::normal_distribution<float> d(0.f, scale);
  Vec v(n);
  for (float& x : v) x = d(rng);
  return v;
}

double Dot(const Vec& a, const Vec& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

// Checks analytic[i] against the central difference of loss() w.r.t. x[i] for every i.
void ExpectGradient(const char* what, Vec& x, const Vec& analytic,
                    const std::function<double()>& loss, double eps = 1e-2, double tol = 1e-2) {
  ASSERT_EQ(x.size(), analytic.size());
  int bad = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const float keep = x[i];
    x[i] = keep + static_cast<float>(eps);
    const double up = loss();
    x[i] = keep - static_cast<float>(eps);
    const double down = loss();
    x[i] = keep;
    const double numeric = (up - down) / (2 * eps);
    const double err = std::abs(analytic[i] - numeric);
    if (err > tol * std::max(1.0, std::abs(numeric)) + 2e-3) {
      if (++bad <= 5)
        ADD_FAILURE() << what << "[" << i << "]: analytic " << analytic[i] << " numeric "
                      << numeric;
    }
  }
  EXPECT_EQ(bad, 0) << what;
}

struct ConvCase {
  int ic, oc, hw, k, stride, pad;
};

class ConvGradTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvGradTest, MatchesFiniteDifferences) {
  const ConvCase c = GetParam();
  const int n = 2;
  std::mt19937 rng(7);
  Conv2d conv(n, c.ic, c.oc, c.hw, c.hw, c.k, c.stride, c.pad);
  const int oh = conv.oh(), ow = conv.ow();
  Vec x = Random(static_cast<size_t>(n) * c.hw * c.hw * c.ic, rng);
  Vec w = Random(static_cast<size_t>(c.oc) * c.ic * c.k * c.k, rng, 0.5f);
  Vec r = Random(static_cast<size_t>(n) * oh * ow * c.oc, rng);
  Vec y(r.size());
  const WeightSlice ws{w.data(), static_cast<int64_t>(c.ic) * c.k * c.k, c.k * c.k};
  auto loss = [&] {
    conv.SetWeights(ws);
    conv.Forward(x.data(), y.data());
    return Dot(y, r);
  };
  loss();
  Vec dx(x.size()), dw(w.size(), 0.f);
  conv.BackwardData(r.data(), dx.data());
  conv.BackwardWeights(x.data(), r.data(),
                       WeightSlice{dw.data(), static_cast<int64_t>(c.ic) * c.k * c.k, c.k * c.k});
  ExpectGradient("conv dx", x, dx, loss);
  ExpectGradient("conv dw", w, dw, loss);
}

INSTANTIATE_TEST_SUITE_P(Shapes, ConvGradTest,
                         ::testing::Values(ConvCase{3, 4, 5, 3, 1, 1},     // 3x3
                                           ConvCase{3, 8, 6, 3, 2, 1},     // strided 3x3
                                           ConvCase{4, 8, 6, 1, 2, 0},     // 1x1 downsample
                                           ConvCase{1, 16, 6, 3, 1, 1}));  // stem-like

// conv2 of a block at reduced width reads the first `k` input channels of a wider
// [oc, max_in, 3, 3] tensor; conv1 writes the first `k` output rows. Gradients must land in
// exactly that slice, accumulate (+=) and leave the rest untouched.
TEST(ConvSliceTest, WeightGradientScattersIntoTheSlice) {
  const int n = 2, hw = 5, k = 3, max_in = 6, in = 4, oc = 5;
  std::mt19937 rng(11);
  Conv2d conv(n, in, oc, hw, hw, k, 1, 1);
  Vec full = Random(static_cast<size_t>(oc) * max_in * k * k, rng, 0.5f);
  const WeightSlice ws{full.data(), static_cast<int64_t>(max_in) * k * k, k * k};
  Vec x = Random(static_cast<size_t>(n) * hw * hw * in, rng);
  Vec r = Random(static_cast<size_t>(n) * hw * hw * oc, rng);
  Vec y(r.size());
  auto loss = [&] {
    conv.SetWeights(ws);
    conv.Forward(x.data(), y.data());
    return Dot(y, r);
  };
  loss();
  const float kPrior = 0.25f;  // pre-existing gradient: must be accumulated onto
  Vec grad(full.size(), kPrior);
  conv.BackwardWeights(x.data(), r.data(), WeightSlice{grad.data(), ws.o_stride, ws.i_stride});
  Vec analytic(full.size());
  for (size_t i = 0; i < grad.size(); ++i) analytic[i] = grad[i] - kPrior;
  // Outside the slice the numeric gradient is 0 and the stored one must be exactly kPrior.
  for (int o = 0; o < oc; ++o)
    for (int i = in; i < max_in; ++i)
      for (int j = 0; j < k * k; ++j) EXPECT_EQ(grad[(o * max_in + i) * k * k + j], kPrior);
  ExpectGradient("sliced conv dw", full, analytic, loss);
}

class BatchNormGradTest : public ::testing::TestWithParam<bool> {};

TEST_P(BatchNormGradTest, TrainingModeMatchesFiniteDifferences) {
  const bool relu = GetParam();
  const int n = 3, h = 3, w = 2, c = 4;
  std::mt19937 rng(3);
  BatchNorm bn(n, h, w, c, relu);
  Vec x = Random(static_cast<size_t>(n) * h * w * c, rng);
  for (size_t i = 0; i < x.size(); ++i) x[i] += 0.5f * (i % c);  // distinct channel means
  Vec gamma = Random(c, rng), beta = Random(c, rng);
  Vec r = Random(x.size(), rng), y(x.size()), mean(c), var(c);
  auto loss = [&] {
    bn.ForwardTrain(x.data(), gamma.data(), beta.data(), y.data(), mean.data(), var.data());
    return Dot(y, r);
  };
  loss();
  Vec dx(x.size()), dg(c, 0.f), db(c, 0.f);
  bn.Backward(x.data(), r.data(), gamma.data(), mean.data(), var.data(), dx.data(), dg.data(),
              db.data());
  // Smaller steps: BN is strongly non-linear in x through the batch statistics.
  ExpectGradient("bn dx", x, dx, loss, 2e-3, 2e-2);
  ExpectGradient("bn dgamma", gamma, dg, loss);
  ExpectGradient("bn dbeta", beta, db, loss);
}

INSTANTIATE_TEST_SUITE_P(Relu, BatchNormGradTest, ::testing::Bool());

TEST(BatchNormTest, InferenceUsesGivenStatistics) {
  const int n = 2, c = 3;
  BatchNorm bn(n, 1, 1, c, false);
  Vec x = {1, 2, 3, 4, 5, 6}, gamma = {1, 2, 3}, beta = {0, 1, 0}, mean = {1, 1, 1},
      var = {4, 4, 4}, y(6);
  bn.ForwardInference(x.data(), gamma.data(), beta.data(), mean.data(), var.data(), y.data());
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < c; ++j) {
      const float expect = gamma[j] * (x[i * c + j] - 1) / std::sqrt(4 + 1e-5f) + beta[j];
      EXPECT_NEAR(y[i * c + j], expect, 1e-5);
    }
}

// Frozen statistics (reduced-rank blocks): the forward equals inference mode, and the
// backward is the gradient with mean/var held constant, fused ReLU or not.
TEST(BatchNormTest, FrozenStatisticsForwardAndBackward) {
  for (const bool relu : {false, true}) {
    const int n = 2, h = 2, w = 3, c = 4;
    std::mt19937 rng(relu ? 31 : 37);
    const size_t count = static_cast<size_t>(n) * h * w * c;
    Vec x = Random(count, rng), r = Random(count, rng), gamma = Random(c, rng),
        beta = Random(c, rng), mean = Random(c, rng), var(c), y(count), y_inf(count);
    for (float& v : var) v = 0.5f + std::abs(Random(1, rng)[0]);
    BatchNorm bn(n, h, w, c, relu);
    bn.ForwardFrozen(x.data(), gamma.data(), beta.data(), mean.data(), var.data(), y.data());
    bn.ForwardInference(x.data(), gamma.data(), beta.data(), mean.data(), var.data(), y_inf.data());
    for (size_t i = 0; i < count; ++i) EXPECT_NEAR(y[i], y_inf[i], 1e-5);
    if (relu) {  // keep pre-activations away from the kink
      for (size_t i = 0; i < count; ++i) {
        const int j = static_cast<int>(i % c);
        const float pre = gamma[j] * (x[i] - mean[j]) / std::sqrt(var[j] + 1e-5f) + beta[j];
        if (std::abs(pre) < 0.1f)
          x[i] += (pre < 0 ? -0.3f : 0.3f) * std::sqrt(var[j]) / std::abs(gamma[j]);
      }
    }
    auto loss = [&] {
      bn.ForwardFrozen(x.data(), gamma.data(), beta.data(), mean.data(), var.data(), y.data());
      return Dot(y, r);
    };
    loss();
    Vec dx(count), dg(c, 0.f), db(c, 0.f);
    bn.BackwardFrozen(x.data(), r.data(), gamma.data(), mean.data(), var.data(), dx.data(),
                      dg.data(), db.data());
    ExpectGradient("frozen bn dx", x, dx, loss);
    ExpectGradient("frozen bn dgamma", gamma, dg, loss);
    ExpectGradient("frozen bn dbeta", beta, db, loss);
  }
}

TEST(ReluTest, BackwardMatchesFiniteDifferences) {
  std::mt19937 rng(5);
  Vec x = Random(64, rng), r = Random(64, rng), y(64);
  for (float& v : x)
    if (std::abs(v) < 0.05f) v = 0.1f;  // keep away from the kink
  Relu relu(64);
  auto loss = [&] {
    relu.Forward(x.data(), y.data());
    return Dot(y, r);
  };
  loss();
  Vec dx(64);
  relu.Backward(y.data(), r.data(), dx.data());
  ExpectGradient("relu dx", x, dx, loss);
}

TEST(GlobalAvgPoolTest, BackwardMatchesFiniteDifferences) {
  const int n = 2, h = 3, w = 4, c = 5;
  std::mt19937 rng(9);
  GlobalAvgPool pool(n, h, w, c);
  Vec x = Random(static_cast<size_t>(n) * h * w * c, rng), r = Random(n * c, rng), y(n * c);
  auto loss = [&] {
    pool.Forward(x.data(), y.data());
    return Dot(y, r);
  };
  loss();
  Vec dx(x.size());
  pool.Backward(r.data(), dx.data());
  ExpectGradient("pool dx", x, dx, loss);
}

TEST(LinearTest, BackwardMatchesFiniteDifferences) {
  const int n = 3, in = 6, out = 4;
  std::mt19937 rng(13);
  Linear fc(n, in, out);
  Vec x = Random(n * in, rng), w = Random(out * in, rng), b = Random(out, rng);
  Vec r = Random(n * out, rng), y(n * out);
  auto loss = [&] {
    fc.Forward(x.data(), w.data(), b.data(), y.data());
    return Dot(y, r);
  };
  loss();
  Vec dx(x.size()), dw(w.size(), 0.f), db(out, 0.f);
  fc.BackwardData(r.data(), w.data(), dx.data());
  fc.BackwardWeights(x.data(), r.data(), dw.data(), db.data());
  ExpectGradient("fc dx", x, dx, loss);
  ExpectGradient("fc dw", w, dw, loss);
  ExpectGradient("fc db", b, db, loss);
}

TEST(LossTest, SoftmaxCrossEntropyGradient) {
  const int n = 4, classes = 5;
  std::mt19937 rng(17);
  Vec logits = Random(n * classes, rng, 2.f);
  std::vector<int32_t> labels = {0, 3, 4, 1};
  Vec diff(logits.size());
  const double loss0 = SoftmaxCrossEntropy(logits.data(), labels.data(), n, classes, diff.data());
  EXPECT_GT(loss0, 0);
  ExpectGradient("ce dlogits", logits, diff, [&] {
    return SoftmaxCrossEntropy(logits.data(), labels.data(), n, classes, nullptr);
  });
}

TEST(LossTest, KlDistillationGradient) {
  const int n = 3, classes = 4;
  std::mt19937 rng(19);
  Vec teacher_logits = Random(n * classes, rng, 2.f), teacher(n * classes);
  Softmax(teacher_logits.data(), n, classes, teacher.data());
  Vec student = Random(n * classes, rng, 2.f), diff(student.size());
  EXPECT_GT(KlDivergence(student.data(), teacher.data(), n, classes, diff.data()), 0);
  ExpectGradient("kl dlogits", student, diff,
                 [&] { return KlDivergence(student.data(), teacher.data(), n, classes, nullptr); });
  // KL of a distribution with itself is zero.
  EXPECT_NEAR(KlDivergence(teacher_logits.data(), teacher.data(), n, classes, nullptr), 0, 1e-6);
}

TEST(AddTest, AddsInPlace) {
  Vec a = {1, 2, 3}, b = {10, 20, 30};
  AddInPlace(a.data(), b.data(), 3);
  EXPECT_EQ(b, (Vec{11, 22, 33}));
}

}  // namespace
}  // namespace adaspring::engine::train

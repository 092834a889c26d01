#include "adaspring/engine/predictor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <tuple>

namespace adaspring::engine {
namespace {

ConfigSpace Space(const char* name) {
  auto arch = BuiltinArch(name);
  EXPECT_TRUE(arch.ok());
  return ConfigSpace(*arch);
}

TEST(KendallTauTest, KnownValues) {
  using P = AccuracyPredictor;
  EXPECT_DOUBLE_EQ(P::KendallTau({1, 2, 3, 4, 5}, {1, 2, 3, 4, 5}), 1.0);
  EXPECT_DOUBLE_EQ(P::KendallTau({1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}), -1.0);
  // 6 concordant, 4 discordant pairs.
  EXPECT_DOUBLE_EQ(P::KendallTau({1, 2, 3, 4, 5}, {3, 4, 1, 2, 5}), 0.2);
  // tau-b with one tie in `a`: 5 / sqrt(5 * 6) (scipy.stats.kendalltau gives 0.91287...).
  EXPECT_NEAR(P::KendallTau({1, 2, 2, 3}, {1, 2, 3, 4}), 5.0 / std::sqrt(30.0), 1e-12);
  EXPECT_TRUE(std::isnan(P::KendallTau({1, 2}, {1, 2, 3})));
  EXPECT_TRUE(std::isnan(P::KendallTau({1}, {1})));
  EXPECT_TRUE(std::isnan(P::KendallTau({1, 1, 1}, {1, 2, 3})));
}

TEST(AccuracyPredictorTest, FitRecoversLinearGroundTruth) {
  const ConfigSpace space = Space("smallres28");
  const std::vector<std::string> names = AccuracyPredictor::FeatureNames(space);
  std::mt19937_64 rng(7);
  // Ground truth: a linear function of the features (positive effects of capacity, a small
  // int8 penalty) plus Gaussian noise of 0.1 accuracy points.
  std::vector<double> truth(names.size());
  std::uniform_real_distribution<double> coef(0.002, 0.02);
  for (double& c : truth) c = coef(rng);
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == "int8") truth[i] = -0.004;
  std::normal_distribution<double> noise(0.0, 0.001);
  auto sample = [&](int n) {
    std::vector<std::pair<Config, double>> out;
    for (int k = 0; k < n; ++k) {
      Config c = space.Sample(rng);
      const std::vector<double> x = AccuracyPredictor::Features(space, c);
      double acc = 0.55;
      for (size_t i = 0; i < x.size(); ++i) acc += truth[i] * x[i];
      out.push_back({c, std::clamp(acc + noise(rng), 0.0, 1.0)});
    }
    return out;
  };
  const auto fitted = sample(400), heldout = sample(200);
  auto params = AccuracyPredictor::Fit(space, fitted, heldout, 1e-3);
  ASSERT_TRUE(params.ok()) << params.status();
  EXPECT_EQ(params->kind, "ridge");
  EXPECT_EQ(params->feature_names, names);
  EXPECT_EQ(params->fitted_configs, 400);
  EXPECT_EQ(params->heldout_configs, 200);
  EXPECT_GE(params->kendall_tau, 0.9);
  EXPECT_LE(params->mae_pt, 0.3);
  ASSERT_TRUE(AccuracyPredictor::Validate(space, *params).ok());

  // The reported figures are what Predict gives on the held-out set.
  const AccuracyPredictor predictor(space, *params);
  std::vector<double> pred, meas;
  for (const auto& [c, acc] : heldout) {
    pred.push_back(predictor.Predict(c));
    meas.push_back(acc);
  }
  EXPECT_DOUBLE_EQ(AccuracyPredictor::KendallTau(pred, meas), params->kendall_tau);
  EXPECT_FALSE(predictor.is_prior());
  const AccuracyPredictor copy = predictor;
  EXPECT_EQ(copy.Predict(heldout[0].first), predictor.Predict(heldout[0].first));
}

// The bottleneck feature: 8 / r for a block whose conv runs at a reduced rank r, 0 at full
// rank; it grows as the factorisation gets narrower.
TEST(AccuracyPredictorTest, BottleneckFeatureFollowsTheAbsoluteRank) {
  ConfigSpace space(*BuiltinArch("smallres28"));
  const std::vector<std::string> names = AccuracyPredictor::FeatureNames(space);
  const auto at = std::find(names.begin(), names.end(), "b0.bottleneck");
  ASSERT_NE(at, names.end());
  const size_t i = static_cast<size_t>(at - names.begin());
  Config c = space.Full(Precision::kF32);
  EXPECT_EQ(AccuracyPredictor::Features(space, c)[i], 0.0);
  c.rank_idx[0] = 1;
  const double half = AccuracyPredictor::Features(space, c)[i];
  c.rank_idx[0] = 2;
  const double quarter = AccuracyPredictor::Features(space, c)[i];
  EXPECT_GT(half, 0.0);
  EXPECT_GT(quarter, half);
  c.width_idx[0] = 0;  // narrower block: the quarter-rank factorisation is narrower still
  EXPECT_GT(AccuracyPredictor::Features(space, c)[i], quarter);
}

// FitMeasured uses the validation entries of a bundle's table: held-out ones for the quality
// figures, the others for fitting; test-split entries are ignored.
TEST(AccuracyPredictorTest, FitMeasuredSplitsTheBundleTable) {
  ConfigSpace space(*BuiltinArch("smallres28"));
  std::mt19937_64 rng(3);
  std::vector<MeasuredConfig> table;
  for (int i = 0; i < 60; ++i) {
    const Config c = space.Sample(rng);
    double acc = 0.5;
    for (size_t b = 0; b < c.width_idx.size(); ++b) acc += 0.02 * c.width_idx[b];
    table.push_back({space.ToText(c), acc, "val", i < 20});
  }
  table.push_back({space.ToText(space.Full(Precision::kF32)), 0.1, "test", false});
  absl::StatusOr<PredictorParams> p = AccuracyPredictor::FitMeasured(space, table, 1.0);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->fitted_configs, 40);
  EXPECT_EQ(p->heldout_configs, 20);
  EXPECT_GT(p->kendall_tau, 0.8);
  table.push_back({"d=garbage", 0.5, "val", false});
  EXPECT_EQ(AccuracyPredictor::FitMeasured(space, table, 1.0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AccuracyPredictorTest, FitRejectsBadInput) {
  const ConfigSpace space = Space("smallres28");
  std::vector<std::pair<Config, double>> ok = {{space.Full(), 0.9}, {space.Smallest(), 0.8}};
  EXPECT_FALSE(AccuracyPredictor::Fit(space, {{space.Full(), 0.9}}, ok, 1).ok());
  EXPECT_FALSE(AccuracyPredictor::Fit(space, ok, ok, -1).ok());
  auto bad_acc = ok;
  bad_acc[0].second = 1.5;
  EXPECT_FALSE(AccuracyPredictor::Fit(space, bad_acc, ok, 1).ok());
  auto bad_cfg = ok;
  bad_cfg[0].first.depth.pop_back();
  auto st = AccuracyPredictor::Fit(space, ok, bad_cfg, 1);
  EXPECT_EQ(st.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.status().message().find("held-out configuration 0"), std::string::npos);
}

TEST(AccuracyPredictorTest, ValidateNamesTheProblem) {
  const ConfigSpace space = Space("smallres28");
  PredictorParams p;
  p.kind = "ridge";
  p.feature_names = {"int8", "b0.width"};
  p.coefficients = {-0.01, 0.1};
  EXPECT_TRUE(AccuracyPredictor::Validate(space, p).ok());
  PredictorParams q = p;
  q.feature_names[1] = "b99.width";
  EXPECT_NE(AccuracyPredictor::Validate(space, q).message().find("'b99.width'"), std::string::npos);
  q = p;
  q.coefficients.pop_back();
  EXPECT_FALSE(AccuracyPredictor::Validate(space, q).ok());
  q = p;
  q.feature_names[1] = "int8";
  EXPECT_NE(AccuracyPredictor::Validate(space, q).message().find("twice"), std::string::npos);
  q = p;
  q.coefficients[0] = NAN;
  EXPECT_FALSE(AccuracyPredictor::Validate(space, q).ok());
  q = p;
  q.kind = "mlp";
  EXPECT_FALSE(AccuracyPredictor::Validate(space, q).ok());

  // Missing features contribute 0: the partial predictor is intercept + its two terms.
  p.intercept = 0.5;
  const AccuracyPredictor predictor(space, p);
  EXPECT_NEAR(predictor.Predict(space.Full(Precision::kInt8)), 0.5 - 0.01 + 0.1, 1e-12);
  EXPECT_NEAR(predictor.Predict(space.Full()), 0.6, 1e-12);
}

// Positions of `names` in the space's feature vector (AccuracyPredictor::Features).
std::vector<int> FeatureIndices(const ConfigSpace& space, const std::vector<std::string>& names) {
  const std::vector<std::string> all = AccuracyPredictor::FeatureNames(space);
  std::vector<int> index;
  for (const std::string& n : names)
    index.push_back(static_cast<int>(std::find(all.begin(), all.end(), n) - all.begin()));
  return index;
}

// A non-linear ground truth on smallres28: accuracy falls with the product of per-stage
// capacities and collapses when the first block runs at its narrowest width and lowest rank
// together (an interaction no single feature or pairwise product of the ridge captures well).
double NonLinearTruth(const ConfigSpace& space, const Config& c) {
  double capacity = 1;
  for (int s = 0; s < space.num_stages(); ++s) {
    double stage = 0;
    int blocks = 0;
    for (const BlockSpec& b : space.net().blocks) {
      if (b.stage != s) continue;
      ++blocks;
      if (!space.BlockActive(c, b.global_index)) continue;
      stage += (1.0 + c.width_idx[b.global_index]) / b.inner_choices.size() /
               (1.0 + c.rank_idx[b.global_index]);
    }
    capacity *= stage / blocks;
  }
  double acc = 0.93 - 0.12 * std::exp(-6.0 * std::cbrt(capacity));
  if (c.width_idx[0] == 0 && c.rank_idx[0] + 1 == space.net().blocks[0].rank_choices) acc -= 0.05;
  if (c.precision == Precision::kInt8) acc -= 0.003;
  return acc;
}

std::vector<std::pair<Config, double>> NonLinearSamples(const ConfigSpace& space, int n,
                                                        uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.001);
  std::vector<std::pair<Config, double>> out;
  for (int i = 0; i < n; ++i) {
    const Config c = space.Canonical(space.Sample(rng));
    out.push_back({c, std::clamp(NonLinearTruth(space, c) + noise(rng), 0.0, 1.0)});
  }
  return out;
}

TEST(KrrPredictorTest, FitsANonLinearFunctionBetterThanRidge) {
  const ConfigSpace space = Space("smallres28");
  const auto fitted = NonLinearSamples(space, 400, 11), heldout = NonLinearSamples(space, 200, 12);
  auto ridge = AccuracyPredictor::Fit(space, fitted, heldout, 1.0);
  auto krr = AccuracyPredictor::FitKrr(space, fitted, heldout, 0.3, 0.01);
  ASSERT_TRUE(ridge.ok()) << ridge.status();
  ASSERT_TRUE(krr.ok()) << krr.status();
  EXPECT_EQ(krr->kind, "krr");
  EXPECT_EQ(krr->target, "log_error");
  EXPECT_TRUE(krr->feature_names.empty());
  EXPECT_EQ(krr->support_configs.size(), fitted.size());
  EXPECT_EQ(krr->fitted_configs, 400);
  EXPECT_EQ(krr->heldout_configs, 200);
  ASSERT_TRUE(AccuracyPredictor::Validate(space, *krr).ok())
      << AccuracyPredictor::Validate(space, *krr);
  EXPECT_LT(krr->mae_pt, 0.8 * ridge->mae_pt) << "ridge " << ridge->mae_pt;
  EXPECT_GT(krr->kendall_tau, ridge->kendall_tau + 0.03) << "ridge " << ridge->kendall_tau;

  // Cross-validation on the fitted part picks a non-linear model (krr or mlp) and reports
  // every candidate.
  std::vector<PredictorCvScore> scores;
  auto selected = AccuracyPredictor::FitSelected(space, fitted, heldout, 1.0, &scores);
  ASSERT_TRUE(selected.ok()) << selected.status();
  EXPECT_NE(selected->kind, "ridge");
  ASSERT_GE(scores.size(), 3u);
  EXPECT_EQ(scores[0].kind, "ridge");
  EXPECT_EQ(scores.back().kind, "mlp");
  int chosen = 0;
  for (const PredictorCvScore& s : scores) {
    chosen += s.chosen;
    if (s.chosen) {
      EXPECT_EQ(s.kind, selected->kind);
      if (s.kind == "krr") {
        EXPECT_EQ(s.gamma, selected->kernel_gamma);
        EXPECT_EQ(s.lambda, selected->kernel_lambda);
      } else {
        EXPECT_EQ(s.lambda, selected->mlp_weight_decay);
      }
      for (const PredictorCvScore& other : scores) EXPECT_LE(s.mae_pt, other.mae_pt);
    }
  }
  EXPECT_EQ(chosen, 1);
}

TEST(MlpPredictorTest, FitsANonLinearFunctionBetterThanRidgeAndDeterministically) {
  const ConfigSpace space = Space("smallres28");
  const auto fitted = NonLinearSamples(space, 400, 11), heldout = NonLinearSamples(space, 200, 12);
  auto ridge = AccuracyPredictor::Fit(space, fitted, heldout, 1.0);
  auto mlp = AccuracyPredictor::FitMlp(space, fitted, heldout);
  ASSERT_TRUE(ridge.ok()) << ridge.status();
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  EXPECT_EQ(mlp->kind, "mlp");
  EXPECT_EQ(mlp->target, "accuracy");
  EXPECT_TRUE(mlp->feature_names.empty());
  EXPECT_TRUE(mlp->support_configs.empty());
  EXPECT_EQ(mlp->mlp_hidden, 64);
  EXPECT_EQ(mlp->mlp_members, 5);
  const size_t d = mlp->mlp_input_names.size(), h = 64;
  // Inputs: the choice indicators (width and rank one-hots, active flags, int8).
  EXPECT_GT(d, 20u);
  for (const std::string& name : mlp->mlp_input_names)
    EXPECT_TRUE(name == "int8" || name.find('=') != std::string::npos ||
                name.find(".active") != std::string::npos)
        << name;
  EXPECT_EQ(mlp->mlp_weights.size(), 5 * (d * h + h + h * h + h + h + 1));
  ASSERT_TRUE(AccuracyPredictor::Validate(space, *mlp).ok())
      << AccuracyPredictor::Validate(space, *mlp);
  EXPECT_EQ(mlp->heldout_configs, 200);
  EXPECT_LT(mlp->mae_pt, 0.8 * ridge->mae_pt) << "ridge " << ridge->mae_pt;
  EXPECT_GT(mlp->kendall_tau, ridge->kendall_tau + 0.03) << "ridge " << ridge->kendall_tau;
  EXPECT_GT(mlp->kendall_tau, 0.8);
  auto again = AccuracyPredictor::FitMlp(space, fitted, heldout);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->mlp_weights, mlp->mlp_weights);
  auto other_seed = AccuracyPredictor::FitMlp(space, fitted, heldout, 64, 5, 100, 1e-3, 2);
  ASSERT_TRUE(other_seed.ok());
  EXPECT_NE(other_seed->mlp_weights, mlp->mlp_weights);
}

// Predict skips zero inputs and ReLU-dead units; it must equal the network of the header
// evaluated densely on the feature vector.
TEST(MlpPredictorTest, PredictEqualsTheNetworkFormula) {
  const ConfigSpace space = Space("smallres28");
  const auto fitted = NonLinearSamples(space, 80, 31), heldout = NonLinearSamples(space, 40, 32);
  auto p = AccuracyPredictor::FitMlp(space, fitted, heldout, 16, 3, 20, 1e-3, 7);
  ASSERT_TRUE(p.ok()) << p.status();
  const std::vector<int> index = FeatureIndices(space, p->mlp_input_names);
  const AccuracyPredictor predictor(space, *p);
  EXPECT_EQ(predictor.kind(), "mlp");
  const size_t d = index.size(), h = 16, per = d * h + h + h * h + h + h + 1;
  for (const auto& [c, acc] : heldout) {
    const std::vector<double> x = AccuracyPredictor::Features(space, c);
    double mean = 0;
    for (int m = 0; m < 3; ++m) {
      const float* w = p->mlp_weights.data() + m * per;
      std::vector<double> h1(h), h2(h);
      for (size_t u = 0; u < h; ++u) {
        double a = w[d * h + u];
        for (size_t j = 0; j < d; ++j) a += x[index[j]] * w[j * h + u];
        h1[u] = std::max(a, 0.0);
      }
      const float* w2 = w + d * h + h;
      for (size_t v = 0; v < h; ++v) {
        double a = w2[h * h + v];
        for (size_t u = 0; u < h; ++u) a += h1[u] * w2[u * h + v];
        h2[v] = std::max(a, 0.0);
      }
      const float* w3 = w2 + h * h + h;
      double out = w3[h];
      for (size_t v = 0; v < h; ++v) out += h2[v] * w3[v];
      mean += out / 3;
    }
    const double expected = std::clamp(p->intercept + p->mlp_output_scale * mean, 0.0, 1.0);
    EXPECT_NEAR(predictor.Predict(c), expected, 1e-6) << space.ToText(c);
  }
}

TEST(MlpPredictorTest, ValidateNamesTheProblem) {
  const ConfigSpace space = Space("smallres28");
  const auto s = NonLinearSamples(space, 30, 41);
  auto fitted = AccuracyPredictor::FitMlp(space, s, s, 4, 2, 2, 1e-3, 1);
  ASSERT_TRUE(fitted.ok()) << fitted.status();
  const PredictorParams p = *fitted;
  auto expect_bad = [&](PredictorParams q, const std::string& message) {
    const absl::Status st = AccuracyPredictor::Validate(space, q);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_NE(st.message().find(message), std::string::npos) << st.message();
  };
  PredictorParams q = p;
  q.mlp_weights.pop_back();
  expect_bad(q, "weights, expected");
  q = p;
  q.mlp_weights[3] = NAN;
  expect_bad(q, "mlp: weight 3 is not finite");
  q = p;
  q.mlp_input_names[0] = "b42.width=0";
  expect_bad(q, "mlp: input 'b42.width=0' is not a feature of architecture 'smallres28'");
  q = p;
  q.mlp_input_names[1] = q.mlp_input_names[0];
  expect_bad(q, "appears twice");
  q = p;
  q.mlp_hidden = 0;
  expect_bad(q, "mlp: 0 hidden units, must be 1 to 128");
  q = p;
  q.mlp_members = 33;
  expect_bad(q, "mlp: 33 members, must be 1 to 32");
  q = p;
  q.mlp_output_scale = 0;
  expect_bad(q, "output scale 0 must be finite and > 0");
  q = p;
  q.support_configs = {space.ToText(space.Full())};
  expect_bad(q, "kind 'mlp' has kernel fields");
  q = p;
  q.mlp_input_names.clear();
  q.mlp_weights.clear();
  expect_bad(q, "mlp: no inputs");
  q = p;
  q.kind = "krr";
  expect_bad(q, "kind 'krr' has mlp fields");
  // Built anyway (callers are meant to validate first), an invalid network is not evaluated:
  // it predicts its intercept instead of reading past its buffers.
  q = p;
  q.mlp_hidden = 1000;
  q.intercept = 0.5;
  const AccuracyPredictor unchecked(space, q);
  EXPECT_EQ(unchecked.Predict(space.Full()), 0.5);
  for (auto [hidden, members, epochs, decay] :
       {std::tuple{0, 5, 10, 1e-3}, {64, 0, 10, 1e-3}, {64, 5, 0, 1e-3}, {64, 5, 10, -1.0}}) {
    EXPECT_EQ(
        AccuracyPredictor::FitMlp(space, s, s, hidden, members, epochs, decay).status().code(),
        absl::StatusCode::kInvalidArgument)
        << hidden << " " << members << " " << epochs << " " << decay;
  }
}

// Predict works from per-block tables; it must equal the kernel formula of the header
// evaluated directly on the feature vectors.
TEST(KrrPredictorTest, PredictEqualsTheKernelFormula) {
  const ConfigSpace space = Space("smallres28");
  const auto fitted = NonLinearSamples(space, 60, 21), heldout = NonLinearSamples(space, 40, 22);
  auto p = AccuracyPredictor::FitKrr(space, fitted, heldout, 0.5, 0.03);
  ASSERT_TRUE(p.ok()) << p.status();
  const std::vector<int> index = FeatureIndices(space, p->kernel_feature_names);
  const AccuracyPredictor predictor(space, *p);
  EXPECT_EQ(predictor.kind(), "krr");
  const AccuracyPredictor copy = predictor;
  for (const auto& [c, acc] : heldout) {
    const std::vector<double> x = AccuracyPredictor::Features(space, c);
    double f = p->intercept;
    for (size_t k = 0; k < p->support_configs.size(); ++k) {
      const std::vector<double> s =
          AccuracyPredictor::Features(space, *space.Parse(p->support_configs[k]));
      double d = 0;
      for (size_t j = 0; j < index.size(); ++j) {
        const double t = p->kernel_scales[j] * (x[index[j]] - s[index[j]]);
        d += t * t;
      }
      f += p->dual_coefficients[k] * std::exp(-d);
    }
    EXPECT_NEAR(predictor.Predict(c), 1.0 - std::exp(f), 1e-12) << space.ToText(c);
    EXPECT_EQ(copy.Predict(c), predictor.Predict(c));
  }
}

TEST(KrrPredictorTest, FitRejectsBadHyperparameters) {
  const ConfigSpace space = Space("smallres28");
  const auto s = NonLinearSamples(space, 10, 1);
  for (auto [g, l] : {std::pair{0.0, 0.1}, {0.3, 0.0}, {-1.0, 0.1}, {0.3, double(NAN)}}) {
    auto r = AccuracyPredictor::FitKrr(space, s, s, g, l);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << g << " " << l;
  }
}

TEST(KrrPredictorTest, ValidateNamesTheProblem) {
  const ConfigSpace space = Space("smallres28");
  PredictorParams p;
  p.kind = "krr";
  p.target = "log_error";
  p.intercept = -2.3;
  p.kernel_feature_names = {"b0.width", "int8"};
  p.kernel_scales = {0.5, 0.2};
  p.support_configs = {space.ToText(space.Full()), space.ToText(space.Smallest())};
  p.dual_coefficients = {0.1, -0.2};
  p.kernel_gamma = 0.3;
  p.kernel_lambda = 0.01;
  ASSERT_TRUE(AccuracyPredictor::Validate(space, p).ok()) << AccuracyPredictor::Validate(space, p);
  auto expect_bad = [&](PredictorParams q, const std::string& message) {
    const absl::Status st = AccuracyPredictor::Validate(space, q);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_NE(st.message().find(message), std::string::npos) << st.message();
  };
  PredictorParams q = p;
  q.target = "logit";
  expect_bad(q, "target 'logit' is not 'accuracy' or 'log_error'");
  q = p;
  q.kernel_scales.pop_back();
  expect_bad(q, "krr: 2 kernel feature names but 1 kernel scales");
  q = p;
  q.kernel_feature_names[0] = "b9.width";
  expect_bad(q, "krr: kernel feature 'b9.width' is not a feature of architecture 'smallres28'");
  q = p;
  q.kernel_feature_names[0] = "int8_x_width";
  expect_bad(q, "krr: kernel feature 'int8_x_width' depends on every block");
  q = p;
  q.kernel_feature_names[0] = "int8";
  expect_bad(q, "krr: kernel feature 'int8' appears twice");
  q = p;
  q.kernel_scales[1] = -1;
  expect_bad(q, "krr: kernel scale of 'int8' is -1, must be finite and >= 0");
  q = p;
  q.kernel_feature_names.clear();
  q.kernel_scales.clear();
  expect_bad(q, "krr: no kernel features");
  q = p;
  q.support_configs.clear();
  q.dual_coefficients.clear();
  expect_bad(q, "krr: no support configurations");
  q = p;
  q.dual_coefficients.push_back(0.3);
  expect_bad(q, "krr: 2 support configurations but 3 dual coefficients");
  q = p;
  q.support_configs[1] = "d=7 w=1 r=1 p=f32";
  expect_bad(q, "krr: support configuration 1 ('d=7 w=1 r=1 p=f32'): ");
  q = p;
  q.dual_coefficients[0] = INFINITY;
  expect_bad(q, "krr: dual coefficient 0 is not finite");
  q = p;
  q.feature_names = {"int8"};
  q.coefficients = {0.1};
  expect_bad(q, "kind 'krr' has 1 linear coefficients");
  q = p;
  q.kernel_lambda = NAN;
  expect_bad(q, "krr: kernel_gamma 0.3 / kernel_lambda nan must be finite and >= 0");
  q = p;
  q.support_configs.assign(AccuracyPredictor::kMaxSupport + 1, p.support_configs[0]);
  q.dual_coefficients.assign(AccuracyPredictor::kMaxSupport + 1, 0.0);
  expect_bad(q, "krr: 8193 support configurations, at most 8192");
  // Kernel fields on a ridge predictor are an error, not silently ignored.
  q = p;
  q.kind = "ridge";
  expect_bad(q, "kind 'ridge' has kernel fields");
  q = p;
  q.kind = "gp";
  expect_bad(q, "kind 'gp' is not 'ridge', 'krr' or 'mlp'");
  q = p;
  q.kind = "mlp";
  expect_bad(q, "kind 'mlp' has kernel fields");
}

TEST(PriorPredictorTest, IsMonotoneAndLabelled) {
  for (const char* name : {"smallres28", "mobilenetv2"}) {
    const ConfigSpace space = Space(name);
    const PriorPredictor prior(space);
    EXPECT_TRUE(prior.is_prior());
    EXPECT_EQ(prior.kind(), "prior");
    EXPECT_NEAR(prior.Predict(space.Full()), 0.95, 1e-12);
    EXPECT_LT(prior.Predict(space.Full(Precision::kInt8)), prior.Predict(space.Full()));
    EXPECT_LT(prior.Predict(space.Smallest()), prior.Predict(space.Narrowest()));
    // Every step up in one dimension (from Neighbours) never lowers the prior.
    std::mt19937_64 rng(3);
    for (int k = 0; k < 200; ++k) {
      const Config c = space.Sample(rng);
      const double base = prior.Predict(c);
      EXPECT_GE(base, 0.6);
      for (const Config& n : space.Neighbours(c)) {
        bool up = n.precision == c.precision || n.precision == Precision::kF32;
        for (size_t s = 0; s < c.depth.size(); ++s) up = up && n.depth[s] >= c.depth[s];
        for (size_t b = 0; b < c.width_idx.size(); ++b) {
          if (!space.BlockActive(c, static_cast<int>(b))) continue;
          up = up && n.width_idx[b] >= c.width_idx[b] && n.rank_idx[b] <= c.rank_idx[b];
        }
        if (up) {
          EXPECT_GE(prior.Predict(n), base - 1e-12) << space.ToText(n);
        }
      }
    }
  }
}

// A one-feature ridge predictor: 0.9, minus 0.01 for int8.
PredictorParams Int8OnlyPredictor() {
  PredictorParams p;
  p.kind = "ridge";
  p.feature_names = {"int8"};
  p.coefficients = {-0.01};
  p.intercept = 0.9;
  return p;
}

TEST(AccuracyEstimatorTest, ModelWithoutPredictorGetsThePrior) {
  auto arch = BuiltinArch("smallres28");
  ASSERT_TRUE(arch.ok());
  auto model = Model::Random(*arch, 1);
  EXPECT_TRUE(MakeAccuracyEstimator(*model)->is_prior());
  model->predictor = Int8OnlyPredictor();
  auto est = MakeAccuracyEstimator(*model);
  EXPECT_FALSE(est->is_prior());
  EXPECT_NEAR(est->Predict(model->space().Full(Precision::kInt8)), 0.89, 1e-12);
}

// Configurations the bundle measured on the validation split are answered from the table
// (exactly); test-split rows and unmeasured configurations go to the regression.
TEST(AccuracyEstimatorTest, MeasuredValidationConfigurationsAreAnsweredExactly) {
  auto arch = BuiltinArch("smallres28");
  ASSERT_TRUE(arch.ok());
  auto model = Model::Random(*arch, 1);
  model->predictor = Int8OnlyPredictor();
  const ConfigSpace& space = model->space();
  model->measured = {{space.ToText(space.Full()), 0.9366, "val", false},
                     {space.ToText(space.Smallest()), 0.70, "test", true}};
  auto est = MakeAccuracyEstimator(*model);
  EXPECT_FALSE(est->is_prior());
  EXPECT_EQ(est->kind(), "ridge");
  EXPECT_NEAR(est->Predict(space.Full()), 0.9366, 1e-12);
  EXPECT_NEAR(est->Predict(space.Full(Precision::kInt8)), 0.89, 1e-12);
  EXPECT_NEAR(est->Predict(space.Smallest()),
              space.Smallest().precision == Precision::kInt8 ? 0.89 : 0.9, 1e-12);
}

}  // namespace
}  // namespace adaspring::engine

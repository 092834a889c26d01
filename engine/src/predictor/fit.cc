// Fitting the predictors and measuring them (AccuracyPredictor::Fit, FitKrr, FitSelected,
// KendallTau).
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "adaspring/engine/predictor.h"
#include "predictor/features.h"

namespace adaspring::engine {
namespace {

using predictor_internal::ForEachFeature;
using predictor_internal::MakePlan;
using predictor_internal::Plan;
using Samples = std::vector<std::pair<Config, double>>;

absl::Status CheckSamples(const ConfigSpace& space, const Samples& samples, const char* what) {
  if (samples.size() < 2)
    return absl::InvalidArgumentError(absl::StrCat("predictor fit: need at least 2 ", what,
                                                   " configurations, got ", samples.size()));
  for (size_t i = 0; i < samples.size(); ++i) {
    absl::Status s = space.Validate(samples[i].first);
    if (!s.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("predictor fit: ", what, " configuration ", i, ": ", s.message()));
    const double acc = samples[i].second;
    if (!std::isfinite(acc) || acc < 0 || acc > 1)
      return absl::InvalidArgumentError(absl::StrCat("predictor fit: ", what, " accuracy ", i,
                                                     " is ", acc, ", not a fraction in [0, 1]"));
  }
  return absl::OkStatus();
}

// A standardised feature whose spread is below this is constant on the fitted set (e.g. the
// int8 flag when every sample is f32): it gets coefficient 0 instead of a division by ~0.
constexpr double kMinFeatureStd = 1e-9;
// Added to the diagonal so that collinear features (a stage's depth and its blocks' active
// flags) keep the system solvable even with ridge_lambda = 0.
constexpr double kDiagonalFloor = 1e-9;

// FitSelected: folds, the smallest fitted set it cross-validates, and the krr grid (on
// smallres28's table every point of it was within 0.1 pt CV MAE of the best; the grid keeps
// the refit to seconds at ~1000 fitted configurations).
constexpr int kFolds = 5;
constexpr int kMinCvSamples = 10;
constexpr double kKrrGammas[] = {0.1, 0.3, 1.0};
constexpr double kKrrLambdas[] = {0.003, 0.01, 0.03, 0.1};

// The mlp FitSelected tries (on smallres28's table, 5-fold CV: tau 0.79 against krr's 0.72;
// wider, longer-trained or more strongly decayed networks were no better).
constexpr int kMlpHidden = 64, kMlpMembers = 5, kMlpEpochs = 100;
constexpr double kMlpWeightDecay = 1e-3;
constexpr uint64_t kMlpSeed = 1;

}  // namespace

namespace {

// Feature matrix (one row per sample) and targets.
void Design(const Plan& plan, const Samples& samples, Eigen::MatrixXd* x, Eigen::VectorXd* y) {
  const Eigen::Index n = static_cast<Eigen::Index>(samples.size());
  x->resize(n, static_cast<Eigen::Index>(plan.names.size()));
  y->resize(n);
  for (Eigen::Index r = 0; r < n; ++r) {
    ForEachFeature(plan, samples[r].first, [x, r](int i, double v) { (*x)(r, i) = v; });
    (*y)(r) = samples[r].second;
  }
}

// A space's feature plan with the feature matrix and targets of `samples`.
struct DesignMatrix {
  Plan plan;
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
};
DesignMatrix MakeDesign(const ConfigSpace& space, const Samples& samples) {
  DesignMatrix d{MakePlan(space), {}, {}};
  Design(d.plan, samples, &d.x, &d.y);
  return d;
}

absl::Status CheckFitAndHeldout(const ConfigSpace& space, const Samples& fitted,
                                const Samples& heldout) {
  if (absl::Status s = CheckSamples(space, fitted, "fitted"); !s.ok()) return s;
  return CheckSamples(space, heldout, "held-out");
}

struct Linear {
  Eigen::VectorXd coef;  // on raw features
  double intercept = 0;
};

// Ridge on standardised features, mapped back to raw-feature coefficients.
Linear SolveRidge(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, double lambda) {
  const Eigen::Index n = x.rows(), p = x.cols();
  // Standardise so that one lambda penalises every feature alike, whatever its scale.
  const Eigen::RowVectorXd mean = x.colwise().mean();
  Eigen::MatrixXd z = x.rowwise() - mean;
  Eigen::VectorXd scale(p);
  for (Eigen::Index j = 0; j < p; ++j) {
    const double sd = std::sqrt(z.col(j).squaredNorm() / n);
    scale(j) = sd > kMinFeatureStd ? 1.0 / sd : 0.0;
    z.col(j) *= scale(j);
  }
  const double y_mean = y.mean();
  Eigen::MatrixXd a = z.transpose() * z;
  a.diagonal().array() += lambda + kDiagonalFloor;
  const Eigen::VectorXd w = a.ldlt().solve(z.transpose() * (y.array() - y_mean).matrix());
  Linear out;
  out.coef.resize(p);
  out.intercept = y_mean;
  for (Eigen::Index j = 0; j < p; ++j) {
    const double c = w(j) * scale(j);
    out.coef(j) = std::isfinite(c) ? c : 0.0;
    out.intercept -= out.coef(j) * mean(j);
  }
  return out;
}

// 1 - accuracy is floored here before the log (an accuracy of exactly 1 is finite).
constexpr double kMinError = 1e-4;
double LogError(double acc) { return std::log(std::max(1.0 - acc, kMinError)); }

// The krr inputs: local features that vary on the fitted set, standardised on it.
struct KernelInputs {
  std::vector<int> features;  // plan feature indices
  Eigen::RowVectorXd mean, inv_sd;
};

KernelInputs ChooseKernelInputs(const Plan& plan, const Eigen::MatrixXd& x) {
  KernelInputs k;
  const Eigen::Index n = x.rows();
  std::vector<double> mean, inv;
  for (Eigen::Index j = 0; j < x.cols(); ++j) {
    if (!plan.local[j]) continue;
    const double m = x.col(j).mean();
    const double sd = std::sqrt((x.col(j).array() - m).square().sum() / n);
    if (!(sd > kMinFeatureStd)) continue;
    k.features.push_back(static_cast<int>(j));
    mean.push_back(m);
    inv.push_back(1.0 / sd);
  }
  k.mean = Eigen::Map<Eigen::RowVectorXd>(mean.data(), static_cast<Eigen::Index>(mean.size()));
  k.inv_sd = Eigen::Map<Eigen::RowVectorXd>(inv.data(), static_cast<Eigen::Index>(inv.size()));
  return k;
}

Eigen::MatrixXd Standardise(const KernelInputs& k, const Eigen::MatrixXd& x) {
  Eigen::MatrixXd z(x.rows(), static_cast<Eigen::Index>(k.features.size()));
  for (size_t j = 0; j < k.features.size(); ++j)
    z.col(j) = (x.col(k.features[j]).array() - k.mean(j)) * k.inv_sd(j);
  return z;
}

// |a_i - b_j|^2 for all rows.
Eigen::MatrixXd SquaredDistances(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  Eigen::MatrixXd d = -2.0 * a * b.transpose();
  d.colwise() += a.rowwise().squaredNorm();
  d.rowwise() += b.rowwise().squaredNorm().transpose();
  return d.cwiseMax(0.0);
}

// (K + lambda I) alpha = t; false when the system is not positive definite.
bool SolveKrr(Eigen::MatrixXd k, const Eigen::VectorXd& t, double lambda, Eigen::VectorXd* alpha) {
  k.diagonal().array() += lambda;
  Eigen::LLT<Eigen::MatrixXd> llt(k);
  if (llt.info() != Eigen::Success) return false;
  *alpha = llt.solve(t);
  return alpha->allFinite();
}

// Kendall tau and MAE (points) of predictions against measurements.
void Quality(const std::vector<double>& predicted, const std::vector<double>& measured, double* tau,
             double* mae_pt) {
  double abs_err_sum = 0;
  for (size_t i = 0; i < predicted.size(); ++i) abs_err_sum += std::abs(predicted[i] - measured[i]);
  const double t = AccuracyPredictor::KendallTau(predicted, measured);
  *tau = std::isfinite(t) ? t : 0.0;  // constant predictions rank nothing
  *mae_pt = predicted.empty() ? 0.0 : 100.0 * abs_err_sum / predicted.size();
}

// Quality on configurations the fit never saw, through the same Predict path users call.
void MeasureHeldout(const ConfigSpace& space, const Samples& fitted, const Samples& heldout,
                    PredictorParams* params) {
  params->fitted_configs = static_cast<int>(fitted.size());
  params->heldout_configs = static_cast<int>(heldout.size());
  const AccuracyPredictor predictor(space, *params);
  std::vector<double> predicted, measured;
  for (const auto& [config, acc] : heldout) {
    predicted.push_back(predictor.Predict(config));
    measured.push_back(acc);
  }
  Quality(predicted, measured, &params->kendall_tau, &params->mae_pt);
}

}  // namespace

absl::StatusOr<PredictorParams> AccuracyPredictor::Fit(const ConfigSpace& space,
                                                       const Samples& fitted,
                                                       const Samples& heldout,
                                                       double ridge_lambda) {
  if (!(ridge_lambda >= 0) || !std::isfinite(ridge_lambda))
    return absl::InvalidArgumentError(
        absl::StrCat("predictor fit: ridge_lambda must be >= 0, got ", ridge_lambda));
  if (absl::Status s = CheckFitAndHeldout(space, fitted, heldout); !s.ok()) return s;

  const DesignMatrix design = MakeDesign(space, fitted);
  const Plan& plan = design.plan;
  const Eigen::MatrixXd& x = design.x;
  const Eigen::VectorXd& y = design.y;
  const Linear fit = SolveRidge(x, y, ridge_lambda);
  if (!std::isfinite(fit.intercept))
    return absl::InternalError("predictor fit: the normal equations have no finite solution");

  PredictorParams params;
  params.kind = "ridge";
  params.feature_names = plan.names;
  params.coefficients.assign(fit.coef.data(), fit.coef.data() + fit.coef.size());
  params.intercept = fit.intercept;
  MeasureHeldout(space, fitted, heldout, &params);
  return params;
}

absl::StatusOr<PredictorParams> AccuracyPredictor::FitKrr(const ConfigSpace& space,
                                                          const Samples& fitted,
                                                          const Samples& heldout, double gamma,
                                                          double lambda) {
  if (!(gamma > 0) || !std::isfinite(gamma) || !(lambda > 0) || !std::isfinite(lambda))
    return absl::InvalidArgumentError(absl::StrCat(
        "predictor fit: krr gamma and lambda must be finite and > 0, got ", gamma, ", ", lambda));
  if (absl::Status s = CheckFitAndHeldout(space, fitted, heldout); !s.ok()) return s;
  if (fitted.size() > static_cast<size_t>(kMaxSupport))
    return absl::InvalidArgumentError(absl::StrCat("predictor fit: krr takes at most ", kMaxSupport,
                                                   " fitted configurations, got ", fitted.size()));

  const DesignMatrix design = MakeDesign(space, fitted);
  const Plan& plan = design.plan;
  const Eigen::MatrixXd& x = design.x;
  const Eigen::VectorXd& y = design.y;
  const KernelInputs inputs = ChooseKernelInputs(plan, x);
  if (inputs.features.empty())
    return absl::InvalidArgumentError("predictor fit: krr: no feature varies on the fitted set");
  const Eigen::MatrixXd z = Standardise(inputs, x);
  const double g = gamma / static_cast<double>(inputs.features.size());
  const Eigen::VectorXd t = y.unaryExpr([](double a) { return LogError(a); });
  const double t_mean = t.mean();
  Eigen::VectorXd alpha;
  if (!SolveKrr((-g * SquaredDistances(z, z)).array().exp().matrix(), (t.array() - t_mean).matrix(),
                lambda, &alpha))
    return absl::InternalError("predictor fit: krr: the kernel system has no finite solution");

  PredictorParams params;
  params.kind = "krr";
  params.target = "log_error";
  params.intercept = t_mean;
  for (size_t j = 0; j < inputs.features.size(); ++j) {
    params.kernel_feature_names.push_back(plan.names[inputs.features[j]]);
    params.kernel_scales.push_back(std::sqrt(g) * inputs.inv_sd(static_cast<Eigen::Index>(j)));
  }
  for (size_t k = 0; k < fitted.size(); ++k) {
    params.support_configs.push_back(space.ToText(fitted[k].first));
    params.dual_coefficients.push_back(alpha(static_cast<Eigen::Index>(k)));
  }
  params.kernel_gamma = gamma;
  params.kernel_lambda = lambda;
  MeasureHeldout(space, fitted, heldout, &params);
  return params;
}

namespace {

// One member of an mlp ensemble, trained in double precision.
struct MlpNet {
  Eigen::MatrixXd w1, w2;  // inputs x hidden, hidden x hidden
  Eigen::RowVectorXd b1, b2;
  Eigen::VectorXd w3;
  double b3 = 0;
};

// The choice indicators that vary over the rows of `x` (the mlp's inputs), by plan index.
std::vector<int> ChooseMlpInputs(const Plan& plan, const Eigen::MatrixXd& x) {
  // The plan's indicator features (-1 where a block lacks one), in feature order.
  std::vector<int> indicators = {plan.int8_feature};
  for (const predictor_internal::BlockPlan& b : plan.blocks) {
    indicators.push_back(b.active_feature);
    indicators.insert(indicators.end(), b.width_onehot.begin(), b.width_onehot.begin() + b.widths);
    indicators.insert(indicators.end(), b.rank_onehot.begin(), b.rank_onehot.begin() + b.ranks);
  }
  std::sort(indicators.begin(), indicators.end());
  std::vector<int> inputs;
  for (int i : indicators) {
    if (i < 0) continue;
    const auto col = x.col(static_cast<Eigen::Index>(i));
    if (col.maxCoeff() > col.minCoeff()) inputs.push_back(i);
    if (static_cast<int>(inputs.size()) == AccuracyPredictor::kMaxMlpInputs) break;
  }
  return inputs;
}

Eigen::VectorXd MlpForward(const MlpNet& net, const Eigen::MatrixXd& x) {
  const Eigen::MatrixXd z1 = ((x * net.w1).rowwise() + net.b1).cwiseMax(0.0);
  const Eigen::MatrixXd z2 = ((z1 * net.w2).rowwise() + net.b2).cwiseMax(0.0);
  return (z2 * net.w3).array() + net.b3;
}

// Adam on the mean squared error of x -> t, L2 weight decay added to every gradient.
MlpNet TrainMlp(const Eigen::MatrixXd& x, const Eigen::VectorXd& t, int hidden, int epochs,
                double weight_decay, uint64_t seed) {
  constexpr double kLr = 3e-3, kBeta1 = 0.9, kBeta2 = 0.999, kEps = 1e-8;
  constexpr Eigen::Index kBatch = 64;
  const Eigen::Index n = x.rows(), d = x.cols(), h = hidden;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  auto init = [&](Eigen::Index rows, Eigen::Index cols) {
    Eigen::MatrixXd m(rows, cols);
    const double sd = 1.0 / std::sqrt(static_cast<double>(rows));
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = sd * normal(rng);
    return m;
  };
  MlpNet net;
  net.w1 = init(d, h);
  net.w2 = init(h, h);
  net.w3 = init(h, 1);
  net.b1 = Eigen::RowVectorXd::Zero(h);
  net.b2 = Eigen::RowVectorXd::Zero(h);
  // Adam moments, in the same shapes.
  MlpNet m1{Eigen::MatrixXd::Zero(d, h), Eigen::MatrixXd::Zero(h, h), Eigen::RowVectorXd::Zero(h),
            Eigen::RowVectorXd::Zero(h), Eigen::VectorXd::Zero(h),    0};
  MlpNet m2 = m1;
  int64_t step = 0;
  auto adam = [&](auto& param, auto& grad, auto& mom1, auto& mom2, double c1, double c2) {
    grad += weight_decay * param;
    mom1 = kBeta1 * mom1 + (1 - kBeta1) * grad;
    mom2 = kBeta2 * mom2 + (1 - kBeta2) * grad.cwiseProduct(grad);
    param -= (kLr * (mom1 / c1).array() / ((mom2 / c2).array().sqrt() + kEps)).matrix();
  };
  std::vector<Eigen::Index> order(n);
  std::iota(order.begin(), order.end(), 0);
  for (int epoch = 0; epoch < epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    for (Eigen::Index start = 0; start < n; start += kBatch) {
      const Eigen::Index b = std::min(kBatch, n - start);
      const std::vector<Eigen::Index> rows(order.begin() + start, order.begin() + start + b);
      const Eigen::MatrixXd xb = x(rows, Eigen::all);
      const Eigen::MatrixXd a1 = (xb * net.w1).rowwise() + net.b1;
      const Eigen::MatrixXd z1 = a1.cwiseMax(0.0);
      const Eigen::MatrixXd a2 = (z1 * net.w2).rowwise() + net.b2;
      const Eigen::MatrixXd z2 = a2.cwiseMax(0.0);
      const Eigen::VectorXd out = (z2 * net.w3).array() + net.b3;
      const Eigen::VectorXd g = 2.0 * (out - t(rows)) / static_cast<double>(b);
      Eigen::VectorXd gw3 = z2.transpose() * g;
      double gb3 = g.sum();
      const Eigen::MatrixXd g2 =
          ((g * net.w3.transpose()).array() * (a2.array() > 0).cast<double>()).matrix();
      Eigen::MatrixXd gw2 = z1.transpose() * g2;
      Eigen::RowVectorXd gb2 = g2.colwise().sum();
      const Eigen::MatrixXd g1 =
          ((g2 * net.w2.transpose()).array() * (a1.array() > 0).cast<double>()).matrix();
      Eigen::MatrixXd gw1 = xb.transpose() * g1;
      Eigen::RowVectorXd gb1 = g1.colwise().sum();
      ++step;
      const double c1 = 1 - std::pow(kBeta1, static_cast<double>(step));
      const double c2 = 1 - std::pow(kBeta2, static_cast<double>(step));
      adam(net.w1, gw1, m1.w1, m2.w1, c1, c2);
      adam(net.b1, gb1, m1.b1, m2.b1, c1, c2);
      adam(net.w2, gw2, m1.w2, m2.w2, c1, c2);
      adam(net.b2, gb2, m1.b2, m2.b2, c1, c2);
      adam(net.w3, gw3, m1.w3, m2.w3, c1, c2);
      gb3 += weight_decay * net.b3;
      m1.b3 = kBeta1 * m1.b3 + (1 - kBeta1) * gb3;
      m2.b3 = kBeta2 * m2.b3 + (1 - kBeta2) * gb3 * gb3;
      net.b3 -= kLr * (m1.b3 / c1) / (std::sqrt(m2.b3 / c2) + kEps);
    }
  }
  return net;
}

// An ensemble trained on (x, y): the targets standardised, one member per seed.
struct MlpEnsemble {
  std::vector<MlpNet> members;
  double mean = 0, scale = 1;
  Eigen::VectorXd Predict(const Eigen::MatrixXd& x) const {
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(x.rows());
    for (const MlpNet& net : members) sum += MlpForward(net, x);
    return (mean + scale * (sum / static_cast<double>(members.size())).array()).matrix();
  }
};

MlpEnsemble TrainEnsemble(const Eigen::MatrixXd& x, const Eigen::VectorXd& y, int hidden,
                          int members, int epochs, double weight_decay, uint64_t seed) {
  MlpEnsemble e;
  e.mean = y.mean();
  const double var = (y.array() - e.mean).square().mean();
  e.scale = var > 0 ? std::sqrt(var) : 1.0;
  const Eigen::VectorXd t = (y.array() - e.mean) / e.scale;
  for (int m = 0; m < members; ++m)
    e.members.push_back(TrainMlp(x, t, hidden, epochs, weight_decay, seed + 1000003ULL * m));
  return e;
}

}  // namespace

absl::StatusOr<PredictorParams> AccuracyPredictor::FitMlp(const ConfigSpace& space,
                                                          const Samples& fitted,
                                                          const Samples& heldout, int hidden,
                                                          int members, int epochs,
                                                          double weight_decay, uint64_t seed) {
  if (hidden < 1 || hidden > kMaxMlpHidden || members < 1 || members > kMaxMlpMembers ||
      epochs < 1 || !std::isfinite(weight_decay) || weight_decay < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("predictor fit: mlp needs 1..", kMaxMlpHidden, " hidden units, 1..",
                     kMaxMlpMembers, " members, epochs >= 1 and a finite weight decay >= 0; got ",
                     hidden, ", ", members, ", ", epochs, ", ", weight_decay));
  if (absl::Status s = CheckFitAndHeldout(space, fitted, heldout); !s.ok()) return s;
  const DesignMatrix design = MakeDesign(space, fitted);
  const Plan& plan = design.plan;
  const Eigen::MatrixXd& x = design.x;
  const Eigen::VectorXd& y = design.y;
  const std::vector<int> inputs = ChooseMlpInputs(plan, x);
  if (inputs.empty())
    return absl::InvalidArgumentError(
        "predictor fit: mlp: no choice indicator varies on the fitted set");
  const Eigen::MatrixXd xi = x(Eigen::all, inputs);
  const MlpEnsemble e = TrainEnsemble(xi, y, hidden, members, epochs, weight_decay, seed);
  PredictorParams params;
  params.kind = "mlp";
  params.target = "accuracy";
  params.intercept = e.mean;
  params.mlp_output_scale = e.scale;
  params.mlp_hidden = hidden;
  params.mlp_members = members;
  params.mlp_weight_decay = weight_decay;
  params.mlp_epochs = epochs;
  for (int i : inputs) params.mlp_input_names.push_back(plan.names[i]);
  for (const MlpNet& net : e.members) {
    auto put = [&params](const auto& m) {  // row by row
      for (Eigen::Index r = 0; r < m.rows(); ++r)
        for (Eigen::Index c = 0; c < m.cols(); ++c)
          params.mlp_weights.push_back(static_cast<float>(m(r, c)));
    };
    put(net.w1);  // a row per input
    put(net.b1);
    put(net.w2);  // a row per first-layer unit
    put(net.b2);
    put(net.w3);
    params.mlp_weights.push_back(static_cast<float>(net.b3));
  }
  MeasureHeldout(space, fitted, heldout, &params);
  return params;
}

absl::StatusOr<PredictorParams> AccuracyPredictor::FitSelected(
    const ConfigSpace& space, const Samples& fitted, const Samples& heldout, double ridge_lambda,
    std::vector<PredictorCvScore>* scores) {
  if (scores) scores->clear();
  if (!(ridge_lambda >= 0) || !std::isfinite(ridge_lambda))
    return absl::InvalidArgumentError(
        absl::StrCat("predictor fit: ridge_lambda must be >= 0, got ", ridge_lambda));
  if (absl::Status s = CheckSamples(space, fitted, "fitted"); !s.ok()) return s;
  if (fitted.size() < static_cast<size_t>(kMinCvSamples) ||
      fitted.size() > static_cast<size_t>(kMaxSupport))
    return Fit(space, fitted, heldout, ridge_lambda);

  const DesignMatrix design = MakeDesign(space, fitted);
  const Plan& plan = design.plan;
  const Eigen::MatrixXd& x = design.x;
  const Eigen::VectorXd& y = design.y;
  const Eigen::Index n = x.rows();
  // Deterministic folds: a fixed permutation, position modulo kFolds.
  std::vector<int> fold(n);
  {
    std::vector<int> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    std::mt19937_64 rng(0x5eedf01dULL);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (Eigen::Index i = 0; i < n; ++i) fold[perm[i]] = static_cast<int>(i % kFolds);
  }
  std::vector<std::vector<Eigen::Index>> train(kFolds), test(kFolds);
  for (Eigen::Index i = 0; i < n; ++i)
    for (int f = 0; f < kFolds; ++f) (fold[i] == f ? test : train)[f].push_back(i);
  const std::vector<double> measured(y.data(), y.data() + n);
  std::vector<PredictorCvScore> all;

  {  // ridge
    std::vector<double> predicted(n);
    for (int f = 0; f < kFolds; ++f) {
      const Linear fit = SolveRidge(x(train[f], Eigen::all), y(train[f]), ridge_lambda);
      for (Eigen::Index i : test[f])
        predicted[i] = std::clamp(fit.intercept + x.row(i).dot(fit.coef), 0.0, 1.0);
    }
    PredictorCvScore s{"ridge", ridge_lambda, 0};
    Quality(predicted, measured, &s.kendall_tau, &s.mae_pt);
    all.push_back(s);
  }
  // krr: features standardised once on all of `fitted` (their distribution, not the targets).
  const KernelInputs inputs = ChooseKernelInputs(plan, x);
  if (!inputs.features.empty()) {
    const Eigen::MatrixXd d2 = SquaredDistances(Standardise(inputs, x), Standardise(inputs, x));
    const Eigen::VectorXd t = y.unaryExpr([](double a) { return LogError(a); });
    for (double gamma : kKrrGammas) {
      const double g = gamma / static_cast<double>(inputs.features.size());
      const Eigen::MatrixXd k = (-g * d2).array().exp().matrix();
      for (double lambda : kKrrLambdas) {
        std::vector<double> predicted(n);
        bool ok = true;
        for (int f = 0; f < kFolds && ok; ++f) {
          const Eigen::VectorXd tf = t(train[f]);
          const double t_mean = tf.mean();
          Eigen::VectorXd alpha;
          ok = SolveKrr(k(train[f], train[f]), (tf.array() - t_mean).matrix(), lambda, &alpha);
          if (!ok) break;
          const Eigen::VectorXd out = k(test[f], train[f]) * alpha;
          for (size_t j = 0; j < test[f].size(); ++j)
            predicted[test[f][j]] = std::clamp(1.0 - std::exp(out(j) + t_mean), 0.0, 1.0);
        }
        if (!ok) continue;
        PredictorCvScore s{"krr", lambda, gamma};
        Quality(predicted, measured, &s.kendall_tau, &s.mae_pt);
        all.push_back(s);
      }
    }
  }
  {  // mlp
    const std::vector<int> inputs = ChooseMlpInputs(plan, x);
    if (!inputs.empty()) {
      const Eigen::MatrixXd xi = x(Eigen::all, inputs);
      std::vector<double> predicted(n);
      for (int f = 0; f < kFolds; ++f) {
        const MlpEnsemble e = TrainEnsemble(xi(train[f], Eigen::all), y(train[f]), kMlpHidden,
                                            kMlpMembers, kMlpEpochs, kMlpWeightDecay, kMlpSeed);
        const Eigen::VectorXd out = e.Predict(xi(test[f], Eigen::all));
        for (size_t j = 0; j < test[f].size(); ++j)
          predicted[test[f][j]] = std::clamp(out(static_cast<Eigen::Index>(j)), 0.0, 1.0);
      }
      PredictorCvScore s{"mlp", kMlpWeightDecay, 0};
      Quality(predicted, measured, &s.kendall_tau, &s.mae_pt);
      all.push_back(s);
    }
  }
  size_t best = 0;
  for (size_t i = 1; i < all.size(); ++i)
    if (all[i].mae_pt < all[best].mae_pt) best = i;
  all[best].chosen = true;
  if (scores) *scores = all;
  if (all[best].kind == "ridge") return Fit(space, fitted, heldout, ridge_lambda);
  if (all[best].kind == "mlp")
    return FitMlp(space, fitted, heldout, kMlpHidden, kMlpMembers, kMlpEpochs, kMlpWeightDecay,
                  kMlpSeed);
  return FitKrr(space, fitted, heldout, all[best].gamma, all[best].lambda);
}

double AccuracyPredictor::KendallTau(const std::vector<double>& a, const std::vector<double>& b) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (a.size() != b.size() || a.size() < 2) return nan;
  int64_t concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  const size_t n = a.size();
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0) ++ties_a;
      if (db == 0) ++ties_b;
      if (da * db > 0) ++concordant;
      if (da * db < 0) ++discordant;
    }
  }
  const double pairs = static_cast<double>(n) * (n - 1) / 2;
  const double denom = std::sqrt((pairs - ties_a) * (pairs - ties_b));
  if (!(denom > 0)) return nan;
  return (concordant - discordant) / denom;
}

absl::StatusOr<PredictorParams> AccuracyPredictor::FitMeasured(
    const ConfigSpace& space, const std::vector<MeasuredConfig>& measured, double ridge_lambda,
    std::vector<PredictorCvScore>* scores) {
  std::vector<std::pair<Config, double>> fit, held;
  for (const MeasuredConfig& m : measured) {
    if (m.split != "val") continue;
    absl::StatusOr<Config> c = space.Parse(m.config);
    if (!c.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("measured configuration '", m.config, "': ", c.status().message()));
    (m.heldout ? held : fit).emplace_back(*c, m.accuracy);
  }
  return FitSelected(space, fit, held, ridge_lambda, scores);
}

}  // namespace adaspring::engine

// Fitting the ridge predictor and measuring it (AccuracyPredictor::Fit, KendallTau).
#include <Eigen/Dense>
#include <cmath>
#include <limits>

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

}  // namespace

absl::StatusOr<PredictorParams> AccuracyPredictor::Fit(const ConfigSpace& space,
                                                       const Samples& fitted,
                                                       const Samples& heldout,
                                                       double ridge_lambda) {
  if (!(ridge_lambda >= 0) || !std::isfinite(ridge_lambda))
    return absl::InvalidArgumentError(
        absl::StrCat("predictor fit: ridge_lambda must be >= 0, got ", ridge_lambda));
  if (absl::Status s = CheckSamples(space, fitted, "fitted"); !s.ok()) return s;
  if (absl::Status s = CheckSamples(space, heldout, "held-out"); !s.ok()) return s;

  const Plan plan = MakePlan(space);
  const Eigen::Index n = static_cast<Eigen::Index>(fitted.size());
  const Eigen::Index p = static_cast<Eigen::Index>(plan.names.size());
  Eigen::MatrixXd x(n, p);
  Eigen::VectorXd y(n);
  for (Eigen::Index r = 0; r < n; ++r) {
    ForEachFeature(plan, fitted[r].first, [&x, r](int i, double v) { x(r, i) = v; });
    y(r) = fitted[r].second;
  }

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
  a.diagonal().array() += ridge_lambda + kDiagonalFloor;
  const Eigen::VectorXd w = a.ldlt().solve(z.transpose() * (y.array() - y_mean).matrix());

  PredictorParams params;
  params.kind = "ridge";
  params.feature_names = plan.names;
  params.coefficients.resize(p);
  params.intercept = y_mean;
  for (Eigen::Index j = 0; j < p; ++j) {
    const double c = w(j) * scale(j);
    params.coefficients[j] = std::isfinite(c) ? c : 0.0;
    params.intercept -= params.coefficients[j] * mean(j);
  }
  if (!std::isfinite(params.intercept))
    return absl::InternalError("predictor fit: the normal equations have no finite solution");
  params.fitted_configs = static_cast<int>(fitted.size());
  params.heldout_configs = static_cast<int>(heldout.size());

  // Quality on configurations the fit never saw, through the same Predict path users call.
  const AccuracyPredictor predictor(space, params);
  std::vector<double> predicted, measured;
  double abs_err_sum = 0;
  for (const auto& [config, acc] : heldout) {
    predicted.push_back(predictor.Predict(config));
    measured.push_back(acc);
    abs_err_sum += std::abs(predicted.back() - acc);
  }
  const double tau = KendallTau(predicted, measured);
  params.kendall_tau = std::isfinite(tau) ? tau : 0.0;  // constant predictions rank nothing
  params.mae_pt = 100.0 * abs_err_sum / heldout.size();
  return params;
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
    const ConfigSpace& space, const std::vector<MeasuredConfig>& measured, double ridge_lambda) {
  std::vector<std::pair<Config, double>> fit, held;
  for (const MeasuredConfig& m : measured) {
    if (m.split != "val") continue;
    absl::StatusOr<Config> c = space.Parse(m.config);
    if (!c.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("measured configuration '", m.config, "': ", c.status().message()));
    (m.heldout ? held : fit).emplace_back(*c, m.accuracy);
  }
  return Fit(space, fit, held, ridge_lambda);
}

}  // namespace adaspring::engine

#include "adaspring/engine/predictor.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "predictor/features.h"

namespace adaspring::engine {

using predictor_internal::ForEachFeature;
using predictor_internal::MakePlan;
using predictor_internal::Plan;

AccuracyPredictor::AccuracyPredictor(const ConfigSpace& space, PredictorParams params)
    : params_(std::move(params)), plan_(std::make_shared<const Plan>(MakePlan(space))) {
  // Match by name so that a predictor stays usable if the feature order ever changes.
  std::map<std::string, double> by_name;
  const size_t n = std::min(params_.feature_names.size(), params_.coefficients.size());
  for (size_t i = 0; i < n; ++i) by_name[params_.feature_names[i]] = params_.coefficients[i];
  coef_.assign(plan_->names.size(), 0.0);
  for (size_t i = 0; i < plan_->names.size(); ++i) {
    auto it = by_name.find(plan_->names[i]);
    if (it != by_name.end() && std::isfinite(it->second)) coef_[i] = it->second;
  }
}

AccuracyPredictor::~AccuracyPredictor() = default;
AccuracyPredictor::AccuracyPredictor(const AccuracyPredictor&) = default;
AccuracyPredictor& AccuracyPredictor::operator=(const AccuracyPredictor&) = default;
AccuracyPredictor::AccuracyPredictor(AccuracyPredictor&&) noexcept = default;
AccuracyPredictor& AccuracyPredictor::operator=(AccuracyPredictor&&) noexcept = default;

absl::Status AccuracyPredictor::Validate(const ConfigSpace& space, const PredictorParams& params) {
  auto bad = [](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat("accuracy predictor: ", parts...));
  };
  if (params.kind != "ridge") return bad("kind '", params.kind, "' is not 'ridge'");
  if (params.feature_names.size() != params.coefficients.size())
    return bad(params.feature_names.size(), " feature names but ", params.coefficients.size(),
               " coefficients");
  const Plan plan = MakePlan(space);
  std::map<std::string, int> known;
  for (const std::string& name : plan.names) known[name] = 0;
  for (size_t i = 0; i < params.feature_names.size(); ++i) {
    const std::string& name = params.feature_names[i];
    auto it = known.find(name);
    if (it == known.end())
      return bad("feature '", name, "' is not a feature of architecture '", space.arch().name, "'");
    if (++it->second > 1) return bad("feature '", name, "' appears twice");
    if (!std::isfinite(params.coefficients[i]))
      return bad("coefficient of '", name, "' is not finite");
  }
  if (!std::isfinite(params.intercept)) return bad("intercept is not finite");
  if (!std::isfinite(params.kendall_tau) || !std::isfinite(params.mae_pt))
    return bad("quality figures are not finite");
  return absl::OkStatus();
}

std::vector<std::string> AccuracyPredictor::FeatureNames(const ConfigSpace& space) {
  return MakePlan(space).names;
}

std::vector<double> AccuracyPredictor::Features(const ConfigSpace& space, const Config& config) {
  const Plan plan = MakePlan(space);
  std::vector<double> x(plan.names.size(), 0.0);
  ForEachFeature(plan, config, [&x](int i, double v) { x[i] = v; });
  return x;
}

double AccuracyPredictor::Predict(const Config& config) const {
  double sum = params_.intercept;
  const double* coef = coef_.data();
  ForEachFeature(*plan_, config, [&sum, coef](int i, double v) { sum += coef[i] * v; });
  return std::clamp(sum, 0.0, 1.0);
}

}  // namespace adaspring::engine

// The labelled prior (PriorPredictor) and the choice between it and a fitted predictor.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "adaspring/engine/predictor.h"
#include "predictor/features.h"

namespace adaspring::engine {

using predictor_internal::MakePlan;
using predictor_internal::Plan;

PriorPredictor::PriorPredictor(const ConfigSpace& space)
    : plan_(std::make_unique<const Plan>(MakePlan(space))) {}

PriorPredictor::~PriorPredictor() = default;

double PriorPredictor::Predict(const Config& config) const {
  // Constants (documented in the header) give a plausible spread for an image classifier:
  // 0.95 at full size, ~0.78 for a quarter-width net, never below 0.60. They rank configs
  // sensibly; they are not a measurement.
  const Plan& plan = *plan_;
  if (plan.blocks.empty()) return 0.95;
  double capacity = 0;
  for (size_t i = 0; i < plan.blocks.size(); ++i) {
    const auto& b = plan.blocks[i];
    if (b.index >= config.depth[b.stage]) continue;
    capacity += (0.5 + 0.5 * b.width_fraction[config.width_idx[i]]) *
                (0.75 + 0.25 * b.rank_fraction[config.rank_idx[i]]);
  }
  capacity /= static_cast<double>(plan.blocks.size());
  const double int8_penalty = config.precision == Precision::kInt8 ? 0.003 : 0.0;
  return std::clamp(0.60 + 0.35 * std::sqrt(capacity) - int8_penalty, 0.0, 1.0);
}

namespace {

using MeasuredTable = std::unordered_map<uint64_t, double>;  // configuration id -> accuracy

// The configurations measured on the validation split (the predictor's own scale).
MeasuredTable ValidationTable(const ConfigSpace& space,
                              const std::vector<MeasuredConfig>& measured) {
  MeasuredTable table;
  for (const MeasuredConfig& m : measured) {
    if (m.split != "val" || !std::isfinite(m.accuracy)) continue;
    absl::StatusOr<Config> c = space.Parse(m.config);
    if (c.ok()) table[space.ToId(*c)] = std::clamp(m.accuracy, 0.0, 1.0);
  }
  return table;
}

// A fitted predictor that answers from the bundle's validation measurements where it has one:
// exact for the configurations the trainer measured, the regression everywhere else.
class MeasuredFirst final : public AccuracyEstimator {
 public:
  MeasuredFirst(const ConfigSpace& space, MeasuredTable table,
                std::unique_ptr<AccuracyEstimator> fallback)
      : space_(space), table_(std::move(table)), fallback_(std::move(fallback)) {}
  double Predict(const Config& config) const override {
    auto it = table_.find(space_.ToId(config));
    return it != table_.end() ? it->second : fallback_->Predict(config);
  }
  bool is_prior() const override { return fallback_->is_prior(); }
  std::string_view kind() const override { return fallback_->kind(); }

 private:
  const ConfigSpace space_;
  const MeasuredTable table_;
  std::unique_ptr<AccuracyEstimator> fallback_;
};

}  // namespace

std::unique_ptr<AccuracyEstimator> MakeAccuracyEstimator(const Model& model) {
  if (!model.predictor.has_value() ||
      !AccuracyPredictor::Validate(model.space(), *model.predictor).ok())
    return std::make_unique<PriorPredictor>(model.space());
  auto ridge = std::make_unique<AccuracyPredictor>(model.space(), *model.predictor);
  MeasuredTable table = ValidationTable(model.space(), model.measured);
  if (table.empty()) return ridge;
  return std::make_unique<MeasuredFirst>(model.space(), std::move(table), std::move(ridge));
}

}  // namespace adaspring::engine

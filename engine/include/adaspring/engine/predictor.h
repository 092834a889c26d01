// Accuracy of a configuration without running it (DESIGN §3.5, "Accuracy").
//
// AccuracyPredictor is the bundle's fitted predictor, one of three kinds:
//   "ridge": ridge regression over per-dimension choice features and a few interactions;
//   "krr":   kernel ridge regression with a Gaussian (RBF) kernel over the standardised
//            "local" features (all but int8_x_width / int8_x_rank), fitted on log(1 - accuracy);
//   "mlp":   an ensemble of small two-hidden-layer ReLU networks over the choice indicators
//            (one-hot width and rank per block, block active flags, int8);
// all fitted by adaspring-train on measured accuracies of sampled configurations (FitMeasured
// chooses the kind by cross-validation). Its quality (Kendall tau, MAE) is measured on held-out
// configurations and stored with it, never assumed.
//
// PriorPredictor is for models that carry no fitted predictor (random built-in architectures
// in benchmarks and tests): a monotone heuristic, labelled as a prior (is_prior() == true,
// kind() == "prior") so that nobody shows its numbers as measurements.
//
// Features of a configuration (names as stored in PredictorParams::feature_names), for each
// block b (global index) and stage s:
//   "b<b>.width"   inner width / max inner width, 0 when the block does not run
//                  (only for blocks with an elastic width)
//   "b<b>.rank"    1 / rank divisor, 0 when the block does not run (only factorisable blocks)
//   "b<b>.active"  1 when the block runs (only blocks that can be skipped, index > 0)
//   "b<b>.width_x_rank"  product of the two above (blocks having both)
//   "b<b>.bottleneck"    8 / r for the block's narrowest conv running at a reduced rank r
//                  (absolute channels), 0 when none is reduced or the block does not run:
//                  a factorisation to very few channels costs accuracy far beyond linear
//                  (only factorisable blocks; bundles fitted before it simply lack it)
//   "b<b>.width=<k>", "b<b>.rank=<k>"  one-hot: 1 when the block runs at width (rank) choice
//                  index k (only elastic dimensions; bundles fitted before them lack them)
//   "s<s>.depth"   depth / max depth (only stages with more than one block)
//   "s<s>.depth=<d>"  one-hot: 1 when the stage runs d blocks (same stages)
//   "int8"         1 for int8 precision
//   "int8_x_width" int8 x the mean over all blocks of the block's width fraction (inner /
//                  max inner, 0 when it does not run; 1 for the full network)
//   "int8_x_rank"  int8 x the mean over all blocks of 1 / rank divisor (0 when not running)
//
// Thread safety: both predictors are immutable after construction; Predict is const,
// allocation-free and safe to call concurrently (it runs inside search loops: well under a
// microsecond for ridge; a krr with n support configurations multiplies one precomputed row
// per block and stage over n entries, a few microseconds for n ~ 1000; an mlp of m members
// with h hidden units costs about m * h * (h + active inputs) multiply-adds, a few
// microseconds for m = 5, h = 64).
#ifndef ADASPRING_ENGINE_PREDICTOR_H_
#define ADASPRING_ENGINE_PREDICTOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "adaspring/engine/config.h"
#include "adaspring/engine/model.h"

namespace adaspring::engine {

class AccuracyEstimator {
 public:
  virtual ~AccuracyEstimator() = default;
  // Predicted top-1 accuracy (fraction, clamped to [0, 1]). Precondition: `config` is valid
  // for the space the estimator was built for (ConfigSpace::Validate is OK); not re-checked.
  virtual double Predict(const Config& config) const = 0;
  virtual bool is_prior() const = 0;
  virtual std::string_view kind() const = 0;  // "ridge" | "krr" | "mlp" | "prior"
};

namespace predictor_internal {
struct Plan;    // per-block feature indices and lookup tables (predictor/features.h)
struct Kernel;  // a krr predictor's per-block kernel tables (predictor/predictor.cc)
}  // namespace predictor_internal

// Cross-validated quality of one candidate predictor (AccuracyPredictor::FitSelected).
struct PredictorCvScore {
  std::string kind;                    // "ridge" | "krr" | "mlp"
  double lambda = 0;                   // ridge_lambda, the krr regularisation or mlp weight decay
  double gamma = 0;                    // krr kernel width (0 for ridge)
  double kendall_tau = 0, mae_pt = 0;  // pooled out-of-fold predictions
  bool chosen = false;
};

class AccuracyPredictor final : public AccuracyEstimator {
 public:
  // Copies what it needs from `space` (no reference is kept). Coefficients are matched to the
  // space's features by name; a feature without a coefficient contributes 0. Call Validate
  // first to reject params that do not belong to the space.
  AccuracyPredictor(const ConfigSpace& space, PredictorParams params);
  ~AccuracyPredictor() override;
  // Copies share the immutable feature plan.
  AccuracyPredictor(const AccuracyPredictor&);
  AccuracyPredictor& operator=(const AccuracyPredictor&);
  AccuracyPredictor(AccuracyPredictor&&) noexcept;
  AccuracyPredictor& operator=(AccuracyPredictor&&) noexcept;

  // INVALID_ARGUMENT naming the problem: kind is not "ridge", "krr" or "mlp", target is not "",
  // "accuracy" or "log_error", names and values differ in count, a name repeats or is not a
  // feature of `space`, a value is not finite; for "ridge" any kernel field is set; for "krr"
  // linear coefficients are present, there is no kernel feature or support configuration, a
  // kernel feature is not local (int8_x_width, int8_x_rank), a scale is negative, a support
  // configuration does not parse or there are more than kMaxSupport.
  // For "mlp": an input name repeats or is unknown, more than kMaxMlpInputs inputs, hidden or
  // members outside [1, kMaxMlpHidden] / [1, kMaxMlpMembers], a weight count that does not
  // match them, a weight that is not finite, an output scale that is not finite and > 0, or
  // kernel / linear fields present; and for the other kinds any mlp field.
  static absl::Status Validate(const ConfigSpace& space, const PredictorParams& params);
  static constexpr int kMaxSupport = 8192;
  static constexpr int kMaxMlpInputs = 256, kMaxMlpHidden = 128, kMaxMlpMembers = 32;

  // The feature names of `space`, in the order Fit stores them.
  static std::vector<std::string> FeatureNames(const ConfigSpace& space);
  // The feature vector of `config` (parallel to FeatureNames), for tests and tools.
  static std::vector<double> Features(const ConfigSpace& space, const Config& config);

  double Predict(const Config& config) const override;
  bool is_prior() const override { return false; }
  std::string_view kind() const override {
    return !mlp_slot_.empty() ? "mlp" : kernel_ ? "krr" : "ridge";
  }
  const PredictorParams& params() const { return params_; }

  // Ridge regression in closed form: features are standardised on the fitted set, the
  // normal equations (X'X + lambda I) w = X'y are solved with Eigen's LDLT, and the result is
  // mapped back to raw-feature coefficients and an intercept. kendall_tau and mae_pt
  // (percentage points) are measured on `heldout`, which is not used for fitting.
  // INVALID_ARGUMENT when a configuration is invalid for the space, an accuracy is not a
  // finite value in [0, 1], `fitted` has fewer than 2 or `heldout` fewer than 2 entries, or
  // ridge_lambda < 0.
  static absl::StatusOr<PredictorParams> Fit(const ConfigSpace& space,
                                             const std::vector<std::pair<Config, double>>& fitted,
                                             const std::vector<std::pair<Config, double>>& heldout,
                                             double ridge_lambda);

  // Kernel ridge regression ("krr") of t = log(1 - accuracy) (1 - accuracy floored at 1e-4):
  // the local features are standardised on the fitted set; with gamma' = gamma / (number of
  // kernel features), K_ij = exp(-gamma' |z_i - z_j|^2), (K + lambda I) alpha = t - mean(t)
  // is solved by Cholesky; every fitted configuration is a support configuration. Quality on
  // `heldout` as Fit. INVALID_ARGUMENT as Fit, or when gamma or lambda is not > 0.
  static absl::StatusOr<PredictorParams> FitKrr(
      const ConfigSpace& space, const std::vector<std::pair<Config, double>>& fitted,
      const std::vector<std::pair<Config, double>>& heldout, double gamma, double lambda);

  // An "mlp" ensemble: inputs are the choice indicators that vary on `fitted` (features named
  // "b<b>.width=<k>", "b<b>.rank=<k>", "b<b>.active", and "int8"), raw 0/1 values; targets
  // are the accuracies standardised (mean and standard deviation become intercept and output
  // scale). Each member starts from its own seeded He-style initialisation and is trained
  // with Adam (learning rate 3e-3, mini-batches of 64, L2 weight decay) on the squared error
  // for `epochs` passes; Predict averages the members. Deterministic for a given `seed`.
  // Quality on `heldout` as Fit. INVALID_ARGUMENT as Fit, or when hidden / members are out
  // of range, epochs < 1 or weight_decay is not finite and >= 0.
  static absl::StatusOr<PredictorParams> FitMlp(
      const ConfigSpace& space, const std::vector<std::pair<Config, double>>& fitted,
      const std::vector<std::pair<Config, double>>& heldout, int hidden = 64, int members = 5,
      int epochs = 100, double weight_decay = 1e-3, uint64_t seed = 1);

  // The kind and hyperparameters chosen by 5-fold cross-validation on `fitted` (lowest
  // out-of-fold MAE among ridge with `ridge_lambda`, krr over a small gamma x lambda grid and
  // the default mlp; deterministic folds), refitted on all of `fitted`; quality on `heldout`
  // as Fit. With
  // `scores`, every candidate's cross-validated figures. Errors as Fit; with fewer than 10 or
  // more than kMaxSupport fitted entries it is Fit (ridge, no cross-validation).
  static absl::StatusOr<PredictorParams> FitSelected(
      const ConfigSpace& space, const std::vector<std::pair<Config, double>>& fitted,
      const std::vector<std::pair<Config, double>>& heldout, double ridge_lambda,
      std::vector<PredictorCvScore>* scores = nullptr);

  // FitSelected() on a bundle's measured table: validation-split entries, those marked held
  // out for the quality figures and the rest for fitting (what adaspring-train
  // --refit-predictor does to give an existing bundle the current predictor without
  // retraining). INVALID_ARGUMENT as Fit, or when an entry's configuration does not parse.
  static absl::StatusOr<PredictorParams> FitMeasured(
      const ConfigSpace& space, const std::vector<MeasuredConfig>& measured, double ridge_lambda,
      std::vector<PredictorCvScore>* scores = nullptr);

  // Kendall's tau-b (ties handled) between two equally long sequences; O(n^2). NaN when it is
  // undefined: different lengths, fewer than 2 elements, or one sequence constant.
  static double KendallTau(const std::vector<double>& a, const std::vector<double>& b);

 private:
  double EvalMlp(const Config& config) const;  // members' mean output (standardised)

  PredictorParams params_;
  bool log_error_ = false;
  std::shared_ptr<const predictor_internal::Plan> plan_;
  std::vector<double> coef_;  // ridge, indexed by the plan's feature index
  std::shared_ptr<const predictor_internal::Kernel> kernel_;  // krr
  std::vector<int> mlp_slot_;  // mlp: input slot of each plan feature, -1 when not an input
  int mlp_inputs_ = 0;
};

// A monotone prior, labelled as such (not a measurement): with the mean over all blocks of
//   capacity_b = active_b * (0.5 + 0.5 * width_b) * (0.75 + 0.25 * rank_b)
// (width_b, rank_b as in the features above; capacity 1 for the full network),
//   prior = 0.60 + 0.35 * sqrt(mean capacity) - (int8 ? 0.003 : 0).
// Widening a block, raising its rank, running one more block or using f32 never lowers it,
// so a search driven by it prefers larger networks exactly as a real predictor would.
class PriorPredictor final : public AccuracyEstimator {
 public:
  explicit PriorPredictor(const ConfigSpace& space);
  ~PriorPredictor() override;
  double Predict(const Config& config) const override;
  bool is_prior() const override { return true; }
  std::string_view kind() const override { return "prior"; }

 private:
  std::unique_ptr<const predictor_internal::Plan> plan_;
};

// The model's fitted predictor when it has one that validates, otherwise a PriorPredictor.
std::unique_ptr<AccuracyEstimator> MakeAccuracyEstimator(const Model& model);

}  // namespace adaspring::engine

#endif  // ADASPRING_ENGINE_PREDICTOR_H_

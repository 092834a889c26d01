#include "adaspring/engine/predictor.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "predictor/features.h"

namespace adaspring::engine {

using predictor_internal::BlockPlan;
using predictor_internal::ForEachFeature;
using predictor_internal::MakePlan;
using predictor_internal::Plan;
using predictor_internal::StagePlan;

namespace predictor_internal {

// A krr predictor's kernel, factorised by what determines each feature: the Gaussian of a sum
// of squared differences is the product of one factor per block (its state: not running, or
// running at width choice w and rank choice r), per stage (its depth) and for the precision.
// Each factor is tabulated against every support configuration at construction, so Predict
// multiplies one row per block and stage, elementwise, and sums: no exp, no allocation.
struct Kernel {
  int n = 0;                  // support configurations
  std::vector<double> table;  // rows of n values
  static constexpr size_t kUnused = static_cast<size_t>(-1);
  std::vector<size_t> block_row0;  // row of state s: block_row0[b] + s * n (kUnused: factor 1)
  std::vector<size_t> stage_row0;  // row of depth d: stage_row0[s] + d * n
  size_t precision_row0 = 0;       // row of precision p: precision_row0 + p * n (has the duals)
};

}  // namespace predictor_internal

namespace {

using predictor_internal::ForEachBlockFeature;
using predictor_internal::ForEachStageFeature;
using predictor_internal::Kernel;

// Values of the kernel features (scale > 0) that one emitter produces: (index, value) pairs.
template <typename Emit>
std::vector<std::pair<int, double>> ScaledValues(const std::vector<double>& scale, Emit&& emit) {
  std::vector<std::pair<int, double>> out;
  emit([&](int i, double v) {
    if (scale[i] > 0) out.emplace_back(i, v);
  });
  return out;
}

std::shared_ptr<const Kernel> MakeKernel(const ConfigSpace& space, const Plan& plan,
                                         const PredictorParams& params) {
  std::vector<double> scale(plan.names.size(), 0.0);
  std::map<std::string, int> index;
  for (size_t i = 0; i < plan.names.size(); ++i) index[plan.names[i]] = static_cast<int>(i);
  const size_t nk = std::min(params.kernel_feature_names.size(), params.kernel_scales.size());
  for (size_t j = 0; j < nk; ++j) {
    auto it = index.find(params.kernel_feature_names[j]);
    const double v = params.kernel_scales[j];
    if (it != index.end() && plan.local[it->second] && std::isfinite(v) && v > 0)
      scale[it->second] = v;
  }
  // Support configurations that parse, with their dual coefficients and feature vectors.
  std::vector<double> dual;
  std::vector<std::vector<double>> sv;
  const size_t ns = std::min(params.support_configs.size(), params.dual_coefficients.size());
  for (size_t k = 0; k < ns; ++k) {
    absl::StatusOr<Config> c = space.Parse(params.support_configs[k]);
    if (!c.ok() || !std::isfinite(params.dual_coefficients[k])) continue;
    std::vector<double>& x = sv.emplace_back(plan.names.size(), 0.0);
    ForEachFeature(plan, *c, [&x](int i, double v) { x[i] = v; });
    dual.push_back(params.dual_coefficients[k]);
  }
  auto kernel = std::make_shared<Kernel>();
  const int n = kernel->n = static_cast<int>(sv.size());
  // Appends one row: factor(k) = weight(k) * exp(-sum over `values` of (scale (v - sv_k))^2).
  auto add_row = [&](const std::vector<std::pair<int, double>>& values, const double* weight) {
    for (int k = 0; k < n; ++k) {
      double d = 0;
      for (const auto& [i, v] : values) {
        const double t = scale[i] * (v - sv[k][i]);
        d += t * t;
      }
      kernel->table.push_back((weight ? weight[k] : 1.0) * std::exp(-d));
    }
  };
  for (const BlockPlan& b : plan.blocks) {
    auto emit_at = [&b](bool active, int w, int r) {
      return [&b, active, w, r](auto&& sink) { ForEachBlockFeature(b, active, w, r, sink); };
    };
    if (ScaledValues(scale, emit_at(true, 0, 0)).empty()) {
      kernel->block_row0.push_back(Kernel::kUnused);
      continue;
    }
    kernel->block_row0.push_back(kernel->table.size());
    add_row(ScaledValues(scale, emit_at(false, 0, 0)), nullptr);  // state 0: not running
    for (int w = 0; w < b.widths; ++w)
      for (int r = 0; r < b.ranks; ++r) add_row(ScaledValues(scale, emit_at(true, w, r)), nullptr);
  }
  for (const StagePlan& sp : plan.stages) {
    kernel->stage_row0.push_back(kernel->table.size());
    for (int d = 0; d <= sp.max_depth; ++d)
      add_row(ScaledValues(scale, [&sp, d](auto&& sink) { ForEachStageFeature(sp, d, sink); }),
              nullptr);
  }
  kernel->precision_row0 = kernel->table.size();
  for (int p = 0; p < 2; ++p) {
    std::vector<std::pair<int, double>> values;
    if (scale[plan.int8_feature] > 0) values.emplace_back(plan.int8_feature, p);
    add_row(values, dual.data());
  }
  return kernel;
}

// sum_k prod(rows)[k]: the kernel part of a krr prediction.
double EvalKernel(const Kernel& kernel, const Plan& plan, const Config& c) {
  constexpr int kChunk = 64;
  const int n = kernel.n;
  const double* table = kernel.table.data();
  const int precision = c.precision == Precision::kInt8 ? 1 : 0;
  double total = 0;
  for (int start = 0; start < n; start += kChunk) {
    const int m = std::min(kChunk, n - start);
    double acc[kChunk];
    const double* row = table + kernel.precision_row0 + static_cast<size_t>(precision) * n + start;
    for (int j = 0; j < m; ++j) acc[j] = row[j];
    for (size_t i = 0; i < plan.blocks.size(); ++i) {
      if (kernel.block_row0[i] == Kernel::kUnused) continue;
      const BlockPlan& b = plan.blocks[i];
      const int state =
          b.index < c.depth[b.stage] ? 1 + c.width_idx[i] * b.ranks + c.rank_idx[i] : 0;
      row = table + kernel.block_row0[i] + static_cast<size_t>(state) * n + start;
      for (int j = 0; j < m; ++j) acc[j] *= row[j];
    }
    for (size_t s = 0; s < plan.stages.size(); ++s) {
      row = table + kernel.stage_row0[s] + static_cast<size_t>(c.depth[s]) * n + start;
      for (int j = 0; j < m; ++j) acc[j] *= row[j];
    }
    double sum = 0;
    for (int j = 0; j < m; ++j) sum += acc[j];
    total += sum;
  }
  return total;
}

}  // namespace

AccuracyPredictor::AccuracyPredictor(const ConfigSpace& space, PredictorParams params)
    : params_(std::move(params)), plan_(std::make_shared<const Plan>(MakePlan(space))) {
  log_error_ = params_.target == "log_error";
  // EvalMlp sizes its buffers by the limits Validate enforces: an mlp that does not validate
  // is not evaluated (it predicts its intercept, through the empty linear part below).
  if (params_.kind == "mlp" && Validate(space, params_).ok()) {
    std::map<std::string, int> index;
    for (size_t i = 0; i < plan_->names.size(); ++i) index[plan_->names[i]] = static_cast<int>(i);
    mlp_slot_.assign(plan_->names.size(), -1);
    mlp_inputs_ = static_cast<int>(params_.mlp_input_names.size());
    for (int j = 0; j < mlp_inputs_; ++j) {
      auto it = index.find(params_.mlp_input_names[j]);
      if (it != index.end()) mlp_slot_[it->second] = j;
    }
    return;
  }
  if (params_.kind == "krr") {
    kernel_ = MakeKernel(space, *plan_, params_);
    return;
  }
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
  const bool krr = params.kind == "krr";
  const bool mlp = params.kind == "mlp";
  if (params.kind != "ridge" && !krr && !mlp)
    return bad("kind '", params.kind, "' is not 'ridge', 'krr' or 'mlp'");
  if (!params.target.empty() && params.target != "accuracy" && params.target != "log_error")
    return bad("target '", params.target, "' is not 'accuracy' or 'log_error'");
  if (params.feature_names.size() != params.coefficients.size())
    return bad(params.feature_names.size(), " feature names but ", params.coefficients.size(),
               " coefficients");
  const Plan plan = MakePlan(space);
  std::map<std::string, int> known;  // name -> feature index
  for (size_t i = 0; i < plan.names.size(); ++i) known[plan.names[i]] = static_cast<int>(i);
  std::map<std::string, int> seen;
  for (size_t i = 0; i < params.feature_names.size(); ++i) {
    const std::string& name = params.feature_names[i];
    if (!known.count(name))
      return bad("feature '", name, "' is not a feature of architecture '", space.arch().name, "'");
    if (++seen[name] > 1) return bad("feature '", name, "' appears twice");
    if (!std::isfinite(params.coefficients[i]))
      return bad("coefficient of '", name, "' is not finite");
  }
  if (!std::isfinite(params.intercept)) return bad("intercept is not finite");
  if (!std::isfinite(params.kendall_tau) || !std::isfinite(params.mae_pt))
    return bad("quality figures are not finite");
  const bool has_kernel = !params.kernel_feature_names.empty() || !params.kernel_scales.empty() ||
                          !params.support_configs.empty() || !params.dual_coefficients.empty();
  const bool has_mlp = !params.mlp_input_names.empty() || params.mlp_hidden != 0 ||
                       params.mlp_members != 0 || !params.mlp_weights.empty() ||
                       params.mlp_output_scale != 0;
  if (!mlp && has_mlp) return bad("kind '", params.kind, "' has mlp fields (only 'mlp' uses them)");
  if (mlp) {
    if (has_kernel) return bad("kind 'mlp' has kernel fields (only 'krr' uses them)");
    if (!params.coefficients.empty())
      return bad("kind 'mlp' has ", params.coefficients.size(), " linear coefficients");
    const size_t d = params.mlp_input_names.size();
    if (d == 0) return bad("mlp: no inputs");
    if (d > static_cast<size_t>(kMaxMlpInputs))
      return bad("mlp: ", d, " inputs, at most ", kMaxMlpInputs);
    seen.clear();
    for (const std::string& name : params.mlp_input_names) {
      if (!known.count(name))
        return bad("mlp: input '", name, "' is not a feature of architecture '", space.arch().name,
                   "'");
      if (++seen[name] > 1) return bad("mlp: input '", name, "' appears twice");
    }
    const int h = params.mlp_hidden, m = params.mlp_members;
    if (h < 1 || h > kMaxMlpHidden)
      return bad("mlp: ", h, " hidden units, must be 1 to ", kMaxMlpHidden);
    if (m < 1 || m > kMaxMlpMembers)
      return bad("mlp: ", m, " members, must be 1 to ", kMaxMlpMembers);
    const size_t per_member = d * h + h + static_cast<size_t>(h) * h + h + h + 1;
    if (params.mlp_weights.size() != per_member * m)
      return bad("mlp: ", params.mlp_weights.size(), " weights, expected ", per_member * m, " (", m,
                 " members of ", d, " inputs and ", h, " hidden units)");
    for (size_t i = 0; i < params.mlp_weights.size(); ++i)
      if (!std::isfinite(params.mlp_weights[i])) return bad("mlp: weight ", i, " is not finite");
    if (!std::isfinite(params.mlp_output_scale) || !(params.mlp_output_scale > 0))
      return bad("mlp: output scale ", params.mlp_output_scale, " must be finite and > 0");
    return absl::OkStatus();
  }
  if (!krr) {
    if (has_kernel) return bad("kind 'ridge' has kernel fields (only 'krr' uses them)");
    return absl::OkStatus();
  }
  if (!params.coefficients.empty())
    return bad("kind 'krr' has ", params.coefficients.size(),
               " linear coefficients (it has none; kernel fields only)");
  if (params.kernel_feature_names.empty()) return bad("krr: no kernel features");
  if (params.kernel_feature_names.size() != params.kernel_scales.size())
    return bad("krr: ", params.kernel_feature_names.size(), " kernel feature names but ",
               params.kernel_scales.size(), " kernel scales");
  seen.clear();
  for (size_t j = 0; j < params.kernel_feature_names.size(); ++j) {
    const std::string& name = params.kernel_feature_names[j];
    auto it = known.find(name);
    if (it == known.end())
      return bad("krr: kernel feature '", name, "' is not a feature of architecture '",
                 space.arch().name, "'");
    if (!plan.local[it->second])
      return bad("krr: kernel feature '", name,
                 "' depends on every block and cannot be a kernel input");
    if (++seen[name] > 1) return bad("krr: kernel feature '", name, "' appears twice");
    const double v = params.kernel_scales[j];
    if (!std::isfinite(v) || v < 0)
      return bad("krr: kernel scale of '", name, "' is ", v, ", must be finite and >= 0");
  }
  if (params.support_configs.empty()) return bad("krr: no support configurations");
  if (params.support_configs.size() != params.dual_coefficients.size())
    return bad("krr: ", params.support_configs.size(), " support configurations but ",
               params.dual_coefficients.size(), " dual coefficients");
  if (params.support_configs.size() > static_cast<size_t>(kMaxSupport))
    return bad("krr: ", params.support_configs.size(), " support configurations, at most ",
               kMaxSupport);
  for (size_t k = 0; k < params.support_configs.size(); ++k) {
    absl::StatusOr<Config> c = space.Parse(params.support_configs[k]);
    if (!c.ok())
      return bad("krr: support configuration ", k, " ('", params.support_configs[k],
                 "'): ", c.status().message());
    if (!std::isfinite(params.dual_coefficients[k]))
      return bad("krr: dual coefficient ", k, " is not finite");
  }
  if (!std::isfinite(params.kernel_gamma) || params.kernel_gamma < 0 ||
      !std::isfinite(params.kernel_lambda) || params.kernel_lambda < 0)
    return bad("krr: kernel_gamma ", params.kernel_gamma, " / kernel_lambda ", params.kernel_lambda,
               " must be finite and >= 0");
  return absl::OkStatus();
}

double AccuracyPredictor::EvalMlp(const Config& config) const {
  const int d = mlp_inputs_, h = params_.mlp_hidden, members = params_.mlp_members;
  // Nonzero inputs only (one-hot indicators: about one in four is set).
  int active[kMaxMlpInputs];
  float value[kMaxMlpInputs];
  int n = 0;
  const int* slot = mlp_slot_.data();
  ForEachFeature(*plan_, config, [&](int i, double v) {
    if (slot[i] >= 0 && v != 0) {
      active[n] = slot[i];
      value[n++] = static_cast<float>(v);
    }
  });
  const size_t per_member = static_cast<size_t>(d) * h + h + static_cast<size_t>(h) * h + h + h + 1;
  double total = 0;
  for (int m = 0; m < members; ++m) {
    const float* w1 = params_.mlp_weights.data() + m * per_member;
    const float* b1 = w1 + static_cast<size_t>(d) * h;
    const float* w2 = b1 + h;
    const float* b2 = w2 + static_cast<size_t>(h) * h;
    const float* w3 = b2 + h;
    const float b3 = w3[h];
    float h1[kMaxMlpHidden], h2[kMaxMlpHidden];
    for (int u = 0; u < h; ++u) h1[u] = b1[u];
    for (int k = 0; k < n; ++k) {
      const float* row = w1 + static_cast<size_t>(active[k]) * h;
      for (int u = 0; u < h; ++u) h1[u] += value[k] * row[u];
    }
    for (int u = 0; u < h; ++u) h2[u] = b2[u];
    for (int u = 0; u < h; ++u) {
      if (h1[u] <= 0) continue;  // ReLU
      const float* row = w2 + static_cast<size_t>(u) * h;
      for (int v = 0; v < h; ++v) h2[v] += h1[u] * row[v];
    }
    float out = b3;
    for (int v = 0; v < h; ++v) out += std::max(h2[v], 0.0f) * w3[v];
    total += out;
  }
  return total / members;
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
  if (!mlp_slot_.empty()) {
    sum += params_.mlp_output_scale * EvalMlp(config);
  } else if (kernel_) {
    sum += EvalKernel(*kernel_, *plan_, config);
  } else {
    const double* coef = coef_.data();
    ForEachFeature(*plan_, config, [&sum, coef](int i, double v) { sum += coef[i] * v; });
  }
  const double acc = log_error_ ? 1.0 - std::exp(sum) : sum;
  return std::clamp(acc, 0.0, 1.0);
}

}  // namespace adaspring::engine

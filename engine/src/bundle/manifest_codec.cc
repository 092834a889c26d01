#include "bundle/manifest_codec.h"

#include <climits>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adaspring/engine/predictor.h"

namespace adaspring::engine::bundle_internal {
namespace {

// uint32 fields saturate at INT_MAX so that ValidateArch sees (and rejects) huge values
// instead of a negative int.
int Int(uint32_t v) { return v > INT_MAX ? INT_MAX : static_cast<int>(v); }

template <typename... Parts>
absl::Status Bad(const Parts&... parts) {
  return absl::InvalidArgumentError(absl::StrCat(parts...));
}

}  // namespace

void ArchToProto(const ArchSpec& a, pb::Architecture* out) {
  out->set_name(a.name);
  out->set_in_channels(a.in_channels);
  out->set_in_height(a.in_height);
  out->set_in_width(a.in_width);
  out->set_num_classes(a.num_classes);
  out->set_stem_channels(a.stem_channels);
  out->set_stem_kernel(a.stem_kernel);
  out->set_stem_stride(a.stem_stride);
  out->set_stem_max_pool(a.stem_max_pool);
  out->set_block_kind(a.block_kind == BlockKind::kBasic ? pb::BLOCK_KIND_BASIC
                                                        : pb::BLOCK_KIND_INVERTED);
  out->set_activation(a.activation == Activation::kRelu ? pb::ACTIVATION_RELU
                                                        : pb::ACTIVATION_RELU6);
  for (const StageSpec& s : a.stages) {
    pb::Stage* st = out->add_stages();
    st->set_out_channels(s.out_channels);
    st->set_num_blocks(s.num_blocks);
    st->set_stride(s.stride);
    st->set_expand_ratio(s.expand_ratio);
  }
  out->set_head_channels(a.head_channels);
  for (int w : a.width_percent) out->add_width_percent(w);
  for (int r : a.rank_divisors) out->add_rank_divisors(r);
}

absl::StatusOr<ArchSpec> ArchFromProto(const pb::Architecture& in) {
  ArchSpec a;
  a.name = in.name();
  a.in_channels = Int(in.in_channels());
  a.in_height = Int(in.in_height());
  a.in_width = Int(in.in_width());
  a.num_classes = Int(in.num_classes());
  a.stem_channels = Int(in.stem_channels());
  a.stem_kernel = Int(in.stem_kernel());
  a.stem_stride = Int(in.stem_stride());
  a.stem_max_pool = in.stem_max_pool();
  switch (in.block_kind()) {
    case pb::BLOCK_KIND_BASIC:
      a.block_kind = BlockKind::kBasic;
      break;
    case pb::BLOCK_KIND_INVERTED:
      a.block_kind = BlockKind::kInverted;
      break;
    default:
      return Bad("architecture '", a.name, "': block_kind ", in.block_kind(),
                 " is unspecified or unknown");
  }
  switch (in.activation()) {
    case pb::ACTIVATION_RELU:
      a.activation = Activation::kRelu;
      break;
    case pb::ACTIVATION_RELU6:
      a.activation = Activation::kRelu6;
      break;
    default:
      return Bad("architecture '", a.name, "': activation ", in.activation(),
                 " is unspecified or unknown");
  }
  // Bounded before copying: ValidateArch would reject more, but only after we had copied.
  if (in.stages_size() > 16 || in.width_percent_size() > 8 || in.rank_divisors_size() > 8)
    return Bad("architecture '", a.name, "': ", in.stages_size(), " stages, ",
               in.width_percent_size(), " widths, ", in.rank_divisors_size(),
               " ranks (at most 16 stages, 8 widths and 8 ranks)");
  for (const pb::Stage& s : in.stages())
    a.stages.push_back(
        {Int(s.out_channels()), Int(s.num_blocks()), Int(s.stride()), Int(s.expand_ratio())});
  a.head_channels = Int(in.head_channels());
  a.width_percent.assign(in.width_percent().begin(), in.width_percent().end());
  a.rank_divisors.assign(in.rank_divisors().begin(), in.rank_divisors().end());
  for (int& w : a.width_percent) w = Int(static_cast<uint32_t>(w));
  for (int& r : a.rank_divisors) r = Int(static_cast<uint32_t>(r));
  if (absl::Status s = ValidateArch(a); !s.ok()) return s;
  return a;
}

void ModelToManifest(const Model& model, pb::BundleManifest* out) {
  const ModelMeta& meta = model.meta();
  out->set_name(meta.name);
  out->set_version(meta.version);
  out->set_task(meta.task);
  for (const std::string& l : meta.labels) out->add_labels(l);
  pb::InputSpec* input = out->mutable_input();
  const ArchSpec& arch = model.arch();
  input->add_shape(arch.in_channels);
  input->add_shape(arch.in_height);
  input->add_shape(arch.in_width);
  input->set_layout("NCHW");
  for (float m : meta.mean) input->add_mean(m);
  for (float s : meta.std) input->add_std(s);
  ArchToProto(arch, out->mutable_architecture());
  for (const auto& [point, amax] : model.activation_amax)
    (*out->mutable_activation_amax())[point] = amax;
  if (model.predictor) {
    const PredictorParams& p = *model.predictor;
    pb::AccuracyPredictor* pp = out->mutable_predictor();
    pp->set_kind(p.kind);
    for (const std::string& n : p.feature_names) pp->add_feature_names(n);
    for (double c : p.coefficients) pp->add_coefficients(c);
    pp->set_intercept(p.intercept);
    pp->set_kendall_tau(p.kendall_tau);
    pp->set_mae_pt(p.mae_pt);
    pp->set_fitted_configs(p.fitted_configs);
    pp->set_heldout_configs(p.heldout_configs);
    pp->set_target(p.target);
    for (const std::string& n : p.kernel_feature_names) pp->add_kernel_feature_names(n);
    for (double s : p.kernel_scales) pp->add_kernel_scales(s);
    for (const std::string& c : p.support_configs) pp->add_support_configs(c);
    for (double a : p.dual_coefficients) pp->add_dual_coefficients(a);
    pp->set_kernel_gamma(p.kernel_gamma);
    pp->set_kernel_lambda(p.kernel_lambda);
    for (const std::string& n : p.mlp_input_names) pp->add_mlp_input_names(n);
    pp->set_mlp_hidden(static_cast<uint32_t>(p.mlp_hidden));
    pp->set_mlp_members(static_cast<uint32_t>(p.mlp_members));
    pp->mutable_mlp_weights()->Add(p.mlp_weights.begin(), p.mlp_weights.end());
    pp->set_mlp_output_scale(p.mlp_output_scale);
    pp->set_mlp_weight_decay(p.mlp_weight_decay);
    pp->set_mlp_epochs(static_cast<uint32_t>(p.mlp_epochs));
  }
  for (const MeasuredConfig& m : model.measured) {
    pb::MeasuredConfig* pm = out->add_measured();
    pm->set_config(m.config);
    pm->set_accuracy(m.accuracy);
    pm->set_split(m.split);
    pm->set_heldout(m.heldout);
  }
  const Provenance& prov = meta.provenance;
  pb::Provenance* pv = out->mutable_provenance();
  pv->set_dataset(prov.dataset);
  pv->set_seed(prov.seed);
  pv->set_epochs(prov.epochs);
  pv->set_commit(prov.commit);
  pv->set_command(prov.command);
  pv->set_created(prov.created);
  pv->set_train_seconds(prov.train_seconds);
  if (prov.table_split) {
    pb::ValidationSplit* split = pv->mutable_table_split();
    split->set_val_images(static_cast<uint32_t>(prov.table_split->val_images));
    split->set_measure_val_images(static_cast<uint32_t>(prov.table_split->measure_val_images));
  }
}

namespace {

absl::Status InputFromManifest(const pb::BundleManifest& in, const ArchSpec& arch,
                               ModelMeta* meta) {
  if (!in.has_input()) return Bad("manifest has no input spec");
  const pb::InputSpec& input = in.input();
  const std::vector<int64_t> shape(input.shape().begin(), input.shape().end());
  const std::vector<int64_t> expected = {arch.in_channels, arch.in_height, arch.in_width};
  if (shape != expected)
    return Bad("input shape [", absl::StrJoin(shape, ","), "] does not match the architecture's [",
               absl::StrJoin(expected, ","), "]");
  if (!input.layout().empty() && input.layout() != "NCHW")
    return Bad("input layout '", input.layout(), "' is not NCHW");
  if (input.mean_size() != arch.in_channels || input.std_size() != arch.in_channels)
    return Bad("input has ", input.mean_size(), " means and ", input.std_size(), " stds, expected ",
               arch.in_channels, " (one per input channel)");
  for (int c = 0; c < arch.in_channels; ++c) {
    if (!std::isfinite(input.mean(c))) return Bad("input mean[", c, "] is not finite");
    if (!std::isfinite(input.std(c)) || !(input.std(c) > 0))
      return Bad("input std[", c, "] is ", input.std(c), ", must be finite and > 0");
  }
  meta->mean.assign(input.mean().begin(), input.mean().end());
  meta->std.assign(input.std().begin(), input.std().end());
  return absl::OkStatus();
}

absl::StatusOr<PredictorParams> PredictorFromManifest(const pb::AccuracyPredictor& pp,
                                                      const ConfigSpace& space) {
  PredictorParams p;
  p.kind = pp.kind();
  p.feature_names.assign(pp.feature_names().begin(), pp.feature_names().end());
  p.coefficients.assign(pp.coefficients().begin(), pp.coefficients().end());
  p.intercept = pp.intercept();
  p.kendall_tau = pp.kendall_tau();
  p.mae_pt = pp.mae_pt();
  p.fitted_configs = Int(pp.fitted_configs());
  p.heldout_configs = Int(pp.heldout_configs());
  p.target = pp.target();
  p.kernel_feature_names.assign(pp.kernel_feature_names().begin(), pp.kernel_feature_names().end());
  p.kernel_scales.assign(pp.kernel_scales().begin(), pp.kernel_scales().end());
  p.support_configs.assign(pp.support_configs().begin(), pp.support_configs().end());
  p.dual_coefficients.assign(pp.dual_coefficients().begin(), pp.dual_coefficients().end());
  p.kernel_gamma = pp.kernel_gamma();
  p.kernel_lambda = pp.kernel_lambda();
  p.mlp_input_names.assign(pp.mlp_input_names().begin(), pp.mlp_input_names().end());
  p.mlp_hidden = Int(pp.mlp_hidden());
  p.mlp_members = Int(pp.mlp_members());
  p.mlp_weights.assign(pp.mlp_weights().begin(), pp.mlp_weights().end());
  p.mlp_output_scale = pp.mlp_output_scale();
  p.mlp_weight_decay = pp.mlp_weight_decay();
  p.mlp_epochs = Int(pp.mlp_epochs());
  if (absl::Status s = AccuracyPredictor::Validate(space, p); !s.ok()) return s;
  return p;
}

}  // namespace

absl::StatusOr<ManifestExtras> ExtrasFromManifest(const pb::BundleManifest& in,
                                                  const ConfigSpace& space) {
  const ArchSpec& arch = space.arch();
  ManifestExtras x;
  x.meta.name = in.name();
  x.meta.version = in.version();
  x.meta.task = in.task();
  if (in.labels_size() != arch.num_classes)
    return Bad("manifest has ", in.labels_size(), " labels, architecture '", arch.name, "' has ",
               arch.num_classes, " classes");
  x.meta.labels.assign(in.labels().begin(), in.labels().end());
  if (absl::Status s = InputFromManifest(in, arch, &x.meta); !s.ok()) return s;

  for (const auto& [point, amax] : in.activation_amax()) {
    if (point.empty()) return Bad("activation_amax has an empty quantisation point name");
    // 0 would quantise that point with a degenerate step: every int8 configuration would
    // then return the same output for any input.
    if (!std::isfinite(amax) || amax <= 0)
      return Bad("activation_amax['", point, "'] is ", amax, ", must be finite and > 0");
    x.activation_amax[point] = amax;
  }
  if (in.has_predictor()) {
    auto p = PredictorFromManifest(in.predictor(), space);
    if (!p.ok()) return p.status();
    x.predictor = std::move(*p);
  }
  for (int i = 0; i < in.measured_size(); ++i) {
    const pb::MeasuredConfig& pm = in.measured(i);
    auto config = space.Parse(pm.config());
    if (!config.ok()) return Bad("measured[", i, "]: ", config.status().message());
    if (!std::isfinite(pm.accuracy()) || pm.accuracy() < 0 || pm.accuracy() > 1)
      return Bad("measured[", i, "] accuracy ", pm.accuracy(), " is not a fraction in [0, 1]");
    if (pm.split() != "val" && pm.split() != "test")
      return Bad("measured[", i, "] split '", pm.split(), "' is not 'val' or 'test'");
    x.measured.push_back({pm.config(), pm.accuracy(), pm.split(), pm.heldout()});
  }
  const pb::Provenance& pv = in.provenance();
  Provenance& prov = x.meta.provenance;
  prov.dataset = pv.dataset();
  prov.seed = pv.seed();
  prov.epochs = Int(pv.epochs());
  prov.commit = pv.commit();
  prov.command = pv.command();
  prov.created = pv.created();
  prov.train_seconds = pv.train_seconds();
  constexpr uint32_t kMaxImages = 1u << 30;
  if (pv.has_table_split()) {
    const pb::ValidationSplit& split = pv.table_split();
    if (split.val_images() < 1 || split.val_images() > kMaxImages)
      return Bad("provenance.table_split.val_images ", split.val_images(), " is not in [1, 2^30]");
    if (split.measure_val_images() > kMaxImages)
      return Bad("provenance.table_split.measure_val_images ", split.measure_val_images(),
                 " is over 2^30");
    prov.table_split = Provenance::TableSplit{static_cast<int>(split.val_images()),
                                              static_cast<int>(split.measure_val_images())};
  }
  return x;
}

}  // namespace adaspring::engine::bundle_internal

// More measured configurations for a bundle's predictor on its own validation split
// (MeasureValidationConfigs, adaspring-train --refit-predictor --measure N).
#include <algorithm>
#include <cmath>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "adaspring/engine/train.h"
#include "adaspring/engine/train/dataset.h"
#include "adaspring/engine/train/layers.h"
#include "adaspring/engine/variant.h"
#include "train/evaluate.h"
#include "train/trainer_impl.h"

namespace adaspring::engine {

absl::StatusOr<std::vector<MeasuredConfig>> MeasureValidationConfigs(
    std::shared_ptr<const Model> model, const MeasureOptions& o) {
  auto log = [&o](const std::string& line) {
    if (o.on_log) o.on_log(line);
  };
  if (!model) return absl::InvalidArgumentError("measure: model is null");
  if (o.count < 0) return train::OptionError(absl::StrCat("--measure must be >= 0, got ", o.count));
  if (o.threads < 1 || o.threads > kMaxTrainThreads)
    return train::OptionError(
        absl::StrCat("--threads must be 1..", kMaxTrainThreads, " here, got ", o.threads));
  if (o.measure_val_images < 0)
    return train::OptionError(
        absl::StrCat("--measure-val-images must be >= 0 (0 = all), got ", o.measure_val_images));
  const ConfigSpace& space = model->space();
  const ArchSpec& arch = space.arch();
  if (model->meta().mean.size() != static_cast<size_t>(arch.in_channels) ||
      model->meta().std.size() != model->meta().mean.size())
    return absl::InvalidArgumentError("measure: the bundle has no per-channel normalisation");

  absl::StatusOr<train::Dataset> all = train::LoadSplit(o.data_dir, "train");
  if (!all.ok()) return all.status();
  if (all->channels != arch.in_channels || all->height != arch.in_height ||
      all->width != arch.in_width)
    return absl::InvalidArgumentError("measure: training images do not match the model's input");
  if (o.val_images < 1 || o.val_images >= all->count)
    return train::OptionError(absl::StrCat("--val-images ", o.val_images, " is not in [1, ",
                                           all->count, "): the training set ", all->images_path,
                                           " has ", all->count, " images"));
  // A bundle that records its split names a mismatch before anything is measured (older
  // bundles: the verification below notices it by the table not reproducing).
  const Provenance& prov = model->meta().provenance;
  if (prov.table_split) {
    auto same = [](const char* option, int given, int recorded) -> absl::Status {
      if (given == recorded) return absl::OkStatus();
      return train::OptionError(absl::StrCat(option, " ", given,
                                             " is not the bundle's: its table was measured with ",
                                             option, " ", recorded, " (use that)"));
    };
    if (absl::Status s = same("--val-images", o.val_images, prov.table_split->val_images); !s.ok())
      return s;
    if (absl::Status s = same("--measure-val-images", o.measure_val_images,
                              prov.table_split->measure_val_images);
        !s.ok())
      return s;
  }
  const uint64_t seed = prov.seed;
  train::Dataset train_part, val_part;
  train::SplitTrainVal(*all, o.val_images, seed, &train_part, &val_part);
  const train::Normalization norm{model->meta().mean, model->meta().std};
  // As the trainer measured its table: the first measure_val_images validation images.
  const train::EvalSet val = train::MakeEvalSet(val_part, norm, o.measure_val_images);

  train::SetTrainingThreads(o.threads);
  EvolverOptions evolver_options;
  evolver_options.threads = o.threads;
  absl::StatusOr<std::unique_ptr<Evolver>> evolver = Evolver::Create(model, evolver_options);
  if (!evolver.ok()) return evolver.status();
  std::unique_ptr<Workspace> ws = NewWorkspace(o.threads);

  std::set<uint64_t> ids;
  std::vector<std::pair<Config, double>> existing;
  for (const MeasuredConfig& m : model->measured) {
    if (m.split != "val") continue;
    absl::StatusOr<Config> c = space.Parse(m.config);
    if (!c.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("measure: configuration '", m.config, "': ", c.status().message()));
    ids.insert(space.ToId(*c));
    existing.emplace_back(*c, m.accuracy);
  }

  // The split must be the one the table was measured on.
  const int verify = std::min<int>(o.verify, static_cast<int>(existing.size()));
  for (int i = 0; i < verify; ++i) {
    absl::StatusOr<double> acc =
        train::VariantAccuracy(**evolver, ws.get(), existing[i].first, val);
    if (!acc.ok()) return acc.status();
    const double diff_images = std::abs(*acc - existing[i].second) * val.count;
    log(absl::StrCat("verify ", i, ": table ", existing[i].second, ", measured again ", *acc, " (",
                     diff_images, " images apart)"));
    if (diff_images > o.verify_tolerance_images + 1e-6)
      return absl::FailedPreconditionError(absl::StrCat(
          "measure: the validation split does not reproduce the bundle's table: configuration '",
          space.ToText(existing[i].first), "' measured ", *acc, ", the table says ",
          existing[i].second, " (", diff_images, " images apart; check --data, --val-images ",
          o.val_images, ", --measure-val-images ", o.measure_val_images,
          " (both as in the bundle's training run) and the bundle's seed ", seed, ")"));
  }

  std::vector<MeasuredConfig> out;
  std::mt19937_64 rng = train::DerivedRng(seed, 6, existing.size());
  while (static_cast<int>(out.size()) < o.count) {
    const Config c = space.Canonical(space.Sample(rng));
    if (!ids.insert(space.ToId(c)).second) continue;
    absl::StatusOr<double> acc = train::VariantAccuracy(**evolver, ws.get(), c, val);
    if (!acc.ok()) return acc.status();
    out.push_back({space.ToText(c), *acc, "val", false});
    if (out.size() % 50 == 0) log(absl::StrCat("measured ", out.size(), "/", o.count));
    if (out.size() % 64 == 0) (*evolver)->ClearCache();
  }
  return out;
}

}  // namespace adaspring::engine

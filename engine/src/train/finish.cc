// Post-training: exact per-width BN statistics, int8 calibration, measured configurations,
// the accuracy predictor, the test-set headline numbers, the bundle and its JSON report.
#include <errno.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <numeric>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adaspring/engine/build_id.h"
#include "adaspring/engine/bundle.h"
#include "adaspring/engine/predictor.h"
#include "adaspring/engine/variant.h"
#include "train/evaluate.h"
#include "train/trainer_impl.h"

namespace adaspring::engine::train {
namespace {

std::string JsonNumber(double v) { return absl::StrFormat("%.6g", v); }

std::string ReportPath(const std::string& out) {
  std::string base = out;
  if (base.size() > 4 && base.compare(base.size() - 4, 4, ".asb") == 0)
    base.resize(base.size() - 4);
  return base + ".report.json";
}

const char* const kFashionLabels[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

}  // namespace

void TrainerImpl::RecalibrateBn() {
  // For each width choice: every block at that width, full depth; accumulate exact batch
  // statistics over calib_images training images (no augmentation) into that width's row.
  const ConfigSpace& space = net_->space();
  const int batch = opt_.batch;
  const int count = std::min(opt_.calib_images, train_.count) / batch * batch;
  std::vector<float> images(static_cast<size_t>(batch) * train_.image_size());
  std::vector<int32_t> labels(batch);
  std::vector<int> order(train_.count);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng = DerivedRng(opt_.seed, 3, 0);
  std::shuffle(order.begin(), order.end(), rng);
  const int widths = static_cast<int>(space.arch().width_percent.size());
  net_->BeginCalibration();
  for (int w = 0; w < widths; ++w) {
    Config c = space.Full(Precision::kF32);
    for (const BlockSpec& b : space.net().blocks)
      c.width_idx[b.global_index] = static_cast<uint8_t>(std::min(w, b.bn_widths - 1));
    for (int start = 0; start < std::max(count, batch); start += batch) {
      MakeBatch(train_, order.data() + start, batch, norm_, Augment{}, nullptr, images.data(),
                labels.data());
      net_->Forward(c, images.data(), batch, BnMode::kCalibrate);
    }
  }
  net_->EndCalibration();
}

std::shared_ptr<Model> TrainerImpl::ExportModel() const {
  const ArchSpec& arch = net_->space().arch();
  ModelMeta meta;
  meta.name = arch.name;
  meta.version = absl::StrCat("seed", opt_.seed, "-e", epochs_done_);
  const bool fashion = opt_.data_dir.find("fashion") != std::string::npos && arch.num_classes == 10;
  for (int i = 0; i < arch.num_classes; ++i)
    meta.labels.push_back(fashion ? kFashionLabels[i] : absl::StrCat("class", i));
  meta.mean = norm_.mean;
  meta.std = norm_.std;
  meta.provenance.dataset =
      fashion ? "fashion-mnist (Debian dataset-fashion-mnist)" : opt_.data_dir;
  meta.provenance.seed = opt_.seed;
  meta.provenance.epochs = epochs_done_;
  meta.provenance.command = opt_.command_line;
  meta.provenance.train_seconds = train_seconds_;
  meta.provenance.table_split = Provenance::TableSplit{opt_.val_images, opt_.measure_val_images};
  meta.provenance.commit = EngineGitCommit();
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  meta.provenance.created = buf;
  return net_->ExportModel(std::move(meta));
}

absl::StatusOr<TrainReport> TrainerImpl::Finish() {
  const auto start = std::chrono::steady_clock::now();
  const ConfigSpace& space = net_->space();
  TrainReport report;
  report.epochs = epochs_done_;
  report.train_seconds = train_seconds_;
  {
    // Training throughput: images through the largest config per second of training.
    const double images = static_cast<double>(global_step_) * opt_.batch;
    report.train_images_per_s = train_seconds_ > 0 ? images / train_seconds_ : 0;
  }

  Log("recalibrating per-width BN statistics");
  RecalibrateBn();
  report.val_full_f32 = OwnAccuracy(space.Full(Precision::kF32), val_, 0);
  std::shared_ptr<Model> model = ExportModel();
  if (absl::Status s = model->CheckTensors(); !s.ok()) return s;
  if (opt_.f16_weights) {
    // Everything below (calibration, measured table, headline accuracies) then describes the
    // weights exactly as the bundle stores them.
    absl::StatusOr<std::shared_ptr<Model>> rounded = RoundWeightsToF16(*model);
    if (!rounded.ok()) return rounded.status();
    model = std::move(*rounded);
  }

  // int8 activation scales from validation images over configurations covering every width
  // and rank choice (as the engine's self-calibration does, but on real data).
  Log("calibrating int8 activation scales");
  const EvalSet val = MakeEvalSet(val_, norm_, opt_.measure_val_images);
  const EvalSet test = MakeEvalSet(test_, norm_, 0);
  {
    std::vector<Config> configs;
    int max_rank = 1;
    for (const BlockSpec& b : space.net().blocks) max_rank = std::max(max_rank, b.rank_choices);
    for (int r = 0; r < max_rank; ++r)
      for (Config c : {space.Full(Precision::kF32), space.Narrowest(Precision::kF32)}) {
        for (const BlockSpec& b : space.net().blocks)
          c.rank_idx[b.global_index] = static_cast<uint8_t>(std::min(r, b.rank_choices - 1));
        configs.push_back(c);
      }
    std::mt19937_64 rng = DerivedRng(opt_.seed, 4, 0);
    for (int i = 0; i < 2; ++i) configs.push_back(space.Sample(rng));
    const int n = std::min(opt_.int8_calib_images, val.count);
    absl::StatusOr<std::map<std::string, float>> amax =
        CalibrateActivations(*model, configs, val.images.data(), n);
    if (!amax.ok()) return amax.status();
    model->activation_amax = std::move(*amax);
  }

  EvolverOptions evolver_options;
  evolver_options.threads = opt_.threads;
  absl::StatusOr<std::unique_ptr<Evolver>> evolver = Evolver::Create(model, evolver_options);
  if (!evolver.ok()) return evolver.status();
  std::unique_ptr<Workspace> ws = NewWorkspace(opt_.threads);

  // Measured configurations on the validation split: the headline ones plus random samples.
  Log(absl::StrCat("measuring ", opt_.predictor_configs, " sampled configurations on ", val.count,
                   " validation images"));
  std::vector<std::pair<Config, double>> measured;
  std::set<uint64_t> ids;
  std::mt19937_64 rng = DerivedRng(opt_.seed, 5, 0);
  while (static_cast<int>(measured.size()) < opt_.predictor_configs) {
    Config c = space.Canonical(space.Sample(rng));
    if (!ids.insert(space.ToId(c)).second) continue;
    absl::StatusOr<double> acc = VariantAccuracy(**evolver, ws.get(), c, val);
    if (!acc.ok()) return acc.status();
    measured.emplace_back(c, *acc);
    if (measured.size() % 25 == 0)
      Log(absl::StrCat("  measured ", measured.size(), "/", opt_.predictor_configs));
    if (measured.size() % 64 == 0) (*evolver)->ClearCache();
  }
  // ValidateTrainOptions made sure both parts have at least kMinPredictorConfigs entries.
  const int heldout = opt_.heldout_configs;
  std::vector<std::pair<Config, double>> fit(measured.begin() + heldout, measured.end());
  std::vector<std::pair<Config, double>> held(measured.begin(), measured.begin() + heldout);
  // Ridge (features standardised; lambda ~1 keeps interactions from overfitting) or kernel
  // ridge, whichever cross-validates better on the fitted part.
  std::vector<PredictorCvScore> cv;
  absl::StatusOr<PredictorParams> predictor =
      AccuracyPredictor::FitSelected(space, fit, held, 1.0, &cv);
  if (!predictor.ok()) return predictor.status();
  for (const PredictorCvScore& c : cv)
    Log(absl::StrFormat("  predictor cv: %s lambda %g gamma %g: tau %.3f MAE %.2f pt%s", c.kind,
                        c.lambda, c.gamma, c.kendall_tau, c.mae_pt, c.chosen ? " (chosen)" : ""));
  report.kendall_tau = predictor->kendall_tau;
  report.mae_pt = predictor->mae_pt;
  report.fitted_configs = predictor->fitted_configs;
  report.heldout_configs = predictor->heldout_configs;
  model->predictor = *predictor;
  for (size_t i = 0; i < measured.size(); ++i) {
    MeasuredConfig m;
    m.config = space.ToText(measured[i].first);
    m.accuracy = measured[i].second;
    m.split = "val";
    m.heldout = static_cast<int>(i) < heldout;
    model->measured.push_back(std::move(m));
  }

  // Headline numbers on the test set.
  Log("measuring headline configurations on the test set");
  struct Headline {
    const char* name;
    Config config;
    double* out;
  };
  const Headline headlines[] = {
      {"full_f32", space.Full(Precision::kF32), &report.full_f32},
      {"full_int8", space.Full(Precision::kInt8), &report.full_int8},
      {"narrow_f32", space.Narrowest(Precision::kF32), &report.narrow_f32},
      {"smallest", space.Smallest(), &report.smallest},
  };
  for (const Headline& h : headlines) {
    absl::StatusOr<double> acc = VariantAccuracy(**evolver, ws.get(), h.config, test);
    if (!acc.ok()) return acc.status();
    *h.out = *acc;
    MeasuredConfig m;
    m.config = space.ToText(h.config);
    m.accuracy = *acc;
    m.split = "test";
    model->measured.push_back(std::move(m));
  }
  evolver->reset();

  report.finish_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!opt_.out_path.empty()) {
    if (absl::Status s = WriteBundle(*model, opt_.out_path); !s.ok()) return s;
    report.bundle_path = opt_.out_path;
    report.report_path = ReportPath(opt_.out_path);
    std::ofstream f(report.report_path, std::ios::trunc);
    if (!f) return train::FileError(report.report_path, "cannot create the report", errno);
    f << report.ToJson() << "\n";
    f.flush();
    if (!f) return absl::DataLossError(absl::StrCat(report.report_path, ": write failed"));
  }
  return report;
}

}  // namespace adaspring::engine::train

namespace adaspring::engine {

std::string TrainReport::ToJson() const {
  using train::JsonNumber;
  return absl::StrCat(
      "{\"full_f32\":", JsonNumber(full_f32), ",\"full_int8\":", JsonNumber(full_int8),
      ",\"narrow_f32\":", JsonNumber(narrow_f32), ",\"smallest\":", JsonNumber(smallest),
      ",\"val_full_f32\":", JsonNumber(val_full_f32), ",\"kendall_tau\":", JsonNumber(kendall_tau),
      ",\"mae_pt\":", JsonNumber(mae_pt), ",\"fitted_configs\":", fitted_configs,
      ",\"heldout_configs\":", heldout_configs, ",\"epochs\":", epochs,
      ",\"train_seconds\":", JsonNumber(train_seconds),
      ",\"finish_seconds\":", JsonNumber(finish_seconds),
      ",\"train_images_per_s\":", JsonNumber(train_images_per_s), ",\"split\":\"test\"",
      ",\"bundle\":\"", bundle_path, "\"}");
}

}  // namespace adaspring::engine

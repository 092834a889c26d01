// adaspring-train: ensemble training of a self-evolutionary supernet (DESIGN §3.7).
//
//   adaspring-train --data DIR --arch smallres28 --epochs N --out FILE.asb [--seed S]
//                   [--resume CKPT] [--random-configs N] [--threads N] [--predictor-configs N]
//
// Progress goes to stderr (one refreshed line per epoch); the final report table to stdout
// and as JSON to FILE.report.json. A checkpoint FILE.asb.ckpt is written after every epoch;
// --resume FILE.asb.ckpt continues (with the same options) exactly where it stopped.
//
// Exit codes (adaspring-train(1)): 0 success; 2 a bad command line, including any invalid
// option value, found before training starts (ValidateTrainOptions, and Trainer::Create for
// values that do not fit the data: IsOptionError); 1 every other failure (unusable data or
// bundle, divergence, a failed write).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "adaspring/engine/bundle.h"
#include "adaspring/engine/model.h"
#include "adaspring/engine/predictor.h"
#include "adaspring/engine/train.h"

namespace {

// Prints the error; the exit code: 2 for an option's bad value (man page: bad command line),
// 1 for every other failure.
int Fail(const absl::Status& s) {
  if (adaspring::engine::IsOptionError(s)) {
    std::fprintf(stderr, "adaspring-train: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  std::fprintf(stderr, "adaspring-train: %s\n", s.ToString().c_str());
  return 1;
}

std::string Duration(double s) {
  const int t = static_cast<int>(s + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  return buf;
}

void PrintProgress(const adaspring::engine::TrainProgress& p, bool tty) {
  constexpr int kBarWidth = 24;
  const double frac = static_cast<double>(p.step) / static_cast<double>(p.steps_per_epoch);
  std::string bar(kBarWidth, ' ');
  for (int i = 0; i < static_cast<int>(frac * kBarWidth); ++i) bar[i] = '#';
  std::fprintf(stderr,
               "%sepoch %d/%d [%s] step %lld/%lld loss %.4f acc %.4f lr %.4f %.0f img/s "
               "ETA %s%s",
               tty ? "\r" : "", p.epoch + 1, p.epochs, bar.c_str(), static_cast<long long>(p.step),
               static_cast<long long>(p.steps_per_epoch), p.loss, p.accuracy, p.lr, p.images_per_s,
               Duration(p.eta_s).c_str(), tty ? "" : "\n");
  std::fflush(stderr);
}

// --refit-predictor [--f16-weights] [--measure N --data DIR [--val-images V] [--threads T]]:
// optionally round the weights to float16 storage, measure N more configurations on the
// bundle's validation split, then refit.
int RefitPredictor(const std::string& path, const adaspring::engine::MeasureOptions& measure,
                   bool f16_weights) {
  using adaspring::engine::AccuracyPredictor;
  absl::StatusOr<std::shared_ptr<const adaspring::engine::Model>> read =
      adaspring::engine::ReadBundle(path);
  if (!read.ok()) {
    std::fprintf(stderr, "adaspring-train: %s\n", read.status().ToString().c_str());
    return 1;
  }
  std::shared_ptr<const adaspring::engine::Model> source = *read;
  if (f16_weights) {
    absl::StatusOr<std::shared_ptr<adaspring::engine::Model>> rounded =
        adaspring::engine::RoundWeightsToF16(**read);
    if (!rounded.ok()) {
      std::fprintf(stderr, "adaspring-train: %s: %s\n", path.c_str(),
                   rounded.status().ToString().c_str());
      return 1;
    }
    source = std::move(*rounded);
    std::printf(
        "weights rounded to float16 storage (the configurations measured before keep the "
        "accuracies of the old weights; new ones are measured on the rounded weights)\n");
  }
  // A new model whose tensors are views of `source` (the mapped file or the rounded copy).
  const adaspring::engine::Model& old = *source;
  adaspring::engine::TensorStore views;
  for (const auto& [name, entry] : old.tensors().entries())
    views.AddView(name, entry.shape, entry.data, entry.storage);
  views.SetKeepAlive(source);
  adaspring::engine::Model model(old.arch(), old.meta(), std::move(views));
  model.activation_amax = old.activation_amax;
  model.predictor = old.predictor;
  model.measured = old.measured;
  if (measure.count > 0) {
    const auto t0 = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<adaspring::engine::MeasuredConfig>> more =
        adaspring::engine::MeasureValidationConfigs(source, measure);
    if (!more.ok()) {
      if (adaspring::engine::IsOptionError(more.status())) return Fail(more.status());
      std::fprintf(stderr, "adaspring-train: %s: %s\n", path.c_str(),
                   more.status().ToString().c_str());
      return 1;
    }
    // After the last validation entry, before the test-set headline entries.
    auto at = model.measured.begin();
    for (auto it = model.measured.begin(); it != model.measured.end(); ++it)
      if (it->split == "val") at = it + 1;
    model.measured.insert(at, more->begin(), more->end());
    std::printf("measured %d more configurations on the validation split in %.0f s\n",
                static_cast<int>(more->size()),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::vector<adaspring::engine::PredictorCvScore> cv;
  absl::StatusOr<adaspring::engine::PredictorParams> p =
      AccuracyPredictor::FitMeasured(model.space(), model.measured, 1.0, &cv);
  if (!p.ok()) {
    std::fprintf(stderr, "adaspring-train: %s: %s\n", path.c_str(), p.status().ToString().c_str());
    return 1;
  }
  std::printf("5-fold cross-validation on the fitted part:\n");
  for (const auto& c : cv)
    std::printf("  %-5s lambda %-6g gamma %-4g tau %.3f  MAE %.2f pt%s\n", c.kind.c_str(), c.lambda,
                c.gamma, c.kendall_tau, c.mae_pt, c.chosen ? "  (chosen)" : "");
  // What a predictor is made of, in its kind's terms.
  auto shape = [](const adaspring::engine::PredictorParams& q) {
    if (q.kind == "krr")
      return absl::StrFormat("%d kernel features, %d support configurations",
                             static_cast<int>(q.kernel_feature_names.size()),
                             static_cast<int>(q.support_configs.size()));
    if (q.kind == "mlp")
      return absl::StrFormat("%d members of %d inputs and 2 x %d hidden units", q.mlp_members,
                             static_cast<int>(q.mlp_input_names.size()), q.mlp_hidden);
    return absl::StrFormat("%d features", static_cast<int>(q.feature_names.size()));
  };
  if (model.predictor) {
    std::printf("before: %s, tau %.3f, MAE %.2f pt (%s)\n", model.predictor->kind.c_str(),
                model.predictor->kendall_tau, model.predictor->mae_pt,
                shape(*model.predictor).c_str());
  }
  std::printf("after:  %s, tau %.3f, MAE %.2f pt (%s; %d fitted, %d held out)\n", p->kind.c_str(),
              p->kendall_tau, p->mae_pt, shape(*p).c_str(), p->fitted_configs, p->heldout_configs);
  model.predictor = *p;
  if (absl::Status s = adaspring::engine::WriteBundle(model, path); !s.ok()) {
    std::fprintf(stderr, "adaspring-train: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("rewrote %s\n", path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  adaspring::engine::TrainOptions o;
  CLI::App app{"adaspring-train: ensemble training of a self-evolutionary supernet"};
  auto* data = app.add_option("--data", o.data_dir,
                              "directory with {train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]");
  app.add_option("--arch", o.arch, "built-in architecture")->capture_default_str();
  app.add_option("--epochs", o.epochs, "training epochs")->capture_default_str();
  app.add_option("--out", o.out_path, "bundle to write (FILE.asb)")->required();
  app.add_option("--seed", o.seed, "random seed")->capture_default_str();
  app.add_option("--resume", o.resume_path, "checkpoint to resume from");
  app.add_option("--random-configs", o.random_configs,
                 "random configurations per step besides largest and smallest")
      ->capture_default_str();
  app.add_option("--student-weight", o.student_weight,
                 "scale of each smaller configuration's distillation gradient against the "
                 "largest's (0 < w <= 10; below 1 the shared weights favour the largest)")
      ->capture_default_str();
  app.add_option("--threads", o.threads, "OpenMP threads, 0..256 (0 = all cores)")
      ->capture_default_str();
  app.add_option("--predictor-configs", o.predictor_configs,
                 "configurations measured for the accuracy predictor")
      ->capture_default_str();
  app.add_option("--heldout-configs", o.heldout_configs,
                 "of those, held out of the fit to measure its quality (>= 2, and >= 2 left "
                 "to fit)")
      ->capture_default_str();
  app.add_option("--batch", o.batch, "batch size")->capture_default_str();
  app.add_option("--lr", o.lr, "peak learning rate (finite, > 0)")->capture_default_str();
  app.add_option("--warmup-epochs", o.warmup_epochs, "linear LR warm-up")->capture_default_str();
  app.add_option("--full-only-epochs", o.full_only_epochs,
                 "epochs training only the largest configuration first (-1 = auto)")
      ->capture_default_str();
  app.add_option("--val-images", o.val_images, "validation images held out of training")
      ->capture_default_str();
  app.add_option("--max-train-images", o.max_train_images, "use only this many (0 = all)")
      ->capture_default_str();
  app.add_option("--measure-val-images", o.measure_val_images,
                 "validation images per measured configuration (0 = all); with "
                 "--refit-predictor --measure it must match the bundle's training run")
      ->capture_default_str();
  app.add_option("--calib-images", o.calib_images, "BN recalibration images per width")
      ->capture_default_str();
  app.add_option("--low-rank-training", o.low_rank_training,
                 "students run at their sampled ranks (true) or always at full rank (false)")
      ->capture_default_str();
  std::string low_rank_grad = "projected";
  app.add_option("--low-rank-grad", low_rank_grad,
                 "a reduced-rank student's weight gradient: 'projected' (without the part in the "
                 "discarded singular directions) or 'straight' (straight-through, as until "
                 "session 10)")
      ->check(CLI::IsMember({"projected", "straight"}))
      ->capture_default_str();
  bool train_only = false, refit = false;
  app.add_flag("--refit-predictor", refit,
               "no training: refit the accuracy predictor of the bundle --out from its measured "
               "table (current feature set) and rewrite it in place");
  int measure_more = 0;
  app.add_option("--measure", measure_more,
                 "with --refit-predictor: first measure this many more random configurations on "
                 "the bundle's validation split (needs --data; --val-images and the bundle's seed "
                 "must match its training run; --threads 0 means 1 here)")
      ->capture_default_str();
  app.add_flag("--train-only", train_only, "stop after training (no bundle)");
  app.add_flag("--f16-weights", o.f16_weights,
               "store conv/fc weights as float16 (half the bundle; calibration and measurements "
               "use the rounded weights); with --refit-predictor: convert the bundle in place");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help / --version exit 0; any usage error exits 2, like the other tools.
    return app.exit(e) == 0 ? 0 : 2;
  }
  o.project_low_rank_grad = low_rank_grad == "projected";
  if (o.out_path.empty()) {
    std::fprintf(stderr,
                 "adaspring-train: --out is empty: give the bundle to write (or, with "
                 "--refit-predictor, to rewrite), e.g. --out smallres28.asb\n");
    return 2;
  }
  if (refit) {
    adaspring::engine::MeasureOptions m;
    m.data_dir = o.data_dir;
    m.val_images = o.val_images;
    m.measure_val_images = o.measure_val_images;
    m.count = measure_more;
    m.threads = o.threads > 0 ? o.threads : 1;
    m.on_log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    if (measure_more < 0) {
      std::fprintf(stderr, "adaspring-train: --measure must be >= 0, got %d\n", measure_more);
      return 2;
    }
    if (o.threads < 0 || o.threads > adaspring::engine::kMaxTrainThreads) {
      std::fprintf(stderr, "adaspring-train: --threads must be 0..%d (0 = 1 here), got %d\n",
                   adaspring::engine::kMaxTrainThreads, o.threads);
      return 2;
    }
    if (o.measure_val_images < 0) {
      std::fprintf(stderr, "adaspring-train: --measure-val-images must be >= 0 (0 = all), got %d\n",
                   o.measure_val_images);
      return 2;
    }
    if (measure_more > 0 && data->count() == 0) {
      std::fprintf(stderr, "adaspring-train: --measure needs --data\n");
      return 2;
    }
    return RefitPredictor(o.out_path, m, o.f16_weights);
  }
  if (data->count() == 0) {
    std::fprintf(stderr, "adaspring-train: --data is required (or use --refit-predictor)\n");
    return 2;
  }
  // Every option that can be checked without data, before reading any (exit 2 when bad).
  if (absl::Status s = adaspring::engine::ValidateTrainOptions(o); !s.ok()) return Fail(s);

  for (int i = 0; i < argc; ++i) o.command_line += (i ? " " : "") + std::string(argv[i]);
  const bool tty = isatty(STDERR_FILENO);
  o.on_progress = [tty](const adaspring::engine::TrainProgress& p) { PrintProgress(p, tty); };
  o.on_log = [tty](const std::string& line) {
    std::fprintf(stderr, "%s%s\n", tty ? "\n" : "", line.c_str());
  };

  // Reads the data and checks the options that depend on it (exit 2 when one is bad).
  auto trainer = adaspring::engine::Trainer::Create(o);
  if (!trainer.ok()) return Fail(trainer.status());
  if (absl::Status s = (*trainer)->Train(); !s.ok()) {
    std::fprintf(stderr, "adaspring-train: %s\n", s.ToString().c_str());
    return 1;
  }
  if (train_only) return 0;
  auto report = (*trainer)->Finish();
  if (!report.ok()) {
    std::fprintf(stderr, "adaspring-train: %s\n", report.status().ToString().c_str());
    return 1;
  }
  const auto& r = *report;
  std::printf("\n%-34s %s\n", "configuration (test set)", "accuracy");
  std::printf("%-34s %.4f\n", "full f32", r.full_f32);
  std::printf("%-34s %.4f  (%+.2f pt vs f32)\n", "full int8", r.full_int8,
              100 * (r.full_int8 - r.full_f32));
  std::printf("%-34s %.4f\n", "narrowest full-depth f32", r.narrow_f32);
  std::printf("%-34s %.4f\n", "smallest (all minimum, int8)", r.smallest);
  std::printf("%-34s tau %.3f, MAE %.2f pt (%d fitted, %d held out)\n", "accuracy predictor",
              r.kendall_tau, r.mae_pt, r.fitted_configs, r.heldout_configs);
  std::printf("%-34s %d epochs, %s, %.0f images/s\n", "training", r.epochs,
              Duration(r.train_seconds).c_str(), r.train_images_per_s);
  std::printf("bundle %s, report %s\n", r.bundle_path.c_str(), r.report_path.c_str());
  return 0;
}

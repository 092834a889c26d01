// Ensemble training of a self-evolutionary supernet (DESIGN §3.7) and the reference bundle.
//
// Trainer runs the sandwich rule with oneDNN forward/backward primitives: every step trains
// the largest configuration with cross-entropy, and the smallest plus `random_configs` random
// ones distilled (KL) from the largest one's soft targets; gradients of all of them are summed
// into one SGD step (momentum, weight decay on conv/fc weights, cosine LR with linear
// warm-up). Inner channels are re-sorted by importance at epoch boundaries. Finish() then
// recalibrates per-width BN statistics exactly, calibrates int8 activation scales, measures
// sampled configurations on the validation split, fits the accuracy predictor, measures the
// headline configurations on the test set and writes the bundle and its report.
//
// Determinism: the data order of each epoch and the augmentation and configurations of each
// step derive from (seed, epoch) and (seed, step) only, so a run resumed from a checkpoint
// computes the same as one that never stopped (same options, same thread count).
//
// Failure: Status (INVALID_ARGUMENT for bad options or data, NOT_FOUND for missing files,
// DATA_LOSS for a damaged checkpoint). A bad option value, alone or against the data, is an
// INVALID_ARGUMENT that IsOptionError() recognises, and is reported by Trainer::Create before
// any training. Thread safety: one thread drives a Trainer.
#ifndef ADASPRING_ENGINE_TRAIN_H_
#define ADASPRING_ENGINE_TRAIN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adaspring/engine/model.h"

namespace adaspring::engine {

struct TrainProgress {
  int epoch = 0, epochs = 0;              // epoch is 0-based
  int64_t step = 0, steps_per_epoch = 0;  // step within the epoch
  int64_t global_step = 0, total_steps = 0;
  double loss = 0;          // running mean CE of the largest config
  double accuracy = 0;      // running train accuracy of the largest config
  double images_per_s = 0;  // training images per second (one config pass
                            // per image counts once)
  double eta_s = 0;         // remaining training time
  double lr = 0;
};

// Upper bound of TrainOptions::threads and MeasureOptions::threads (as adaspring-bench's).
inline constexpr int kMaxTrainThreads = 256;
// The accuracy predictor needs at least this many fitted and this many held-out configurations.
inline constexpr int kMinPredictorConfigs = 2;

struct TrainOptions {
  std::string data_dir;             // IDX files: train-* and t10k-*
  std::string arch = "smallres28";  // built-in architecture
  std::string out_path;             // bundle; the report goes to <out minus .asb>.report.json
  std::string checkpoint_path;      // default: <out>.ckpt
  std::string resume_path;          // resume from this checkpoint
  std::string command_line;         // recorded in the bundle's provenance
  int epochs = 30;
  uint64_t seed = 1;
  int batch = 128;
  int random_configs = 2;       // N of the sandwich rule
  double student_weight = 1.0;  // scale of each student's distillation gradient (0 < w <= 10)
  int threads = 0;              // OpenMP threads (0 = all cores), at most kMaxTrainThreads
  double lr = 0.1, momentum = 0.9, weight_decay = 5e-4;
  double warmup_epochs = 1.0;
  int full_only_epochs = -1;    // epochs training only the largest config before the
                                // sandwich rule (-1: 10% of epochs, at most 2)
  int val_images = 5000;        // held out of the training set
  int max_train_images = 0;     // 0 = all (small runs and tests)
  int calib_images = 4096;      // BN recalibration images per width
  int int8_calib_images = 512;  // activation-scale calibration images (validation split)
  int predictor_configs = 400;  // sampled configurations measured for the predictor
  int heldout_configs = 120;    // of those, held out of the fit (>= 2, and >= 2 left to fit)
  int measure_val_images = 0;   // validation images per measured config (0 = all)
  bool checkpoint_each_epoch = true;
  bool low_rank_training = true;  // students run at their sampled ranks (see train/supernet.h)
  // A reduced-rank student's weight gradient is projected (Supernet::set_project_low_rank_grad)
  // or, when false, passed straight through (--low-rank-grad straight).
  bool project_low_rank_grad = true;
  // Conv/fc weights rounded to float16 before calibration and measurement, and stored as
  // float16 in the bundle (RoundWeightsToF16): about half the file, measured as shipped.
  bool f16_weights = false;
  std::function<void(const TrainProgress&)> on_progress;  // called every few steps
  std::function<void(const std::string&)> on_log;         // one line per phase / epoch
};

// Accuracies are fractions of the TEST set.
struct TrainReport {
  double full_f32 = -1, full_int8 = -1, narrow_f32 = -1, smallest = -1;
  double val_full_f32 = -1;
  double kendall_tau = 0, mae_pt = 0;
  int fitted_configs = 0, heldout_configs = 0;
  double train_seconds = 0, finish_seconds = 0, train_images_per_s = 0;
  int epochs = 0;
  std::string bundle_path, report_path;
  std::string ToJson() const;
};

// The checks of `options` that need no data, which Trainer::Create makes first: every value's
// range (an error names the option as adaspring-train spells it, the bad value and what to use
// instead), a built-in --arch, and, when out_path (or checkpoint_path) is set, that it names a
// file, not a directory, in an existing directory where files can be created (tried by creating
// and removing a temporary file there). Every error is an option error (IsOptionError).
absl::Status ValidateTrainOptions(const TrainOptions& options);

// Whether `status` (from ValidateTrainOptions, Trainer::Create or MeasureValidationConfigs)
// rejects an option's value, alone or against the data (e.g. --val-images not below the number
// of training images): another value fixes it. adaspring-train exits 2 for these, 1 otherwise.
bool IsOptionError(const absl::Status& status);

class Trainer {
 public:
  // ValidateTrainOptions, then reads the data (training and test sets must have the same
  // image shape, and their labels must fit the architecture's classes) and checks the options
  // that depend on it, then builds the supernet (and loads resume_path).
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(const TrainOptions& options);
  virtual ~Trainer() = default;
  // Trains the remaining epochs (checkpointing after each).
  virtual absl::Status Train() = 0;
  // One epoch (the next one); FAILED_PRECONDITION when all epochs are done.
  virtual absl::Status TrainEpoch() = 0;
  virtual int epochs_done() const = 0;
  virtual int64_t global_step() const = 0;
  // Validation accuracy of `config` with the current (running) BN statistics.
  virtual double ValidationAccuracy(const Config& config) = 0;
  // Post-training: recalibration, int8, measurement, predictor, bundle + report.
  virtual absl::StatusOr<TrainReport> Finish() = 0;
  // A snapshot of the current weights and BN statistics as a Model.
  virtual std::shared_ptr<Model> ExportModel() const = 0;
  virtual absl::Status SaveCheckpoint(const std::string& path) const = 0;
};

// More measured configurations for an existing bundle's accuracy predictor, on the same
// validation split its trainer used: the split is derived again from `data_dir`'s training
// images, the bundle's provenance seed and `val_images` (the trainer's --val-images), never
// from the test set. Before measuring anything new, the first `verify` validation entries of
// the bundle's table are measured again and must reproduce (within `verify_tolerance_images`
// images, for thread-count-dependent float summation); otherwise FAILED_PRECONDITION, because
// the split (or the weights) differ from the ones the table was measured with.
// New configurations are sampled uniformly (canonical, not already in the table) from a stream
// derived from (seed, number of validation entries already in the table), so that repeated
// calls add different ones; they are returned with split "val" and heldout false.
// Each configuration is measured on the first `measure_val_images` validation images (0 = all),
// as the trainer's --measure-val-images: it must be the value the table was measured with.
struct MeasureOptions {
  std::string data_dir;
  int val_images = 5000;
  int measure_val_images = 0;
  int count = 0;
  int threads = 1;  // OpenMP threads and Evolver threads, 1..kMaxTrainThreads
  int verify = 4;
  int verify_tolerance_images = 1;
  std::function<void(const std::string&)> on_log;
};
absl::StatusOr<std::vector<MeasuredConfig>> MeasureValidationConfigs(
    std::shared_ptr<const Model> model, const MeasureOptions& options);

}  // namespace adaspring::engine

#endif  // ADASPRING_ENGINE_TRAIN_H_

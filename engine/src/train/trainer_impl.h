// The Trainer implementation (private): state shared by trainer.cc (the training loop),
// finish.cc (post-training phases) and evaluate.cc (accuracy measurement).
#ifndef ADASPRING_ENGINE_SRC_TRAIN_TRAINER_IMPL_H_
#define ADASPRING_ENGINE_SRC_TRAIN_TRAINER_IMPL_H_

#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "adaspring/engine/train.h"
#include "adaspring/engine/train/dataset.h"
#include "adaspring/engine/train/supernet.h"

namespace adaspring::engine::train {

// INVALID_ARGUMENT marked as an option's bad value (IsOptionError).
absl::Status OptionError(std::string_view message);
// A failure `what` on file `path` with errno `err`: "PATH: WHAT: the directory DIR does not
// exist" (NOT_FOUND) when its directory is missing, else the errno's code and text.
absl::Status FileError(const std::string& path, std::string_view what, int err);

// A seeded stream for one (seed, purpose, index): independent of how the run got here.
std::mt19937_64 DerivedRng(uint64_t seed, uint64_t purpose, uint64_t index);

class TrainerImpl final : public Trainer {
 public:
  absl::Status Train() override;
  absl::Status TrainEpoch() override;
  int epochs_done() const override { return epochs_done_; }
  int64_t global_step() const override { return global_step_; }
  double ValidationAccuracy(const Config& config) override;
  absl::StatusOr<TrainReport> Finish() override;
  std::shared_ptr<Model> ExportModel() const override;
  absl::Status SaveCheckpoint(const std::string& path) const override;

  // Set up by Trainer::Create.
  TrainOptions opt_;
  std::unique_ptr<Supernet> net_;
  Dataset train_, val_, test_;
  Normalization norm_;
  int epochs_done_ = 0;
  int64_t global_step_ = 0;
  int64_t steps_per_epoch_ = 0;
  double train_seconds_ = 0;  // accumulated across resumes
  int full_only_epochs_ = 0;

  void Log(const std::string& line) const;

 private:
  double LearningRate(int64_t step) const;
  void SgdUpdate(double lr);
  // Accuracy of `config` on `d` with the supernet's own forward (kInference BN).
  double OwnAccuracy(const Config& config, const Dataset& d, int max_images);
  void RecalibrateBn();
};

}  // namespace adaspring::engine::train

#endif  // ADASPRING_ENGINE_SRC_TRAIN_TRAINER_IMPL_H_

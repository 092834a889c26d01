// The training loop: sandwich rule with in-place distillation, SGD with momentum, cosine LR.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "adaspring/engine/train/layers.h"
#include "train/checkpoint.h"
#include "train/trainer_impl.h"

namespace adaspring::engine {

using train::BnMode;
using train::TrainerImpl;

namespace {

// A batch-mean cross-entropy of the largest configuration this far above chance level
// (ln classes) does not occur while training converges: the weights have blown up. (Seen
// once: a 45-epoch two-thread run whose loss crept up from the start of epoch 22 and reached
// 1e15 within 130 steps.)
double DivergedLoss(int classes) { return 20.0 * std::log(static_cast<double>(classes)); }

}  // namespace

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::Create(const TrainOptions& options) {
  if (absl::Status s = ValidateTrainOptions(options); !s.ok()) return s;
  auto t = std::make_unique<TrainerImpl>();
  t->opt_ = options;
  TrainOptions& o = t->opt_;
  if (o.threads > 0) omp_set_num_threads(o.threads);
  if (o.checkpoint_path.empty() && !o.out_path.empty()) o.checkpoint_path = o.out_path + ".ckpt";

  absl::StatusOr<ArchSpec> arch = BuiltinArch(o.arch);
  if (!arch.ok()) return arch.status();
  absl::StatusOr<train::Dataset> all = train::LoadSplit(o.data_dir, "train");
  if (!all.ok()) return all.status();
  absl::StatusOr<train::Dataset> test = train::LoadSplit(o.data_dir, "t10k");
  if (!test.ok()) return test.status();
  const std::string owner = absl::StrCat("architecture '", o.arch, "'");
  if (absl::Status s = train::CheckImageShape(*all, arch->in_channels, arch->in_height,
                                              arch->in_width, absl::StrCat(owner, "'s inputs"));
      !s.ok())
    return s;
  if (absl::Status s = train::CheckLabels(*all, arch->num_classes, owner); !s.ok()) return s;
  if (absl::Status s =
          train::CheckImageShape(*test, all->channels, all->height, all->width,
                                 absl::StrCat("the training images (", all->images_path, ")"));
      !s.ok())
    return s;
  if (absl::Status s = train::CheckLabels(*test, arch->num_classes, owner); !s.ok()) return s;
  if (o.val_images >= all->count)
    return train::OptionError(absl::StrCat("--val-images ", o.val_images,
                                           " must be below the number of training images (",
                                           all->count, " in ", all->images_path, ")"));
  train::SplitTrainVal(*all, o.val_images, o.seed, &t->train_, &t->val_);
  if (o.max_train_images > 0) t->train_ = train::Head(t->train_, o.max_train_images);
  t->test_ = std::move(*test);
  t->norm_ = train::ComputeNormalization(t->train_);
  t->steps_per_epoch_ = t->train_.count / o.batch;
  if (t->steps_per_epoch_ < 1)
    return train::OptionError(absl::StrCat(
        "fewer training images (", t->train_.count, " after --val-images ", o.val_images,
        o.max_train_images > 0 ? absl::StrCat(" and --max-train-images ", o.max_train_images)
                               : std::string(),
        ") than one --batch (", o.batch, "): lower --batch or use more training images"));
  t->full_only_epochs_ = o.full_only_epochs >= 0 ? o.full_only_epochs : std::min(2, o.epochs / 10);

  absl::StatusOr<std::unique_ptr<train::Supernet>> net = train::Supernet::Create(*arch, o.seed);
  if (!net.ok()) return net.status();
  t->net_ = std::move(*net);
  t->net_->set_low_rank(o.low_rank_training);
  t->net_->set_project_low_rank_grad(o.project_low_rank_grad);

  if (!o.resume_path.empty()) {
    train::CheckpointHeader expect{o.arch, o.seed, o.batch}, got;
    if (absl::Status s = train::LoadCheckpoint(o.resume_path, expect, t->net_.get(), &got); !s.ok())
      return s;
    t->epochs_done_ = got.epochs_done;
    t->global_step_ = got.global_step;
    t->train_seconds_ = got.train_seconds;
    t->Log(absl::StrCat("resumed from ", o.resume_path, " after epoch ", got.epochs_done));
  }
  return t;
}

namespace train {

std::mt19937_64 DerivedRng(uint64_t seed, uint64_t purpose, uint64_t index) {
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(purpose), static_cast<uint32_t>(index),
                    static_cast<uint32_t>(index >> 32)};
  return std::mt19937_64(seq);
}

void TrainerImpl::Log(const std::string& line) const {
  if (opt_.on_log) opt_.on_log(line);
}

double TrainerImpl::LearningRate(int64_t step) const {
  const int64_t total = steps_per_epoch_ * opt_.epochs;
  const int64_t warmup =
      std::min<int64_t>(total / 2, static_cast<int64_t>(opt_.warmup_epochs * steps_per_epoch_));
  if (step < warmup) return opt_.lr * (step + 1) / warmup;
  const double progress = static_cast<double>(step - warmup) / std::max<int64_t>(1, total - warmup);
  return 0.5 * opt_.lr * (1 + std::cos(M_PI * progress));
}

void TrainerImpl::SgdUpdate(double lr) {
  const float mu = static_cast<float>(opt_.momentum);
  const float wd = static_cast<float>(opt_.weight_decay);
  const float rate = static_cast<float>(lr);
  for (Param& p : net_->params()) {
    const float decay = p.decay ? wd : 0.f;
    const int64_t n = static_cast<int64_t>(p.value.size());
    float* w = p.value.data();
    float* g = p.grad.data();
    float* v = p.momentum.data();
#pragma omp parallel for simd schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i) {
      v[i] = mu * v[i] + g[i] + decay * w[i];
      w[i] -= rate * v[i];
    }
  }
}

absl::Status TrainerImpl::Train() {
  while (epochs_done_ < opt_.epochs) {
    if (absl::Status s = TrainEpoch(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status TrainerImpl::TrainEpoch() {
  if (epochs_done_ >= opt_.epochs) return absl::FailedPreconditionError("all epochs are done");
  const int epoch = epochs_done_;
  const ConfigSpace& space = net_->space();
  const int classes = space.net().num_classes;
  const int batch = opt_.batch;
  const bool sandwich = epoch >= full_only_epochs_;
  // Importance order before (and while) widths shrink: sort at the start of every sandwich
  // epoch, so narrow configurations always train on the currently most important channels.
  if (sandwich) net_->SortChannelsByImportance();

  std::vector<int> order(train_.count);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 order_rng = DerivedRng(opt_.seed, 1, epoch);
  std::shuffle(order.begin(), order.end(), order_rng);

  std::vector<float> images(static_cast<size_t>(batch) * train_.image_size());
  std::vector<int32_t> labels(batch);
  std::vector<float> diff(static_cast<size_t>(batch) * classes), teacher(diff.size());
  const Config full = space.Full(Precision::kF32);
  const Config smallest = space.Smallest(Precision::kF32);
  Augment aug;
  aug.enabled = true;

  double loss_sum = 0;
  int64_t correct = 0, seen = 0;
  const auto start = std::chrono::steady_clock::now();
  const int64_t first_step = global_step_ - static_cast<int64_t>(epoch) * steps_per_epoch_;
  for (int64_t s = std::max<int64_t>(0, first_step); s < steps_per_epoch_; ++s) {
    std::mt19937_64 rng = DerivedRng(opt_.seed, 2, global_step_);
    MakeBatch(train_, order.data() + s * batch, batch, norm_, aug, &rng, images.data(),
              labels.data());
    net_->ZeroGrad();
    // Largest: cross-entropy on the labels; its soft targets teach the others.
    const float* logits = net_->Forward(full, images.data(), batch, BnMode::kTrain);
    const double step_loss =
        SoftmaxCrossEntropy(logits, labels.data(), batch, classes, diff.data());
    if (!std::isfinite(step_loss) || step_loss > DivergedLoss(classes)) {
      // Stop before this step's update and before any checkpoint of this epoch: the
      // checkpoint on disk still holds the last completed epoch, to resume from.
      return absl::FailedPreconditionError(absl::StrFormat(
          "training diverged at epoch %d, step %d: the largest configuration's loss is %g "
          "(chance level is %.2f; this epoch's mean so far %.4f); %s; rerun with a lower --lr "
          "(now %g)",
          epoch + 1, s + 1, step_loss, std::log(static_cast<double>(classes)),
          loss_sum / std::max<int64_t>(1, seen / batch),
          epoch > 0 && opt_.checkpoint_each_epoch && !opt_.checkpoint_path.empty()
              ? absl::StrCat("the checkpoint ", opt_.checkpoint_path, " holds epoch ", epoch)
              : std::string("no checkpoint was written"),
          opt_.lr));
    }
    loss_sum += step_loss;
    correct += CountCorrect(logits, labels.data(), batch, classes);
    seen += batch;
    Softmax(logits, batch, classes, teacher.data());
    net_->Backward(diff.data());
    if (sandwich) {
      std::vector<Config> students = {smallest};
      for (int i = 0; i < opt_.random_configs; ++i) students.push_back(space.Sample(rng));
      for (const Config& c : students) {
        const float* out = net_->Forward(c, images.data(), batch, BnMode::kTrain);
        KlDivergence(out, teacher.data(), batch, classes, diff.data());
        if (opt_.student_weight != 1.0) {
          const float w = static_cast<float>(opt_.student_weight);
          for (float& d : diff) d *= w;
        }
        net_->Backward(diff.data());
      }
    }
    SgdUpdate(LearningRate(global_step_));
    ++global_step_;

    if (opt_.on_progress && (s % 10 == 9 || s + 1 == steps_per_epoch_)) {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      TrainProgress p;
      p.epoch = epoch;
      p.epochs = opt_.epochs;
      p.step = s + 1;
      p.steps_per_epoch = steps_per_epoch_;
      p.global_step = global_step_;
      p.total_steps = steps_per_epoch_ * opt_.epochs;
      p.loss = loss_sum / std::max<int64_t>(1, seen / batch);
      p.accuracy = static_cast<double>(correct) / std::max<int64_t>(1, seen);
      p.images_per_s = seen / std::max(1e-9, secs);
      // Remaining sandwich epochs cost more per step than full-only ones; the ETA uses the
      // current epoch's rate, which is right once the sandwich phase has started.
      p.eta_s = (p.total_steps - global_step_) * static_cast<double>(batch) /
                std::max(1e-9, p.images_per_s);
      p.lr = LearningRate(global_step_ - 1);
      opt_.on_progress(p);
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  train_seconds_ += secs;
  epochs_done_ = epoch + 1;
  const double val = ValidationAccuracy(full);
  Log(absl::StrFormat(
      "epoch %d/%d: %s, train loss %.4f acc %.4f, val acc (full, running BN) %.4f, %.0f s, "
      "%.0f images/s",
      epochs_done_, opt_.epochs, sandwich ? "sandwich" : "full only",
      loss_sum / std::max<int64_t>(1, seen / batch),
      static_cast<double>(correct) / std::max<int64_t>(1, seen), val, secs,
      seen / std::max(1e-9, secs)));
  if (opt_.checkpoint_each_epoch && !opt_.checkpoint_path.empty()) {
    if (absl::Status st = SaveCheckpoint(opt_.checkpoint_path); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status TrainerImpl::SaveCheckpoint(const std::string& path) const {
  CheckpointHeader h{opt_.arch, opt_.seed, opt_.batch, epochs_done_, global_step_, train_seconds_};
  return train::SaveCheckpoint(path, h, *net_);
}

double TrainerImpl::ValidationAccuracy(const Config& config) {
  return OwnAccuracy(config, val_, 0);
}

double TrainerImpl::OwnAccuracy(const Config& config, const Dataset& d, int max_images) {
  const int batch = opt_.batch;
  const int total = max_images > 0 ? std::min(max_images, d.count) : d.count;
  const int classes = net_->space().net().num_classes;
  std::vector<float> images(static_cast<size_t>(batch) * d.image_size());
  std::vector<int32_t> labels(batch);
  std::vector<int> idx(batch);
  int64_t correct = 0;
  Augment none;
  for (int start = 0; start < total; start += batch) {
    const int n = std::min(batch, total - start);
    // Pad the last batch by repeating its first image (primitives are built per batch size);
    // only the first n rows are counted.
    for (int i = 0; i < batch; ++i) idx[i] = start + std::min(i, n - 1);
    MakeBatch(d, idx.data(), batch, norm_, none, nullptr, images.data(), labels.data());
    const float* logits = net_->Forward(config, images.data(), batch, BnMode::kInference);
    correct += CountCorrect(logits, labels.data(), n, classes);
  }
  return total > 0 ? static_cast<double>(correct) / total : 0;
}

}  // namespace train
}  // namespace adaspring::engine

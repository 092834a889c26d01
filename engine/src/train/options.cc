// Up-front checks of the trainer's options (ValidateTrainOptions) and the marker that tells an
// option's bad value from every other failure (OptionError, IsOptionError).
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adaspring/engine/arch.h"
#include "adaspring/engine/train.h"
#include "train/trainer_impl.h"

namespace adaspring::engine {
namespace {

constexpr char kOptionErrorUrl[] = "type.adaspring/engine.train.OptionError";

// The directory part of `path` ("." when it has none).
std::string DirOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// `path` (for the option `option`) names a file that can be created: not a directory, in an
// existing directory where this process can create (and remove) a file.
absl::Status CheckWritableFile(const std::string& option, const std::string& path) {
  if (path.empty())
    return train::OptionError(absl::StrCat(option, " is empty: give the file to write"));
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return train::OptionError(absl::StrCat(option, " ", path,
                                           " is a directory: give a file name in it, e.g. ",
                                           path.back() == '/' ? path : path + "/", "model.asb"));
  const std::string dir = DirOf(path);
  if (::stat(dir.c_str(), &st) != 0)
    return train::OptionError(absl::StrCat(option, " ", path, ": the directory ", dir,
                                           " does not exist; create it first or choose another ",
                                           option));
  if (!S_ISDIR(st.st_mode))
    return train::OptionError(
        absl::StrCat(option, " ", path, ": ", dir, " is not a directory; choose another ", option));
  // Create and remove a file there: the only reliable test of "can write here" (permissions,
  // ACLs, read-only mounts, a full quota of inodes).
  std::string probe = absl::StrCat(dir, "/.adaspring-train-probe-XXXXXX");
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) {
    const int err = errno;
    return train::OptionError(absl::StrCat(option, " ", path, ": cannot create files in ", dir,
                                           " (", std::strerror(err),
                                           "); choose a writable directory"));
  }
  ::close(fd);
  ::unlink(probe.c_str());
  return absl::OkStatus();
}

}  // namespace

namespace train {

absl::Status OptionError(std::string_view message) {
  absl::Status s = absl::InvalidArgumentError(std::string(message));
  s.SetPayload(kOptionErrorUrl, absl::Cord("1"));
  return s;
}

absl::Status FileError(const std::string& path, std::string_view what, int err) {
  const std::string dir = DirOf(path);
  struct stat st;
  if (err == ENOENT && ::stat(dir.c_str(), &st) != 0)
    return absl::NotFoundError(
        absl::StrCat(path, ": ", std::string(what), ": the directory ", dir, " does not exist"));
  return absl::ErrnoToStatus(err, absl::StrCat(path, ": ", std::string(what)));
}

}  // namespace train

bool IsOptionError(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kOptionErrorUrl).has_value();
}

absl::Status ValidateTrainOptions(const TrainOptions& o) {
  using train::OptionError;
  if (!BuiltinArch(o.arch).ok())
    return OptionError(absl::StrCat("--arch '", o.arch, "' is not a built-in architecture; use ",
                                    absl::StrJoin(BuiltinArchNames(), ", ")));
  if (o.epochs < 1) return OptionError(absl::StrCat("--epochs must be >= 1, got ", o.epochs));
  if (o.batch < 2 || o.batch > 1024)
    return OptionError(absl::StrCat("--batch must be 2..1024, got ", o.batch));
  if (o.random_configs < 0 || o.random_configs > 16)
    return OptionError(absl::StrCat("--random-configs must be 0..16, got ", o.random_configs));
  if (!std::isfinite(o.student_weight) || o.student_weight <= 0 || o.student_weight > 10)
    return OptionError(
        absl::StrCat("--student-weight must be finite, > 0 and <= 10, got ", o.student_weight));
  if (o.threads < 0 || o.threads > kMaxTrainThreads)
    return OptionError(absl::StrCat("--threads must be 0..", kMaxTrainThreads,
                                    " (0 = all cores), got ", o.threads));
  if (!std::isfinite(o.lr) || o.lr <= 0)
    return OptionError(absl::StrCat("--lr must be a finite number > 0 (e.g. 0.1), got ", o.lr));
  if (!std::isfinite(o.warmup_epochs) || o.warmup_epochs < 0)
    return OptionError(
        absl::StrCat("--warmup-epochs must be a finite number >= 0, got ", o.warmup_epochs));
  if (o.full_only_epochs < -1)
    return OptionError(
        absl::StrCat("--full-only-epochs must be >= 0, or -1 for auto, got ", o.full_only_epochs));
  if (o.val_images < 1)
    return OptionError(absl::StrCat(
        "--val-images must be >= 1 (validation images held out of training), got ", o.val_images));
  if (o.max_train_images < 0)
    return OptionError(
        absl::StrCat("--max-train-images must be >= 0 (0 = all), got ", o.max_train_images));
  if (o.measure_val_images < 0)
    return OptionError(
        absl::StrCat("--measure-val-images must be >= 0 (0 = all), got ", o.measure_val_images));
  if (o.calib_images < 0)
    return OptionError(absl::StrCat("--calib-images must be >= 0, got ", o.calib_images));
  // The predictor is fitted on predictor_configs - heldout_configs measured configurations and
  // its quality (Kendall tau, MAE) measured on the held-out ones: both need at least 2.
  if (o.predictor_configs < 2 * kMinPredictorConfigs)
    return OptionError(absl::StrCat("--predictor-configs must be >= ", 2 * kMinPredictorConfigs,
                                    " (at least ", kMinPredictorConfigs,
                                    " to fit the predictor on and ", kMinPredictorConfigs,
                                    " held out to measure it), got ", o.predictor_configs));
  if (o.heldout_configs < kMinPredictorConfigs)
    return OptionError(absl::StrCat("--heldout-configs must be >= ", kMinPredictorConfigs,
                                    " (the predictor's quality is measured on them), got ",
                                    o.heldout_configs));
  if (o.predictor_configs - o.heldout_configs < kMinPredictorConfigs)
    return OptionError(
        absl::StrCat("--predictor-configs ", o.predictor_configs, " with --heldout-configs ",
                     o.heldout_configs, " leaves ", o.predictor_configs - o.heldout_configs,
                     " configurations to fit the predictor on; it needs >= ", kMinPredictorConfigs,
                     ": raise --predictor-configs to at least ",
                     o.heldout_configs + kMinPredictorConfigs, " or lower --heldout-configs"));
  if (!o.out_path.empty()) {
    if (absl::Status s = CheckWritableFile("--out", o.out_path); !s.ok()) return s;
  }
  if (!o.checkpoint_path.empty() &&
      (o.out_path.empty() || DirOf(o.checkpoint_path) != DirOf(o.out_path))) {
    if (absl::Status s = CheckWritableFile("checkpoint path", o.checkpoint_path); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace adaspring::engine

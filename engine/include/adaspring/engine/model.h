// A loaded supernet: architecture, shared weights and the metadata a bundle carries.
//
// Tensor naming (all float32, OIHW for convs; see NetSpec in arch.h):
//   <conv>.weight                      [out, in/groups, k, k]
//   <bn>.gamma, <bn>.beta              [channels]
//   <bn>.mean, <bn>.var                [bn_widths, channels]  (per-width statistics)
//   fc.weight [classes, fc_in], fc.bias [classes]
// Channels of elastic convs are stored sorted by importance, so a narrower width takes a
// contiguous prefix.
//
// Thread safety: a Model is immutable once constructed and is shared as
// std::shared_ptr<const Model> between the evolver, the daemon and the cost model.
#ifndef ADASPRING_ENGINE_MODEL_H_
#define ADASPRING_ENGINE_MODEL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adaspring/engine/arch.h"
#include "adaspring/engine/config.h"

namespace adaspring::engine {

// How a tensor is stored in a bundle file. In memory every tensor is float32; kF16 tensors
// are written as IEEE binary16 (half the bytes) and widened when read, so their values are
// binary16 values (see RoundWeightsToF16 in bundle.h).
enum class TensorStorage { kF32, kF16 };

// Read-only float tensors by name. Data is either owned (std::vector) or a view into memory
// kept alive by `keep_alive` (e.g. a read-only mmap of a bundle).
class TensorStore {
 public:
  struct Entry {
    std::vector<int64_t> shape;
    const float* data = nullptr;
    int64_t numel = 0;
    TensorStorage storage = TensorStorage::kF32;
  };

  void Add(const std::string& name, std::vector<int64_t> shape, std::vector<float> values,
           TensorStorage storage = TensorStorage::kF32);
  void AddView(const std::string& name, std::vector<int64_t> shape, const float* data,
               TensorStorage storage = TensorStorage::kF32);
  void SetKeepAlive(std::shared_ptr<const void> keep_alive) { keep_alive_ = std::move(keep_alive); }

  const Entry* Find(const std::string& name) const;
  // NOT_FOUND / INVALID_ARGUMENT (shape mismatch), naming the tensor.
  absl::StatusOr<const Entry*> Get(const std::string& name,
                                   const std::vector<int64_t>& expected_shape) const;
  const std::map<std::string, Entry>& entries() const { return entries_; }

 private:
  std::map<std::string, Entry> entries_;
  std::vector<std::unique_ptr<std::vector<float>>> owned_;
  std::shared_ptr<const void> keep_alive_;
};

// The accuracy predictor's parameters (meaning: adaspring/engine/predictor.h).
struct PredictorParams {
  std::string kind;                        // "ridge" | "krr" | "mlp"
  std::vector<std::string> feature_names;  // ridge: linear coefficients by feature name
  std::vector<double> coefficients;
  double intercept = 0;
  double kendall_tau = 0, mae_pt = 0;
  int fitted_configs = 0, heldout_configs = 0;
  // What intercept + the model's terms give: "" (= "accuracy") or "log_error", log(1 - acc).
  std::string target;
  // krr: Gaussian kernel exp(-sum_j (kernel_scales[j] * (x_j - s_j))^2) over the features named
  // in kernel_feature_names, between a configuration and each support configuration
  // (canonical text), weighted by dual_coefficients.
  std::vector<std::string> kernel_feature_names;
  std::vector<double> kernel_scales;
  std::vector<std::string> support_configs;
  std::vector<double> dual_coefficients;
  // krr: the hyperparameters the fit chose (informational: gamma is folded into the scales).
  double kernel_gamma = 0, kernel_lambda = 0;
  // mlp: an ensemble of mlp_members networks over the features named in mlp_input_names (raw
  // values), two ReLU hidden layers of mlp_hidden units, one output; the prediction is
  // intercept + mlp_output_scale * the members' mean output. Per member, concatenated:
  // W1 (inputs x hidden, row by input), b1, W2 (hidden x hidden, row by first-layer unit), b2,
  // w3 (hidden), b3 (1).
  std::vector<std::string> mlp_input_names;
  int mlp_hidden = 0, mlp_members = 0;
  std::vector<float> mlp_weights;
  double mlp_output_scale = 0;
  double mlp_weight_decay = 0;  // informational
  int mlp_epochs = 0;           // informational
};

struct MeasuredConfig {
  std::string config;  // canonical text
  double accuracy = 0;
  std::string split;  // "val" | "test"
  bool heldout = false;
};

struct Provenance {
  std::string dataset, commit, command, created;
  uint64_t seed = 0;
  int epochs = 0;
  double train_seconds = 0;
  // How the measured table's "val" entries were scored (unset: not recorded by the trainer
  // that wrote the bundle).
  struct TableSplit {
    int val_images = 0;          // --val-images
    int measure_val_images = 0;  // --measure-val-images (0 = all)
    bool operator==(const TableSplit&) const = default;
  };
  std::optional<TableSplit> table_split;
};

struct ModelMeta {
  std::string name, version, task = "image-classification";
  std::vector<std::string> labels;
  std::vector<float> mean, std;  // per input channel, applied to pixels scaled to [0, 1]
  Provenance provenance;
};

class Model {
 public:
  Model(ArchSpec arch, ModelMeta meta, TensorStore tensors);

  // He-initialised weights, identity BN (gamma 1, beta 0, mean 0, var 1), for benchmarks and
  // tests of built-in architectures without training. Deterministic in `seed`.
  static std::shared_ptr<Model> Random(const ArchSpec& arch, uint64_t seed);

  // Every tensor the architecture needs, with its expected shape.
  static std::vector<std::pair<std::string, std::vector<int64_t>>> ExpectedTensors(
      const NetSpec& net);
  // OK when every expected tensor is present with the right shape and finite values.
  absl::Status CheckTensors() const;

  const ArchSpec& arch() const { return space_.arch(); }
  const NetSpec& net() const { return space_.net(); }
  const ConfigSpace& space() const { return space_; }
  const ModelMeta& meta() const { return meta_; }
  const TensorStore& tensors() const { return tensors_; }
  const float* Data(const std::string& name) const;  // nullptr when absent

  // int8 calibration (max |activation| per quantisation point; names defined by the
  // engine's quantiser). Empty for uncalibrated models.
  std::map<std::string, float> activation_amax;
  std::optional<PredictorParams> predictor;
  std::vector<MeasuredConfig> measured;
  // Path the model was loaded from ("" when built in memory).
  std::string source_path;

 private:
  ConfigSpace space_;
  ModelMeta meta_;
  TensorStore tensors_;
};

}  // namespace adaspring::engine

#endif  // ADASPRING_ENGINE_MODEL_H_

// The trainable supernet: shared parameters plus a oneDNN forward/backward graph that runs any
// configuration (depth per stage, inner width per block) of a basic-block architecture.
//
// Parameters use the tensor names and layouts of model.h (OIHW convs, [C] gamma/beta).
// Batch-norm running statistics are kept per block width choice ([bn_widths, C] rows, as in the
// bundle): a training forward at width index w updates row w; Recalibrate* replace them with
// exact statistics. A Config's rank is honoured (low-rank-aware training, on by default): a
// factorised conv runs with the rank-r truncation of its BN-folded weight slice, the same
// matrix the engine's SVD factorisation computes, and its gradient flows to the full weight
// straight through, and the block's batch norms normalise with the width's running statistics
// (frozen), because the engine folds those into the weights before factorising. Precision is
// ignored (int8 comes from calibration).
//
// Images are NCHW float32 (already normalised). Layer primitives and activation buffers are
// created once per (layer, width, batch size) and reused.
//
// Thread safety: not thread-safe; one thread drives it (its OpenMP team does the work).
#ifndef ADASPRING_ENGINE_TRAIN_SUPERNET_H_
#define ADASPRING_ENGINE_TRAIN_SUPERNET_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "adaspring/engine/config.h"
#include "adaspring/engine/model.h"

namespace adaspring::engine::train {

class BatchNorm;
class Conv2d;
struct WeightSlice;

struct Param {
  std::string name;  // model.h tensor name
  std::vector<int64_t> shape;
  std::vector<float> value, grad, momentum;
  bool decay = false;  // weight decay applies (conv and fc weights, not BN or bias)
};

// Per-width running statistics of one BN: [rows, channels] each.
struct BnStats {
  int rows = 1, channels = 0;
  std::vector<float> mean, var;
};

enum class BnMode {
  kTrain,      // batch statistics; saves activations for Backward; updates running stats
  kInference,  // running statistics of the block's width row
  kCalibrate,  // batch statistics; accumulates them for EndCalibration (no Backward)
};

class Supernet {
 public:
  // He-initialised convs and fc, identity BN; deterministic in `seed`. The architecture must
  // use basic blocks (UNIMPLEMENTED otherwise, reported by Create).
  static absl::StatusOr<std::unique_ptr<Supernet>> Create(const ArchSpec& arch, uint64_t seed);
  ~Supernet();

  const ConfigSpace& space() const { return space_; }
  std::vector<Param>& params() { return params_; }
  const std::vector<Param>& params() const { return params_; }
  Param* FindParam(const std::string& name);
  std::map<std::string, BnStats>& bn_stats() { return bn_stats_; }
  const std::map<std::string, BnStats>& bn_stats() const { return bn_stats_; }

  // Runs `n` images under `config`; returns logits [n, classes], valid until the next call.
  const float* Forward(const Config& config, const float* images, int n, BnMode mode);
  // Backward of the last kTrain Forward: accumulates parameter gradients.
  void Backward(const float* diff_logits);
  void ZeroGrad();

  // Low-rank-aware forward (default on). Off: every conv runs at full rank whatever the
  // Config says (the behaviour of plain weight-sharing training).
  void set_low_rank(bool on) { low_rank_ = on; }
  bool low_rank() const { return low_rank_; }
  // How a reduced-rank conv's weight gradient reaches the full weight. On (default): the
  // straight-through gradient without its part in the discarded singular directions on both
  // sides, which does not change the truncated weight to first order and is only noise for
  // the configurations sharing the weight. Off: straight-through unchanged (until session 10).
  void set_project_low_rank_grad(bool on) { project_low_rank_grad_ = on; }
  bool project_low_rank_grad() const { return project_low_rank_grad_; }

  // Exact BN statistics: BeginCalibration, any number of kCalibrate forwards, EndCalibration
  // writes mean = E[batch mean], var = E[batch var + batch mean^2] - mean^2 into each row
  // that was seen (other rows are kept).
  void BeginCalibration();
  void EndCalibration();

  // Sorts every block's inner channels by importance (L1 norm of conv1's filters, descending)
  // and permutes conv1 rows, bn1 gamma/beta/statistics, conv2 input channels and their
  // momentum buffers consistently, so width prefixes keep the most important channels. The
  // function computed by the full network is unchanged.
  void SortChannelsByImportance();

  // Copies the weights and BN statistics into a Model (model.h names and shapes).
  std::shared_ptr<Model> ExportModel(ModelMeta meta) const;

  // Momentum of the BN running statistics during training (PyTorch's default).
  static constexpr float kRunningMomentum = 0.1f;

 private:
  struct Graph;  // layers and buffers per (block, width, batch) (supernet.cc)
  explicit Supernet(const ArchSpec& arch);
  // `frozen` (kTrain only): normalise with the running statistics of `row` instead of the
  // batch's and leave them unchanged (blocks running at a reduced rank).
  void RunBn(BatchNorm& bn, const std::string& name, int row, int channels, const float* src,
             float* dst, float* mean, float* var, BnMode mode, bool frozen = false);

  // Whether `spec` sliced to [oc, ic] runs below its full rank at `divisor`.
  bool ReducesRank(const ConvSpec& spec, int oc, int ic, int divisor) const;
  // Sets a conv's weights from its slice, truncated to the Config's rank when it factorises;
  // true when it was truncated.
  // `proj` (kTrain): index of the projection Backward applies to its gradient, or -1.
  bool SetConvWeights(Conv2d& conv, const ConvSpec& spec, const WeightSlice& slice, int oc, int ic,
                      int row, int divisor, int* proj = nullptr);

  ConfigSpace space_;
  bool low_rank_ = true;
  bool project_low_rank_grad_ = true;
  std::vector<Param> params_;
  std::map<std::string, int> param_index_;
  std::map<std::string, BnStats> bn_stats_;
  std::unique_ptr<Graph> graph_;
};

}  // namespace adaspring::engine::train

#endif  // ADASPRING_ENGINE_TRAIN_SUPERNET_H_

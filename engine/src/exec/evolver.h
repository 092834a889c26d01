// The evolver: Config -> Variant with shared layers, an SVD cache and an LRU of variants.
#ifndef ADASPRING_ENGINE_SRC_EXEC_EVOLVER_H_
#define ADASPRING_ENGINE_SRC_EXEC_EVOLVER_H_

#include <list>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "adaspring/engine/variant.h"
#include "exec/layer.h"
#include "exec/lowrank.h"
#include "exec/plan.h"
#include "exec/quant.h"
#include "exec/variant_impl.h"

namespace adaspring::engine::exec {

class EvolverImpl final : public Evolver {
 public:
  EvolverImpl(std::shared_ptr<const Model> model, EvolverOptions options);

  absl::StatusOr<std::shared_ptr<const Variant>> Evolve(const Config& config) override;
  EvolverStats stats() const override;
  const Model& model() const override { return *model_; }
  void ClearCache() override;
  int PrecomputeFactorisations() override;
  int WarmUp() override;
  int WarmUp(const std::vector<Config>& configs) override;
  const std::map<std::string, float>& activation_amax() const override { return amax_; }

  // Set once by Create(), before the evolver is shared.
  void SetActivationAmax(std::map<std::string, float> amax, bool self_calibrated) {
    amax_ = std::move(amax);
    self_calibrated_ = self_calibrated;
    absl::MutexLock lock(&mu_);
    // The calibration's own f32 builds are not the caller's evolutions.
    const uint64_t svd = stats_.svd_computed;
    const int64_t cached = stats_.cache_bytes;  // what the cache still holds
    stats_ = EvolverStats{};
    stats_.svd_computed = svd;
    stats_.cache_bytes = cached;
  }

 private:
  struct Cached {
    uint64_t id;
    std::shared_ptr<const VariantImpl> variant;
  };

  absl::StatusOr<std::shared_ptr<const BuiltLayer>> BuildLayer(const Plan& plan, const PlanLayer& l)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<const SvdFactors> Svd(const ConvSpec& conv, int width_idx, int bn_row, int out,
                                        int in) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<const Model> model_;
  const EvolverOptions options_;
  const int threads_;
  std::map<std::string, float> amax_;
  bool self_calibrated_ = false;

  mutable absl::Mutex mu_;  // serialises evolutions; never taken by Variant::Run
  std::list<Cached> lru_ ABSL_GUARDED_BY(mu_);  // most recently used first
  std::unordered_map<uint64_t, std::list<Cached>::iterator> by_id_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<std::string, std::weak_ptr<const BuiltLayer>> layers_ ABSL_GUARDED_BY(mu_);
  // How many cached variants hold each layer: the cache's bytes count a shared layer once.
  std::unordered_map<const BuiltLayer*, int> cached_refs_ ABSL_GUARDED_BY(mu_);
  // Adds (+1) or removes (-1) a variant's layers from cached_refs_ and stats_.cache_bytes.
  void CountCached(const VariantImpl& v, int delta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::map<std::string, std::shared_ptr<const SvdFactors>> svd_ ABSL_GUARDED_BY(mu_);
  EvolverStats stats_ ABSL_GUARDED_BY(mu_);
  DenseConv dense_scratch_ ABSL_GUARDED_BY(mu_);     // BuildLayer's unpacked weights
  QuantWeights quant_scratch_ ABSL_GUARDED_BY(mu_);  // and their int8 form
};

// Max |activation| per quantisation point over f32 runs of `configs` on `images`, using
// `evolver` to build the f32 variants.
absl::StatusOr<std::map<std::string, float>> CalibrateWith(Evolver& evolver,
                                                           const std::vector<Config>& configs,
                                                           const float* images, int count);

// The self-calibration used when a model carries no scales: deterministic synthetic input
// (standard normal pixels, i.e. already-normalised images, fixed seed) over a fixed set of
// configurations covering every width and rank choice.
absl::StatusOr<std::map<std::string, float>> SelfCalibrate(Evolver& evolver);

}  // namespace adaspring::engine::exec

#endif  // ADASPRING_ENGINE_SRC_EXEC_EVOLVER_H_

// A model the daemon serves: the engine backend plus what the serving path needs ready-made
// (input geometry, normalisation, labels, the proto InputSpec).
//
// Thread safety: immutable after the registry publishes it, except for the atomic counters.
#ifndef ADASPRING_DAEMON_MODELS_LOADED_MODEL_H_
#define ADASPRING_DAEMON_MODELS_LOADED_MODEL_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "adaspring/v1/inference.pb.h"
#include "models/engine_facade.h"

namespace adaspring::daemon {

struct LoadedModel {
  std::string name, version, path, task;
  std::unique_ptr<ModelBackend> backend;
  std::shared_ptr<const engine::Model> model;
  std::vector<int64_t> input_shape;  // [C, H, W]
  int64_t image_elems = 0;           // C * H * W
  int channels = 0, num_classes = 0;
  std::vector<float> mean, inv_std;  // per channel; inv_std = 1 / std
  std::vector<std::string> labels;
  v1::InputSpec input_spec;
  // The accuracy predictor the cost model uses: the bundle's when it validates, else "prior".
  std::string predictor_kind = "prior";
  double predictor_tau = 0, predictor_mae_pt = 0;
  int predictor_fitted = 0;

  std::atomic<uint32_t> sessions{0};
  std::atomic<bool> unloading{false};
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_MODELS_LOADED_MODEL_H_

// Logical plan of one configuration: the layers a variant executes, the activation tensors
// between them, their arena offsets and the variant's exact statistics.
//
// The plan depends only on (NetSpec, Config, activation layout), never on oneDNN, so
// PredictStats() and the builder derive identical numbers from it. Both the builder
// (variant_build.cc) and the calibrator walk the same plan.
#ifndef ADASPRING_ENGINE_SRC_EXEC_PLAN_H_
#define ADASPRING_ENGINE_SRC_EXEC_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "adaspring/engine/arch.h"
#include "adaspring/engine/config.h"
#include "adaspring/engine/variant.h"

namespace adaspring::engine::exec {

enum class LayerKind { kInputReorder, kConv, kMaxPool, kGlobalAvgPool, kFc };
enum class PostAct { kNone, kRelu, kRelu6 };

// Tensor ids below 0 are the caller's buffers.
inline constexpr int kUserInput = -1;   // NCHW f32
inline constexpr int kUserLogits = -2;  // [N, classes] f32

struct PlanTensor {
  int c = 0, h = 0, w = 0;
  bool is_signed = true;                // int8 plans: s8 vs u8 (f32 plans ignore it)
  int64_t bytes_per_image = 0;          // rounded up to 64 bytes
  int64_t offset_per_image = 0;         // arena offset = batch * offset_per_image
  int first_layer = 0, last_layer = 0;  // live range (layer indices)
};

struct PlanLayer {
  LayerKind kind = LayerKind::kConv;
  std::string name;                // unique, e.g. "s0.b0.conv1.lr"
  const ConvSpec* conv = nullptr;  // source conv (kConv)
  int bn_row = 0;                  // row of the per-width BN statistics
  int src_out = 0, src_in = 0;     // slice of the source conv: output / input prefix
  int rank = 0;                    // 0 = unfactorised; else the factor rank
  int part = 0;                    // 0 = whole conv; 1 = k x k -> rank; 2 = 1 x 1 rank -> out
  int width_idx = 0;               // block width choice (SVD cache key)
  // Geometry of this op.
  int oc = 0, ic = 0, groups = 1, kernel = 1, stride = 1, pad = 0;
  int ih = 0, iw = 0, oh = 0, ow = 0;
  PostAct act = PostAct::kNone;  // applied after the residual sum when `sum`
  bool sum = false;              // dst holds the shortcut; result = op + shortcut
  int src = kUserInput, dst = 0;
  // Quantisation names (keys of Model::activation_amax) of the src tensor, of the dst after
  // this layer and of the shortcut held in dst before it (sum only).
  std::string src_q, dst_q, sum_q;
  int64_t macs = 0, params = 0, weight_bytes = 0;
  std::string key;  // everything that determines the layer's weights and primitive
};

enum class ActLayout { kNhwc, kBlocked16 };

struct Plan {
  Precision precision = Precision::kF32;
  ActLayout layout = ActLayout::kNhwc;
  std::vector<PlanLayer> layers;
  std::vector<PlanTensor> tensors;
  int64_t arena_bytes_per_image = 0;
  int in_c = 0, in_h = 0, in_w = 0, num_classes = 0;
  VariantStats stats;
};

// The activation layout the engine uses for `precision` (one layout end to end).
ActLayout DefaultLayout(Precision precision);

// Builds the plan of a valid configuration (caller validates).
Plan MakePlan(const NetSpec& net, const ArchSpec& arch, const Config& config, ActLayout layout);

// Every quantisation name any configuration of `net` can use.
std::vector<std::string> AllQuantNames(const NetSpec& net);

}  // namespace adaspring::engine::exec

#endif  // ADASPRING_ENGINE_SRC_EXEC_PLAN_H_

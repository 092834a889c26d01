// The supernet's execution graph (private to engine/src/train): layers and activation buffers
// per (block, width choice, batch size), created on first use and reused afterwards, and the
// trace of the last forward pass that Backward walks in reverse.
#ifndef ADASPRING_ENGINE_SRC_TRAIN_GRAPH_H_
#define ADASPRING_ENGINE_SRC_TRAIN_GRAPH_H_

#include <Eigen/Dense>
#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "adaspring/engine/train/layers.h"
#include "adaspring/engine/train/supernet.h"

namespace adaspring::engine::train {

using Buffer = std::vector<float>;

// Spatial sizes of one block (input and output).
struct BlockGeom {
  int ih = 0, iw = 0, oh = 0, ow = 0;
};

// Width-independent layers and buffers of a block at one batch size. Buffers are sized for
// the widest choice; narrower widths use a prefix.
struct BlockShared {
  std::unique_ptr<BatchNorm> bn2;
  std::unique_ptr<Relu> relu;
  std::unique_ptr<Conv2d> down_conv;
  std::unique_ptr<BatchNorm> down_bn;
  Buffer c1, a1, c2, out, sc_conv, sc_bn;                 // forward activations
  Buffer dz, d_c2, d_a1, d_c1, d_in, d_sc_conv, d_x_tmp;  // gradients
  Buffer mean1, var1, mean2, var2, meand, vard;           // batch statistics of the last forward
};

// Width-dependent layers of a block at one (width, batch size).
struct BlockWidth {
  std::unique_ptr<Conv2d> conv1, conv2;
  std::unique_ptr<BatchNorm> bn1;  // fused with ReLU
};

struct StemLayers {
  std::unique_ptr<Conv2d> conv;
  std::unique_ptr<BatchNorm> bn;  // fused with ReLU
  Buffer input_nhwc, c, a, d_c, mean, var;
};

struct HeadLayers {
  std::unique_ptr<GlobalAvgPool> pool;
  std::unique_ptr<Linear> fc;
  Buffer pooled, logits, d_pooled, d_feat;
};

// Sums of batch statistics for exact BN recalibration, per BN and width row.
struct CalibAccumulator {
  std::vector<double> sum_mean, sum_sq;  // [rows, channels]
  std::vector<int64_t> batches;          // [rows]
};

// What Backward needs to project a reduced conv's weight gradient (SetConvWeights, kTrain,
// projection on): the folded matrix M = diag(scale) W [oc, cols] was truncated to its top-r
// singular subspace; u [oc, r] spans the left and v [cols, r] the right singular vectors.
struct LowRankGrad {
  Eigen::MatrixXd u, v;
  std::vector<double> scale;
};

struct Supernet::Graph {
  std::vector<BlockGeom> geom;  // per block
  int stem_oh = 0, stem_ow = 0;
  std::map<std::pair<int, int>, std::unique_ptr<BlockShared>> shared;       // (block, n)
  std::map<std::tuple<int, int, int>, std::unique_ptr<BlockWidth>> widths;  // (block, w, n)
  std::map<int, std::unique_ptr<StemLayers>> stems;                         // n
  std::map<int, std::unique_ptr<HeadLayers>> heads;                         // n
  std::map<std::string, CalibAccumulator> calib;
  std::vector<float> lowrank_scratch;      // dense OIHW rank-r weights (SetConvWeights)
  std::vector<LowRankGrad> lowrank_grads;  // of the last kTrain forward

  // Trace of the last kTrain forward.
  struct Step {
    int block = 0, width_idx = 0, inner = 0;
    const float* input = nullptr;
    BlockShared* sh = nullptr;
    BlockWidth* bw = nullptr;
    bool frozen_bn = false;      // bn1/bn2 ran with frozen statistics (reduced rank)
    int proj1 = -1, proj2 = -1;  // conv1/conv2's entry in lowrank_grads, -1: none
  };
  std::vector<Step> trace;
  StemLayers* stem = nullptr;
  HeadLayers* head = nullptr;
  const float* head_input = nullptr;
  int n = 0;
  bool backward_ready = false;

  BlockShared& Shared(const NetSpec& net, int block, int n);
  BlockWidth& Width(const NetSpec& net, int block, int width_idx, int n);
  StemLayers& Stem(const ArchSpec& arch, const NetSpec& net, int n);
  HeadLayers& Head(const NetSpec& net, int n);
};

}  // namespace adaspring::engine::train

#endif  // ADASPRING_ENGINE_SRC_TRAIN_GRAPH_H_

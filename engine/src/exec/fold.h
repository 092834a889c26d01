// Slicing and batch-norm folding: the dense f32 weights of one conv of a configuration.
#ifndef ADASPRING_ENGINE_SRC_EXEC_FOLD_H_
#define ADASPRING_ENGINE_SRC_EXEC_FOLD_H_

#include <vector>

#include "adaspring/engine/arch.h"
#include "adaspring/engine/model.h"

namespace adaspring::engine::exec {

// Dense weights in OIHW order ([oc, ic_per_group, k, k]) and an optional bias ([oc] or empty).
struct DenseConv {
  int oc = 0, ic_per_group = 0, kernel = 1;
  std::vector<float> weights;
  std::vector<float> bias;
};

// Conv `conv` sliced to its first `out` filters and first `in` input channels (depthwise convs
// take the first `out` channels), with BN (statistics row `bn_row`, epsilon kBnEpsilon) folded
// into the weights and a bias: w' = w * gamma / sqrt(var + eps), b' = beta - mean * that.
// The model must have passed CheckTensors().
DenseConv FoldConv(const Model& model, const ConvSpec& conv, int bn_row, int out, int in);
// The same into `*d`, reusing its vectors' capacity (the evolver's scratch: no allocation once
// it has seen the largest layer).
void FoldConvInto(const Model& model, const ConvSpec& conv, int bn_row, int out, int in,
                  DenseConv* d);

// The classifier as a [classes, fc_in, 1, 1] conv with bias.
DenseConv FcWeights(const Model& model);

}  // namespace adaspring::engine::exec

#endif  // ADASPRING_ENGINE_SRC_EXEC_FOLD_H_

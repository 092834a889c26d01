// int8 quantisation: symmetric, per-output-channel weight scales and per-tensor activation
// steps from calibrated max |x|.
//
// A real value x is stored as q = round(x / step): step = amax / 127 for s8 tensors and
// amax / 255 for u8 tensors (non-negative, i.e. after ReLU/ReLU6).
#ifndef ADASPRING_ENGINE_SRC_EXEC_QUANT_H_
#define ADASPRING_ENGINE_SRC_EXEC_QUANT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "exec/fold.h"

namespace adaspring::engine::exec {

struct QuantWeights {
  std::vector<int8_t> weights;  // same order as DenseConv::weights
  std::vector<float> step;      // per output channel: max |w| / 127
};

// Per-output-channel int8 weights of `dense` into `*q`, reusing its vectors' capacity.
void QuantiseWeightsInto(const DenseConv& dense, QuantWeights* q);

// Step of an activation tensor (never 0, so an all-zero calibration stays finite).
float ActivationStep(float amax, bool is_signed);

// amax of quantisation point `name`; 1.0 when missing (the evolver guarantees presence).
float AmaxOf(const std::map<std::string, float>& amax, const std::string& name);

}  // namespace adaspring::engine::exec

#endif  // ADASPRING_ENGINE_SRC_EXEC_QUANT_H_

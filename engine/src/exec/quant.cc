#include "exec/quant.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "exec/vector_clones.h"

namespace adaspring::engine::exec {

ADASPRING_VECTOR_CLONES void QuantiseWeightsInto(const DenseConv& dense, QuantWeights* qp) {
  QuantWeights& q = *qp;
  const size_t per_oc = dense.weights.size() / dense.oc;
  q.weights.resize(dense.weights.size());
  q.step.resize(dense.oc);
  for (int o = 0; o < dense.oc; ++o) {
    const float* w = dense.weights.data() + o * per_oc;
    float amax = 0;
    // `omp simd` lets the compiler reorder the max reduction, i.e. vectorise it (it is exact:
    // max does not round). This function is most of an int8 evolution's own time.
#pragma omp simd reduction(max : amax)
    for (size_t i = 0; i < per_oc; ++i) amax = std::max(amax, std::fabs(w[i]));
    const float step = amax > 0 ? amax / 127.f : 1.f;
    q.step[o] = step;
    // Round to nearest even as std::nearbyint does (|w / step| <= 127 < 2^22, so adding and
    // subtracting 1.5 x 2^23 rounds exactly), without a library call per element.
    constexpr float kRound = 12582912.f;
    int8_t* out = q.weights.data() + o * per_oc;
#pragma omp simd
    for (size_t i = 0; i < per_oc; ++i) {
      const float v = (w[i] / step + kRound) - kRound;
      out[i] = static_cast<int8_t>(static_cast<int32_t>(std::min(std::max(v, -127.f), 127.f)));
    }
  }
}

float ActivationStep(float amax, bool is_signed) {
  const float a = std::max(amax, 1e-6f);
  return a / (is_signed ? 127.f : 255.f);
}

float AmaxOf(const std::map<std::string, float>& amax, const std::string& name) {
  auto it = amax.find(name);
  return it == amax.end() ? 1.f : it->second;
}

}  // namespace adaspring::engine::exec

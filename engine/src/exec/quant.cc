#include "exec/quant.h"

#include <algorithm>
#include <cmath>

namespace adaspring::engine::exec {

QuantWeights QuantiseWeights(const DenseConv& dense) {
  QuantWeights q;
  const size_t per_oc = dense.weights.size() / dense.oc;
  q.weights.resize(dense.weights.size());
  q.step.resize(dense.oc);
  for (int o = 0; o < dense.oc; ++o) {
    const float* w = dense.weights.data() + o * per_oc;
    float amax = 0;
    for (size_t i = 0; i < per_oc; ++i) amax = std::max(amax, std::fabs(w[i]));
    const float step = amax > 0 ? amax / 127.f : 1.f;
    q.step[o] = step;
    // Round to nearest even as std::nearbyint does (|w / step| <= 127 < 2^22, so adding and
    // subtracting 1.5 x 2^23 rounds exactly), but without a library call per element: the
    // loop vectorises (this is most of an int8 evolution's own time).
    constexpr float kRound = 12582912.f;
    int8_t* out = q.weights.data() + o * per_oc;
    for (size_t i = 0; i < per_oc; ++i) {
      const float v = (w[i] / step + kRound) - kRound;
      out[i] = static_cast<int8_t>(std::clamp(v, -127.f, 127.f));
    }
  }
  return q;
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

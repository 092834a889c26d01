// Helpers shared by the executor tests.
#ifndef ADASPRING_TESTS_ENGINE_EXEC_TEST_UTIL_H_
#define ADASPRING_TESTS_ENGINE_EXEC_TEST_UTIL_H_

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "adaspring/engine/model.h"

namespace adaspring::engine::testing_util {

inline std::vector<float> RandomInput(const ArchSpec& a, int batch, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.f, 1.f);
  std::vector<float> v(static_cast<size_t>(batch) * a.in_channels * a.in_height * a.in_width);
  for (float& x : v) x = n(rng);
  return v;
}

// max |a - b| / max |b|.
inline double RelError(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = std::max(diff, static_cast<double>(std::fabs(a[i] - b[i])));
    scale = std::max(scale, static_cast<double>(std::fabs(b[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

inline int ArgMax(const float* v, int n) {
  return static_cast<int>(std::max_element(v, v + n) - v);
}

}  // namespace adaspring::engine::testing_util

#endif  // ADASPRING_TESTS_ENGINE_EXEC_TEST_UTIL_H_

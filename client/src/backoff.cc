#include "adaspring/client/backoff.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <thread>

namespace adaspring::client {

std::chrono::milliseconds BackoffPolicy::Delay(int attempt, double unit_random) const {
  const double base = static_cast<double>(initial.count());
  const double cap = static_cast<double>(std::max(max, initial).count());
  // Clamp the exponent so that huge attempt numbers do not overflow to inf.
  const double grown = base * std::pow(std::max(multiplier, 1.0), std::clamp(attempt, 0, 64));
  const double capped = std::min(grown, cap);
  const double u = std::clamp(unit_random, 0.0, 1.0);
  const double j = std::clamp(jitter, 0.0, 1.0);
  const double scaled = capped * (1.0 - j + 2.0 * j * u);
  return std::chrono::milliseconds(std::max<int64_t>(1, std::llround(scaled)));
}

double BackoffJitterDraw() {
  thread_local std::mt19937_64 rng(
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
      std::hash<std::thread::id>()(std::this_thread::get_id()));
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

}  // namespace adaspring::client

#include "session/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace adaspring::daemon {

int LatencyHistogram::Bucket(uint64_t us) {
  if (us < kSubBuckets) return static_cast<int>(us);  // exact below 8 us
  const int octave = std::bit_width(us) - 1;          // >= 3
  const int sub = static_cast<int>((us >> (octave - 3)) & (kSubBuckets - 1));
  const int b = (octave - 2) * kSubBuckets + sub;
  return std::min(b, kBuckets - 1);
}

double LatencyHistogram::UpperUs(int b) {
  if (b < kSubBuckets) return b + 1;
  const int octave = b / kSubBuckets + 2;
  const int sub = b % kSubBuckets;
  return std::ldexp(static_cast<double>(kSubBuckets + sub + 1), octave - 3);
}

LatencyHistogram::Counts LatencyHistogram::Snapshot() const {
  Counts c;
  for (int i = 0; i < kBuckets; ++i) c[i] = counts_[i].load(std::memory_order_relaxed);
  return c;
}

uint64_t LatencyHistogram::Total(const Counts& counts) {
  uint64_t t = 0;
  for (uint64_t c : counts) t += c;
  return t;
}

LatencyHistogram::Counts LatencyHistogram::Diff(const Counts& a, const Counts& b) {
  Counts d;
  for (int i = 0; i < kBuckets; ++i) d[i] = a[i] >= b[i] ? a[i] - b[i] : 0;
  return d;
}

double LatencyHistogram::Percentile(const Counts& counts, double q) {
  const uint64_t total = Total(counts);
  if (total == 0) return 0;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  double seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    if (counts[i] == 0) continue;
    if (seen + static_cast<double>(counts[i]) >= rank) {
      const double lo = i == 0 ? 0 : UpperUs(i - 1);
      const double hi = UpperUs(i);
      return lo + (hi - lo) * (rank - seen) / static_cast<double>(counts[i]);
    }
    seen += static_cast<double>(counts[i]);
  }
  return UpperUs(kBuckets - 1);
}

}  // namespace adaspring::daemon

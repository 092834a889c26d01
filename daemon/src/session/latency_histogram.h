// Lock-free latency histogram: log-linear buckets (8 per power of two) from 1 us to ~2^27 us
// (134 s); relative bucket error <= 9%. Record() is one relaxed atomic increment, safe from any
// thread; readers take a Snapshot() (counts may be a few increments behind, never torn).
#ifndef ADASPRING_DAEMON_SESSION_LATENCY_HISTOGRAM_H_
#define ADASPRING_DAEMON_SESSION_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>

namespace adaspring::daemon {

class LatencyHistogram {
 public:
  static constexpr int kSubBuckets = 8;
  static constexpr int kOctaves = 28;
  static constexpr int kBuckets = kSubBuckets * kOctaves;
  using Counts = std::array<uint64_t, kBuckets>;

  void Record(uint64_t latency_us) {
    counts_[Bucket(latency_us)].fetch_add(1, std::memory_order_relaxed);
  }
  Counts Snapshot() const;

  static int Bucket(uint64_t latency_us);
  // Upper edge of bucket i, microseconds.
  static double UpperUs(int bucket);
  // q in [0, 1]; 0 when the counts are empty. Interpolates inside the bucket.
  static double Percentile(const Counts& counts, double q);
  static uint64_t Total(const Counts& counts);
  // a - b, element-wise (a window between two snapshots).
  static Counts Diff(const Counts& a, const Counts& b);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SESSION_LATENCY_HISTOGRAM_H_

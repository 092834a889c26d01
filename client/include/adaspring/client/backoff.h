// Reconnect backoff: exponential with a cap and +-jitter, so that many apps reconnecting to a
// restarted daemon do not retry in lock step. Pure and deterministic for a given jitter draw,
// so it can be tested without time.
#ifndef ADASPRING_CLIENT_BACKOFF_H_
#define ADASPRING_CLIENT_BACKOFF_H_

#include <chrono>
#include <cstdint>

namespace adaspring::client {

struct BackoffPolicy {
  std::chrono::milliseconds initial{50};
  std::chrono::milliseconds max{2000};
  double multiplier = 2.0;
  // Relative jitter: the delay is scaled by a factor in [1 - jitter, 1 + jitter].
  double jitter = 0.2;
  // Total time a call keeps retrying while the daemon is unreachable before it fails with
  // UNAVAILABLE. Zero = do not retry at all.
  std::chrono::milliseconds give_up_after{15000};

  // Delay before retry number `attempt` (0 = first retry). `unit_random` in [0, 1) selects the
  // jitter (0.5 = none). Never exceeds max * (1 + jitter), never below 1 ms.
  std::chrono::milliseconds Delay(int attempt, double unit_random) const;
};

// Draws unit_random from a per-thread generator seeded from the clock and thread id.
double BackoffJitterDraw();

}  // namespace adaspring::client

#endif  // ADASPRING_CLIENT_BACKOFF_H_

// "host:port" parsing shared by the metrics listener and config validation.
#ifndef ADASPRING_DAEMON_METRICS_LISTEN_ADDRESS_H_
#define ADASPRING_DAEMON_METRICS_LISTEN_ADDRESS_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace adaspring::daemon {

struct ListenAddress {
  std::string host;  // IPv4 dotted quad or IPv6 without brackets; "localhost" -> 127.0.0.1
  uint16_t port = 0;
  bool IsLoopback() const;
};

// Accepts "127.0.0.1:9464", "[::1]:9464", "localhost:9464"; port 0..65535 (0 = any free port).
// Host names other than localhost are refused (no DNS in the daemon). InvalidArgument with
// the reason otherwise.
absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& text);

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_METRICS_LISTEN_ADDRESS_H_

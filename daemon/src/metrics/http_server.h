// Serves GET /metrics (Prometheus text format 0.0.4) over HTTP/1.1 with Boost.Beast on an
// io_context owned by the caller. Anything else: 404 (unknown path) or 405 (other method).
// Off by default ([metrics] enabled = false); listens on loopback unless configured otherwise.
//
// Threading: Start() and Stop() must be called from the thread running `io` or while `io` is
// not running; handlers run on `io`'s threads. Rendering the registry is the only work per
// scrape. Connections are closed after 10 s idle; requests over 8 KiB are rejected.
// Lifetime: `io` and `registry` must outlive the server; destroying the server stops it (as
// Stop()), and in-flight connections hold their own references so they finish safely.
#ifndef ADASPRING_DAEMON_METRICS_HTTP_SERVER_H_
#define ADASPRING_DAEMON_METRICS_HTTP_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace adaspring::daemon::metrics {

class Registry;

class MetricsHttpServer {
 public:
  MetricsHttpServer(boost::asio::io_context& io, const Registry& registry);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Binds `listen` ("127.0.0.1:9464", "[::1]:9464"; port 0 picks a free port) and starts
  // accepting. InvalidArgument for a malformed address, Unavailable when bind fails.
  absl::Status Start(const std::string& listen);
  // The bound port (after Start()).
  uint16_t port() const;
  // Stops accepting; open connections finish their current response.
  void Stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace adaspring::daemon::metrics

#endif  // ADASPRING_DAEMON_METRICS_HTTP_SERVER_H_

// Helpers shared by the client-side benchmarks (serve, react, soak): connecting to the
// daemon with the proto stubs, picking a model, percentiles and /proc readings.
#ifndef ADASPRING_CLIENT_BENCH_BENCH_CLIENT_UTIL_H_
#define ADASPRING_CLIENT_BENCH_BENCH_CLIENT_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "adaspring/v1/admin.grpc.pb.h"
#include "adaspring/v1/inference.grpc.pb.h"

namespace adaspring::bench {

// The model to benchmark: `name`, or the first loaded model when empty. `socket` (the one
// `admin` talks to) names the daemon in a readable message when it cannot be reached.
absl::StatusOr<v1::ModelInfo> FindModel(v1::Admin::Stub& admin, const std::string& name,
                                        const std::string& socket);

// For the benchmarks that use both sockets (react, soak), before anything else: UNAVAILABLE
// naming the socket that is missing. The app socket `socket`: "adaspringd is not running (no
// socket at SOCKET; see --socket)"; else the admin socket, given with --admin-socket
// (`admin_given`) or derived from `socket`, which the message then says.
absl::Status CheckSockets(const std::string& socket, const std::string& admin_socket,
                          bool admin_given);

// "full" / "smallest" -> that configuration's text; anything else is taken as text.
std::string ResolveConfig(const v1::ModelInfo& model, const std::string& spec);

// An OpenSession request for a benchmark client.
v1::OpenSessionRequest BenchSession(const std::string& app, const std::string& model,
                                    const std::string& pinned, uint32_t budget_us);

// A random uint8 image batch of the session's input shape.
v1::Tensor RandomImages(const v1::InputSpec& spec, int batch, uint64_t seed);

// Percentile (q in [0, 1]) of unsorted samples (sorted in place); 0 when empty.
double Percentile(std::vector<double>& samples, double q);

// /proc/PID readings of the daemon.
struct ProcStats {
  double rss_mb = 0;
  int fds = 0;
  int threads = 0;
};
absl::StatusOr<ProcStats> ReadProcStats(int pid);
// The pid of the process listening on a Unix socket path (via /proc/net/unix inodes).
int FindListenerPid(const std::string& socket_path);

// Deadline `ms` milliseconds from now, for ClientContext::set_deadline.
std::chrono::system_clock::time_point In(int64_t ms);

}  // namespace adaspring::bench

#endif  // ADASPRING_CLIENT_BENCH_BENCH_CLIENT_UTIL_H_

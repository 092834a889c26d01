// A small in-process stand-in for adaspringd that serves the adaspring.v1 API on Unix sockets,
// so that the client library and adaspringctl can be tested without the real daemon (and
// restarts can be simulated exactly). Model "fake": input [1, 4, 4] uint8, 10 classes; the
// predicted class of an image is its first pixel % 10. Session ids restart at s-1 with every
// instance, as after a real daemon restart, so a stale token meets a live id.
#ifndef ADASPRING_TESTS_CLIENT_FAKE_DAEMON_H_
#define ADASPRING_TESTS_CLIENT_FAKE_DAEMON_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "adaspring/v1/admin.grpc.pb.h"
#include "adaspring/v1/inference.grpc.pb.h"

namespace adaspring::testing {

class FakeDaemon {
 public:
  // Sockets: dir + "/adaspringd.sock" and dir + "/admin.sock".
  explicit FakeDaemon(std::string dir);
  ~FakeDaemon();

  void Start();  // listening when it returns
  void Stop();   // cancels open streams and removes the sockets

  std::string app_socket() const { return dir_ + "/adaspringd.sock"; }
  std::string admin_socket() const { return dir_ + "/admin.sock"; }
  int opened_sessions() const { return opened_.load(); }
  // Publishes a configuration change to every session's watch stream.
  void Evolve(const std::string& reason);

  struct State;

 private:
  std::string dir_;
  std::shared_ptr<State> state_;
  std::unique_ptr<grpc::Service> inference_, admin_app_, admin_admin_;
  std::unique_ptr<grpc::Server> app_server_, admin_server_;
  std::atomic<int> opened_{0};
};

}  // namespace adaspring::testing

#endif  // ADASPRING_TESTS_CLIENT_FAKE_DAEMON_H_

// In-process adaspringd for tests: a Daemon and its two Unix-socket servers in a temporary
// directory, a SimEngine (exact, fast costs) unless told otherwise, and stubs over real
// sockets. Context is injected (InjectContext), so budgets move only when a test says so.
#ifndef ADASPRING_TESTS_DAEMON_CORE_DAEMON_HARNESS_H_
#define ADASPRING_TESTS_DAEMON_CORE_DAEMON_HARNESS_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "adaspring/v1/admin.grpc.pb.h"
#include "adaspring/v1/inference.grpc.pb.h"
#include "config/daemon_config.h"
#include "server/daemon.h"
#include "server/rpc_servers.h"

namespace adaspring::daemon::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct HarnessOptions {
  bool sim_engine = true;
  double sim_slowdown = 0;       // sim variants take this many times their predicted latency
  bool profile_on_load = false;  // profiling takes seconds with the real engine
  // Bundles written into the models directory before start: {file name, model name}.
  std::vector<std::pair<std::string, std::string>> bundles = {{"fmnist.asb", "fmnist"}};
  // Files with arbitrary (damaged) content: {file name, content}.
  std::vector<std::pair<std::string, std::string>> junk;
  std::function<void(DaemonConfig*)> tweak;
};

// A quiet, roomy device: 2 cores idle, 4 GiB available.
context::ContextSnapshot RoomyContext();

// An untrained smallres28 (random weights, seed 7) under another model name.
std::shared_ptr<engine::Model> RandomSmallres28Named(const std::string& name);

class DaemonHarness {
 public:
  explicit DaemonHarness(HarnessOptions options = {});
  ~DaemonHarness();

  Daemon& daemon() { return *daemon_; }
  const DaemonConfig& config() const { return config_; }
  const std::string& dir() const { return dir_.path(); }

  v1::Inference::Stub& app() { return *app_inference_; }
  v1::Admin::Stub& app_admin() { return *app_admin_; }
  v1::Inference::Stub& admin_inference() { return *admin_inference_; }
  v1::Admin::Stub& admin() { return *admin_; }

  // Opens a session (asserting success) and returns the response.
  v1::OpenSessionResponse Open(const std::string& app, uint32_t budget_us, uint32_t priority = 10,
                               const std::string& pinned = "", double min_accuracy = 0);
  // A valid FP32 request for the session: batch images of value `value`.
  static v1::InferRequest Request(const v1::OpenSessionResponse& s, int batch = 1,
                                  float value = 0.5f, uint64_t id = 1);
  grpc::Status Infer(const v1::InferRequest& req, v1::InferResponse* resp,
                     std::chrono::milliseconds deadline = std::chrono::seconds(10));

  void StopServers();

 private:
  TempDir dir_;
  DaemonConfig config_;
  std::unique_ptr<Daemon> daemon_;
  std::unique_ptr<RpcServers> servers_;
  std::unique_ptr<v1::Inference::Stub> app_inference_, admin_inference_;
  std::unique_ptr<v1::Admin::Stub> app_admin_, admin_;
};

}  // namespace adaspring::daemon::testing

#endif  // ADASPRING_TESTS_DAEMON_CORE_DAEMON_HARNESS_H_

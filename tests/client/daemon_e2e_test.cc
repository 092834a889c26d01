// End to end: the real adaspringd binary of this build as a child process on a temporary
// runtime directory, driven by adaspringctl and the client library.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "adaspring/client/client.h"
#include "ctl_runner.h"
#include "test_files.h"

namespace adaspring::testing {
namespace {

using nlohmann::json;

std::string DaemonPath() { return std::string(ADASPRING_BINARY_DIR) + "/daemon/adaspringd"; }
bool Exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

// adaspringd --runtime-dir DIR --models-dir MODELS as a child process.
class DaemonProcess {
 public:
  DaemonProcess(std::string runtime_dir, std::string models_dir)
      : dir_(std::move(runtime_dir)), models_(std::move(models_dir)) {}
  ~DaemonProcess() { Stop(); }

  std::string socket() const { return dir_ + "/adaspringd.sock"; }
  std::string admin_socket() const { return dir_ + "/admin.sock"; }

  // Starts the daemon and waits (up to 60 s) until it accepts connections. Returns a reason
  // when it does not come up.
  std::string Start() {
    const std::string bin = DaemonPath(), log = dir_ + "/daemon.log";
    pid_ = fork();
    if (pid_ == 0) {
      const int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(out, 1);
      dup2(out, 2);
      execl(bin.c_str(), bin.c_str(), "--runtime-dir", dir_.c_str(), "--models-dir",
            models_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return "adaspringd exited during start-up (see " + log + ")";
      }
      if (Exists(socket())) {
        client::ClientOptions o;
        o.socket_path = socket();
        o.connect_timeout = std::chrono::milliseconds(500);
        if (client::Client::Connect(o).ok()) return "";
      }
      // Polling for the socket: the daemon gives no other start-up signal to a plain child
      // (sd_notify needs NOTIFY_SOCKET), so this is a wait for an event with a deadline.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return "adaspringd did not listen on " + socket() + " within 60 s";
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = 0;
  }

 private:
  std::string dir_, models_;
  pid_t pid_ = 0;
};

class DaemonE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Exists(DaemonPath())) GTEST_SKIP() << "adaspringd not built at " << DaemonPath();
    if (!CtlBuilt()) GTEST_SKIP() << "adaspringctl not built at " << CtlPath();
    mkdir((dir_.path() + "/models").c_str(), 0700);
  }
  // Starts the daemon on `models_dir` (default: an empty directory, where the daemon serves
  // its built-in untrained model).
  void StartDaemon(const std::string& models_dir = "") {
    daemon_ = std::make_unique<DaemonProcess>(
        dir_.path(), models_dir.empty() ? dir_.path() + "/models" : models_dir);
    const std::string why = daemon_->Start();
    ASSERT_TRUE(why.empty()) << why;
  }
  CtlResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", daemon_->socket()});
    return RunCtl(args);
  }
  json CtlJson(std::vector<std::string> args) {
    args.push_back("--json");
    const CtlResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << ::testing::PrintToString(args) << ": " << r.err;
    const auto lines = Lines(r.out);
    if (lines.size() != 1) {
      ADD_FAILURE() << "expected one JSON line, got: " << r.out;
      return json();
    }
    return json::parse(lines[0]);
  }
  TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
};

TEST_F(DaemonE2eTest, EveryCommandsJsonIsParsedAndChecked) {
  StartDaemon();
  const json st = CtlJson({"status"});
  EXPECT_EQ(st["app_socket"], daemon_->socket());
  EXPECT_EQ(st["admin_socket"], daemon_->admin_socket());
  EXPECT_EQ(st["mode"], "user");
  EXPECT_GE(st["models"].get<int>(), 1);
  EXPECT_TRUE(st["context"]["sources"].is_array());

  const json models = CtlJson({"models"});
  ASSERT_GE(models["models"].size(), 1u);
  const std::string model = models["models"][0]["name"];
  EXPECT_FALSE(models["models"][0]["full"]["text"].get<std::string>().empty());
  EXPECT_GT(models["models"][0]["num_classes"].get<int>(), 1);

  const json ctx = CtlJson({"context"});
  EXPECT_GT(ctx["context"]["memory_limit_bytes"].get<int64_t>(), 0);
  EXPECT_TRUE(ctx["budgets"].contains("cpu_capacity"));

  // A session of our own shows up in `sessions`.
  client::ClientOptions o;
  o.socket_path = daemon_->socket();
  auto c = client::Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status();
  client::SessionOptions so;
  so.app_name = "e2e-app";
  so.model = model;
  auto s = (*c)->OpenSession(so);
  ASSERT_TRUE(s.ok()) << s.status();
  const json sessions = CtlJson({"sessions"});
  bool found = false;
  for (const auto& i : sessions["sessions"]) found |= i["app_name"] == "e2e-app";
  EXPECT_TRUE(found) << sessions.dump();

  const json set = CtlJson({"override", "set", "--battery-pct", "12", "--on-ac=false"});
  EXPECT_TRUE(set.contains("context"));
  EXPECT_EQ(CtlJson({"context"})["context"]["overridden"], true);
  // The event stream replays nothing: keep causing override events until the watcher has
  // seen one (it may subscribe at any time under load).
  std::atomic<bool> watched{false};
  std::thread stimulus([&] {
    for (int k = 0; !watched; ++k) {
      (void)Ctl({"override", "set", "--battery-pct", k % 2 ? "50" : "40"});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const CtlResult w = Ctl({"watch", "--json", "--count", "1", "--seconds", "20"});
  watched = true;
  stimulus.join();
  EXPECT_EQ(w.exit_code, 0) << w.err;
  const auto lines = Lines(w.out);
  ASSERT_EQ(lines.size(), 1u) << w.out;
  EXPECT_FALSE(json::parse(lines[0])["kind"].get<std::string>().empty());
  EXPECT_EQ(CtlJson({"override", "clear"})["context"].is_object(), true);
  EXPECT_TRUE(CtlJson({"profile", model})["layers"].is_array());

  // infer --json on a few test images (the model may be untrained: only the shape of the
  // answer is checked here; accuracy has its own test with the trained bundle).
  const std::string data = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  if (Exists(data)) {
    const json inf = CtlJson({"infer", "--model", model, "--input", data, "--count", "3"});
    ASSERT_EQ(inf["images"].size(), 3u);
    EXPECT_EQ(inf["total"], 3);
    EXPECT_TRUE(inf["accuracy"].is_number());
    EXPECT_EQ(inf["images"][0]["top_k"].size(), 3u);
    EXPECT_FALSE(inf["configuration"].get<std::string>().empty());
  }

  const CtlResult missing = Ctl({"models", "unload", "no-such-model"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(Lines(missing.err).size(), 1u);
  EXPECT_NE(missing.err.find("NOT_FOUND"), std::string::npos);
  // Admin calls on the app socket are refused by the daemon.
  const CtlResult denied = Ctl({"--admin-socket", daemon_->socket(), "override", "clear"});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.err.find("PERMISSION_DENIED"), std::string::npos) << denied.err;
}

TEST_F(DaemonE2eTest, InferOnFashionMnistGetsAClearMajorityRight) {
  const std::string models = std::string(ADASPRING_SOURCE_DIR) + "/models";
  const std::string data = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  if (!Exists(models + "/smallres28.asb")) {
    GTEST_SKIP() << "no trained reference model at " << models << "/smallres28.asb";
  }
  if (!Exists(data)) GTEST_SKIP() << "no Fashion-MNIST test set at " << data;
  StartDaemon(models);
  const json r = CtlJson(
      {"infer", "--model", "smallres28", "--input", data, "--index", "100", "--count", "200"});
  ASSERT_EQ(r["images"].size(), 200u);
  EXPECT_GE(r["accuracy"].get<double>(), 0.8) << "correct " << r["correct"];
  EXPECT_FALSE(r["configuration"].get<std::string>().empty());
  // The shipped bundle's fitted predictor is the one the daemon uses, and says how good it is.
  const json models_json = CtlJson({"models"});
  ASSERT_EQ(models_json["models"].size(), 1u) << models_json.dump();
  const json& m = models_json["models"][0];
  // (session 17's bundle: kernel ridge, held-out validation tau 0.775, MAE 0.18 pt.)
  EXPECT_EQ(m["accuracy_predictor"], "krr") << m.dump();
  EXPECT_GE(m["predictor_kendall_tau"].get<double>(), 0.75) << m.dump();
  EXPECT_GE(m["predictor_fitted_configs"].get<int>(), 1000) << m.dump();
  const CtlResult table = Ctl({"models"});
  EXPECT_NE(table.out.find("accuracy predictor  krr fitted on 2280 measured configurations"),
            std::string::npos)
      << table.out;
}

TEST_F(DaemonE2eTest, ClientReconnectsAfterTheDaemonRestarts) {
  StartDaemon();
  client::ClientOptions o;
  o.socket_path = daemon_->socket();
  o.backoff.give_up_after = std::chrono::seconds(60);
  auto c = client::Client::Connect(o);
  ASSERT_TRUE(c.ok()) << c.status();
  const json models = CtlJson({"models"});
  client::SessionOptions so;
  so.app_name = "restart-app";
  so.model = models["models"][0]["name"];
  auto s = (*c)->OpenSession(so);
  ASSERT_TRUE(s.ok()) << s.status();
  const auto& spec = (*s)->input_spec();
  std::vector<uint8_t> px(static_cast<size_t>(spec.ElementsPerImage()), 128);
  ASSERT_TRUE((*s)->InferPixels(px.data(), 1).ok());

  daemon_->Stop();
  const CtlResult down = Ctl({"status"});
  EXPECT_EQ(down.exit_code, 3);
  ASSERT_EQ(Lines(down.err).size(), 1u) << down.err;
  EXPECT_NE(down.err.find(daemon_->socket()), std::string::npos) << down.err;

  StartDaemon();
  auto r = (*s)->InferPixels(px.data(), 1);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->classes, static_cast<int64_t>(spec.labels.size()));
  EXPECT_EQ((*s)->reopen_count(), 1);
  const json sessions = CtlJson({"sessions"});
  bool listed = false;
  for (const auto& i : sessions["sessions"]) listed |= i["app_name"] == "restart-app";
  EXPECT_TRUE(listed) << sessions.dump();
}

}  // namespace
}  // namespace adaspring::testing

// The demo runner: daemon child process, scenario driver, busy processes, app threads and the
// live view. Reporting is in report.cc.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "adaspring/client/client.h"
#include "adaspring/client/idx.h"
#include "adaspring/v1/admin.grpc.pb.h"
#include "demo/demo.h"
#include "demo/records.h"
#include "demo/scenario.h"
#include "rpc.h"

namespace adaspring::ctl {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
extern "C" char** environ;

// Estimated power of one busy core of this class of x86 CPU, watts: used for energy when the
// device has no power meter (every figure derived from it is labelled "estimated").
constexpr double kEstimatedCoreWatts = 4.0;

fs::path SelfDir() { return fs::read_symlink("/proc/self/exe").parent_path(); }

// First existing path among candidates ("" when none).
std::string FirstExisting(std::initializer_list<fs::path> candidates) {
  for (const fs::path& p : candidates) {
    std::error_code ec;
    if (fs::exists(p, ec)) return fs::weakly_canonical(p, ec).string();
  }
  return "";
}

std::string DefaultDaemon() {
  const fs::path self = SelfDir();
  std::string p = FirstExisting({self / "../daemon/adaspringd", self / "adaspringd",
                                 "/usr/sbin/adaspringd", "/usr/bin/adaspringd"});
  return p.empty() ? "adaspringd" : p;
}

std::string DefaultModelsDir() {
  const fs::path self = SelfDir();
  return FirstExisting({self / "../../../models", "/usr/share/adaspring/models"});
}

std::string DefaultScenario() {
  const fs::path self = SelfDir();
  return FirstExisting({self / "../../../configs/traces/demo-scenario.csv",
                        "/usr/share/adaspring/traces/demo-scenario.csv"});
}

// The daemon's nice value, the same as systemd/adaspringd.service's Nice=: an inference
// service whose apps have latency budgets of a few milliseconds gets a larger CPU share and
// earlier wake-ups than background work (the demo's busy processes keep nice 0).
constexpr int kDaemonNice = -5;

// A child process started with posix_spawn, killed and reaped on destruction.
class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { Stop(SIGKILL); }

  // `nice`: the child's nice value when this process may set it (the calling thread's nice is
  // inherited by the child; it is restored afterwards); `*applied` says whether it was.
  // `rt_priority` > 0: the child runs under SCHED_RR at that priority (every thread it starts
  // inherits it) when this process may grant it, else at `nice`; `*rt_applied` says which.
  bool Start(const std::vector<std::string>& argv, const std::string& log_path, int nice = 0,
             bool* applied = nullptr, int rt_priority = 0, bool* rt_applied = nullptr) {
    const int old_nice = getpriority(PRIO_PROCESS, 0);
    const bool set = nice != 0 && nice != old_nice && setpriority(PRIO_PROCESS, 0, nice) == 0;
    if (applied != nullptr) *applied = nice == old_nice || set;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (!log_path.empty()) {
      posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                       0644);
      posix_spawn_file_actions_adddup2(&fa, 1, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = EPERM;
    if (rt_priority > 0) {
      posix_spawnattr_t attr;
      posix_spawnattr_init(&attr);
      sched_param param{};
      param.sched_priority = rt_priority;
      posix_spawnattr_setschedpolicy(&attr, SCHED_RR);
      posix_spawnattr_setschedparam(&attr, &param);
      posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSCHEDULER);
      rc = posix_spawnp(&pid_, args[0], &fa, &attr, args.data(), environ);
      posix_spawnattr_destroy(&attr);
    }
    if (rt_applied != nullptr) *rt_applied = rt_priority > 0 && rc == 0;
    if (rc != 0) rc = posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (set) (void)setpriority(PRIO_PROCESS, 0, old_nice);
    if (rc != 0) pid_ = -1;
    return rc == 0;
  }
  // Sends `sig` and waits up to 5 s (then SIGKILL).
  void Stop(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    for (int i = 0; i < 500; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // True once the child has exited (it is then reaped; `*status` is its wait status).
  bool Exited(int* status) {
    if (pid_ <= 0) return false;
    if (waitpid(pid_, status, WNOHANG) != pid_) return false;
    pid_ = -1;
    return true;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// "exited with status 78" / "was killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return absl::StrCat("stopped (wait status ", status, ")");
}

// The last `n` lines of a text file, each indented ("" when it cannot be read).
std::string LastLines(const std::string& path, size_t n) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (lines.size() > n) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) absl::StrAppend(&out, "  ", l, "\n");
  return out;
}

// A CPU cap on the daemon for the scenario steps that ask for one: the daemon's process moves
// into a child of its cpu cgroup whose bandwidth is limited, and back out when the cap is
// lifted; what a board's thermal or power manager (or systemd's CPUQuota=) does to a service.
// A daemon under SCHED_RR is limited by the cgroup v1 real-time bandwidth (cpu.rt_runtime_us
// per CPU and period: the CFS quota does not apply to real-time threads), otherwise by the CFS
// quota (v1 cpu.cfs_quota_us, v2 cpu.max). Period 10 ms. Needs root and a cpu controller;
// without them Set says why once and the scenario runs uncapped.
class CpuCap {
 public:
  CpuCap(pid_t daemon, bool realtime) : daemon_(daemon), realtime_(realtime) {}
  ~CpuCap() {
    Set(std::nullopt);
    std::error_code ec;
    if (!child_.empty()) fs::remove(child_, ec);
  }

  // `cores`: the cap, or nullopt to lift it. Returns a line describing what changed ("" when
  // nothing did).
  std::string Set(std::optional<double> cores) {
    if (cores == current_) return "";
    if (!cores) {
      current_.reset();
      if (!inside_) return "";
      inside_ = false;
      if (!Write(parent_ + "/cgroup.procs", std::to_string(daemon_)))
        return absl::StrCat("demo: could not lift the daemon's CPU cap: ", error_);
      return "demo: the daemon's CPU cap is lifted";
    }
    if (failed_) return "";
    if (child_.empty() && !Prepare()) return Refuse();
    constexpr int kPeriodUs = 10000;
    const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
    std::string how;
    bool ok = true;
    if (realtime_) {
      const int runtime = std::max(100, static_cast<int>(*cores / cpus * kPeriodUs));
      // The runtime must fit the period: lower the runtime before changing the period.
      ok = Write(child_ + "/cpu.rt_runtime_us", "0") &&
           Write(child_ + "/cpu.rt_period_us", std::to_string(kPeriodUs)) &&
           Write(child_ + "/cpu.rt_runtime_us", std::to_string(runtime));
      how = absl::StrFormat(
          "cgroup v1 cpu.rt_runtime_us %d per %d us on each of %u CPUs: the "
          "daemon runs under SCHED_RR",
          runtime, kPeriodUs, cpus);
    } else {
      const int quota = std::max(1000, static_cast<int>(*cores * kPeriodUs));
      if (v2_) {
        ok = Write(child_ + "/cpu.max", absl::StrCat(quota, " ", kPeriodUs));
        how = absl::StrFormat("cgroup v2 cpu.max %d %d", quota, kPeriodUs);
      } else {
        ok = Write(child_ + "/cpu.cfs_period_us", std::to_string(kPeriodUs)) &&
             Write(child_ + "/cpu.cfs_quota_us", std::to_string(quota));
        how = absl::StrFormat("cgroup v1 cpu.cfs_quota_us %d per %d us", quota, kPeriodUs);
      }
    }
    if (ok && !inside_) ok = inside_ = Write(child_ + "/cgroup.procs", std::to_string(daemon_));
    if (!ok) return Refuse();
    current_ = cores;
    return absl::StrFormat("demo: the daemon is capped at %.2f cores (%s)", *cores, how);
  }

 private:
  // Gives up capping for the rest of the run; the line says why (error_).
  std::string Refuse() {
    failed_ = true;
    return absl::StrCat("demo: cannot cap the daemon's CPU (", error_,
                        "); the scenario's cpu_cap_cores is not applied");
  }

  // Finds the daemon's cpu cgroup (parent_) and creates the capped child (child_) in it.
  bool Prepare() {
    std::ifstream cg("/proc/" + std::to_string(daemon_) + "/cgroup");
    std::string line, v1_path, v2_path;
    bool have_v2 = false;
    while (std::getline(cg, line)) {
      const size_t a = line.find(':'), b = line.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) continue;
      const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
      if (line.compare(0, a, "0") == 0 && controllers.empty()) {
        v2_path = path;
        have_v2 = true;
      }
      for (const auto& c : absl::StrSplit(controllers, ','))
        if (c == "cpu") v1_path = path;
    }
    // Mount points of the cgroup hierarchies (mount roots other than "/" are not handled: the
    // demo runs on a host, not in a container).
    std::ifstream mi("/proc/self/mountinfo");
    std::string v1_mount, v2_mount;
    while (std::getline(mi, line)) {
      const std::vector<std::string> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
      size_t dash = 0;
      while (dash < f.size() && f[dash] != "-") ++dash;
      if (f.size() < 5 || dash + 3 >= f.size() || f[3] != "/") continue;
      if (f[dash + 1] == "cgroup2" && v2_mount.empty()) v2_mount = f[4];
      if (f[dash + 1] == "cgroup")
        for (const auto& o : absl::StrSplit(f[dash + 3], ','))
          if (o == "cpu") v1_mount = f[4];
    }
    if (!v1_path.empty() && !v1_mount.empty()) {
      parent_ = v1_mount + (v1_path == "/" ? "" : v1_path);
    } else if (have_v2 && !v2_mount.empty() && !realtime_) {
      parent_ = v2_mount + (v2_path == "/" ? "" : v2_path);
      v2_ = true;
    } else {
      error_ = realtime_ ? "no cgroup v1 cpu controller for a real-time daemon"
                         : "no cpu cgroup controller found";
      return false;
    }
    child_ = absl::StrCat(parent_, "/adaspring-demo-cap-", daemon_);
    std::error_code ec;
    fs::create_directory(child_, ec);
    if (ec) {
      error_ = absl::StrCat(child_, ": ", ec.message());
      child_.clear();
      return false;
    }
    if (v2_ && !fs::exists(child_ + "/cpu.max")) {
      error_ = absl::StrCat(child_, ": no cpu.max (the cpu controller is not enabled there)");
      return false;
    }
    return true;
  }

  bool Write(const std::string& path, const std::string& value) {
    std::ofstream f(path);
    f << value << std::flush;
    if (f) return true;
    error_ = absl::StrCat("writing ", value, " to ", path, ": ", std::strerror(errno));
    return false;
  }

  pid_t daemon_;
  bool realtime_;
  bool v2_ = false, inside_ = false, failed_ = false;
  std::optional<double> current_;
  std::string parent_, child_, error_;
};

// Real CPU contention: `n` forked processes spinning until stopped.
class BusyProcs {
 public:
  ~BusyProcs() { Set(0); }
  void Set(int n) {
    while (static_cast<int>(pids_.size()) > n) {
      kill(pids_.back(), SIGKILL);
      waitpid(pids_.back(), nullptr, 0);
      pids_.pop_back();
    }
    while (static_cast<int>(pids_.size()) < n) {
      const pid_t pid = fork();
      if (pid == 0) {
        // Background work: nice 0 and the normal policy whatever the apps use.
        (void)setpriority(PRIO_PROCESS, 0, 0);
        const sched_param normal{};
        (void)sched_setscheduler(0, SCHED_OTHER, &normal);
        volatile uint64_t x = 0;
        for (;;) x = x + 1;  // burn a core until killed
      }
      if (pid > 0)
        pids_.push_back(pid);
      else
        break;
    }
  }
  int count() const { return static_cast<int>(pids_.size()); }

 private:
  std::vector<pid_t> pids_;
};

struct Shared {
  std::mutex mu;
  std::vector<RequestRecord> records;
  std::map<uint64_t, int64_t> macs_by_id;
  std::map<std::string, client::Configuration> current;  // per app
  std::map<std::string, int> switches;
  std::string phase;
  // For the live view, per app: latencies since the last line, answers and correct ones so far.
  struct Live {
    std::vector<double> window_ms;
    int64_t answered = 0, correct = 0;
  };
  std::map<std::string, Live> live;
};

void RunApp(const DemoApp& app, const std::string& policy, const std::string& socket,
            const std::string& model, const std::string& pin, const client::IdxImages& images,
            const std::vector<uint8_t>& labels, Clock::time_point start, double duration_s,
            int offset, Shared* shared, std::atomic<int>* failures) {
  client::ClientOptions co;
  co.socket_path = socket;
  auto cl = client::Client::Connect(co);
  if (!cl.ok()) {
    std::cerr << "demo: " << app.name << ": " << cl.status().message() << "\n";
    failures->fetch_add(1);
    return;
  }
  client::SessionOptions so;
  so.app_name = app.name;
  so.model = model;
  so.slo.latency_budget_us = app.latency_budget_us;
  so.slo.min_accuracy = app.min_accuracy;
  so.slo.priority = app.priority;
  so.slo.energy_preference = static_cast<client::EnergyPreference>(app.energy_preference);
  so.slo.expected_rate_hz = app.rate_hz;
  so.pinned_configuration = pin;
  auto session = (*cl)->OpenSession(so);
  if (!session.ok()) {
    std::cerr << "demo: " << app.name << ": open session: " << session.status().message() << "\n";
    failures->fetch_add(1);
    return;
  }
  {
    std::lock_guard<std::mutex> l(shared->mu);
    const client::Configuration c = (*session)->configuration();
    shared->current[app.name] = c;
    shared->macs_by_id[c.id] = c.macs;
  }
  auto watch = (*session)->Watch([&](const client::ConfigEvent& e) {
    std::lock_guard<std::mutex> l(shared->mu);
    shared->macs_by_id[e.current.id] = e.current.macs;
    auto& cur = shared->current[app.name];
    if (cur.id != e.current.id) {
      if (cur.id != 0 || !cur.text.empty()) ++shared->switches[app.name];
      cur = e.current;
    }
  });

  const auto period = std::chrono::duration<double>(1.0 / app.rate_hz);
  const auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(duration_s));
  auto next = start;
  int64_t i = offset;
  const int64_t pixels_per_image = images.rows * images.cols;
  std::vector<RequestRecord> local;
  while (true) {
    next += std::chrono::duration_cast<Clock::duration>(period);
    if (next >= end) break;
    std::this_thread::sleep_until(next);
    const int64_t idx = i++ % images.count;
    const auto t0 = Clock::now();
    auto r = (*session)->InferPixels(images.image(idx), 1, 0);
    const auto t1 = Clock::now();
    RequestRecord rec;
    rec.policy = policy;
    rec.app = app.name;
    rec.t_s = std::chrono::duration<double>(t0 - start).count();
    rec.latency_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    rec.ok = r.ok();
    rec.code = r.ok() ? 0 : static_cast<int>(r.status().code());
    if (r.ok()) {
      rec.correct = r->ArgMax(0) == labels[idx];
      rec.config_id = r->configuration_id;
      rec.compute_us = r->compute_us;
      rec.queue_us = r->queue_us;
    }
    (void)pixels_per_image;
    {
      std::lock_guard<std::mutex> l(shared->mu);
      Shared::Live& live = shared->live[app.name];
      live.window_ms.push_back(rec.latency_ms);
      live.answered += rec.ok;
      live.correct += rec.correct;
    }
    local.push_back(std::move(rec));
  }
  watch.reset();
  (void)(*session)->Close();
  std::lock_guard<std::mutex> l(shared->mu);
  for (auto& rec : local) {
    auto it = shared->macs_by_id.find(rec.config_id);
    if (it != shared->macs_by_id.end()) rec.macs = it->second;
    shared->records.push_back(std::move(rec));
  }
}

bool ApplyStep(const GlobalOptions& g, const ScenarioStep& st, bool cpu_override) {
  v1::SetContextOverrideRequest req;
  if (st.memory_available_mb)
    req.set_memory_available_bytes(static_cast<int64_t>(*st.memory_available_mb * 1024 * 1024));
  if (st.battery_pct) req.set_battery_percent(*st.battery_pct);
  if (st.on_ac) req.set_on_ac(*st.on_ac);
  if (st.temp_c) req.set_temperature_c(*st.temp_c);
  if (cpu_override && st.busy_procs > 0) req.set_cpu_busy_fraction(1.0);
  int rc = 0;
  if (req.ByteSizeLong() == 0) {
    v1::ClearContextOverrideResponse resp;
    return CallAdmin(g, true, &v1::Admin::Stub::ClearContextOverride,
                     v1::ClearContextOverrideRequest{}, &resp, &rc);
  }
  v1::SetContextOverrideResponse resp;
  return CallAdmin(g, true, &v1::Admin::Stub::SetContextOverride, req, &resp, &rc);
}

// Picks the hand-crafted compression: the configuration the daemon chooses for the tightest
// app (the first) under the scenario's tightest phase, fixed once, offline.
absl::StatusOr<std::string> ChooseStaticCompressed(const GlobalOptions& g, const Scenario& sc,
                                                   const DemoApp& app, const std::string& model) {
  const ScenarioStep* tight = &sc.steps.front();
  for (const auto& st : sc.steps)
    if (st.phase == sc.tight_phase) tight = &st;
  if (!ApplyStep(g, *tight, /*cpu_override=*/true))
    return absl::InternalError("cannot apply the tight context override");
  client::ClientOptions co;
  co.socket_path = AppSocket(g);
  auto cl = client::Client::Connect(co);
  if (!cl.ok()) return cl.status();
  client::SessionOptions so;
  so.app_name = app.name + "-offline";
  so.model = model;
  so.slo.latency_budget_us = app.latency_budget_us;
  so.slo.priority = app.priority;
  so.slo.expected_rate_hz = app.rate_hz;
  auto session = (*cl)->OpenSession(so);
  v1::ClearContextOverrideResponse resp;
  int rc = 0;
  CallAdmin(g, true, &v1::Admin::Stub::ClearContextOverride, v1::ClearContextOverrideRequest{},
            &resp, &rc);
  if (!session.ok()) return session.status();
  std::string text = (*session)->configuration().text;
  (void)(*session)->Close();
  return text;
}

}  // namespace

// Applies `set` to every thread of this process (Linux's setpriority and sched_setscheduler
// act on one thread; threads started later inherit their creator's settings). False when a
// call failed (not permitted) or the thread list could not be read.
static bool ForEachThread(const std::function<int(pid_t)>& set) {
  std::error_code ec;
  bool ok = true;
  for (const auto& entry : fs::directory_iterator("/proc/self/task", ec)) {
    const int tid = std::atoi(entry.path().filename().c_str());
    if (tid > 0 && set(static_cast<pid_t>(tid)) != 0) ok = false;
  }
  return ok && !ec;
}

// Sets the nice value of every thread of this process.
static bool SetProcessNice(int nice) {
  return ForEachThread([nice](pid_t tid) { return setpriority(PRIO_PROCESS, tid, nice); });
}

// Puts every thread of this process under SCHED_RR at `priority`.
static bool SetProcessRealtime(int priority) {
  sched_param param{};
  param.sched_priority = priority;
  return ForEachThread([&param](pid_t tid) { return sched_setscheduler(tid, SCHED_RR, &param); });
}

int CmdDemo(const GlobalOptions& g_in, const DemoOptions& o) {
  // Latency-critical apps run at a raised priority like the daemon; the busy processes do not.
  const bool apps_niced = o.app_nice == getpriority(PRIO_PROCESS, 0) || SetProcessNice(o.app_nice);
  const std::string daemon = o.daemon.empty() ? DefaultDaemon() : o.daemon;
  const std::string models_dir = o.models_dir.empty() ? DefaultModelsDir() : o.models_dir;
  const std::string scenario_path = o.scenario.empty() ? DefaultScenario() : o.scenario;
  if (models_dir.empty()) return UsageError("no models directory found; pass --models-dir");
  if (scenario_path.empty()) return UsageError("no scenario found; pass --scenario");
  std::error_code ec;
  auto scenario = LoadScenario(scenario_path);
  if (!scenario.ok()) return UsageError(std::string(scenario.status().message()));
  auto images = client::ReadIdxImages(o.data_dir + "/t10k-images-idx3-ubyte.gz");
  auto labels = client::ReadIdxLabels(o.data_dir + "/t10k-labels-idx1-ubyte.gz");
  if (!images.ok()) return UsageError(std::string(images.status().message()));
  if (!labels.ok()) return UsageError(std::string(labels.status().message()));
  if (o.policies.empty()) return UsageError("no policies to run");
  for (size_t i = 0; i < o.policies.size(); ++i) {
    if (std::find(o.policies.begin(), o.policies.begin() + i, o.policies[i]) !=
        o.policies.begin() + i) {
      return UsageError(absl::StrCat("--policies names '", o.policies[i], "' twice"));
    }
  }
  if (!o.models_dir.empty() && !fs::is_directory(o.models_dir, ec)) {
    return UsageError(absl::StrCat("--models-dir ", o.models_dir, ": no such directory"));
  }

  fs::create_directories(o.out_dir, ec);
  if (ec) return UsageError(absl::StrCat("cannot create ", o.out_dir, ": ", ec.message()));
  char tmpl[] = "/tmp/adaspring-demo-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return UsageError("cannot create a runtime directory in /tmp");
  const std::string runtime = tmpl;

  GlobalOptions g = g_in;
  g.socket = runtime + "/adaspringd.sock";
  g.admin_socket = runtime + "/admin.sock";

  const std::string log_path = o.out_dir + "/daemon.log";
  fs::remove(log_path, ec);
  // The daemon's own configuration (user mode; a user's ~/.config file does not leak into the
  // run): only what the demo sets differs from the built-in defaults.
  const std::string config_path = runtime + "/adaspringd.toml";
  {
    std::ofstream config(config_path);
    config << "# written by adaspringctl demo\nmode = \"user\"\n\n[scheduler]\n"
           << "cpu_wakeup_latency_us = " << o.cpu_wakeup_latency_us << "\n";
    if (!config) {
      fs::remove_all(runtime, ec);
      return UsageError(absl::StrCat("cannot write ", config_path));
    }
  }
  Child daemon_proc;
  bool niced = false, realtime = false;
  if (!daemon_proc.Start(
          {daemon, "--config", config_path, "--runtime-dir", runtime, "--models-dir", models_dir},
          log_path, kDaemonNice, &niced, o.daemon_rt_priority, &realtime)) {
    fs::remove_all(runtime, ec);
    return UsageError(absl::StrCat("cannot start ", daemon));
  }
  std::cerr << "demo: started " << daemon << " (pid " << daemon_proc.pid() << "), log " << log_path
            << "\n";
  if (o.daemon_rt_priority > 0) {
    std::cerr << (realtime ? absl::StrCat("demo: the daemon's threads run under SCHED_RR priority ",
                                          o.daemon_rt_priority,
                                          " (CPUSchedulingPolicy=rr in the unit; see USER-GUIDE)\n")
                           : "demo: real-time scheduling for the daemon needs root or "
                             "CAP_SYS_NICE; it runs at its nice value instead\n");
  }
  if (!realtime) {
    std::cerr << (niced ? absl::StrCat("demo: the daemon runs at nice ", kDaemonNice,
                                       ", as the systemd unit starts it (Nice=)\n")
                        : absl::StrCat("demo: the daemon runs at this shell's nice value: nice ",
                                       kDaemonNice,
                                       " (as the systemd unit starts it) needs root "
                                       "or CAP_SYS_NICE\n"));
  }
  // The apps' threads are not the only ones their answers wait for: gRPC's epoll poller is
  // whichever thread of this process happens to wait on gRPC (this process's event reader,
  // gRPC's executor), and it hands each answer to the app thread waiting for it. A poller
  // at the normal policy behind the busy processes delayed answers by up to ~5 ms in the
  // contention phase (perf sched). So the whole process, gRPC's threads included, runs under
  // the apps' policy; it is set after the daemon started (which has its own) and before this
  // process starts gRPC. The busy processes go back to the normal policy themselves.
  if (o.app_rt_priority > 0) {
    const bool rt = SetProcessRealtime(o.app_rt_priority);
    std::cerr << (rt ? absl::StrCat("demo: the apps run under SCHED_RR priority ",
                                    o.app_rt_priority,
                                    " (every thread of this process, gRPC's included; "
                                    "--app-rt-priority)\n")
                     : std::string("demo: real-time scheduling for the apps needs root or "
                                   "CAP_SYS_NICE; they run at their nice value\n"));
  }
  std::cerr << (apps_niced ? absl::StrCat("demo: the apps run at nice ", o.app_nice,
                                          ", the busy processes at nice 0\n")
                           : absl::StrCat("demo: the apps run at this shell's nice value (nice ",
                                          o.app_nice, " needs root or CAP_SYS_NICE)\n"));

  // Wait for the daemon and its model; a daemon that exits (a configuration error, a bad
  // bundle) is reported at once with the end of its log.
  std::string model;
  for (int i = 0; i < 300 && model.empty(); ++i) {
    int wait_status = 0;
    if (daemon_proc.Exited(&wait_status)) {
      fs::remove_all(runtime, ec);
      std::cerr << "demo: " << daemon << " " << DescribeWaitStatus(wait_status)
                << " before serving; the end of " << log_path << ":\n"
                << LastLines(log_path, 10);
      return kExitServerError;
    }
    v1::ListModelsResponse resp;
    int rc = 0;
    auto conn = ConnectAdmin(g, false);
    if (conn.ok()) {
      auto ctx = CallContext(g);
      if (conn->stub->ListModels(ctx.get(), v1::ListModelsRequest{}, &resp).ok() &&
          resp.models_size() > 0)
        model = resp.models(0).name();
    }
    (void)rc;
    if (model.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (model.empty()) {
    daemon_proc.Stop(SIGTERM);
    fs::remove_all(runtime, ec);
    std::cerr << "demo: the daemon did not come up with a model within 30 s; the end of "
              << log_path << ":\n"
              << LastLines(log_path, 10);
    return kExitServerError;
  }
  v1::GetStatusResponse status;
  int rc = 0;
  CallAdmin(g, false, &v1::Admin::Stub::GetStatus, v1::GetStatusRequest{}, &status, &rc);
  if (o.cpu_wakeup_latency_us >= 0) {
    std::cerr << (status.cpu_wakeup_latency_us() >= 0
                      ? absl::StrCat("demo: the daemon holds a CPU wake-up latency request: ",
                                     status.cpu_wakeup_latency(),
                                     " (scheduler.cpu_wakeup_latency_us; see USER-GUIDE)\n")
                      : absl::StrCat("demo: no CPU wake-up latency request (",
                                     status.cpu_wakeup_latency(),
                                     "); idle CPUs may wake up late\n"));
  }
  const bool measured_power = status.context().power_w() > 0;
  const double watts = measured_power ? status.context().power_w() : kEstimatedCoreWatts;

  const std::vector<DemoApp> apps = DefaultApps();
  const double per_policy_s = o.duration_s / static_cast<double>(o.policies.size());
  const double scale = per_policy_s / scenario->length_s;
  std::cerr << absl::StrFormat(
      "demo: model %s, %d apps, scenario %s (%.0f s stretched to %.0f s per policy), "
      "policies: %d\n",
      model, apps.size(), scenario->name, scenario->length_s, per_policy_s, o.policies.size());

  std::string static_compressed;
  std::vector<PolicyRun> runs;
  int exit_code = kExitOk;
  for (const std::string& policy : o.policies) {
    PolicyRun run;
    run.policy = policy;
    run.duration_s = per_policy_s;
    std::string pin;
    if (policy == "static_full") pin = "full";
    if (policy == "static_compressed") {
      if (static_compressed.empty()) {
        auto chosen = ChooseStaticCompressed(g, *scenario, apps.front(), model);
        if (!chosen.ok()) {
          std::cerr << "demo: choosing the static compressed configuration: "
                    << chosen.status().message() << "\n";
          exit_code = kExitServerError;
          continue;
        }
        static_compressed = *chosen;
      }
      pin = static_compressed;
    }
    run.static_config = pin;
    std::cerr << "demo: policy " << policy << (pin.empty() ? "" : " (pinned: " + pin + ")") << "\n";

    Shared shared;
    std::atomic<int> failures{0};
    // Collect evolution reaction times from the admin event stream.
    std::vector<double> reactions;
    std::mutex reactions_mu;
    auto admin = ConnectAdmin(g, false);
    grpc::ClientContext events_ctx;
    std::thread events;
    if (admin.ok()) {
      events = std::thread([&] {
        auto reader = admin->stub->WatchEvents(&events_ctx, v1::WatchEventsRequest{});
        v1::DaemonEvent ev;
        while (reader->Read(&ev)) {
          if (ev.kind() == v1::DaemonEvent::KIND_EVOLUTION && ev.reaction_ms() > 0) {
            std::lock_guard<std::mutex> l(reactions_mu);
            reactions.push_back(ev.reaction_ms());
          }
        }
        reader->Finish();
      });
    }

    BusyProcs busy;
    CpuCap cap(daemon_proc.pid(), realtime);
    const auto start = Clock::now() + std::chrono::milliseconds(300);
    ApplyStep(g, scenario->steps.front(), false);
    if (const std::string note = cap.Set(scenario->steps.front().cpu_cap_cores); !note.empty())
      std::cerr << note << "\n";
    std::vector<std::thread> threads;
    for (size_t a = 0; a < apps.size(); ++a)
      threads.emplace_back(RunApp, std::cref(apps[a]), policy, AppSocket(g), model, pin,
                           std::cref(*images), std::cref(*labels), start, per_policy_s,
                           static_cast<int>(a * 3000), &shared, &failures);

    // Drive the scenario and print the live view, once per second of wall time.
    size_t step = 0;
    std::string phase = scenario->steps.front().phase;
    run.phases.push_back({0.0, phase});
    double next_view = 1.0;
    while (true) {
      const double t = std::chrono::duration<double>(Clock::now() - start).count();
      if (t >= per_policy_s) break;
      while (step + 1 < scenario->steps.size() && scenario->steps[step + 1].t_s * scale <= t) {
        ++step;
        const ScenarioStep& st = scenario->steps[step];
        busy.Set(st.busy_procs);
        if (const std::string note = cap.Set(st.cpu_cap_cores); !note.empty())
          std::cerr << note << "\n";
        ApplyStep(g, st, false);
        if (st.phase != phase) {
          phase = st.phase;
          run.phases.push_back({t, phase});
        }
      }
      if (!o.quiet && t >= next_view) {
        next_view += 1.0;
        std::lock_guard<std::mutex> l(shared.mu);
        std::string line = absl::StrFormat("[%s %5.1fs] %-15s", policy, t, phase);
        for (const DemoApp& app : apps) {
          const auto& c = shared.current[app.name];
          Shared::Live& live = shared.live[app.name];
          double p95 = 0;
          if (!live.window_ms.empty()) {
            auto at = live.window_ms.begin() +
                      static_cast<std::ptrdiff_t>(0.95 * (live.window_ms.size() - 1));
            std::nth_element(live.window_ms.begin(), at, live.window_ms.end());
            p95 = *at;
            live.window_ms.clear();
          }
          absl::StrAppendFormat(&line, " | %s %s %.1fM p95 %.2f/%.0fms acc %.1f%%", app.name,
                                c.precision == client::Precision::kInt8 ? "int8" : "f32",
                                c.macs / 1e6, p95, app.latency_budget_us / 1000.0,
                                live.answered ? 100.0 * live.correct / live.answered : 0.0);
        }
        std::cerr << line << "\n";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& th : threads) th.join();
    busy.Set(0);
    (void)cap.Set(std::nullopt);
    ApplyStep(g, ScenarioStep{}, false);  // clear the override
    events_ctx.TryCancel();
    if (events.joinable()) events.join();
    if (failures.load() > 0) exit_code = kExitServerError;

    // Phase of each record, from the phase timeline.
    for (auto& rec : shared.records) {
      for (const auto& [t0, ph] : run.phases)
        if (rec.t_s >= t0) rec.phase = ph;
    }
    run.records = std::move(shared.records);
    run.switches = shared.switches;
    run.reaction_ms = reactions;
    runs.push_back(std::move(run));
  }

  daemon_proc.Stop(SIGTERM);
  fs::remove_all(runtime, ec);
  if (!WriteReport(runs, *scenario, apps, watts, measured_power, o.out_dir, model, g.json))
    return kExitUsage;
  return exit_code;
}

}  // namespace adaspring::ctl

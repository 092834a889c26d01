#include "bench_client_util.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "channel.h"

namespace adaspring::bench {

std::chrono::system_clock::time_point In(int64_t ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

absl::StatusOr<v1::ModelInfo> FindModel(v1::Admin::Stub& admin, const std::string& name,
                                        const std::string& socket) {
  if (!client::internal::SocketExists(socket)) {
    return absl::UnavailableError(
        absl::StrCat("adaspringd is not running (no socket at ", socket, "; see --socket)"));
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(In(10000));
  v1::ListModelsResponse r;
  const grpc::Status s = admin.ListModels(&ctx, v1::ListModelsRequest(), &r);
  if (!s.ok()) {
    const absl::Status st = client::internal::FromGrpc(s, socket);
    return absl::Status(st.code(), absl::StrCat("listing the daemon's models: ", st.message()));
  }
  for (const auto& m : r.models()) {
    if (name.empty() || m.name() == name) return m;
  }
  return absl::NotFoundError(name.empty() ? "no model is loaded"
                                          : absl::StrCat("model ", name, " is not loaded"));
}

absl::Status CheckSockets(const std::string& socket, const std::string& admin_socket,
                          bool admin_given) {
  if (!client::internal::SocketExists(socket)) {
    return absl::UnavailableError(
        absl::StrCat("adaspringd is not running (no socket at ", socket, "; see --socket)"));
  }
  if (client::internal::SocketExists(admin_socket)) return absl::OkStatus();
  if (admin_given) {
    return absl::UnavailableError(absl::StrCat("no admin socket at ", admin_socket,
                                               " (see --admin-socket), although adaspringd has "
                                               "its app socket at ",
                                               socket));
  }
  return absl::UnavailableError(
      absl::StrCat("no admin socket at ", admin_socket, " (derived from --socket ", socket,
                   "); give the daemon's admin socket with --admin-socket"));
}

std::string ResolveConfig(const v1::ModelInfo& model, const std::string& spec) {
  if (spec == "full") return model.full().text();
  if (spec == "smallest") return model.smallest().text();
  return spec;
}

v1::OpenSessionRequest BenchSession(const std::string& app, const std::string& model,
                                    const std::string& pinned, uint32_t budget_us) {
  v1::OpenSessionRequest req;
  req.set_app_name(app);
  req.set_model(model);
  req.mutable_slo()->set_latency_budget_us(budget_us);
  req.mutable_slo()->set_energy_preference(v1::ENERGY_PREFERENCE_BALANCED);
  req.set_pinned_configuration(pinned);
  return req;
}

v1::Tensor RandomImages(const v1::InputSpec& spec, int batch, uint64_t seed) {
  v1::Tensor t;
  t.set_dtype(v1::DATA_TYPE_UINT8);
  t.add_shape(batch);
  int64_t n = batch;
  for (int64_t d : spec.shape()) {
    t.add_shape(d);
    n *= d;
  }
  std::string bytes(static_cast<size_t>(n), '\0');
  std::mt19937_64 rng(seed);
  for (char& c : bytes) c = static_cast<char>(rng() & 0xff);
  t.set_raw_contents(std::move(bytes));
  return t;
}

double Percentile(std::vector<double>& samples, double q) {
  if (samples.empty()) return 0;
  const size_t k =
      std::min(samples.size() - 1, static_cast<size_t>(std::llround(q * (samples.size() - 1))));
  std::nth_element(samples.begin(), samples.begin() + k, samples.end());
  return samples[k];
}

absl::StatusOr<ProcStats> ReadProcStats(int pid) {
  ProcStats out;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  if (!status) return absl::NotFoundError(absl::StrCat("no process ", pid));
  std::string line;
  while (std::getline(status, line)) {
    std::istringstream ss(line);
    std::string key;
    ss >> key;
    if (key == "VmRSS:") {
      double kb = 0;
      ss >> kb;
      out.rss_mb = kb / 1024.0;
    } else if (key == "Threads:") {
      ss >> out.threads;
    }
  }
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  if (DIR* d = opendir(fd_dir.c_str())) {
    while (dirent* e = readdir(d)) out.fds += e->d_name[0] != '.';
    closedir(d);
  }
  return out;
}

int FindListenerPid(const std::string& socket_path) {
  // /proc/net/unix maps socket inodes to paths; /proc/PID/fd links name the inodes.
  std::ifstream unix_table("/proc/net/unix");
  std::string line;
  std::set<std::string> inodes;
  while (std::getline(unix_table, line)) {
    std::istringstream ss(line);
    std::string f[7], path;
    for (auto& x : f) ss >> x;
    ss >> path;
    if (path == socket_path) inodes.insert("socket:[" + f[6] + "]");
  }
  if (inodes.empty()) return 0;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return 0;
  int found = 0;
  while (dirent* e = readdir(proc)) {
    const int pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    const std::string fd_dir = "/proc/" + std::string(e->d_name) + "/fd";
    DIR* fds = opendir(fd_dir.c_str());
    if (fds == nullptr) continue;
    while (dirent* fe = readdir(fds)) {
      char target[256];
      const std::string link = fd_dir + "/" + fe->d_name;
      const ssize_t n = readlink(link.c_str(), target, sizeof(target) - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      if (inodes.count(target)) {
        found = pid;
        break;
      }
    }
    closedir(fds);
    if (found) break;
  }
  closedir(proc);
  return found;
}

}  // namespace adaspring::bench

// Commands that change the daemon (admin socket): models load/unload, profile, override.
#include <google/protobuf/stubs/common.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "describe.h"
#include "json_proto.h"
#include "rpc.h"
#include "table.h"

namespace adaspring::ctl {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Bundles are opened by the daemon, whose working directory is not ours: a relative path is
// resolved here (also when it does not exist, so that the daemon's message names the file).
std::string Absolute(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char* real = ::realpath(path.c_str(), nullptr);
  if (real == nullptr) {
    std::error_code ec;
    const std::filesystem::path abs = std::filesystem::absolute(path, ec);
    return ec ? path : abs.lexically_normal().string();
  }
  std::string out(real);
  std::free(real);
  return out;
}

}  // namespace

int CmdModelsLoad(const GlobalOptions& g, const std::string& path) {
  v1::LoadModelRequest req;
  const std::string absolute = Absolute(path);
  // The API carries paths as proto3 strings, which must be UTF-8.
  if (!google::protobuf::internal::IsStructurallyValidUTF8(absolute.data(),
                                                           static_cast<int>(absolute.size()))) {
    std::cerr << "adaspringctl: models load: the path is not valid UTF-8 (the daemon's API "
                 "carries paths as UTF-8 text): rename the file or a directory above it\n";
    return kExitUsage;
  }
  req.set_path(absolute);
  v1::LoadModelResponse r;
  int rc = 0;
  if (!CallAdmin(g, true, &v1::Admin::Stub::LoadModel, req, &r, &rc)) return rc;
  if (g.json) {
    PrintJsonLine(std::cout, ToJson(r));
    return kExitOk;
  }
  const auto& m = r.model();
  std::cout << "Loaded " << m.name() << " " << m.version() << " from " << m.path() << ": "
            << m.num_classes() << " classes, " << FormatCount(m.configurations())
            << " configurations, " << FormatBytes(m.weight_bytes()) << " of weights.\n";
  return kExitOk;
}

int CmdModelsUnload(const GlobalOptions& g, const std::string& name, bool force) {
  v1::UnloadModelRequest req;
  req.set_name(name);
  req.set_force(force);
  v1::UnloadModelResponse r;
  int rc = 0;
  if (!CallAdmin(g, true, &v1::Admin::Stub::UnloadModel, req, &r, &rc)) return rc;
  if (g.json) {
    PrintJsonLine(std::cout, Json{{"unloaded", name}, {"force", force}});
    return kExitOk;
  }
  std::cout << "Unloaded " << name << ".\n";
  return kExitOk;
}

int CmdProfile(const GlobalOptions& g, const std::string& name, bool force) {
  v1::ProfileModelRequest req;
  req.set_name(name);
  req.set_force(force);
  v1::ProfileModelResponse r;
  int rc = 0;
  // Profiling runs every layer many times: allow more than the usual per-call timeout.
  GlobalOptions slow = g;
  slow.timeout_s = std::max(g.timeout_s, 120.0);
  if (!CallAdmin(slow, true, &v1::Admin::Stub::ProfileModel, req, &r, &rc)) return rc;
  if (g.json) {
    PrintJsonLine(std::cout, ToJson(r));
    return kExitOk;
  }
  std::cout << "Profile of " << r.model() << " on " << r.cpu_model() << ", " << r.threads()
            << (r.threads() == 1 ? " thread" : " threads")
            << (r.from_cache()
                    ? ", cached (measured earlier; --force measures again)"
                    : absl::StrCat(", measured in ", FormatFixed(r.profiling_ms(), 0), " ms"))
            << "\n\n";
  Table t({"LAYER", "LATENCY_US"}, {false, true});
  double total = 0;
  for (const auto& l : r.layers()) {
    t.AddRow({l.layer(), FormatFixed(l.latency_us(), 1)});
    total += l.latency_us();
  }
  t.AddRow({"total", FormatFixed(total, 1)});
  t.Print(std::cout);
  return kExitOk;
}

int CmdOverrideSet(const GlobalOptions& g, const OverrideOptions& o) {
  v1::SetContextOverrideRequest req;
  if (o.memory_limit_mb) req.set_memory_limit_bytes(std::llround(*o.memory_limit_mb * kMiB));
  if (o.memory_available_mb) {
    req.set_memory_available_bytes(std::llround(*o.memory_available_mb * kMiB));
  }
  if (o.battery_pct) req.set_battery_percent(*o.battery_pct);
  if (o.on_ac) req.set_on_ac(*o.on_ac);
  if (o.temp_c) req.set_temperature_c(*o.temp_c);
  if (o.cpu_busy) req.set_cpu_busy_fraction(*o.cpu_busy);
  if (o.power_w) req.set_power_w(*o.power_w);
  if (req.ByteSizeLong() == 0) {
    return UsageError(
        "override set: give at least one value (see 'adaspringctl override set "
        "--help')");
  }
  v1::SetContextOverrideResponse r;
  int rc = 0;
  if (!CallAdmin(g, true, &v1::Admin::Stub::SetContextOverride, req, &r, &rc)) return rc;
  if (g.json) {
    PrintJsonLine(std::cout, ToJson(r));
    return kExitOk;
  }
  std::cout << "Override set. Context now: " << DescribeContext(r.context()) << "\n"
            << "Watch the sessions adapt with 'adaspringctl watch'; undo with "
               "'adaspringctl override clear'.\n";
  return kExitOk;
}

int CmdOverrideClear(const GlobalOptions& g) {
  v1::ClearContextOverrideResponse r;
  int rc = 0;
  if (!CallAdmin(g, true, &v1::Admin::Stub::ClearContextOverride, v1::ClearContextOverrideRequest(),
                 &r, &rc)) {
    return rc;
  }
  if (g.json) {
    PrintJsonLine(std::cout, ToJson(r));
    return kExitOk;
  }
  std::cout << "Override cleared. Context now: " << DescribeContext(r.context()) << "\n";
  return kExitOk;
}

}  // namespace adaspring::ctl

// Read-only commands: status, context, sessions, models (list).
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "describe.h"
#include "json_proto.h"
#include "rpc.h"
#include "table.h"

namespace adaspring::ctl {
namespace {

std::string SourceList(const v1::ContextSnapshot& c) {
  std::vector<std::string> parts;
  for (const auto& s : c.sources()) {
    parts.push_back(
        absl::StrCat(s.name(), ":", ShortEnumName("SourceState", v1::SourceState_Name(s.state()))));
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, " ");
}

}  // namespace

int CmdStatus(const GlobalOptions& g) {
  v1::GetStatusResponse st;
  int rc = 0;
  if (!CallAdmin(g, false, &v1::Admin::Stub::GetStatus, v1::GetStatusRequest(), &st, &rc))
    return rc;
  if (g.json) {
    PrintJsonLine(std::cout, ToJson(st));
    return kExitOk;
  }
  std::cout << "adaspringd " << st.version() << " (" << (st.mode().empty() ? "?" : st.mode())
            << " mode), up " << FormatDuration(st.uptime_s()) << "\n";
  if (!st.summary().empty()) std::cout << st.summary() << "\n";
  std::cout << "\n";
  std::vector<std::pair<std::string, std::string>> rows = {
      {"app socket", st.app_socket()},
      {"admin socket", st.admin_socket()},
      {"models", std::to_string(st.models())},
      {"sessions", std::to_string(st.sessions())},
      {"requests", absl::StrCat(st.requests_total(), " (", st.errors_total(), " errors)")},
      {"evolutions", std::to_string(st.evolutions_total())},
      {"context", DescribeContext(st.context())},
      {"sources", SourceList(st.context())}};
  // An older daemon does not report it.
  if (!st.cpu_wakeup_latency().empty()) rows.push_back({"cpu wake-up", st.cpu_wakeup_latency()});
  PrintKeyValues(std::cout, rows);
  std::cout << "\nMore: 'adaspringctl models', 'adaspringctl sessions', 'adaspringctl context', "
               "'adaspringctl watch'.\n";
  return kExitOk;
}

int CmdContext(const GlobalOptions& g) {
  v1::GetContextResponse r;
  int rc = 0;
  if (!CallAdmin(g, false, &v1::Admin::Stub::GetContext, v1::GetContextRequest(), &r, &rc)) {
    return rc;
  }
  if (g.json) {
    PrintJsonLine(std::cout, ToJson(r));
    return kExitOk;
  }
  const auto& c = r.context();
  std::cout << "Context (sample " << c.sequence() << ", " << FormatTimestamp(c.time(), true)
            << (c.overridden() ? ", with admin override" : "") << ")\n";
  std::string freq = "-";
  if (c.cpu_max_freq_khz() > 0) {
    freq = absl::StrCat(FormatFixed(c.cpu_freq_khz() / 1e6, 2), " / ",
                        FormatFixed(c.cpu_max_freq_khz() / 1e6, 2), " GHz");
  }
  PrintKeyValues(
      std::cout,
      {{"memory available", FormatBytes(c.memory_available_bytes())},
       {"memory limit", FormatBytes(c.memory_limit_bytes())},
       {"memory used", FormatBytes(c.memory_used_bytes())},
       {"cpu busy",
        absl::StrCat(FormatPercent(c.cpu_busy_fraction()), " of ", c.cpu_count(), " cpus")},
       {"cpu quota", c.cpu_quota_cores() > 0
                         ? absl::StrCat(FormatFixed(c.cpu_quota_cores(), 2), " cores (cgroup)")
                         : "none"},
       {"cpu frequency", freq},
       {"pressure (avg10)", absl::StrCat("cpu ", FormatFixed(c.psi_cpu_some_avg10(), 1),
                                         "%  memory ", FormatFixed(c.psi_memory_some_avg10(), 1),
                                         "%  io ", FormatFixed(c.psi_io_some_avg10(), 1), "%")},
       {"temperature", c.temperature_c() == 0 && c.temperature_trip_c() == 0
                           ? "-"
                           : absl::StrCat(FormatFixed(c.temperature_c(), 1), "°C (trip ",
                                          FormatFixed(c.temperature_trip_c(), 1), "°C)")},
       {"power", c.power_w() > 0 ? FormatFixed(c.power_w(), 2) + " W" : "-"},
       {"battery", c.has_battery() ? absl::StrCat(FormatFixed(c.battery_percent(), 0), "%",
                                                  c.on_ac() ? " (on AC)" : " (discharging)")
                                   : "none (mains)"}},
      2);
  std::cout << "\nSources\n";
  Table t({"SOURCE", "STATE", "REASON"});
  for (const auto& s : c.sources()) {
    t.AddRow({s.name(), ShortEnumName("SourceState", v1::SourceState_Name(s.state())), s.reason()});
  }
  t.Print(std::cout);
  const auto& b = r.budgets();
  std::cout << "\nBudgets for models\n";
  PrintKeyValues(
      std::cout,
      {{"memory",
        b.memory_bytes() >= 0 ? FormatBytes(b.memory_bytes()) : "unknown (unconstrained)"},
       {"cpu", FormatFixed(b.cpu_capacity(), 2) + " cores"},
       {"power", b.power_w() > 0 ? FormatFixed(b.power_w(), 2) + " W" : "unconstrained"}},
      2);
  for (const auto& note : b.notes()) std::cout << "  note: " << note << "\n";
  return kExitOk;
}

int CmdSessions(const GlobalOptions& g) {
  v1::ListSessionsResponse r;
  int rc = 0;
  if (!CallAdmin(g, false, &v1::Admin::Stub::ListSessions, v1::ListSessionsRequest(), &r, &rc)) {
    return rc;
  }
  if (g.json) {
    PrintJsonLine(std::cout, ToJson(r));
    return kExitOk;
  }
  if (r.sessions().empty()) {
    std::cout << "No open sessions. Apps open one with the client library "
                 "(see docs/CLIENT.md) or try 'adaspringctl infer'.\n";
    return kExitOk;
  }
  Table t({"SESSION", "APP", "MODEL", "BUDGET", "PRIO", "REQS", "ERRS", "RATE", "P50", "P95", "P99",
           "APP P95", "VIOL", "SWITCH", "CONFIGURATION"},
          {false, false, false, true, true, true, true, true, true, true, true, true, true, true,
           false});
  for (const auto& s : r.sessions()) {
    t.AddRow(
        {s.session_id(), s.app_name(), s.model(), DescribeSlo(s.slo()),
         std::to_string(s.slo().priority()), FormatCount(static_cast<double>(s.requests())),
         std::to_string(s.errors()), FormatFixed(s.rate_hz(), 1) + "/s",
         FormatFixed(s.latency_p50_ms(), 2), FormatFixed(s.latency_p95_ms(), 2),
         FormatFixed(s.latency_p99_ms(), 2),
         s.reported_latency_p95_ms() > 0 ? FormatFixed(s.reported_latency_p95_ms(), 2) : "-",
         FormatPercent(s.slo_violation_fraction(), 1), std::to_string(s.switches()),
         absl::StrCat(s.pinned() ? "[pinned] " : "", DescribeConfiguration(s.configuration()))});
  }
  t.Print(std::cout);
  std::cout << "(latencies in ms: P50..P99 in the daemon, queue + compute; APP P95 end to end as "
               "the app's client reports it; VIOL = share of requests over budget in the daemon)\n";
  return kExitOk;
}

int CmdModelsList(const GlobalOptions& g) {
  v1::ListModelsResponse r;
  int rc = 0;
  if (!CallAdmin(g, false, &v1::Admin::Stub::ListModels, v1::ListModelsRequest(), &r, &rc)) {
    return rc;
  }
  if (g.json) {
    PrintJsonLine(std::cout, ToJson(r));
    return kExitOk;
  }
  if (r.models().empty()) {
    std::cout << "No models loaded. Load one with 'adaspringctl models load PATH.asb'.\n";
    return kExitOk;
  }
  Table t({"NAME", "VERSION", "INPUT", "CLASSES", "CONFIGS", "SESSIONS", "WEIGHTS", "CACHE",
           "PROFILED", "PATH"},
          {false, false, false, true, true, true, true, true, false, false});
  for (const auto& m : r.models()) {
    std::vector<std::string> dims;
    for (int64_t d : m.input_shape()) dims.push_back(std::to_string(d));
    t.AddRow({m.name(), m.version(), absl::StrJoin(dims, "x"), std::to_string(m.num_classes()),
              FormatCount(m.configurations()), std::to_string(m.sessions()),
              FormatBytes(m.weight_bytes()), FormatBytes(m.cache_bytes()),
              m.profiled() ? "yes" : "no", m.path()});
  }
  t.Print(std::cout);
  for (const auto& m : r.models()) {
    std::cout << "\n" << m.name() << "\n";
    const std::string predictor =
        m.accuracy_predictor() == "prior" || m.accuracy_predictor().empty()
            ? std::string(
                  "prior (the bundle has no fitted predictor: predicted accuracies are "
                  "a heuristic, not measurements)")
            : absl::StrCat(m.accuracy_predictor(), " fitted on ", m.predictor_fitted_configs(),
                           " measured configurations; on held-out ones Kendall tau ",
                           FormatFixed(m.predictor_kendall_tau(), 2), ", mean error ",
                           FormatFixed(m.predictor_mae_pt(), 2), " pt");
    PrintKeyValues(std::cout,
                   {{"full", DescribeConfiguration(m.full())},
                    {"smallest", DescribeConfiguration(m.smallest())},
                    {"accuracy predictor", predictor}},
                   2);
  }
  return kExitOk;
}

}  // namespace adaspring::ctl

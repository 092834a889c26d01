#include "demo/scenario.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "adaspring/client/types.h"

namespace adaspring::ctl {

const ScenarioStep& Scenario::At(double t_s) const {
  size_t i = 0;
  while (i + 1 < steps.size() && steps[i + 1].t_s <= t_s) ++i;
  return steps[i];
}

absl::StatusOr<Scenario> ParseScenario(const std::string& text, const std::string& name) {
  Scenario sc;
  sc.name = name;
  std::vector<std::string> header;
  int line_no = 0;
  std::istringstream in(text);
  std::string line;
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(name, ":", line_no, ": ", what));
  };
  while (std::getline(in, line)) {
    ++line_no;
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty()) continue;
    if (absl::ConsumePrefix(&l, "#")) {
      l = absl::StripAsciiWhitespace(l);
      if (absl::ConsumePrefix(&l, "tight_phase:"))
        sc.tight_phase = std::string(absl::StripAsciiWhitespace(l));
      continue;
    }
    std::vector<std::string> cells = absl::StrSplit(l, ',');
    for (auto& c : cells) c = std::string(absl::StripAsciiWhitespace(c));
    if (header.empty()) {
      header = cells;
      if (std::find(header.begin(), header.end(), "t_s") == header.end() ||
          std::find(header.begin(), header.end(), "phase") == header.end())
        return bad("header needs the columns t_s and phase");
      for (const auto& h : header) {
        static const char* kKnown[] = {"t_s",   "phase",  "memory_available_mb", "battery_pct",
                                       "on_ac", "temp_c", "busy_procs",          "cpu_cap_cores"};
        if (std::find(std::begin(kKnown), std::end(kKnown), h) == std::end(kKnown))
          return bad(absl::StrCat("unknown column '", h, "'"));
      }
      continue;
    }
    if (cells.size() != header.size())
      return bad(absl::StrCat("expected ", header.size(), " cells, found ", cells.size()));
    ScenarioStep st;
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::string& h = header[i];
      const std::string& c = cells[i];
      if (h == "phase") {
        st.phase = c;
        continue;
      }
      if (c.empty()) continue;
      double v = 0;
      if (!absl::SimpleAtod(c, &v)) return bad(absl::StrCat(h, ": '", c, "' is not a number"));
      if (h == "t_s")
        st.t_s = v;
      else if (h == "memory_available_mb")
        st.memory_available_mb = v;
      else if (h == "battery_pct")
        st.battery_pct = v;
      else if (h == "temp_c")
        st.temp_c = v;
      else if (h == "on_ac")
        st.on_ac = v != 0;
      else if (h == "busy_procs")
        st.busy_procs = static_cast<int>(v);
      else if (h == "cpu_cap_cores")
        st.cpu_cap_cores = v;
    }
    if (st.phase.empty()) return bad("empty phase");
    if (!sc.steps.empty() && st.t_s < sc.steps.back().t_s) return bad("t_s goes backwards");
    if (st.busy_procs < 0 || st.busy_procs > 16) return bad("busy_procs must be 0..16");
    if (st.cpu_cap_cores && !(*st.cpu_cap_cores >= 0.01 && *st.cpu_cap_cores <= 1024))
      return bad("cpu_cap_cores must be 0.01..1024 (empty: no cap)");
    sc.steps.push_back(std::move(st));
  }
  if (sc.steps.empty()) return absl::InvalidArgumentError(name + ": no steps");
  if (sc.steps.front().t_s != 0) return absl::InvalidArgumentError(name + ": must start at t_s 0");
  sc.length_s = std::max(1.0, sc.steps.back().t_s * 1.15);
  if (sc.tight_phase.empty()) sc.tight_phase = sc.steps.back().phase;
  return sc;
}

absl::StatusOr<Scenario> LoadScenario(const std::string& path) {
  std::ifstream f(path);
  if (!f) return absl::NotFoundError(absl::StrCat("cannot read scenario ", path));
  std::stringstream ss;
  ss << f.rdbuf();
  return ParseScenario(ss.str(), path);
}

std::vector<DemoApp> DefaultApps() {
  using client::EnergyPreference;
  return {
      // A camera pipeline: many frames, a tight budget, high priority.
      {"camera", 120, 2000, 0.0, 30, static_cast<int>(EnergyPreference::kPerformance)},
      // An assistant: fewer requests, wants accuracy, looser budget.
      {"assistant", 30, 8000, 0.90, 10, static_cast<int>(EnergyPreference::kBalanced)},
      // A wearable companion: low priority, saves energy.
      {"wearable", 15, 5000, 0.0, 2, static_cast<int>(EnergyPreference::kSaver)},
  };
}

}  // namespace adaspring::ctl

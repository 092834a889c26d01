// Summary of a demo run: requests.csv (one line per request), summary.json, the summary table
// and plot.png (gnuplot).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "demo/records.h"

namespace adaspring::ctl {
namespace {

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

nlohmann::json ToJson(const AppFigures& f) {
  return {{"slo_violation_pct", f.slo_violation_pct},
          {"accuracy", f.accuracy},
          {"p50_ms", f.p50_ms},
          {"p99_ms", f.p99_ms},
          {"compute_p50_ms", f.compute_p50_ms},
          {"compute_p99_ms", f.compute_p99_ms},
          {"daemon_p50_ms", f.daemon_p50_ms},
          {"daemon_p99_ms", f.daemon_p99_ms},
          {"energy_mj_per_inference", f.energy_mj_per_inference},
          {"energy_source", f.energy_source},
          {"switches", f.switches},
          {"failed_requests", f.failed_requests},
          {"requests", f.requests}};
}

bool WritePlot(const std::vector<PolicyRun>& runs, const std::vector<DemoApp>& apps,
               const std::string& out_dir) {
  // Data: one file per policy and app: t_s latency_ms macs_M.
  for (const PolicyRun& run : runs) {
    for (const DemoApp& app : apps) {
      std::ofstream f(absl::StrCat(out_dir, "/plot-", run.policy, "-", app.name, ".dat"));
      if (!f) return false;
      for (const auto& r : run.records)
        if (r.app == app.name && r.ok)
          f << r.t_s << " " << r.latency_ms << " " << r.macs / 1e6 << "\n";
    }
  }
  const PolicyRun* adaptive = &runs.front();
  const PolicyRun* full = nullptr;
  for (const auto& run : runs) {
    if (run.policy == "adaptive") adaptive = &run;
    if (run.policy == "static_full") full = &run;
  }
  std::string gp =
      absl::StrCat("set terminal png size 1400,", 330 * apps.size(), " font ',10'\n",
                   "set output '", out_dir, "/plot.png'\n", "set multiplot layout ", apps.size(),
                   ",1 title 'adaspringd demo: latency per request, ",
                   "budget and configuration size (MMACs) over the scenario'\n",
                   "set grid\nset logscale y\nset ylabel 'latency ms'\nset y2label 'MMACs'\n",
                   "set y2tics\nset ytics nomirror\nset key outside right top\n");
  int arrow = 1;
  for (const auto& [t0, phase] : adaptive->phases) {
    absl::StrAppendFormat(&gp,
                          "set arrow %d from %.2f, graph 0 to %.2f, graph 1 nohead dt 2 lc rgb "
                          "'#888888'\nset label %d '%s' at %.2f, graph 0.95 rotate by 90 right "
                          "font ',8' tc rgb '#555555'\n",
                          arrow, t0, t0, arrow, phase, t0 + 0.2);
    ++arrow;
  }
  for (const DemoApp& app : apps) {
    absl::StrAppendFormat(&gp, "set title '%s (budget %.1f ms)'\nset xlabel 'time in policy, s'\n",
                          app.name, app.latency_budget_us / 1000.0);
    std::string plot = absl::StrFormat(
        "plot '%s/plot-%s-%s.dat' using 1:2 with points pt 7 ps 0.3 lc rgb '#1f77b4' "
        "title 'adaptive latency'",
        out_dir, adaptive->policy, app.name);
    if (full)
      absl::StrAppendFormat(&plot,
                            ", '%s/plot-static_full-%s.dat' using 1:2 with points pt 7 ps 0.3 lc "
                            "rgb '#d62728' title 'static full latency'",
                            out_dir, app.name);
    absl::StrAppendFormat(&plot,
                          ", %.3f with lines lw 2 lc rgb '#2ca02c' title 'budget', "
                          "'%s/plot-%s-%s.dat' using 1:3 axes x1y2 with steps lw 1.5 lc rgb "
                          "'#ff7f0e' title 'adaptive MMACs'\n",
                          app.latency_budget_us / 1000.0, out_dir, adaptive->policy, app.name);
    gp += plot;
  }
  gp += "unset multiplot\n";
  const std::string script = out_dir + "/plot.gp";
  {
    std::ofstream f(script);
    if (!f) return false;
    f << gp;
  }
  const std::string cmd = absl::StrCat("gnuplot '", script, "' 2>'", out_dir, "/plot.log'");
  return std::system(cmd.c_str()) == 0;
}

}  // namespace

AppFigures Summarise(const std::vector<RequestRecord>& records, const std::string& app,
                     const std::string& phase, uint32_t budget_us, double watts,
                     bool measured_power) {
  AppFigures f;
  std::vector<double> lat, compute, in_daemon;
  int64_t ok = 0, correct = 0, violations = 0;
  double compute_us = 0;
  for (const auto& r : records) {
    if (r.app != app || (!phase.empty() && r.phase != phase)) continue;
    ++f.requests;
    if (!r.ok) {
      ++f.failed_requests;
      ++violations;
      continue;
    }
    ++ok;
    correct += r.correct;
    lat.push_back(r.latency_ms);
    compute.push_back(r.compute_us / 1000.0);
    in_daemon.push_back((r.queue_us + r.compute_us) / 1000.0);
    compute_us += r.compute_us;
    if (r.latency_ms * 1000.0 > budget_us) ++violations;
  }
  if (f.requests > 0) f.slo_violation_pct = 100.0 * violations / f.requests;
  if (ok > 0) {
    f.accuracy = static_cast<double>(correct) / ok;
    // compute time (us) x power (W) = uJ; / 1000 = mJ.
    f.energy_mj_per_inference = compute_us / ok * watts / 1000.0;
  }
  f.p50_ms = Percentile(lat, 0.50);
  f.p99_ms = Percentile(lat, 0.99);
  f.compute_p50_ms = Percentile(compute, 0.50);
  f.compute_p99_ms = Percentile(compute, 0.99);
  f.daemon_p50_ms = Percentile(in_daemon, 0.50);
  f.daemon_p99_ms = Percentile(in_daemon, 0.99);
  f.energy_source = measured_power ? "measured" : "estimated";
  return f;
}

bool WriteReport(const std::vector<PolicyRun>& runs, const Scenario& scenario,
                 const std::vector<DemoApp>& apps, double watts, bool measured_power,
                 const std::string& out_dir, const std::string& model, bool json) {
  {
    std::ofstream csv(out_dir + "/requests.csv");
    if (!csv) {
      std::cerr << "demo: cannot write " << out_dir << "/requests.csv\n";
      return false;
    }
    csv << "policy,app,t_s,phase,latency_ms,ok,code,correct,config_id,compute_us,macs,queue_us\n";
    for (const auto& run : runs)
      for (const auto& r : run.records)
        csv << absl::StrFormat("%s,%s,%.4f,%s,%.4f,%d,%d,%d,%d,%.0f,%d,%.0f\n", r.policy, r.app,
                               r.t_s, r.phase, r.latency_ms, r.ok, r.code, r.correct, r.config_id,
                               r.compute_us, r.macs, r.queue_us);
  }

  nlohmann::json summary;
  summary["model"] = model;
  summary["scenario"] = scenario.name;
  summary["tight_phase"] = scenario.tight_phase;
  std::vector<double> reactions;
  for (const auto& run : runs) {
    nlohmann::json p;
    p["duration_s"] = run.duration_s;
    if (!run.static_config.empty()) p["configuration"] = run.static_config;
    for (const DemoApp& app : apps) {
      AppFigures all =
          Summarise(run.records, app.name, "", app.latency_budget_us, watts, measured_power);
      auto sw = run.switches.find(app.name);
      all.switches = sw == run.switches.end() ? 0 : sw->second;
      AppFigures tight = Summarise(run.records, app.name, scenario.tight_phase,
                                   app.latency_budget_us, watts, measured_power);
      nlohmann::json a = ToJson(all);
      nlohmann::json t = ToJson(tight);
      t.erase("switches");
      a["tight"] = t;
      a["latency_budget_ms"] = app.latency_budget_us / 1000.0;
      p["apps"][app.name] = a;
    }
    summary["policies"][run.policy] = p;
    if (run.policy == "adaptive") reactions = run.reaction_ms;
  }
  summary["reaction_ms"] = {{"p50", Percentile(reactions, 0.5)},
                            {"p99", Percentile(reactions, 0.99)},
                            {"count", reactions.size()}};
  {
    std::ofstream f(out_dir + "/summary.json");
    if (!f) {
      std::cerr << "demo: cannot write " << out_dir << "/summary.json\n";
      return false;
    }
    f << summary.dump(2) << "\n";
  }
  const bool plotted = WritePlot(runs, apps, out_dir);

  if (json) {
    std::cout << summary.dump() << "\n";
  } else {
    std::cout << absl::StrFormat("\n%-18s %-10s %8s %9s %8s %8s %10s %9s %6s %6s   %s\n", "policy",
                                 "app", "requests", "slo_viol%", "acc%", "p50_ms", "p99_ms",
                                 "mJ/inf", "switch", "failed", "tight: viol% p99_ms");
    for (const auto& [policy, p] : summary["policies"].items()) {
      for (const auto& [app, a] : p["apps"].items()) {
        std::cout << absl::StrFormat(
            "%-18s %-10s %8d %9.2f %8.2f %8.3f %10.3f %9.4f %6d %6d   %5.2f %8.3f\n", policy, app,
            a["requests"].get<int64_t>(), a["slo_violation_pct"].get<double>(),
            100 * a["accuracy"].get<double>(), a["p50_ms"].get<double>(), a["p99_ms"].get<double>(),
            a["energy_mj_per_inference"].get<double>(), a["switches"].get<int>(),
            a["failed_requests"].get<int64_t>(), a["tight"]["slo_violation_pct"].get<double>(),
            a["tight"]["p99_ms"].get<double>());
      }
    }
    // The tightest phase, adaptive against static full: how much lower its p99 is.
    if (summary["policies"].contains("adaptive") && summary["policies"].contains("static_full")) {
      std::cout << absl::StrFormat("\ntight phase '%s', p99 of static_full / adaptive:\n",
                                   scenario.tight_phase);
      for (const auto& [app, a] : summary["policies"]["adaptive"]["apps"].items()) {
        const auto& full = summary["policies"]["static_full"]["apps"][app]["tight"];
        const auto& mine = a["tight"];
        auto ratio = [&](const char* key) {
          const double d = mine[key].get<double>();
          return d > 0 ? full[key].get<double>() / d : 0.0;
        };
        std::cout << absl::StrFormat(
            "  %-10s end to end %5.2fx   in daemon %5.2fx   compute %5.2fx\n", app, ratio("p99_ms"),
            ratio("daemon_p99_ms"), ratio("compute_p99_ms"));
      }
    }
    std::cout << absl::StrFormat(
        "\nreaction (context change -> all affected sessions evolved): p50 %.2f ms, p99 %.2f ms "
        "over %d evolutions\nenergy is %s (%.1f W)\nfiles: %s/{summary.json,requests.csv%s}\n",
        Percentile(reactions, 0.5), Percentile(reactions, 0.99), reactions.size(),
        measured_power ? "measured from the device's power meter"
                       : "estimated from compute time x an assumed core power",
        watts, out_dir, plotted ? ",plot.png" : "");
  }
  if (!plotted) std::cerr << "demo: gnuplot failed (see " << out_dir << "/plot.log)\n";
  return true;
}

}  // namespace adaspring::ctl

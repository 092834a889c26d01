// `adaspringctl demo`: the main job. Starts adaspringd in user mode with the bundled reference
// model, runs three client apps with different SLOs on real labelled Fashion-MNIST test
// images while a context scenario (memory squeeze, battery drop, thermal rise, real CPU
// contention from busy processes) plays, once per policy (adaptive, static full, static
// compressed), and writes requests.csv, summary.json and plot.png to the output directory.
#ifndef ADASPRING_CLIENT_CTL_DEMO_DEMO_H_
#define ADASPRING_CLIENT_CTL_DEMO_DEMO_H_

#include <string>
#include <vector>

#include "commands.h"

namespace adaspring::ctl {

struct DemoOptions {
  double duration_s = 180;  // all policies together
  std::string out_dir = "demo-out";
  std::string scenario;    // CSV; empty = the installed/bundled default
  std::string daemon;      // adaspringd binary; empty = next to adaspringctl / in PATH
  std::string models_dir;  // empty = the bundled models
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  std::vector<std::string> policies = {"adaptive", "static_full", "static_compressed"};
  bool quiet = false;  // no live view
  // Nice value of the demo's apps (this process and every thread it starts, gRPC's included);
  // the busy processes always run at nice 0. Applied only where permitted (root/CAP_SYS_NICE).
  int app_nice = -5;
  // SCHED_RR priority of the daemon's threads (0 = the normal policy at nice -5), applied only
  // where permitted; what a unit drop-in with CPUSchedulingPolicy=rr does.
  int daemon_rt_priority = 1;
  // SCHED_RR priority of the apps: every thread of the demo's process, gRPC's included (0 =
  // off: the apps run at `app_nice`), applied only where permitted. What an app with a hard
  // latency budget does on a board where other software competes for the cores; the busy
  // processes stay at the normal policy.
  int app_rt_priority = 1;
  // The daemon's scheduler.cpu_wakeup_latency_us: a PM QoS request that keeps idle CPUs out
  // of idle states slower than this to leave (0: poll/shallow halt only), or -1 for none.
  // Needs write access to /dev/cpu_dma_latency (root), else the daemon warns and runs without.
  int cpu_wakeup_latency_us = 0;
};

int CmdDemo(const GlobalOptions& g, const DemoOptions& o);

}  // namespace adaspring::ctl

#endif  // ADASPRING_CLIENT_CTL_DEMO_DEMO_H_

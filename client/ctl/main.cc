// adaspringctl: look at and steer adaspringd from a terminal or a script.
#include <CLI/CLI.hpp>
#include <climits>
#include <iostream>

#include "adaspring/client/version.h"
#include "cli_checks.h"
#include "commands.h"
#include "demo/demo.h"

namespace adaspring::ctl {
namespace {

constexpr char kDescription[] =
    "adaspringctl - look at and steer adaspringd, the context-adaptive inference daemon.\n"
    "\n"
    "adaspringd serves models to apps and keeps re-compressing each app's model (narrower,\n"
    "shallower, low-rank or int8 variants of one network) as memory, CPU load, temperature\n"
    "and battery change. Start with 'adaspringctl status', then 'sessions' to see the apps\n"
    "and their current configurations, and 'watch' to see the daemon adapt live.\n";

constexpr char kFooter[] =
    "\nExamples:\n"
    "  adaspringctl status\n"
    "  adaspringctl watch\n"
    "  adaspringctl override set --memory-available-mb 80   # squeeze memory, see apps adapt\n"
    "  adaspringctl infer --model smallres28 --count 10 \\\n"
    "      --input /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz\n"
    "\nExit codes: 0 ok, 1 the daemon returned an error, 2 bad usage or unreadable input,\n"
    "3 the daemon is not running (no socket / connection refused).\n"
    "Every command accepts --json: one JSON object per line with keys named after the\n"
    "adaspring.v1 API fields. Run 'adaspringctl COMMAND --help' for a command's options.";

// The footer of every command's --help: the global options, which CLI11 lists only in the
// top-level help, and the command's own examples.
std::string CommandFooter(const std::string& examples) {
  std::string f =
      "\nGlobal options (before or after the command):\n"
      "  --socket PATH        App socket of the daemon (default: see 'adaspringctl --help')\n"
      "  --admin-socket PATH  Admin socket (default: admin.sock beside the app socket)\n"
      "  --json               One JSON object per line instead of tables\n"
      "  --timeout SECONDS    Seconds to wait for each call (default 10)\n";
  if (!examples.empty()) f += "\nExamples:\n" + examples;
  f += "\nExit codes: 0 ok, 1 the daemon returned an error, 2 bad usage or unreadable input, 3 "
       "the daemon is not running.";
  return f;
}

// Adds an option that fills an optional<double> only when given.
CLI::Option* AddOptional(CLI::App* app, const std::string& name, std::optional<double>* target,
                         const std::string& help) {
  return app->add_option_function<double>(
      name, [target](const double& v) { *target = v; }, help);
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{kDescription, "adaspringctl"};
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the command: "adaspringctl status --json"
  GlobalOptions g;
  app.add_option("--socket", g.socket,
                 "App socket of the daemon (default: /run/adaspring/adaspringd.sock if it "
                 "exists, else $XDG_RUNTIME_DIR/adaspring/adaspringd.sock, else "
                 "/tmp/adaspring-$UID/adaspringd.sock)")
      ->type_name("PATH");
  app.add_option("--admin-socket", g.admin_socket,
                 "Admin socket for commands that change the daemon (models load/unload, "
                 "profile, override; default: admin.sock beside the app socket)")
      ->type_name("PATH");
  app.add_flag("--json", g.json, "Print one JSON object per line instead of tables");
  app.add_option("--timeout", g.timeout_s, "Seconds to wait for each call (default 10)")
      ->type_name("SECONDS")
      ->check(NumberIn("--timeout", 0, 86400, /*lo_open=*/true,
                       "a number of seconds greater than 0 and at most 86400"));
  app.set_version_flag("--version",
                       std::string("adaspringctl ") + client::Version() +
                           " (client library; 'adaspringctl status' shows the daemon's version)",
                       "Print adaspringctl's version and exit");

  int rc = kExitOk;
  auto* status = app.add_subcommand(
      "status", "Daemon version, uptime, sockets, models, sessions and a context summary");
  status->callback([&] { rc = CmdStatus(g); });
  status->footer(
      CommandFooter("  adaspringctl status\n  adaspringctl status --json | jq .sessions\n"));

  auto* context = app.add_subcommand(
      "context",
      "The latest context sample (memory, CPU, temperature, power, battery), the state of "
      "each sensor source and the budgets the daemon derives for models");
  context->callback([&] { rc = CmdContext(g); });
  context->footer(CommandFooter("  adaspringctl context\n"));

  auto* sessions = app.add_subcommand(
      "sessions",
      "Open app sessions: SLO, request counts, latency p50/p95/p99, configuration switches "
      "and the configuration each app currently runs");
  sessions->callback([&] { rc = CmdSessions(g); });
  sessions->footer(CommandFooter("  adaspringctl sessions\n"));

  auto* models = app.add_subcommand(
      "models", "List loaded models (default), or load / unload one (needs the admin socket)");
  models->require_subcommand(0, 1);
  auto* models_list = models->add_subcommand("list", "List loaded models");
  std::string load_path, unload_name;
  bool unload_force = false;
  auto* models_load = models->add_subcommand("load", "Load a model bundle (.asb) from PATH");
  models_load
      ->add_option("PATH", load_path,
                   "Bundle file readable by the daemon (a relative PATH is made absolute here)")
      ->required();
  auto* models_unload =
      models->add_subcommand("unload", "Unload model NAME (refused while apps use it)");
  models_unload->add_option("NAME", unload_name, "Model name (see 'adaspringctl models')")
      ->required();
  models_unload->add_flag("--force", unload_force, "Unload even with open sessions (closes them)");
  models->callback([&] {
    if (models_load->parsed()) {
      rc = CmdModelsLoad(g, load_path);
    } else if (models_unload->parsed()) {
      rc = CmdModelsUnload(g, unload_name, unload_force);
    } else {
      rc = CmdModelsList(g);
    }
  });
  models->footer(
      CommandFooter("  adaspringctl models\n"
                    "  adaspringctl models load /usr/share/adaspring/models/smallres28.asb\n"
                    "  adaspringctl models unload smallres28 --force\n"));
  for (CLI::App* sub : {models_list, models_load, models_unload}) {
    sub->footer(CommandFooter(""));
  }

  WatchOptions wo;
  auto* watch = app.add_subcommand(
      "watch",
      "Follow the daemon live: context changes, evolutions (which app switched to which "
      "configuration and why), model loads, sessions opening and closing, overrides");
  watch->add_flag("--all-samples", wo.all_samples,
                  "Show every context sample, not only significant changes");
  watch->add_option("--count", wo.count, "Stop after N events (default 0 = no limit)")
      ->type_name("N")
      ->check(IntegerIn("--count", 0, INT_MAX, "an integer >= 0 (0 = no limit)"));
  watch->add_option("--seconds", wo.seconds, "Stop after S seconds (default 0 = no limit)")
      ->type_name("S")
      ->check(NumberIn("--seconds", 0, 1e9, /*lo_open=*/false,
                       "a number of seconds >= 0 (0 = no limit)"));
  watch->callback([&] { rc = CmdWatch(g, wo); });
  watch->footer(CommandFooter(
      "  adaspringctl watch\n  adaspringctl watch --json --seconds 60 > events.jsonl\n"));

  InferOptions io;
  auto* infer = app.add_subcommand(
      "infer",
      "Classify images through the daemon: prints the top-k labels with scores, the accuracy "
      "when labels are known, and the configuration that served the requests");
  infer->add_option("--model", io.model, "Loaded model to use (see 'adaspringctl models')")
      ->required()
      ->type_name("NAME");
  infer
      ->add_option("--input", io.input,
                   "Images: an IDX file, gzip or plain (e.g. "
                   "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz), or a PNG")
      ->required()
      ->type_name("FILE");
  infer->add_option("--index", io.index, "First image of an IDX file (default 0)")
      ->type_name("N")
      ->check(IntegerIn("--index", 0, INT_MAX, "an integer >= 0"));
  infer->add_option("--count", io.count, "Number of images from an IDX file (default 1)")
      ->type_name("N")
      ->check(IntegerIn("--count", 1, INT_MAX, "a positive integer"));
  infer->add_option("--top-k", io.top_k, "Classes to show per image, 1..1000 (default 3)")
      ->type_name("K")
      ->check(IntegerIn("--top-k", 1, 1000, "an integer from 1 to 1000"));
  infer
      ->add_option("--labels", io.labels,
                   "IDX label file (default: the *-labels-idx1-ubyte* file beside --input)")
      ->type_name("FILE");
  infer
      ->add_option("--config", io.pin,
                   "Pin a configuration: canonical text such as \"d=2.1.2 w=... p=f32\" "
                   "(default: let the daemon choose)")
      ->type_name("TEXT");
  infer
      ->add_option("--budget-ms", io.budget_ms,
                   "Latency budget of the session, 0.1..60000 ms (default 100)")
      ->type_name("MS")
      ->check(NumberIn("--budget-ms", 0.1, 60000, /*lo_open=*/false,
                       "a number of milliseconds from 0.1 to 60000"));
  infer->add_option("--app", io.app, "App name shown in 'sessions' (default adaspringctl)")
      ->type_name("NAME");
  infer->callback([&] { rc = CmdInfer(g, io); });
  infer->footer(
      CommandFooter("  adaspringctl infer --model smallres28 --count 10 \\\n"
                    "      --input /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz\n"
                    "  adaspringctl infer --model smallres28 --input shirt.png --json\n"));

  std::string profile_name;
  bool profile_force = false;
  auto* profile = app.add_subcommand(
      "profile",
      "Measure model NAME's layer latencies on this device (used by the cost model; cached "
      "in the state directory)");
  profile->add_option("NAME", profile_name, "Model name")->required();
  profile->add_flag("--force", profile_force, "Measure again even when a profile is cached");
  profile->callback([&] { rc = CmdProfile(g, profile_name, profile_force); });
  profile->footer(CommandFooter("  adaspringctl profile smallres28 --force\n"));

  OverrideOptions oo;
  auto* override_cmd = app.add_subcommand(
      "override",
      "Simulate a device context (memory squeeze, low battery, heat, CPU load) to see the "
      "apps adapt; 'override clear' returns to the sensed values");
  override_cmd->require_subcommand(1);
  auto* override_set = override_cmd->add_subcommand(
      "set",
      "Replace sensed values; unset ones stay sensed. Each 'set' replaces the previous "
      "override as a whole: give every value you want in one command");
  AddOptional(override_set, "--memory-limit-mb", &oo.memory_limit_mb,
              "Memory limit in MiB (as a cgroup memory.max would), >= 0")
      ->type_name("MB")
      ->check(NumberIn("--memory-limit-mb", 0, 1e9, /*lo_open=*/false,
                       "a number of MiB from 0 to 1000000000"));
  AddOptional(override_set, "--memory-available-mb", &oo.memory_available_mb,
              "Memory available in MiB, >= 0")
      ->type_name("MB")
      ->check(NumberIn("--memory-available-mb", 0, 1e9, /*lo_open=*/false,
                       "a number of MiB from 0 to 1000000000"));
  AddOptional(override_set, "--battery-pct", &oo.battery_pct, "Battery charge, 0..100")
      ->type_name("PCT")
      ->check(NumberIn("--battery-pct", 0, 100, /*lo_open=*/false, "a number from 0 to 100"));
  override_set
      ->add_option_function<bool>(
          "--on-ac", [&](const bool& v) { oo.on_ac = v; },
          "Mains power: true or false (false with --battery-pct simulates discharging)")
      ->type_name("BOOL");
  AddOptional(override_set, "--temp-c", &oo.temp_c,
              "Hottest temperature, degrees Celsius, -273..300")
      ->type_name("C")
      ->check(NumberIn("--temp-c", -273, 300, /*lo_open=*/false,
                       "a number of degrees Celsius from -273 to 300"));
  AddOptional(override_set, "--cpu-busy", &oo.cpu_busy,
              "Outside CPU load as a fraction of all cores, 0..1 (e.g. 0.8)")
      ->type_name("FRACTION")
      ->check(NumberIn("--cpu-busy", 0, 1, /*lo_open=*/false,
                       "a fraction from 0 to 1 (0.8 = 80% busy)"));
  AddOptional(override_set, "--power-w", &oo.power_w, "Package power, watts, >= 0")
      ->type_name("W")
      ->check(
          NumberIn("--power-w", 0, 1e6, /*lo_open=*/false, "a number of watts from 0 to 1000000"));
  override_set->callback([&] { rc = CmdOverrideSet(g, oo); });
  override_set->footer(CommandFooter(
      "  adaspringctl override set --memory-available-mb 80 --battery-pct 10 --on-ac=false\n"
      "  adaspringctl override set --cpu-busy 0.8\n"));
  auto* override_clear = override_cmd->add_subcommand("clear", "Remove every override");
  override_clear->callback([&] { rc = CmdOverrideClear(g); });
  override_clear->footer(CommandFooter("  adaspringctl override clear\n"));
  override_cmd->footer(CommandFooter(
      "  adaspringctl override set --memory-available-mb 80\n  adaspringctl override clear\n"));

  DemoOptions demo_opts;
  auto* demo = app.add_subcommand(
      "demo",
      "Start adaspringd with the bundled model, run three apps on Fashion-MNIST test images "
      "while a context scenario plays (memory squeeze, battery drop, heat, CPU load), once per "
      "policy, and write requests.csv, summary.json and plot.png");
  demo->add_option("--duration", demo_opts.duration_s,
                   "Seconds for all policies together (default 180)")
      ->type_name("S")
      ->check(NumberIn("--duration", 1, 1e6, /*lo_open=*/false,
                       "a number of seconds from 1 to 1000000"));
  demo->add_option("--out", demo_opts.out_dir, "Output directory (default demo-out)")
      ->type_name("DIR");
  demo->add_option("--scenario", demo_opts.scenario, "Scenario CSV (default: the bundled one)")
      ->type_name("FILE");
  demo->add_option("--daemon", demo_opts.daemon,
                   "adaspringd binary (default: next to adaspringctl, else in PATH)")
      ->type_name("FILE");
  demo->add_option("--models-dir", demo_opts.models_dir, "Models (default: the bundled ones)")
      ->type_name("DIR");
  demo->add_option("--data-dir", demo_opts.data_dir,
                   "Fashion-MNIST directory (default /usr/share/datasets/fashion-mnist)")
      ->type_name("DIR");
  demo->add_option("--policies", demo_opts.policies,
                   "Policies to run: adaptive, static_full, static_compressed (default all)")
      ->type_name("LIST")
      ->delimiter(',')
      ->check(OneOf("--policies", {"adaptive", "static_full", "static_compressed"}));
  demo->add_flag("--quiet", demo_opts.quiet, "No live view");
  demo->add_option("--app-nice", demo_opts.app_nice,
                   "Nice value of the apps (this process and its threads; default -5, as the "
                   "daemon's unit); the busy processes stay at 0")
      ->type_name("N")
      ->check(IntegerIn("--app-nice", -20, 19, "an integer from -20 to 19"));
  demo->add_option("--daemon-rt-priority", demo_opts.daemon_rt_priority,
                   "Run the daemon's threads under SCHED_RR at this priority (default 1; 0 = "
                   "normal scheduling at nice -5, as the unit's default)")
      ->type_name("N")
      ->check(IntegerIn("--daemon-rt-priority", 0, 99, "an integer from 0 to 99"));
  demo->add_option("--app-rt-priority", demo_opts.app_rt_priority,
                   "Run the apps (every thread of this process, gRPC's included) under SCHED_RR "
                   "at this priority (default 1; 0 = off: the apps run at --app-nice)")
      ->type_name("N")
      ->check(IntegerIn("--app-rt-priority", 0, 99, "an integer from 0 to 99"));
  demo->add_option("--cpu-wakeup-latency-us", demo_opts.cpu_wakeup_latency_us,
                   "Have the daemon hold a PM QoS request on the CPUs' wake-up latency while "
                   "it serves (scheduler.cpu_wakeup_latency_us; default 0 = no deep idle "
                   "states; -1 = none, the kernel's choice); needs root")
      ->type_name("US")
      ->check(
          IntegerIn("--cpu-wakeup-latency-us", -1, 2000000000, "an integer from -1 to 2000000000"));
  demo->callback([&] { rc = CmdDemo(g, demo_opts); });
  demo->footer(
      CommandFooter("  adaspringctl demo --duration 60 --out /tmp/demo\n"
                    "  adaspringctl demo --policies adaptive,static_full --quiet\n"));

  if (argc < 2) {
    std::cout << app.help();
    return kExitUsage;
  }
  // CLI11 reports an unknown command as "A subcommand is required"; name it instead.
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--socket" || a == "--admin-socket" || a == "--timeout") {
      ++i;
      continue;
    }
    if (a.empty() || a[0] == '-') continue;
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands({})) names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), a) == names.end()) {
      const std::string near = Closest(a, names);
      std::cerr << "adaspringctl: unknown command '" << a << "' ("
                << (near.empty() ? "" : "did you mean '" + near + "'? ")
                << "see 'adaspringctl --help')\n";
      return kExitUsage;
    }
    break;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e) == 0 ? kExitOk : kExitUsage;  // help, version
    std::cerr << "adaspringctl: " << ParseErrorMessage(app, e) << "\n";
    return kExitUsage;
  }
  return rc;
}

}  // namespace adaspring::ctl

int main(int argc, char** argv) { return adaspring::ctl::Main(argc, argv); }

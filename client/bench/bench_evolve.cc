// adaspring-bench evolve: evolution latency (DESIGN §3.3, issue 3) while inference keeps
// running on the current variant.
//
// A background thread runs batch-1 inference in a loop on the variant held in an
// atomic<shared_ptr>; the main thread evolves --switches configurations of three kinds and
// swaps each result in:
//   cold:        ClearCache() first (no cached variant, no shared layer; the per-model SVD
//                factors stay, as after PrecomputeFactorisations(), and oneDNN's own kernel
//                cache is not cleared: it was filled by Evolver::WarmUp(), which the daemon
//                runs when it loads a model; --no-warmup skips it), then a random
//                configuration;
//   incremental: a random neighbour of the current configuration not built before (its
//                other layers are shared);
//   cached:      a configuration built before and still in the LRU cache.
// stalled_runs counts background runs that waited for an evolution: runs that overlapped an
// Evolve() call and took longer than 10x the median run before any evolution. Runs never
// take the evolver's lock, so this is expected to be 0; the timing threshold is a check of
// that, noisy on a loaded machine.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "adaspring/engine/arch.h"
#include "adaspring/engine/bundle.h"
#include "adaspring/engine/variant.h"
#include "bench_registry.h"

namespace adaspring::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

int EvolveBench(int argc, char** argv) {
  CLI::App app{"Evolution latency (cold / incremental / cached) under running inference",
               "adaspring-bench evolve"};
  std::string arch_name, model_path;
  int switches = 100;
  bool json = false, no_warmup = false;
  auto* arch_opt = app.add_option(
      "--arch", arch_name,
      "built-in architecture, random weights: " + absl::StrJoin(engine::BuiltinArchNames(), ", "));
  auto* model_opt = app.add_option("--model", model_path, "model bundle (.asb)");
  arch_opt->excludes(model_opt);
  app.add_option("--switches", switches, "evolutions of each kind, >= 1 (default 100)")
      ->check(CLI::Range(1, 1000000));
  app.add_flag("--json", json, "one JSON object per line");
  bool no_winograd = false;
  app.add_flag("--no-winograd", no_winograd,
               "direct convolutions only (EvolverOptions::winograd = false)");
  app.add_flag("--no-warmup", no_warmup,
               "skip Evolver::WarmUp() (the daemon runs it at model load): cold evolutions "
               "then also wait for oneDNN to generate kernels");
  ADASPRING_BENCH_PARSE(app, argc, argv);
  if (arch_name.empty() == model_path.empty()) {
    std::fprintf(stderr, "evolve: give exactly one of --arch or --model\n");
    return 2;
  }
  std::shared_ptr<const engine::Model> model;
  if (!arch_name.empty()) {
    auto arch = engine::BuiltinArch(arch_name);
    if (!arch.ok()) {
      std::fprintf(stderr, "evolve: %s\n", arch.status().ToString().c_str());
      return 2;
    }
    model = engine::Model::Random(*arch, 1);
  } else {
    auto m = engine::ReadBundle(model_path);
    if (!m.ok()) {
      std::fprintf(stderr, "evolve: %s\n", m.status().ToString().c_str());
      return 1;
    }
    model = *m;
  }
  const engine::ConfigSpace& space = model->space();
  engine::EvolverOptions options;
  options.threads = 1;  // one core evolves, the other runs inference
  options.winograd = !no_winograd;
  const auto t_create = Clock::now();
  auto created = engine::Evolver::Create(model, options);
  if (!created.ok()) {
    std::fprintf(stderr, "evolve: %s\n", created.status().ToString().c_str());
    return 1;
  }
  engine::Evolver& evolver = **created;
  const double create_ms = Ms(t_create, Clock::now());
  const auto t_svd = Clock::now();
  const int svds = evolver.PrecomputeFactorisations();
  const double svd_ms = Ms(t_svd, Clock::now());
  const auto t_warm = Clock::now();
  const int warm_configs = no_warmup ? 0 : evolver.WarmUp();
  const double warm_ms = Ms(t_warm, Clock::now());

  auto first = evolver.Evolve(space.Full());
  if (!first.ok()) {
    std::fprintf(stderr, "evolve: %s\n", first.status().ToString().c_str());
    return 1;
  }
  std::atomic<std::shared_ptr<const engine::Variant>> current(*first);
  std::atomic<bool> stop{false}, evolving{false};
  std::atomic<int64_t> evolution_epoch{0};
  std::atomic<size_t> idle_count{0};
  std::vector<double> idle_ms, busy_ms;  // background thread only until joined
  std::thread background([&] {
    auto ws = engine::NewWorkspace(1);
    const engine::ArchSpec& a = model->arch();
    std::vector<float> in(static_cast<size_t>(a.in_channels) * a.in_height * a.in_width, 0.1f);
    std::vector<float> out(a.num_classes);
    while (!stop.load()) {
      const int64_t epoch_before = evolution_epoch.load();
      const bool during_before = evolving.load();
      auto v = current.load();
      const auto t0 = Clock::now();
      (void)v->Run(in.data(), 1, out.data(), ws.get());
      const double ms = Ms(t0, Clock::now());
      const bool overlapped =
          during_before || evolving.load() || evolution_epoch.load() != epoch_before;
      (overlapped ? busy_ms : idle_ms).push_back(ms);
      if (!overlapped) idle_count.fetch_add(1);
    }
  });
  // Let the background thread settle and collect idle runs.
  while (true) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // benchmark pacing, not sync
    if (idle_count.load() >= 200) break;
  }
  std::mt19937_64 rng(42);
  std::vector<double> cold, incremental, cached;
  std::vector<engine::Config> built;
  std::set<uint64_t> built_ids;
  auto evolve = [&](const engine::Config& c, std::vector<double>* sink) -> bool {
    evolving.store(true);
    const auto t0 = Clock::now();
    auto v = evolver.Evolve(c);
    const double ms = Ms(t0, Clock::now());
    evolving.store(false);
    evolution_epoch.fetch_add(1);
    if (!v.ok()) {
      std::fprintf(stderr, "evolve: %s\n", v.status().ToString().c_str());
      return false;
    }
    current.store(*v);  // the swap: runs in flight keep the old variant alive
    sink->push_back(ms);
    if (built_ids.insert(space.ToId(c)).second) built.push_back(space.Canonical(c));
    return true;
  };
  bool ok = true;
  for (int i = 0; i < switches && ok; ++i) {
    evolver.ClearCache();
    ok = evolve(space.Sample(rng), &cold);
  }
  engine::Config cur = space.Canonical(current.load()->config());
  for (int i = 0; i < switches && ok; ++i) {
    auto neighbours = space.Neighbours(cur);
    std::shuffle(neighbours.begin(), neighbours.end(), rng);
    const engine::Config* pick = nullptr;
    for (const auto& n : neighbours)
      if (!built_ids.count(space.ToId(n))) {
        pick = &n;
        break;
      }
    engine::Config next = pick ? *pick : space.Sample(rng);
    ok = evolve(next, pick ? &incremental : &cold);
    cur = space.Canonical(next);
  }
  // Cached: configurations of the incremental walk are still in the LRU.
  const int in_cache = std::min<int>(static_cast<int>(built.size()), 16);
  for (int i = 0; i < switches && ok; ++i) {
    const engine::Config c = built[built.size() - 1 - (i % in_cache)];
    ok = evolve(c, &cached);
  }
  stop.store(true);
  background.join();
  if (!ok) return 1;
  const double idle_p50 = Pct(idle_ms, 0.5);
  int stalled = 0;
  for (double ms : busy_ms) stalled += ms > 10 * idle_p50;
  const auto st = evolver.stats();
  const std::string name = model->meta().name.empty() ? model->arch().name : model->meta().name;
  if (json) {
    std::printf(
        "{\"bench\":\"evolve\",\"model\":\"%s\",\"switches\":%d,\"cold_p50_ms\":%.4f,"
        "\"cold_p99_ms\":%.4f,\"incremental_p50_ms\":%.4f,\"incremental_p99_ms\":%.4f,"
        "\"cached_p50_ms\":%.4f,\"cached_p99_ms\":%.4f,\"stalled_runs\":%d,"
        "\"background_runs\":%zu,\"runs_during_evolution\":%zu,\"run_p50_ms\":%.4f,"
        "\"create_ms\":%.1f,\"svd_precompute_ms\":%.1f,\"svds\":%d,\"reused_layers\":%llu,"
        "\"built_layers\":%llu,\"self_calibrated\":%s,\"warmup_ms\":%.1f,"
        "\"warmup_configs\":%d}\n",
        name.c_str(), switches, Pct(cold, 0.5), Pct(cold, 0.99), Pct(incremental, 0.5),
        Pct(incremental, 0.99), Pct(cached, 0.5), Pct(cached, 0.99), stalled,
        idle_ms.size() + busy_ms.size(), busy_ms.size(), idle_p50, create_ms, svd_ms, svds,
        static_cast<unsigned long long>(st.reused_layers),
        static_cast<unsigned long long>(st.built_layers), st.self_calibrated ? "true" : "false",
        warm_ms, warm_configs);
  } else {
    std::printf("%s: %d switches of each kind (evolver 1 thread, inference 1 thread)\n",
                name.c_str(), switches);
    std::printf("  cold        p50 %.3f ms  p99 %.3f ms (%zu)\n", Pct(cold, 0.5), Pct(cold, 0.99),
                cold.size());
    std::printf("  incremental p50 %.3f ms  p99 %.3f ms (%zu)\n", Pct(incremental, 0.5),
                Pct(incremental, 0.99), incremental.size());
    std::printf("  cached      p50 %.3f ms  p99 %.3f ms (%zu)\n", Pct(cached, 0.5),
                Pct(cached, 0.99), cached.size());
    std::printf("  background runs %zu (%zu during evolution), stalled %d, run p50 %.3f ms\n",
                idle_ms.size() + busy_ms.size(), busy_ms.size(), stalled, idle_p50);
    std::printf("  evolver create %.1f ms (self-calibrated: %s), %d SVDs in %.1f ms\n", create_ms,
                st.self_calibrated ? "yes" : "no", svds, svd_ms);
    std::printf("  warm-up %d configurations in %.1f ms%s\n", warm_configs, warm_ms,
                no_warmup ? " (skipped: --no-warmup)" : "");
  }
  return 0;
}

}  // namespace

ADASPRING_BENCH("evolve", "evolution latency: cold, incremental, cached, under inference",
                EvolveBench);

}  // namespace adaspring::bench

// adaspring-bench engine: in-process latency of one variant and its per-primitive overhead
// (DESIGN §3.4, issue 3).
//
// p50/p90/p99 over --reps runs of Variant::Run after warm-up; kernel_sum_ms is the sum of the
// medians of the variant's primitives each run alone (Variant::TimeLayersAlone), and
// overhead_ratio = p50_ms / kernel_sum_ms. The whole-network runs and the primitives-alone
// runs are interleaved in --rounds rounds, so that a burst of noise from the rest of the
// machine (a 2-vCPU VM here) falls on both sides of the ratio alike; each primitive's time is
// the median over the rounds of its per-round medians. Random weights for --arch (Model::Random,
// seed 1); int8 scales then come from the evolver's self-calibration.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
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
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

int EngineBench(int argc, char** argv) {
  CLI::App app{"Latency of one evolved variant and its per-primitive overhead",
               "adaspring-bench engine"};
  std::string arch_name, model_path, config_text = "full", precision;
  int threads = 1, batch = 1, reps = 200, layer_reps = 0, rounds = 10;
  bool json = false, verbose = false;
  auto* arch_opt = app.add_option(
      "--arch", arch_name,
      "built-in architecture, random weights: " + absl::StrJoin(engine::BuiltinArchNames(), ", "));
  auto* model_opt = app.add_option("--model", model_path, "model bundle (.asb)");
  arch_opt->excludes(model_opt);
  app.add_option("--config", config_text,
                 "full | smallest | narrowest | canonical text (default full)");
  app.add_option("--precision", precision, "f32 | int8 (overrides the config's)");
  app.add_option("--threads", threads, "OpenMP threads, 0..256 (default 1; 0 = all cores)")
      ->check(CLI::Range(0, 256));
  app.add_option("--batch", batch, "images per run, 1..256 (default 1)")
      ->check(CLI::Range(1, engine::kMaxBatch));
  app.add_option("--reps", reps, "timed runs (default 200)");
  app.add_option("--layer-reps", layer_reps, "runs per primitive alone (default: reps)");
  app.add_option("--rounds", rounds,
                 "rounds that interleave whole runs with primitives-alone runs, 1..reps "
                 "(default 10)");
  app.add_flag("--json", json, "one JSON object per line");
  app.add_flag("--verbose", verbose, "print each primitive's median time");
  bool no_winograd = false;
  app.add_flag("--no-winograd", no_winograd,
               "direct convolutions only (EvolverOptions::winograd = false)");
  ADASPRING_BENCH_PARSE(app, argc, argv);
  if (arch_name.empty() == model_path.empty()) {
    std::fprintf(stderr, "engine: give exactly one of --arch or --model\n");
    return 2;
  }
  if (reps < 1) reps = 1;
  if (layer_reps < 1) layer_reps = reps;
  rounds = std::clamp(rounds, 1, std::min(reps, layer_reps));
  std::shared_ptr<const engine::Model> model;
  if (!arch_name.empty()) {
    auto arch = engine::BuiltinArch(arch_name);
    if (!arch.ok()) {
      std::fprintf(stderr, "engine: %s\n", arch.status().ToString().c_str());
      return 2;
    }
    model = engine::Model::Random(*arch, 1);
  } else {
    auto m = engine::ReadBundle(model_path);
    if (!m.ok()) {
      std::fprintf(stderr, "engine: %s\n", m.status().ToString().c_str());
      return 1;
    }
    model = *m;
  }
  auto config = model->space().Parse(config_text);
  if (!config.ok()) {
    std::fprintf(stderr, "engine: %s\n", config.status().ToString().c_str());
    return 2;
  }
  if (precision == "int8") {
    config->precision = engine::Precision::kInt8;
  } else if (precision == "f32") {
    config->precision = engine::Precision::kF32;
  } else if (!precision.empty()) {
    std::fprintf(stderr, "engine: --precision must be f32 or int8\n");
    return 2;
  }
  engine::EvolverOptions options;
  options.threads = threads;
  options.winograd = !no_winograd;
  auto evolver = engine::Evolver::Create(model, options);
  if (!evolver.ok()) {
    std::fprintf(stderr, "engine: %s\n", evolver.status().ToString().c_str());
    return 1;
  }
  auto variant = (*evolver)->Evolve(*config);
  if (!variant.ok()) {
    std::fprintf(stderr, "engine: %s\n", variant.status().ToString().c_str());
    return 1;
  }
  const engine::Variant& v = **variant;
  auto ws = engine::NewWorkspace(threads);
  const engine::ArchSpec& a = model->arch();
  std::vector<float> input(static_cast<size_t>(batch) * a.in_channels * a.in_height * a.in_width);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.f, 1.f);
  for (float& x : input) x = normal(rng);
  std::vector<float> logits(static_cast<size_t>(batch) * a.num_classes);
  for (int i = 0; i < std::max(10, reps / 10); ++i) {
    if (absl::Status s = v.Run(input.data(), batch, logits.data(), ws.get()); !s.ok()) {
      std::fprintf(stderr, "engine: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  // Round r's share of `total` runs (the shares add up to total).
  auto share = [rounds](int total, int r) { return total * (r + 1) / rounds - total * r / rounds; };
  std::vector<double> ms;
  ms.reserve(reps);
  std::vector<std::vector<double>> layer_rounds;  // [layer][round] per-round medians
  for (int round = 0; round < rounds; ++round) {
    for (int i = 0; i < share(reps, round); ++i) {
      const auto t0 = Clock::now();
      (void)v.Run(input.data(), batch, logits.data(), ws.get());
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    auto alone = v.TimeLayersAlone(batch, share(layer_reps, round), ws.get());
    if (!alone.ok()) {
      std::fprintf(stderr, "engine: %s\n", alone.status().ToString().c_str());
      return 1;
    }
    layer_rounds.resize(alone->size());
    for (size_t l = 0; l < alone->size(); ++l) layer_rounds[l].push_back((*alone)[l]);
  }
  std::vector<double> layers;
  for (const std::vector<double>& r : layer_rounds) layers.push_back(Pct(r, 0.5));
  double kernel_sum = 0;
  for (double t : layers) kernel_sum += t;
  const double p50 = Pct(ms, 0.5), p90 = Pct(ms, 0.9), p99 = Pct(ms, 0.99);
  const std::string prec = v.config().precision == engine::Precision::kInt8 ? "int8" : "f32";
  const std::string name = model->meta().name.empty() ? a.name : model->meta().name;
  if (verbose) {
    const auto names = v.LayerNames();
    for (size_t i = 0; i < names.size(); ++i)
      std::fprintf(stderr, "  %-24s %8.4f ms\n", names[i].c_str(), layers[i]);
  }
  if (json) {
    std::printf(
        "{\"bench\":\"engine\",\"model\":\"%s\",\"config\":\"%s\",\"precision\":\"%s\","
        "\"threads\":%d,\"batch\":%d,\"reps\":%d,\"p50_ms\":%.4f,\"p90_ms\":%.4f,"
        "\"p99_ms\":%.4f,\"macs\":%lld,\"params\":%lld,\"weight_bytes\":%lld,"
        "\"packed_weight_bytes\":%lld,\"arena_bytes\":%lld,\"layers\":%d,"
        "\"kernel_sum_ms\":%.4f,\"overhead_ratio\":%.3f}\n",
        name.c_str(), v.text().c_str(), prec.c_str(), ws->threads(), batch, reps, p50, p90, p99,
        static_cast<long long>(v.stats().macs), static_cast<long long>(v.stats().params),
        static_cast<long long>(v.stats().weight_bytes),
        static_cast<long long>(v.PackedWeightBytes()), static_cast<long long>(v.ArenaBytes(batch)),
        v.num_layers(), kernel_sum, p50 / kernel_sum);
  } else {
    std::printf("%s  %s  (%s, %d threads, batch %d)\n", name.c_str(), v.text().c_str(),
                prec.c_str(), ws->threads(), batch);
    std::printf("  latency p50 %.4f ms  p90 %.4f ms  p99 %.4f ms  (%d runs)\n", p50, p90, p99,
                reps);
    std::printf("  %d primitives, sum of medians alone %.4f ms, overhead ratio %.3f\n",
                v.num_layers(), kernel_sum, p50 / kernel_sum);
    std::printf("  %.1f MMACs, %lld params, weights %lld B (packed %lld B), arena %lld B\n",
                v.stats().macs / 1e6, static_cast<long long>(v.stats().params),
                static_cast<long long>(v.stats().weight_bytes),
                static_cast<long long>(v.PackedWeightBytes()),
                static_cast<long long>(v.ArenaBytes(batch)));
  }
  return 0;
}

}  // namespace

ADASPRING_BENCH("engine", "latency of one variant vs its primitives run alone", EngineBench);

}  // namespace adaspring::bench

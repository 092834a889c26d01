#include "search/profiler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "adaspring/engine/variant.h"

namespace adaspring::engine::search {
namespace {

// Block (global index) of a primitive named "s<stage>.b<block>.<...>", or -1.
int BlockOfLayer(const std::string& name, const NetSpec& net) {
  int s = 0, b = 0, n = 0;
  if (std::sscanf(name.c_str(), "s%d.b%d.%n", &s, &b, &n) != 2 || n == 0) return -1;
  for (const BlockSpec& blk : net.blocks)
    if (blk.stage == s && blk.index == b) return blk.global_index;
  return -1;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace

void FitScaleAndOverhead(const std::vector<double>& alone_us, const std::vector<int>& primitives,
                         const std::vector<double>& run_us, double* scale,
                         double* per_primitive_us) {
  // Weighted by 1 / run^2: minimises the relative error, which is what matters for small and
  // large configurations alike (and what the MAPE measures).
  double saa = 0, sap = 0, spp = 0, sar = 0, spr = 0, sumr = 0, suma = 0;
  for (size_t i = 0; i < run_us.size(); ++i) {
    const double a = alone_us[i], p = primitives[i], r = run_us[i];
    if (!(r > 0)) continue;
    const double w = 1 / (r * r);
    saa += w * a * a;
    sap += w * a * p;
    spp += w * p * p;
    sar += w * a * r;
    spr += w * p * r;
    sumr += w * r * a;
    suma += w * a * a;
  }
  const double det = saa * spp - sap * sap;
  if (run_us.size() >= 4 && det > 1e-9 * saa * spp) {
    const double s = (sar * spp - spr * sap) / det;
    const double o = (saa * spr - sap * sar) / det;
    if (s > 0 && o >= 0) {
      *scale = s;
      *per_primitive_us = o;
      return;
    }
  }
  // Scale only (weighted least squares through the origin).
  *scale = suma > 0 ? sumr / suma : 1.0;
  *per_primitive_us = 0;
}

absl::StatusOr<ProfileOutput> ProfileVariants(std::shared_ptr<const Model> model,
                                              const LayerIndex& index, int threads, int reps,
                                              const std::vector<bool>& wanted,
                                              Evolver* shared_evolver) {
  const ConfigSpace& space = model->space();
  const NetSpec& net = space.net();
  std::unique_ptr<Evolver> own;
  Evolver* evolver = shared_evolver;
  if (evolver == nullptr) {
    EvolverOptions evolver_options;
    evolver_options.threads = threads;  // primitives are created for the profiled thread count
    auto created = Evolver::Create(model, evolver_options);
    if (!created.ok()) return created.status();
    own = std::move(*created);
    evolver = own.get();
  }
  std::unique_ptr<Workspace> ws = NewWorkspace(threads);
  reps = std::max(reps, 1);

  const int max_choices = space.CoveringCount();

  std::map<int, std::vector<double>> samples_us;  // variant -> observations
  std::map<int, int> prims_of;
  std::vector<double> fit_alone, fit_run;
  std::vector<int> fit_prims;
  ProfileOutput out;
  const std::vector<float> input(static_cast<size_t>(space.arch().in_channels) *
                                     space.arch().in_height * space.arch().in_width,
                                 0.f);
  std::vector<float> logits(space.arch().num_classes);

  for (Precision p : {Precision::kF32, Precision::kInt8}) {
    for (int k = 0; k < max_choices; ++k) {
      const Config c = space.Covering(k, p);
      bool useful = false;
      index.ForEachVariant(space, c, [&](int v) { useful = useful || wanted[v]; });
      if (!useful) continue;
      auto variant = evolver->Evolve(c);
      if (!variant.ok()) {
        out.skipped.push_back(absl::StrCat(space.ToText(c), ": ", variant.status().ToString()));
        break;  // the other configurations of this precision fail alike
      }
      const std::vector<std::string> names = (*variant)->LayerNames();
      auto times_ms = (*variant)->TimeLayersAlone(1, reps, ws.get());
      if (!times_ms.ok()) return times_ms.status();
      // Per block of this configuration: summed time and primitive count.
      std::vector<double> block_us(net.blocks.size() + 1, 0);
      std::vector<int> block_prims(net.blocks.size() + 1, 0);
      for (size_t i = 0; i < names.size() && i < times_ms->size(); ++i) {
        int b = BlockOfLayer(names[i], net);
        if (b < 0) b = static_cast<int>(net.blocks.size());  // fixed part
        block_us[b] += (*times_ms)[i] * 1000.0;
        block_prims[b] += 1;
      }
      double alone_sum = 0;
      int prims = 0;
      for (size_t b = 0; b <= net.blocks.size(); ++b) {
        const int v = b < net.blocks.size() ? index.BlockVariant(static_cast<int>(b),
                                                                 c.width_idx[b], c.rank_idx[b], p)
                                            : index.FixedVariant(p);
        samples_us[v].push_back(block_us[b]);
        prims_of[v] = block_prims[b];
        alone_sum += block_us[b];
        prims += block_prims[b];
      }
      // The whole network: warm up, then the median of `reps` runs.
      std::vector<double> run_us;
      for (int r = 0; r < reps + 2; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        absl::Status s = (*variant)->Run(input.data(), 1, logits.data(), ws.get());
        const auto t1 = std::chrono::steady_clock::now();
        if (!s.ok()) return s;
        if (r >= 2) run_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
      fit_alone.push_back(alone_sum);
      fit_prims.push_back(prims);
      fit_run.push_back(Median(run_us));
      ++out.configs;
    }
  }
  if (samples_us.empty())
    return absl::FailedPreconditionError(
        absl::StrCat("profiling ", space.arch().name, ": no configuration could be built",
                     out.skipped.empty() ? "" : ": " + out.skipped.front()));
  for (auto& [v, obs] : samples_us) {
    LatencyTable::Row row;
    row.us = Median(obs);
    row.primitives = prims_of[v];
    out.rows[index.key(v)] = row;
  }
  if (fit_run.size() >= 4) {
    FitScaleAndOverhead(fit_alone, fit_prims, fit_run, &out.scale, &out.per_primitive_us);
    out.fitted = true;
  }
  return out;
}

}  // namespace adaspring::engine::search

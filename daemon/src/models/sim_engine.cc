// SimEngine: a deterministic stand-in for the engine with the same contracts (see
// engine_facade.h). Costs follow a simple analytic model of the configuration (work
// proportional to active blocks x width / rank divisor, int8 halving latency and quartering
// weights); accuracy uses the shape of the engine's labelled prior. Variants compute a cheap
// deterministic function of the input, so the serving path, batching and swaps can be
// exercised quickly and exactly. Bundles are small text files "ASIMBND1 <arch> <seed> <name>".
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "models/engine_facade.h"

namespace adaspring::daemon {
namespace {

using engine::Config;
using engine::ConfigCost;

class SimScratch final : public Scratch {};

class SimVariant final : public ServedVariant {
 public:
  SimVariant(const engine::Model& model, Config config, const ConfigCost& cost, double slowdown)
      : config_(std::move(config)),
        sleep_us_(static_cast<int64_t>(cost.latency_us * slowdown)),
        text_(model.space().ToText(config_)),
        id_(model.space().ToId(config_)),
        classes_(model.arch().num_classes),
        image_elems_(static_cast<int64_t>(model.arch().in_channels) * model.arch().in_height *
                     model.arch().in_width) {
    weight_bytes_ = cost.memory_bytes * 3 / 4;
  }
  const Config& config() const override { return config_; }
  const std::string& text() const override { return text_; }
  uint64_t id() const override { return id_; }
  int64_t weight_bytes() const { return weight_bytes_; }
  absl::Status Run(const float* input, int batch, float* logits, Scratch*) const override {
    if (batch < 1 || batch > 256) {
      return absl::InvalidArgumentError(absl::StrCat("batch ", batch, " outside 1..256"));
    }
    if (sleep_us_ > 0) std::this_thread::sleep_for(std::chrono::microseconds(sleep_us_));
    // Logit k of an image = mean pixel x (k + 1) + a per-configuration offset: the output
    // depends on the input (tests check batching keeps images apart) and on the variant.
    for (int b = 0; b < batch; ++b) {
      double sum = 0;
      const float* x = input + b * image_elems_;
      for (int64_t i = 0; i < image_elems_; ++i) sum += x[i];
      const double mean = sum / static_cast<double>(image_elems_);
      for (int k = 0; k < classes_; ++k) {
        logits[b * classes_ + k] = static_cast<float>(mean * (k + 1) + (id_ % 97) * 1e-3);
      }
    }
    return absl::OkStatus();
  }

 private:
  Config config_;
  int64_t sleep_us_ = 0;
  std::string text_;
  uint64_t id_;
  int64_t weight_bytes_ = 0;
  int classes_;
  int64_t image_elems_;
};

ConfigCost SimCost(const engine::ConfigSpace& space, const Config& c, double correction) {
  const engine::NetSpec& net = space.net();
  double work = 0, capacity = 0;
  for (int b = 0; b < space.num_blocks(); ++b) {
    const engine::BlockSpec& blk = net.blocks[b];
    if (!space.BlockActive(c, b)) continue;
    const double width = static_cast<double>(space.InnerChannels(c, b)) / blk.max_inner;
    const double rank = 1.0 / space.RankDivisor(c, b);
    work += (blk.global_index + 1) * width * (0.4 + 0.6 * rank);
    capacity += (0.5 + 0.5 * width) * (0.75 + 0.25 * rank);
  }
  capacity /= std::max(1, space.num_blocks());
  const bool int8 = c.precision == engine::Precision::kInt8;
  ConfigCost cost;
  cost.latency_us = (100.0 + 60.0 * work) * (int8 ? 0.5 : 1.0) * correction;
  cost.memory_bytes = static_cast<int64_t>((1 << 20) + work * (int8 ? 1 << 17 : 1 << 19));
  cost.energy_uj = cost.latency_us * 2.0;  // 2 W x latency, estimated
  cost.energy_estimated = true;
  cost.accuracy = 0.60 + 0.35 * std::sqrt(capacity) - (int8 ? 0.003 : 0.0);
  cost.macs = static_cast<int64_t>(work * 1e5);
  return cost;
}

bool SimDominates(const ConfigCost& a, const ConfigCost& b) {
  const bool no_worse = a.accuracy >= b.accuracy && a.latency_us <= b.latency_us &&
                        a.memory_bytes <= b.memory_bytes && a.energy_uj <= b.energy_uj;
  const bool better = a.accuracy > b.accuracy || a.latency_us < b.latency_us ||
                      a.memory_bytes < b.memory_bytes || a.energy_uj < b.energy_uj;
  return no_worse && better;
}

bool Satisfies(const ConfigCost& c, const engine::AppConstraints& k, std::string* binding) {
  if (k.latency_budget_us > 0 && c.latency_us > k.latency_budget_us) {
    *binding = "latency_budget_us";
  } else if (k.memory_cap_bytes > 0 && c.memory_bytes > k.memory_cap_bytes) {
    *binding = "memory_cap_bytes";
  } else if (k.energy_budget_uj > 0 && c.energy_uj > k.energy_budget_uj) {
    *binding = "energy_budget_uj";
  } else if (c.accuracy + 1e-12 < k.min_accuracy) {
    *binding = "min_accuracy";
  } else {
    return true;
  }
  return false;
}

class SimBackend final : public ModelBackend {
 public:
  SimBackend(std::shared_ptr<const engine::Model> model, double slowdown)
      : model_(std::move(model)), slowdown_(slowdown) {
    // Frontier over "uniform" configurations: one depth, width, rank and precision for all.
    const engine::ConfigSpace& space = model_->space();
    int max_depth = 1, widths = 1, ranks = 1;
    for (const auto& st : model_->arch().stages) max_depth = std::max(max_depth, st.num_blocks);
    for (const auto& blk : space.net().blocks) {
      widths = std::max<int>(widths, static_cast<int>(blk.inner_choices.size()));
      ranks = std::max(ranks, blk.rank_choices);
    }
    std::vector<engine::FrontierPoint> all;
    for (int p = 0; p < 2; ++p) {
      for (int d = 1; d <= max_depth; ++d) {
        for (int w = 0; w < widths; ++w) {
          for (int r = 0; r < ranks; ++r) {
            Config c = space.Full(p ? engine::Precision::kInt8 : engine::Precision::kF32);
            for (int s = 0; s < space.num_stages(); ++s) {
              c.depth[s] = static_cast<uint8_t>(std::min(d, model_->arch().stages[s].num_blocks));
            }
            for (int b = 0; b < space.num_blocks(); ++b) {
              const auto& blk = space.net().blocks[b];
              c.width_idx[b] = static_cast<uint8_t>(
                  std::min<int>(w, static_cast<int>(blk.inner_choices.size()) - 1));
              c.rank_idx[b] = static_cast<uint8_t>(std::min(r, blk.rank_choices - 1));
            }
            c = space.Canonical(c);
            all.push_back({c, SimCost(space, c, 1.0)});
          }
        }
      }
    }
    for (size_t i = 0; i < all.size(); ++i) {
      bool dominated = false;
      for (size_t j = 0; j < all.size() && !dominated; ++j) {
        dominated = j != i && (SimDominates(all[j].cost, all[i].cost) ||
                               (j < i && all[j].config == all[i].config));
      }
      if (!dominated) frontier_.push_back(all[i]);
    }
    std::sort(frontier_.begin(), frontier_.end(),
              [](const auto& a, const auto& b) { return a.cost.latency_us < b.cost.latency_us; });
  }

  const std::shared_ptr<const engine::Model>& model() const override { return model_; }

  absl::StatusOr<std::shared_ptr<const ServedVariant>> Evolve(const Config& config) override {
    if (absl::Status s = model_->space().Validate(config); !s.ok()) return s;
    const Config canonical = model_->space().Canonical(config);
    const uint64_t id = model_->space().ToId(canonical);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(id);
    if (it != cache_.end()) return it->second;
    auto v = std::make_shared<SimVariant>(*model_, canonical,
                                          SimCost(model_->space(), canonical, 1.0), slowdown_);
    cache_[id] = v;
    cache_bytes_ += v->weight_bytes();
    return std::shared_ptr<const ServedVariant>(v);
  }

  ConfigCost Predict(const Config& config) const override {
    std::lock_guard<std::mutex> lock(mu_);
    return SimCost(model_->space(), config, correction_);
  }

  engine::SearchResult Best(const engine::AppConstraints& k) const override {
    std::lock_guard<std::mutex> lock(mu_);
    engine::SearchResult best;
    for (const auto& p : frontier_) {
      std::string binding;
      const ConfigCost cost = SimCost(model_->space(), p.config, correction_);
      if (Satisfies(cost, k, &binding) &&
          (!best.feasible || (k.prefer_energy ? cost.energy_uj < best.cost.energy_uj
                                              : cost.accuracy > best.cost.accuracy))) {
        best = {p.config, cost, true, ""};
      }
    }
    if (!best.feasible && !frontier_.empty()) {
      best.config = frontier_.front().config;
      best.cost = SimCost(model_->space(), best.config, correction_);
      Satisfies(best.cost, k, &best.binding);
    }
    return best;
  }

  // Without a slowdown sim costs are exact (and runs take microseconds, which must not be
  // mistaken for a 100x speed-up); with one, correct like the real cost model (EWMA of
  // observed / predicted).
  void ObserveLatency(const Config& config, double measured_us) override {
    if (slowdown_ <= 0) return;
    const double raw = SimCost(model_->space(), config, 1.0).latency_us;
    std::lock_guard<std::mutex> lock(mu_);
    correction_ = 0.7 * correction_ + 0.3 * (measured_us / raw);
  }
  void RefreshFrontier() override {}
  absl::Status Profile(bool) override {
    profiled_ = true;
    return absl::OkStatus();
  }
  bool profiled() const override { return profiled_; }
  std::vector<std::pair<std::string, double>> LayerTable() const override { return {{"sim", 0.0}}; }
  size_t frontier_size() const override { return frontier_.size(); }
  int WarmUp() override { return 0; }
  int64_t cache_bytes() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return cache_bytes_;
  }
  std::vector<engine::FrontierPoint> FrontierPoints() const override {
    std::vector<engine::FrontierPoint> points = frontier_;
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& p : points) p.cost = SimCost(model_->space(), p.config, correction_);
    return points;
  }

 private:
  std::shared_ptr<const engine::Model> model_;
  const double slowdown_;
  std::vector<engine::FrontierPoint> frontier_;
  mutable std::mutex mu_;
  std::map<uint64_t, std::shared_ptr<const ServedVariant>> cache_;
  int64_t cache_bytes_ = 0;
  double correction_ = 1.0;
  std::atomic<bool> profiled_{false};
};

}  // namespace

engine::JointResult SimJoint(const std::vector<PlanDemand>& demands,
                             const engine::DeviceBudget& budget,
                             const engine::HysteresisOptions& hysteresis);

class SimEngine final : public EngineFacade {
 public:
  explicit SimEngine(double slowdown) : slowdown_(slowdown) {}
  const char* name() const override { return "sim"; }

  absl::StatusOr<std::shared_ptr<const engine::Model>> ReadBundle(
      const std::string& path) override {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
    std::string magic, arch_name, name;
    uint64_t seed = 0;
    in >> magic >> arch_name >> seed >> name;
    if (magic != "ASIMBND1") {
      return absl::InvalidArgumentError(absl::StrCat(path, ": bad magic (not a bundle)"));
    }
    absl::StatusOr<engine::ArchSpec> arch = engine::BuiltinArch(arch_name);
    if (!arch.ok() || name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": damaged header"));
    }
    std::shared_ptr<engine::Model> random = engine::Model::Random(*arch, seed);
    engine::TensorStore views;
    for (const auto& [tensor, entry] : random->tensors().entries()) {
      views.AddView(tensor, entry.shape, entry.data);
    }
    views.SetKeepAlive(random);
    engine::ModelMeta meta = random->meta();
    meta.name = name;
    auto model = std::make_shared<engine::Model>(*arch, meta, std::move(views));
    model->source_path = path;
    return std::shared_ptr<const engine::Model>(model);
  }

  absl::Status WriteBundle(const engine::Model& model, const std::string& path) override {
    std::ofstream out(path, std::ios::trunc);
    uint64_t seed = 1;
    const std::string& v = model.meta().version;
    if (v.rfind("random-", 0) == 0) seed = std::strtoull(v.c_str() + 7, nullptr, 10);
    out << "ASIMBND1 " << model.arch().name << " " << seed << " " << model.meta().name << "\n";
    out.close();
    if (!out) return absl::InternalError(absl::StrCat(path, ": write failed"));
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<ModelBackend>> Prepare(std::shared_ptr<const engine::Model> model,
                                                        const BackendOptions&) override {
    return std::unique_ptr<ModelBackend>(new SimBackend(std::move(model), slowdown_));
  }

  std::unique_ptr<Scratch> NewScratch(int) override { return std::make_unique<SimScratch>(); }

  engine::JointResult Joint(const std::vector<PlanDemand>& demands,
                            const engine::DeviceBudget& budget,
                            const engine::HysteresisOptions& hysteresis) override {
    return SimJoint(demands, budget, hysteresis);
  }

 private:
  const double slowdown_;
};

std::unique_ptr<EngineFacade> NewSimEngine(double compute_slowdown) {
  return std::make_unique<SimEngine>(compute_slowdown);
}

}  // namespace adaspring::daemon

#include <algorithm>
#include <cmath>
#include <random>

#include "absl/strings/str_cat.h"
#include "exec/evolver.h"

namespace adaspring::engine {
namespace exec {

absl::StatusOr<std::map<std::string, float>> CalibrateWith(Evolver& evolver,
                                                           const std::vector<Config>& configs,
                                                           const float* images, int count) {
  if (count < 1 || images == nullptr)
    return absl::InvalidArgumentError("calibration needs at least one image");
  const Model& model = evolver.model();
  const ArchSpec& a = model.arch();
  const int64_t image_size = static_cast<int64_t>(a.in_channels) * a.in_height * a.in_width;
  std::map<std::string, float> amax;
  float in_max = 0;
  for (int64_t i = 0; i < image_size * count; ++i) in_max = std::max(in_max, std::fabs(images[i]));
  amax["input"] = in_max;
  auto ws = NewWorkspace(0);
  const int chunk = std::min(count, 16);
  std::vector<float> logits(static_cast<size_t>(chunk) * a.num_classes);
  for (Config c : configs) {
    c.precision = Precision::kF32;  // scales come from the f32 network
    auto v = evolver.Evolve(c);
    if (!v.ok()) return v.status();
    const auto& impl = static_cast<const VariantImpl&>(**v);
    for (int start = 0; start < count; start += chunk) {
      const int n = std::min(chunk, count - start);
      absl::Status s = impl.RunWithHook(images + start * image_size, n, logits.data(), ws.get(),
                                        [&](int layer, const float* data, int64_t size) {
                                          float m = 0;
                                          for (int64_t i = 0; i < size; ++i)
                                            m = std::max(m, std::fabs(data[i]));
                                          float& slot = amax[impl.plan().layers[layer].dst_q];
                                          slot = std::max(slot, m);
                                        });
      if (!s.ok()) return s;
    }
  }
  // A point that stayed exactly zero on every calibration image (a dead channel group, an
  // all-black input set) would give a zero scale, which bundles refuse: any small positive
  // range quantises those zeros exactly.
  for (auto& [point, m] : amax) m = std::max(m, 1e-6f);
  return amax;
}

absl::StatusOr<std::map<std::string, float>> SelfCalibrate(Evolver& evolver) {
  const Model& model = evolver.model();
  const ConfigSpace& space = model.space();
  const ArchSpec& a = model.arch();
  // Every width and rank choice appears: full and narrowest width at each rank choice, plus a
  // few random configurations (fixed seed) for the depth-dependent block inputs.
  std::vector<Config> configs;
  int max_rank_choices = 1;
  for (const BlockSpec& b : model.net().blocks)
    max_rank_choices = std::max(max_rank_choices, b.rank_choices);
  for (int r = 0; r < max_rank_choices; ++r) {
    for (Config c : {space.Full(Precision::kF32), space.Narrowest(Precision::kF32)}) {
      for (const BlockSpec& b : model.net().blocks)
        c.rank_idx[b.global_index] = static_cast<uint8_t>(std::min(r, b.rank_choices - 1));
      configs.push_back(c);
    }
  }
  std::mt19937_64 rng(0xada5);
  for (int i = 0; i < 4; ++i) configs.push_back(space.Sample(rng));
  // About 32 images of 28x28x1 worth of pixels, at least 2.
  const int64_t image_size = static_cast<int64_t>(a.in_channels) * a.in_height * a.in_width;
  const int count = static_cast<int>(std::clamp<int64_t>(32 * 784 / image_size, 2, 32));
  std::vector<float> images(static_cast<size_t>(image_size * count));
  std::normal_distribution<float> normal(0.f, 1.f);
  for (float& x : images) x = normal(rng);
  return CalibrateWith(evolver, configs, images.data(), count);
}

}  // namespace exec

absl::StatusOr<std::map<std::string, float>> CalibrateActivations(
    const Model& model, const std::vector<Config>& configs, const float* images, int count) {
  if (absl::Status s = model.CheckTensors(); !s.ok()) return s;
  // A non-owning alias: the evolver lives only inside this call.
  std::shared_ptr<const Model> alias(&model, [](const Model*) {});
  exec::EvolverImpl evolver(alias, EvolverOptions{});
  return exec::CalibrateWith(evolver, configs, images, count);
}

}  // namespace adaspring::engine

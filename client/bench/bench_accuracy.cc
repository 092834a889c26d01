// adaspring-bench accuracy: a bundle's accuracy on a labelled TEST set, and its accuracy
// predictor's quality on configurations it was not fitted on.
//
//   adaspring-bench accuracy --model FILE.asb --data DIR [--configs N] [--threads N] --json
//   -> {"bench":"accuracy","model":...,"full_f32":...,"full_int8":...,"narrow_f32":...,
//       "smallest":...,"configs":N,"kendall_tau":...,"mae_pt":...,"images":...}
// Accuracies are fractions of DIR/t10k-*; `configs` random configurations (not among the
// bundle's fitted ones) are measured and compared with the bundle's predictor.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "adaspring/engine/bundle.h"
#include "adaspring/engine/predictor.h"
#include "adaspring/engine/train/dataset.h"
#include "adaspring/engine/train/layers.h"
#include "adaspring/engine/variant.h"
#include "bench_registry.h"

namespace {

using adaspring::engine::Config;
using adaspring::engine::Precision;
namespace train = adaspring::engine::train;

struct TestSet {
  int count = 0;
  int64_t image_size = 0;
  std::vector<float> images;
  std::vector<int32_t> labels;
};

absl::StatusOr<double> Accuracy(adaspring::engine::Evolver& evolver,
                                adaspring::engine::Workspace* ws, const Config& c,
                                const TestSet& set) {
  auto v = evolver.Evolve(c);
  if (!v.ok()) return v.status();
  const int classes = evolver.model().net().num_classes;
  const int batch = adaspring::engine::kMaxBatch;
  std::vector<float> logits(static_cast<size_t>(batch) * classes);
  int64_t correct = 0;
  for (int start = 0; start < set.count; start += batch) {
    const int n = std::min(batch, set.count - start);
    if (auto s = (*v)->Run(set.images.data() + start * set.image_size, n, logits.data(), ws);
        !s.ok())
      return s;
    correct += train::CountCorrect(logits.data(), set.labels.data() + start, n, classes);
  }
  return static_cast<double>(correct) / set.count;
}

int AccuracyBench(int argc, char** argv) {
  CLI::App app{"Accuracy of a bundle on a test set and of its accuracy predictor"};
  std::string model_path, data_dir;
  int configs = 100, threads = 0, max_images = 0;
  uint64_t seed = 7;
  bool json = false;
  app.add_option("--model", model_path, "bundle (.asb)")->required();
  app.add_option("--data", data_dir, "directory with t10k-{images-idx3,labels-idx1}-ubyte[.gz]")
      ->required();
  app.add_option("--configs", configs,
                 "random held-out configurations for the predictor (0: headline figures only; "
                 "tau then prints as null)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--threads", threads, "OpenMP threads (0 = all cores)")->capture_default_str();
  app.add_option("--max-images", max_images, "use only the first N test images (0 = all)");
  app.add_option("--seed", seed, "configuration sampling seed")->capture_default_str();
  app.add_flag("--json", json, "one JSON object per line");
  CLI11_PARSE(app, argc, argv);

  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "adaspring-bench accuracy: %s\n", s.ToString().c_str());
    return 1;
  };
  auto model = adaspring::engine::ReadBundle(model_path);
  if (!model.ok()) return fail(model.status());
  auto data = train::LoadSplit(data_dir, "t10k");
  if (!data.ok()) return fail(data.status());
  const adaspring::engine::ArchSpec& arch = (*model)->arch();
  if (data->channels != arch.in_channels || data->height != arch.in_height ||
      data->width != arch.in_width)
    return fail(absl::InvalidArgumentError("test images do not match the model's input shape"));
  train::SetTrainingThreads(threads);

  TestSet set;
  set.count = max_images > 0 ? std::min(max_images, data->count) : data->count;
  set.image_size = data->image_size();
  set.images.resize(static_cast<size_t>(set.count) * set.image_size);
  set.labels.resize(set.count);
  std::vector<int> idx(set.count);
  std::iota(idx.begin(), idx.end(), 0);
  train::Normalization norm{(*model)->meta().mean, (*model)->meta().std};
  if (norm.mean.size() != static_cast<size_t>(arch.in_channels) ||
      norm.std.size() != norm.mean.size())
    return fail(absl::InvalidArgumentError("bundle has no per-channel input normalisation"));
  train::MakeBatch(*data, idx.data(), set.count, norm, train::Augment{}, nullptr, set.images.data(),
                   set.labels.data());

  adaspring::engine::EvolverOptions eo;
  eo.threads = threads;
  auto evolver = adaspring::engine::Evolver::Create(*model, eo);
  if (!evolver.ok()) return fail(evolver.status());
  auto ws = adaspring::engine::NewWorkspace(threads);
  const adaspring::engine::ConfigSpace& space = (*model)->space();

  double full_f32 = 0, full_int8 = 0, narrow = 0, smallest = 0;
  struct Headline {
    Config c;
    double* out;
  } heads[] = {{space.Full(Precision::kF32), &full_f32},
               {space.Full(Precision::kInt8), &full_int8},
               {space.Narrowest(Precision::kF32), &narrow},
               {space.Smallest(), &smallest}};
  for (const Headline& h : heads) {
    auto acc = Accuracy(**evolver, ws.get(), h.c, set);
    if (!acc.ok()) return fail(acc.status());
    *h.out = *acc;
  }

  // Held-out configurations: random, excluding those the predictor was fitted on.
  std::set<std::string> fitted;
  for (const auto& m : (*model)->measured)
    if (!m.heldout && m.split == "val") fitted.insert(m.config);
  auto estimator = adaspring::engine::MakeAccuracyEstimator(**model);
  std::mt19937_64 rng(seed);
  std::vector<double> measured, predicted;
  std::set<uint64_t> seen;
  while (static_cast<int>(measured.size()) < configs) {
    Config c = space.Canonical(space.Sample(rng));
    if (!seen.insert(space.ToId(c)).second || fitted.count(space.ToText(c))) continue;
    auto acc = Accuracy(**evolver, ws.get(), c, set);
    if (!acc.ok()) return fail(acc.status());
    measured.push_back(*acc);
    predicted.push_back(estimator->Predict(c));
    if (measured.size() % 64 == 0) (*evolver)->ClearCache();
  }
  double mae = 0;
  for (size_t i = 0; i < measured.size(); ++i) mae += std::abs(measured[i] - predicted[i]);
  mae = measured.empty() ? 0 : 100 * mae / measured.size();
  const double tau = adaspring::engine::AccuracyPredictor::KendallTau(measured, predicted);

  if (json) {
    std::printf(
        "{\"bench\":\"accuracy\",\"model\":\"%s\",\"full_f32\":%.4f,\"full_int8\":%.4f,"
        "\"narrow_f32\":%.4f,\"smallest\":%.4f,\"configs\":%d,\"kendall_tau\":%s,"
        "\"mae_pt\":%.3f,\"predictor\":\"%s\",\"images\":%d}\n",
        model_path.c_str(), full_f32, full_int8, narrow, smallest,
        static_cast<int>(measured.size()),
        // JSON has no NaN: tau is undefined for fewer than 2 configurations.
        std::isfinite(tau) ? absl::StrFormat("%.4f", tau).c_str() : "null", mae,
        std::string(estimator->kind()).c_str(), set.count);
  } else {
    std::printf("model %s on %d test images\n", model_path.c_str(), set.count);
    std::printf("  full f32 %.4f  full int8 %.4f  narrowest f32 %.4f  smallest %.4f\n", full_f32,
                full_int8, narrow, smallest);
    std::printf("  predictor (%s) on %zu held-out configs: Kendall tau %.3f, MAE %.2f pt\n",
                std::string(estimator->kind()).c_str(), measured.size(), tau, mae);
  }
  return 0;
}

}  // namespace

ADASPRING_BENCH("accuracy", "test-set accuracy of a bundle and its predictor's quality",
                AccuracyBench);

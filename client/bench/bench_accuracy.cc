// adaspring-bench accuracy: a bundle's accuracy on a labelled TEST set, and its accuracy
// predictor's quality on configurations it was not fitted on.
//
//   adaspring-bench accuracy --model FILE.asb --data DIR [--configs N] [--threads N] --json
//   -> {"bench":"accuracy","model":...,"full_f32":...,"full_int8":...,"narrow_f32":...,
//       "smallest":...,"configs":N,"kendall_tau":...,"mae_pt":...,"images":...,
//       "split_half_tau":...,"tau_noise_ceiling":...}
// Accuracies are fractions of DIR/t10k-*; `configs` random configurations (not among the
// bundle's fitted ones) are measured and compared with the bundle's predictor. A figure that
// is not defined for so few configurations (tau needs 2, MAE 1) is null in JSON and "n/a" in
// the text output.
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

struct Measured {
  double all = 0;            // accuracy on the whole set
  double even = 0, odd = 0;  // on the even- and odd-numbered images
};

absl::StatusOr<Measured> Accuracy(adaspring::engine::Evolver& evolver,
                                  adaspring::engine::Workspace* ws, const Config& c,
                                  const TestSet& set) {
  auto v = evolver.Evolve(c);
  if (!v.ok()) return v.status();
  const int classes = evolver.model().net().num_classes;
  const int batch = adaspring::engine::kMaxBatch;
  std::vector<float> logits(static_cast<size_t>(batch) * classes);
  int64_t correct[2] = {0, 0};
  for (int start = 0; start < set.count; start += batch) {
    const int n = std::min(batch, set.count - start);
    if (auto s = (*v)->Run(set.images.data() + start * set.image_size, n, logits.data(), ws);
        !s.ok())
      return s;
    for (int i = 0; i < n; ++i)
      correct[(start + i) % 2] +=
          train::CountCorrect(logits.data() + static_cast<size_t>(i) * classes,
                              set.labels.data() + start + i, 1, classes);
  }
  Measured m;
  m.all = static_cast<double>(correct[0] + correct[1]) / set.count;
  m.even = static_cast<double>(correct[0]) / ((set.count + 1) / 2);
  m.odd = set.count > 1 ? static_cast<double>(correct[1]) / (set.count / 2) : 0;
  return m;
}

double Pearson(const std::vector<double>& a, const std::vector<double>& b) {
  const size_t n = a.size();
  if (n < 2) return 0;
  double ma = 0, mb = 0;
  for (size_t i = 0; i < n; ++i) ma += a[i], mb += b[i];
  ma /= n;
  mb /= n;
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < n; ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0;
}

int AccuracyBench(int argc, char** argv) {
  CLI::App app{"Accuracy of a bundle on a test set and of its accuracy predictor",
               "adaspring-bench accuracy"};
  std::string model_path, data_dir;
  int configs = 100, threads = 0, max_images = 0;
  uint64_t seed = 7;
  bool json = false;
  app.add_option("--model", model_path, "bundle (.asb)")->required();
  app.add_option("--data", data_dir, "directory with t10k-{images-idx3,labels-idx1}-ubyte[.gz]")
      ->required();
  app.add_option("--configs", configs,
                 "random held-out configurations for the predictor (0: headline figures only; "
                 "tau and MAE then print as null, or n/a without --json)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--threads", threads, "OpenMP threads, 0..256 (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  app.add_option("--max-images", max_images, "use only the first N test images (0 = all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", seed, "configuration sampling seed")->capture_default_str();
  app.add_flag("--json", json, "one JSON object per line");
  ADASPRING_BENCH_PARSE(app, argc, argv);

  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "adaspring-bench accuracy: %s\n", s.ToString().c_str());
    return 1;
  };
  auto model = adaspring::engine::ReadBundle(model_path);
  if (!model.ok()) return fail(model.status());
  auto data = train::LoadSplit(data_dir, "t10k");
  if (!data.ok()) return fail(data.status());
  const adaspring::engine::ArchSpec& arch = (*model)->arch();
  if (absl::Status s = train::CheckImageShape(*data, arch.in_channels, arch.in_height,
                                              arch.in_width, "the model's inputs");
      !s.ok())
    return fail(s);
  if (absl::Status s = train::CheckLabels(*data, arch.num_classes, "the model"); !s.ok())
    return fail(s);
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
    *h.out = acc->all;
  }

  // Held-out configurations: random, excluding those the predictor was fitted on.
  std::set<std::string> fitted;
  for (const auto& m : (*model)->measured)
    if (!m.heldout && m.split == "val") fitted.insert(m.config);
  auto estimator = adaspring::engine::MakeAccuracyEstimator(**model);
  std::mt19937_64 rng(seed);
  std::vector<double> measured, predicted, even, odd;
  std::set<uint64_t> seen;
  while (static_cast<int>(measured.size()) < configs) {
    Config c = space.Canonical(space.Sample(rng));
    if (!seen.insert(space.ToId(c)).second || fitted.count(space.ToText(c))) continue;
    auto acc = Accuracy(**evolver, ws.get(), c, set);
    if (!acc.ok()) return fail(acc.status());
    measured.push_back(acc->all);
    even.push_back(acc->even);
    odd.push_back(acc->odd);
    predicted.push_back(estimator->Predict(c));
    if (measured.size() % 64 == 0) (*evolver)->ClearCache();
  }
  double mae = 0;
  for (size_t i = 0; i < measured.size(); ++i) mae += std::abs(measured[i] - predicted[i]);
  mae = measured.empty() ? NAN : 100 * mae / measured.size();
  const double tau = adaspring::engine::AccuracyPredictor::KendallTau(measured, predicted);
  // How far test-set sampling noise alone limits tau. The configurations' accuracies on the
  // even- and odd-numbered images are two independent measurements of half the size:
  // split_half_tau is their agreement. Their correlation r, stepped up to the whole set
  // (Spearman-Brown: 2r / (1 + r)), is the share of the measured spread that is real; a
  // predictor knowing every configuration's true accuracy would correlate with the measured
  // one by sqrt of that, which for normal scores is a Kendall tau of (2/pi) asin(sqrt(.)):
  // tau_noise_ceiling.
  const double split_half_tau = adaspring::engine::AccuracyPredictor::KendallTau(even, odd);
  const double r_half = Pearson(even, odd);
  const double reliability = r_half > 0 ? 2 * r_half / (1 + r_half) : 0;
  const double tau_ceiling = 2 / M_PI * std::asin(std::sqrt(reliability));
  auto json_num = [](double v, int decimals = 4) {
    return std::isfinite(v) ? absl::StrFormat("%.*f", decimals, v) : std::string("null");
  };
  auto text_num = [](double v, int decimals) {
    return std::isfinite(v) ? absl::StrFormat("%.*f", decimals, v) : std::string("n/a");
  };

  if (json) {
    std::printf(
        "{\"bench\":\"accuracy\",\"model\":\"%s\",\"full_f32\":%.4f,\"full_int8\":%.4f,"
        "\"narrow_f32\":%.4f,\"smallest\":%.4f,\"configs\":%d,\"kendall_tau\":%s,"
        "\"mae_pt\":%s,\"predictor\":\"%s\",\"images\":%d,\"split_half_tau\":%s,"
        "\"tau_noise_ceiling\":%s}\n",
        model_path.c_str(), full_f32, full_int8, narrow, smallest,
        static_cast<int>(measured.size()),
        // JSON has no NaN: tau is undefined for fewer than 2 configurations, MAE for none.
        json_num(tau).c_str(), json_num(mae, 3).c_str(), std::string(estimator->kind()).c_str(),
        set.count, json_num(split_half_tau).c_str(),
        json_num(measured.size() >= 2 ? tau_ceiling : NAN).c_str());
  } else {
    std::printf("model %s on %d test images\n", model_path.c_str(), set.count);
    std::printf("  full f32 %.4f  full int8 %.4f  narrowest f32 %.4f  smallest %.4f\n", full_f32,
                full_int8, narrow, smallest);
    std::printf("  predictor (%s) on %zu held-out configs: Kendall tau %s, MAE %s%s\n",
                std::string(estimator->kind()).c_str(), measured.size(), text_num(tau, 3).c_str(),
                text_num(mae, 2).c_str(), std::isfinite(mae) ? " pt" : "");
    std::printf(
        "  test-set noise: split-half tau %s; a predictor of the true accuracies would reach "
        "tau %s\n",
        text_num(split_half_tau, 3).c_str(),
        measured.size() >= 2 ? ("~" + text_num(tau_ceiling, 3)).c_str() : "n/a");
  }
  return 0;
}

}  // namespace

ADASPRING_BENCH("accuracy", "test-set accuracy of a bundle and its predictor's quality",
                AccuracyBench);

// The supernet graph end to end on a tiny architecture: parameter gradients of a whole
// configuration (stem, strided blocks with downsample shortcut, residual adds, sliced widths,
// pooling, classifier, cross-entropy) against central finite differences; channel sorting
// keeps the full network's function; export passes the model's tensor check.
#include "adaspring/engine/train/supernet.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "adaspring/engine/train/layers.h"
#include "adaspring/engine/variant.h"

namespace adaspring::engine::train {
namespace {

// One OpenMP thread: these shapes are tiny, and the suite runs on a shared machine.
const int kThreads = (SetTrainingThreads(1), 1);

ArchSpec TinyArch() {
  ArchSpec a;
  a.name = "tiny";
  a.in_channels = 1;
  a.in_height = a.in_width = 6;
  a.num_classes = 3;
  a.stem_channels = 4;
  a.stages = {{8, 2, 2, 1}, {16, 1, 2, 1}};
  a.width_percent = {50, 100};
  return a;
}

struct Fixture {
  std::unique_ptr<Supernet> net;
  std::vector<float> images;
  std::vector<int32_t> labels;
  int n = 4;
};

Fixture Make(uint64_t seed) {
  Fixture f;
  auto net = Supernet::Create(TinyArch(), seed);
  EXPECT_TRUE(net.ok()) << net.status();
  f.net = std::move(*net);
  // Non-zero residual-branch gammas so every path carries gradient.
  for (Param& p : f.net->params())
    if (p.name.find(".bn2.gamma") != std::string::npos)
      std::fill(p.value.begin(), p.value.end(), 0.7f);
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  f.images.resize(static_cast<size_t>(f.n) * 36);
  for (float& x : f.images) x = d(rng);
  f.labels = {0, 2, 1, 2};
  return f;
}

double Loss(Fixture& f, const Config& c, std::vector<float>* diff) {
  const float* logits = f.net->Forward(c, f.images.data(), f.n, BnMode::kTrain);
  return SoftmaxCrossEntropy(logits, f.labels.data(), f.n, 3, diff ? diff->data() : nullptr);
}

// Exact gradients: low-rank truncation is off here (its gradient is a projected
// straight-through one by design, so finite differences would not match it).
void CheckConfig(const Config& c, uint64_t seed) {
  Fixture f = Make(seed);
  f.net->set_low_rank(false);
  std::vector<float> diff(f.n * 3);
  Loss(f, c, &diff);
  f.net->ZeroGrad();
  f.net->Backward(diff.data());
  std::mt19937 rng(seed + 1);
  int checked = 0, bad = 0;
  for (Param& p : f.net->params()) {
    // A few entries per tensor (all of them for small ones).
    const int samples = std::min<int>(6, static_cast<int>(p.value.size()));
    for (int s = 0; s < samples; ++s) {
      const size_t i = std::uniform_int_distribution<size_t>(0, p.value.size() - 1)(rng);
      const float keep = p.value[i];
      const float eps = 1e-2f;
      p.value[i] = keep + eps;
      const double up = Loss(f, c, nullptr);
      p.value[i] = keep - eps;
      const double down = Loss(f, c, nullptr);
      p.value[i] = keep;
      const double numeric = (up - down) / (2 * eps);
      const double analytic = p.grad[i];
      ++checked;
      if (std::abs(analytic - numeric) > 2e-2 * std::max(1.0, std::abs(numeric)) + 2e-3) {
        if (++bad <= 8)
          ADD_FAILURE() << p.name << "[" << i << "]: analytic " << analytic << " numeric "
                        << numeric;
      }
    }
  }
  EXPECT_GT(checked, 50);
  EXPECT_EQ(bad, 0);
}

TEST(SupernetTest, FullConfigGradientsMatchFiniteDifferences) {
  ConfigSpace space(TinyArch());
  CheckConfig(space.Full(Precision::kF32), 21);
}

TEST(SupernetTest, NarrowShallowConfigGradientsMatchFiniteDifferences) {
  ConfigSpace space(TinyArch());
  // Narrowest widths (sliced conv1 rows / conv2 input channels) and the second block skipped.
  CheckConfig(space.Smallest(Precision::kF32), 22);
  Config c = space.Full(Precision::kF32);
  c.width_idx[1] = 0;  // only the second block narrow
  CheckConfig(c, 23);
}

TEST(SupernetTest, InactiveSliceGetsNoGradient) {
  ConfigSpace space(TinyArch());
  Fixture f = Make(5);
  std::vector<float> diff(f.n * 3);
  Loss(f, space.Narrowest(Precision::kF32), &diff);
  f.net->ZeroGrad();
  f.net->Backward(diff.data());
  // Stage 1's block at 50% uses 8 of 16 inner channels (stage 0's 8-channel blocks cannot
  // shrink: widths round to multiples of 8): rows 8..15 of conv1 and input columns 8..15 of
  // conv2 must have exactly zero gradient, and the used slice must have some.
  const Param* w1 = f.net->FindParam("s1.b0.conv1.weight");  // [16, 8, 3, 3]
  double used = 0;
  for (size_t i = 0; i < w1->grad.size(); ++i) {
    if (i >= 8 * 72)
      ASSERT_EQ(w1->grad[i], 0.f) << i;
    else
      used += std::abs(w1->grad[i]);
  }
  EXPECT_GT(used, 0);
  const Param* w2 = f.net->FindParam("s1.b0.conv2.weight");  // [16, 16, 3, 3]
  for (int o = 0; o < 16; ++o)
    for (int j = 8; j < 16; ++j)
      for (int k = 0; k < 9; ++k) ASSERT_EQ(w2->grad[(o * 16 + j) * 9 + k], 0.f);
}

TEST(SupernetTest, SortingChannelsKeepsTheFullNetworkFunction) {
  ConfigSpace space(TinyArch());
  Fixture f = Make(9);
  const Config full = space.Full(Precision::kF32);
  std::vector<float> before(f.n * 3), after(f.n * 3);
  const float* out = f.net->Forward(full, f.images.data(), f.n, BnMode::kTrain);
  std::copy_n(out, before.size(), before.begin());
  f.net->SortChannelsByImportance();
  out = f.net->Forward(full, f.images.data(), f.n, BnMode::kTrain);
  std::copy_n(out, after.size(), after.begin());
  for (size_t i = 0; i < before.size(); ++i) EXPECT_NEAR(before[i], after[i], 1e-4);
  // Importance is now descending within every block.
  const Param* w1 = f.net->FindParam("s0.b0.conv1.weight");
  double prev = 1e30;
  for (int j = 0; j < 8; ++j) {
    double l1 = 0;
    for (int i = 0; i < 4 * 9; ++i) l1 += std::abs(w1->value[j * 36 + i]);
    EXPECT_LE(l1, prev + 1e-6);
    prev = l1;
  }
}

TEST(SupernetTest, SortingGivesNarrowRowsTheStatisticsOfTheChannelsThatMoveIn) {
  // s1.b0: 16 inner channels, width rows {8, 16}. Row 0 only ever saw channels 0..7; its
  // slots 8..15 hold values no channel owns (marked -7 here).
  Fixture f = Make(4);
  Param* w1 = f.net->FindParam("s1.b0.conv1.weight");  // [16, 8, 3, 3]
  for (int j = 0; j < 16; ++j)
    for (int i = 0; i < 72; ++i) w1->value[j * 72 + i] = 0.01f * (j + 1);  // reverse order
  BnStats& st = f.net->bn_stats().at("s1.b0.bn1");
  ASSERT_EQ(st.rows, 2);
  ASSERT_EQ(st.channels, 16);
  for (int j = 0; j < 16; ++j) {
    st.mean[16 + j] = 100.f + j;  // widest row
    st.var[16 + j] = 1.f + j;
    st.mean[j] = j < 8 ? 200.f + j : -7.f;
    st.var[j] = j < 8 ? 50.f + j : -7.f;
  }
  f.net->SortChannelsByImportance();
  for (int j = 0; j < 16; ++j) {
    const int c = 15 - j;  // the channel now in slot j
    EXPECT_EQ(st.mean[16 + j], 100.f + c) << j;
    EXPECT_EQ(st.var[16 + j], 1.f + c) << j;
    if (j < 8) {  // row 0's prefix: channels 15..8, never seen at width 8
      EXPECT_EQ(st.mean[j], 100.f + c) << j;
      EXPECT_EQ(st.var[j], 1.f + c) << j;
    }
  }
  // Sorting again changes nothing, and row 0 keeps what it now has.
  const std::vector<float> mean = st.mean, var = st.var;
  f.net->SortChannelsByImportance();
  for (int j = 0; j < 8; ++j) {
    EXPECT_EQ(st.mean[j], mean[j]) << j;
    EXPECT_EQ(st.var[j], var[j]) << j;
  }
}

TEST(SupernetTest, CalibratedStatisticsAndExportPassTheModelCheck) {
  ConfigSpace space(TinyArch());
  Fixture f = Make(3);
  f.net->BeginCalibration();
  for (int w = 0; w < 2; ++w) {
    Config c = space.Full(Precision::kF32);
    for (auto& x : c.width_idx) x = static_cast<uint8_t>(w);
    f.net->Forward(c, f.images.data(), f.n, BnMode::kCalibrate);
  }
  f.net->EndCalibration();
  // With one calibration batch, inference mode reproduces training mode exactly.
  const Config full = space.Full(Precision::kF32);
  std::vector<float> train(f.n * 3);
  const float* out = f.net->Forward(full, f.images.data(), f.n, BnMode::kTrain);
  std::copy_n(out, train.size(), train.begin());
  out = f.net->Forward(full, f.images.data(), f.n, BnMode::kInference);
  for (size_t i = 0; i < train.size(); ++i) EXPECT_NEAR(train[i], out[i], 1e-3);
  auto model = f.net->ExportModel(ModelMeta{});
  EXPECT_TRUE(model->CheckTensors().ok()) << model->CheckTensors();
}

// Low-rank-aware training runs a factorised conv with exactly the matrix the engine's SVD
// factorisation builds (rank-r truncation of the BN-folded slice): after calibration, the
// supernet's inference forward at a low-rank configuration equals the engine's factorised
// reference on the exported model, and differs from the full-rank forward.
TEST(SupernetTest, LowRankForwardMatchesTheEngineFactorisation) {
  ArchSpec arch = TinyArch();
  arch.stages = {{8, 2, 2, 1}, {32, 1, 2, 1}};  // stage 1 wide enough for rank 1/2 and 1/4
  ConfigSpace space(arch);
  auto created = Supernet::Create(arch, 9);
  ASSERT_TRUE(created.ok()) << created.status();
  Supernet& net = **created;
  const int n = 8;
  std::mt19937 rng(9);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> images(static_cast<size_t>(n) * 36);
  for (float& x : images) x = d(rng);
  for (Param& p : net.params())
    if (p.name.find("gamma") != std::string::npos)
      for (float& g : p.value) g = 0.5f + std::abs(d(rng));
  net.BeginCalibration();
  for (int w = 0; w < 2; ++w) {
    Config c = space.Full(Precision::kF32);
    for (auto& x : c.width_idx) x = static_cast<uint8_t>(w);
    net.Forward(c, images.data(), n, BnMode::kCalibrate);
  }
  net.EndCalibration();
  auto model = net.ExportModel(ModelMeta{});
  ASSERT_TRUE(model->CheckTensors().ok()) << model->CheckTensors();

  for (int r = 1; r < space.net().blocks[2].rank_choices; ++r) {
    Config c = space.Full(Precision::kF32);
    c.rank_idx[2] = static_cast<uint8_t>(r);
    std::vector<float> engine_logits(n * 3), full_logits(n * 3);
    ASSERT_TRUE(ReferenceForwardLowRank(*model, c, images.data(), n, engine_logits.data()).ok());
    ASSERT_TRUE(
        ReferenceForward(*model, space.Full(Precision::kF32), images.data(), n, full_logits.data())
            .ok());
    const float* out = net.Forward(c, images.data(), n, BnMode::kInference);
    double diff_engine = 0, diff_full = 0;
    for (int i = 0; i < n * 3; ++i) {
      diff_engine = std::max<double>(diff_engine, std::abs(out[i] - engine_logits[i]));
      diff_full = std::max<double>(diff_full, std::abs(out[i] - full_logits[i]));
    }
    EXPECT_LT(diff_engine, 2e-3) << space.ToText(c);
    // Training mode computes the same function: the reduced-rank block normalises with the
    // running statistics (frozen), the others with batch statistics, which equal the running
    // ones here (calibrated on this very batch).
    const float* trained = net.Forward(c, images.data(), n, BnMode::kTrain);
    double diff_train = 0;
    for (int i = 0; i < n * 3; ++i)
      diff_train = std::max<double>(diff_train, std::abs(trained[i] - engine_logits[i]));
    EXPECT_LT(diff_train, 2e-3) << space.ToText(c);
    EXPECT_GT(diff_full, 1e-2) << space.ToText(c) << ": the rank did not change the network";
  }
}

// The projected gradient of a reduced-rank conv (the default) differs from the
// straight-through one only in the conv's own weight gradient, and only by a part that does
// not move the student: changing the BN-folded weight M = diag(s) W along that part (the
// discarded singular directions on both sides) leaves the loss unchanged to first order,
// while the projected gradient's own direction changes it.
TEST(SupernetTest, ProjectedLowRankGradientDropsOnlyWhatTheTruncationCannotSee) {
  ArchSpec arch = TinyArch();
  arch.stages = {{8, 2, 2, 1}, {32, 1, 2, 1}};
  ConfigSpace space(arch);
  auto created = Supernet::Create(arch, 13);
  ASSERT_TRUE(created.ok()) << created.status();
  Supernet& net = **created;
  const int n = 8;
  std::mt19937 rng(13);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> images(static_cast<size_t>(n) * 36);
  for (float& x : images) x = d(rng);
  const std::vector<int32_t> labels = {0, 1, 2, 0, 1, 2, 0, 1};
  for (Param& p : net.params())
    if (p.name.find("gamma") != std::string::npos)
      for (float& g : p.value) g = 0.5f + std::abs(d(rng));
  net.BeginCalibration();
  net.Forward(space.Full(Precision::kF32), images.data(), n, BnMode::kCalibrate);
  net.EndCalibration();

  Config c = space.Full(Precision::kF32);
  c.rank_idx[2] = static_cast<uint8_t>(space.net().blocks[2].rank_choices - 1);  // lowest rank
  auto loss = [&](std::vector<float>* diff) {
    const float* logits = net.Forward(c, images.data(), n, BnMode::kTrain);
    return SoftmaxCrossEntropy(logits, labels.data(), n, 3, diff ? diff->data() : nullptr);
  };
  auto grads = [&](bool project) {
    net.set_project_low_rank_grad(project);
    std::vector<float> diff(n * 3);
    loss(&diff);
    net.ZeroGrad();
    net.Backward(diff.data());
    std::map<std::string, std::vector<float>> out;
    for (const Param& p : net.params()) out[p.name] = p.grad;
    return out;
  };
  const auto straight = grads(false);
  const auto projected = grads(true);
  const std::string w1 = "s1.b0.conv1.weight";  // block 2's conv1, [32, 8, 3, 3]
  for (const auto& [name, g] : straight) {
    if (name != w1 && name != "s1.b0.conv2.weight") {
      EXPECT_EQ(g, projected.at(name)) << name << " changed";
    }
  }

  // Per-row fold scale of conv1 (bn1's gamma and the full width's running variance).
  const BnStats& st = net.bn_stats().at("s1.b0.bn1");
  const float* gamma = net.FindParam("s1.b0.bn1.gamma")->value.data();
  const int rows = 32, cols = 8 * 9, row = st.rows - 1;
  std::vector<double> removed(rows * cols), kept(rows * cols);
  double removed_norm = 0, straight_norm = 0;
  for (int o = 0; o < rows; ++o) {
    const double s =
        gamma[o] / std::sqrt(static_cast<double>(st.var[row * st.channels + o]) + 1e-5);
    for (int j = 0; j < cols; ++j) {
      const int i = o * cols + j;
      const double r = straight.at(w1)[i] - projected.at(w1)[i];
      removed_norm += r * r;
      straight_norm += static_cast<double>(straight.at(w1)[i]) * straight.at(w1)[i];
      removed[i] = r / (s * s);  // dW whose dM = diag(s) dW is the removed part of dL/dM
      kept[i] = projected.at(w1)[i];
    }
  }
  ASSERT_GT(removed_norm, 0.05 * straight_norm) << "the projection removed next to nothing";

  Param* w = net.FindParam(w1);
  auto slope = [&](const std::vector<double>& dir) {
    double norm = 0;
    for (double x : dir) norm += x * x;
    norm = std::sqrt(norm);
    const std::vector<float> keep = w->value;
    const double eps = 1e-2;
    for (size_t i = 0; i < dir.size(); ++i) w->value[i] = keep[i] + eps * dir[i] / norm;
    const double up = loss(nullptr);
    for (size_t i = 0; i < dir.size(); ++i) w->value[i] = keep[i] - eps * dir[i] / norm;
    const double down = loss(nullptr);
    w->value = keep;
    return (up - down) / (2 * eps);
  };
  const double along_kept = slope(kept), along_removed = slope(removed);
  std::printf(
      "removed %.0f%% of the straight-through gradient's squared norm; loss slope along "
      "the projected gradient %.4g, along the removed part %.3g\n",
      100 * removed_norm / straight_norm, along_kept, along_removed);
  EXPECT_GT(along_kept, 1e-3);
  EXPECT_LT(std::abs(along_removed), 0.02 * along_kept)
      << "removed part moves the loss: slope " << along_removed << " vs " << along_kept;
}

}  // namespace
}  // namespace adaspring::engine::train

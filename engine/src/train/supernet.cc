// Supernet parameters: initialisation, BN statistics and recalibration, channel sorting and
// export to a Model (the graph itself is in graph.cc).
#include "adaspring/engine/train/supernet.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <set>

#include "absl/status/status.h"
#include "train/graph.h"

namespace adaspring::engine::train {
namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int OutSize(int in, int k, int stride, int pad) { return (in + 2 * pad - k) / stride + 1; }

}  // namespace

Supernet::Supernet(const ArchSpec& arch) : space_(arch), graph_(std::make_unique<Graph>()) {}
Supernet::~Supernet() = default;

absl::StatusOr<std::unique_ptr<Supernet>> Supernet::Create(const ArchSpec& arch, uint64_t seed) {
  if (absl::Status s = ValidateArch(arch); !s.ok()) return s;
  if (arch.block_kind != BlockKind::kBasic || arch.stem_max_pool || arch.head_channels > 0)
    return absl::UnimplementedError(
        "adaspring-train supports basic-block architectures without stem pooling or head conv "
        "(e.g. smallres28)");
  std::unique_ptr<Supernet> net(new Supernet(arch));
  const NetSpec& spec = net->space_.net();

  // Geometry of every block.
  Graph& g = *net->graph_;
  g.stem_oh = OutSize(arch.in_height, spec.stem.kernel, spec.stem.stride, spec.stem.pad);
  g.stem_ow = OutSize(arch.in_width, spec.stem.kernel, spec.stem.stride, spec.stem.pad);
  int h = g.stem_oh, w = g.stem_ow;
  for (const BlockSpec& b : spec.blocks) {
    BlockGeom geom{h, w, OutSize(h, 3, b.stride, 1), OutSize(w, 3, b.stride, 1)};
    g.geom.push_back(geom);
    h = geom.oh;
    w = geom.ow;
  }

  std::mt19937_64 rng(seed);
  std::set<std::string> bn_names;
  for (const auto& [name, shape] : Model::ExpectedTensors(spec)) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    if (EndsWith(name, ".mean") || EndsWith(name, ".var")) {
      const std::string bn = name.substr(0, name.rfind('.'));
      BnStats& st = net->bn_stats_[bn];
      st.rows = static_cast<int>(shape[0]);
      st.channels = static_cast<int>(shape[1]);
      if (EndsWith(name, ".mean"))
        st.mean.assign(n, 0.f);
      else
        st.var.assign(n, 1.f);
      continue;
    }
    Param p;
    p.name = name;
    p.shape = shape;
    p.value.assign(n, 0.f);
    if (EndsWith(name, ".weight")) {
      p.decay = true;
      const int64_t fan_in = n / shape[0];
      // He (fan-in) for convs; 1/sqrt(fan-in) for the classifier.
      const float stddev = name == "fc.weight" ? 1.f / std::sqrt(static_cast<float>(fan_in))
                                               : std::sqrt(2.f / static_cast<float>(fan_in));
      std::normal_distribution<float> dist(0.f, stddev);
      for (float& x : p.value) x = dist(rng);
    } else if (EndsWith(name, ".gamma")) {
      // The last BN of each residual branch starts at zero so that every block starts as the
      // identity: skipping a block (elastic depth) then changes little early in training.
      const bool residual_end = EndsWith(name, ".bn2.gamma");
      std::fill(p.value.begin(), p.value.end(), residual_end ? 0.f : 1.f);
    }
    p.grad.assign(n, 0.f);
    p.momentum.assign(n, 0.f);
    net->param_index_[p.name] = static_cast<int>(net->params_.size());
    net->params_.push_back(std::move(p));
  }
  return net;
}

Param* Supernet::FindParam(const std::string& name) {
  auto it = param_index_.find(name);
  return it == param_index_.end() ? nullptr : &params_[it->second];
}

void Supernet::ZeroGrad() {
  for (Param& p : params_) std::fill(p.grad.begin(), p.grad.end(), 0.f);
}

void Supernet::BeginCalibration() { graph_->calib.clear(); }

void Supernet::EndCalibration() {
  for (auto& [name, acc] : graph_->calib) {
    BnStats& st = bn_stats_[name];
    for (int r = 0; r < st.rows; ++r) {
      if (acc.batches[r] == 0) continue;
      for (int j = 0; j < st.channels; ++j) {
        const size_t i = static_cast<size_t>(r) * st.channels + j;
        const double mean = acc.sum_mean[i] / acc.batches[r];
        const double var = acc.sum_sq[i] / acc.batches[r] - mean * mean;
        // Channels beyond a narrow row's width were never seen: keep identity statistics.
        const bool seen = acc.sum_sq[i] != 0 || acc.sum_mean[i] != 0;
        st.mean[i] = seen ? static_cast<float>(mean) : 0.f;
        st.var[i] = seen ? static_cast<float>(std::max(var, 0.0)) : 1.f;
      }
    }
  }
  graph_->calib.clear();
}

void Supernet::SortChannelsByImportance() {
  for (const BlockSpec& b : space_.net().blocks) {
    const ConvSpec& c1 = b.convs[0];
    const ConvSpec& c2 = b.convs[1];
    Param* w1 = FindParam(c1.name + ".weight");
    Param* w2 = FindParam(c2.name + ".weight");
    Param* gamma = FindParam(c1.bn + ".gamma");
    Param* beta = FindParam(c1.bn + ".beta");
    BnStats& st = bn_stats_[c1.bn];
    const int inner = b.max_inner;
    const int64_t row1 = static_cast<int64_t>(b.in_channels) * c1.kernel * c1.kernel;
    const int64_t kk2 = static_cast<int64_t>(c2.kernel) * c2.kernel;
    std::vector<double> importance(inner, 0.0);
    for (int j = 0; j < inner; ++j)
      for (int64_t i = 0; i < row1; ++i) importance[j] += std::abs(w1->value[j * row1 + i]);
    std::vector<int> perm(inner);
    std::iota(perm.begin(), perm.end(), 0);
    // Stable: equal importance keeps the current order (so sorting twice changes nothing).
    std::stable_sort(perm.begin(), perm.end(),
                     [&](int a, int c) { return importance[a] > importance[c]; });
    auto permute_rows = [&](std::vector<float>& t, int64_t row) {
      std::vector<float> old = t;
      for (int j = 0; j < inner; ++j)
        std::copy_n(old.begin() + perm[j] * row, row, t.begin() + j * row);
    };
    for (std::vector<float>* t : {&w1->value, &w1->momentum}) permute_rows(*t, row1);
    for (Param* p : {gamma, beta})
      for (std::vector<float>* t : {&p->value, &p->momentum}) permute_rows(*t, 1);
    // A narrow row r only ever saw its first inner_choices[r] channels; the rest of the row
    // holds stale values. A channel that moves into the prefix from beyond it takes its
    // statistics from the widest row instead (conv1's output channel does not depend on this
    // block's width, so those are its statistics). Without this, reduced-rank students, which
    // normalise with the running statistics, ran with garbage scales after every sort.
    const int widest = static_cast<int>(
        std::max_element(b.inner_choices.begin(), b.inner_choices.end()) - b.inner_choices.begin());
    for (std::vector<float>* t : {&st.mean, &st.var}) {
      std::vector<float> old = *t;
      for (int r = 0; r < st.rows; ++r) {
        const int seen = b.inner_choices[r];
        for (int j = 0; j < inner; ++j) {
          const int from = perm[j] < seen ? r : widest;
          (*t)[r * inner + j] = old[from * inner + perm[j]];
        }
      }
    }
    // conv2: [out, inner, k, k]; permute the input-channel axis.
    for (std::vector<float>* t : {&w2->value, &w2->momentum}) {
      std::vector<float> old = *t;
      for (int o = 0; o < b.out_channels; ++o)
        for (int j = 0; j < inner; ++j)
          std::copy_n(old.begin() + (o * inner + perm[j]) * kk2, kk2,
                      t->begin() + (o * inner + j) * kk2);
    }
  }
}

std::shared_ptr<Model> Supernet::ExportModel(ModelMeta meta) const {
  TensorStore store;
  for (const auto& [name, shape] : Model::ExpectedTensors(space_.net())) {
    if (EndsWith(name, ".mean") || EndsWith(name, ".var")) {
      const BnStats& st = bn_stats_.at(name.substr(0, name.rfind('.')));
      store.Add(name, shape, EndsWith(name, ".mean") ? st.mean : st.var);
    } else {
      store.Add(name, shape, params_[param_index_.at(name)].value);
    }
  }
  return std::make_shared<Model>(space_.arch(), std::move(meta), std::move(store));
}

}  // namespace adaspring::engine::train

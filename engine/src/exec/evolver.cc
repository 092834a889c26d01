#include "exec/evolver.h"

#include "absl/strings/str_cat.h"
#include "exec/fold.h"
#include "exec/quant.h"

namespace adaspring::engine {
namespace exec {

EvolverImpl::EvolverImpl(std::shared_ptr<const Model> model, EvolverOptions options)
    : model_(std::move(model)), options_(options), threads_(ResolveThreads(options.threads)) {}

std::shared_ptr<const SvdFactors> EvolverImpl::Svd(const ConvSpec& conv, int width_idx, int bn_row,
                                                   int out, int in) {
  const std::string key = absl::StrCat(conv.name, "@", width_idx);
  auto it = svd_.find(key);
  if (it != svd_.end()) return it->second;
  // Every factorised rank is at most the one of the smallest divisor above 1.
  const std::vector<int>& divisors = model_->arch().rank_divisors;
  const int keep = divisors.size() > 1 ? FactorisedRank(conv, out, in, divisors[1]) : 0;
  auto f = ComputeSvd(FoldConv(*model_, conv, bn_row, out, in), keep);
  svd_[key] = f;
  ++stats_.svd_computed;
  return f;
}

absl::StatusOr<std::shared_ptr<const BuiltLayer>> EvolverImpl::BuildLayer(const Plan& plan,
                                                                          const PlanLayer& l) {
  using dt = dnnl::memory::data_type;
  const bool int8 = plan.precision == Precision::kInt8;
  auto dtype_of = [&](int tensor) {
    if (tensor < 0 || !int8) return dt::f32;
    return plan.tensors[tensor].is_signed ? dt::s8 : dt::u8;
  };
  auto signed_of = [&](int tensor) { return tensor < 0 || plan.tensors[tensor].is_signed; };
  LayerInputs in;
  in.layout = plan.layout;
  in.winograd = options_.winograd;
  in.src_dt = dtype_of(l.src);
  in.dst_dt = dtype_of(l.dst);
  if (int8) {
    in.src_step = ActivationStep(AmaxOf(amax_, l.src_q), signed_of(l.src));
    in.dst_step =
        l.dst == kUserLogits ? 1.f : ActivationStep(AmaxOf(amax_, l.dst_q), signed_of(l.dst));
    // The shortcut is stored in the dst tensor's type under its own scale.
    if (l.sum) in.sum_step = ActivationStep(AmaxOf(amax_, l.sum_q), signed_of(l.dst));
  }
  // The dense weights only live until BuiltLayer::Create has packed them: the scratch keeps
  // its capacity across builds (evolutions are serialised by mu_).
  DenseConv& dense = dense_scratch_;
  if (l.kind == LayerKind::kConv) {
    if (l.part == 0) {
      FoldConvInto(*model_, *l.conv, l.bn_row, l.src_out, l.src_in, &dense);
    } else {
      auto svd = Svd(*l.conv, l.width_idx, l.bn_row, l.src_out, l.src_in);
      if (l.part == 1) {
        FirstFactorInto(*svd, l.rank, &dense);
      } else {
        SecondFactorInto(*svd, l.rank, &dense);
      }
    }
    in.weights = &dense;
  } else if (l.kind == LayerKind::kFc) {
    dense = FcWeights(*model_);
    in.weights = &dense;
  }
  in.quant_scratch = &quant_scratch_;
  auto b = BuiltLayer::Create(l, in, threads_);
  if (!b.ok()) return b.status();
  return std::shared_ptr<const BuiltLayer>(std::move(*b));
}

absl::StatusOr<std::shared_ptr<const Variant>> EvolverImpl::Evolve(const Config& config) {
  const ConfigSpace& space = model_->space();
  if (absl::Status s = space.Validate(config); !s.ok()) return s;
  const Config c = space.Canonical(config);
  const uint64_t id = space.ToId(c);
  absl::MutexLock lock(&mu_);
  if (auto it = by_id_.find(id); it != by_id_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    ++stats_.cache_hits;
    return std::shared_ptr<const Variant>(it->second->variant);
  }
  Plan plan = MakePlan(model_->net(), model_->arch(), c, DefaultLayout(c.precision));
  std::vector<std::shared_ptr<const BuiltLayer>> layers;
  layers.reserve(plan.layers.size());
  for (const PlanLayer& l : plan.layers) {
    if (auto it = layers_.find(l.key); it != layers_.end()) {
      if (auto shared = it->second.lock()) {
        ++stats_.reused_layers;
        layers.push_back(std::move(shared));
        continue;
      }
    }
    auto built = BuildLayer(plan, l);
    if (!built.ok()) return built.status();
    ++stats_.built_layers;
    layers_[l.key] = *built;
    layers.push_back(std::move(*built));
  }
  auto v = std::make_shared<const VariantImpl>(model_, c, space.ToText(c), id, std::move(plan),
                                               std::move(layers));
  ++stats_.builds;
  lru_.push_front({id, v});
  by_id_[id] = lru_.begin();
  CountCached(*v, +1);
  while (stats_.cache_bytes > options_.cache_bytes && lru_.size() > 1) {
    CountCached(*lru_.back().variant, -1);
    by_id_.erase(lru_.back().id);
    lru_.pop_back();
  }
  // Forget layers no variant holds any more.
  for (auto it = layers_.begin(); it != layers_.end();) {
    it = it->second.expired() ? layers_.erase(it) : std::next(it);
  }
  return std::shared_ptr<const Variant>(std::move(v));
}

void EvolverImpl::CountCached(const VariantImpl& v, int delta) {
  for (const auto& layer : v.layers()) {
    int& refs = cached_refs_[layer.get()];
    if (delta > 0 && refs++ == 0) stats_.cache_bytes += layer->packed_bytes();
    if (delta < 0 && --refs == 0) {
      stats_.cache_bytes -= layer->packed_bytes();
      cached_refs_.erase(layer.get());
    }
  }
}

EvolverStats EvolverImpl::stats() const {
  absl::MutexLock lock(&mu_);
  EvolverStats s = stats_;
  s.cached_variants = static_cast<int>(lru_.size());
  s.self_calibrated = self_calibrated_;
  return s;
}

void EvolverImpl::ClearCache() {
  absl::MutexLock lock(&mu_);
  lru_.clear();
  by_id_.clear();
  layers_.clear();
  cached_refs_.clear();
  stats_.cache_bytes = 0;
}

int EvolverImpl::WarmUp() {
  const ConfigSpace& space = model_->space();
  std::vector<Config> configs;
  for (Precision p : {Precision::kF32, Precision::kInt8}) {
    for (int k = 0; k < space.CoveringCount(); ++k) configs.push_back(space.Covering(k, p));
  }
  return WarmUp(configs);
}

int EvolverImpl::WarmUp(const std::vector<Config>& configs) {
  const ArchSpec& a = model_->arch();
  // Each variant also runs once: a first run of a kernel kind pages in oneDNN's execution
  // code and sizes glibc's large-allocation threshold, costs a serving thread would otherwise
  // pay on its first request after a switch (~5 ms measured by adaspring-bench evolve).
  std::vector<float> input(static_cast<size_t>(a.in_channels) * a.in_height * a.in_width, 0.5f);
  std::vector<float> logits(static_cast<size_t>(a.num_classes));
  std::unique_ptr<Workspace> ws = NewWorkspace(threads_);
  int built = 0;
  for (const Config& c : configs) {
    auto v = Evolve(c);
    if (!v.ok()) continue;  // e.g. int8 without calibration: the caller's builds fail alike
    (void)(*v)->Run(input.data(), 1, logits.data(), ws.get());
    ++built;
  }
  ClearCache();
  return built;
}

int EvolverImpl::PrecomputeFactorisations() {
  absl::MutexLock lock(&mu_);
  const uint64_t before = stats_.svd_computed;
  for (const BlockSpec& b : model_->net().blocks) {
    for (size_t w = 0; w < b.inner_choices.size(); ++w) {
      const int inner = b.inner_choices[w];
      for (const ConvSpec& conv : b.convs) {
        if (!conv.factorisable || b.rank_choices < 2) continue;
        const int out = conv.out_elastic ? inner : conv.out_channels;
        const int in = conv.in_elastic ? inner : conv.in_channels;
        Svd(conv, static_cast<int>(w), static_cast<int>(w), out, in);
      }
    }
  }
  return static_cast<int>(stats_.svd_computed - before);
}

}  // namespace exec

absl::StatusOr<std::unique_ptr<Evolver>> Evolver::Create(std::shared_ptr<const Model> model,
                                                         EvolverOptions options) {
  if (model == nullptr) return absl::InvalidArgumentError("model must not be null");
  if (absl::Status s = model->CheckTensors(); !s.ok()) return s;
  auto e = std::make_unique<exec::EvolverImpl>(model, options);
  std::map<std::string, float> amax;
  bool missing = false;
  for (const std::string& name : exec::AllQuantNames(model->net())) {
    auto it = model->activation_amax.find(name);
    if (it == model->activation_amax.end()) {
      missing = true;
    } else {
      amax[name] = it->second;
    }
  }
  if (missing) {
    // The model carries no (or incomplete) int8 calibration: derive the activation scales
    // from f32 runs on a deterministic synthetic input so int8 variants still work; the
    // model's own values win where present. Scales from real data are better.
    auto self = exec::SelfCalibrate(*e);
    if (!self.ok()) return self.status();
    for (const auto& [name, v] : *self) amax.emplace(name, v);
    e->ClearCache();
  }
  e->SetActivationAmax(std::move(amax), missing);
  return std::unique_ptr<Evolver>(std::move(e));
}

VariantStats PredictStats(const Model& model, const Config& config) {
  const Config c = model.space().Canonical(config);
  return exec::MakePlan(model.net(), model.arch(), c, exec::DefaultLayout(c.precision)).stats;
}

}  // namespace adaspring::engine

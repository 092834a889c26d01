#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"
#include "exec/variant_impl.h"

namespace adaspring::engine::exec {
namespace {
std::atomic<uint64_t> next_serial{1};
}  // namespace

VariantImpl::VariantImpl(std::shared_ptr<const Model> model, Config config, std::string text,
                         uint64_t id, Plan plan,
                         std::vector<std::shared_ptr<const BuiltLayer>> layers)
    : model_(std::move(model)),
      config_(std::move(config)),
      text_(std::move(text)),
      id_(id),
      plan_(std::move(plan)),
      layers_(std::move(layers)),
      serial_(next_serial.fetch_add(1)) {
  for (const auto& l : layers_) packed_bytes_ += l->packed_bytes();
}

absl::StatusOr<WorkspaceImpl::Binding*> VariantImpl::Prepare(const float* input, int batch,
                                                             float* logits,
                                                             Workspace* ws_base) const {
  if (batch < 1 || batch > kMaxBatch)
    return absl::InvalidArgumentError(
        absl::StrCat("batch size ", batch, " is not in 1..", kMaxBatch));
  if (input == nullptr || logits == nullptr || ws_base == nullptr)
    return absl::InvalidArgumentError("input, logits and workspace must not be null");
  auto* ws = static_cast<WorkspaceImpl*>(ws_base);
  // oneDNN's OpenMP runtime uses the calling thread's ICV.
  if (omp_get_max_threads() != ws->threads()) omp_set_num_threads(ws->threads());
  auto b = ws->Bind(*this, batch);
  if (!b.ok()) return b.status();
  (*b)->input.set_data_handle(const_cast<float*>(input));
  (*b)->logits.set_data_handle(logits);
  return *b;
}

bool VariantImpl::Ready(int batch, int threads) const {
  for (const auto& layer : layers_)
    if (!layer->HasBatch(batch, threads)) return false;
  return true;
}

absl::Status VariantImpl::MakeReady(int batch, Workspace* ws) const {
  // Binding creates the primitives and the workspace's memory objects for this size; the
  // data handles set here are replaced by every Run before anything executes.
  float placeholder[1] = {0.f};
  try {
    return Prepare(placeholder, batch, placeholder, ws).status();
  } catch (const dnnl::error& e) {
    return FromDnnl(e, absl::StrCat("preparing variant ", text_, " for batch ", batch));
  }
}

absl::Status VariantImpl::Run(const float* input, int batch, float* logits,
                              Workspace* ws_base) const {
  try {
    auto b = Prepare(input, batch, logits, ws_base);
    if (!b.ok()) return b.status();
    auto* ws = static_cast<WorkspaceImpl*>(ws_base);
    dnnl::stream& s = ws->stream();
    for (size_t i = 0; i < (*b)->num_layers(); ++i) (*b)->Execute(i, s);
    s.wait();
  } catch (const dnnl::error& e) {
    return FromDnnl(e, "running variant " + text_);
  }
  return absl::OkStatus();
}

absl::Status VariantImpl::RunWithHook(
    const float* input, int batch, float* logits, Workspace* ws_base,
    const std::function<void(int, const float*, int64_t)>& hook) const {
  try {
    auto b = Prepare(input, batch, logits, ws_base);
    if (!b.ok()) return b.status();
    auto* ws = static_cast<WorkspaceImpl*>(ws_base);
    dnnl::stream& s = ws->stream();
    for (size_t i = 0; i < (*b)->num_layers(); ++i) {
      (*b)->Execute(i, s);
      s.wait();
      const PlanLayer& l = plan_.layers[i];
      if (l.dst < 0) continue;
      const PlanTensor& t = plan_.tensors[l.dst];
      hook(static_cast<int>(i),
           reinterpret_cast<const float*>(ws->arena() + batch * t.offset_per_image),
           batch * t.bytes_per_image / static_cast<int64_t>(sizeof(float)));
    }
  } catch (const dnnl::error& e) {
    return FromDnnl(e, "running variant " + text_);
  }
  return absl::OkStatus();
}

std::vector<std::string> VariantImpl::LayerNames() const {
  std::vector<std::string> names;
  for (const auto& l : layers_) names.push_back(l->layer().name + " [" + l->impl() + "]");
  return names;
}

absl::StatusOr<std::vector<double>> VariantImpl::TimeLayersAlone(int batch, int reps,
                                                                 Workspace* ws_base) const {
  if (reps < 1) return absl::InvalidArgumentError("reps must be >= 1");
  const int64_t in_count = static_cast<int64_t>(batch) * plan_.in_c * plan_.in_h * plan_.in_w;
  std::vector<float> input(static_cast<size_t>(in_count), 0.5f);
  std::vector<float> logits(static_cast<size_t>(batch) * plan_.num_classes);
  // One full run puts valid data in every arena tensor.
  if (absl::Status s = Run(input.data(), batch, logits.data(), ws_base); !s.ok()) return s;
  auto b = Prepare(input.data(), batch, logits.data(), ws_base);
  if (!b.ok()) return b.status();
  auto* ws = static_cast<WorkspaceImpl*>(ws_base);
  dnnl::stream& s = ws->stream();
  std::vector<double> medians;
  std::vector<double> times(reps);
  try {
    for (size_t i = 0; i < (*b)->num_layers(); ++i) {
      for (int w = 0; w < 3; ++w) (*b)->Execute(i, s);
      s.wait();
      for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        (*b)->Execute(i, s);
        s.wait();
        times[r] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                       .count();
      }
      std::nth_element(times.begin(), times.begin() + reps / 2, times.end());
      medians.push_back(times[reps / 2]);
    }
  } catch (const dnnl::error& e) {
    return FromDnnl(e, "timing variant " + text_);
  }
  return medians;
}

}  // namespace adaspring::engine::exec

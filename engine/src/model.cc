#include "adaspring/engine/model.h"

#include <cmath>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace adaspring::engine {

void TensorStore::Add(const std::string& name, std::vector<int64_t> shape,
                      std::vector<float> values, TensorStorage storage) {
  auto owned = std::make_unique<std::vector<float>>(std::move(values));
  Entry e{std::move(shape), owned->data(), static_cast<int64_t>(owned->size()), storage};
  owned_.push_back(std::move(owned));
  entries_[name] = std::move(e);
}

void TensorStore::AddView(const std::string& name, std::vector<int64_t> shape, const float* data,
                          TensorStorage storage) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  entries_[name] = Entry{std::move(shape), data, n, storage};
}

const TensorStore::Entry* TensorStore::Find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

absl::StatusOr<const TensorStore::Entry*> TensorStore::Get(
    const std::string& name, const std::vector<int64_t>& expected_shape) const {
  const Entry* e = Find(name);
  if (e == nullptr) return absl::NotFoundError(absl::StrCat("tensor '", name, "' is missing"));
  if (e->shape != expected_shape)
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "' has shape [",
                                                   absl::StrJoin(e->shape, ","), "], expected [",
                                                   absl::StrJoin(expected_shape, ","), "]"));
  return e;
}

Model::Model(ArchSpec arch, ModelMeta meta, TensorStore tensors)
    : space_(arch), meta_(std::move(meta)), tensors_(std::move(tensors)) {}

namespace {
using Shape = std::vector<int64_t>;

void AddConvAndBn(std::vector<std::pair<std::string, Shape>>& out, const ConvSpec& c,
                  int bn_widths) {
  const int64_t in_per_group = c.depthwise ? 1 : c.in_channels;
  out.push_back({c.name + ".weight", {c.out_channels, in_per_group, c.kernel, c.kernel}});
  out.push_back({c.bn + ".gamma", {c.out_channels}});
  out.push_back({c.bn + ".beta", {c.out_channels}});
  out.push_back({c.bn + ".mean", {bn_widths, c.out_channels}});
  out.push_back({c.bn + ".var", {bn_widths, c.out_channels}});
}
}  // namespace

std::vector<std::pair<std::string, std::vector<int64_t>>> Model::ExpectedTensors(
    const NetSpec& net) {
  std::vector<std::pair<std::string, Shape>> out;
  AddConvAndBn(out, net.stem, 1);
  for (const BlockSpec& b : net.blocks) {
    for (const ConvSpec& c : b.convs) AddConvAndBn(out, c, b.bn_widths);
    if (b.has_downsample) AddConvAndBn(out, b.downsample, b.bn_widths);
  }
  if (net.has_head_conv) AddConvAndBn(out, net.head, 1);
  out.push_back({"fc.weight", {net.num_classes, net.fc_in}});
  out.push_back({"fc.bias", {net.num_classes}});
  return out;
}

absl::Status Model::CheckTensors() const {
  for (const auto& [name, shape] : ExpectedTensors(net())) {
    auto e = tensors_.Get(name, shape);
    if (!e.ok()) return e.status();
    const float* p = (*e)->data;
    for (int64_t i = 0; i < (*e)->numel; ++i) {
      if (!std::isfinite(p[i]))
        return absl::InvalidArgumentError(
            absl::StrCat("tensor '", name, "' has a non-finite value at element ", i));
    }
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".var") == 0) {
      for (int64_t i = 0; i < (*e)->numel; ++i) {
        if (p[i] < 0)
          return absl::InvalidArgumentError(
              absl::StrCat("tensor '", name, "' has a negative variance at element ", i));
      }
    }
  }
  return absl::OkStatus();
}

const float* Model::Data(const std::string& name) const {
  const TensorStore::Entry* e = tensors_.Find(name);
  return e == nullptr ? nullptr : e->data;
}

std::shared_ptr<Model> Model::Random(const ArchSpec& arch, uint64_t seed) {
  std::mt19937_64 rng(seed);
  TensorStore store;
  const NetSpec net = BuildNetSpec(arch);
  for (const auto& [name, shape] : ExpectedTensors(net)) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    // clang 14 cannot capture structured bindings; capture a plain reference instead.
    const std::string& tensor_name = name;
    auto ends_with = [&tensor_name](std::string_view s) {
      return tensor_name.size() >= s.size() &&
             tensor_name.compare(tensor_name.size() - s.size(), s.size(), s) == 0;
    };
    if (ends_with(".weight")) {
      // He initialisation over the fan-in (in/groups * k * k).
      const int64_t fan_in = n / shape[0];
      std::normal_distribution<float> dist(0.f, std::sqrt(2.f / static_cast<float>(fan_in)));
      for (float& x : v) x = dist(rng);
    } else if (ends_with(".gamma") || ends_with(".var")) {
      std::fill(v.begin(), v.end(), 1.f);
    }  // beta, mean, bias stay 0
    store.Add(name, shape, std::move(v));
  }
  ModelMeta meta;
  meta.name = arch.name;
  meta.version = "random-" + std::to_string(seed);
  for (int i = 0; i < arch.num_classes; ++i) meta.labels.push_back("class" + std::to_string(i));
  meta.mean.assign(arch.in_channels, 0.f);
  meta.std.assign(arch.in_channels, 1.f);
  return std::make_shared<Model>(arch, std::move(meta), std::move(store));
}

}  // namespace adaspring::engine

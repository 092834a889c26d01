// Dataset loading, splitting, normalisation and augmented batches.
#include "adaspring/engine/train/dataset.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace adaspring::engine::train {

absl::StatusOr<Dataset> LoadIdxDataset(const std::string& images_path,
                                       const std::string& labels_path) {
  absl::StatusOr<IdxArray> images = ReadIdx(images_path);
  if (!images.ok()) return images.status();
  absl::StatusOr<IdxArray> labels = ReadIdx(labels_path);
  if (!labels.ok()) return labels.status();
  if (images->dims.size() != 3 && images->dims.size() != 4)
    return absl::InvalidArgumentError(
        absl::StrCat(images_path, ": images must be 3-D [n,h,w] or 4-D [n,c,h,w], got ",
                     images->dims.size(), "-D"));
  if (labels->dims.size() != 1)
    return absl::InvalidArgumentError(absl::StrCat(labels_path, ": labels must be 1-D"));
  if (labels->dims[0] != images->dims[0])
    return absl::InvalidArgumentError(
        absl::StrCat(labels_path, ": count mismatch: ", labels->dims[0], " labels for ",
                     images->dims[0], " images in ", images_path));
  Dataset d;
  d.count = images->dims[0];
  const bool four = images->dims.size() == 4;
  d.channels = four ? images->dims[1] : 1;
  d.height = images->dims[four ? 2 : 1];
  d.width = images->dims[four ? 3 : 2];
  d.pixels = std::move(images->data);
  d.labels.assign(labels->data.begin(), labels->data.end());
  d.num_classes = 1 + *std::max_element(d.labels.begin(), d.labels.end());
  d.images_path = images_path;
  d.labels_path = labels_path;
  return d;
}

absl::Status CheckLabels(const Dataset& d, int classes, std::string_view owner) {
  for (int i = 0; i < d.count; ++i) {
    if (d.labels[i] >= 0 && d.labels[i] < classes) continue;
    return absl::InvalidArgumentError(absl::StrCat(
        d.labels_path, ": label ", d.labels[i], " (image ", i,
        ") is out of range: ", std::string(owner), " has ", classes, " classes, labels 0..",
        classes - 1, " (the largest label in the file is ", d.num_classes - 1, ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckImageShape(const Dataset& d, int channels, int height, int width,
                             std::string_view owner) {
  if (d.channels == channels && d.height == height && d.width == width) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(d.images_path, ": images are ", d.channels, "x", d.height, "x", d.width,
                   ", but ", std::string(owner), " are ", channels, "x", height, "x", width));
}

absl::StatusOr<Dataset> LoadSplit(const std::string& dir, std::string_view split) {
  const std::string base = absl::StrCat(dir, "/", std::string(split));
  auto pick = [](const std::string& stem) {
    return std::filesystem::exists(stem + ".gz") ? stem + ".gz" : stem;
  };
  return LoadIdxDataset(pick(base + "-images-idx3-ubyte"), pick(base + "-labels-idx1-ubyte"));
}

namespace {
Dataset Subset(const Dataset& all, const std::vector<int>& idx) {
  Dataset d = all;
  d.count = static_cast<int>(idx.size());
  d.pixels.resize(static_cast<size_t>(d.count) * all.image_size());
  d.labels.resize(d.count);
  for (int i = 0; i < d.count; ++i) {
    std::copy_n(all.pixels.begin() + idx[i] * all.image_size(), all.image_size(),
                d.pixels.begin() + i * all.image_size());
    d.labels[i] = all.labels[idx[i]];
  }
  return d;
}
}  // namespace

void SplitTrainVal(const Dataset& all, int val_count, uint64_t seed, Dataset* train, Dataset* val) {
  std::vector<int> order(all.count);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed ^ 0x5eed5011177ull);
  std::shuffle(order.begin(), order.end(), rng);
  val_count = std::clamp(val_count, 0, all.count);
  std::vector<int> v(order.begin(), order.begin() + val_count);
  std::vector<int> t(order.begin() + val_count, order.end());
  // Keep each part in file order: makes subsets reproducible regardless of the split seed.
  std::sort(v.begin(), v.end());
  std::sort(t.begin(), t.end());
  *val = Subset(all, v);
  *train = Subset(all, t);
}

Dataset Head(const Dataset& d, int count) {
  std::vector<int> idx(std::clamp(count, 0, d.count));
  std::iota(idx.begin(), idx.end(), 0);
  return Subset(d, idx);
}

Normalization ComputeNormalization(const Dataset& d) {
  Normalization n;
  const int64_t hw = static_cast<int64_t>(d.height) * d.width;
  for (int c = 0; c < d.channels; ++c) {
    double sum = 0, sq = 0;
    for (int i = 0; i < d.count; ++i) {
      const uint8_t* p = d.pixels.data() + i * d.image_size() + c * hw;
      for (int64_t j = 0; j < hw; ++j) {
        const double x = p[j] / 255.0;
        sum += x;
        sq += x * x;
      }
    }
    const double cnt = static_cast<double>(d.count) * hw;
    const double mean = cnt > 0 ? sum / cnt : 0;
    const double var = cnt > 0 ? sq / cnt - mean * mean : 1;
    n.mean.push_back(static_cast<float>(mean));
    n.std.push_back(static_cast<float>(std::sqrt(std::max(var, 1e-12))));
  }
  return n;
}

void MakeBatch(const Dataset& d, const int* idx, int n, const Normalization& norm,
               const Augment& aug, std::mt19937_64* rng, float* images, int32_t* labels) {
  const int h = d.height, w = d.width;
  for (int i = 0; i < n; ++i) {
    int dy = 0, dx = 0;
    bool flip = false;
    if (aug.enabled) {
      std::uniform_int_distribution<int> off(-aug.crop_pad, aug.crop_pad);
      dy = off(*rng);
      dx = off(*rng);
      flip = aug.hflip && ((*rng)() & 1);
    }
    const uint8_t* src = d.pixels.data() + static_cast<int64_t>(idx[i]) * d.image_size();
    float* dst = images + static_cast<int64_t>(i) * d.image_size();
    for (int c = 0; c < d.channels; ++c) {
      const float scale = 1.f / (255.f * norm.std[c]);
      const float zero = -norm.mean[c] / norm.std[c];  // a padded (black) pixel
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
          const int sy = y + dy;
          const int sx0 = x + dx;
          const int sx = flip ? w - 1 - sx0 : sx0;
          float v = zero;
          if (sy >= 0 && sy < h && sx0 >= 0 && sx0 < w)
            v = src[(c * h + sy) * w + sx] * scale + zero;
          dst[(c * h + y) * w + x] = v;
        }
    }
    labels[i] = d.labels[idx[i]];
  }
}

}  // namespace adaspring::engine::train

// Image classification data for training: IDX files (MNIST-style, gzip or plain), a seeded
// train/validation split, and batches with augmentation (random crop with zero padding,
// horizontal flip).
//
// Failure: every reader returns INVALID_ARGUMENT (or NOT_FOUND for a missing file) whose
// message starts with the path and names the problem (bad magic, unsupported type, dims,
// count mismatch, truncated or trailing data, damaged gzip). It never crashes on bad input.
//
// Thread safety: plain data and free functions; a Dataset is safe to read concurrently.
#ifndef ADASPRING_ENGINE_TRAIN_DATASET_H_
#define ADASPRING_ENGINE_TRAIN_DATASET_H_

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace adaspring::engine::train {

// An IDX array of unsigned bytes (type code 0x08): dims and row-major data.
struct IdxArray {
  std::vector<int> dims;
  std::vector<uint8_t> data;
};

// Parses IDX bytes (already decompressed); `name` is used in messages.
absl::StatusOr<IdxArray> ParseIdx(std::string_view bytes, const std::string& name);
// Reads a file, gunzipping when it starts with the gzip magic (1f 8b).
absl::StatusOr<IdxArray> ReadIdx(const std::string& path);

struct Dataset {
  int count = 0, channels = 1, height = 0, width = 0;
  int num_classes = 0;                   // max label + 1
  std::string images_path, labels_path;  // the files it was read from (for messages)
  std::vector<uint8_t> pixels;           // [count, channels, height, width]
  std::vector<int32_t> labels;           // [count]
  int64_t image_size() const { return static_cast<int64_t>(channels) * height * width; }
};

// Images (3-D [n, h, w] or 4-D [n, c, h, w]) and labels (1-D [n]); counts must agree.
absl::StatusOr<Dataset> LoadIdxDataset(const std::string& images_path,
                                       const std::string& labels_path);
// `split` "train" or "t10k": DIR/<split>-images-idx3-ubyte[.gz] and labels-idx1.
absl::StatusOr<Dataset> LoadSplit(const std::string& dir, std::string_view split);

// INVALID_ARGUMENT naming d's labels file, the first label that is not below `classes` (and
// its image) and the largest label, when there is one; `owner` says whose classes they are
// (e.g. "architecture 'smallres28'").
absl::Status CheckLabels(const Dataset& d, int classes, std::string_view owner);
// INVALID_ARGUMENT naming d's images file when its images are not channels x height x width;
// `owner` says whose shape that is (e.g. "the training images").
absl::Status CheckImageShape(const Dataset& d, int channels, int height, int width,
                             std::string_view owner);

// Seeded random split: `val_count` images go to *val, the rest to *train.
void SplitTrainVal(const Dataset& all, int val_count, uint64_t seed, Dataset* train, Dataset* val);
// First `count` images (or all), for small runs and tests.
Dataset Head(const Dataset& d, int count);

// Pixel normalisation: x = (pixel / 255 - mean) / std, per channel.
struct Normalization {
  std::vector<float> mean, std;
};
Normalization ComputeNormalization(const Dataset& d);

struct Augment {
  bool enabled = false;
  int crop_pad = 2;   // random crop of the image padded by this many zero pixels
  bool hflip = true;  // flip left-right with probability 1/2
};

// Writes images idx[0..n) as normalised NCHW floats and their labels. With augmentation,
// draws the crop offsets and flips from `rng` (deterministic for a given rng state).
void MakeBatch(const Dataset& d, const int* idx, int n, const Normalization& norm,
               const Augment& aug, std::mt19937_64* rng, float* images, int32_t* labels);

}  // namespace adaspring::engine::train

#endif  // ADASPRING_ENGINE_TRAIN_DATASET_H_

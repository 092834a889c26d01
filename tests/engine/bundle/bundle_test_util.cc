#include "engine/bundle/bundle_test_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "adaspring/engine/bundle.h"
#include "adaspring/engine/predictor.h"

namespace adaspring::engine::testing {
namespace {

uint32_t U32(const std::string& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
void PutU32(std::string& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }

}  // namespace

ArchSpec TinyArch() {
  ArchSpec a;
  a.name = "tiny";
  a.in_channels = 1;
  a.in_height = a.in_width = 8;
  a.num_classes = 3;
  a.stem_channels = 8;
  a.stages = {{8, 2, 1, 1}, {16, 1, 2, 1}};
  a.width_percent = {50, 100};
  a.rank_divisors = {1, 2};
  return a;
}

std::shared_ptr<Model> FullModel(const ArchSpec& arch, uint64_t seed) {
  auto random = Model::Random(arch, seed);
  ModelMeta meta = random->meta();
  meta.version = "test-" + std::to_string(seed);
  for (int i = 0; i < arch.num_classes; ++i) meta.labels[i] = "label " + std::to_string(i);
  for (int c = 0; c < arch.in_channels; ++c) {
    meta.mean[c] = 0.25f + 0.125f * c;
    meta.std[c] = 0.3f + 0.01f * c;
  }
  meta.provenance = {"fashion-mnist",
                     "0123abc",
                     std::string(1000, 'x'),
                     "2026-11-28T13:00:00Z",
                     seed,
                     7,
                     123.5,
                     Provenance::TableSplit{5000, 0}};
  // Copy the weights so that the model owns them (the original keeps its own).
  TensorStore store;
  for (const auto& [name, e] : random->tensors().entries())
    store.Add(name, e.shape, std::vector<float>(e.data, e.data + e.numel));
  auto model = std::make_shared<Model>(arch, meta, std::move(store));
  model->activation_amax = {{"stem.out", 3.5f}, {"s0.b0.out", 7.25f}, {"fc.in", 0.5f}};
  PredictorParams p;
  p.kind = "ridge";
  const std::vector<std::string> names = AccuracyPredictor::FeatureNames(model->space());
  p.feature_names = {"int8", names.front(), names[names.size() / 2]};
  p.coefficients = {-0.003, 0.04, 1.0 / 3.0};
  p.intercept = 0.61;
  p.kendall_tau = 0.87;
  p.mae_pt = 0.41;
  p.fitted_configs = 300;
  p.heldout_configs = 120;
  model->predictor = p;
  const ConfigSpace& space = model->space();
  model->measured = {{space.ToText(space.Full()), 0.9123, "val", false},
                     {space.ToText(space.Smallest()), 0.81, "test", true}};
  return model;
}

// Every directory made here is removed when the test process exits.
class TempDirs {
 public:
  ~TempDirs() {
    std::error_code ec;
    for (const std::string& d : dirs_) std::filesystem::remove_all(d, ec);
  }
  void Add(const std::string& d) {
    std::lock_guard<std::mutex> lock(mu_);
    dirs_.push_back(d);
  }

 private:
  std::mutex mu_;
  std::vector<std::string> dirs_;
};

std::string MakeTempDir(const std::string& tag) {
  static std::atomic<int> counter{0};
  static TempDirs cleanup;
  // A death test's child is a re-run of this binary (threadsafe style) that leaves with
  // _exit, so nothing it registers is ever removed: its directories go under its parent's
  // root, which the parent removes as a whole.
  const bool death_test_child = !GTEST_FLAG_GET(internal_run_death_test).empty();
  const std::string root = ::testing::TempDir() + "/adaspring_bundle_" +
                           std::to_string(death_test_child ? ::getppid() : ::getpid());
  const std::string dir = root + "/" + tag + "_" + std::to_string(counter++) +
                          (death_test_child ? "_child" + std::to_string(::getpid()) : "");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  if (!death_test_child) cleanup.Add(root);
  return dir;
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFileOrDie(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  EXPECT_TRUE(out.good()) << path;
}

pb::BundleManifest ManifestOf(const std::string& bundle) {
  pb::BundleManifest m;
  EXPECT_TRUE(m.ParseFromArray(bundle.data() + 20, static_cast<int>(U32(bundle, 12))));
  return m;
}

int EntryIndex(const pb::BundleManifest& m, const std::string& name) {
  for (int i = 0; i < m.tensors_size(); ++i)
    if (m.tensors(i).name() == name) return i;
  return -1;
}

std::string EditManifest(const std::string& bundle,
                         const std::function<void(pb::BundleManifest&)>& edit) {
  pb::BundleManifest m = ManifestOf(bundle);
  uint64_t first = bundle.size();
  for (const auto& t : m.tensors()) first = std::min<uint64_t>(first, t.offset());
  m.mutable_provenance()->clear_command();
  edit(m);
  std::string bytes;
  m.SerializeToString(&bytes);
  EXPECT_LE(20 + bytes.size(), first) << "edited manifest does not fit before the tensors";
  std::string out = bundle;
  std::fill(out.begin() + 20, out.begin() + static_cast<std::ptrdiff_t>(first), '\0');
  PutU32(out, 12, static_cast<uint32_t>(bytes.size()));
  PutU32(out, 16, Crc32c(bytes.data(), bytes.size()));
  std::memcpy(out.data() + 20, bytes.data(), bytes.size());
  return out;
}

std::string SetFloat(const std::string& bundle, const std::string& name, int64_t index,
                     float value) {
  const pb::BundleManifest m = ManifestOf(bundle);
  const int i = EntryIndex(m, name);
  EXPECT_GE(i, 0) << name;
  std::string out = bundle;
  const pb::TensorEntry& t = m.tensors(i);
  std::memcpy(out.data() + t.offset() + 4 * index, &value, 4);
  const uint32_t crc = Crc32c(out.data() + t.offset(), t.size_bytes());
  return EditManifest(out, [&](pb::BundleManifest& e) { e.mutable_tensors(i)->set_crc32c(crc); });
}

}  // namespace adaspring::engine::testing

#include "train/checkpoint.h"

#include <errno.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "train/trainer_impl.h"

namespace adaspring::engine::train {
namespace {

constexpr char kMagic[8] = {'A', 'S', 'C', 'K', 'P', 'T', '0', '1'};

class Writer {
 public:
  void Bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  template <typename T>
  void Pod(T v) {
    Bytes(&v, sizeof(v));
  }
  void Str(const std::string& s) {
    Pod<uint32_t>(static_cast<uint32_t>(s.size()));
    Bytes(s.data(), s.size());
  }
  void Floats(const std::vector<float>& v) {
    Pod<uint64_t>(v.size());
    Bytes(v.data(), v.size() * sizeof(float));
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(std::string_view in) : in_(in) {}
  bool Bytes(void* p, size_t n) {
    if (in_.size() - pos_ < n) return false;
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  template <typename T>
  bool Pod(T* v) {
    return Bytes(v, sizeof(T));
  }
  bool Str(std::string* s) {
    uint32_t n = 0;
    if (!Pod(&n) || in_.size() - pos_ < n) return false;
    s->assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  // Reads a float array that must have exactly `expected` elements.
  bool Floats(std::vector<float>* v, size_t expected) {
    uint64_t n = 0;
    if (!Pod(&n) || n != expected) return false;
    v->resize(n);
    return Bytes(v->data(), n * sizeof(float));
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

absl::Status SaveCheckpoint(const std::string& path, const CheckpointHeader& h,
                            const Supernet& net) {
  Writer w;
  w.Bytes(kMagic, sizeof(kMagic));
  w.Str(h.arch);
  w.Pod(h.seed);
  w.Pod(h.batch);
  w.Pod(h.epochs_done);
  w.Pod(h.global_step);
  w.Pod(h.train_seconds);
  w.Pod<uint32_t>(static_cast<uint32_t>(net.params().size()));
  for (const Param& p : net.params()) {
    w.Str(p.name);
    w.Floats(p.value);
    w.Floats(p.momentum);
  }
  w.Pod<uint32_t>(static_cast<uint32_t>(net.bn_stats().size()));
  for (const auto& [name, st] : net.bn_stats()) {
    w.Str(name);
    w.Floats(st.mean);
    w.Floats(st.var);
  }
  const uLong crc =
      crc32(0L, reinterpret_cast<const Bytef*>(w.out().data()), static_cast<uInt>(w.out().size()));
  w.Pod<uint32_t>(static_cast<uint32_t>(crc));

  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return FileError(tmp, "cannot create the checkpoint", errno);
    f.write(w.out().data(), static_cast<std::streamsize>(w.out().size()));
    f.flush();
    if (!f) return absl::DataLossError(absl::StrCat(tmp, ": write failed"));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat(path, ": rename failed: ", ec.message()));
  return absl::OkStatus();
}

absl::Status LoadCheckpoint(const std::string& path, const CheckpointHeader& expect, Supernet* net,
                            CheckpointHeader* h) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError(absl::StrCat(path, ": cannot open checkpoint"));
  std::ostringstream ss;
  ss << f.rdbuf();
  const std::string bytes = ss.str();
  auto loss = [&](std::string_view what) {
    return absl::DataLossError(absl::StrCat(path, ": damaged checkpoint: ", std::string(what)));
  };
  if (bytes.size() < sizeof(kMagic) + 4 || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)))
    return loss("bad magic");
  uint32_t stored_crc = 0;
  std::memcpy(&stored_crc, bytes.data() + bytes.size() - 4, 4);
  const uLong crc =
      crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size() - 4));
  if (static_cast<uint32_t>(crc) != stored_crc) return loss("checksum mismatch");
  Reader r(std::string_view(bytes.data() + sizeof(kMagic), bytes.size() - sizeof(kMagic) - 4));
  if (!r.Str(&h->arch) || !r.Pod(&h->seed) || !r.Pod(&h->batch) || !r.Pod(&h->epochs_done) ||
      !r.Pod(&h->global_step) || !r.Pod(&h->train_seconds))
    return loss("truncated header");
  if (h->arch != expect.arch || h->seed != expect.seed || h->batch != expect.batch)
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": checkpoint is of arch '", h->arch, "' seed ", h->seed, " batch ", h->batch,
        ", this run is '", expect.arch, "' seed ", expect.seed, " batch ", expect.batch));
  uint32_t count = 0;
  if (!r.Pod(&count) || count != net->params().size()) return loss("parameter count");
  for (Param& p : net->params()) {
    std::string name;
    if (!r.Str(&name) || name != p.name) return loss(absl::StrCat("expected parameter ", p.name));
    if (!r.Floats(&p.value, p.value.size()) || !r.Floats(&p.momentum, p.momentum.size()))
      return loss(absl::StrCat("parameter ", p.name));
  }
  if (!r.Pod(&count) || count != net->bn_stats().size()) return loss("BN statistics count");
  for (auto& [name, st] : net->bn_stats()) {
    std::string got;
    if (!r.Str(&got) || got != name) return loss(absl::StrCat("expected BN statistics ", name));
    if (!r.Floats(&st.mean, st.mean.size()) || !r.Floats(&st.var, st.var.size()))
      return loss(absl::StrCat("BN statistics ", name));
  }
  return absl::OkStatus();
}

}  // namespace adaspring::engine::train

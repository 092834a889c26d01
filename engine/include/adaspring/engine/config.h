// Configuration space of a supernet: one choice per elastic dimension.
//
// Dimensions: depth per stage (1..num_blocks; trailing blocks are skipped), inner width per
// block (index into ArchSpec::width_percent), rank per block (index into rank_divisors; 0 =
// full rank) and one precision for the whole network.
//
// Canonical text form: "d=2.1.2 w=100.50.25.100.75.100 r=1.1.2.1.4.1 p=f32"
//   d: depth per stage; w: width percent per block; r: rank divisor per block; p: f32|int8.
// In canonical form, blocks that do not run (b >= depth) carry the maximum width and full
// rank, so each distinct network has exactly one text and one id.
// Integer id: mixed-radix code of (precision, depth[s], width_idx[b], rank_idx[b]) of the
// canonical form; dense over all combinations, so Size() counts distinct networks only when
// restricted to canonical ids (see CanonicalCount()).
//
// Thread safety: ConfigSpace is immutable after construction; all methods are const.
#ifndef ADASPRING_ENGINE_CONFIG_H_
#define ADASPRING_ENGINE_CONFIG_H_

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "adaspring/engine/arch.h"

namespace adaspring::engine {

enum class Precision : uint8_t { kF32 = 0, kInt8 = 1 };

struct Config {
  std::vector<uint8_t> depth;      // per stage
  std::vector<uint8_t> width_idx;  // per block (global index)
  std::vector<uint8_t> rank_idx;   // per block (global index)
  Precision precision = Precision::kF32;

  bool operator==(const Config&) const = default;
};

class ConfigSpace {
 public:
  explicit ConfigSpace(const ArchSpec& arch);

  const NetSpec& net() const { return net_; }
  const ArchSpec& arch() const { return arch_; }
  int num_stages() const { return static_cast<int>(arch_.stages.size()); }
  int num_blocks() const { return static_cast<int>(net_.blocks.size()); }

  Config Full(Precision p = Precision::kF32) const;       // every dimension at its maximum
  Config Smallest(Precision p = Precision::kInt8) const;  // every dimension at its minimum
  // Narrowest full-depth: every width at its minimum, depth and rank at their maximum.
  Config Narrowest(Precision p = Precision::kF32) const;

  // Whether block b runs under c.
  bool BlockActive(const Config& c, int block) const;
  // Inner channels of block b under c, and rank of a factorisable conv (0 = unfactorised).
  int InnerChannels(const Config& c, int block) const;
  int RankDivisor(const Config& c, int block) const;

  absl::Status Validate(const Config& c) const;
  Config Canonical(const Config& c) const;

  std::string ToText(const Config& c) const;
  absl::StatusOr<Config> Parse(std::string_view text) const;  // accepts "full", "smallest",
                                                              // "narrowest" too
  uint64_t ToId(const Config& c) const;                       // of Canonical(c)
  absl::StatusOr<Config> FromId(uint64_t id) const;

  // Number of distinct (canonical) configurations.
  double CanonicalCount() const;
  // Calls fn for every canonical configuration (stops when fn returns false).
  void Enumerate(const std::function<bool(const Config&)>& fn) const;
  // Uniform over each dimension's choices (then canonicalised).
  Config Sample(std::mt19937_64& rng) const;
  // Canonical configurations that differ from c in exactly one choice (one step up or down).
  std::vector<Config> Neighbours(const Config& c) const;
  // Full-depth configurations k = 0 .. CoveringCount() - 1 at precision p that together hold
  // every block's (width, rank) choice: configuration k gives every block its
  // (k mod choices)-th choice. Profiling and warm-up build exactly these.
  int CoveringCount() const;
  Config Covering(int k, Precision p) const;

 private:
  ArchSpec arch_;
  NetSpec net_;
};

}  // namespace adaspring::engine

#endif  // ADASPRING_ENGINE_CONFIG_H_

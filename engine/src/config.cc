#include "adaspring/engine/config.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace adaspring::engine {

ConfigSpace::ConfigSpace(const ArchSpec& arch) : arch_(arch), net_(BuildNetSpec(arch)) {}

Config ConfigSpace::Full(Precision p) const {
  Config c;
  for (const StageSpec& s : arch_.stages) c.depth.push_back(static_cast<uint8_t>(s.num_blocks));
  for (const BlockSpec& b : net_.blocks) {
    c.width_idx.push_back(static_cast<uint8_t>(b.inner_choices.size() - 1));
    c.rank_idx.push_back(0);
  }
  c.precision = p;
  return c;
}

Config ConfigSpace::Smallest(Precision p) const {
  Config c = Full(p);
  std::fill(c.depth.begin(), c.depth.end(), 1);
  std::fill(c.width_idx.begin(), c.width_idx.end(), 0);
  for (const BlockSpec& b : net_.blocks) c.rank_idx[b.global_index] = b.rank_choices - 1;
  return Canonical(c);
}

int ConfigSpace::CoveringCount() const {
  int n = 1;
  for (const BlockSpec& b : net_.blocks)
    n = std::max(n, static_cast<int>(b.inner_choices.size()) * b.rank_choices);
  return n;
}

Config ConfigSpace::Covering(int k, Precision p) const {
  Config c = Full(p);
  for (const BlockSpec& b : net_.blocks) {
    const int choice = k % (static_cast<int>(b.inner_choices.size()) * b.rank_choices);
    c.width_idx[b.global_index] = static_cast<uint8_t>(choice / b.rank_choices);
    c.rank_idx[b.global_index] = static_cast<uint8_t>(choice % b.rank_choices);
  }
  return c;
}

Config ConfigSpace::Narrowest(Precision p) const {
  Config c = Full(p);
  std::fill(c.width_idx.begin(), c.width_idx.end(), 0);
  return c;
}

bool ConfigSpace::BlockActive(const Config& c, int block) const {
  const BlockSpec& b = net_.blocks[block];
  return b.index < c.depth[b.stage];
}

int ConfigSpace::InnerChannels(const Config& c, int block) const {
  return net_.blocks[block].inner_choices[c.width_idx[block]];
}

int ConfigSpace::RankDivisor(const Config& c, int block) const {
  return arch_.rank_divisors[c.rank_idx[block]];
}

absl::Status ConfigSpace::Validate(const Config& c) const {
  if (c.depth.size() != arch_.stages.size())
    return absl::InvalidArgumentError(absl::StrCat("config has ", c.depth.size(),
                                                   " depths, architecture has ",
                                                   arch_.stages.size(), " stages"));
  if (c.width_idx.size() != net_.blocks.size() || c.rank_idx.size() != net_.blocks.size())
    return absl::InvalidArgumentError(
        absl::StrCat("config must have ", net_.blocks.size(), " widths and ranks"));
  for (size_t s = 0; s < c.depth.size(); ++s) {
    if (c.depth[s] < 1 || c.depth[s] > arch_.stages[s].num_blocks)
      return absl::InvalidArgumentError(absl::StrCat("depth of stage ", s, " is ", int{c.depth[s]},
                                                     ", allowed 1..", arch_.stages[s].num_blocks));
  }
  for (const BlockSpec& b : net_.blocks) {
    if (c.width_idx[b.global_index] >= b.inner_choices.size())
      return absl::InvalidArgumentError(
          absl::StrCat("width choice of block ", b.global_index, " out of range"));
    if (c.rank_idx[b.global_index] >= b.rank_choices)
      return absl::InvalidArgumentError(
          absl::StrCat("rank choice of block ", b.global_index, " out of range"));
  }
  if (c.precision != Precision::kF32 && c.precision != Precision::kInt8)
    return absl::InvalidArgumentError("precision must be f32 or int8");
  return absl::OkStatus();
}

Config ConfigSpace::Canonical(const Config& c) const {
  Config out = c;
  for (const BlockSpec& b : net_.blocks) {
    if (!BlockActive(c, b.global_index)) {
      out.width_idx[b.global_index] = static_cast<uint8_t>(b.inner_choices.size() - 1);
      out.rank_idx[b.global_index] = 0;
    }
  }
  return out;
}

namespace {
// Width text of a block: the percent of the choice (blocks with a single, inelastic choice
// print 100).
int WidthPercent(const ArchSpec& arch, const BlockSpec& b, int idx) {
  return b.inner_choices.size() == 1 ? 100 : arch.width_percent[idx];
}
}  // namespace

std::string ConfigSpace::ToText(const Config& c) const {
  std::vector<int> d(c.depth.begin(), c.depth.end()), w, r;
  for (const BlockSpec& b : net_.blocks) {
    w.push_back(WidthPercent(arch_, b, c.width_idx[b.global_index]));
    r.push_back(arch_.rank_divisors[c.rank_idx[b.global_index]]);
  }
  return absl::StrCat("d=", absl::StrJoin(d, "."), " w=", absl::StrJoin(w, "."),
                      " r=", absl::StrJoin(r, "."),
                      " p=", c.precision == Precision::kInt8 ? "int8" : "f32");
}

absl::StatusOr<Config> ConfigSpace::Parse(std::string_view text_in) const {
  // Debian's abseil is built with its own string_view (not std::string_view).
  const absl::string_view text(text_in.data(), text_in.size());
  if (text == "full") return Full();
  if (text == "smallest") return Smallest();
  if (text == "narrowest") return Narrowest();
  // A long text is shown by its start and length, so the reason stays in a short message.
  const std::string shown = text.size() <= 80
                                ? std::string(text)
                                : absl::StrCat(text.substr(0, 60), "...(", text.size(), " bytes)");
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("configuration '", shown, "': ", why,
                                                   " (expected e.g. '", ToText(Full()),
                                                   "', or full|smallest|narrowest)"));
  };
  Config c = Full();
  std::set<char> seen;
  for (absl::string_view part : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (part.size() < 3 || part[1] != '=') return bad(absl::StrCat("bad field '", part, "'"));
    const char key = part[0];
    if (!seen.insert(key).second)
      return bad(absl::StrCat("field '", std::string(1, key), "' given twice"));
    absl::string_view value = part.substr(2);
    if (key == 'p') {
      if (value == "f32" || value == "fp32")
        c.precision = Precision::kF32;
      else if (value == "int8")
        c.precision = Precision::kInt8;
      else
        return bad("precision must be f32 or int8");
      continue;
    }
    std::vector<int> nums;
    for (absl::string_view v : absl::StrSplit(value, '.')) {
      int n = 0;
      if (!absl::SimpleAtoi(v, &n)) return bad(absl::StrCat("'", v, "' is not a number"));
      nums.push_back(n);
    }
    if (key == 'd') {
      if (nums.size() != arch_.stages.size())
        return bad(absl::StrCat("d needs ", arch_.stages.size(), " values"));
      for (size_t s = 0; s < nums.size(); ++s) {
        if (nums[s] < 1 || nums[s] > arch_.stages[s].num_blocks)
          return bad(absl::StrCat("depth ", nums[s], " of stage ", s, " not in 1..",
                                  arch_.stages[s].num_blocks));
        c.depth[s] = static_cast<uint8_t>(nums[s]);
      }
    } else if (key == 'w' || key == 'r') {
      if (nums.size() != net_.blocks.size())
        return bad(absl::StrCat(std::string(1, key), " needs ", net_.blocks.size(), " values"));
      for (const BlockSpec& b : net_.blocks) {
        const int v = nums[b.global_index];
        if (key == 'w') {
          if (b.inner_choices.size() == 1) {
            if (v != 100)
              return bad(absl::StrCat("block ", b.global_index, " has fixed width; use 100"));
            continue;
          }
          auto it = std::find(arch_.width_percent.begin(), arch_.width_percent.end(), v);
          if (it == arch_.width_percent.end())
            return bad(absl::StrCat("width ", v, " of block ", b.global_index, " is not a choice"));
          c.width_idx[b.global_index] = static_cast<uint8_t>(it - arch_.width_percent.begin());
        } else {
          auto it = std::find(arch_.rank_divisors.begin(), arch_.rank_divisors.end(), v);
          const int idx = static_cast<int>(it - arch_.rank_divisors.begin());
          if (it == arch_.rank_divisors.end() || idx >= b.rank_choices)
            return bad(
                absl::StrCat("rank divisor ", v, " of block ", b.global_index, " is not a choice"));
          c.rank_idx[b.global_index] = static_cast<uint8_t>(idx);
        }
      }
    } else {
      return bad(absl::StrCat("unknown field '", std::string(1, key), "'"));
    }
  }
  if (!seen.count('d') || !seen.count('w') || !seen.count('r') || !seen.count('p'))
    return bad("fields d, w, r and p are all required");
  return Canonical(c);
}

// Ids are dense over canonical configurations: id = precision + 2 * (mixed-radix code of the
// per-stage indices), where a stage's index enumerates (depth, choices of its active blocks):
// all depth-1 combinations first, then depth 2, and so on. Skipped blocks take no digits, so
// the largest id is CanonicalCount() - 1 (5.7e17 for mobilenetv2, well inside 64 bits).
namespace {
uint64_t BlockRadix(const BlockSpec& b) {
  return static_cast<uint64_t>(b.inner_choices.size()) * static_cast<uint64_t>(b.rank_choices);
}
}  // namespace

uint64_t ConfigSpace::ToId(const Config& raw) const {
  const Config c = Canonical(raw);
  uint64_t id = 0, radix = 1;
  for (int s = 0; s < num_stages(); ++s) {
    // Stage index: offset of all shallower depths + code of the active blocks' choices.
    uint64_t offset = 0, prefix = 1, code = 0, place = 1, stage_count = 0;
    for (const BlockSpec& b : net_.blocks) {
      if (b.stage != s) continue;
      prefix *= BlockRadix(b);
      stage_count += prefix;
      if (b.index < c.depth[s]) {
        code += (static_cast<uint64_t>(c.width_idx[b.global_index]) * b.rank_choices +
                 c.rank_idx[b.global_index]) *
                place;
        place *= BlockRadix(b);
      }
      if (b.index + 1 < c.depth[s]) offset += prefix;
    }
    id += (offset + code) * radix;
    radix *= stage_count;
  }
  return static_cast<uint64_t>(c.precision) + 2 * id;
}

absl::StatusOr<Config> ConfigSpace::FromId(uint64_t id) const {
  if (static_cast<double>(id) >= CanonicalCount())
    return absl::InvalidArgumentError(
        absl::StrCat("configuration id ", id, " is out of range for ", arch_.name));
  Config c = Full();
  c.precision = static_cast<Precision>(id % 2);
  uint64_t rest = id / 2;
  std::vector<uint64_t> stage_counts(num_stages(), 0);
  for (int s = 0; s < num_stages(); ++s) {
    uint64_t prefix = 1;
    for (const BlockSpec& b : net_.blocks) {
      if (b.stage != s) continue;
      prefix *= BlockRadix(b);
      stage_counts[s] += prefix;
    }
  }
  for (int s = 0; s < num_stages(); ++s) {
    uint64_t stage_index = rest % stage_counts[s];
    rest /= stage_counts[s];
    // Find the depth: subtract the counts of shallower depths.
    uint64_t prefix = 1;
    int depth = 0;
    std::vector<const BlockSpec*> blocks;
    for (const BlockSpec& b : net_.blocks)
      if (b.stage == s) blocks.push_back(&b);
    for (const BlockSpec* b : blocks) {
      prefix *= BlockRadix(*b);
      ++depth;
      if (stage_index < prefix) break;
      stage_index -= prefix;
    }
    c.depth[s] = static_cast<uint8_t>(depth);
    for (int i = 0; i < depth; ++i) {
      const BlockSpec& b = *blocks[i];
      const uint64_t digit = stage_index % BlockRadix(b);
      stage_index /= BlockRadix(b);
      c.width_idx[b.global_index] = static_cast<uint8_t>(digit / b.rank_choices);
      c.rank_idx[b.global_index] = static_cast<uint8_t>(digit % b.rank_choices);
    }
  }
  if (rest != 0)
    return absl::InvalidArgumentError(
        absl::StrCat("configuration id ", id, " is out of range for ", arch_.name));
  return Canonical(c);
}

double ConfigSpace::CanonicalCount() const {
  double total = 2;  // precision
  for (int s = 0; s < num_stages(); ++s) {
    double stage_total = 0, prefix = 1;
    for (const BlockSpec& b : net_.blocks) {
      if (b.stage != s) continue;
      prefix *= static_cast<double>(b.inner_choices.size()) * b.rank_choices;
      stage_total += prefix;  // depth = b.index + 1
    }
    total *= stage_total;
  }
  return total;
}

void ConfigSpace::Enumerate(const std::function<bool(const Config&)>& fn) const {
  Config c = Full();
  bool stop = false;
  // Recursion over blocks in order; a block that is inactive under the current depth keeps its
  // canonical (max width, full rank) choice. Depth is chosen when a stage's first block is met.
  std::function<void(int)> rec = [&](int bi) {
    if (stop) return;
    if (bi == num_blocks()) {
      for (Precision p : {Precision::kF32, Precision::kInt8}) {
        c.precision = p;
        if (!fn(c)) {
          stop = true;
          return;
        }
      }
      return;
    }
    const BlockSpec& b = net_.blocks[bi];
    if (b.index == 0) {
      for (int d = 1; d <= arch_.stages[b.stage].num_blocks && !stop; ++d) {
        c.depth[b.stage] = static_cast<uint8_t>(d);
        for (size_t w = 0; w < b.inner_choices.size() && !stop; ++w) {
          for (int r = 0; r < b.rank_choices && !stop; ++r) {
            c.width_idx[bi] = static_cast<uint8_t>(w);
            c.rank_idx[bi] = static_cast<uint8_t>(r);
            rec(bi + 1);
          }
        }
      }
      c.depth[b.stage] = static_cast<uint8_t>(arch_.stages[b.stage].num_blocks);
      c.width_idx[bi] = static_cast<uint8_t>(b.inner_choices.size() - 1);
      c.rank_idx[bi] = 0;
      return;
    }
    if (b.index >= c.depth[b.stage]) {
      c.width_idx[bi] = static_cast<uint8_t>(b.inner_choices.size() - 1);
      c.rank_idx[bi] = 0;
      rec(bi + 1);
      return;
    }
    for (size_t w = 0; w < b.inner_choices.size() && !stop; ++w) {
      for (int r = 0; r < b.rank_choices && !stop; ++r) {
        c.width_idx[bi] = static_cast<uint8_t>(w);
        c.rank_idx[bi] = static_cast<uint8_t>(r);
        rec(bi + 1);
      }
    }
    c.width_idx[bi] = static_cast<uint8_t>(b.inner_choices.size() - 1);
    c.rank_idx[bi] = 0;
  };
  rec(0);
}

Config ConfigSpace::Sample(std::mt19937_64& rng) const {
  Config c = Full();
  for (int s = 0; s < num_stages(); ++s) {
    std::uniform_int_distribution<int> d(1, arch_.stages[s].num_blocks);
    c.depth[s] = static_cast<uint8_t>(d(rng));
  }
  for (const BlockSpec& b : net_.blocks) {
    std::uniform_int_distribution<int> w(0, static_cast<int>(b.inner_choices.size()) - 1);
    std::uniform_int_distribution<int> r(0, b.rank_choices - 1);
    c.width_idx[b.global_index] = static_cast<uint8_t>(w(rng));
    c.rank_idx[b.global_index] = static_cast<uint8_t>(r(rng));
  }
  c.precision = std::bernoulli_distribution(0.5)(rng) ? Precision::kInt8 : Precision::kF32;
  return Canonical(c);
}

std::vector<Config> ConfigSpace::Neighbours(const Config& raw) const {
  const Config c = Canonical(raw);
  std::vector<Config> out;
  auto consider = [&](Config n) {
    n = Canonical(n);
    if (n == c) return;
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(std::move(n));
  };
  for (int s = 0; s < num_stages(); ++s) {
    for (int delta : {-1, 1}) {
      const int d = c.depth[s] + delta;
      if (d < 1 || d > arch_.stages[s].num_blocks) continue;
      Config n = c;
      n.depth[s] = static_cast<uint8_t>(d);
      consider(n);
    }
  }
  for (const BlockSpec& b : net_.blocks) {
    if (!BlockActive(c, b.global_index)) continue;
    for (int delta : {-1, 1}) {
      const int w = c.width_idx[b.global_index] + delta;
      if (w >= 0 && w < static_cast<int>(b.inner_choices.size())) {
        Config n = c;
        n.width_idx[b.global_index] = static_cast<uint8_t>(w);
        consider(n);
      }
      const int r = c.rank_idx[b.global_index] + delta;
      if (r >= 0 && r < b.rank_choices) {
        Config n = c;
        n.rank_idx[b.global_index] = static_cast<uint8_t>(r);
        consider(n);
      }
    }
  }
  Config n = c;
  n.precision = c.precision == Precision::kF32 ? Precision::kInt8 : Precision::kF32;
  consider(n);
  return out;
}

}  // namespace adaspring::engine

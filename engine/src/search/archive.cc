#include "search/archive.h"

namespace adaspring::engine::search {

bool ParetoArchive::Covered(const ConfigCost& c) const {
  const int n = size();
  for (int i = 0; i < n; ++i) {
    if (lat_[i] <= c.latency_us && mem_[i] <= c.memory_bytes && energy_[i] <= c.energy_uj &&
        acc_[i] >= c.accuracy - epsilon_)
      return true;  // includes exact duplicates
  }
  return false;
}

bool ParetoArchive::Insert(const FrontierPoint& p, int tag) {
  const ConfigCost& c = p.cost;
  const int n = size();
  if (Covered(c)) return false;
  int w = 0;
  for (int i = 0; i < n; ++i) {
    const bool dominated = c.latency_us <= lat_[i] && c.memory_bytes <= mem_[i] &&
                           c.energy_uj <= energy_[i] && c.accuracy >= acc_[i];
    if (dominated) continue;
    if (w != i) {
      acc_[w] = acc_[i];
      lat_[w] = lat_[i];
      energy_[w] = energy_[i];
      mem_[w] = mem_[i];
      points_[w] = std::move(points_[i]);
      tags_[w] = tags_[i];
    }
    ++w;
  }
  acc_.resize(w);
  lat_.resize(w);
  energy_.resize(w);
  mem_.resize(w);
  points_.resize(w);
  tags_.resize(w);
  acc_.push_back(c.accuracy);
  lat_.push_back(c.latency_us);
  energy_.push_back(c.energy_uj);
  mem_.push_back(c.memory_bytes);
  points_.push_back(p);
  tags_.push_back(tag);
  return true;
}

}  // namespace adaspring::engine::search

#include "adaspring/client/types.h"

namespace adaspring::client {

int64_t InputSpec::ElementsPerImage() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int InferResult::ArgMax(int64_t b) const {
  if (classes <= 0 || b < 0 || b >= batch) return -1;
  const float* row = logits.data() + b * classes;
  int best = 0;
  for (int64_t c = 1; c < classes; ++c) {
    if (row[c] > row[best]) best = static_cast<int>(c);
  }
  return best;
}

}  // namespace adaspring::client

#include "train/layers/dnnl_util.h"

#include <omp.h>

#include "adaspring/engine/train/layers.h"
#include "exec/dnnl_util.h"

namespace adaspring::engine::train {

dnnl::engine& CpuEngine() { return exec::CpuEngine(); }

void SetTrainingThreads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}

dnnl::stream& CpuStream() {
  static dnnl::stream* stream = new dnnl::stream(CpuEngine());
  return *stream;
}

}  // namespace adaspring::engine::train

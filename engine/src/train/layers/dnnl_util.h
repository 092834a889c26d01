// Shared oneDNN objects for the training layers: one CPU engine and one in-order stream per
// process (training runs on one thread, whose OpenMP team does the parallel work).
#ifndef ADASPRING_ENGINE_SRC_TRAIN_LAYERS_DNNL_UTIL_H_
#define ADASPRING_ENGINE_SRC_TRAIN_LAYERS_DNNL_UTIL_H_

#include <cstdio>
#include <cstdlib>

#include "oneapi/dnnl/dnnl.hpp"

namespace adaspring::engine::train {

dnnl::engine& CpuEngine();  // the process's one engine: exec::CpuEngine()
dnnl::stream& CpuStream();

// Runs `fn`; a dnnl::error is a programming error here (shapes are fixed at construction),
// so it aborts with the message rather than propagating an exception out of the engine.
template <typename Fn>
void DnnlOrDie(const char* what, Fn&& fn) {
  try {
    fn();
  } catch (const dnnl::error& e) {
    std::fprintf(stderr, "adaspring train: oneDNN error in %s: %s (status %d)\n", what, e.what(),
                 static_cast<int>(e.status));
    std::abort();
  }
}

using Tag = dnnl::memory::format_tag;
using Dt = dnnl::memory::data_type;

inline dnnl::memory::desc Md(const dnnl::memory::dims& dims, Tag tag) {
  return dnnl::memory::desc(dims, Dt::f32, tag);
}

}  // namespace adaspring::engine::train

#endif  // ADASPRING_ENGINE_SRC_TRAIN_LAYERS_DNNL_UTIL_H_

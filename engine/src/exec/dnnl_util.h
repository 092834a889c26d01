// Small helpers around oneDNN shared by the executor files.
#ifndef ADASPRING_ENGINE_SRC_EXEC_DNNL_UTIL_H_
#define ADASPRING_ENGINE_SRC_EXEC_DNNL_UTIL_H_

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

#include "absl/status/status.h"
#include "exec/plan.h"

namespace adaspring::engine::exec {

// The one CPU engine of the process, shared by the executor and the trainer (created on first
// use; thread-safe). Before creating it, oneDNN is kept below AMX (at most avx512_core_bf16)
// unless ONEDNN_MAX_CPU_ISA or DNNL_MAX_CPU_ISA is set: Debian's oneDNN 2.6, creating an int8
// convolution for AMX, reads past the end of one of its own arrays (AddressSanitizer: SEGV at
// primitive creation on a Sapphire Rapids host), and such a read that crosses into an unmapped
// page would take the daemon down.
dnnl::engine& CpuEngine();

// Threads for a workspace setting (0 = all cores).
int ResolveThreads(int threads);

// Sets the calling thread's OpenMP thread count for its lifetime, restoring it afterwards.
class ScopedOmpThreads {
 public:
  explicit ScopedOmpThreads(int threads) : saved_(omp_get_max_threads()) {
    if (threads != saved_) omp_set_num_threads(threads);
  }
  ~ScopedOmpThreads() {
    if (omp_get_max_threads() != saved_) omp_set_num_threads(saved_);
  }

 private:
  int saved_;
};

// Memory descriptor of an activation tensor [batch, c, h, w] in `layout`.
dnnl::memory::desc ActivationMd(int batch, int c, int h, int w, dnnl::memory::data_type dt,
                                ActLayout layout);

absl::Status FromDnnl(const dnnl::error& e, const std::string& what);

}  // namespace adaspring::engine::exec

#endif  // ADASPRING_ENGINE_SRC_EXEC_DNNL_UTIL_H_

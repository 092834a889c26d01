// Per-ISA core power for estimated energy (DESIGN §3.5, "Energy").
//
// Used only when no power meter exists; every energy derived from it is labelled estimated.
// The figures are order-of-magnitude per busy core, not measurements of this device:
//  - x86-64: 4.0 W. A 15 W four-core mobile part (e.g. Intel Core i5-8250U, TDP 15 W) spends
//    about 3.75 W per busy core at its sustained limit; desktop and server cores draw more
//    (5-10 W), so the estimate is low for them.
//  - AArch64: 1.0 W. The Raspberry Pi 4 (4 x Cortex-A72, 1.5 GHz) draws about 6.4 W at the
//    wall under a four-core stress load against about 2.7 W idle (Raspberry Pi Foundation and
//    published reviews), i.e. ~0.9 W per busy core.
//  - 32-bit ARM: 0.5 W (Cortex-A7/A53 class boards, about half the A72 figure).
//  - other: 2.0 W.
#include "adaspring/engine/search.h"

namespace adaspring::engine {

double EstimatedCoreWatts() {
#if defined(__x86_64__) || defined(__i386__)
  return 4.0;
#elif defined(__aarch64__)
  return 1.0;
#elif defined(__arm__)
  return 0.5;
#else
  return 2.0;
#endif
}

}  // namespace adaspring::engine

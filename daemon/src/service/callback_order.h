// gRPC runs a reactor's OnCancel() from inside libgrpc++ and keeps a reference on the call
// until it returns, so OnDone() never starts before OnCancel() has returned. When libgrpc++
// is not built with ThreadSanitizer (Debian's is not), TSan cannot see that ordering and
// reports the reactor's members (and its deletion in OnDone) as racing with OnCancel. These
// two calls state the ordering to TSan; outside TSan builds they compile to nothing.
#ifndef ADASPRING_DAEMON_SERVICE_CALLBACK_ORDER_H_
#define ADASPRING_DAEMON_SERVICE_CALLBACK_ORDER_H_

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace adaspring::daemon {

// The last statement of OnCancel(), after every access to the reactor (locks released).
inline void OnCancelReturns([[maybe_unused]] void* reactor) {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(reactor);
#endif
}

// The first statement of OnDone().
inline void OnDoneStarts([[maybe_unused]] void* reactor) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(reactor);
#endif
}

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVICE_CALLBACK_ORDER_H_

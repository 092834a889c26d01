// The open sessions. Lookups (every request) are lock-free: readers load an immutable map
// through an atomic shared_ptr; opening and closing (rare) copy the map under a mutex and
// publish the new one.
#ifndef ADASPRING_DAEMON_SESSION_SESSION_TABLE_H_
#define ADASPRING_DAEMON_SESSION_SESSION_TABLE_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "session/session.h"

namespace adaspring::daemon {

struct SessionLimits {
  uint32_t max_sessions = 256;
  uint32_t max_sessions_per_app = 16;
};

class SessionTable {
 public:
  SessionTable();
  void set_limits(const SessionLimits& limits);

  // RESOURCE_EXHAUSTED (naming the limit) when the daemon or the app is at its limit.
  absl::StatusOr<std::shared_ptr<Session>> Open(const std::string& app,
                                                std::shared_ptr<LoadedModel> model,
                                                const v1::Slo& slo,
                                                std::optional<engine::Config> pinned);
  // NOT_FOUND for an unknown or closed id, UNAUTHENTICATED for a wrong token.
  absl::StatusOr<std::shared_ptr<Session>> Authenticate(const std::string& id,
                                                        const std::string& token) const;
  std::shared_ptr<Session> Find(const std::string& id) const;
  // Removes and returns the session (nullptr when unknown). The caller closes it.
  std::shared_ptr<Session> Remove(const std::string& id);
  std::vector<std::shared_ptr<Session>> All() const;  // ordered by id
  size_t size() const;

 private:
  using Map = absl::flat_hash_map<std::string, std::shared_ptr<Session>>;
  std::atomic<std::shared_ptr<const Map>> map_;

  absl::Mutex mu_;  // writers
  SessionLimits limits_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  struct AppEntry {
    std::shared_ptr<AppFlow> flow;
    uint32_t sessions = 0;
  };
  std::map<std::string, AppEntry> apps_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SESSION_SESSION_TABLE_H_

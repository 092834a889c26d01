#include "session/session.h"

#include <algorithm>

namespace adaspring::daemon {

Session::Session(std::string id, Token token, std::string app, std::shared_ptr<LoadedModel> model,
                 std::shared_ptr<AppFlow> flow, v1::Slo slo, std::optional<engine::Config> pinned)
    : id_(std::move(id)),
      token_(token),
      app_(std::move(app)),
      model_(std::move(model)),
      flow_(std::move(flow)),
      opened_(std::chrono::system_clock::now()),
      slo_(std::move(slo)),
      pinned_(std::move(pinned)) {
  latency_budget_us.store(slo_.latency_budget_us());
  priority.store(slo_.priority() ? slo_.priority() : 10);
}

std::shared_ptr<const ActiveVariant> Session::Swap(std::shared_ptr<const ActiveVariant> next) {
  return current_.exchange(std::move(next), std::memory_order_acq_rel);
}

v1::Slo Session::slo() const {
  absl::MutexLock lock(&mu_);
  return slo_;
}

void Session::set_slo(const v1::Slo& slo) {
  absl::MutexLock lock(&mu_);
  slo_ = slo;
  latency_budget_us.store(slo.latency_budget_us());
  priority.store(slo.priority() ? slo.priority() : 10);
}

std::optional<engine::Config> Session::pinned() const {
  absl::MutexLock lock(&mu_);
  return pinned_;
}

void Session::AddWatcher(SessionWatcher* w) { AddWatcherIfOpen(w); }

bool Session::AddWatcherIfOpen(SessionWatcher* w) {
  absl::MutexLock lock(&mu_);
  if (closed_.load()) return false;
  watchers_.push_back(w);
  return true;
}

void Session::RemoveWatcher(SessionWatcher* w) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(std::remove(watchers_.begin(), watchers_.end(), w), watchers_.end());
}

void Session::Publish(const v1::SessionEvent& event) {
  absl::MutexLock lock(&mu_);
  for (SessionWatcher* w : watchers_) w->OnSessionEvent(event);
}

void Session::Close() {
  // Under the lock: a watcher that is finishing concurrently blocks in RemoveWatcher until
  // this returns, so it cannot be destroyed while we call it.
  absl::MutexLock lock(&mu_);
  if (closed_.exchange(true)) return;
  for (SessionWatcher* w : watchers_) w->OnSessionClosed();
  watchers_.clear();
}

}  // namespace adaspring::daemon

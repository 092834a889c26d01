#include "session/session_table.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "service/proto_convert.h"

namespace adaspring::daemon {

SessionTable::SessionTable() : map_(std::make_shared<const Map>()) {}

void SessionTable::set_limits(const SessionLimits& limits) {
  absl::MutexLock lock(&mu_);
  limits_ = limits;
}

absl::StatusOr<std::shared_ptr<Session>> SessionTable::Open(const std::string& app,
                                                            std::shared_ptr<LoadedModel> model,
                                                            const v1::Slo& slo,
                                                            std::optional<engine::Config> pinned) {
  absl::StatusOr<Token> token = NewToken();
  if (!token.ok()) return token.status();
  absl::MutexLock lock(&mu_);
  std::shared_ptr<const Map> old = map_.load();
  if (old->size() >= limits_.max_sessions) {
    return absl::ResourceExhaustedError(
        absl::StrCat("session limit reached (limits.max_sessions = ", limits_.max_sessions, ")"));
  }
  AppEntry& entry = apps_[app];
  if (entry.sessions >= limits_.max_sessions_per_app) {
    return absl::ResourceExhaustedError(absl::StrCat("app '", app,
                                                     "' has reached its session limit "
                                                     "(limits.max_sessions_per_app = ",
                                                     limits_.max_sessions_per_app, ")"));
  }
  if (!entry.flow) entry.flow = std::make_shared<AppFlow>();
  char id[32];
  std::snprintf(id, sizeof(id), "s-%06llu", static_cast<unsigned long long>(next_id_++));
  auto session = std::make_shared<Session>(id, *token, app, std::move(model), entry.flow, slo,
                                           std::move(pinned));
  ++entry.sessions;
  auto next = std::make_shared<Map>(*old);
  (*next)[session->id()] = session;
  map_.store(std::move(next));
  return session;
}

absl::StatusOr<std::shared_ptr<Session>> SessionTable::Authenticate(
    const std::string& id, const std::string& token) const {
  std::shared_ptr<Session> s = Find(id);
  if (!s) return absl::NotFoundError(absl::StrCat("session_id '", Clip(id), "' is not open"));
  if (!TokenEquals(s->token(), token)) {
    return absl::UnauthenticatedError(absl::StrCat("wrong token for session ", Clip(id)));
  }
  s->Touch();
  return s;
}

std::shared_ptr<Session> SessionTable::Find(const std::string& id) const {
  std::shared_ptr<const Map> m = map_.load(std::memory_order_acquire);
  auto it = m->find(id);
  return it == m->end() ? nullptr : it->second;
}

std::shared_ptr<Session> SessionTable::Remove(const std::string& id) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<const Map> old = map_.load();
  auto it = old->find(id);
  if (it == old->end()) return nullptr;
  std::shared_ptr<Session> s = it->second;
  auto next = std::make_shared<Map>(*old);
  next->erase(id);
  map_.store(std::move(next));
  auto app = apps_.find(s->app());
  if (app != apps_.end() && --app->second.sessions == 0) apps_.erase(app);
  return s;
}

std::vector<std::shared_ptr<Session>> SessionTable::All() const {
  std::shared_ptr<const Map> m = map_.load(std::memory_order_acquire);
  std::vector<std::shared_ptr<Session>> all;
  all.reserve(m->size());
  for (const auto& [id, s] : *m) all.push_back(s);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a->id() < b->id(); });
  return all;
}

size_t SessionTable::size() const { return map_.load()->size(); }

}  // namespace adaspring::daemon

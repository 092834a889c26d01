#include "server/event_log.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "log/logger.h"

namespace adaspring::daemon {
namespace {

LogLevel LevelOf(const v1::DaemonEvent& e) {
  switch (e.kind()) {
    case v1::DaemonEvent::KIND_WARNING:
      return LogLevel::kWarning;
    case v1::DaemonEvent::KIND_CONTEXT:
      return LogLevel::kDebug;
    default:
      return LogLevel::kInfo;
  }
}

}  // namespace

EventLog::EventLog(EventBus* bus) : bus_(bus) {
  thread_ = std::thread([this] { Run(); });
  bus_->Subscribe(this);
}

EventLog::~EventLog() {
  bus_->Unsubscribe(this);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void EventLog::OnDaemonEvent(const v1::DaemonEvent& event, bool context_sample) {
  if (context_sample) return;
  if (!LogEnabled(LevelOf(event))) return;  // filtered out: not worth queueing
  absl::MutexLock lock(&mu_);
  if (queue_.size() >= kMaxQueued) {
    ++dropped_;
    return;
  }
  queue_.push_back(event);
}

void EventLog::Run() {
  while (true) {
    std::deque<v1::DaemonEvent> batch;
    uint64_t dropped = 0;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](EventLog* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
            return self->stopping_ || !self->queue_.empty();
          },
          this));
      batch.swap(queue_);
      std::swap(dropped, dropped_);
      if (batch.empty() && stopping_) return;
    }
    for (const v1::DaemonEvent& e : batch) LogDaemonEvent(e);
    if (dropped > 0) {
      Log(LogLevel::kWarning,
          absl::StrCat(dropped, " events were not logged (more than ", kMaxQueued,
                       " waiting); adaspringctl watch and the metrics still have them"));
    }
  }
}

void LogDaemonEvent(const v1::DaemonEvent& e) {
  const LogLevel level = LevelOf(e);
  if (!LogEnabled(level)) return;
  const std::string kind = v1::DaemonEvent::Kind_Name(e.kind());
  const std::string event = absl::AsciiStrToLower(absl::string_view(kind).substr(5));  // KIND_
  switch (e.kind()) {
    case v1::DaemonEvent::KIND_EVOLUTION:
      Log(level, e.message(),
          {{"event", event},
           {"app", e.app_name()},
           {"model", e.model()},
           {"session_id", e.session_id()},
           {"configuration", e.current().text()},
           {"previous_configuration", e.previous().text()},
           {"reaction_ms", absl::StrFormat("%.2f", e.reaction_ms())}});
      return;
    case v1::DaemonEvent::KIND_SESSION_OPENED:
    case v1::DaemonEvent::KIND_SESSION_CLOSED:
      Log(level, e.message(),
          {{"event", event},
           {"app", e.app_name()},
           {"model", e.model()},
           {"session_id", e.session_id()}});
      return;
    case v1::DaemonEvent::KIND_MODEL_LOADED:
    case v1::DaemonEvent::KIND_MODEL_UNLOADED:
      Log(level, e.message(), {{"event", event}, {"model", e.model()}});
      return;
    default:
      Log(level, e.message(), {{"event", event}});
  }
}

}  // namespace adaspring::daemon

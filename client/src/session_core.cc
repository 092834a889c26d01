#include "session_core.h"

#include "channel.h"
#include "convert.h"

namespace adaspring::client::internal {
namespace {

std::chrono::system_clock::time_point DeadlineFrom(std::chrono::microseconds d) {
  return std::chrono::system_clock::now() + d;
}

}  // namespace

absl::Status SessionCore::Open() {
  v1::OpenSessionRequest req;
  {
    std::lock_guard<std::mutex> lock(mu_);
    req.set_app_name(options.app_name);
    req.set_model(options.model);
    *req.mutable_slo() = ToProto(options.slo);
    req.set_pinned_configuration(options.pinned_configuration);
  }
  v1::OpenSessionResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineFrom(std::chrono::seconds(10)));
  grpc::Status s = client->stub->OpenSession(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s, client->socket_path);
  std::lock_guard<std::mutex> lock(mu_);
  creds_.id = resp.session_id();
  creds_.token = resp.token();
  ++creds_.generation;
  config_ = FromProto(resp.configuration());
  spec = FromProto(resp.input_spec());
  return absl::OkStatus();
}

void SessionCore::SetSlo(const Slo& slo) {
  std::lock_guard<std::mutex> lock(mu_);
  options.slo = slo;
}

Credentials SessionCore::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return creds_;
}

Configuration SessionCore::configuration() const {
  std::lock_guard<std::mutex> lock(mu_);
  return config_;
}

void SessionCore::SetConfiguration(const Configuration& c) {
  std::lock_guard<std::mutex> lock(mu_);
  config_ = c;
}

bool SessionCore::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

void SessionCore::MarkClosed() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
}

absl::Status SessionCore::Reopen(int seen_generation) {
  std::lock_guard<std::mutex> reopen_lock(reopen_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return absl::FailedPreconditionError("session is closed");
    if (creds_.generation != seen_generation) return absl::OkStatus();  // someone else did
  }
  absl::Status s = Open();
  if (s.ok()) reopen_count.fetch_add(1);
  return s;
}

absl::Status SessionCore::CallWithRetry(
    const std::function<grpc::Status(const Credentials&, grpc::ClientContext*)>& call,
    std::chrono::microseconds deadline) {
  const BackoffPolicy& backoff = client->options.backoff;
  const auto give_up = std::chrono::steady_clock::now() + backoff.give_up_after;
  bool reopened_for_lost_session = false;
  for (int attempt = 0;; ++attempt) {
    if (closed()) return absl::FailedPreconditionError("session is closed");
    const Credentials creds = Current();
    grpc::ClientContext ctx;
    if (deadline.count() > 0) ctx.set_deadline(DeadlineFrom(deadline));
    const grpc::Status s = call(creds, &ctx);
    if (s.ok()) return absl::OkStatus();
    const auto code = s.error_code();
    if ((code == grpc::StatusCode::NOT_FOUND || code == grpc::StatusCode::UNAUTHENTICATED) &&
        !reopened_for_lost_session) {
      // The daemon does not know this session (it restarted, or the id now belongs to
      // another app): open it again and retry once.
      reopened_for_lost_session = true;
      absl::Status r = Reopen(creds.generation);
      if (r.ok()) continue;
      if (r.code() != absl::StatusCode::kUnavailable) return r;
    } else if (code != grpc::StatusCode::UNAVAILABLE) {
      return FromGrpc(s, client->socket_path);
    }
    // Unreachable: back off, then wait for the channel to reconnect.
    if (std::chrono::steady_clock::now() >= give_up) return FromGrpc(s, client->socket_path);
    const auto delay = backoff.Delay(attempt, BackoffJitterDraw());
    if (!SleepFor(delay)) return absl::CancelledError("session is shutting down");
    client->channel->WaitForConnected(std::chrono::system_clock::now() + backoff.max);
  }
}

bool SessionCore::SleepFor(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, delay, [&] { return woken_; });
  return !woken_;
}

void SessionCore::Wake() {
  std::lock_guard<std::mutex> lock(mu_);
  woken_ = true;
  cv_.notify_all();
}

void SessionCore::AsyncStarted() {
  std::lock_guard<std::mutex> lock(mu_);
  ++pending_async_;
}

void SessionCore::AsyncFinished() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--pending_async_ == 0) cv_.notify_all();
}

void SessionCore::WaitAsyncIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return pending_async_ == 0; });
}

}  // namespace adaspring::client::internal

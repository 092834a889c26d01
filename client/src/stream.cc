// Session::OpenStream (bidirectional inference) and Session::Watch (configuration changes).
#include <deque>
#include <mutex>
#include <thread>

#include "adaspring/client/client.h"
#include "channel.h"
#include "convert.h"
#include "session_core.h"

namespace adaspring::client {
namespace {

using internal::Credentials;
using internal::SessionCore;

class InferStreamImpl final : public InferStream {
 public:
  explicit InferStreamImpl(std::shared_ptr<SessionCore> core) : core_(std::move(core)) {
    creds_ = core_->Current();
    stream_ = core_->client->stub->InferStream(&ctx_);
  }
  ~InferStreamImpl() override {
    if (!finished_) {
      ctx_.TryCancel();
      while (stream_->Read(&resp_)) {
      }
      (void)stream_->Finish();
    }
  }

  absl::StatusOr<uint64_t> Send(const Input& input, int top_k) override {
    req_.set_session_id(creds_.id);
    req_.set_token(creds_.token);
    internal::FillTensor(input, req_.mutable_input());
    req_.set_top_k(static_cast<uint32_t>(std::max(top_k, 0)));
    const uint64_t id = core_->next_request_id.fetch_add(1);
    req_.set_request_id(id);
    req_.set_reported_latency_us(core_->last_latency_us.load(std::memory_order_relaxed));
    {
      std::lock_guard<std::mutex> lock(sent_mu_);
      if (sent_.size() >= kMaxTracked) sent_.pop_front();
      sent_.emplace_back(id, std::chrono::steady_clock::now());
    }
    if (!stream_->Write(req_)) {
      return absl::UnavailableError("inference stream ended (read it for the reason)");
    }
    return id;
  }

  absl::StatusOr<InferResult> Receive() override {
    if (finished_) return final_status_;
    if (stream_->Read(&resp_)) {
      std::lock_guard<std::mutex> lock(sent_mu_);
      for (auto it = sent_.begin(); it != sent_.end(); ++it) {
        if (it->first == resp_.request_id()) {
          core_->RecordLatency(it->second);
          sent_.erase(it);
          break;
        }
      }
      return internal::FromProto(resp_);
    }
    finished_ = true;
    const grpc::Status s = stream_->Finish();
    final_status_ = s.ok() ? absl::OutOfRangeError("inference stream ended")
                           : internal::FromGrpc(s, core_->client->socket_path);
    return final_status_;
  }

  void WritesDone() override { stream_->WritesDone(); }
  void Cancel() override { ctx_.TryCancel(); }

 private:
  std::shared_ptr<SessionCore> core_;
  Credentials creds_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::InferRequest, v1::InferResponse>> stream_;
  // Send times of requests not yet answered (for the end-to-end latency reports).
  static constexpr size_t kMaxTracked = 1024;
  std::mutex sent_mu_;
  std::deque<std::pair<uint64_t, std::chrono::steady_clock::time_point>> sent_;
  v1::InferRequest req_;    // writer thread only
  v1::InferResponse resp_;  // reader thread only
  bool finished_ = false;   // reader thread only
  absl::Status final_status_;
};

// One thread per watch: WatchSession, forward events, and on loss reopen the session.
class ConfigWatchImpl final : public ConfigWatch {
 public:
  ConfigWatchImpl(std::shared_ptr<SessionCore> core,
                  std::function<void(const ConfigEvent&)> on_event)
      : core_(std::move(core)), on_event_(std::move(on_event)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~ConfigWatchImpl() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      if (ctx_ != nullptr) ctx_->TryCancel();
      cv_.notify_all();
    }
    thread_.join();
  }

 private:
  void Run() {
    const BackoffPolicy& backoff = core_->client->options.backoff;
    int attempt = 0;
    int watched_generation = 0;
    while (!Stopping() && !core_->closed()) {
      const Credentials creds = core_->Current();
      if (watched_generation != 0 && creds.generation != watched_generation) {
        // Reopened (by this watch or by a call that found the session gone): say so before
        // the daemon's own "initial" event of the new incarnation.
        ConfigEvent e;
        e.current = core_->configuration();
        e.previous = e.current;
        e.reason = "session reopened";
        e.reopened = true;
        on_event_(e);
      }
      watched_generation = creds.generation;
      grpc::ClientContext ctx;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return;
        ctx_ = &ctx;
      }
      v1::WatchSessionRequest req;
      req.set_session_id(creds.id);
      req.set_token(creds.token);
      auto reader = core_->client->stub->WatchSession(&ctx, req);
      v1::SessionEvent ev;
      while (reader->Read(&ev)) {
        attempt = 0;
        ConfigEvent e = internal::FromProto(ev);
        core_->SetConfiguration(e.current);
        on_event_(e);
      }
      const grpc::Status s = reader->Finish();
      {
        std::lock_guard<std::mutex> lock(mu_);
        ctx_ = nullptr;
      }
      if (Stopping() || core_->closed()) return;
      const auto code = s.error_code();
      if (code == grpc::StatusCode::OK || code == grpc::StatusCode::NOT_FOUND ||
          code == grpc::StatusCode::UNAUTHENTICATED) {
        // The daemon no longer has the session (restart or forced unload): open it again.
        if (core_->Reopen(creds.generation).ok()) continue;
      }
      // Unreachable, or reopening failed: wait and try again.
      if (!Wait(backoff.Delay(attempt++, BackoffJitterDraw()))) return;
      core_->client->channel->WaitForConnected(std::chrono::system_clock::now() + backoff.max);
    }
  }

  bool Stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }
  bool Wait(std::chrono::milliseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, d, [&] { return stop_; });
    return !stop_;
  }

  std::shared_ptr<SessionCore> core_;
  std::function<void(const ConfigEvent&)> on_event_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                   // guarded by mu_
  grpc::ClientContext* ctx_ = nullptr;  // guarded by mu_; the live watch call
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<InferStream>> Session::OpenStream() {
  if (core_->closed()) return absl::FailedPreconditionError("session is closed");
  return std::unique_ptr<InferStream>(new InferStreamImpl(core_));
}

std::unique_ptr<ConfigWatch> Session::Watch(std::function<void(const ConfigEvent&)> on_event) {
  return std::make_unique<ConfigWatchImpl>(core_, std::move(on_event));
}

}  // namespace adaspring::client

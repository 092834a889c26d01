#include "adaspring/client/client.h"

#include "absl/strings/str_cat.h"
#include "adaspring/client/socket_path.h"
#include "channel.h"
#include "convert.h"
#include "session_core.h"

namespace adaspring::client {

using internal::ClientCore;
using internal::Credentials;
using internal::SessionCore;

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  auto core = std::make_shared<ClientCore>();
  core->socket_path = options.socket_path.empty() ? DefaultSocketPath() : options.socket_path;
  core->options = options;
  core->channel = internal::MakeChannel(core->socket_path, options.backoff);
  absl::Status s =
      internal::WaitConnected(*core->channel, core->socket_path, options.connect_timeout);
  if (!s.ok()) return s;
  core->stub = v1::Inference::NewStub(core->channel);
  return std::unique_ptr<Client>(new Client(std::move(core)));
}

Client::Client(std::shared_ptr<ClientCore> core) : core_(std::move(core)) {}
Client::~Client() = default;

const std::string& Client::socket_path() const { return core_->socket_path; }

absl::StatusOr<std::unique_ptr<Session>> Client::OpenSession(const SessionOptions& options) {
  auto core = std::make_shared<SessionCore>();
  core->client = core_;
  core->options = options;
  absl::Status s = core->Open();
  if (!s.ok()) return s;
  return std::unique_ptr<Session>(new Session(std::move(core)));
}

Session::Session(std::shared_ptr<SessionCore> core) : core_(std::move(core)) {}

Session::~Session() {
  if (!core_->closed()) (void)Close();
  core_->WaitAsyncIdle();
}

std::string Session::id() const { return core_->Current().id; }
Configuration Session::configuration() const { return core_->configuration(); }
const InputSpec& Session::input_spec() const { return core_->spec; }
int Session::reopen_count() const { return core_->reopen_count.load(); }

absl::StatusOr<InferResult> Session::Infer(const Input& input, int top_k,
                                           std::chrono::microseconds deadline) {
  v1::InferRequest req;
  internal::FillTensor(input, req.mutable_input());
  req.set_top_k(static_cast<uint32_t>(std::max(top_k, 0)));
  req.set_request_id(core_->next_request_id.fetch_add(1));
  req.set_reported_latency_us(core_->last_latency_us.load(std::memory_order_relaxed));
  v1::InferResponse resp;
  const auto sent = std::chrono::steady_clock::now();
  absl::Status s = core_->CallWithRetry(
      [&](const Credentials& creds, grpc::ClientContext* ctx) {
        req.set_session_id(creds.id);
        req.set_token(creds.token);
        return core_->client->stub->Infer(ctx, req, &resp);
      },
      deadline);
  if (!s.ok()) return s;
  core_->RecordLatency(sent);
  return internal::FromProto(resp);
}

absl::StatusOr<InferResult> Session::InferPixels(const uint8_t* pixels, int batch, int top_k) {
  Input input;
  input.dtype = DataType::kUint8;
  input.shape.push_back(batch);
  input.shape.insert(input.shape.end(), core_->spec.shape.begin(), core_->spec.shape.end());
  input.data = std::string_view(reinterpret_cast<const char*>(pixels),
                                static_cast<size_t>(batch * core_->spec.ElementsPerImage()));
  return Infer(input, top_k);
}

void Session::InferAsync(const Input& input, int top_k,
                         std::function<void(absl::StatusOr<InferResult>)> done) {
  // Owned by the callback, which gRPC runs exactly once.
  struct Call {
    grpc::ClientContext ctx;
    v1::InferRequest req;
    v1::InferResponse resp;
    std::chrono::steady_clock::time_point sent;
  };
  auto* call = new Call;
  const Credentials creds = core_->Current();
  call->req.set_session_id(creds.id);
  call->req.set_token(creds.token);
  internal::FillTensor(input, call->req.mutable_input());
  call->req.set_top_k(static_cast<uint32_t>(std::max(top_k, 0)));
  call->req.set_request_id(core_->next_request_id.fetch_add(1));
  call->req.set_reported_latency_us(core_->last_latency_us.load(std::memory_order_relaxed));
  call->sent = std::chrono::steady_clock::now();
  core_->AsyncStarted();
  std::shared_ptr<SessionCore> core = core_;
  core->client->stub->async()->Infer(
      &call->ctx, &call->req, &call->resp,
      [call, core, done = std::move(done)](grpc::Status status) {
        if (status.ok()) {
          core->RecordLatency(call->sent);
          done(internal::FromProto(call->resp));
        } else {
          done(internal::FromGrpc(status, core->client->socket_path));
        }
        delete call;
        core->AsyncFinished();
      });
}

absl::StatusOr<Configuration> Session::UpdateSlo(const Slo& slo) {
  v1::UpdateSloRequest req;
  *req.mutable_slo() = internal::ToProto(slo);
  v1::UpdateSloResponse resp;
  absl::Status s = core_->CallWithRetry(
      [&](const Credentials& creds, grpc::ClientContext* ctx) {
        req.set_session_id(creds.id);
        req.set_token(creds.token);
        return core_->client->stub->UpdateSlo(ctx, req, &resp);
      },
      std::chrono::seconds(10));
  if (!s.ok()) return s;
  // Later reopenings use the new SLO.
  core_->SetSlo(slo);
  Configuration c = internal::FromProto(resp.configuration());
  core_->SetConfiguration(c);
  return c;
}

absl::Status Session::Close() {
  if (core_->closed()) return absl::OkStatus();
  const Credentials creds = core_->Current();
  core_->MarkClosed();
  core_->Wake();
  v1::CloseSessionRequest req;
  req.set_session_id(creds.id);
  req.set_token(creds.token);
  v1::CloseSessionResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  return internal::FromGrpc(core_->client->stub->CloseSession(&ctx, req, &resp),
                            core_->client->socket_path);
}

}  // namespace adaspring::client

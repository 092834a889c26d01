#include "service/inference_service.h"

#include "service/infer_stream.h"
#include "service/proto_convert.h"
#include "service/watch_session.h"

namespace adaspring::daemon {

grpc::ServerUnaryReactor* InferenceService::OpenSession(grpc::CallbackServerContext* ctx,
                                                        const v1::OpenSessionRequest* request,
                                                        v1::OpenSessionResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::StatusOr<v1::OpenSessionResponse> r = daemon_->OpenSession(*request);
  if (r.ok()) *response = std::move(*r);
  reactor->Finish(ToGrpc(r.status()));
  return reactor;
}

grpc::ServerUnaryReactor* InferenceService::Infer(grpc::CallbackServerContext* ctx,
                                                  const v1::InferRequest* request,
                                                  v1::InferResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  const absl::Status st = daemon_->StartInfer(request, response, ctx->deadline(), this, reactor);
  if (!st.ok()) reactor->Finish(ToGrpc(st));
  return reactor;
}

void InferenceService::JobDone(void* tag, const absl::Status& status) {
  static_cast<grpc::ServerUnaryReactor*>(tag)->Finish(ToGrpc(status));
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* InferenceService::InferStream(
    grpc::CallbackServerContext* ctx) {
  return new InferStreamReactor(daemon_, ctx);
}

grpc::ServerUnaryReactor* InferenceService::UpdateSlo(grpc::CallbackServerContext* ctx,
                                                      const v1::UpdateSloRequest* request,
                                                      v1::UpdateSloResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::StatusOr<v1::UpdateSloResponse> r = daemon_->UpdateSlo(*request);
  if (r.ok()) *response = std::move(*r);
  reactor->Finish(ToGrpc(r.status()));
  return reactor;
}

grpc::ServerWriteReactor<v1::SessionEvent>* InferenceService::WatchSession(
    grpc::CallbackServerContext*, const v1::WatchSessionRequest* request) {
  return new WatchSessionReactor(daemon_, *request);
}

grpc::ServerUnaryReactor* InferenceService::CloseSession(grpc::CallbackServerContext* ctx,
                                                         const v1::CloseSessionRequest* request,
                                                         v1::CloseSessionResponse*) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(daemon_->CloseSession(*request)));
  return reactor;
}

}  // namespace adaspring::daemon

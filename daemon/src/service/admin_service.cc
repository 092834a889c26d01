#include "service/admin_service.h"

#include "absl/strings/str_cat.h"
#include "service/proto_convert.h"
#include "service/watch_events.h"

namespace adaspring::daemon {

bool AdminService::Refuse(grpc::ServerUnaryReactor* reactor, const char* method) const {
  if (allow_mutations_) return false;
  reactor->Finish(
      grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                   absl::StrCat(method,
                                " changes daemon state and is refused on the app socket; use the "
                                "admin socket")));
  return true;
}

grpc::ServerUnaryReactor* AdminService::GetStatus(grpc::CallbackServerContext* ctx,
                                                  const v1::GetStatusRequest*,
                                                  v1::GetStatusResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  *response = daemon_->GetStatus();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::ListModels(grpc::CallbackServerContext* ctx,
                                                   const v1::ListModelsRequest*,
                                                   v1::ListModelsResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  *response = daemon_->ListModels();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::LoadModel(grpc::CallbackServerContext* ctx,
                                                  const v1::LoadModelRequest* request,
                                                  v1::LoadModelResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (Refuse(reactor, "LoadModel")) return reactor;
  absl::StatusOr<v1::LoadModelResponse> r = daemon_->LoadModel(request->path());
  if (r.ok()) *response = std::move(*r);
  reactor->Finish(ToGrpc(r.status()));
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::UnloadModel(grpc::CallbackServerContext* ctx,
                                                    const v1::UnloadModelRequest* request,
                                                    v1::UnloadModelResponse*) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (Refuse(reactor, "UnloadModel")) return reactor;
  reactor->Finish(ToGrpc(daemon_->UnloadModel(request->name(), request->force())));
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::ListSessions(grpc::CallbackServerContext* ctx,
                                                     const v1::ListSessionsRequest*,
                                                     v1::ListSessionsResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  *response = daemon_->ListSessions();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::GetContext(grpc::CallbackServerContext* ctx,
                                                   const v1::GetContextRequest*,
                                                   v1::GetContextResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  *response = daemon_->GetContext();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerWriteReactor<v1::DaemonEvent>* AdminService::WatchEvents(
    grpc::CallbackServerContext*, const v1::WatchEventsRequest* request) {
  return new WatchEventsReactor(&daemon_->events(), request->all_context_samples());
}

grpc::ServerUnaryReactor* AdminService::SetContextOverride(
    grpc::CallbackServerContext* ctx, const v1::SetContextOverrideRequest* request,
    v1::SetContextOverrideResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (Refuse(reactor, "SetContextOverride")) return reactor;
  absl::StatusOr<v1::ContextSnapshot> r = daemon_->SetContextOverride(*request);
  if (r.ok()) *response->mutable_context() = std::move(*r);
  reactor->Finish(ToGrpc(r.status()));
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::ClearContextOverride(
    grpc::CallbackServerContext* ctx, const v1::ClearContextOverrideRequest*,
    v1::ClearContextOverrideResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (Refuse(reactor, "ClearContextOverride")) return reactor;
  *response->mutable_context() = daemon_->ClearContextOverride();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::ProfileModel(grpc::CallbackServerContext* ctx,
                                                     const v1::ProfileModelRequest* request,
                                                     v1::ProfileModelResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (Refuse(reactor, "ProfileModel")) return reactor;
  // Profiling takes seconds: it runs on the daemon's background thread, which finishes the
  // call, so no gRPC callback thread is held meanwhile.
  daemon_->ProfileModel(*request, [reactor, response](absl::StatusOr<v1::ProfileModelResponse> r) {
    if (r.ok()) *response = std::move(*r);
    reactor->Finish(ToGrpc(r.status()));
  });
  return reactor;
}

}  // namespace adaspring::daemon

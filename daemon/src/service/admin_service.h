// adaspring.v1.Admin over the callback API. The admin socket's instance allows every call;
// the app socket's instance (allow_mutations = false) answers read-only calls and refuses
// LoadModel, UnloadModel, Set/ClearContextOverride and ProfileModel with PERMISSION_DENIED:
// gRPC cannot tell which listener a call came from, so each socket has its own server.
#ifndef ADASPRING_DAEMON_SERVICE_ADMIN_SERVICE_H_
#define ADASPRING_DAEMON_SERVICE_ADMIN_SERVICE_H_

#include "adaspring/v1/admin.grpc.pb.h"
#include "server/daemon.h"

namespace adaspring::daemon {

class AdminService final : public v1::Admin::CallbackService {
 public:
  AdminService(Daemon* daemon, bool allow_mutations)
      : daemon_(daemon), allow_mutations_(allow_mutations) {}

  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* ctx,
                                      const v1::GetStatusRequest* request,
                                      v1::GetStatusResponse* response) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* ctx,
                                       const v1::ListModelsRequest* request,
                                       v1::ListModelsResponse* response) override;
  grpc::ServerUnaryReactor* LoadModel(grpc::CallbackServerContext* ctx,
                                      const v1::LoadModelRequest* request,
                                      v1::LoadModelResponse* response) override;
  grpc::ServerUnaryReactor* UnloadModel(grpc::CallbackServerContext* ctx,
                                        const v1::UnloadModelRequest* request,
                                        v1::UnloadModelResponse* response) override;
  grpc::ServerUnaryReactor* ListSessions(grpc::CallbackServerContext* ctx,
                                         const v1::ListSessionsRequest* request,
                                         v1::ListSessionsResponse* response) override;
  grpc::ServerUnaryReactor* GetContext(grpc::CallbackServerContext* ctx,
                                       const v1::GetContextRequest* request,
                                       v1::GetContextResponse* response) override;
  grpc::ServerWriteReactor<v1::DaemonEvent>* WatchEvents(
      grpc::CallbackServerContext* ctx, const v1::WatchEventsRequest* request) override;
  grpc::ServerUnaryReactor* SetContextOverride(grpc::CallbackServerContext* ctx,
                                               const v1::SetContextOverrideRequest* request,
                                               v1::SetContextOverrideResponse* response) override;
  grpc::ServerUnaryReactor* ClearContextOverride(
      grpc::CallbackServerContext* ctx, const v1::ClearContextOverrideRequest* request,
      v1::ClearContextOverrideResponse* response) override;
  grpc::ServerUnaryReactor* ProfileModel(grpc::CallbackServerContext* ctx,
                                         const v1::ProfileModelRequest* request,
                                         v1::ProfileModelResponse* response) override;

 private:
  // Finishes `reactor` with PERMISSION_DENIED and returns true on the app socket.
  bool Refuse(grpc::ServerUnaryReactor* reactor, const char* method) const;

  Daemon* const daemon_;
  const bool allow_mutations_;
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVICE_ADMIN_SERVICE_H_

// adaspring.v1.Inference over the callback API: one final class that only delegates to the
// Daemon; streaming calls get one reactor each (infer_stream.h, watch_session.h).
#ifndef ADASPRING_DAEMON_SERVICE_INFERENCE_SERVICE_H_
#define ADASPRING_DAEMON_SERVICE_INFERENCE_SERVICE_H_

#include "adaspring/v1/inference.grpc.pb.h"
#include "scheduler/job.h"
#include "server/daemon.h"

namespace adaspring::daemon {

class InferenceService final : public v1::Inference::CallbackService, private JobSink {
 public:
  explicit InferenceService(Daemon* daemon) : daemon_(daemon) {}

  grpc::ServerUnaryReactor* OpenSession(grpc::CallbackServerContext* ctx,
                                        const v1::OpenSessionRequest* request,
                                        v1::OpenSessionResponse* response) override;
  grpc::ServerUnaryReactor* Infer(grpc::CallbackServerContext* ctx, const v1::InferRequest* request,
                                  v1::InferResponse* response) override;
  grpc::ServerBidiReactor<v1::InferRequest, v1::InferResponse>* InferStream(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* UpdateSlo(grpc::CallbackServerContext* ctx,
                                      const v1::UpdateSloRequest* request,
                                      v1::UpdateSloResponse* response) override;
  grpc::ServerWriteReactor<v1::SessionEvent>* WatchSession(
      grpc::CallbackServerContext* ctx, const v1::WatchSessionRequest* request) override;
  grpc::ServerUnaryReactor* CloseSession(grpc::CallbackServerContext* ctx,
                                         const v1::CloseSessionRequest* request,
                                         v1::CloseSessionResponse* response) override;

 private:
  // Unary Infer completion: the tag is the call's reactor. Runs on a worker thread; Finish
  // only queues the response, so the worker never waits for the network.
  void JobDone(void* tag, const absl::Status& status) override;

  Daemon* const daemon_;
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVICE_INFERENCE_SERVICE_H_

// adaspring.v1.Inference over the callback API: one final class that only delegates to the
// Daemon; streaming calls get one reactor each (infer_stream.h, watch_session.h).
#ifndef ADASPRING_DAEMON_SERVICE_INFERENCE_SERVICE_H_
#define ADASPRING_DAEMON_SERVICE_INFERENCE_SERVICE_H_

#include "adaspring/v1/inference.grpc.pb.h"
#include "scheduler/job.h"
#include "server/daemon.h"

namespace adaspring::daemon {

// InferStream is registered raw (ByteBuffer in and out): its reactor parses each message
// itself, so that an undecodable one ends the stream with INVALID_ARGUMENT instead of looking
// like the client's half-close (which is all gRPC 1.51 tells a reactor about a failed parse).
using InferenceServiceBase = v1::Inference::WithCallbackMethod_OpenSession<
    v1::Inference::WithCallbackMethod_Infer<v1::Inference::WithRawCallbackMethod_InferStream<
        v1::Inference::WithCallbackMethod_UpdateSlo<v1::Inference::WithCallbackMethod_WatchSession<
            v1::Inference::WithCallbackMethod_CloseSession<v1::Inference::Service>>>>>>;

class InferenceService final : public InferenceServiceBase, private JobSink {
 public:
  explicit InferenceService(Daemon* daemon) : daemon_(daemon) {}

  grpc::ServerUnaryReactor* OpenSession(grpc::CallbackServerContext* ctx,
                                        const v1::OpenSessionRequest* request,
                                        v1::OpenSessionResponse* response) override;
  grpc::ServerUnaryReactor* Infer(grpc::CallbackServerContext* ctx, const v1::InferRequest* request,
                                  v1::InferResponse* response) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* InferStream(
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

// InferStream: one reactor per bidirectional stream. The first request authenticates the
// stream; every later request must carry the same session id and token (otherwise the stream
// ends with UNAUTHENTICATED once in-flight requests are answered). A bad request gets a
// response with its request_id and a non-OK status_code, and the stream continues.
//
// Memory is bounded: the reactor owns a fixed set of slots (request + response), one per
// request in flight or waiting to be written. When every slot is busy it stops reading, so a
// client that does not read its responses is throttled by TCP/socket flow control instead of
// growing the daemon's memory, and no other stream is affected.
#ifndef ADASPRING_DAEMON_SERVICE_INFER_STREAM_H_
#define ADASPRING_DAEMON_SERVICE_INFER_STREAM_H_

#include <grpcpp/support/byte_buffer.h>

#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "adaspring/v1/inference.grpc.pb.h"
#include "server/daemon.h"

namespace adaspring::daemon {

// The stream is raw (see InferenceService): each message arrives as bytes and is parsed here;
// one that does not parse as an InferRequest ends the stream with INVALID_ARGUMENT (after the
// requests in flight are answered), naming its position in the stream.
class InferStreamReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                                 public JobSink {
 public:
  InferStreamReactor(Daemon* daemon, grpc::CallbackServerContext* ctx);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;
  void JobDone(void* tag, const absl::Status& status) override;

 private:
  struct Slot {
    grpc::ByteBuffer in;   // the request as read
    grpc::ByteBuffer out;  // the response as written
    v1::InferRequest request;
    v1::InferResponse response;
    Slot* next = nullptr;
  };
  Slot* TakeFreeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseLocked(Slot* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReadNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void QueueWriteLocked(Slot* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stops reading (the read's slot goes back) and ends the stream with `status` once what is
  // in flight is answered.
  void EndStreamLocked(Slot* read_slot, grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Serialises the slot's response into its buffer and starts writing it.
  void StartWriteLocked(Slot* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static void SetError(Slot* s, const absl::Status& status);

  Daemon* const daemon_;
  grpc::CallbackServerContext* const ctx_;
  std::vector<Slot> slots_;
  std::shared_ptr<Session> session_;  // after the first request

  absl::Mutex mu_;
  Slot* free_ ABSL_GUARDED_BY(mu_) = nullptr;
  Slot* reading_ ABSL_GUARDED_BY(mu_) = nullptr;  // slot of the outstanding read
  Slot* write_head_ ABSL_GUARDED_BY(mu_) = nullptr;
  Slot* write_tail_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;  // client half-closed or stream failing
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // Non-null while a scheduler worker (JobDone) holds mu_: no gRPC callback holds a
  // reference on the call then, so OnDone could delete this reactor as soon as Finish() is
  // called. MaybeFinishLocked() only sets *defer_finish_, and JobDone calls Finish() after
  // releasing mu_, as its last use of the reactor.
  bool* defer_finish_ ABSL_GUARDED_BY(mu_) = nullptr;
  int in_scheduler_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t messages_read_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::Status final_ ABSL_GUARDED_BY(mu_);
};

}  // namespace adaspring::daemon

#endif  // ADASPRING_DAEMON_SERVICE_INFER_STREAM_H_

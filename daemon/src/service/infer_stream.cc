#include "service/infer_stream.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "service/callback_order.h"
#include "service/proto_convert.h"
#include "session/token.h"

namespace adaspring::daemon {

InferStreamReactor::InferStreamReactor(Daemon* daemon, grpc::CallbackServerContext* ctx)
    : daemon_(daemon),
      ctx_(ctx),
      slots_(std::clamp<uint32_t>(daemon->config().limits.max_inflight_per_session, 2, 64)) {
  absl::MutexLock lock(&mu_);
  for (Slot& s : slots_) ReleaseLocked(&s);
  ReadNextLocked();
}

InferStreamReactor::Slot* InferStreamReactor::TakeFreeLocked() {
  Slot* s = free_;
  if (s) {
    free_ = s->next;
    s->next = nullptr;
  }
  return s;
}

void InferStreamReactor::ReleaseLocked(Slot* s) {
  s->in.Clear();
  s->out.Clear();
  s->response.Clear();
  s->next = free_;
  free_ = s;
}

void InferStreamReactor::ReadNextLocked() {
  if (reading_ || reads_done_ || finished_) return;
  reading_ = TakeFreeLocked();
  if (reading_) StartRead(&reading_->in);
  // else: every slot busy; the next OnWriteDone resumes reading (back-pressure).
}

void InferStreamReactor::SetError(Slot* s, const absl::Status& status) {
  s->response.Clear();
  s->response.set_request_id(s->request.request_id());
  s->response.set_status_code(static_cast<int32_t>(status.code()));
  s->response.set_status_message(std::string(status.message()));
}

void InferStreamReactor::EndStreamLocked(Slot* read_slot, grpc::Status status) {
  ReleaseLocked(read_slot);
  reads_done_ = true;
  failed_ = true;
  final_ = std::move(status);
  MaybeFinishLocked();
}

void InferStreamReactor::OnReadDone(bool ok) {
  absl::MutexLock lock(&mu_);
  Slot* slot = reading_;
  reading_ = nullptr;
  if (!ok) {
    ReleaseLocked(slot);
    reads_done_ = true;
    MaybeFinishLocked();
    return;
  }
  ++messages_read_;
  // The bytes are parsed here (the method is raw): a message that is not an InferRequest ends
  // the stream with a status saying so, after what is in flight is answered.
  if (const grpc::Status parsed =
          grpc::SerializationTraits<v1::InferRequest>::Deserialize(&slot->in, &slot->request);
      !parsed.ok()) {
    const std::string why =
        parsed.error_message().empty() ? "" : absl::StrCat(" (", parsed.error_message(), ")");
    EndStreamLocked(slot, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                       absl::StrCat("stream message ", messages_read_,
                                                    " is not a valid adaspring.v1.InferRequest",
                                                    why, "; the stream ends here")));
    return;
  }
  const v1::InferRequest& req = slot->request;
  absl::Status auth;
  if (!session_) {
    absl::StatusOr<std::shared_ptr<Session>> s =
        daemon_->Authenticate(req.session_id(), req.token());
    if (s.ok()) {
      session_ = *s;
      session_->open_streams.fetch_add(1);
    } else {
      auth = s.status();
    }
  } else if (req.session_id() != session_->id() || !TokenEquals(session_->token(), req.token())) {
    auth = absl::UnauthenticatedError("request does not carry this stream's session and token");
  }
  if (!auth.ok()) {
    // An authentication failure ends the stream (after answering what is in flight).
    EndStreamLocked(slot, ToGrpc(auth));
    return;
  }
  ++in_scheduler_;
  // The scheduler may call JobDone on a worker before StartInferOn returns; JobDone takes
  // mu_, so it waits until this handler releases it.
  const absl::Status st = daemon_->StartInferOn(session_, &slot->request, &slot->response,
                                                ctx_->deadline(), this, slot);
  if (!st.ok()) {
    --in_scheduler_;
    SetError(slot, st);
    QueueWriteLocked(slot);
  }
  ReadNextLocked();
}

void InferStreamReactor::JobDone(void* tag, const absl::Status& status) {
  grpc::Status final;
  {
    absl::MutexLock lock(&mu_);
    Slot* slot = static_cast<Slot*>(tag);
    --in_scheduler_;
    if (!status.ok()) SetError(slot, status);
    bool finish = false;
    defer_finish_ = &finish;
    QueueWriteLocked(slot);
    defer_finish_ = nullptr;
    if (!finish) return;
    final = final_;
  }
  Finish(final);  // OnDone may run (and delete this) from here on
}

void InferStreamReactor::StartWriteLocked(Slot* s) {
  bool own = false;
  if (!grpc::SerializationTraits<v1::InferResponse>::Serialize(s->response, &s->out, &own).ok()) {
    // Not expected (the daemon built the response); answer the request with the failure.
    SetError(s, absl::InternalError("the response could not be serialised"));
    (void)grpc::SerializationTraits<v1::InferResponse>::Serialize(s->response, &s->out, &own);
  }
  StartWrite(&s->out);
}

void InferStreamReactor::QueueWriteLocked(Slot* s) {
  if (failed_ && final_.error_code() == grpc::StatusCode::CANCELLED) {
    ReleaseLocked(s);  // nobody is listening any more
    MaybeFinishLocked();
    return;
  }
  s->next = nullptr;
  if (write_tail_) {
    write_tail_->next = s;
  } else {
    write_head_ = s;
  }
  write_tail_ = s;
  if (!writing_) {
    writing_ = true;
    StartWriteLocked(write_head_);
  }
}

void InferStreamReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  Slot* done = write_head_;
  write_head_ = done->next;
  if (!write_head_) write_tail_ = nullptr;
  ReleaseLocked(done);
  writing_ = false;
  if (!ok) {
    // The client is gone: drop what is queued and stop reading.
    failed_ = true;
    reads_done_ = true;
    final_ = grpc::Status(grpc::StatusCode::CANCELLED, "stream broken");
    while (write_head_) {
      Slot* s = write_head_;
      write_head_ = s->next;
      ReleaseLocked(s);
    }
    write_tail_ = nullptr;
  } else if (write_head_) {
    writing_ = true;
    StartWriteLocked(write_head_);
  }
  ReadNextLocked();
  MaybeFinishLocked();
}

void InferStreamReactor::OnCancel() {
  {
    absl::MutexLock lock(&mu_);
    failed_ = true;
    reads_done_ = true;
    final_ = grpc::Status::CANCELLED;
    MaybeFinishLocked();
  }
  OnCancelReturns(this);
}

void InferStreamReactor::MaybeFinishLocked() {
  // Finish only when nothing references the slots: no job in the scheduler, no write and no
  // read outstanding.
  if (finished_ || !reads_done_ || reading_ || in_scheduler_ > 0 || writing_ || write_head_) {
    return;
  }
  finished_ = true;
  if (defer_finish_ != nullptr) {
    *defer_finish_ = true;
  } else {
    Finish(final_);  // in a gRPC callback, which holds the call until it returns
  }
}

void InferStreamReactor::OnDone() {
  OnDoneStarts(this);
  if (session_) {
    session_->Touch();
    session_->open_streams.fetch_sub(1);
  }
  delete this;
}

}  // namespace adaspring::daemon

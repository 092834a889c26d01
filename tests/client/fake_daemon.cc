#include "fake_daemon.h"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <thread>

namespace adaspring::testing {

namespace v1 = adaspring::v1;

struct FakeDaemon::State {
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  int next_id = 1;
  struct Session {
    std::string token, app;
    uint64_t requests = 0;
    int config = 0;  // index into configs
  };
  std::map<std::string, Session> sessions;
  uint64_t version = 0;  // bumped by Evolve / Close so watchers wake
  std::string last_reason;
  bool overridden = false;
  std::atomic<int>* opened = nullptr;

  static v1::Configuration Config(int i) {
    v1::Configuration c;
    c.set_text(i == 0 ? "d=2.2 w=100.100.100.100 r=1.1.1.1 p=f32"
                      : "d=1.1 w=25.100.25.100 r=1.1.1.1 p=int8");
    c.set_id(i == 0 ? 4242 : 7);
    c.set_precision(i == 0 ? v1::PRECISION_FP32 : v1::PRECISION_INT8);
    c.set_predicted_accuracy(i == 0 ? 0.93 : 0.88);
    c.set_predicted_latency_us(i == 0 ? 400 : 90);
    c.set_memory_bytes(i == 0 ? 1 << 20 : 100000);
    c.set_macs(i == 0 ? 5000000 : 600000);
    return c;
  }
  static v1::ModelInfo Model(const std::string& name) {
    v1::ModelInfo m;
    m.set_name(name);
    m.set_version("1");
    m.set_path("/models/" + name + ".asb");
    m.set_task("image-classification");
    for (int d : {1, 4, 4}) m.add_input_shape(d);
    m.set_num_classes(10);
    m.set_configurations(7.6e6);
    *m.mutable_full() = Config(0);
    *m.mutable_smallest() = Config(1);
    m.set_weight_bytes(1 << 20);
    return m;
  }
  v1::ContextSnapshot Context() {
    v1::ContextSnapshot c;
    c.set_sequence(17);
    c.mutable_time()->set_seconds(1764336000);
    c.set_memory_available_bytes(int64_t{3} << 30);
    c.set_memory_limit_bytes(int64_t{8} << 30);
    c.set_cpu_busy_fraction(0.25);
    c.set_cpu_count(2);
    c.set_temperature_c(45);
    c.set_on_ac(true);
    c.set_overridden(overridden);
    auto* s = c.add_sources();
    s->set_name("rapl");
    s->set_state(v1::SOURCE_STATE_DEGRADED);
    s->set_reason("energy_uj: permission denied");
    return c;
  }
  // Checks id and token; NOT_FOUND / UNAUTHENTICATED like the daemon.
  grpc::Status Check(const std::string& id, const std::string& token, Session** out) {
    auto it = sessions.find(id);
    if (it == sessions.end()) return {grpc::StatusCode::NOT_FOUND, "unknown session " + id};
    if (it->second.token != token) {
      return {grpc::StatusCode::UNAUTHENTICATED, "wrong token for session " + id};
    }
    *out = &it->second;
    return grpc::Status::OK;
  }
};

namespace {

using State = FakeDaemon::State;

grpc::Status Classify(State& st, const v1::InferRequest& req, v1::InferResponse* resp) {
  std::lock_guard<std::mutex> lock(st.mu);
  State::Session* s = nullptr;
  if (grpc::Status c = st.Check(req.session_id(), req.token(), &s); !c.ok()) return c;
  const auto& t = req.input();
  if (t.dtype() != v1::DATA_TYPE_UINT8 || t.shape_size() != 4 || t.shape(1) != 1 ||
      t.shape(2) != 4 || t.shape(3) != 4 ||
      t.raw_contents().size() != static_cast<size_t>(t.shape(0) * 16)) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "input must be uint8 [batch, 1, 4, 4]"};
  }
  ++s->requests;
  const int64_t batch = t.shape(0);
  std::vector<float> logits(static_cast<size_t>(batch * 10), 0.f);
  for (int64_t b = 0; b < batch; ++b) {
    const int cls = static_cast<unsigned char>(t.raw_contents()[b * 16]) % 10;
    logits[b * 10 + cls] = 5.f;
  }
  resp->set_request_id(req.request_id());
  resp->mutable_output()->set_dtype(v1::DATA_TYPE_FP32);
  resp->mutable_output()->add_shape(batch);
  resp->mutable_output()->add_shape(10);
  resp->mutable_output()->set_raw_contents(logits.data(), logits.size() * sizeof(float));
  const v1::Configuration c = State::Config(s->config);
  resp->set_configuration(c.text());
  resp->set_configuration_id(c.id());
  resp->set_compute_us(50);
  for (uint32_t k = 0; k < std::min<uint32_t>(req.top_k(), 10); ++k) {
    auto* cs = resp->add_top_k();
    const int cls = static_cast<unsigned char>(t.raw_contents()[0]) % 10;
    cs->set_index(k == 0 ? cls : (cls + k) % 10);
    cs->set_score(k == 0 ? 0.9f : 0.01f);
  }
  return grpc::Status::OK;
}

class InferenceImpl final : public v1::Inference::Service {
 public:
  explicit InferenceImpl(std::shared_ptr<State> st) : st_(std::move(st)) {}

  grpc::Status OpenSession(grpc::ServerContext*, const v1::OpenSessionRequest* req,
                           v1::OpenSessionResponse* resp) override {
    if (req->app_name().empty()) return {grpc::StatusCode::INVALID_ARGUMENT, "empty app_name"};
    if (req->model() != "fake") {
      return {grpc::StatusCode::NOT_FOUND, "model '" + req->model() + "' is not loaded"};
    }
    std::lock_guard<std::mutex> lock(st_->mu);
    const std::string id = "s-" + std::to_string(st_->next_id++);
    State::Session s;
    // Unique across incarnations, like the daemon's random tokens.
    static std::atomic<int> incarnation{0};
    s.token = "token-" + id + "-" + std::to_string(incarnation.fetch_add(1));
    s.app = req->app_name();
    // Tight budgets (< 1 ms) get the int8 configuration, as UpdateSlo does.
    s.config = req->pinned_configuration() == State::Config(1).text() ||
                       (req->slo().latency_budget_us() > 0 && req->slo().latency_budget_us() < 1000)
                   ? 1
                   : 0;
    st_->sessions[id] = s;
    resp->set_session_id(id);
    resp->set_token(s.token);
    *resp->mutable_configuration() = State::Config(s.config);
    auto* spec = resp->mutable_input_spec();
    for (int d : {1, 4, 4}) spec->add_shape(d);
    spec->add_accepted_dtypes(v1::DATA_TYPE_UINT8);
    spec->add_mean(0.5f);
    spec->add_std(0.25f);
    for (int i = 0; i < 10; ++i) spec->add_labels("class" + std::to_string(i));
    st_->opened->fetch_add(1);
    return grpc::Status::OK;
  }

  grpc::Status Infer(grpc::ServerContext*, const v1::InferRequest* req,
                     v1::InferResponse* resp) override {
    return Classify(*st_, *req, resp);
  }

  grpc::Status InferStream(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::InferResponse, v1::InferRequest>* stream) override {
    v1::InferRequest req;
    while (stream->Read(&req)) {
      v1::InferResponse resp;
      const grpc::Status s = Classify(*st_, req, &resp);
      if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) return s;
      if (!s.ok()) {
        resp.set_request_id(req.request_id());
        resp.set_status_code(s.error_code());
        resp.set_status_message(s.error_message());
      }
      stream->Write(resp);
    }
    return grpc::Status::OK;
  }

  grpc::Status UpdateSlo(grpc::ServerContext*, const v1::UpdateSloRequest* req,
                         v1::UpdateSloResponse* resp) override {
    std::lock_guard<std::mutex> lock(st_->mu);
    State::Session* s = nullptr;
    if (grpc::Status c = st_->Check(req->session_id(), req->token(), &s); !c.ok()) return c;
    s->config = req->slo().latency_budget_us() < 1000 ? 1 : 0;
    *resp->mutable_configuration() = State::Config(s->config);
    return grpc::Status::OK;
  }

  grpc::Status WatchSession(grpc::ServerContext* ctx, const v1::WatchSessionRequest* req,
                            grpc::ServerWriter<v1::SessionEvent>* writer) override {
    std::unique_lock<std::mutex> lock(st_->mu);
    State::Session* s = nullptr;
    if (grpc::Status c = st_->Check(req->session_id(), req->token(), &s); !c.ok()) return c;
    v1::SessionEvent e;
    *e.mutable_current() = State::Config(s->config);
    e.set_reason("initial");
    writer->Write(e);
    uint64_t seen = st_->version;
    for (;;) {
      st_->cv.wait_for(lock, std::chrono::milliseconds(20));
      if (st_->stopping || ctx->IsCancelled()) return grpc::Status::OK;
      auto it = st_->sessions.find(req->session_id());
      if (it == st_->sessions.end()) return grpc::Status::OK;  // closed
      if (st_->version != seen) {
        seen = st_->version;
        v1::SessionEvent ev;
        *ev.mutable_previous() = State::Config(1 - it->second.config);
        *ev.mutable_current() = State::Config(it->second.config);
        ev.set_reason(st_->last_reason);
        ev.set_reaction_ms(3.5);
        writer->Write(ev);
      }
    }
  }

  grpc::Status CloseSession(grpc::ServerContext*, const v1::CloseSessionRequest* req,
                            v1::CloseSessionResponse*) override {
    std::lock_guard<std::mutex> lock(st_->mu);
    State::Session* s = nullptr;
    if (grpc::Status c = st_->Check(req->session_id(), req->token(), &s); !c.ok()) return c;
    st_->sessions.erase(req->session_id());
    st_->cv.notify_all();
    return grpc::Status::OK;
  }

 private:
  std::shared_ptr<State> st_;
};

class AdminImpl final : public v1::Admin::Service {
 public:
  AdminImpl(std::shared_ptr<State> st, bool admin_socket)
      : st_(std::move(st)), admin_socket_(admin_socket) {}

  grpc::Status GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                         v1::GetStatusResponse* r) override {
    std::lock_guard<std::mutex> lock(st_->mu);
    r->set_version("0.1.0-fake");
    r->set_uptime_s(3725);
    r->set_models(1);
    r->set_sessions(static_cast<uint32_t>(st_->sessions.size()));
    r->set_requests_total(12);
    *r->mutable_context() = st_->Context();
    r->set_summary("1 model, " + std::to_string(st_->sessions.size()) + " sessions");
    r->set_mode("user");
    return grpc::Status::OK;
  }
  grpc::Status ListModels(grpc::ServerContext*, const v1::ListModelsRequest*,
                          v1::ListModelsResponse* r) override {
    *r->add_models() = State::Model("fake");
    return grpc::Status::OK;
  }
  grpc::Status LoadModel(grpc::ServerContext*, const v1::LoadModelRequest* req,
                         v1::LoadModelResponse* r) override {
    if (!admin_socket_) return Denied();
    if (req->path().find("bad") != std::string::npos) {
      return {grpc::StatusCode::INVALID_ARGUMENT, req->path() + ": bad magic"};
    }
    *r->mutable_model() = State::Model("other");
    r->mutable_model()->set_path(req->path());  // as the client sent it
    return grpc::Status::OK;
  }
  grpc::Status UnloadModel(grpc::ServerContext*, const v1::UnloadModelRequest* req,
                           v1::UnloadModelResponse*) override {
    if (!admin_socket_) return Denied();
    if (req->name() != "other") {
      return {grpc::StatusCode::NOT_FOUND, "model '" + req->name() + "' is not loaded"};
    }
    return grpc::Status::OK;
  }
  grpc::Status ListSessions(grpc::ServerContext*, const v1::ListSessionsRequest*,
                            v1::ListSessionsResponse* r) override {
    std::lock_guard<std::mutex> lock(st_->mu);
    for (const auto& [id, s] : st_->sessions) {
      auto* i = r->add_sessions();
      i->set_session_id(id);
      i->set_app_name(s.app);
      i->set_model("fake");
      i->mutable_slo()->set_latency_budget_us(5000);
      *i->mutable_configuration() = State::Config(s.config);
      i->set_requests(s.requests);
      i->set_latency_p50_ms(0.4);
    }
    return grpc::Status::OK;
  }
  grpc::Status GetContext(grpc::ServerContext*, const v1::GetContextRequest*,
                          v1::GetContextResponse* r) override {
    std::lock_guard<std::mutex> lock(st_->mu);
    *r->mutable_context() = st_->Context();
    r->mutable_budgets()->set_memory_bytes(int64_t{2} << 30);
    r->mutable_budgets()->set_cpu_capacity(1.4);
    r->mutable_budgets()->add_notes("cpu: 25% busy outside");
    return grpc::Status::OK;
  }
  grpc::Status WatchEvents(grpc::ServerContext*, const v1::WatchEventsRequest*,
                           grpc::ServerWriter<v1::DaemonEvent>* w) override {
    v1::DaemonEvent e;
    e.set_kind(v1::DaemonEvent::KIND_SESSION_OPENED);
    e.set_message("session s-1 opened by cam on fake");
    w->Write(e);
    e.set_kind(v1::DaemonEvent::KIND_EVOLUTION);
    e.set_message("cam s-1 switched to int8 (memory budget)");
    e.set_reaction_ms(4.5);
    w->Write(e);
    return grpc::Status::OK;
  }
  grpc::Status SetContextOverride(grpc::ServerContext*, const v1::SetContextOverrideRequest* req,
                                  v1::SetContextOverrideResponse* r) override {
    if (!admin_socket_) return Denied();
    if (req->has_battery_percent() && req->battery_percent() > 100) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "battery_percent 120 out of range 0..100"};
    }
    std::lock_guard<std::mutex> lock(st_->mu);
    st_->overridden = true;
    *r->mutable_context() = st_->Context();
    if (req->has_memory_available_bytes()) {
      r->mutable_context()->set_memory_available_bytes(req->memory_available_bytes());
    }
    return grpc::Status::OK;
  }
  grpc::Status ClearContextOverride(grpc::ServerContext*, const v1::ClearContextOverrideRequest*,
                                    v1::ClearContextOverrideResponse* r) override {
    if (!admin_socket_) return Denied();
    std::lock_guard<std::mutex> lock(st_->mu);
    st_->overridden = false;
    *r->mutable_context() = st_->Context();
    return grpc::Status::OK;
  }
  grpc::Status ProfileModel(grpc::ServerContext*, const v1::ProfileModelRequest* req,
                            v1::ProfileModelResponse* r) override {
    if (!admin_socket_) return Denied();
    r->set_model(req->name());
    r->set_cpu_model("Fake CPU");
    r->set_threads(2);
    // A profile measured earlier, unless --force asks for a new one.
    r->set_from_cache(!req->force());
    r->set_profiling_ms(req->force() ? 850 : 0);
    auto* l = r->add_layers();
    l->set_layer("stem");
    l->set_latency_us(12.5);
    return grpc::Status::OK;
  }

 private:
  static grpc::Status Denied() {
    return {grpc::StatusCode::PERMISSION_DENIED, "admin call on the app socket"};
  }
  std::shared_ptr<State> st_;
  bool admin_socket_;
};

}  // namespace

FakeDaemon::FakeDaemon(std::string dir) : dir_(std::move(dir)) {}
FakeDaemon::~FakeDaemon() { Stop(); }

void FakeDaemon::Start() {
  state_ = std::make_shared<State>();
  state_->opened = &opened_;
  inference_ = std::make_unique<InferenceImpl>(state_);
  admin_app_ = std::make_unique<AdminImpl>(state_, false);
  admin_admin_ = std::make_unique<AdminImpl>(state_, true);
  grpc::ServerBuilder app;
  app.AddListeningPort("unix:" + app_socket(), grpc::InsecureServerCredentials());
  app.RegisterService(inference_.get());
  app.RegisterService(admin_app_.get());
  app_server_ = app.BuildAndStart();
  grpc::ServerBuilder admin;
  admin.AddListeningPort("unix:" + admin_socket(), grpc::InsecureServerCredentials());
  admin.RegisterService(admin_admin_.get());
  admin_server_ = admin.BuildAndStart();
}

void FakeDaemon::Stop() {
  if (!app_server_) return;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopping = true;
    state_->cv.notify_all();
  }
  const auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(200);
  app_server_->Shutdown(deadline);
  admin_server_->Shutdown(deadline);
  app_server_->Wait();
  admin_server_->Wait();
  app_server_.reset();
  admin_server_.reset();
  ::unlink(app_socket().c_str());
  ::unlink(admin_socket().c_str());
}

void FakeDaemon::Evolve(const std::string& reason) {
  std::lock_guard<std::mutex> lock(state_->mu);
  for (auto& [id, s] : state_->sessions) s.config = 1 - s.config;
  state_->last_reason = reason;
  ++state_->version;
  state_->cv.notify_all();
}

}  // namespace adaspring::testing

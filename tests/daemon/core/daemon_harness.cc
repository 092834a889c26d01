#include "daemon/core/daemon_harness.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "adaspring/engine/arch.h"
#include "adaspring/engine/model.h"

namespace adaspring::daemon::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "asd-core-XXXXXX").string();
  path_ = ::mkdtemp(tmpl.data());
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

context::ContextSnapshot RoomyContext() {
  context::ContextSnapshot s;
  s.time = std::chrono::system_clock::now();
  s.memory_limit_bytes = 8ll << 30;
  s.memory_available_bytes = 4ll << 30;
  s.memory_used_bytes = 4ll << 30;
  s.cpu_count = 2;
  s.cpu_busy_fraction = 0;
  s.on_ac = true;
  s.cause = "test";
  return s;
}

std::shared_ptr<engine::Model> RandomSmallres28Named(const std::string& name) {
  const absl::StatusOr<engine::ArchSpec> arch = engine::BuiltinArch("smallres28");
  EXPECT_TRUE(arch.ok());
  std::shared_ptr<engine::Model> random = engine::Model::Random(*arch, 7);
  engine::TensorStore views;
  for (const auto& [tensor, entry] : random->tensors().entries()) {
    views.AddView(tensor, entry.shape, entry.data);
  }
  views.SetKeepAlive(random);
  engine::ModelMeta meta = random->meta();
  meta.name = name;
  return std::make_shared<engine::Model>(*arch, meta, std::move(views));
}

DaemonHarness::DaemonHarness(HarnessOptions options) {
  const std::string models = dir_.path() + "/models";
  std::filesystem::create_directories(models);
  std::filesystem::create_directories(dir_.path() + "/state");
  std::unique_ptr<EngineFacade> engine =
      options.sim_engine ? NewSimEngine(options.sim_slowdown) : NewDefaultEngine();
  for (const auto& [file, name] : options.bundles) {
    EXPECT_TRUE(engine->WriteBundle(*RandomSmallres28Named(name), models + "/" + file).ok());
  }
  for (const auto& [file, content] : options.junk) {
    std::ofstream(models + "/" + file) << content;
  }
  config_.mode = "user";
  config_.runtime_dir = dir_.path();
  config_.state_dir = dir_.path() + "/state";
  config_.sockets.app_socket = dir_.path() + "/adaspringd.sock";
  config_.sockets.admin_socket = dir_.path() + "/admin.sock";
  config_.models.directory = models;
  config_.context.period_ms = 20;
  config_.scheduler.workers = 2;
  config_.scheduler.batch_max_delay_us = 200;
  config_.policy.cooldown_ms = 0;
  config_.limits.max_message_bytes = 1 << 20;
  if (options.tweak) options.tweak(&config_);

  daemon_ = std::make_unique<Daemon>(config_, std::move(engine));
  daemon_->set_profile_on_load(options.profile_on_load);
  EXPECT_TRUE(daemon_->Start().ok());
  daemon_->InjectContext(RoomyContext());
  servers_ = std::make_unique<RpcServers>(daemon_.get());
  const absl::Status s = servers_->Start();
  EXPECT_TRUE(s.ok()) << s;
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  auto app = grpc::CreateCustomChannel("unix:" + config_.sockets.app_socket,
                                       grpc::InsecureChannelCredentials(), args);
  auto admin = grpc::CreateCustomChannel("unix:" + config_.sockets.admin_socket,
                                         grpc::InsecureChannelCredentials(), args);
  app_inference_ = v1::Inference::NewStub(app);
  app_admin_ = v1::Admin::NewStub(app);
  admin_inference_ = v1::Inference::NewStub(admin);
  admin_ = v1::Admin::NewStub(admin);
}

DaemonHarness::~DaemonHarness() {
  daemon_->Shutdown();
  StopServers();
}

void DaemonHarness::StopServers() {
  if (servers_) servers_->Shutdown(std::chrono::milliseconds(500));
  servers_.reset();
}

v1::OpenSessionResponse DaemonHarness::Open(const std::string& app, uint32_t budget_us,
                                            uint32_t priority, const std::string& pinned,
                                            double min_accuracy) {
  v1::OpenSessionRequest req;
  req.set_app_name(app);
  req.set_model("fmnist");
  req.mutable_slo()->set_latency_budget_us(budget_us);
  req.mutable_slo()->set_priority(priority);
  req.mutable_slo()->set_min_accuracy(min_accuracy);
  req.set_pinned_configuration(pinned);
  v1::OpenSessionResponse resp;
  grpc::ClientContext ctx;
  const grpc::Status st = app_inference_->OpenSession(&ctx, req, &resp);
  EXPECT_TRUE(st.ok()) << st.error_message();
  return resp;
}

v1::InferRequest DaemonHarness::Request(const v1::OpenSessionResponse& s, int batch, float value,
                                        uint64_t id) {
  v1::InferRequest req;
  req.set_session_id(s.session_id());
  req.set_token(s.token());
  req.set_request_id(id);
  v1::Tensor* t = req.mutable_input();
  t->set_dtype(v1::DATA_TYPE_FP32);
  t->add_shape(batch);
  int64_t n = batch;
  for (int64_t d : s.input_spec().shape()) {
    t->add_shape(d);
    n *= d;
  }
  std::vector<float> data(static_cast<size_t>(n), value);
  t->set_raw_contents(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float));
  return req;
}

grpc::Status DaemonHarness::Infer(const v1::InferRequest& req, v1::InferResponse* resp,
                                  std::chrono::milliseconds deadline) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + deadline);
  return app_inference_->Infer(&ctx, req, resp);
}

}  // namespace adaspring::daemon::testing

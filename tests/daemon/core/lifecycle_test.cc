// Start-up, model management and shutdown: damaged bundles are skipped, unloading is refused
// while sessions are open, the drain finishes in-flight work, reload applies new limits, and
// the real engine serves an untrained smallres28 end to end.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "adaspring/engine/arch.h"
#include "adaspring/engine/model.h"
#include "daemon/core/daemon_harness.h"
#include "models/engine_facade.h"
#include "models/model_registry.h"

namespace adaspring::daemon::testing {
namespace {

namespace restore {

grpc::Status Load(DaemonHarness& h, const std::string& path) {
  grpc::ClientContext ctx;
  v1::LoadModelRequest req;
  req.set_path(path);
  v1::LoadModelResponse resp;
  return h.admin().LoadModel(&ctx, req, &resp);
}

grpc::Status Unload(DaemonHarness& h, const std::string& name) {
  grpc::ClientContext ctx;
  v1::UnloadModelRequest req;
  req.set_name(name);
  req.set_force(true);
  v1::UnloadModelResponse resp;
  return h.admin().UnloadModel(&ctx, req, &resp);
}

std::vector<std::string> Names(DaemonHarness& h) {
  grpc::ClientContext ctx;
  v1::ListModelsResponse models;
  EXPECT_TRUE(h.admin().ListModels(&ctx, {}, &models).ok());
  std::vector<std::string> names;
  for (const auto& m : models.models()) names.push_back(m.name());
  std::sort(names.begin(), names.end());
  return names;
}

// A SimEngine bundle (the harness's default engine) of model `name`.
void WriteSimBundle(const std::string& path, const std::string& name) {
  std::ofstream(path) << "ASIMBND1 smallres28 7 " << name << "\n";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace restore

TEST(LifecycleTest, DamagedBundleDoesNotStopStartup) {
  HarnessOptions o;
  o.bundles = {{"a.asb", "fmnist"}, {"b.asb", "other"}};
  o.junk = {{"broken.asb", "this is not a bundle"}, {"empty.asb", ""}, {"notes.txt", "x"}};
  DaemonHarness h(o);
  grpc::ClientContext ctx;
  v1::ListModelsResponse models;
  ASSERT_TRUE(h.admin().ListModels(&ctx, {}, &models).ok());
  ASSERT_EQ(models.models_size(), 2);
  EXPECT_EQ(models.models(0).name(), "fmnist");
  EXPECT_GT(models.models(0).frontier_size(), 0u);
  // A bundle without a fitted predictor is served with the labelled prior.
  EXPECT_EQ(models.models(0).accuracy_predictor(), "prior");
  EXPECT_EQ(models.models(0).predictor_fitted_configs(), 0u);
  const std::vector<std::string> warnings = h.daemon().TakeWarnings();
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("broken.asb"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("empty.asb"), std::string::npos) << warnings[1];
  v1::InferResponse r;
  EXPECT_TRUE(h.Infer(DaemonHarness::Request(h.Open("app", 20000)), &r).ok());
}

TEST(LifecycleTest, LoadAndUnloadModels) {
  DaemonHarness h;
  const v1::OpenSessionResponse s = h.Open("app", 20000);
  auto load = [&](const std::string& path) { return restore::Load(h, path); };
  EXPECT_EQ(load(h.dir() + "/models/fmnist.asb").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(load(h.dir() + "/nope.asb").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(load("").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(load("models/fmnist.asb").error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto unload = [&](bool force) {
    grpc::ClientContext ctx;
    v1::UnloadModelRequest req;
    req.set_name("fmnist");
    req.set_force(force);
    v1::UnloadModelResponse resp;
    return h.admin().UnloadModel(&ctx, req, &resp);
  };
  const grpc::Status refused = unload(false);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find("1 open sessions"), std::string::npos);
  v1::InferResponse r;
  EXPECT_TRUE(h.Infer(DaemonHarness::Request(s), &r).ok());
  EXPECT_TRUE(unload(true).ok());
  EXPECT_EQ(h.Infer(DaemonHarness::Request(s), &r).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(unload(false).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(load(h.dir() + "/models/fmnist.asb").ok());
  EXPECT_TRUE(h.Infer(DaemonHarness::Request(h.Open("app", 20000)), &r).ok());
}

// A session opened while the model is being force-unloaded is either closed by the unload or
// refused: none may go on serving a model that is gone (the audit found such sessions in 16
// of 30 tries before the fix).
TEST(LifecycleTest, SessionsOpenedDuringAForcedUnloadDoNotOutliveTheModel) {
  // The real engine: an open that needs a new variant builds it (milliseconds), the window in
  // which an unload used to slip between the model lookup and the session's registration.
  HarnessOptions o;
  o.sim_engine = false;
  o.tweak = [](DaemonConfig* c) { c->models.warm_up = false; };  // each trial reloads the model
  DaemonHarness h(o);
  const std::string bundle = h.dir() + "/models/fmnist.asb";
  int zombies = 0, opened_total = 0;
  for (int trial = 0; trial < 6; ++trial) {
    std::atomic<bool> stop{false};
    std::atomic<int> successes{0}, finished{0};
    std::vector<std::vector<v1::OpenSessionResponse>> opened(3);
    std::vector<std::thread> openers;
    for (int t = 0; t < 3; ++t) {
      openers.emplace_back([&, t] {
        for (int i = 0; !stop && i < 40; ++i) {
          grpc::ClientContext ctx;
          v1::OpenSessionRequest req;
          req.set_app_name(absl::StrCat("r", t, "-", i));
          req.set_model("fmnist");
          // Budgets spread over the frontier: most opens need a variant not built yet.
          req.mutable_slo()->set_latency_budget_us(150 + (t * 40 + i) * 37 % 900);
          v1::OpenSessionResponse resp;
          const grpc::Status st = h.app().OpenSession(&ctx, req, &resp);
          if (st.ok()) {
            opened[t].push_back(resp);
            ++successes;
          } else {
            EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
          }
        }
        ++finished;
      });
    }
    // The unload lands while opens are in flight, after at least one has succeeded: on a slow
    // build (sanitisers) a fixed delay alone let the unload come before any open finished.
    while (successes == 0 && finished < 3)
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    std::this_thread::sleep_for(std::chrono::microseconds(200 + 150 * (trial % 9)));
    ASSERT_TRUE(restore::Unload(h, "fmnist").ok());
    stop = true;
    for (auto& t : openers) t.join();
    // Every session that was opened is gone with the model.
    for (const auto& list : opened) {
      for (const auto& s : list) {
        ++opened_total;
        v1::InferResponse r;
        if (h.Infer(DaemonHarness::Request(s), &r).ok()) ++zombies;
      }
    }
    ASSERT_TRUE(restore::Load(h, bundle).ok());
  }
  EXPECT_GT(opened_total, 0);
  EXPECT_EQ(zombies, 0) << "sessions still served after their model was unloaded";
}

// A path with a NUL would open another file (open() stops at the NUL); a path with a newline
// or a tab cannot be written to the loaded-model list, and used to stop every later load and
// unload from being remembered. Both are refused, and the list keeps following the others.
TEST(LifecycleTest, LoadModelRefusesPathsWithNulOrControlCharacters) {
  DaemonHarness h;
  const std::string list = h.dir() + "/state/models.list";
  const std::string plain = h.dir() + "/plain.asb";
  const std::string nul = h.dir() + "/nul.asb";
  const std::string newline = h.dir() + "/new\nline.asb";
  const std::string tab = h.dir() + "/tab\t.asb";
  restore::WriteSimBundle(plain, "plain");
  restore::WriteSimBundle(nul, "nulmodel");
  restore::WriteSimBundle(newline, "newline");
  restore::WriteSimBundle(tab, "tabbed");
  ASSERT_TRUE(restore::Load(h, plain).ok());

  grpc::Status s = restore::Load(h, nul + std::string("\0.junk", 6));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("path contains a NUL character (byte " +
                                   std::to_string(nul.size()) + ")"),
            std::string::npos)
      << s.error_message();

  s = restore::Load(h, newline);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("path contains a control character (0x0a at byte " +
                                   std::to_string(h.dir().size() + 4) + ")"),
            std::string::npos)
      << s.error_message();
  EXPECT_NE(s.error_message().find("new\\nline.asb"), std::string::npos) << s.error_message();
  EXPECT_EQ(s.error_message().find('\n'), std::string::npos) << s.error_message();

  s = restore::Load(h, tab);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("path contains a control character (0x09"), std::string::npos)
      << s.error_message();

  EXPECT_EQ(restore::Names(h), (std::vector<std::string>{"fmnist", "plain"}));
  const std::string header = "# adaspringd loaded models v1\n";
  EXPECT_EQ(restore::ReadFile(list), header + "plain\t" + plain + "\n");
  ASSERT_TRUE(restore::Unload(h, "plain").ok());
  EXPECT_EQ(restore::ReadFile(list), header);
}

// Model names come from the bundle's manifest and follow the app-name rule (1..64 characters
// of [A-Za-z0-9._-]); a refusal names the file and the name.
TEST(LifecycleTest, BundleModelNamesAreValidated) {
  HarnessOptions o;
  o.junk = {{"evil.asb", "ASIMBND1 smallres28 7 ../x\n"}};
  DaemonHarness h(o);
  const std::vector<std::string> warnings = h.daemon().TakeWarnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("evil.asb: manifest model name '../x'"), std::string::npos)
      << warnings[0];

  const std::string rule = "must be 1..64 characters of [A-Za-z0-9._-]";
  for (const std::string& name : {std::string("../../../../tmp/auditA_evil"), std::string(65, 'a'),
                                  std::string("a/b"), std::string("caf\xc3\xa9")}) {
    const std::string path = h.dir() + "/named.asb";
    restore::WriteSimBundle(path, name);
    const grpc::Status s = restore::Load(h, path);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_NE(s.error_message().find(path + ": manifest model name '"), std::string::npos)
        << s.error_message();
    EXPECT_NE(s.error_message().find(rule), std::string::npos) << s.error_message();
  }
  const std::string path = h.dir() + "/named.asb";
  restore::WriteSimBundle(path, "../x");
  EXPECT_NE(restore::Load(h, path).error_message().find("'../x'"), std::string::npos);
  restore::WriteSimBundle(path, std::string(64, 'a'));  // the longest valid name
  EXPECT_TRUE(restore::Load(h, path).ok());
  EXPECT_EQ(restore::Names(h), (std::vector<std::string>{std::string(64, 'a'), "fmnist"}));
}

// The same through the registry with real bundles, whose names may hold anything: a newline
// is shown escaped (it would forge a line in `adaspringctl models`), an empty name names the
// file, and an in-memory model gets the same rule.
TEST(LifecycleTest, RegistryRefusesBundleNamesWithControlCharactersOrNoName) {
  TempDir dir;
  std::unique_ptr<EngineFacade> engine = NewRealEngine();
  ModelRegistry registry(engine.get(), BackendOptions{});
  auto named = [](const std::string& name) { return RandomSmallres28Named(name); };
  const std::string evil = dir.path() + "/evil.asb";
  ASSERT_TRUE(engine->WriteBundle(*named("evil\nline2 error fake"), evil).ok());
  absl::StatusOr<std::shared_ptr<LoadedModel>> m = registry.Load(evil);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m.status().message(), evil +
                                      ": manifest model name 'evil\\nline2 error fake' (21 "
                                      "bytes) must be 1..64 characters of [A-Za-z0-9._-]");

  const std::string unnamed = dir.path() + "/unnamed.asb";
  ASSERT_TRUE(engine->WriteBundle(*named(""), unnamed).ok());
  m = registry.Load(unnamed);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(m.status().message()).rfind(unnamed + ": manifest has no name", 0), 0u)
      << m.status();

  m = registry.Add(named("two words"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(m.status().message(),
            "model name 'two words' (9 bytes) must be 1..64 characters of [A-Za-z0-9._-]");
  EXPECT_EQ(registry.size(), 0u);
}

// Sessions whose apps went away do not hold the session limits forever: without a call and
// without an open stream for limits.session_idle_timeout_s they are closed.
TEST(LifecycleTest, IdleSessionsAreClosedButNotWatchedOrBusyOnes) {
  HarnessOptions o;
  o.tweak = [](DaemonConfig* c) { c->limits.session_idle_timeout_s = 1; };
  DaemonHarness h(o);
  const v1::OpenSessionResponse gone = h.Open("gone", 20000);
  const v1::OpenSessionResponse watched = h.Open("watched", 20000);
  const v1::OpenSessionResponse busy = h.Open("busy", 20000);
  grpc::ClientContext watch_ctx;
  v1::WatchSessionRequest wreq;
  wreq.set_session_id(watched.session_id());
  wreq.set_token(watched.token());
  auto watch = h.app().WatchSession(&watch_ctx, wreq);
  v1::SessionEvent first;
  ASSERT_TRUE(watch->Read(&first));
  EXPECT_EQ(h.daemon().CloseIdleSessions(), 0);  // all three were just used
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  v1::InferResponse r;
  ASSERT_TRUE(h.Infer(DaemonHarness::Request(busy), &r).ok());  // a call just now
  EXPECT_EQ(h.daemon().CloseIdleSessions(), 1);
  EXPECT_EQ(h.Infer(DaemonHarness::Request(gone), &r).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(h.Infer(DaemonHarness::Request(watched), &r).ok());
  EXPECT_TRUE(h.Infer(DaemonHarness::Request(busy), &r).ok());
  watch_ctx.TryCancel();
}

TEST(LifecycleTest, ShutdownDrainsInFlightRequestsAndEndsWatchStreams) {
  DaemonHarness h;
  const v1::OpenSessionResponse s = h.Open("app", 20000);
  grpc::ClientContext watch_ctx;
  v1::WatchSessionRequest wreq;
  wreq.set_session_id(s.session_id());
  wreq.set_token(s.token());
  auto watch = h.app().WatchSession(&watch_ctx, wreq);
  v1::SessionEvent first;
  ASSERT_TRUE(watch->Read(&first));
  EXPECT_EQ(first.reason(), "initial");

  std::atomic<int> ok{0}, unavailable{0}, other{0};
  std::atomic<bool> go{true};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      while (go) {
        v1::InferResponse r;
        const grpc::Status st = h.Infer(DaemonHarness::Request(s), &r);
        if (st.ok()) {
          ++ok;
        } else if (st.error_code() == grpc::StatusCode::UNAVAILABLE) {
          ++unavailable;
          return;
        } else {
          ++other;
          return;
        }
      }
    });
  }
  while (ok < 20) std::this_thread::yield();  // traffic is flowing
  h.daemon().Shutdown();
  // Every call either completed or was refused as UNAVAILABLE; none was lost or failed
  // otherwise, and the watch stream ended cleanly.
  v1::SessionEvent e;
  while (watch->Read(&e)) {
  }
  EXPECT_TRUE(watch->Finish().ok());
  for (auto& t : clients) t.join();
  go = false;
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(unavailable.load(), 4);
  v1::InferResponse r;
  EXPECT_EQ(h.Infer(DaemonHarness::Request(s), &r).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(LifecycleTest, ReloadAppliesNewLimits) {
  DaemonHarness h;
  h.Open("app", 20000);
  DaemonConfig next = h.config();
  next.limits.max_sessions_per_app = 1;
  h.daemon().Reload(next);
  v1::OpenSessionRequest req;
  req.set_app_name("app");
  req.set_model("fmnist");
  req.mutable_slo()->set_latency_budget_us(20000);
  grpc::ClientContext ctx;
  v1::OpenSessionResponse resp;
  const grpc::Status st = h.app().OpenSession(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(st.error_message().find("max_sessions_per_app = 1"), std::string::npos);
}

// A reload loads bundles that appeared in the models directory (and warns about damaged
// ones) without reading the served ones again or unloading anything.
TEST(LifecycleTest, ReloadLoadsNewBundlesFromTheModelsDirectory) {
  HarnessOptions o;
  o.bundles = {{"a.asb", "fmnist"}, {"b.asb", "other"}};
  DaemonHarness h(o);
  ASSERT_TRUE(restore::Unload(h, "other").ok());
  const std::string models = h.config().models.directory;
  ASSERT_EQ(std::rename((models + "/b.asb").c_str(), (models + "/c.asb").c_str()), 0);
  std::ofstream(models + "/broken.asb") << "not a bundle";
  h.daemon().TakeWarnings();
  h.daemon().Reload(h.config());
  EXPECT_EQ(restore::Names(h), (std::vector<std::string>{"fmnist", "other"}));
  const std::vector<std::string> warnings = h.daemon().TakeWarnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("broken.asb"), std::string::npos) << warnings[0];
}

// scheduler.cpu_wakeup_latency_us: held from Start, changed and withdrawn by reloads and
// released by the drain; a device that cannot be opened is a warning and serving goes on.
TEST(LifecycleTest, CpuWakeupLatencyRequestFollowsTheConfiguration) {
  TempDir dev_dir;
  const std::string dev = dev_dir.path() + "/cpu_dma_latency";
  std::ofstream(dev) << "";
  auto stored = [&dev] {
    std::ifstream in(dev, std::ios::binary);
    int32_t v = INT32_MIN;
    in.read(reinterpret_cast<char*>(&v), sizeof v);
    return v;
  };
  auto status = [](DaemonHarness& h) {
    grpc::ClientContext ctx;
    v1::GetStatusResponse st;
    EXPECT_TRUE(h.admin().GetStatus(&ctx, {}, &st).ok());
    return st;
  };
  HarnessOptions o;
  o.tweak = [&dev](DaemonConfig* c) {
    c->scheduler.cpu_latency_device = dev;
    c->scheduler.cpu_wakeup_latency_us = 0;
  };
  {
    DaemonHarness h(o);
    v1::GetStatusResponse st = status(h);
    EXPECT_EQ(st.cpu_wakeup_latency_us(), 0);
    EXPECT_NE(st.cpu_wakeup_latency().find("0 us requested on " + dev), std::string::npos)
        << st.cpu_wakeup_latency();
    EXPECT_EQ(stored(), 0);

    DaemonConfig next = h.config();
    next.scheduler.cpu_wakeup_latency_us = 20;
    h.daemon().Reload(next);
    EXPECT_EQ(status(h).cpu_wakeup_latency_us(), 20);
    EXPECT_EQ(stored(), 20);

    next.scheduler.cpu_wakeup_latency_us = -1;
    h.daemon().Reload(next);
    st = status(h);
    EXPECT_EQ(st.cpu_wakeup_latency_us(), -1);
    EXPECT_NE(st.cpu_wakeup_latency().find("no request"), std::string::npos);
    next.scheduler.cpu_wakeup_latency_us = 5;
    h.daemon().Reload(next);
    EXPECT_EQ(status(h).cpu_wakeup_latency_us(), 5);
    h.daemon().Shutdown();
    EXPECT_EQ(h.daemon().CpuLatencyHeldUs(), -1);
  }
  // Missing device: the daemon starts, serves and says why it holds nothing.
  o.tweak = [&dev_dir](DaemonConfig* c) {
    c->scheduler.cpu_latency_device = dev_dir.path() + "/missing";
    c->scheduler.cpu_wakeup_latency_us = 0;
  };
  DaemonHarness h(o);
  const v1::GetStatusResponse st = status(h);
  EXPECT_EQ(st.cpu_wakeup_latency_us(), -1);
  EXPECT_NE(st.cpu_wakeup_latency().find("not held: " + dev_dir.path() + "/missing"),
            std::string::npos)
      << st.cpu_wakeup_latency();
  const std::vector<std::string> warnings = h.daemon().TakeWarnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("scheduler.cpu_wakeup_latency_us = 0 is not applied"),
            std::string::npos)
      << warnings[0];
  v1::InferResponse r;
  EXPECT_TRUE(h.Infer(DaemonHarness::Request(h.Open("app", 20000)), &r).ok());
}

TEST(LifecycleTest, StatusAndSocketPermissions) {
  DaemonHarness h;
  grpc::ClientContext ctx;
  v1::GetStatusResponse st;
  ASSERT_TRUE(h.admin().GetStatus(&ctx, {}, &st).ok());
  EXPECT_EQ(st.models(), 1u);
  EXPECT_EQ(st.app_socket(), h.config().sockets.app_socket);
  EXPECT_NE(st.summary().find("1 model,"), std::string::npos) << st.summary();
  struct stat app_st, admin_st;
  ASSERT_EQ(::stat(h.config().sockets.app_socket.c_str(), &app_st), 0);
  ASSERT_EQ(::stat(h.config().sockets.admin_socket.c_str(), &admin_st), 0);
  EXPECT_EQ(app_st.st_mode & 0777, 0660u);
  EXPECT_EQ(admin_st.st_mode & 0777, 0600u);
}

TEST(LifecycleTest, RealEngineServesAnUntrainedSmallres28) {
  HarnessOptions o;
  o.sim_engine = false;
  DaemonHarness h(o);
  ASSERT_STREQ(h.daemon().engine().name(), "onednn");
  const v1::OpenSessionResponse full = h.Open("bench", 60000000, 10, "full");
  const v1::OpenSessionResponse adaptive = h.Open("app", 60000000);
  for (const auto* s : {&full, &adaptive}) {
    for (int i = 0; i < 5; ++i) {
      v1::InferResponse r;
      const grpc::Status st = h.Infer(DaemonHarness::Request(*s, 1 + i % 2, 0.1f * i, i), &r);
      ASSERT_TRUE(st.ok()) << st.error_message();
      EXPECT_EQ(r.output().shape(1), 10);
      EXPECT_EQ(r.output().raw_contents().size(), (1 + i % 2) * 10 * sizeof(float));
    }
  }
}

// Profiling builds hundreds of variants through the model's evolver; none of them may stay in
// its cache afterwards (a first start idled ~23 MB above later ones), while a variant a
// session holds keeps running and later evolutions still work.
TEST(LifecycleTest, ProfilingLeavesNoThrowAwayVariantsInTheCache) {
  absl::StatusOr<engine::ArchSpec> arch = engine::BuiltinArch("smallres28");
  ASSERT_TRUE(arch.ok()) << arch.status();
  std::unique_ptr<EngineFacade> real = NewRealEngine();
  BackendOptions options;
  options.warm_up = false;
  absl::StatusOr<std::unique_ptr<ModelBackend>> backend =
      real->Prepare(engine::Model::Random(*arch, 7), options);
  ASSERT_TRUE(backend.ok()) << backend.status();
  ModelBackend& b = **backend;
  const engine::Config full = b.model()->space().Full();
  absl::StatusOr<std::shared_ptr<const ServedVariant>> held = b.Evolve(full);
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_GT(b.cache_bytes(), 0);
  ASSERT_FALSE(b.profiled());
  ASSERT_TRUE(b.Profile(false).ok());
  EXPECT_TRUE(b.profiled());
  EXPECT_EQ(b.cache_bytes(), 0);
  std::unique_ptr<Scratch> scratch = real->NewScratch(1);
  std::vector<float> input(28 * 28, 0.25f), logits(10, 0.0f);
  ASSERT_TRUE((*held)->Run(input.data(), 1, logits.data(), scratch.get()).ok());
  EXPECT_TRUE(std::all_of(logits.begin(), logits.end(), [](float v) { return std::isfinite(v); }));
  ASSERT_TRUE(b.Evolve(b.model()->space().Smallest()).ok());
  EXPECT_GT(b.cache_bytes(), 0);
}

// Models loaded through the admin API come back after a restart (the list lives in the state
// directory); unloaded ones do not; a damaged list or a vanished file gives a warning naming
// it, and the daemon starts and serves anyway.
TEST(LifecycleTest, RestartRestoresAdminLoadedModels) {
  TempDir keep;
  const std::string state = keep.path() + "/state";
  const std::string extra = keep.path() + "/extra.asb";
  auto with_state = [&](std::vector<std::pair<std::string, std::string>> bundles) {
    HarnessOptions o;
    o.bundles = std::move(bundles);
    o.tweak = [&](DaemonConfig* c) { c->state_dir = state; };
    return o;
  };
  {
    DaemonHarness h(with_state({{"a.asb", "fmnist"}, {"b.asb", "other"}}));
    ASSERT_EQ(std::system(("cp " + h.dir() + "/models/b.asb " + extra).c_str()), 0);
    ASSERT_TRUE(restore::Unload(h, "other").ok());
    ASSERT_TRUE(restore::Load(h, extra).ok());
  }
  {
    DaemonHarness h(with_state({{"a.asb", "fmnist"}}));
    EXPECT_EQ(restore::Names(h), (std::vector<std::string>{"fmnist", "other"}));
    EXPECT_TRUE(h.daemon().TakeWarnings().empty());
    v1::InferResponse r;
    const v1::OpenSessionResponse s = h.Open("app", 20000);
    EXPECT_TRUE(h.Infer(DaemonHarness::Request(s), &r).ok());
  }
  ASSERT_EQ(std::remove(extra.c_str()), 0);
  {
    DaemonHarness h(with_state({{"a.asb", "fmnist"}}));
    EXPECT_EQ(restore::Names(h), (std::vector<std::string>{"fmnist"}));
    const std::vector<std::string> warnings = h.daemon().TakeWarnings();
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("'other'"), std::string::npos) << warnings[0];
    EXPECT_NE(warnings[0].find("extra.asb"), std::string::npos) << warnings[0];
  }
  {
    FILE* f = std::fopen((state + "/models.list").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("garbage without a header\n", f);
    std::fclose(f);
    DaemonHarness h(with_state({{"a.asb", "fmnist"}}));
    EXPECT_EQ(restore::Names(h), (std::vector<std::string>{"fmnist"}));
    const std::vector<std::string> warnings = h.daemon().TakeWarnings();
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("models.list"), std::string::npos) << warnings[0];
  }
}

}  // namespace
}  // namespace adaspring::daemon::testing

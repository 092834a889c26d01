// The daemon's events reach the log with the structured fields the docs promise
// (journalctl -u adaspringd APP=camera): written by EventLog's own thread, never under the
// event bus's lock.
#include "server/event_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "log/logger.h"

namespace adaspring::daemon {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class JournalCapture final : public LogSink {
 public:
  explicit JournalCapture(std::vector<std::vector<std::string>>* records) : records_(records) {}
  void Write(const LogRecord& record) override { records_->push_back(JournalFields(record)); }

 private:
  std::vector<std::vector<std::string>>* records_;
};

class EventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { SetLogSink(std::make_unique<JournalCapture>(&records_)); }
  void TearDown() override {
    SetLogSink(nullptr);
    SetLogLevel(LogLevel::kInfo);
  }
  std::vector<std::vector<std::string>> records_;
};

v1::DaemonEvent Event(v1::DaemonEvent::Kind kind, const std::string& message) {
  v1::DaemonEvent e;
  e.set_kind(kind);
  e.set_message(message);
  return e;
}

TEST_F(EventLogTest, SessionsEvolutionsAndModelsAreLoggedWithTheirFields) {
  EventBus bus;
  {
    EventLog log(&bus);
    v1::DaemonEvent opened = Event(v1::DaemonEvent::KIND_SESSION_OPENED, "session s-7 opened");
    opened.set_app_name("camera");
    opened.set_model("smallres28");
    opened.set_session_id("s-7");
    bus.Publish(opened);
    v1::DaemonEvent evolved = Event(v1::DaemonEvent::KIND_EVOLUTION, "camera evolved");
    evolved.set_app_name("camera");
    evolved.set_session_id("s-7");
    evolved.set_model("smallres28");
    evolved.mutable_current()->set_text("d=1.1.1 w=25.25.25.25.25.25 r=1.1.1.1.1.1 p=int8");
    evolved.set_reaction_ms(1.25);
    bus.Publish(evolved);
    v1::DaemonEvent loaded = Event(v1::DaemonEvent::KIND_MODEL_LOADED, "model m loaded");
    loaded.set_model("m");
    bus.Publish(loaded);
    bus.Publish(Event(v1::DaemonEvent::KIND_CONTEXT, "context changed"));  // debug: filtered
    bus.Publish(Event(v1::DaemonEvent::KIND_CONTEXT, "sample"), /*context_sample=*/true);
    bus.Publish(Event(v1::DaemonEvent::KIND_WARNING, "state directory unusable"));
  }  // the destructor writes what is queued
  ASSERT_EQ(records_.size(), 4u);
  EXPECT_THAT(
      records_[0],
      AllOf(::testing::Contains("MESSAGE=session s-7 opened"), ::testing::Contains("PRIORITY=6"),
            ::testing::Contains("APP=camera"), ::testing::Contains("MODEL=smallres28"),
            ::testing::Contains("SESSION_ID=s-7"), ::testing::Contains("EVENT=session_opened")));
  EXPECT_THAT(
      records_[1],
      AllOf(::testing::Contains("APP=camera"), ::testing::Contains("EVENT=evolution"),
            ::testing::Contains("CONFIGURATION=d=1.1.1 w=25.25.25.25.25.25 r=1.1.1.1.1.1 p=int8"),
            ::testing::Contains("REACTION_MS=1.25")));
  EXPECT_THAT(records_[2], AllOf(::testing::Contains("MODEL=m"),
                                 ::testing::Not(::testing::Contains(HasSubstr("APP=")))));
  EXPECT_THAT(records_[3], AllOf(::testing::Contains("MESSAGE=state directory unusable"),
                                 ::testing::Contains("PRIORITY=4")));
}

TEST_F(EventLogTest, DebugLevelAddsContextChanges) {
  SetLogLevel(LogLevel::kDebug);
  EventBus bus;
  {
    EventLog log(&bus);
    bus.Publish(Event(v1::DaemonEvent::KIND_CONTEXT, "context changed: memory 80 MB"));
  }
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_THAT(records_[0], ::testing::Contains("PRIORITY=7"));
}

// Event messages quote file names, which need not be UTF-8; a proto3 string that is not
// would fail to serialise for every watcher, so the bus escapes such bytes.
TEST(EventBusTest, MessagesAreMadeValidUtf8) {
  struct Capture : EventWatcher {
    std::vector<std::string> messages;
    void OnDaemonEvent(const v1::DaemonEvent& e, bool) override { messages.push_back(e.message()); }
    void OnShutdown() override {}
  } capture;
  EventBus bus;
  bus.Subscribe(&capture);
  bus.Publish(Event(v1::DaemonEvent::KIND_MODEL_LOADED, "model m loaded from /srv/m\xff/é.asb"));
  bus.Unsubscribe(&capture);
  ASSERT_EQ(capture.messages.size(), 1u);
  EXPECT_EQ(capture.messages[0], "model m loaded from /srv/m\\xff/é.asb");
}

}  // namespace
}  // namespace adaspring::daemon

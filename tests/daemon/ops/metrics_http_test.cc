#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <map>
#include <sstream>
#include <thread>

#include "metrics/daemon_metrics.h"
#include "metrics/http_server.h"
#include "metrics/registry.h"

namespace adaspring::daemon::metrics {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;

// A daemon-like event loop on its own thread.
class EventLoop {
 public:
  EventLoop() : guard_(asio::make_work_guard(io_)) {}
  ~EventLoop() { Join(); }
  void Run() {
    thread_ = std::thread([this] { io_.run(); });
  }
  // Runs `fn` on the loop and waits for it.
  void Call(std::function<void()> fn) {
    std::promise<void> done;
    asio::post(io_, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }
  void Join() {
    guard_.reset();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }
  asio::io_context& io() { return io_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// Parses the text exposition format: series (name + labels) -> value; checks each sample
// belongs to a family announced by # TYPE.
std::map<std::string, std::string> ParseExposition(const std::string& text,
                                                   std::map<std::string, std::string>* types) {
  std::map<std::string, std::string> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      (*types)[name] = type;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    const std::string series = line.substr(0, space);
    std::string family = series.substr(0, series.find('{'));
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string s(suffix);
      if (!types->count(family) && family.size() > s.size() &&
          family.compare(family.size() - s.size(), s.size(), s) == 0) {
        family.resize(family.size() - s.size());
      }
    }
    EXPECT_TRUE(types->count(family)) << "sample without # TYPE: " << line;
    samples[series] = line.substr(space + 1);
  }
  return samples;
}

struct Reply {
  unsigned status = 0;
  std::string content_type, body;
};

Reply Request(tcp::socket& socket, http::verb verb, const std::string& target) {
  http::request<http::empty_body> request(verb, target, 11);
  request.set(http::field::host, "127.0.0.1");
  request.keep_alive(true);
  http::write(socket, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  return {response.result_int(), std::string(response[http::field::content_type]), response.body()};
}

TEST(MetricsHttpServerTest, ServesMetricsOverARealLoopbackSocket) {
  Registry registry;
  DaemonMetrics metrics(registry);
  metrics.requests_total->WithLabels({"cam", "smallres28"}).Increment(3);
  metrics.request_latency_seconds->WithLabels({"cam"}).Observe(0.002);
  metrics.sessions->Set(2);

  EventLoop loop;
  MetricsHttpServer server(loop.io(), registry);
  ASSERT_TRUE(server.Start("127.0.0.1:0").ok());
  ASSERT_NE(server.port(), 0);
  loop.Run();

  asio::io_context client_io;
  tcp::socket socket(client_io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));

  Reply reply = Request(socket, http::verb::get, "/metrics");
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.content_type, "text/plain; version=0.0.4; charset=utf-8");
  std::map<std::string, std::string> types;
  std::map<std::string, std::string> samples = ParseExposition(reply.body, &types);
  EXPECT_EQ(types["adaspring_requests_total"], "counter");
  EXPECT_EQ(types["adaspring_request_latency_seconds"], "histogram");
  EXPECT_EQ(types["adaspring_sessions"], "gauge");
  EXPECT_EQ(samples["adaspring_requests_total{app=\"cam\",model=\"smallres28\"}"], "3");
  EXPECT_EQ(samples["adaspring_request_latency_seconds_count{app=\"cam\"}"], "1");
  EXPECT_EQ(samples["adaspring_request_latency_seconds_bucket{app=\"cam\",le=\"0.0025\"}"], "1");
  EXPECT_EQ(samples["adaspring_sessions"], "2");

  // Same connection (keep-alive): a new value shows up, other paths and methods are refused.
  metrics.requests_total->WithLabels({"cam", "smallres28"}).Increment();
  reply = Request(socket, http::verb::get, "/metrics?name[]=x");
  samples = ParseExposition(reply.body, &types);
  EXPECT_EQ(samples["adaspring_requests_total{app=\"cam\",model=\"smallres28\"}"], "4");
  EXPECT_EQ(Request(socket, http::verb::get, "/").status, 404u);
  EXPECT_EQ(Request(socket, http::verb::get, "/metricsx").status, 404u);
  EXPECT_EQ(Request(socket, http::verb::post, "/metrics").status, 405u);

  // After Stop() nothing listens any more.
  loop.Call([&] { server.Stop(); });
  tcp::socket late(client_io);
  beast::error_code ec;
  late.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()), ec);
  EXPECT_TRUE(ec) << "still accepting after Stop()";
  loop.Join();
}

TEST(MetricsHttpServerTest, RejectsBadListenAddresses) {
  Registry registry;
  asio::io_context io;
  MetricsHttpServer server(io, registry);
  absl::Status s = server.Start("localhost");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  s = server.Start("203.0.113.7:9464");  // not an address of this machine
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), HasSubstr("203.0.113.7:9464"));
}

TEST(MetricsHttpServerTest, TwoServersCannotShareAPort) {
  Registry registry;
  asio::io_context io;
  MetricsHttpServer first(io, registry);
  ASSERT_TRUE(first.Start("127.0.0.1:0").ok());
  MetricsHttpServer second(io, registry);
  const absl::Status s = second.Start("127.0.0.1:" + std::to_string(first.port()));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace adaspring::daemon::metrics

#include "metrics/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <list>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "metrics/listen_address.h"
#include "metrics/registry.h"

namespace adaspring::daemon::metrics {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(10);
constexpr uint32_t kRequestLimitBytes = 8 * 1024;  // a scrape request is a few hundred bytes
constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// One HTTP connection: read a request, answer it, repeat while keep-alive. Lives as long as
// an asynchronous operation holds it (shared_from_this); all its handlers run on its strand.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, const Registry& registry)
      : stream_(std::move(socket)), registry_(registry) {}

  void Start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadRequest(); });
  }

  // Safe from any thread: the close runs on the connection's strand.
  void Close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.close();
    });
  }

 private:
  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(kRequestLimitBytes);
    parser_->body_limit(kRequestLimitBytes);
    stream_.expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return Shutdown();
    if (ec == http::error::header_limit || ec == http::error::body_limit) {
      return Respond(http::status::payload_too_large, "request too large\n", false);
    }
    if (ec) return;  // timeout, reset or malformed request: drop the connection
    const http::request<http::string_body>& request = parser_->get();
    std::string target(request.target().data(), request.target().size());
    if (const size_t query = target.find('?'); query != std::string::npos) {
      target.resize(query);  // Prometheus may append ?name[]=... ; we always send everything
    }
    const bool keep_alive = request.keep_alive();
    if (target != "/metrics") {
      return Respond(http::status::not_found, "not found: only GET /metrics is served\n",
                     keep_alive);
    }
    if (request.method() != http::verb::get) {
      return Respond(http::status::method_not_allowed, "only GET is allowed\n", keep_alive);
    }
    Respond(http::status::ok, registry_.Render(), keep_alive);
  }

  void Respond(http::status status, std::string body, bool keep_alive) {
    auto response = std::make_shared<http::response<http::string_body>>(status, 11);
    response->set(http::field::server, "adaspringd");
    response->set(http::field::content_type,
                  status == http::status::ok ? kContentType : "text/plain; charset=utf-8");
    if (status == http::status::method_not_allowed) response->set(http::field::allow, "GET");
    response->keep_alive(keep_alive);
    response->body() = std::move(body);
    response->prepare_payload();
    stream_.expires_after(kIdleTimeout);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](beast::error_code ec, size_t) {
                        if (ec) return;
                        if (!response->keep_alive()) return self->Shutdown();
                        self->ReadRequest();
                      });
  }

  void Shutdown() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const Registry& registry_;
};

}  // namespace

struct MetricsHttpServer::Impl : std::enable_shared_from_this<MetricsHttpServer::Impl> {
  Impl(asio::io_context& io_context, const Registry& r)
      : io(io_context), registry(r), acceptor(io_context) {}

  void Accept() {
    acceptor.async_accept(asio::make_strand(io), [self = shared_from_this()](beast::error_code ec,
                                                                             tcp::socket socket) {
      if (!self->acceptor.is_open()) return;  // stopped
      if (!ec) {
        auto connection = std::make_shared<Connection>(std::move(socket), self->registry);
        // Forget connections that ended, so the list stays as long as the open ones.
        self->connections.remove_if([](const std::weak_ptr<Connection>& c) { return c.expired(); });
        self->connections.push_back(connection);
        connection->Start();
      }
      // Errors such as EMFILE are transient: keep accepting.
      self->Accept();
    });
  }

  asio::io_context& io;
  const Registry& registry;
  tcp::acceptor acceptor;
  std::list<std::weak_ptr<Connection>> connections;
  uint16_t port = 0;
};

MetricsHttpServer::MetricsHttpServer(asio::io_context& io, const Registry& registry)
    : impl_(std::make_shared<Impl>(io, registry)) {}

MetricsHttpServer::~MetricsHttpServer() { Stop(); }

absl::Status MetricsHttpServer::Start(const std::string& listen) {
  absl::StatusOr<ListenAddress> address = ParseListenAddress(listen);
  if (!address.ok()) return address.status();
  beast::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(address->host, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics listen address \"", listen, "\": bad IP address: ", ec.message()));
  }
  const tcp::endpoint endpoint(ip, address->port);
  tcp::acceptor& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return absl::UnavailableError(
        absl::StrCat("metrics: cannot listen on ", listen, ": ", ec.message()));
  }
  impl_->port = acceptor.local_endpoint(ec).port();
  impl_->Accept();
  return absl::OkStatus();
}

uint16_t MetricsHttpServer::port() const { return impl_->port; }

void MetricsHttpServer::Stop() {
  beast::error_code ignored;
  if (impl_->acceptor.is_open()) impl_->acceptor.close(ignored);
  for (const std::weak_ptr<Connection>& weak : impl_->connections) {
    if (std::shared_ptr<Connection> connection = weak.lock()) connection->Close();
  }
  impl_->connections.clear();
}

}  // namespace adaspring::daemon::metrics

#include "server/rpc_servers.h"

#include <grp.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "service/admin_service.h"
#include "service/inference_service.h"

namespace adaspring::daemon {
namespace {

// Whether a process accepts connections on the Unix socket `path` (a live daemon, not a stale
// file left by a crash).
bool SomeoneListens(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool live = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return live;
}

absl::Status SetPermissions(const std::string& path, uint32_t mode, const std::string& group) {
  if (::chmod(path.c_str(), mode) != 0) {
    return absl::InternalError(absl::StrCat("chmod ", path, ": ", std::strerror(errno)));
  }
  if (!group.empty()) {
    struct group* g = ::getgrnam(group.c_str());
    if (!g) return absl::NotFoundError(absl::StrCat("group '", group, "' does not exist"));
    if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0) {
      return absl::InternalError(
          absl::StrCat("chown ", path, ":", group, ": ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void Common(grpc::ServerBuilder* b, const DaemonConfig& c) {
  b->SetMaxReceiveMessageSize(static_cast<int>(c.limits.max_message_bytes));
  b->SetMaxSendMessageSize(static_cast<int>(c.limits.max_message_bytes));
}

}  // namespace

RpcServers::RpcServers(Daemon* daemon)
    : daemon_(daemon),
      inference_(std::make_unique<InferenceService>(daemon)),
      admin_full_(std::make_unique<AdminService>(daemon, /*allow_mutations=*/true)),
      admin_read_only_(std::make_unique<AdminService>(daemon, /*allow_mutations=*/false)) {}

RpcServers::~RpcServers() { Shutdown(std::chrono::milliseconds(0)); }

absl::Status RpcServers::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  const DaemonConfig& c = daemon_->config();
  auto bind_unix = [&](const std::string& path, uint32_t mode, const std::string& group,
                       grpc::Service* admin) -> absl::StatusOr<std::unique_ptr<grpc::Server>> {
    if (SomeoneListens(path)) {
      // Taking the path over would leave that daemon running but unreachable.
      return absl::FailedPreconditionError(
          absl::StrCat("another process (an adaspringd already running?) is listening on ", path,
                       "; stop it first or give this one another --runtime-dir"));
    }
    ::unlink(path.c_str());  // a stale socket from a crashed run
    grpc::ServerBuilder b;
    Common(&b, c);
    b.AddListeningPort("unix:" + path, grpc::InsecureServerCredentials());
    b.RegisterService(inference_.get());
    b.RegisterService(admin);
    // Narrow the umask while gRPC creates the socket, so it is never wider than `mode`.
    const mode_t old = ::umask(static_cast<mode_t>(~mode & 0777));
    std::unique_ptr<grpc::Server> server = b.BuildAndStart();
    ::umask(old);
    if (!server) return absl::UnavailableError(absl::StrCat("cannot listen on unix:", path));
    owned_sockets_.push_back(path);
    // Health checks per service as well as for the whole server ("").
    if (grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService()) {
      health->SetServingStatus("adaspring.v1.Inference", true);
      health->SetServingStatus("adaspring.v1.Admin", true);
    }
    if (absl::Status s = SetPermissions(path, mode, group); !s.ok()) {
      server->Shutdown();
      return s;
    }
    return server;
  };
  absl::StatusOr<std::unique_ptr<grpc::Server>> app = bind_unix(
      c.sockets.app_socket, c.sockets.app_mode, c.sockets.app_group, admin_read_only_.get());
  if (!app.ok()) return app.status();
  absl::StatusOr<std::unique_ptr<grpc::Server>> admin = bind_unix(
      c.sockets.admin_socket, c.sockets.admin_mode, c.sockets.admin_group, admin_full_.get());
  if (!admin.ok()) {
    (*app)->Shutdown();
    return admin.status();
  }
  app_ = std::move(*app);
  admin_ = std::move(*admin);
  if (c.tcp.enabled) {
    if (c.tcp.tls_cert_file.empty() || c.tcp.tls_key_file.empty()) {
      Shutdown(std::chrono::milliseconds(0));
      return absl::InvalidArgumentError("tcp.enabled needs tcp.tls_cert_file and tls_key_file");
    }
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({ReadFile(c.tcp.tls_key_file), ReadFile(c.tcp.tls_cert_file)});
    const bool mutual = !c.tcp.tls_client_ca_file.empty();
    if (mutual) {
      ssl.pem_root_certs = ReadFile(c.tcp.tls_client_ca_file);
      ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    grpc::ServerBuilder b;
    Common(&b, c);
    b.AddListeningPort(c.tcp.listen, grpc::SslServerCredentials(ssl));
    b.RegisterService(inference_.get());
    // Without client certificates anyone who can reach the port could change state.
    b.RegisterService(mutual ? admin_full_.get() : admin_read_only_.get());
    tcp_ = b.BuildAndStart();
    if (!tcp_) {
      Shutdown(std::chrono::milliseconds(0));
      return absl::UnavailableError(absl::StrCat("cannot listen on ", c.tcp.listen));
    }
  }
  return absl::OkStatus();
}

void RpcServers::Shutdown(std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::system_clock::now() + grace;
  for (auto* s : {&app_, &admin_, &tcp_}) {
    if (*s) (*s)->Shutdown(deadline);
  }
  for (auto* s : {&app_, &admin_, &tcp_}) {
    if (*s) {
      (*s)->Wait();
      s->reset();
    }
  }
  for (const std::string& path : owned_sockets_) ::unlink(path.c_str());
  owned_sockets_.clear();
}

}  // namespace adaspring::daemon

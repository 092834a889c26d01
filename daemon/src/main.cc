// adaspringd entry point (foundation skeleton: serves gRPC health on a user-mode socket; the
// daemon issue grows this into the full service).
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

std::string DefaultRuntimeDir() {
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg)
    return std::string(xdg) + "/adaspring";
  return "/tmp/adaspring-" + std::to_string(getuid());
}

}  // namespace

int main(int argc, char** argv) {
  std::string runtime_dir = DefaultRuntimeDir();
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--runtime-dir") && i + 1 < argc) {
      runtime_dir = argv[++i];
    } else if (!std::strcmp(argv[i], "--version")) {
      std::printf("adaspringd %s\n", ADASPRING_VERSION);
      return 0;
    } else {
      std::fprintf(stderr, "usage: adaspringd [--runtime-dir DIR] [--version]\n");
      return 64;
    }
  }
  mkdir(runtime_dir.c_str(), 0700);
  const std::string socket = runtime_dir + "/adaspringd.sock";
  unlink(socket.c_str());

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) {
    std::fprintf(stderr, "adaspringd: cannot listen on %s\n", socket.c_str());
    return 1;
  }
  std::fprintf(stderr, "adaspringd %s: listening on unix:%s (Ctrl-C to stop)\n",
               ADASPRING_VERSION, socket.c_str());
  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "adaspringd: %s, shutting down\n", strsignal(sig));
  server->Shutdown();
  unlink(socket.c_str());
  return 0;
}

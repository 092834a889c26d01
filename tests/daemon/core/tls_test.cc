// The optional TCP listener: TLS only. Certificates are made at run time with openssl (the
// test is skipped without it). Without a client CA the listener serves Inference and a
// read-only Admin; with one, clients must present a certificate signed by it and then get
// the whole Admin service. A plaintext client gets nothing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "daemon/core/daemon_harness.h"

namespace adaspring::daemon::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A CA, a server certificate for 127.0.0.1/localhost and a client certificate, in `dir`.
bool MakeCertificates(const std::string& dir) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) return false;
  std::ofstream(dir + "/san.cnf") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string d = dir + "/";
  const std::string script =
      "set -e; cd '" + dir + "'; " + "openssl req -x509 " + ec +
      " -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca; " + "openssl req " + ec +
      " -keyout server.key -out server.csr -subj /CN=localhost; " +
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-out server.pem -days 1 -extfile san.cnf; " +
      "openssl req " + ec + " -keyout client.key -out client.csr -subj /CN=app; " +
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-out client.pem -days 1";
  return std::system(("(" + script + ") >'" + d + "openssl.log' 2>&1").c_str()) == 0;
}

int PickPort() { return 20000 + static_cast<int>(::getpid() % 20000); }

struct TlsFixture {
  TempDir certs;
  bool ok = false;
  std::string listen;
  TlsFixture() : ok(MakeCertificates(certs.path())) {
    listen = "127.0.0.1:" + std::to_string(PickPort());
  }
  HarnessOptions Options(bool mutual) const {
    HarnessOptions o;
    const std::string dir = certs.path();
    const std::string where = listen;
    o.tweak = [dir, where, mutual](DaemonConfig* c) {
      c->tcp.enabled = true;
      c->tcp.listen = where;
      c->tcp.tls_cert_file = dir + "/server.pem";
      c->tcp.tls_key_file = dir + "/server.key";
      if (mutual) c->tcp.tls_client_ca_file = dir + "/ca.pem";
    };
    return o;
  }
  std::shared_ptr<grpc::Channel> Channel(bool client_cert) const {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = Slurp(certs.path() + "/ca.pem");
    if (client_cert) {
      o.pem_private_key = Slurp(certs.path() + "/client.key");
      o.pem_cert_chain = Slurp(certs.path() + "/client.pem");
    }
    return grpc::CreateChannel(listen, grpc::SslCredentials(o));
  }
};

grpc::Status OpenAndInfer(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::Inference::NewStub(channel);
  v1::OpenSessionRequest open;
  open.set_app_name("tls-app");
  open.set_model("fmnist");
  open.mutable_slo()->set_latency_budget_us(20000);
  v1::OpenSessionResponse session;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Status s = stub->OpenSession(&ctx, open, &session);
    if (!s.ok()) return s;
  }
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::InferResponse r;
  return stub->Infer(&ctx, DaemonHarness::Request(session), &r);
}

grpc::Status Override(const std::shared_ptr<grpc::Channel>& channel) {
  auto admin = v1::Admin::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::SetContextOverrideRequest req;
  req.set_battery_percent(50);
  v1::SetContextOverrideResponse resp;
  return admin->SetContextOverride(&ctx, req, &resp);
}

TEST(TlsTest, ServerTlsServesInferenceButNoAdminMutations) {
  TlsFixture f;
  if (!f.ok) GTEST_SKIP() << "openssl is not available";
  DaemonHarness h(f.Options(/*mutual=*/false));
  EXPECT_TRUE(OpenAndInfer(f.Channel(false)).ok());
  EXPECT_EQ(Override(f.Channel(false)).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Plaintext to a TLS port: the handshake never completes.
  auto plain = grpc::CreateChannel(f.listen, grpc::InsecureChannelCredentials());
  EXPECT_EQ(OpenAndInfer(plain).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(TlsTest, MutualTlsNeedsAClientCertificateAndThenAllowsAdmin) {
  TlsFixture f;
  if (!f.ok) GTEST_SKIP() << "openssl is not available";
  DaemonHarness h(f.Options(/*mutual=*/true));
  EXPECT_TRUE(OpenAndInfer(f.Channel(true)).ok());
  EXPECT_TRUE(Override(f.Channel(true)).ok());
  EXPECT_EQ(OpenAndInfer(f.Channel(false)).error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace adaspring::daemon::testing

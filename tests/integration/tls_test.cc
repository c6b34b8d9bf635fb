// TLS and mutual TLS against the real server, with a CA and certificates
// made here by the openssl command.
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/bad_events.h"
#include "tests/support/server_process.h"
#include "tests/support/status_matchers.h"

namespace attribution {
namespace {

using ::attribution::testing::CommandResult;
using ::attribution::testing::RunCommand;
using ::attribution::testing::ServerProcess;
using ::attribution::testing::StatusIs;
using ::attribution::testing::TempDir;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string d = dir_.path();
    Openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
             d + "/ca.key", "-out", d + "/ca.pem", "-days", "2", "-subj",
             "/CN=attribution-test-ca"});
    std::ofstream(d + "/san.ext")
        << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
    for (const std::string name : {"server", "client"}) {
      Openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout",
               d + "/" + name + ".key", "-out", d + "/" + name + ".csr",
               "-subj", "/CN=" + name});
      Openssl({"x509", "-req", "-in", d + "/" + name + ".csr", "-CA",
               d + "/ca.pem", "-CAkey", d + "/ca.key", "-CAcreateserial",
               "-out", d + "/" + name + ".pem", "-days", "2", "-extfile",
               d + "/san.ext"});
    }
  }

  void Openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    CommandResult r = RunCommand(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::vector<std::string> TlsFlags() {
    return {"--tls_cert_file=" + dir_.path() + "/server.pem",
            "--tls_key_file=" + dir_.path() + "/server.key"};
  }

  client::TlsOptions Trusting() {
    client::TlsOptions tls;
    tls.root_certs = Read(dir_.path() + "/ca.pem");
    return tls;
  }

  static v1::RecordEventsRequest Batch() {
    v1::RecordEventsRequest r;
    r.set_workspace("acme");
    *r.add_events() = testing::GoodTouch();
    return r;
  }

  TempDir dir_;
};

TEST_F(TlsTest, ATlsClientConnectsAndAPlaintextClientIsRefused) {
  auto server = ServerProcess::Start(dir_.path() + "/db", TlsFlags());
  ASSERT_TRUE(server.ok()) << server.status();
  auto tls =
      client::AttributionClient::Connect((*server)->address(), Trusting());
  auto r = tls->RecordEvents(Batch());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stored(), 1);
  auto plaintext = (*server)->NewClient();
  EXPECT_THAT(plaintext->RecordEvents(Batch()),
              StatusIs(absl::StatusCode::kUnavailable));
  // A client that does not trust the server's CA is refused too.
  EXPECT_THAT(client::AttributionClient::Connect((*server)->address(),
                                                 client::TlsOptions{})
                  ->RecordEvents(Batch()),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificate) {
  std::vector<std::string> flags = TlsFlags();
  flags.push_back("--tls_client_ca_file=" + dir_.path() + "/ca.pem");
  auto server = ServerProcess::Start(dir_.path() + "/db", flags);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT(
      client::AttributionClient::Connect((*server)->address(), Trusting())
          ->RecordEvents(Batch()),
      StatusIs(absl::StatusCode::kUnavailable));
  client::TlsOptions with_cert = Trusting();
  with_cert.client_cert = Read(dir_.path() + "/client.pem");
  with_cert.client_key = Read(dir_.path() + "/client.key");
  auto r = client::AttributionClient::Connect((*server)->address(), with_cert)
               ->RecordEvents(Batch());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stored(), 1);

  // attributionctl takes the same files from flags.
  CommandResult ctl =
      RunCommand({ATTRIBUTIONCTL_PATH, "--server=" + (*server)->address(),
                  "--workspace=acme", "--tls_ca=" + dir_.path() + "/ca.pem",
                  "--tls_cert=" + dir_.path() + "/client.pem",
                  "--tls_key=" + dir_.path() + "/client.key", "describe"});
  EXPECT_EQ(ctl.exit_code, 0) << ctl.err;
  EXPECT_THAT(ctl.out, ContainsRegex("touchpoints +1\n"));
}

TEST_F(TlsTest, PlaintextIsOnlyForLoopbackUnlessAllowed) {
  CommandResult refused =
      RunCommand({ATTRIBUTIOND_PATH, "--admin_listen=", "--auth=off",
                  "--listen=0.0.0.0:0", "--data_dir=" + dir_.path() + "/db"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("refusing plaintext on 0.0.0.0"));
  CommandResult half =
      RunCommand({ATTRIBUTIOND_PATH, "--admin_listen=", "--auth=off",
                  "--listen=127.0.0.1:0", "--data_dir=" + dir_.path() + "/db",
                  "--tls_cert_file=" + dir_.path() + "/server.pem"});
  EXPECT_EQ(half.exit_code, 2);
  EXPECT_THAT(half.err, HasSubstr("go together"));
}

}  // namespace
}  // namespace attribution

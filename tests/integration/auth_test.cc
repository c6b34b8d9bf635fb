// API keys against the real server: who may do what where, and SIGHUP
// reloads while streams keep running.
#include <signal.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/api/api_keys.h"
#include "tests/support/bad_events.h"
#include "tests/support/server_process.h"
#include "tests/support/status_matchers.h"

namespace attribution {
namespace {

using ::attribution::api::HashKeyForFile;
using ::attribution::testing::CommandResult;
using ::attribution::testing::RunCommand;
using ::attribution::testing::ServerProcess;
using ::attribution::testing::StatusIs;
using ::attribution::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kWriter[] = "writer-key-acme";
constexpr char kReader[] = "reader-key-acme";
constexpr char kAdmin[] = "admin-key-all";
constexpr char kBeta[] = "reader-key-beta";
constexpr char kLater[] = "key-added-on-sighup";

v1::RecordEventsRequest Batch(const std::string& ws, const std::string& id) {
  v1::RecordEventsRequest r;
  r.set_workspace(ws);
  *r.add_events() = testing::GoodTouch(id, "c1");
  return r;
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = dir_.path() + "/keys.txt";
    WriteKeys({absl::StrCat(HashKeyForFile(kWriter), " acme writer"),
               absl::StrCat(HashKeyForFile(kReader), " acme reader"),
               absl::StrCat(HashKeyForFile(kAdmin), " * admin  # operators"),
               absl::StrCat(HashKeyForFile(kBeta), " beta reader")});
    auto server = ServerProcess::Start(
        dir_.path() + "/db", {"--api_keys_file=" + keys_,
                              "--backup_root=" + dir_.path() + "/backups"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_TRUE(As(kWriter)->RecordEvents(Batch("acme", "e1")).ok());
  }

  void WriteKeys(const std::vector<std::string>& lines) {
    std::ofstream out(keys_);
    for (const auto& l : lines) out << l << "\n";
  }

  std::unique_ptr<client::AttributionClient> As(const std::string& key) {
    auto c = server_->NewClient();
    c->set_api_key(key);
    return c;
  }

  TempDir dir_;
  std::string keys_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(AuthTest, MissingOrWrongKeysAreUnauthenticated) {
  EXPECT_THAT(As("")->GetJourney("acme", "c1"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(As("not-a-key")->RecordEvents(Batch("acme", "x")),
              StatusIs(absl::StatusCode::kUnauthenticated));
  auto stream = As("not-a-key")->StartIngest();
  v1::IngestEventsRequest req;
  req.set_workspace("acme");
  *req.add_events() = testing::GoodTouch("x2", "c1");
  stream->Send(req);
  v1::IngestEventsResponse ack;
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_THAT(stream->Finish(), StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_EQ(As(kReader)->GetJourney("acme", "c1")->events.size(), 1u);
}

TEST_F(AuthTest, RolesAndWorkspacesAreEnforcedAndNothingChanges) {
  EXPECT_THAT(As(kReader)->RecordEvents(Batch("acme", "r1")),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(As(kWriter)->EraseCustomer("acme", "c1"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(As(kWriter)->CreateBackup("b1"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(As(kWriter)->GetJourney("acme", "c1"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  auto journey = As(kReader)->GetJourney("acme", "c1");
  ASSERT_TRUE(journey.ok()) << journey.status();
  EXPECT_EQ(journey->events.size(), 1u);  // Nothing was written or erased.

  // A key of workspace beta reading acme: denied, with the same message as
  // for a workspace that does not exist.
  auto other = As(kBeta)->GetJourney("acme", "c1");
  auto missing = As(kBeta)->GetJourney("gamma", "c1");
  EXPECT_THAT(other, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kPermissionDenied));
  std::string other_message(other.status().message());
  other_message.replace(other_message.find("acme"), 4, "gamma");
  EXPECT_EQ(other_message, missing.status().message());

  // The admin key may do it all.
  EXPECT_TRUE(As(kAdmin)->CreateBackup("b1").ok());
  auto erased = As(kAdmin)->EraseCustomer("acme", "c1");
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(erased->touchpoints_removed(), 1);
}

TEST_F(AuthTest, SighupAddsAndRevokesKeysWhileStreamsKeepRunning) {
  auto stream = As(kWriter)->StartIngest();
  v1::IngestEventsRequest req;
  req.set_workspace("acme");
  req.set_sequence(1);
  *req.add_events() = testing::GoodTouch("s1", "c2");
  ASSERT_TRUE(stream->Send(req));
  v1::IngestEventsResponse ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.stored(), 1);

  EXPECT_THAT(As(kLater)->GetJourney("acme", "c1"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  // Revoke the reader, add a new one.
  WriteKeys({absl::StrCat(HashKeyForFile(kWriter), " acme writer"),
             absl::StrCat(HashKeyForFile(kLater), " acme reader")});
  kill(server_->pid(), SIGHUP);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!As(kLater)->GetJourney("acme", "c1").ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(As(kLater)->GetJourney("acme", "c1").ok());
  EXPECT_THAT(As(kReader)->GetJourney("acme", "c1"),
              StatusIs(absl::StatusCode::kUnauthenticated));

  // The stream opened before the reload goes on.
  req.set_sequence(2);
  *req.mutable_events(0) = testing::GoodTouch("s2", "c2");
  ASSERT_TRUE(stream->Send(req));
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_FALSE(ack.has_error()) << ack.error().message();
  EXPECT_EQ(ack.stored(), 1);
  stream->CloseSend();
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(AuthTest, TheServerRefusesToStartWithoutKeysUnlessAuthIsOff) {
  CommandResult r =
      RunCommand({ATTRIBUTIOND_PATH, "--admin_listen=", "--listen=127.0.0.1:0",
                  "--data_dir=" + dir_.path() + "/other"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--auth=off for local development"));
  std::ofstream(dir_.path() + "/bad.txt") << "sha256:zz acme reader\n";
  CommandResult bad =
      RunCommand({ATTRIBUTIOND_PATH, "--admin_listen=", "--listen=127.0.0.1:0",
                  "--data_dir=" + dir_.path() + "/other",
                  "--api_keys_file=" + dir_.path() + "/bad.txt"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("key file line 1"));

  // attributionctl sends the key from its flag.
  CommandResult ctl = RunCommand(
      {ATTRIBUTIONCTL_PATH, "--server=" + server_->address(),
       "--workspace=acme", std::string("--api_key=") + kReader, "describe"});
  EXPECT_EQ(ctl.exit_code, 0) << ctl.err;
  CommandResult denied =
      RunCommand({ATTRIBUTIONCTL_PATH, "--server=" + server_->address(),
                  "--workspace=acme", "describe"});
  EXPECT_EQ(denied.exit_code, 3);  // The server refused the call.
  EXPECT_THAT(denied.err, HasSubstr("UNAUTHENTICATED"));
}

// ListWorkspaces: an admin on * sees every workspace, another key only
// those it may read; ExportEvents needs the reader role there.
TEST_F(AuthTest, AKeySeesAndExportsOnlyItsWorkspaces) {
  ASSERT_TRUE(As(kAdmin)->RecordEvents(Batch("beta", "b1")).ok());
  ASSERT_TRUE(As(kAdmin)->RecordEvents(Batch("gamma", "g1")).ok());
  auto all = As(kAdmin)->ListWorkspaces();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_THAT(all->workspaces(),
              ::testing::ElementsAre("acme", "beta", "gamma"));
  auto mine = As(kReader)->ListWorkspaces();
  ASSERT_TRUE(mine.ok());
  EXPECT_THAT(mine->workspaces(), ::testing::ElementsAre("acme"));
  auto writer = As(kWriter)->ListWorkspaces();  // May not read: sees none.
  ASSERT_TRUE(writer.ok());
  EXPECT_TRUE(writer->workspaces().empty());
  EXPECT_THAT(As("")->ListWorkspaces(),
              StatusIs(absl::StatusCode::kUnauthenticated));
  v1::ExportEventsRequest request;
  request.set_workspace("beta");
  int events = 0;
  auto count = [&](const v1::ExportEventsResponse& m) {
    events += m.events_size();
    return absl::OkStatus();
  };
  EXPECT_THAT(As(kReader)->ExportEvents(request, count),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_TRUE(As(kBeta)->ExportEvents(request, count).ok());
  EXPECT_EQ(events, 1);
}

}  // namespace
}  // namespace attribution

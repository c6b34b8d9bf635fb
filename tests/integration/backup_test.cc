// Online backup while writes go on, then restore into a new folder and a
// second server.
#include <signal.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
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
using ::testing::HasSubstr;

constexpr int kEventsPerBatch = 200;

v1::IngestEventsRequest MakeBatch(int b) {
  v1::IngestEventsRequest req;
  req.set_workspace("acme");
  req.set_sequence(static_cast<uint64_t>(b));
  for (int i = 0; i < kEventsPerBatch; ++i) {
    *req.add_events() =
        testing::GoodTouch(absl::StrCat("e", b, "-", i), absl::StrCat("b", b));
  }
  return req;
}

TEST(BackupTest, BackupTakenDuringWritesHoldsEverythingAcknowledgedBefore) {
  TempDir dir;
  auto server = ServerProcess::Start(
      dir.path() + "/db", {"--backup_root=" + dir.path() + "/backups"});
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = (*server)->NewClient();

  // A writer that never stops until told to.
  absl::Mutex mu;
  std::set<int> acked;
  std::atomic<bool> stop{false};
  auto stream = client->StartIngest();
  std::thread reader([&] {
    v1::IngestEventsResponse ack;
    while (stream->Read(&ack)) {
      ASSERT_FALSE(ack.has_error()) << ack.error().message();
      absl::MutexLock lock(&mu);
      acked.insert(static_cast<int>(ack.sequence()));
    }
  });
  std::thread writer([&] {
    for (int b = 1; !stop.load(); ++b) {
      {
        absl::MutexLock lock(&mu);
        auto room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
          return b - static_cast<int>(acked.size()) <= 8;
        };
        mu.Await(absl::Condition(&room));
      }
      if (!stream->Send(MakeBatch(b))) break;
    }
    stream->CloseSend();
  });
  auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return acked.size() >= 50;
  };
  std::set<int> before;
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&enough));
    before = acked;
  }
  auto backup = client->CreateBackup("nightly");
  ASSERT_TRUE(backup.ok()) << backup.status();
  // The stream, open and writing all along, goes on after the backup.
  auto more = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return acked.size() >= before.size() + 20;
  };
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(&more));
  }
  stop = true;
  writer.join();
  reader.join();
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_THAT(client->CreateBackup("nightly"),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(client->CreateBackup("../escape"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name:")));

  // Restore into a new folder and serve it from a second server.
  auto restored = ServerProcess::Start(dir.path() + "/restored",
                                       {"--restore_from=" + backup->path()});
  ASSERT_TRUE(restored.ok()) << restored.status();
  auto second = (*restored)->NewClient();
  for (int b : before) {
    auto journey = second->GetJourney("acme", absl::StrCat("b", b));
    ASSERT_TRUE(journey.ok()) << "batch " << b << ": " << journey.status();
    ASSERT_EQ(journey->events.size(), static_cast<size_t>(kEventsPerBatch));
  }
  auto described = second->DescribeWorkspace("acme");
  ASSERT_TRUE(described.ok());
  EXPECT_GE(described->touchpoints(),
            static_cast<int64_t>(before.size()) * kEventsPerBatch);
  EXPECT_EQ(described->touchpoints() % kEventsPerBatch, 0);  // Whole batches.

  // Restoring over existing data is refused.
  CommandResult refused =
      RunCommand({ATTRIBUTIOND_PATH, "--admin_listen=", "--auth=off",
                  "--listen=127.0.0.1:0", "--data_dir=" + dir.path() + "/db",
                  "--restore_from=" + backup->path()});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("is not empty"));
}

TEST(BackupTest, IsRefusedWithoutABackupRoot) {
  TempDir dir;
  auto server = ServerProcess::Start(dir.path() + "/db");
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_THAT((*server)->NewClient()->CreateBackup("x"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("--backup_root")));
}

}  // namespace
}  // namespace attribution

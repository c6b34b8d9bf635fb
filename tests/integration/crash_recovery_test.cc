// SIGKILL in the middle of a streaming import: every acknowledged event must
// be there after a restart, and re-running the import must complete without
// storing anything twice.
#include <signal.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/support/bad_events.h"
#include "tests/support/batch_stream.h"
#include "tests/support/server_process.h"

namespace attribution {
namespace {

using ::attribution::testing::ServerProcess;
using ::attribution::testing::StreamBatches;
using ::attribution::testing::StreamResult;
using ::attribution::testing::TempDir;

constexpr int kBatches = 400;
constexpr int kCustomersPerBatch = 50;
constexpr int kEventsPerCustomer = 10;
constexpr int kEventsPerBatch = kCustomersPerBatch * kEventsPerCustomer;

std::string Customer(int batch, int c) {
  return absl::StrCat("b", batch, "-c", c);
}

// Batch `b` holds every event of its own customers.
v1::IngestEventsRequest MakeBatch(int b) {
  v1::IngestEventsRequest req;
  req.set_workspace("acme");
  req.set_sequence(static_cast<uint64_t>(b));
  for (int c = 0; c < kCustomersPerBatch; ++c) {
    for (int i = 0; i < kEventsPerCustomer; ++i) {
      v1::Event e = testing::GoodTouch(absl::StrCat("e", b, "-", c, "-", i),
                                       Customer(b, c));
      e.mutable_touchpoint()->mutable_occurred_at()->set_seconds(
          testing::kGoodSeconds + i * 60);
      *req.add_events() = std::move(e);
    }
  }
  return req;
}

StreamResult Stream(client::AttributionClient& client,
                    const std::function<void(int acks)>& on_ack) {
  StreamResult r = StreamBatches(client, kBatches, 8, MakeBatch, on_ack);
  EXPECT_EQ(r.rejected, 0);
  return r;
}

TEST(CrashRecoveryTest,
     AcknowledgedEventsSurviveSigkillAndReimportAddsNoDuplicates) {
  TempDir dir;
  const std::string db = dir.path() + "/db";
  StreamResult first;
  {
    auto server = ServerProcess::Start(db);
    ASSERT_TRUE(server.ok()) << server.status();
    auto client = (*server)->NewClient();
    std::atomic<bool> killed{false};
    ServerProcess* raw = server->get();
    first = Stream(*client, [&](int acks) {
      if (acks >= 60 && !killed.exchange(true)) raw->SignalAndWait(SIGKILL);
    });
    ASSERT_TRUE(killed.load()) << "the import finished before the kill";
  }
  ASSERT_GE(first.acked.size(), 60u);
  ASSERT_LT(first.acked.size(), static_cast<size_t>(kBatches));

  auto server = ServerProcess::Start(db);
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = (*server)->NewClient();
  // Every acknowledged batch is complete.
  for (int b : first.acked) {
    for (int c = 0; c < kCustomersPerBatch; ++c) {
      auto journey = client->GetJourney("acme", Customer(b, c));
      ASSERT_TRUE(journey.ok()) << "batch " << b << ": " << journey.status();
      ASSERT_EQ(journey->events.size(),
                static_cast<size_t>(kEventsPerCustomer));
    }
  }
  auto before = client->DescribeWorkspace("acme");
  ASSERT_TRUE(before.ok());
  EXPECT_GE(before->touchpoints(),
            static_cast<int64_t>(first.acked.size()) * kEventsPerBatch);

  // Re-run the whole import.
  StreamResult second = Stream(*client, [](int) {});
  EXPECT_EQ(second.acked.size(), static_cast<size_t>(kBatches));
  EXPECT_EQ(second.stored + second.duplicates,
            static_cast<int64_t>(kBatches) * kEventsPerBatch);
  EXPECT_EQ(second.duplicates, before->touchpoints());
  auto after = client->DescribeWorkspace("acme");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->touchpoints(),
            static_cast<int64_t>(kBatches) * kEventsPerBatch);
  EXPECT_EQ(after->customers(),
            static_cast<int64_t>(kBatches) * kCustomersPerBatch);
}

}  // namespace
}  // namespace attribution

#include "service/core/journey_index.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/limits.h"
#include "tests/support/core_events.h"
#include "tests/support/status_matchers.h"

namespace attribution {
namespace {

using ::attribution::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

using ::attribution::testing::Purchase;
using ::attribution::testing::Touch;

// For inserts that have no tie: the index must not ask.
size_t NoTies() {
  ADD_FAILURE() << "asked for ties where there are none";
  return 0;
}

std::vector<int64_t> Times(const IndexSnapshot::Customer& c) {
  std::vector<int64_t> out;
  for (const auto& e : c.events) out.push_back(e.at_us);
  return out;
}

TEST(JourneyIndexTest, KeepsEventsInTimeOrderWhateverTheArrivalOrder) {
  WorkspaceIndex index;
  index.Insert(Touch("a", "c1", 300), NoTies);
  index.Insert(Touch("b", "c1", 100), NoTies);
  index.Insert(Purchase("c", "c1", 200, 5), NoTies);
  const IndexSnapshot snap = index.Snapshot();
  const auto c = snap.FindCustomer("c1");
  ASSERT_TRUE(c.has_value());
  EXPECT_THAT(Times(*c), ElementsAre(100, 200, 300));
  EXPECT_EQ(snap.revenue_micros(c->events[1]), 5);
  EXPECT_EQ(snap.FirstPurchaseAt("c1"), 200);
}

TEST(JourneyIndexTest, PacksTouchpointAttributes) {
  WorkspaceIndex index;
  index.Insert(Touch("a", "c1", 1, "tiktok"), NoTies);
  const IndexSnapshot snap = index.Snapshot();
  const IndexedEvent& e = snap.FindCustomer("c1")->events[0];
  EXPECT_TRUE(e.is_touchpoint());
  EXPECT_EQ(snap.channel_name(e.channel), "tiktok");
  EXPECT_EQ(snap.campaign_name(e.ref), "spring");
  EXPECT_EQ(e.interaction(), Interaction::kClick);
  EXPECT_EQ(e.stage(), Stage::kLoyalty);
  EXPECT_EQ(e.sentiment(), Sentiment::kNegative);
}

TEST(JourneyIndexTest, TiesGoWhereTheCallerSays) {
  WorkspaceIndex index;
  index.Insert(Touch("b", "c1", 100, "x"), NoTies);
  // "a" sorts before "b": no tie before it. The index asks only now.
  index.Insert(Touch("a", "c1", 100, "facebook"), [] { return size_t{0}; });
  // "c" sorts after both.
  index.Insert(Touch("c", "c1", 100, "reddit"), [] { return size_t{2}; });
  const IndexSnapshot snap = index.Snapshot();
  const auto events = snap.FindCustomer("c1")->events;
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(snap.channel_name(events[0].channel), "facebook");
  EXPECT_EQ(snap.channel_name(events[1].channel), "x");
  EXPECT_EQ(snap.channel_name(events[2].channel), "reddit");
}

TEST(JourneyIndexTest, CountsAndErases) {
  WorkspaceIndex index;
  index.Insert(Touch("t1", "c1", 1), NoTies);
  index.Insert(Purchase("p1", "c1", 2, 10), NoTies);
  index.Insert(Touch("t2", "c2", 1), NoTies);
  EXPECT_EQ(index.stats().customers, 2);
  EXPECT_EQ(index.stats().touchpoints, 2);
  EXPECT_EQ(index.stats().conversions, 1);
  EXPECT_THAT(index.CustomersWithIdHash(EventIdHash("p1")), ElementsAre(0u));

  index.EraseCustomer("c1", {EventIdHash("t1"), EventIdHash("p1")});
  EXPECT_EQ(index.stats().customers, 1);
  EXPECT_EQ(index.stats().touchpoints, 1);
  EXPECT_EQ(index.stats().conversions, 0);
  EXPECT_THAT(index.CustomersWithIdHash(EventIdHash("p1")), IsEmpty());
  const IndexSnapshot snap = index.Snapshot();
  EXPECT_THAT(snap.FindCustomer("c1")->events, IsEmpty());
  EXPECT_EQ(snap.FirstPurchaseAt("c1"), std::nullopt);
  std::optional<int64_t> first;
  EXPECT_FALSE(index.FindCustomerSummary("c1", &first));
  // The other customer is untouched.
  EXPECT_THAT(index.CustomersWithIdHash(EventIdHash("t2")), ElementsAre(1u));
}

TEST(JourneyIndexTest, UnknownIdHashHasNoCandidates) {
  WorkspaceIndex index;
  EXPECT_THAT(index.CustomersWithIdHash(EventIdHash("nope")), IsEmpty());
}

TEST(JourneyIndexTest, RefusesChannelsPastTheWorkspaceLimit) {
  WorkspaceIndex index;
  for (size_t i = 0; i < kMaxChannelsPerWorkspace; ++i) {
    index.Insert(Touch(absl::StrCat("t", i), "c1", 1, absl::StrCat("ch", i)),
                 [i] { return i; });
  }
  Event known = Touch("k", "c2", 1, "ch7");
  Event fresh = Touch("f", "c2", 1, "brand_new");
  const Event* known_batch[] = {&known};
  const Event* fresh_batch[] = {&known, &fresh};
  EXPECT_TRUE(CheckChannelCapacity(&index, known_batch).ok());
  EXPECT_THAT(CheckChannelCapacity(&index, fresh_batch),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(JourneyIndexTest, ANewWorkspacesFirstBatchIsCheckedToo) {
  // No index yet: the batch alone must not carry more channels than fit.
  std::vector<Event> events;
  for (size_t i = 0; i <= kMaxChannelsPerWorkspace; ++i) {
    events.push_back(
        Touch(absl::StrCat("t", i), "c1", 1, absl::StrCat("ch", i)));
  }
  std::vector<const Event*> batch;
  for (const Event& e : events) batch.push_back(&e);
  EXPECT_THAT(CheckChannelCapacity(nullptr, batch),
              StatusIs(absl::StatusCode::kResourceExhausted));
  batch.pop_back();
  EXPECT_TRUE(CheckChannelCapacity(nullptr, batch).ok());
}

TEST(JourneyIndexTest, ASnapshotDoesNotSeeLaterWrites) {
  WorkspaceIndex index;
  // Enough customers for several chunks, so that copy-on-write of a chunk
  // and of a customer's list are both exercised.
  const int kCustomers = 3000;
  for (int c = 0; c < kCustomers; ++c) {
    index.Insert(Touch(absl::StrCat("t", c), absl::StrCat("c", c), 100),
                 NoTies);
  }
  const IndexSnapshot before = index.Snapshot();
  index.Insert(Touch("late", "c5", 50, "reddit"), NoTies);  // Before c5's.
  index.Insert(Purchase("buy", "c2500", 200, 7), NoTies);
  index.Insert(Touch("new", "c_new", 10), NoTies);
  index.EraseCustomer("c7", {EventIdHash("t7")});

  EXPECT_EQ(before.customer_count(), static_cast<size_t>(kCustomers));
  EXPECT_EQ(before.stats().touchpoints, kCustomers);
  EXPECT_EQ(before.stats().conversions, 0);
  EXPECT_THAT(Times(*before.FindCustomer("c5")), ElementsAre(100));
  EXPECT_THAT(Times(*before.FindCustomer("c2500")), ElementsAre(100));
  EXPECT_THAT(Times(*before.FindCustomer("c7")), ElementsAre(100));
  EXPECT_FALSE(before.FindCustomer("c_new").has_value());
  EXPECT_EQ(before.ChannelId("reddit"), -1);

  const IndexSnapshot after = index.Snapshot();
  EXPECT_EQ(after.customer_count(), static_cast<size_t>(kCustomers + 1));
  EXPECT_THAT(Times(*after.FindCustomer("c5")), ElementsAre(50, 100));
  EXPECT_THAT(Times(*after.FindCustomer("c2500")), ElementsAre(100, 200));
  EXPECT_THAT(after.FindCustomer("c7")->events, IsEmpty());
  EXPECT_THAT(Times(*after.FindCustomer("c_new")), ElementsAre(10));
  EXPECT_EQ(after.revenue_micros(after.FindCustomer("c2500")->events[1]), 7);
  EXPECT_GE(after.ChannelId("reddit"), 0);
  EXPECT_EQ(after.stats().conversions, 1);
}

TEST(IdHashTableTest, MatchesASetOfPairsThroughAddsRemovesAndGrowth) {
  // Random pairs over few distinct upper halves, so that runs are long,
  // tags repeat across customers and deletions shift entries back.
  index_internal::IdHashTable table;
  std::set<std::pair<uint64_t, uint32_t>> truth;
  std::mt19937_64 rng(11);
  auto hash_of = [&] { return (rng() % 5000) << 32 | (rng() & 0xffffffffu); };
  std::vector<uint64_t> hashes;
  for (int step = 0; step < 200000; ++step) {
    if (hashes.empty() || rng() % 3 != 0) {
      const uint64_t h = hashes.empty() || rng() % 4
                             ? hash_of()
                             : hashes[rng() % hashes.size()];
      const uint32_t c = static_cast<uint32_t>(rng() % 1000);
      table.Add(h, c);
      truth.insert({h >> 32, c});
      hashes.push_back(h);
    } else {
      const uint64_t h = hashes[rng() % hashes.size()];
      const uint32_t c = static_cast<uint32_t>(rng() % 1000);
      table.Remove(h, c);
      truth.erase({h >> 32, c});
    }
  }
  EXPECT_EQ(table.size(), truth.size());
  for (uint64_t upper = 0; upper < 5000; ++upper) {
    std::vector<uint32_t> want;
    for (auto it = truth.lower_bound({upper, 0});
         it != truth.end() && it->first == upper; ++it) {
      want.push_back(it->second);
    }
    std::vector<uint32_t> got = table.Find(upper << 32 | 12345);
    std::sort(got.begin(), got.end());
    ASSERT_EQ(got, want) << "upper half " << upper;
  }
}

TEST(JourneyIndexTest, MemoryBytesCountsTheEventsAndTheTables) {
  WorkspaceIndex index;
  const size_t empty = index.MemoryBytes();
  constexpr int kCustomers = 10000, kEach = 10;
  for (int c = 0; c < kCustomers; ++c) {
    for (int i = 0; i < kEach; ++i) {
      index.Insert(
          Touch(absl::StrCat("t", c, "-", i), absl::StrCat("c", c), 100 + i),
          NoTies);
    }
  }
  const size_t events = size_t{kCustomers} * kEach;
  const size_t filled = index.MemoryBytes();
  // At least each event's 16 bytes, each customer's id and its id hash.
  EXPECT_GE(filled - empty, events * (sizeof(IndexedEvent) + sizeof(uint64_t)) +
                                kCustomers * sizeof(std::string));
  EXPECT_LE(filled, events * 100);
  // Ids longer than a string holds inline are counted by their heap.
  const std::string long_id(200, 'x');
  for (int c = 0; c < 100; ++c) {
    index.Insert(Touch(absl::StrCat("l", c), absl::StrCat(long_id, c), 100),
                 NoTies);
  }
  EXPECT_GE(index.MemoryBytes() - filled, 100 * long_id.size());
}

TEST(JourneyIndexTest, AReleasedSnapshotLetsWritesGoInPlaceAgain) {
  WorkspaceIndex index;
  index.Insert(Touch("a", "c1", 100), NoTies);
  {
    const IndexSnapshot held = index.Snapshot();
    index.Insert(Touch("b", "c1", 200), NoTies);
    EXPECT_THAT(Times(*held.FindCustomer("c1")), ElementsAre(100));
  }
  index.Insert(Touch("c", "c1", 300), NoTies);
  EXPECT_THAT(Times(*index.Snapshot().FindCustomer("c1")),
              ElementsAre(100, 200, 300));
}

TEST(JourneyIndexTest, SnapshotsReadWhileAWriterInserts) {
  // Readers scan whole snapshots while one writer adds events: every
  // snapshot is internally consistent (its event count matches its stats).
  WorkspaceIndex index;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 20000; ++i) {
      index.Insert(
          Touch(absl::StrCat("t", i), absl::StrCat("c", i % 1500), 1000 + i),
          NoTies);
    }
    done = true;
  });
  int scans = 0;
  while (!done || scans == 0) {
    const IndexSnapshot s = index.Snapshot();
    int64_t events = 0;
    for (uint32_t c = 0; c < s.customer_count(); ++c) {
      const auto journey = s.customer(c).events;
      for (size_t k = 1; k < journey.size(); ++k) {
        ASSERT_LE(journey[k - 1].at_us, journey[k].at_us);
      }
      events += static_cast<int64_t>(journey.size());
    }
    ASSERT_EQ(events, s.stats().touchpoints);
    ++scans;
  }
  writer.join();
  EXPECT_EQ(index.Snapshot().stats().touchpoints, 20000);
}

TEST(JourneyIndexTest, WorkspacesAreSeparate) {
  JourneyIndex index;
  index.GetOrCreate("a").Insert(Touch("t", "c1", 1), NoTies);
  EXPECT_NE(index.Find("a"), nullptr);
  EXPECT_EQ(index.Find("b"), nullptr);
  EXPECT_EQ(index.Find("a")->stats().touchpoints, 1);
}

}  // namespace
}  // namespace attribution

#include "storage/rocksdb_event_store.h"

#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "tests/support/core_events.h"
#include "tests/support/status_matchers.h"

namespace attribution {
namespace {

using ::attribution::testing::StatusIs;
using ::testing::ElementsAre;

using ::attribution::testing::Purchase;
using ::attribution::testing::Touch;

class RocksDbEventStoreTest : public ::testing::Test {
 protected:
  RocksDbEventStoreTest() : env_(rocksdb::NewMemEnv(rocksdb::Env::Default())) {
    options_.path = "/db";
    options_.env = env_.get();
  }

  std::unique_ptr<RocksDbEventStore> Open() {
    auto store = RocksDbEventStore::Open(options_);
    EXPECT_TRUE(store.ok()) << store.status();
    return std::move(store).value();
  }

  std::vector<std::string> Ids(EventStore& store, const std::string& ws,
                               const std::string& customer) {
    auto page = store.ReadJourney(ws, customer, nullptr, 1000);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const Event& e : page->events) ids.push_back(e.event_id);
    }
    return ids;
  }

  std::unique_ptr<rocksdb::Env> env_;
  StorageOptions options_;
};

TEST_F(RocksDbEventStoreTest, ReadsAJourneyInTimeOrderWithTiesByEventId) {
  auto store = Open();
  std::vector<Event> batch = {Touch("z", "c1", 300), Touch("b", "c1", 100),
                              Purchase("p", "c1", 200)};
  ASSERT_TRUE(store->Write("w", batch).ok());
  std::vector<Event> later = {Touch("a", "c1", 100), Touch("c", "c1", 100)};
  ASSERT_TRUE(store->Write("w", later).ok());
  EXPECT_THAT(Ids(*store, "w", "c1"), ElementsAre("a", "b", "c", "p", "z"));

  auto page = store->ReadJourney("w", "c1", nullptr, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->first_purchase_at_us, 200);
  EXPECT_EQ(page->events[3], batch[2]);  // Every field survives.
}

TEST_F(RocksDbEventStoreTest, IndexOrdersTiesLikeStorageAfterReopen) {
  {
    auto store = Open();
    std::vector<Event> b1 = {Touch("b", "c1", 100, "x")};
    std::vector<Event> b2 = {Touch("c", "c1", 100, "reddit"),
                             Touch("a", "c1", 100, "facebook")};
    ASSERT_TRUE(store->Write("w", b1).ok());
    ASSERT_TRUE(store->Write("w", b2).ok());
  }
  auto store = Open();  // Rebuilt from RocksDB.
  EXPECT_THAT(Ids(*store, "w", "c1"), ElementsAre("a", "b", "c"));
  EXPECT_EQ(store->Describe("w").stats.touchpoints, 3);
  EXPECT_THAT(store->Describe("w").channels,
              ElementsAre("facebook", "reddit", "x"));
}

TEST_F(RocksDbEventStoreTest, StoresAnEventIdOnceFirstWriteWins) {
  auto store = Open();
  std::vector<Event> first = {Touch("e1", "c1", 100, "facebook"),
                              Touch("e1", "c1", 100, "tiktok")};
  auto r1 = store->Write("w", first);
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->stored, 1);
  // The same id with other content: a conflict, not a duplicate.
  EXPECT_EQ(r1->duplicates, 0);
  EXPECT_EQ(r1->conflicts, 1);
  EXPECT_THAT(r1->conflict_ids, ElementsAre("e1"));
  // A retry, and a conflicting event under another customer and time.
  std::vector<Event> again = {Touch("e1", "c1", 100, "facebook"),
                              Touch("e1", "c2", 999, "youtube"),
                              Touch("e2", "c2", 5)};
  auto r2 = store->Write("w", again);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->stored, 1);
  EXPECT_EQ(r2->duplicates, 1);
  EXPECT_EQ(r2->conflicts, 1);
  // Same id, customer and time, another channel: found by the point lookup,
  // told apart by its value.
  auto r3 = store->Write(
      "w", {Touch("e1", "c1", 100, "reddit"), Touch("e2", "c2", 5)});
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->stored, 0);
  EXPECT_EQ(r3->duplicates, 1);
  EXPECT_EQ(r3->conflicts, 1);
  EXPECT_THAT(r3->conflict_ids, ElementsAre("e1"));
  auto page = store->ReadJourney("w", "c1", nullptr, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_EQ(page->events[0].channel, "facebook");
  EXPECT_THAT(Ids(*store, "w", "c2"), ElementsAre("e2"));
}

TEST_F(RocksDbEventStoreTest, DuplicatesAreRecognisedAfterReopen) {
  std::vector<Event> batch = {Touch("e1", "c1", 1), Purchase("e2", "c1", 2)};
  ASSERT_TRUE(Open()->Write("w", batch).ok());
  auto store = Open();
  auto r = store->Write("w", batch);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stored, 0);
  EXPECT_EQ(r->duplicates, 2);
}

TEST_F(RocksDbEventStoreTest, WorkspacesNeverMix) {
  auto store = Open();
  std::vector<Event> a = {Touch("e1", "c1", 1, "facebook")};
  std::vector<Event> b = {Touch("e1", "c1", 1, "tiktok")};
  ASSERT_TRUE(store->Write("a", a).ok());
  auto r = store->Write("b", b);  // Same event id, other tenant: stored.
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stored, 1);
  auto page = store->ReadJourney("b", "c1", nullptr, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events[0].channel, "tiktok");
  EXPECT_THAT(store->ReadJourney("c", "c1", nullptr, 10),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RocksDbEventStoreTest, PagesThroughAJourney) {
  auto store = Open();
  std::vector<Event> batch;
  for (int i = 0; i < 25; ++i) {
    batch.push_back(Touch("e" + std::to_string(100 + i), "c1", i / 2));
  }
  ASSERT_TRUE(store->Write("w", batch).ok());
  std::vector<std::string> seen;
  JourneyCursor cursor;
  bool first = true;
  while (true) {
    auto page = store->ReadJourney("w", "c1", first ? nullptr : &cursor, 7);
    ASSERT_TRUE(page.ok());
    first = false;
    for (const Event& e : page->events) seen.push_back(e.event_id);
    if (!page->has_more) break;
    cursor = {page->events.back().occurred_at_us, page->events.back().event_id};
  }
  ASSERT_EQ(seen.size(), 25u);
  for (int i = 0; i < 25; ++i)
    EXPECT_EQ(seen[i], "e" + std::to_string(100 + i));
}

TEST_F(RocksDbEventStoreTest, EraseRemovesEverythingAlsoAfterReopen) {
  {
    auto store = Open();
    std::vector<Event> batch = {Touch("t1", "c1", 1), Purchase("p1", "c1", 2),
                                Touch("t2", "c2", 1)};
    ASSERT_TRUE(store->Write("w", batch).ok());
    auto erased = store->EraseCustomer("w", "c1");
    ASSERT_TRUE(erased.ok());
    EXPECT_EQ(erased->touchpoints, 1);
    EXPECT_EQ(erased->conversions, 1);
    EXPECT_THAT(store->ReadJourney("w", "c1", nullptr, 10),
                StatusIs(absl::StatusCode::kNotFound));
    auto again = store->EraseCustomer("w", "c1");
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->touchpoints + again->conversions, 0);
  }
  auto store = Open();
  EXPECT_THAT(store->ReadJourney("w", "c1", nullptr, 10),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(store->Describe("w").stats.customers, 1);
  EXPECT_EQ(store->Describe("w").stats.conversions, 0);
  // An erased id is free again: re-sending stores it.
  std::vector<Event> resend = {Touch("t1", "c1", 1)};
  EXPECT_EQ(store->Write("w", resend)->stored, 1);
}

TEST_F(RocksDbEventStoreTest, SpendReplacesADayAndReadsByDayRange) {
  auto store = Open();
  const std::vector<SpendRow> rows = {
      {100, "instagram", "spring", 5'000'000, "USD"},
      {100, "instagram", "", 1'000'000, "USD"},
      {101, "email", "", 2'000'000, "USD"},
      {-3, "x", "", 7, "USD"},  // Before 1970 still orders by day.
  };
  auto changed = store->WriteSpend("ws", rows);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_EQ(*changed, 4);
  // Sending the same rows again changes nothing.
  changed = store->WriteSpend("ws", rows);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, 0);
  // A new amount for a day replaces the old one.
  changed =
      store->WriteSpend("ws", {{100, "instagram", "spring", 6'000'000, "USD"}});
  EXPECT_EQ(*changed, 1);
  ASSERT_TRUE(store->WriteSpend("other", {{100, "x", "", 1, "EUR"}}).ok());

  store.reset();
  store = Open();  // Durable.
  auto read = store->ReadSpend("ws", 100, 101);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(
      *read,
      ElementsAre(SpendRow{100, "instagram", "", 1'000'000, "USD"},
                  SpendRow{100, "instagram", "spring", 6'000'000, "USD"}));
  read = store->ReadSpend("ws", -10, 200);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 4u);
  EXPECT_EQ(read->front().day, -3);
  EXPECT_EQ(read->back().channel, "email");
  // Spend keys never confuse the event index.
  EXPECT_EQ(store->Describe("ws").stats.customers, 0);
}

TEST_F(RocksDbEventStoreTest, MetaValuesArePerWorkspaceAndDeletable) {
  auto store = Open();
  ASSERT_TRUE(store->PutMeta("ws", "goal/a", "1").ok());
  ASSERT_TRUE(store->PutMeta("ws", "goal/b", "2").ok());
  ASSERT_TRUE(store->PutMeta("ws", "settings", "s").ok());
  ASSERT_TRUE(store->PutMeta("ws2", "goal/c", "3").ok());
  auto goals = store->ReadMeta("ws", "goal/");
  ASSERT_TRUE(goals.ok());
  EXPECT_THAT(*goals,
              ElementsAre(std::pair<std::string, std::string>("goal/a", "1"),
                          std::pair<std::string, std::string>("goal/b", "2")));
  ASSERT_TRUE(store->PutMeta("ws", "goal/a", "").ok());
  store.reset();
  store = Open();
  goals = store->ReadMeta("ws", "goal/");
  ASSERT_TRUE(goals.ok());
  EXPECT_THAT(*goals,
              ElementsAre(std::pair<std::string, std::string>("goal/b", "2")));
}

TEST(FromRocksDbTest, AFullDiskIsUnavailableAndMarkedSo) {
  const absl::Status full = FromRocksDb(rocksdb::Status::NoSpace("wal"));
  EXPECT_THAT(full, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(IsDiskFull(full));
  EXPECT_FALSE(IsDiskFull(FromRocksDb(rocksdb::Status::IOError("x"))));
  EXPECT_FALSE(IsDiskFull(absl::ResourceExhaustedError("channels")));
}

TEST_F(RocksDbEventStoreTest, AQueryReadsTheIndexAsItWasWhenItStarted) {
  auto store = Open();
  ASSERT_TRUE(store->Write("ws", {Touch("t1", "c1", 100)}).ok());
  int64_t seen = -1;
  store->ReadIndex("ws", [&](const IndexSnapshot* index) {
    ASSERT_NE(index, nullptr);
    // A write commits while the query runs, and does not wait for it.
    ASSERT_TRUE(
        store->Write("ws", {Touch("t2", "c1", 200), Touch("t3", "c2", 300)})
            .ok());
    seen = index->stats().touchpoints;
    EXPECT_EQ(index->FindCustomer("c1")->events.size(), 1u);
    EXPECT_FALSE(index->FindCustomer("c2").has_value());
  });
  EXPECT_EQ(seen, 1);
  store->ReadIndex("ws", [&](const IndexSnapshot* index) {
    EXPECT_EQ(index->stats().touchpoints, 3);
  });
}

// The events the index holds for the customer's journey, as channels and
// times (the index keeps no ids).
std::vector<int64_t> IndexedTimes(EventStore& store, const std::string& ws,
                                  const std::string& customer) {
  std::vector<int64_t> out;
  store.ReadIndex(ws, [&](const IndexSnapshot* index) {
    if (index == nullptr) return;
    auto c = index->FindCustomer(customer);
    if (!c.has_value()) return;
    for (const IndexedEvent& e : c->events) out.push_back(e.at_us);
  });
  return out;
}

// PrepareBulk + Commit: the write through a table file.
absl::StatusOr<WriteResult> WriteBulk(EventStore& store, const std::string& ws,
                                      std::vector<Event> events) {
  return store.Commit(*store.PrepareBulk(ws, std::move(events)));
}

TEST_F(RocksDbEventStoreTest, ABulkWriteFollowsTheRulesOfAnyWrite) {
  auto store = Open();
  ASSERT_TRUE(store->Write("w", {Touch("old", "c1", 50, "x")}).ok());
  // New events of several customers out of key order, a repeat of a stored
  // event, a conflict with one, and a repeat and a conflict within the
  // batch.
  auto r = WriteBulk(
      *store, "w",
      {Touch("b", "c2", 300), Purchase("p", "c1", 200),
       Touch("old", "c1", 50, "x"), Touch("old", "c9", 7),
       Touch("a", "c1", 100), Touch("a", "c1", 100), Touch("b", "c2", 301)});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stored, 3);
  EXPECT_EQ(r->duplicates, 2);
  EXPECT_EQ(r->conflicts, 2);
  EXPECT_THAT(r->conflict_ids, ElementsAre("old", "b"));
  EXPECT_THAT(Ids(*store, "w", "c1"), ElementsAre("old", "a", "p"));
  EXPECT_THAT(Ids(*store, "w", "c2"), ElementsAre("b"));
  EXPECT_EQ(store->Describe("w").stats.customers, 2);
  // Every event new: the table file written before the commit is the one
  // added.
  auto fresh = WriteBulk(
      *store, "w",
      {Touch("d", "c3", 10), Touch("c", "c3", 10), Purchase("q", "c2", 400)});
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_EQ(fresh->stored, 3);
  EXPECT_THAT(Ids(*store, "w", "c3"), ElementsAre("c", "d"));
  EXPECT_THAT(IndexedTimes(*store, "w", "c2"), ElementsAre(300, 400));
  // Written once: again, everything is a duplicate.
  auto again = WriteBulk(
      *store, "w",
      {Touch("d", "c3", 10), Touch("c", "c3", 10), Purchase("q", "c2", 400)});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->stored, 0);
  EXPECT_EQ(again->duplicates, 3);
}

TEST_F(RocksDbEventStoreTest, BulkWritesSurviveAReopenAndLeaveNoFiles) {
  {
    auto store = Open();
    ASSERT_TRUE(WriteBulk(*store, "w",
                          {Touch("t1", "c1", 100), Purchase("p1", "c1", 200)})
                    .ok());
    // A prepared batch that is never committed takes its file with it.
    auto unused = store->PrepareBulk("w", {Touch("t9", "c9", 1)});
  }
  // What a bulk load leaves when the process stops before adding its file.
  {
    std::unique_ptr<rocksdb::WritableFile> f;
    ASSERT_TRUE(
        env_->NewWritableFile("/db/bulk-77.sst.tmp", &f, rocksdb::EnvOptions())
            .ok());
    ASSERT_TRUE(f->Append("partial").ok());
    ASSERT_TRUE(f->Close().ok());
  }
  auto store = Open();
  EXPECT_THAT(Ids(*store, "w", "c1"), ElementsAre("t1", "p1"));
  EXPECT_EQ(store->Describe("w").stats.conversions, 1);
  EXPECT_FALSE(store->ReadJourney("w", "c9", nullptr, 10).ok());
  std::vector<std::string> files;
  ASSERT_TRUE(env_->GetChildren("/db", &files).ok());
  for (const std::string& f : files) {
    EXPECT_THAT(f, ::testing::Not(::testing::StartsWith("bulk-"))) << f;
  }
  auto again = WriteBulk(*store, "w", {Touch("t1", "c1", 100)});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->duplicates, 1);
}

TEST_F(RocksDbEventStoreTest, LinkedIdentitiesShareAJourneyAcrossRestarts) {
  {
    auto store = Open();
    ASSERT_TRUE(
        store
            ->Write("w", {Touch("v-b", "v", 100), Touch("v-d", "v", 300),
                          Purchase("c-c", "c", 200)})
            .ok());
    auto linked = store->LinkIdentities("w", {{"v", "c"}, {"u", "v"}});
    ASSERT_TRUE(linked.ok()) << linked.status();
    EXPECT_EQ(linked->linked, 2);
    // Later events of either identity join c's journey, ties by event_id
    // across identities.
    ASSERT_TRUE(
        store->Write("w", {Touch("u-a", "u", 200), Touch("c-e", "c", 200)})
            .ok());
    EXPECT_THAT(Ids(*store, "w", "c"),
                ElementsAre("v-b", "c-c", "c-e", "u-a", "v-d"));
    EXPECT_THAT(IndexedTimes(*store, "w", "u"),
                ElementsAre(100, 200, 200, 200, 300));
    EXPECT_EQ(store->Describe("w").stats.customers, 1);
    EXPECT_EQ(store->Describe("w").linked_identities, 2);
  }
  auto store = Open();
  EXPECT_THAT(Ids(*store, "w", "u"),
              ElementsAre("v-b", "c-c", "c-e", "u-a", "v-d"));
  EXPECT_THAT(IndexedTimes(*store, "w", "c"),
              ElementsAre(100, 200, 200, 200, 300));
  EXPECT_EQ(store->Describe("w").stats.customers, 1);
  // The purchase among the ties is where storage has it.
  store->ReadIndex("w", [](const IndexSnapshot* index) {
    EXPECT_FALSE(index->FindCustomer("c")->events[1].is_touchpoint());
  });
  // Ids stay with the identity they were recorded under: a retry is a
  // duplicate, the same id under another customer a conflict.
  auto again =
      store->Write("w", {Touch("u-a", "u", 200), Touch("u-a", "c", 200)});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->duplicates, 1);
  EXPECT_EQ(again->conflicts, 1);
  // Unlinking v takes u with it; c keeps its own.
  EXPECT_EQ(*store->UnlinkIdentity("w", "v"), "c");
  EXPECT_EQ(*store->UnlinkIdentity("w", "v"), "");
  EXPECT_THAT(Ids(*store, "w", "c"), ElementsAre("c-c", "c-e"));
  EXPECT_THAT(Ids(*store, "w", "u"), ElementsAre("v-b", "u-a", "v-d"));
  EXPECT_EQ(store->Describe("w").stats.customers, 2);
  EXPECT_EQ(store->Describe("w").stats.touchpoints, 4);
}

TEST_F(RocksDbEventStoreTest, ACycleIsRefusedAndNothingOfTheCallStored) {
  auto store = Open();
  ASSERT_TRUE(store->LinkIdentities("w", {{"a", "b"}, {"b", "c"}}).ok());
  EXPECT_THAT(store->LinkIdentities("w", {{"x", "y"}, {"c", "a"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::StartsWith("links[1]: linking \"c\" to "
                                             "\"a\" would make a cycle")));
  EXPECT_EQ(store->Describe("w").linked_identities, 2);  // a and b only.
  ASSERT_TRUE(store->Write("w", {Touch("x1", "x", 1)}).ok());
  EXPECT_THAT(Ids(*store, "w", "x"), ElementsAre("x1"));
  auto page = store->ReadJourney("w", "x", nullptr, 10);
  EXPECT_EQ(page->customer_id, "x");
  EXPECT_TRUE(page->identities.empty());
}

TEST_F(RocksDbEventStoreTest, ErasureTakesLinkedIdentitiesAndTheirLinks) {
  {
    auto store = Open();
    ASSERT_TRUE(store
                    ->Write("w", {Touch("a1", "a", 1), Touch("b1", "b", 2),
                                  Purchase("c1", "c", 3)})
                    .ok());
    ASSERT_TRUE(store->LinkIdentities("w", {{"a", "b"}, {"b", "c"}}).ok());
    auto erased = store->EraseCustomer("w", "b");
    ASSERT_TRUE(erased.ok());
    EXPECT_EQ(erased->touchpoints, 2);
    EXPECT_EQ(erased->identities, 1);
    EXPECT_THAT(Ids(*store, "w", "c"), ElementsAre("c1"));
    EXPECT_EQ(store->Describe("w").stats.touchpoints, 0);
  }
  auto store = Open();
  EXPECT_THAT(Ids(*store, "w", "c"), ElementsAre("c1"));
  EXPECT_THAT(store->ReadJourney("w", "a", nullptr, 10),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(store->Describe("w").linked_identities, 0);
  // a's id is free again: the link went with the erasure.
  ASSERT_TRUE(store->Write("w", {Touch("a2", "a", 5)}).ok());
  EXPECT_THAT(Ids(*store, "w", "a"), ElementsAre("a2"));
}

}  // namespace
}  // namespace attribution

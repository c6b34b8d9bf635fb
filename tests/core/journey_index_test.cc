#include "service/core/journey_index.h"

#include <string>

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

std::vector<int64_t> Times(const WorkspaceIndex::Customer& c) {
  std::vector<int64_t> out;
  for (const auto& e : c.events) out.push_back(e.at_us);
  return out;
}

TEST(JourneyIndexTest, KeepsEventsInTimeOrderWhateverTheArrivalOrder) {
  WorkspaceIndex index;
  index.Insert(Touch("a", "c1", 300), NoTies);
  index.Insert(Touch("b", "c1", 100), NoTies);
  index.Insert(Purchase("c", "c1", 200, 5), NoTies);
  const auto* c = index.FindCustomer("c1");
  ASSERT_NE(c, nullptr);
  EXPECT_THAT(Times(*c), ElementsAre(100, 200, 300));
  EXPECT_EQ(index.revenue_micros(c->events[1]), 5);
  EXPECT_EQ(index.FirstPurchaseAt("c1"), 200);
}

TEST(JourneyIndexTest, PacksTouchpointAttributes) {
  WorkspaceIndex index;
  index.Insert(Touch("a", "c1", 1, "tiktok"), NoTies);
  const IndexedEvent& e = index.FindCustomer("c1")->events[0];
  EXPECT_TRUE(e.is_touchpoint());
  EXPECT_EQ(index.channel_name(e.channel), "tiktok");
  EXPECT_EQ(index.campaign_name(e.ref), "spring");
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
  const auto& events = index.FindCustomer("c1")->events;
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(index.channel_name(events[0].channel), "facebook");
  EXPECT_EQ(index.channel_name(events[1].channel), "x");
  EXPECT_EQ(index.channel_name(events[2].channel), "reddit");
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
  EXPECT_THAT(index.FindCustomer("c1")->events, IsEmpty());
  EXPECT_EQ(index.FirstPurchaseAt("c1"), std::nullopt);
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
  EXPECT_TRUE(index.CheckCapacity(known_batch).ok());
  EXPECT_THAT(index.CheckCapacity(fresh_batch),
              StatusIs(absl::StatusCode::kResourceExhausted));
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

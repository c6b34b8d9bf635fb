#include "service/api/event_conversion.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/bad_events.h"
#include "tests/support/status_matchers.h"

namespace attribution::api {
namespace {

using ::attribution::testing::BadCase;
using ::attribution::testing::GoodPurchase;
using ::attribution::testing::GoodTouch;
using ::attribution::testing::StatusIs;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'790'000'000);  // 2026-09.

TEST(EventConversionTest, ConvertsAndTruncatesToMicroseconds) {
  Event out;
  ASSERT_TRUE(EventFromProto(GoodTouch(), "events[0]", kNow, &out).ok());
  EXPECT_EQ(out.occurred_at_us, 1'780'000'000'123'456);
  EXPECT_EQ(out.interaction, Interaction::kComment);
  v1::Event back;
  EventToProto(out, &back);
  EXPECT_EQ(back.touchpoint().occurred_at().nanos(), 123'456'000);
  EXPECT_EQ(back.touchpoint().channel(), "instagram");
}

class BadEventTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadEventTest, IsRejectedNamingFieldAndIndex) {
  const BadCase& c = GetParam();
  google::protobuf::RepeatedPtrField<v1::Event> batch;
  *batch.Add() = GoodPurchase();
  *batch.Add() = GoodTouch();
  v1::Event bad = c.purchase ? GoodPurchase() : GoodTouch();
  c.mutate(bad);
  *batch.Add() = bad;
  std::vector<Event> out;
  BatchError error = EventsFromProto(batch, kNow, 100, &out);
  EXPECT_THAT(error.status, StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("events[2]." + c.field + ":")));
  EXPECT_EQ(error.event_index, 2);
}

INSTANTIATE_TEST_SUITE_P(
    AllFields, BadEventTest,
    ::testing::ValuesIn(
        attribution::testing::BadEventCases(absl::ToUnixSeconds(kNow))),
    [](const ::testing::TestParamInfo<BadCase>& info) {
      return info.param.name;
    });

TEST(EventConversionTest, RejectsEmptyAndOversizedBatches) {
  google::protobuf::RepeatedPtrField<v1::Event> batch;
  std::vector<Event> out;
  BatchError empty = EventsFromProto(batch, kNow, 2, &out);
  EXPECT_THAT(empty.status, StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("events:")));
  EXPECT_EQ(empty.event_index, -1);
  for (int i = 0; i < 3; ++i) *batch.Add() = GoodTouch();
  BatchError big = EventsFromProto(batch, kNow, 2, &out);
  EXPECT_THAT(big.status, StatusIs(absl::StatusCode::kResourceExhausted,
                                   HasSubstr("batch limit of 2")));
}

TEST(EventConversionTest, ValidatesWorkspace) {
  EXPECT_TRUE(ValidateWorkspace("acme").ok());
  EXPECT_THAT(
      ValidateWorkspace(""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("workspace: ")));
  EXPECT_THAT(ValidateWorkspace("a/b"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace attribution::api

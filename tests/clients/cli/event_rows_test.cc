#include "clients/cli/event_rows.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace attribution::cli {
namespace {

using ::attribution::testing::StatusIs;
using ::testing::HasSubstr;

RowValues Row(std::initializer_list<std::pair<Column, std::string>> values) {
  RowValues row;
  for (const auto& [c, v] : values) row[c] = v;
  return row;
}

TEST(ParseDecimalMicrosTest, IsExact) {
  EXPECT_EQ(*ParseDecimalMicros("19.99"), 19'990'000);
  EXPECT_EQ(*ParseDecimalMicros("0.000001"), 1);
  EXPECT_EQ(*ParseDecimalMicros("5"), 5'000'000);
  EXPECT_EQ(*ParseDecimalMicros(".5"), 500'000);
  EXPECT_EQ(*ParseDecimalMicros(""), 0);
  for (const char* bad : {"-1", "NaN", "inf", "1e3", "1.2.3", "0.0000001",
                          "1234567890123", "."}) {
    EXPECT_THAT(ParseDecimalMicros(bad),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(FormatMicrosTest, ReadsLikeMoney) {
  EXPECT_EQ(FormatMicros(19'990'000), "19.99");
  EXPECT_EQ(FormatMicros(51'700'000), "51.70");
  EXPECT_EQ(FormatMicros(5'000'000), "5");
  EXPECT_EQ(FormatMicros(125'000), "0.125");
}

TEST(RowToEventTest, BuildsATouchpoint) {
  auto e = RowToEvent(Row({{kEventId, "e1"},
                           {kCustomerId, "c1"},
                           {kOccurredAt, "2026-03-01T12:00:00.5Z"},
                           {kType, "touchpoint"},
                           {kChannel, "instagram"},
                           {kInteraction, "Comment"},
                           {kStage, "loyalty"},
                           {kSentiment, "positive"}}));
  ASSERT_TRUE(e.ok()) << e.status();
  const v1::Touchpoint& t = e->touchpoint();
  EXPECT_EQ(t.occurred_at().seconds(), 1772366400);
  EXPECT_EQ(t.occurred_at().nanos(), 500'000'000);
  EXPECT_EQ(t.interaction(), v1::INTERACTION_COMMENT);
  EXPECT_EQ(t.stage(), v1::STAGE_LOYALTY);
  EXPECT_EQ(t.sentiment(), v1::SENTIMENT_POSITIVE);
  // And back, as journey output writes it.
  RowValues back = EventToRow(*e);
  EXPECT_EQ(back[kOccurredAt], "2026-03-01T12:00:00.5Z");
  EXPECT_EQ(back[kInteraction], "comment");
}

TEST(RowToEventTest, BuildsAPurchaseWithExactRevenue) {
  auto e = RowToEvent(Row({{kEventId, "p1"},
                           {kCustomerId, "c1"},
                           {kOccurredAt, "2026-03-01T14:00:00+02:00"},
                           {kType, "conversion"},
                           {kConversion, "purchase"},
                           {kRevenue, "19.99"},
                           {kCurrency, "eur"}}));
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->conversion().occurred_at().seconds(), 1772366400);
  EXPECT_EQ(e->conversion().revenue_micros(), 19'990'000);
  EXPECT_EQ(e->conversion().currency(), "EUR");
}

TEST(RowToEventTest, NamesTheColumnOfABadValue) {
  const RowValues base = Row({{kEventId, "e"},
                              {kCustomerId, "c"},
                              {kOccurredAt, "2026-03-01T12:00:00Z"},
                              {kType, "touchpoint"},
                              {kChannel, "x"},
                              {kInteraction, "click"}});
  auto with = [&](Column c, std::string v) {
    RowValues r = base;
    r[c] = std::move(v);
    return RowToEvent(r);
  };
  EXPECT_THAT(
      with(kOccurredAt, "yesterday"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("occurred_at:")));
  EXPECT_THAT(with(kType, "view"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("type:")));
  EXPECT_THAT(
      with(kInteraction, "poke"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("interaction:")));
  EXPECT_THAT(
      with(kStage, "awareness"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stage:")));
  RowValues conv = base;
  conv[kType] = "conversion";
  conv[kConversion] = "purchase";
  conv[kRevenue] = "NaN";
  EXPECT_THAT(RowToEvent(conv), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("revenue:")));
}

TEST(MapHeaderTest, NamesMissingColumnsAndIgnoresExtraOnes) {
  EXPECT_THAT(MapHeader({"event_id", "customer_id", "occurred_at", "type"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("channel, interaction, conversion")));
  auto pos = MapHeader({"note", "type", "event_id", "customer_id",
                        "occurred_at", "channel", "interaction", "conversion"});
  ASSERT_TRUE(pos.ok());
  EXPECT_EQ((*pos)[kType], 1);
  EXPECT_EQ((*pos)[kRevenue], -1);
}

TEST(ParseJsonLineTest, AcceptsStringsNumbersAndNulls) {
  auto row = ParseJsonLine(
      R"({"event_id": 42, "revenue": 19.99, "stage": null, "x": [1]})");
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ((*row)[kEventId], "42");
  EXPECT_EQ((*row)[kRevenue], "19.99");
  EXPECT_EQ((*row)[kStage], "");
  EXPECT_THAT(ParseJsonLine("{not json"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      ParseJsonLine(R"({"channel": {"a": 1}})"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("channel")));
}

TEST(ParseJsonLineTest, ReadsEscapesSkipsOtherKeysAndRefusesBrokenLines) {
  auto row = ParseJsonLine(
      R"( { "campaign" : "a\"b\\c\/d\u00e9\ud83d\ude00\n" , "note": {"x": [1, )"
      R"(true, null, {"y": "}"}]}, "revenue": -0.5e1, "event_id": "1",)"
      R"( "event_id": "2" } )");
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ((*row)[kCampaign], "a\"b\\c/d\xc3\xa9\xf0\x9f\x98\x80\n");
  EXPECT_EQ((*row)[kRevenue], "-5");
  EXPECT_EQ((*row)[kEventId], "2");  // The last of a repeated key.
  EXPECT_TRUE(ParseJsonLine("{}").ok());
  for (const char* bad :
       {"", "[]", "{\"a\":1", "{\"a\":1} x", "{\"a\" 1}", "{\"a\":01}",
        "{\"a\":1.}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\q\"}",
        "{\"a\":\"tab\there\"}", "{\"a\":tru}", "{a:1}", "{\"a\":1,}"}) {
    EXPECT_THAT(ParseJsonLine(bad), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("not a JSON object")))
        << bad;
  }
  EXPECT_THAT(ParseJsonLine(R"({"stage": true})"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("stage: must be a string or a number")));
}

}  // namespace
}  // namespace attribution::cli

#include "service/api/event_file.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/cli/importer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/api/event_conversion.h"
#include "tests/support/status_matchers.h"

namespace attribution::api {
namespace {

using ::attribution::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'780'000'000);  // 2026-05-28.

constexpr char kHeader[] =
    "event_id,customer_id,occurred_at,type,channel,campaign,interaction,"
    "stage,sentiment,conversion,revenue,currency\n";

EventFileOptions Options(int64_t line_offset = 0) {
  EventFileOptions o;
  o.line_offset = line_offset;
  o.now = kNow;
  return o;
}

// What a streamed import stores for the same text: the CLI's reader, then
// the server's check of each event. Rejected rows are left out.
std::vector<Event> StreamedEvents(const std::string& text, int* rejected) {
  std::istringstream in(text);
  auto source = cli::NewCsvSource(in);
  EXPECT_TRUE(source.ok()) << source.status();
  std::vector<Event> out;
  *rejected = 0;
  int64_t line;
  absl::StatusOr<v1::Event> row;
  while ((*source)->Next(&line, &row)) {
    Event e;
    if (row.ok() && EventFromProto(*row, "", kNow, &e).ok()) {
      out.push_back(std::move(e));
    } else {
      ++*rejected;
    }
  }
  return out;
}

TEST(EventFileTest, ReadsEveryRowAsAStreamedImportWould) {
  const std::string text = absl::StrCat(
      // Columns in another order, an extra column, a byte order mark, CRLF.
      "\xEF\xBB\xBF"
      "Customer_ID,event_id,type,occurred_at,channel,campaign,interaction,"
      "stage,sentiment,conversion,revenue,currency,note\r\n",
      "c1,t1,touchpoint,2026-03-01T12:00:00Z,instagram,spring,like,,,,,,x\r\n",
      "c1,t2,TouchPoint, 2026-03-01T14:00:00.250+02:00 ,tiktok,\"a, "
      "\"\"b\"\"\","
      "Click,Purchase,negative,,,,\n",
      "c1,p1,conversion,2026-03-02T09:30:00.1234567Z,,,,,,purchase,49.9,eur,\n",
      "c2,l1,conversion,2025-12-31T23:59:59-05:30,,,,,,lead,,,\n", "\n",
      "c2,t3,touchpoint,2026-02-29T00:00:00Z,x,,like,,,,,,\n",  // No such day.
      // A control character in a campaign (both paths refuse it).
      "c2,t4,touchpoint,2026-03-01T10:00:00Z,x,\"two\nlines\",visit,,,,,,\n",
      "c2,t5,touchpoint,2026-03-01T10:00:00Z,Bad,,like,,,,,,\n",
      "c2,p2,conversion,2026-03-01T10:00:00Z,,,,,,lead,5,EUR,\n",
      "c3,t6,touchpoint,1999-12-31T23:59:59Z,x,,like,,,,,,\n",
      "c3,t7,touchpoint,2026-06-30T00:00:00Z,x,,like,,,,,,\n",  // Future.
      "c3,p3,conversion,2026-03-01T10:00:00Z,,,,,,purchase,1.1234567,EUR,\n",
      ",t8,touchpoint,2026-03-01T10:00:00Z,x,,like,,,,,,\n",
      "c3,t9,touchpoint,2026-03-01T10:00:00Z,x,,poke,,,,,,\n",
      "c3,t10,touchpoint,2026-03-01t10:00:00z,x,,like,,,,,,");  // No newline.
  auto parsed = ParseCsvEvents(text, Options());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  int streamed_rejected = 0;
  const std::vector<Event> streamed = StreamedEvents(text, &streamed_rejected);
  EXPECT_EQ(parsed->events, streamed);
  EXPECT_EQ(parsed->rejected, streamed_rejected);
  EXPECT_EQ(parsed->rows, 14);
  EXPECT_EQ(parsed->events.size(), 5u);
  ASSERT_GE(parsed->events.size(), 3u);
  EXPECT_EQ(parsed->events[1].occurred_at_us,
            absl::ToUnixMicros(absl::FromCivil(
                absl::CivilSecond(2026, 3, 1, 12, 0, 0), absl::UTCTimeZone())) +
                250'000);
  EXPECT_EQ(parsed->events[1].campaign, "a, \"b\"");
  EXPECT_EQ(parsed->events[2].revenue_micros, 49'900'000);
  EXPECT_EQ(parsed->events[2].currency, "EUR");
  // Lines count the record that spans two.
  EXPECT_THAT(
      parsed->rejected_rows,
      ElementsAre(Field(&RejectedRow::line, 7), Field(&RejectedRow::line, 8),
                  Field(&RejectedRow::line, 10), Field(&RejectedRow::line, 11),
                  Field(&RejectedRow::line, 12), Field(&RejectedRow::line, 13),
                  Field(&RejectedRow::line, 14), Field(&RejectedRow::line, 15),
                  Field(&RejectedRow::line, 16)));
  EXPECT_EQ(parsed->rejected_rows[0].row, 5);
  EXPECT_THAT(parsed->rejected_rows[0].reason,
              HasSubstr("occurred_at: \"2026-02-29T00:00:00Z\" is not RFC "
                        "3339"));
  EXPECT_EQ(parsed->rejected_rows[1].reason,
            "campaign: must be UTF-8 without control characters");
  EXPECT_EQ(parsed->rejected_rows[2].reason,
            "channel: must be a lower-case slug of [a-z0-9_]");
  EXPECT_EQ(parsed->rejected_rows[3].reason,
            "revenue: is only allowed on purchases");
  EXPECT_EQ(parsed->rejected_rows[7].reason, "customer_id: is required");
  EXPECT_THAT(parsed->rejected_rows[8].reason,
              HasSubstr("interaction: \"poke\" is not one of"));
  EXPECT_EQ(parsed->events[4].event_id, "t10");
}

TEST(EventFileTest, ReadsTimesAsAStreamedImportWould) {
  // The shapes read without absl::ParseTime, at their edges, and some that
  // go to it.
  const std::vector<std::string> times = {"2026-03-01T12:00:00Z",
                                          "2026-03-01T12:00:00.1Z",
                                          "2026-03-01T12:00:00.123456789123Z",
                                          "2024-02-29T23:59:59+23:59",
                                          "2026-03-01T00:00:00-00:01",
                                          "2000-01-01T00:00:00Z",
                                          "1999-12-31T23:59:59.999999Z",
                                          "2026-03-01T12:00:00+24:00",
                                          "2026-03-01T12:00:60Z",
                                          "2026-13-01T12:00:00Z",
                                          "2026-03-01T12:00:00.Z",
                                          "2026-03-01T12:00:00+0100",
                                          "2026-03-01 12:00:00Z",
                                          "+2026-03-01T12:00:00Z",
                                          "2026-3-01T12:00:00Z",
                                          "2026-03-01T12:00:00ZZ",
                                          "2100-02-29T00:00:00Z",
                                          "2026-04-31T00:00:00Z"};
  std::string text = kHeader;
  for (size_t i = 0; i < times.size(); ++i) {
    absl::StrAppend(&text, "t", i, ",c1,", times[i],
                    ",touchpoint,x,,like,,,,,\n");
  }
  auto parsed = ParseCsvEvents(text, Options());
  ASSERT_TRUE(parsed.ok());
  int streamed_rejected = 0;
  EXPECT_EQ(parsed->events, StreamedEvents(text, &streamed_rejected));
  EXPECT_EQ(parsed->rejected, streamed_rejected);
  EXPECT_GE(parsed->events.size(), 5u);
}

TEST(EventFileTest, NamesTheLinesOfTheClientsFile) {
  const std::string text = absl::StrCat(
      kHeader, "t1,c1,2026-03-01T12:00:00Z,touchpoint,x,,like,,,,,\n",
      "t2,c1,yesterday,touchpoint,x,,like,,,,,\n");
  auto parsed = ParseCsvEvents(text, Options(/*line_offset=*/998));
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->rejected_rows.size(), 1u);
  EXPECT_EQ(parsed->rejected_rows[0].line, 1001);
  EXPECT_EQ(parsed->rejected_rows[0].row, 2);
}

TEST(EventFileTest, EnforcesTheReportingCurrency) {
  EventFileOptions options = Options();
  options.reporting_currency = "EUR";
  auto parsed = ParseCsvEvents(
      absl::StrCat(kHeader,
                   "p1,c1,2026-03-01T12:00:00Z,conversion,,,,,,purchase,5,"
                   "EUR\n",
                   "p2,c1,2026-03-01T12:00:00Z,conversion,,,,,,purchase,5,"
                   "usd\n"),
      options);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->events.size(), 1u);
  ASSERT_EQ(parsed->rejected_rows.size(), 1u);
  EXPECT_EQ(parsed->rejected_rows[0].reason,
            "currency: \"USD\" is not the workspace's reporting currency "
            "\"EUR\"");
}

TEST(EventFileTest, AFileWithoutItsColumnsIsRefusedWhole) {
  EXPECT_THAT(ParseCsvEvents("event_id,customer_id,occurred_at,type\n"
                             "t1,c1,2026-03-01T12:00:00Z,touchpoint\n",
                             Options()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("missing required column(s): channel, "
                                 "interaction, conversion")));
  EXPECT_THAT(
      ParseCsvEvents("", Options()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no header row")));
}

TEST(EventFileTest, AnUnterminatedQuoteRejectsTheLastRow) {
  auto parsed = ParseCsvEvents(
      absl::StrCat(kHeader,
                   "t1,c1,2026-03-01T12:00:00Z,touchpoint,x,\"open,like\n"),
      Options());
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->rows, 1);
  ASSERT_EQ(parsed->rejected_rows.size(), 1u);
  EXPECT_EQ(parsed->rejected_rows[0].reason, "unterminated quoted field");
}

}  // namespace
}  // namespace attribution::api

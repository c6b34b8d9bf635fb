// attributionctl against the real server: file import, duplicates, rejected
// rows, journey output.
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "attribution/v1/attribution_service.pb.h"
#include "clients/cli/vocabulary.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"

namespace attribution {
namespace {

using ::attribution::testing::CommandResult;
using ::attribution::testing::RunCommand;
using ::attribution::testing::ServerProcess;
using ::attribution::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

google::protobuf::Struct ParseJson(const std::string& text) {
  google::protobuf::Struct s;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &s).ok())
      << text;
  return s;
}

// A number field; 64-bit integers come as strings (proto3 JSON).
double Field(const google::protobuf::Struct& s, const std::string& name) {
  const google::protobuf::Value& v = s.fields().at(name);
  if (v.has_string_value()) return std::stod(v.string_value());
  return v.number_value();
}

constexpr const char* kHeader = testing::kEventFileHeader;
using testing::WriteFile;

class AttributionctlTest : public testing::ServerAndCliTest {};

TEST_F(AttributionctlTest, ImportsAFileAndReimportingItStoresNothingNew) {
  const std::string csv = dir_.path() + "/events.csv";
  CommandResult gen =
      RunCommand({PYTHON3_PATH, GEN_EVENTS_PY, "--events", "20000",
                  "--customers", "2000", "--out", csv});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;

  CommandResult first =
      Ctl({"--format=json", "--batch_size=700", "import", "events", csv});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto s1 = ParseJson(first.out);
  EXPECT_EQ(Field(s1, "rows"), 20000);
  EXPECT_EQ(Field(s1, "stored"), 20000);
  EXPECT_EQ(Field(s1, "rejected"), 0);

  CommandResult again = Ctl({"--format=json", "import", "events", csv});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  auto s2 = ParseJson(again.out);
  EXPECT_EQ(Field(s2, "stored"), 0);
  EXPECT_EQ(Field(s2, "duplicates"), 20000);

  CommandResult described = Ctl({"--format=json", "describe"});
  ASSERT_EQ(described.exit_code, 0) << described.err;
  auto d = ParseJson(described.out);
  EXPECT_EQ(Field(d, "touchpoints") + Field(d, "conversions"), 20000);
}

TEST_F(AttributionctlTest, ReportsRejectedRowsByLineAndImportsTheRest) {
  const std::string csv = dir_.path() + "/mixed.csv";
  WriteFile(
      csv,
      absl::StrCat(
          kHeader,
          "t1,c1,2026-03-01T12:00:00Z,touchpoint,instagram,spring,like,,,,,\n",
          "t2,c1,not-a-time,touchpoint,instagram,,like,,,,,\n",
          "t3,c1,2026-03-01T13:00:00Z,touchpoint,Bad-Channel,,click,,,,,\n",
          "p1,c1,2026-03-02T09:30:00Z,conversion,,,,,,purchase,49.90,EUR\n",
          "p2,c1,2026-03-03T09:30:00Z,conversion,,,,,,purchase,5,ZZZ\n",
          "t4,c2,2026-03-01T12:00:00Z,touchpoint,tiktok,\"a, "
          "b\",share,,,,,\n"));
  CommandResult r =
      Ctl({"--format=json", "--batch_size=10", "import", "events", csv});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("line 3: occurred_at:"));
  EXPECT_THAT(r.err, HasSubstr("line 4: touchpoint.channel:"));
  EXPECT_THAT(r.err, HasSubstr("line 6: conversion.currency:"));
  auto s = ParseJson(r.out);
  EXPECT_EQ(Field(s, "rows"), 6);
  EXPECT_EQ(Field(s, "stored"), 3);
  EXPECT_EQ(Field(s, "rejected"), 3);

  CommandResult journey = Ctl({"--format=json", "journey", "c1"});
  ASSERT_EQ(journey.exit_code, 0) << journey.err;
  // GetJourneyResponse as proto3 JSON, enum values as words.
  auto j = ParseJson(journey.out);
  const auto& events = j.fields().at("events").list_value().values();
  ASSERT_EQ(events.size(), 2);
  const auto& first = events[0].struct_value().fields();
  EXPECT_EQ(first.at("event")
                .struct_value()
                .fields()
                .at("touchpoint")
                .struct_value()
                .fields()
                .at("event_id")
                .string_value(),
            "t1");
  EXPECT_EQ(first.at("effective_stage").string_value(), "discovery");
  EXPECT_TRUE(first.at("stage_derived").bool_value());
  EXPECT_EQ(Field(events[1]
                      .struct_value()
                      .fields()
                      .at("event")
                      .struct_value()
                      .fields()
                      .at("conversion")
                      .struct_value(),
                  "revenue_micros"),
            49900000);
  EXPECT_EQ(j.fields().at("first_purchase_at").string_value(),
            "2026-03-02T09:30:00Z");
}

TEST_F(AttributionctlTest, AMissingColumnFailsBeforeAnythingIsSent) {
  const std::string csv = dir_.path() + "/bad_header.csv";
  WriteFile(csv,
            "event_id,customer_id,occurred_at,type,channel\n"
            "t1,c1,2026-03-01T12:00:00Z,touchpoint,instagram\n");
  CommandResult r = Ctl({"import", "events", csv});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err,
              HasSubstr("missing required column(s): interaction, conversion"));
  CommandResult described = Ctl({"--format=json", "describe"});
  EXPECT_EQ(Field(ParseJson(described.out), "touchpoints"), 0);
}

TEST_F(AttributionctlTest, ImportsJsonLinesAndExportsAReimportableCsv) {
  const std::string jsonl = dir_.path() + "/events.jsonl";
  WriteFile(
      jsonl,
      "{\"event_id\":\"t1\",\"customer_id\":\"c1\",\"occurred_at\":\"2026-03-"
      "01T12:00:00Z\",\"type\":\"touchpoint\",\"channel\":\"youtube\","
      "\"interaction\":\"visit\",\"sentiment\":\"positive\"}\n"
      "\n"
      "{\"event_id\":\"p1\",\"customer_id\":\"c1\",\"occurred_at\":\"2026-03-"
      "01T12:30:00Z\",\"type\":\"conversion\",\"conversion\":\"purchase\","
      "\"revenue\":19.99,\"currency\":\"USD\"}\n"
      "{\"event_id\":\"t2\",\"customer_id\":\"c1\",\"occurred_at\":\"2026-03-"
      "04T08:00:00Z\",\"type\":\"touchpoint\",\"channel\":\"email\","
      "\"interaction\":\"click\"}\n");
  CommandResult r = Ctl({"import", "events", jsonl});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  CommandResult table = Ctl({"journey", "c1"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("purchase (derived)"));
  EXPECT_THAT(table.out, HasSubstr("19.99"));

  CommandResult csv = Ctl({"--format=csv", "journey", "c1"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  const std::string exported = dir_.path() + "/export.csv";
  WriteFile(exported, csv.out);
  CommandResult reimport = Ctl({"import", "events", exported}, "copy");
  ASSERT_EQ(reimport.exit_code, 0) << reimport.err;
  CommandResult copy = Ctl({"--format=csv", "journey", "c1"}, "copy");
  EXPECT_EQ(copy.out, csv.out);

  CommandResult erased = Ctl({"--format=json", "erase", "c1"});
  ASSERT_EQ(erased.exit_code, 0) << erased.err;
  EXPECT_EQ(Field(ParseJson(erased.out), "touchpoints_removed"), 2);
  CommandResult gone = Ctl({"journey", "c1"});
  EXPECT_EQ(gone.exit_code, 3);  // The server's answer, not a usage error.
  EXPECT_THAT(gone.err, HasSubstr("NOT_FOUND"));
}

TEST_F(AttributionctlTest, AttributesAndListsPathsFromTheCommandLine) {
  const std::string csv = dir_.path() + "/journeys.csv";
  WriteFile(
      csv,
      absl::StrCat(
          kHeader,
          "a1,a,2026-03-01T10:00:00Z,touchpoint,instagram,launch,click,,,,,\n",
          "a2,a,2026-03-02T10:00:00Z,touchpoint,email,,click,,,,,\n",
          "a3,a,2026-03-03T10:00:00Z,conversion,,,,,,purchase,40,EUR\n",
          "b1,b,2026-03-01T10:00:00Z,touchpoint,tiktok,,like,,,,,\n",
          "b2,b,2026-03-04T10:00:00Z,conversion,,,,,,purchase,10,EUR\n",
          "c1,c,2026-03-05T10:00:00Z,touchpoint,instagram,launch,like,,,,,\n"));
  ASSERT_EQ(Ctl({"import", "events", csv}).exit_code, 0);

  CommandResult r = Ctl({"--format=json", "attribute", "--goal=acquisition",
                         "--model=linear,markov", "--from=2026-03-01",
                         "--to=2026-04-01", "--group-by=channel"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The AttributeResponse itself.
  v1::AttributeResponse doc;
  ASSERT_TRUE(cli::ParseMessageJson(r.out, &doc).ok()) << r.out;
  EXPECT_EQ(doc.totals().conversions(), 2);
  EXPECT_EQ(doc.totals().non_converting_journeys(), 1);
  ASSERT_EQ(doc.results_size(), 2);
  EXPECT_EQ(doc.results(0).model().model(), v1::MODEL_LINEAR);
  double linear_instagram = -1;
  for (const v1::GroupCredit& g : doc.results(0).groups()) {
    if (g.channel() == "instagram") {
      linear_instagram = g.conversions();
      EXPECT_EQ(g.revenue(), 20);
    }
  }
  EXPECT_EQ(linear_instagram, 0.5);
  EXPECT_THAT(r.out, HasSubstr("\"model\":\"linear\""));

  CommandResult table =
      Ctl({"attribute", "--goal=acquisition", "--model=shapley",
           "--from=2026-03-01", "--to=2026-04-01"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("2 conversions (50.00 revenue)"));

  CommandResult paths = Ctl({"--format=csv", "paths", "--goal=acquisition",
                             "--from=2026-03-01", "--to=2026-04-01"});
  ASSERT_EQ(paths.exit_code, 0) << paths.err;
  EXPECT_THAT(paths.out,
              HasSubstr("steps,conversions,non_conversions,conversion_rate,"
                        "revenue\ninstagram > email,1,0,1,40\n"));

  CommandResult bad = Ctl({"attribute", "--goal=awareness", "--from=2026-03-01",
                           "--to=2026-04-01"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--goal: \"awareness\" is not one of "
                                 "acquisition, repeat_purchase, retention"));
}

}  // namespace
}  // namespace attribution

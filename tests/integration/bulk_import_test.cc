// `attributionctl import events --bulk` against the real server: the file
// parsed by the server and stored as table files gives what a streamed
// import gives, counts duplicates and conflicts, and names bad rows by
// their line in the file.
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"

namespace attribution {
namespace {

using ::attribution::testing::CommandResult;
using ::attribution::testing::RunCommand;
using ::testing::HasSubstr;

constexpr const char* kHeader = testing::kEventFileHeader;
using testing::WriteFile;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class BulkImportTest : public testing::ServerAndCliTest {
 protected:
  std::string Generate(int events, int customers, const std::string& name,
                       const std::string& format = "csv") {
    const std::string path = absl::StrCat(dir_.path(), "/", name);
    CommandResult gen = RunCommand({PYTHON3_PATH, GEN_EVENTS_PY, "--events",
                                    std::to_string(events), "--customers",
                                    std::to_string(customers), "--format",
                                    format, "--out", path});
    EXPECT_EQ(gen.exit_code, 0) << gen.err;
    return path;
  }
};

TEST_F(BulkImportTest, StoresWhatAStreamedImportStoresAndCountsDuplicates) {
  const std::string csv = Generate(30000, 3000, "e.csv");
  ASSERT_EQ(Ctl({"import", "events", csv}, "streamed").exit_code, 0);
  // Parts of about 100 KB: some 30 requests, each its own table file.
  CommandResult bulk = Ctl({"--format=json", "import", "events", "--bulk",
                            "--bulk_part_bytes=100000", csv});
  ASSERT_EQ(bulk.exit_code, 0) << bulk.err;
  EXPECT_THAT(bulk.out, HasSubstr("\"rows\":30000"));
  EXPECT_THAT(bulk.out, HasSubstr("\"stored\":30000"));
  EXPECT_THAT(bulk.out, HasSubstr("\"rejected\":0"));

  // The same events: the exports are the same file.
  const std::string a = dir_.path() + "/a.csv", b = dir_.path() + "/b.csv";
  ASSERT_EQ(Ctl({"export", "events", a}).exit_code, 0);
  ASSERT_EQ(Ctl({"export", "events", b}, "streamed").exit_code, 0);
  EXPECT_EQ(ReadFile(a), ReadFile(b));
  // And the same index: identical credits under every model.
  for (const char* goal : {"acquisition", "repeat_purchase", "retention"}) {
    const std::vector<std::string> args = {
        "--format=json",
        "attribute",
        absl::StrCat("--goal=", goal),
        "--start=2025-01-01",
        "--end=2026-01-01",
        "--model=first_touch,last_touch,last_non_direct,linear,"
        "position_based,time_decay,markov:3,shapley"};
    CommandResult x = Ctl(args), y = Ctl(args, "streamed");
    ASSERT_EQ(x.exit_code, 0) << x.err;
    ASSERT_EQ(y.exit_code, 0) << y.err;
    // Only the workspace in the echoed request differs.
    EXPECT_EQ(x.out.substr(x.out.find("\"goal\"")),
              y.out.substr(y.out.find("\"goal\"")))
        << goal;
  }

  // Loaded again, in one part: every row a duplicate, nothing stored.
  CommandResult again =
      Ctl({"--format=json", "import", "events", "--bulk", csv});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("\"stored\":0"));
  EXPECT_THAT(again.out, HasSubstr("\"duplicates\":30000"));
  CommandResult described = Ctl({"--format=json", "describe"});
  CommandResult streamed = Ctl({"--format=json", "describe"}, "streamed");
  EXPECT_THAT(described.out, HasSubstr("\"touchpoints\":\""));
  // The counts and channels; the index's bytes depend on its growth.
  const std::regex bytes(",\"index_bytes\":\"[0-9]+\"");
  EXPECT_EQ(std::regex_replace(described.out, bytes, ""),
            std::regex_replace(streamed.out, bytes, ""));
}

TEST_F(BulkImportTest, NamesBadRowsByTheirLineInTheFileAcrossParts) {
  std::string text = kHeader;
  std::vector<int> bad_lines;
  int line = 1;
  for (int i = 0; i < 400; ++i) {
    ++line;
    if (i == 3) {
      // A record over two lines (refused: a campaign holds no line break).
      absl::StrAppend(&text, "m", i, ",c", i % 50,
                      ",2025-03-01T12:00:00Z,touchpoint,x,\"two\nlines\","
                      "like,,,,,\n");
      bad_lines.push_back(line);
      ++line;
    } else if (i % 97 == 5) {
      absl::StrAppend(&text, "b", i, ",c", i % 50,
                      ",yesterday,touchpoint,x,,like,,,,,\n");
      bad_lines.push_back(line);
    } else {
      absl::StrAppend(&text, "t", i, ",c", i % 50,
                      ",2025-03-01T12:", 10 + i / 60, ":", 10 + i % 50,
                      "Z,touchpoint,instagram,\"a, b\",like,,,,,\n");
    }
  }
  const std::string csv = dir_.path() + "/mixed.csv";
  WriteFile(csv, text);
  CommandResult r = Ctl({"--format=json", "import", "events", "--bulk",
                         "--bulk_part_bytes=2000", csv});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // Some rows rejected.
  EXPECT_THAT(r.err, HasSubstr(absl::StrCat("line ", bad_lines[0],
                                            ": campaign: must be UTF-8")));
  for (size_t k = 1; k < bad_lines.size(); ++k) {
    EXPECT_THAT(r.err,
                HasSubstr(absl::StrCat("line ", bad_lines[k],
                                       ": occurred_at: \"yesterday\" is not "
                                       "RFC 3339")));
  }
  EXPECT_THAT(r.out, HasSubstr("\"rows\":400"));
  EXPECT_THAT(r.out,
              HasSubstr(absl::StrCat("\"stored\":", 400 - bad_lines.size())));
  EXPECT_THAT(r.out,
              HasSubstr(absl::StrCat("\"rejected\":", bad_lines.size())));
}

TEST_F(BulkImportTest, AFileMissingAColumnStoresNothing) {
  const std::string csv = dir_.path() + "/bad_header.csv";
  WriteFile(csv,
            "event_id,customer_id,occurred_at,type,channel\n"
            "t1,c1,2026-03-01T12:00:00Z,touchpoint,instagram\n");
  CommandResult r = Ctl({"import", "events", "--bulk", csv});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err,
              HasSubstr("missing required column(s): interaction, conversion"));
  CommandResult described = Ctl({"--format=json", "describe"});
  EXPECT_THAT(described.out, HasSubstr("\"touchpoints\":\"0\""));
}

TEST_F(BulkImportTest, LoadsJsonLinesNamingTheirLinesAndCountsConflicts) {
  const std::string jsonl = dir_.path() + "/e.jsonl";
  WriteFile(jsonl,
            "{\"event_id\":\"t1\",\"customer_id\":\"c1\",\"occurred_at\":"
            "\"2026-03-01T12:00:00Z\",\"type\":\"touchpoint\",\"channel\":"
            "\"instagram\",\"interaction\":\"like\",\"campaign\":\"say "
            "\\\"hi\\\", all\"}\n"
            "\n"
            "{not json\n"
            "{\"event_id\":\"t2\",\"customer_id\":\"c1\",\"occurred_at\":"
            "\"2026-03-01T13:00:00Z\",\"type\":\"touchpoint\",\"channel\":"
            "\"Bad\",\"interaction\":\"like\"}\n"
            "{\"event_id\":\"p1\",\"customer_id\":\"c1\",\"occurred_at\":"
            "\"2026-03-02T09:30:00Z\",\"type\":\"conversion\",\"conversion\":"
            "\"purchase\",\"revenue\":\"49.90\",\"currency\":\"EUR\"}\n");
  CommandResult r = Ctl({"--format=json", "import", "events", "--bulk", jsonl});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("line 3: not a JSON object"));
  EXPECT_THAT(r.err, HasSubstr("line 4: channel: must be a lower-case slug"));
  EXPECT_THAT(r.out, HasSubstr("\"rows\":4"));
  EXPECT_THAT(r.out, HasSubstr("\"stored\":2"));
  CommandResult journey = Ctl({"--format=csv", "journey", "c1"});
  EXPECT_THAT(journey.out, HasSubstr("\"say \"\"hi\"\", all\""));
  EXPECT_THAT(journey.out, HasSubstr("49.90"));

  // The same id with other content: a conflict, the first write wins.
  const std::string csv = dir_.path() + "/conflict.csv";
  WriteFile(csv, absl::StrCat(kHeader,
                              "t1,c1,2026-03-01T12:00:00Z,touchpoint,tiktok,,"
                              "like,,,,,\n"
                              "t9,c2,2026-03-01T12:00:00Z,touchpoint,tiktok,,"
                              "like,,,,,\n"));
  CommandResult c = Ctl({"--format=json", "import", "events", "--bulk", csv});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_THAT(c.out, HasSubstr("\"stored\":1"));
  EXPECT_THAT(c.out, HasSubstr("\"conflicts\":1"));
  EXPECT_THAT(c.out, HasSubstr("\"conflict_event_ids\":[\"t1\"]"));
  EXPECT_THAT(c.err, HasSubstr("the first write wins"));
}

}  // namespace
}  // namespace attribution

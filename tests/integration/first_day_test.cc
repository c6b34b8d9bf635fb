// A data team's first day with attributionctl against the real server: help
// and exit codes, one vocabulary, typos, id conflicts, workspaces, and the
// export that re-imports into identical journeys and attribution.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "attribution/v1/attribution_service.pb.h"
#include "clients/cli/vocabulary.h"
#include "clients/cpp/attribution_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/version.h"
#include "tests/support/server_process.h"

namespace attribution {
namespace {

using ::attribution::testing::CommandResult;
using ::attribution::testing::RunCommand;
using ::attribution::testing::ServerProcess;
using ::attribution::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kHeader = testing::kEventFileHeader;
using testing::WriteFile;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FirstDayTest : public testing::ServerAndCliTest {
 protected:
  // Generated events in `workspace`; returns the file.
  std::string Generate(int events, int customers, const std::string& name,
                       int seed = 7) {
    const std::string csv = dir_.path() + "/" + name;
    CommandResult gen = RunCommand({PYTHON3_PATH, GEN_EVENTS_PY, "--events",
                                    absl::StrCat(events), "--customers",
                                    absl::StrCat(customers), "--seed",
                                    absl::StrCat(seed), "--out", csv});
    EXPECT_EQ(gen.exit_code, 0) << gen.err;
    return csv;
  }
};

TEST_F(FirstDayTest, HelpListsEveryCommandWithItsFlagsAndExitsZero) {
  for (const char* flag : {"--help", "-h"}) {
    CommandResult help = RunCommand({ATTRIBUTIONCTL_PATH, flag});
    EXPECT_EQ(help.exit_code, 0) << help.err;
    for (const char* command :
         {"import events",  "import spend",    "import experiments",
          "export events",  "workspaces",      "describe",
          "journey",        "erase",           "attribute",
          "paths",          "explain",         "report channels",
          "report summary", "report cashflow", "report cohorts",
          "report goals",   "settings set",    "goal set",
          "goal delete",    "experiment set",  "experiment list",
          "backup",         "new-key",         "server-info"}) {
      EXPECT_THAT(help.out, HasSubstr(command)) << flag;
    }
    EXPECT_THAT(help.out, HasSubstr("exit codes: 0 ok; 1 some rows"));
  }
  CommandResult attribute =
      RunCommand({ATTRIBUTIONCTL_PATH, "attribute", "-h"});
  EXPECT_EQ(attribute.exit_code, 0);
  for (const char* flag : {"--goal", "--model", "--start", "--end",
                           "--include_channels", "--intervals"}) {
    EXPECT_THAT(attribute.out, HasSubstr(flag));
  }
  EXPECT_THAT(attribute.out, HasSubstr("example:\n  attributionctl attribute"));
  CommandResult server =
      RunCommand({ATTRIBUTIOND_PATH, "--admin_listen=", "--help"});
  EXPECT_EQ(server.exit_code, 0);
  for (const char* flag :
       {"--listen=", "--data_dir=", "--durability=", "--api_keys_file=",
        "--max_batch_events=", "--query_workers="}) {
    EXPECT_THAT(server.out, HasSubstr(flag));
  }
  CommandResult report =
      RunCommand({ATTRIBUTIONCTL_PATH, "report", "cohorts", "--help"});
  EXPECT_EQ(report.exit_code, 0);
  EXPECT_THAT(report.out, HasSubstr("--horizon_days"));
  EXPECT_THAT(report.out, Not(HasSubstr("--include_channels")));
}

TEST_F(FirstDayTest, ExitCodesTellUsageFromServerFailures) {
  CommandResult flag = Ctl({"attribute", "--modle=linear"});
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_THAT(flag.err,
              HasSubstr("unknown flag --modle (did you mean \"model\"?)"));
  CommandResult command = Ctl({"atribute"});
  EXPECT_EQ(command.exit_code, 2);
  EXPECT_THAT(command.err, HasSubstr("did you mean \"attribute\"?"));
  CommandResult model = Ctl({"attribute", "--start=2026-03-01",
                             "--end=2026-04-01", "--model=shaply"});
  EXPECT_EQ(model.exit_code, 2);
  EXPECT_THAT(model.err, HasSubstr("did you mean \"shapley\"?"));
  CommandResult value = Ctl({"paths", "--limit=many"});
  EXPECT_EQ(value.exit_code, 2);
  EXPECT_THAT(value.err, HasSubstr("--limit"));
  CommandResult operands = Ctl({"journey"});
  EXPECT_EQ(operands.exit_code, 2);
  EXPECT_THAT(operands.err, HasSubstr("journey: takes one operand"));
  CommandResult batch =
      Ctl({"import", "events", "--batch_size=20000", "/nonexistent.csv"});
  EXPECT_EQ(batch.exit_code, 2);
  EXPECT_THAT(batch.err, HasSubstr("--batch_size: 20000 is not 1 to 10000"));
  CommandResult file = Ctl({"import", "events", "/nonexistent.csv"});
  EXPECT_EQ(file.exit_code, 2);
  CommandResult goal = Ctl({"goal", "set", "g", "--metric=new_customers",
                            "--start=2026-01-01", "--end=2026-02-01"});
  EXPECT_EQ(goal.exit_code, 2);
  EXPECT_THAT(goal.err, HasSubstr("--target: is required"));
  CommandResult metric =
      Ctl({"goal", "set", "g", "--metric=new_customer", "--target=5",
           "--start=2026-01-01", "--end=2026-02-01"});
  EXPECT_EQ(metric.exit_code, 2);
  EXPECT_THAT(metric.err, HasSubstr("did you mean \"new_customers\"?"));
  // The server's answer: 3.
  CommandResult missing = Ctl({"journey", "nobody"});
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_THAT(missing.err, HasSubstr("NOT_FOUND"));
  CommandResult down =
      RunCommand({ATTRIBUTIONCTL_PATH, "--server=127.0.0.1:1", "describe"});
  EXPECT_EQ(down.exit_code, 3);
  EXPECT_THAT(down.err, HasSubstr("UNAVAILABLE"));
}

TEST_F(FirstDayTest, NamesAreReadInAnyCaseWithDashesAndSpaces) {
  ASSERT_EQ(Ctl({"import", "events", Generate(4000, 400, "e.csv")}).exit_code,
            0);
  CommandResult plain =
      Ctl({"--format=json", "attribute", "--goal", "repeat_purchase",
           "--start=2025-01-01", "--end=2026-01-01",
           "--model=first_touch,linear", "--group_by=campaign"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  CommandResult spelled =
      Ctl({"--format=JSON", "attribute", "--goal", "Repeat-Purchase", "--from",
           "2025-01-01", "--window-end=2026-01-01",
           "--models=First-Touch, LINEAR", "--group-by=Campaign"});
  ASSERT_EQ(spelled.exit_code, 0) << spelled.err;
  EXPECT_EQ(spelled.out, plain.out);
  EXPECT_THAT(plain.out, HasSubstr("\"goal\":\"repeat_purchase\""));
  EXPECT_THAT(plain.out, HasSubstr("\"group_by\":\"channel_campaign\""));
  CommandResult alias = Ctl(
      {"top-paths", "--start=2025-01-01", "--end=2026-01-01", "--collapse"});
  EXPECT_EQ(alias.exit_code, 0) << alias.err;
}

TEST_F(FirstDayTest, AnUnknownChannelIsAWarningAndAResponseField) {
  ASSERT_EQ(Ctl({"import", "events", Generate(4000, 400, "e.csv")}).exit_code,
            0);
  CommandResult r = Ctl({"--format=json", "attribute", "--start=2025-01-01",
                         "--end=2026-01-01", "--include=instagarm, email"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err,
              HasSubstr("warning: channel \"instagarm\" is not a channel "
                        "of workspace acme and selects nothing (did "
                        "you mean \"instagram\"?)"));
  v1::AttributeResponse response;
  ASSERT_TRUE(cli::ParseMessageJson(r.out, &response).ok());
  EXPECT_THAT(response.unknown_channels(), ::testing::ElementsAre("instagarm"));
  // Over gRPC too, for TopPaths.
  v1::TopPathsRequest paths;
  paths.mutable_selection()->set_workspace("acme");
  paths.mutable_selection()->set_goal(v1::GOAL_ACQUISITION);
  paths.mutable_selection()->mutable_window_start()->set_seconds(1735689600);
  paths.mutable_selection()->mutable_window_end()->set_seconds(1767225600);
  paths.mutable_selection()->add_exclude_channels("tiktokk");
  auto top = client_->TopPaths(paths);
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_THAT(top->unknown_channels(), ::testing::ElementsAre("tiktokk"));
  // A goal on a channel never seen: a warning, the goal is still set.
  CommandResult goal =
      Ctl({"goal", "set", "g", "--metric=new_customers", "--target=5",
           "--channel=facebok", "--start=2026-01-01", "--end=2026-02-01"});
  EXPECT_EQ(goal.exit_code, 0) << goal.err;
  EXPECT_THAT(goal.err, HasSubstr("did you mean \"facebook\"?"));
}

TEST_F(FirstDayTest, AReusedIdWithOtherContentIsAConflictNotADuplicate) {
  const std::string first = dir_.path() + "/first.csv";
  WriteFile(first,
            absl::StrCat(kHeader,
                         "t1,c1,2026-03-01T12:00:00Z,touchpoint,instagram,,"
                         "like,,,,,\n",
                         "p1,c1,2026-03-02T12:00:00Z,conversion,,,,,,purchase,"
                         "10,EUR\n"));
  ASSERT_EQ(Ctl({"import", "events", first}).exit_code, 0);
  // The same ids from another source: other customer, other amount.
  const std::string second = dir_.path() + "/second.csv";
  WriteFile(second,
            absl::StrCat(kHeader,
                         "t1,c9,2026-03-05T12:00:00Z,touchpoint,tiktok,,like,,"
                         ",,,\n",
                         "p1,c1,2026-03-02T12:00:00Z,conversion,,,,,,purchase,"
                         "99,EUR\n",
                         "t2,c9,2026-03-06T12:00:00Z,touchpoint,tiktok,,like,,"
                         ",,,\n"));
  CommandResult r = Ctl({"--format=json", "import", "events", second});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"conflicts\":2"));
  EXPECT_THAT(r.out, HasSubstr("\"conflict_event_ids\":[\"t1\",\"p1\"]"));
  EXPECT_THAT(r.out, HasSubstr("\"duplicates\":0"));
  EXPECT_THAT(r.out, HasSubstr("\"stored\":1"));
  EXPECT_THAT(r.err, HasSubstr("2 events reuse the id of a stored event"));
  // A plain retry is a duplicate.
  CommandResult again = Ctl({"--format=json", "import", "events", first});
  EXPECT_THAT(again.out, HasSubstr("\"duplicates\":2"));
  EXPECT_THAT(again.out, HasSubstr("\"conflicts\":0"));
  // RecordEvents says the same; the first write won.
  v1::RecordEventsRequest request;
  request.set_workspace("acme");
  v1::Touchpoint* t = request.add_events()->mutable_touchpoint();
  t->set_event_id("t1");
  t->set_customer_id("c1");
  t->set_channel("email");
  t->set_interaction(v1::INTERACTION_CLICK);
  t->mutable_occurred_at()->set_seconds(1772366400);  // 2026-03-01T12:00Z
  auto recorded = client_->RecordEvents(request);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  EXPECT_EQ(recorded->conflicts(), 1);
  EXPECT_THAT(recorded->conflict_event_ids(), ::testing::ElementsAre("t1"));
  auto journey = client_->GetJourney("acme", "c1");
  ASSERT_TRUE(journey.ok());
  EXPECT_EQ(journey->events[0].event().touchpoint().channel(), "instagram");
  EXPECT_EQ(journey->events[1].event().conversion().revenue_micros(),
            10'000'000);
}

TEST_F(FirstDayTest, ListsWorkspacesThatHoldAnything) {
  const std::string csv = Generate(200, 20, "e.csv");
  ASSERT_EQ(Ctl({"import", "events", csv}, "beta").exit_code, 0);
  ASSERT_EQ(Ctl({"import", "events", csv}, "alpha").exit_code, 0);
  ASSERT_EQ(
      Ctl({"settings", "set", "--currency=EUR"}, "settings-only").exit_code, 0);
  CommandResult r = Ctl({"workspaces"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "workspace\nalpha\nbeta\nsettings-only\n");
  CommandResult json = Ctl({"--format=json", "workspaces"});
  EXPECT_EQ(json.out,
            "{\"workspaces\":[\"alpha\",\"beta\",\"settings-only\"]}\n");
}

// Export, re-import into an empty workspace: the same journeys and the same
// Attribute answer under every model, as CSV and as JSONL.
TEST_F(FirstDayTest, AnExportReimportsIntoIdenticalJourneysAndCredits) {
  ASSERT_EQ(Ctl({"import", "events", Generate(30000, 3000, "e.csv")}).exit_code,
            0);
  const std::vector<std::string> models = {
      "--model=first_touch,last_touch,last_non_direct,linear,"
      "position_based,time_decay,markov:2,shapley,incremental"};
  for (const char* ext : {"csv", "jsonl"}) {
    const std::string file = absl::StrCat(dir_.path(), "/export.", ext);
    CommandResult exported = Ctl({"export", "events", file});
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    EXPECT_THAT(exported.err, HasSubstr("exported 30000 events"));
    const std::string copy = absl::StrCat("copy-", ext);
    CommandResult imported =
        Ctl({"--format=json", "import", "events", file}, copy);
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    EXPECT_THAT(imported.out, HasSubstr("\"stored\":30000"));
    for (const char* goal : {"acquisition", "repeat_purchase", "retention"}) {
      std::vector<std::string> args = {
          "--format=json", "attribute", absl::StrCat("--goal=", goal),
          "--start=2025-01-01", "--end=2026-01-01"};
      args.insert(args.end(), models.begin(), models.end());
      CommandResult a = Ctl(args), b = Ctl(args, copy);
      ASSERT_EQ(a.exit_code, 0) << a.err;
      ASSERT_EQ(b.exit_code, 0) << b.err;
      // Only the workspace in the echoed request differs.
      EXPECT_EQ(a.out.substr(a.out.find("\"goal\"")),
                b.out.substr(b.out.find("\"goal\"")))
          << goal;
    }
    // Journeys byte for byte, for a sample of customers.
    for (const char* customer :
         {"c0000000", "c0000017", "c0000250", "c0002868"}) {
      CommandResult a = Ctl({"--format=csv", "journey", customer});
      CommandResult b = Ctl({"--format=csv", "journey", customer}, copy);
      EXPECT_EQ(a.exit_code, 0) << a.err;
      EXPECT_EQ(a.out, b.out) << customer;
    }
    // A second export of the copy is the same file.
    const std::string again = absl::StrCat(dir_.path(), "/again.", ext);
    ASSERT_EQ(Ctl({"export", "events", again}, copy).exit_code, 0);
    EXPECT_EQ(ReadFile(again), ReadFile(file));
  }
  // One customer, a time range.
  CommandResult one =
      Ctl({"export", "events", "-", "--format=csv", "--customer_id=c0000017",
           "--start=2025-03-01", "--end=2025-06-01"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  std::vector<std::string> lines =
      absl::StrSplit(one.out, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 1u);
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_THAT(lines[i], HasSubstr(",c0000017,2025-0")) << lines[i];
  }
}

// The CLI's JSON carries every double exactly: the figures equal the gRPC
// response's, bit for bit, under every model.
TEST_F(FirstDayTest, AttributeJsonIsLossless) {
  ASSERT_EQ(Ctl({"import", "events", Generate(8000, 800, "e.csv")}).exit_code,
            0);
  CommandResult r = Ctl(
      {"--format=json", "attribute", "--start=2025-01-01", "--end=2026-01-01",
       "--model=first_touch,last_touch,last_non_direct,linear,"
       "position_based,time_decay,markov:3,shapley,incremental",
       "--intervals", "--replicates=20"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  v1::AttributeResponse cli;
  ASSERT_TRUE(cli::ParseMessageJson(r.out, &cli).ok());
  auto direct = client_->Attribute(cli.request());
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_EQ(cli.SerializeAsString(), direct->SerializeAsString());
  // And CSV at full precision: the shortest text that reads back exactly.
  CommandResult csv = Ctl({"--format=csv", "attribute", "--start=2025-01-01",
                           "--end=2026-01-01", "--model=shapley"});
  ASSERT_EQ(csv.exit_code, 0);
  const v1::GroupCredit& g = direct->results(7).groups(0);
  EXPECT_THAT(csv.out, HasSubstr(absl::StrCat("shapley,", g.channel(), ",,",
                                              cli::Shortest(g.conversions()),
                                              ",", cli::Shortest(g.revenue()),
                                              ",", cli::Shortest(g.share()))));
}

// The CFO's wording: calendar comparisons, rate changes in points, "no real
// change", a comparison period with no data, labels that say what they are.
TEST_F(FirstDayTest, ReportsSpeakPlainlyToACfo) {
  std::string csv = kHeader;
  auto customer = [&](const std::string& id, const std::string& channel,
                      const std::string& month, bool churns) {
    absl::StrAppend(&csv, id, "-t,", id, ",2026-", month,
                    "-02T10:00:00Z,touchpoint,", channel, ",,click,,,,,\n");
    absl::StrAppend(&csv, id, "-p,", id, ",2026-", month,
                    "-03T10:00:00Z,conversion,,,,,,purchase,100,EUR\n");
    if (churns) {
      absl::StrAppend(&csv, id, "-c,", id, ",2026-", month,
                      "-20T10:00:00Z,conversion,,,,,,churn,,\n");
    }
  };
  for (int i = 0; i < 4; ++i)
    customer(absl::StrCat("a", i), "instagram", "02", i == 0);
  for (int i = 0; i < 6; ++i)
    customer(absl::StrCat("b", i), "email", "05", i < 3);
  const std::string file = dir_.path() + "/cfo.csv";
  WriteFile(file, csv);
  ASSERT_EQ(Ctl({"import", "events", file}).exit_code, 0);

  // A whole quarter: compared with the previous quarter, not the 91 days
  // before.
  CommandResult json = Ctl({"--format=json", "report", "channels",
                            "--start=2026-04-01", "--end=2026-07-01"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out,
              HasSubstr("\"compare\":{\"start\":\"2026-01-01T00:00:00Z\","
                        "\"end\":\"2026-04-01T00:00:00Z\"}"));
  CommandResult table =
      Ctl({"report", "channels", "--start=2026-04-01", "--end=2026-07-01"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("Revenue (EUR)"));
  EXPECT_THAT(table.out, HasSubstr("New customers per lead"));
  EXPECT_THAT(table.out, Not(HasSubstr("Leads who became customers")));
  // Churn: a rate, so its change is in points.
  std::string churn_line;
  for (absl::string_view l : absl::StrSplit(table.out, '\n')) {
    if (absl::StrContains(l, "Customers lost (churn)") && churn_line.empty()) {
      churn_line = std::string(l);
    }
  }
  EXPECT_THAT(churn_line, HasSubstr(" pts")) << table.out;
  EXPECT_THAT(churn_line, HasSubstr("worse"));
  // No spend either time: no real change, neither better nor worse.
  EXPECT_THAT(table.out, ::testing::ContainsRegex(
                             "Marketing spend \\(EUR\\) +€0.00 +€0.00 +no real "
                             "change +→ no real change"));
  CommandResult summary = Ctl({"--format=json", "report", "summary",
                               "--start=2026-04-01", "--end=2026-07-01"});
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_THAT(summary.out, HasSubstr("\"topic\":\"period\""));
  EXPECT_THAT(summary.out, HasSubstr("\"topic\":\"churn\""));
  EXPECT_THAT(summary.out, HasSubstr("\"metric\":\"churn_rate\""));
  CommandResult text =
      Ctl({"report", "summary", "--start=2026-04-01", "--end=2026-07-01"});
  EXPECT_THAT(text.out, ::testing::ContainsRegex(
                            "Customers lost \\(churn\\): [0-9.]+%, up [0-9.]+ "
                            "pts from [0-9.]+% \\(worse\\)"));
  CommandResult summary_csv = Ctl({"--format=csv", "report", "summary",
                                   "--start=2026-04-01", "--end=2026-07-01"});
  EXPECT_THAT(summary_csv.out,
              HasSubstr("topic,channel,metric,value,previous,target,direction,"
                        "text\nperiod,,new_customers,6,4,,up,"));

  // The quarter before holds nothing: said so, not "+4 better".
  CommandResult q1 =
      Ctl({"report", "channels", "--start=2026-01-01", "--end=2026-04-01"});
  ASSERT_EQ(q1.exit_code, 0) << q1.err;
  EXPECT_THAT(q1.out, HasSubstr("no data"));
  EXPECT_THAT(q1.out, Not(HasSubstr("better")));
  CommandResult q1_summary =
      Ctl({"report", "summary", "--start=2026-01-01", "--end=2026-04-01"});
  EXPECT_THAT(q1_summary.out,
              HasSubstr("The comparison period, 2025-10-01 to 2026-01-01, "
                        "holds no data"));
  // A month is compared with the previous month.
  CommandResult may = Ctl({"--format=json", "report", "channels",
                           "--start=2026-05-01", "--end=2026-06-01"});
  EXPECT_THAT(may.out,
              HasSubstr("\"compare\":{\"start\":\"2026-04-01T00:00:00Z\""));
}

TEST_F(FirstDayTest, BothBinariesAndTheServerTellTheirVersion) {
  const std::string suffix = absl::StrCat(kVersion, " (", kBuildType, ")\n");
  CommandResult server =
      RunCommand({ATTRIBUTIOND_PATH, "--admin_listen=", "--version"});
  EXPECT_EQ(server.exit_code, 0);
  EXPECT_EQ(server.out, absl::StrCat("attributiond ", suffix));
  CommandResult cli = RunCommand({ATTRIBUTIONCTL_PATH, "--version"});
  EXPECT_EQ(cli.exit_code, 0);
  EXPECT_EQ(cli.out, absl::StrCat("attributionctl ", suffix));
  auto info = client_->GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->version(), kVersion);
  EXPECT_EQ(info->build_type(), kBuildType);
  EXPECT_EQ(info->durability(), "process");
  EXPECT_EQ(info->auth(), "off");
  EXPECT_FALSE(info->tls());
  EXPECT_GE(info->uptime().seconds(), 0);
  EXPECT_GT(info->started_at().seconds(), 1700000000);
  CommandResult json = Ctl({"--format=json", "server-info"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out,
              HasSubstr(absl::StrCat("\"version\":\"", kVersion, "\"")));
}

// gRPC turns SO_REUSEPORT on by default; the server turns it off, so a
// second server on a taken port refuses to start rather than sharing it.
TEST_F(FirstDayTest, ASecondServerOnATakenPortRefusesToStart) {
  const std::string port =
      server_->address().substr(server_->address().rfind(':') + 1);
  CommandResult second = RunCommand(
      {ATTRIBUTIOND_PATH, "--admin_listen=", "--auth=off",
       "--listen=127.0.0.1:" + port, "--data_dir=" + dir_.path() + "/second"});
  EXPECT_NE(second.exit_code, 0);
  EXPECT_THAT(second.err, HasSubstr("cannot listen on 127.0.0.1:" + port));
  EXPECT_THAT(second.err, HasSubstr("the port is in use"));
  // The first still answers, alone.
  EXPECT_TRUE(client_->DescribeWorkspace("acme").ok());
}

// --config FILE: flags from a file (what the systemd unit and the container
// use), overridden by flags after it.
TEST(ServerConfigTest, FlagsComeFromAConfigFile) {
  TempDir dir;
  const std::string config = dir.path() + "/attributiond.conf";
  WriteFile(config,
            "# attributiond's flags, one a line\n"
            "--durability=machine\n"
            "--log_format=json\n"
            "--max_batch_events=500\n");
  auto server = ServerProcess::Start(
      dir.path() + "/db", {"--config", config, "--max_batch_events=700"},
      dir.path() + "/stderr.log");
  ASSERT_TRUE(server.ok()) << server.status();
  auto client = (*server)->NewClient();
  auto info = client->GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->durability(), "machine");  // From the file.
  std::ifstream in(dir.path() + "/stderr.log");
  std::stringstream log;
  log << in.rdbuf();
  EXPECT_THAT(log.str(), HasSubstr("max batch 700 events"));  // The later flag.
  EXPECT_THAT(log.str(), HasSubstr("{\"time\":"));            // JSON lines.
  WriteFile(config, "--durabilty=machine\n");
  CommandResult bad =
      RunCommand({ATTRIBUTIOND_PATH, "--admin_listen=", "--auth=off",
                  "--data_dir=" + dir.path() + "/db2", "--config=" + config});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("durabilty"));
}

}  // namespace
}  // namespace attribution

// The CFO reports against the real server: events and spend imported with
// attributionctl, reports read back as JSON and checked against figures
// computed by hand (the same workspace as tests/core/report_test.cc), and
// every kind of bad input answered with the field it is about.
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "attribution/v1/attribution_service.pb.h"
#include "clients/cli/vocabulary.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"
#include "tests/support/status_matchers.h"

namespace attribution {
namespace {

using ::attribution::testing::CommandResult;
using ::attribution::testing::RunCommand;
using ::attribution::testing::ServerProcess;
using ::attribution::testing::StatusIs;
using ::attribution::testing::TempDir;
using ::testing::DoubleNear;
using ::testing::HasSubstr;

using testing::WriteFile;

// Days 3 to 16 of January 2026. Period of the report: 11 to 20 January
// (2026-01-11 to 2026-01-21 exclusive); the comparison: 1 to 10 January.
constexpr char kEvents[] =
    "event_id,customer_id,occurred_at,type,channel,campaign,interaction,stage,"
    "sentiment,conversion,revenue,currency\n"
    "a1,A,2026-01-12T00:00:00Z,touchpoint,instagram,,click,,positive,,,\n"
    "a2,A,2026-01-13T00:00:00Z,touchpoint,email,,click,,neutral,,,\n"
    "a3,A,2026-01-13T01:00:00Z,conversion,,,,,,lead,,\n"
    "a4,A,2026-01-14T00:00:00Z,conversion,,,,,,purchase,100,USD\n"
    "a5,A,2026-01-15T00:00:00Z,touchpoint,instagram,,click,,negative,,,\n"
    "a6,A,2026-01-16T00:00:00Z,conversion,,,,,,purchase,50,USD\n"
    "b1,B,2026-01-06T00:00:00Z,touchpoint,facebook,,click,,,,,\n"
    "b2,B,2026-01-12T00:00:00Z,touchpoint,facebook,,click,,,,,\n"
    "b3,B,2026-01-12T02:00:00Z,conversion,,,,,,purchase,30,USD\n"
    "b4,B,2026-01-17T00:00:00Z,conversion,,,,,,churn,,\n"
    "c1,C,2026-01-04T00:00:00Z,touchpoint,x,,click,,,,,\n"
    "c2,C,2026-01-05T00:00:00Z,conversion,,,,,,lead,,\n"
    "d1,D,2026-01-13T00:00:00Z,conversion,,,,,,purchase,20,USD\n";

// Line 5 has an unknown currency: reported, the rest stored.
constexpr char kSpend[] =
    "date,channel,campaign,amount,currency\n"
    "2026-01-11,instagram,,40,USD\n"
    "2026-01-20,instagram,,20,USD\n"
    "2026-01-21,instagram,,5,USD\n"
    "2026-01-16,email,,10,EURO\n"
    "2026-01-16,email,,10,USD\n"
    "2026-01-13,tiktok,,25,USD\n"
    "2026-01-10,facebook,,30,USD\n";

class ReportServerTest : public testing::ServerAndCliTest {
 protected:
  void ImportScenario() {
    WriteFile(dir_.path() + "/events.csv", kEvents);
    WriteFile(dir_.path() + "/spend.csv", kSpend);
    CommandResult settings = Ctl({"settings", "set", "--currency=USD",
                                  "--gross-margin=0.5", "--horizon=5d"});
    ASSERT_EQ(settings.exit_code, 0) << settings.err;
    CommandResult events =
        Ctl({"import", "events", dir_.path() + "/events.csv"});
    ASSERT_EQ(events.exit_code, 0) << events.err;
    CommandResult spend =
        Ctl({"--format=json", "import", "spend", dir_.path() + "/spend.csv"});
    EXPECT_EQ(spend.exit_code, 1);  // One row rejected.
    EXPECT_THAT(spend.err, HasSubstr("line 5: rejected: spend[3].currency"));
    EXPECT_THAT(spend.out, HasSubstr("\"stored\":6"));
    EXPECT_THAT(spend.out, HasSubstr("\"changed\":6"));
  }

  v1::ChannelReportResponse Report(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--format=json", "report", "channels",
                                     "--from=2026-01-11", "--to=2026-01-21"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    v1::ChannelReportResponse response;
    EXPECT_TRUE(cli::ParseMessageJson(r.out, &response).ok()) << r.out;
    last_json_ = r.out;
    return response;
  }

  static const v1::ChannelFigures& Row(const v1::ChannelReportResponse& r,
                                       const std::string& channel) {
    for (const v1::ChannelRow& row : r.channels()) {
      if (row.channel() == channel) return row.figures();
    }
    ADD_FAILURE() << "no row for " << channel;
    return r.total();
  }

  std::string last_json_;
};

TEST_F(ReportServerTest, ChannelReportInJsonMatchesTheHandComputedFigures) {
  ImportScenario();
  const v1::ChannelReportResponse r = Report();
  EXPECT_EQ(r.currency(), "USD");
  EXPECT_EQ(r.gross_margin(), 0.5);
  // The default comparison: the ten days before.
  EXPECT_EQ(r.request().compare().start().seconds(),
            r.request().period().start().seconds() - 10 * 86400);
  const v1::ChannelFigures& t = r.total();
  EXPECT_EQ(t.new_customers().value(), 3);
  EXPECT_EQ(t.new_customers().previous(), 0);
  EXPECT_FALSE(t.new_customers().has_change_ratio());  // From 0.
  EXPECT_EQ(t.new_customers().assessment(), v1::ASSESSMENT_GOOD);
  EXPECT_EQ(t.revenue().value(), 200);
  EXPECT_EQ(t.spend().value(), 95);  // The 5 on the 21st is outside.
  EXPECT_EQ(t.spend().previous(), 30);
  EXPECT_EQ(t.spend().assessment(), v1::ASSESSMENT_BAD);
  EXPECT_THAT(t.cac().value(), DoubleNear(95.0 / 3, 1e-9));
  EXPECT_FALSE(t.cac().has_previous());  // No customers before.
  EXPECT_EQ(t.profit_contribution().value(), 5);
  EXPECT_THAT(t.churn_rate().value(), DoubleNear(1.0 / 3, 1e-12));
  EXPECT_THAT(t.retention_rate().value(), DoubleNear(1.0 / 3, 1e-12));
  EXPECT_EQ(t.leads().value(), 1);
  EXPECT_EQ(t.leads().previous(), 1);
  EXPECT_EQ(t.leads().direction(), v1::DIRECTION_FLAT);

  const v1::ChannelFigures& ig = Row(r, "instagram");
  EXPECT_EQ(ig.new_customers().value(), 0.5);
  EXPECT_EQ(ig.revenue().value(), 100);
  EXPECT_EQ(ig.cac().value(), 120);
  EXPECT_EQ(ig.profit_contribution().value(), -10);
  const v1::ChannelFigures& tiktok = Row(r, "tiktok");
  EXPECT_EQ(tiktok.spend().value(), 25);
  EXPECT_FALSE(tiktok.cac().has_value());  // No customers: undefined.
  EXPECT_FALSE(Row(r, "facebook").roas().has_value());  // No spend.
  EXPECT_EQ(Row(r, "facebook").churn_rate().value(), 1);
}

TEST_F(ReportServerTest, ReimportingSpendChangesNoFigure) {
  ImportScenario();
  Report();
  const std::string before = last_json_;
  CommandResult again =
      Ctl({"--format=json", "import", "spend", dir_.path() + "/spend.csv"});
  EXPECT_THAT(again.out, HasSubstr("\"changed\":0"));
  Report();
  EXPECT_EQ(last_json_, before);
  // A corrected day replaces the old amount rather than adding to it.
  WriteFile(dir_.path() + "/fix.csv",
            "date,channel,campaign,amount,currency\n"
            "2026-01-13,tiktok,,35,USD\n");
  ASSERT_EQ(Ctl({"import", "spend", dir_.path() + "/fix.csv"}).exit_code, 0);
  EXPECT_EQ(Row(Report(), "tiktok").spend().value(), 35);
}

TEST_F(ReportServerTest, CashFlowCohortsGoalsAndSummary) {
  ImportScenario();
  CommandResult flow = Ctl({"--format=json", "report", "cashflow",
                            "--from=2026-01-11", "--to=2026-01-21"});
  ASSERT_EQ(flow.exit_code, 0) << flow.err;
  v1::CashFlowResponse cash;
  ASSERT_TRUE(cli::ParseMessageJson(flow.out, &cash).ok());
  ASSERT_EQ(cash.total().points_size(), 10);
  EXPECT_EQ(cash.total().points(9).running_net(), 200 - 95);

  CommandResult cohorts =
      Ctl({"--format=json", "report", "cohorts", "--from=2026-01-01",
           "--to=2026-02-01", "--horizons=1,5"});
  ASSERT_EQ(cohorts.exit_code, 0) << cohorts.err;
  v1::RetentionCohortsResponse c;
  ASSERT_TRUE(cli::ParseMessageJson(cohorts.out, &c).ok());
  ASSERT_GT(c.cohorts_size(), 0);
  EXPECT_EQ(c.cohorts(0).channel(), "");
  EXPECT_EQ(c.cohorts(0).customers(), 3);
  EXPECT_THAT(c.cohorts(0).horizons(1).retention_rate(),
              DoubleNear(1.0 / 3, 1e-12));

  ASSERT_EQ(Ctl({"goal", "set", "jan-customers", "--metric=new_customers",
                 "--target=2", "--from=2026-01-01", "--to=2026-02-01"})
                .exit_code,
            0);
  CommandResult bad = Ctl({"goal", "set", "x", "--metric=likes", "--target=2",
                           "--from=2026-01-01", "--to=2026-02-01"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--metric: \"likes\" is not one of"));
  CommandResult goals = Ctl({"--format=json", "report", "goals"});
  ASSERT_EQ(goals.exit_code, 0) << goals.err;
  v1::ListGoalsResponse g;
  ASSERT_TRUE(cli::ParseMessageJson(goals.out, &g).ok());
  ASSERT_EQ(g.goals_size(), 1);
  EXPECT_EQ(g.goals(0).actual(), 3);
  EXPECT_EQ(g.goals(0).status(), v1::GOAL_STATUS_ACHIEVED);
  // The report shows the goal whose period overlaps it.
  EXPECT_EQ(Report().goals_size(), 1);

  CommandResult summary =
      Ctl({"report", "summary", "--from=2026-01-11", "--to=2026-01-21"});
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_THAT(summary.out, HasSubstr("3 new customers"));
  EXPECT_THAT(summary.out,
              HasSubstr("Instagram brought 0.5 new customers at $120.00 each"));
  EXPECT_THAT(summary.out,
              HasSubstr("TikTok cost $25.00 and brought no new customers."));
  EXPECT_THAT(summary.out, HasSubstr("Goal \"jan-customers\""));
}

TEST_F(ReportServerTest, BadInputNamesTheField) {
  ImportScenario();
  v1::RecordSpendRequest spend;
  spend.set_workspace("acme");
  spend.add_spend()->CopyFrom(v1::Spend());
  auto* ok = spend.mutable_spend(0);
  ok->set_date("2026-01-01");
  ok->set_channel("instagram");
  ok->set_amount_micros(1);
  ok->set_currency("USD");
  auto* bad = spend.add_spend();
  *bad = *ok;
  bad->set_date("2026-13-01");
  EXPECT_THAT(
      client_->RecordSpend(spend).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("spend[1].date")));
  bad->set_date("2026-01-02");
  bad->set_currency("EUR");
  EXPECT_THAT(client_->RecordSpend(spend).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("spend[1].currency: \"EUR\" is not the "
                                 "workspace's reporting currency \"USD\"")));
  // Nothing of the failed batches was stored.
  EXPECT_EQ(Row(Report(), "instagram").spend().previous(), 0);

  v1::RecordEventsRequest events;
  events.set_workspace("acme");
  v1::Conversion* c = events.add_events()->mutable_conversion();
  c->set_event_id("eur");
  c->set_customer_id("E");
  c->mutable_occurred_at()->set_seconds(1767225600);
  c->set_kind(v1::CONVERSION_KIND_PURCHASE);
  c->set_revenue_micros(1);
  c->set_currency("EUR");
  EXPECT_THAT(client_->RecordEvents(events).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("events[0].conversion.currency")));

  v1::WorkspaceSettings euro;
  euro.set_workspace("acme");
  euro.set_reporting_currency("EUR");
  EXPECT_THAT(client_->UpdateSettings(euro).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("settings.reporting_currency")));
  euro.set_reporting_currency("USD");
  euro.set_gross_margin(1.5);
  EXPECT_THAT(client_->UpdateSettings(euro).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("settings.gross_margin")));

  v1::ChannelReportRequest report;
  report.set_workspace("acme");
  report.mutable_period()->mutable_start()->set_seconds(1767225600 + 3600);
  report.mutable_period()->mutable_end()->set_seconds(1767225600 + 86400);
  EXPECT_THAT(client_->ChannelReport(report).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("period.start: must be midnight UTC")));
  report.mutable_period()->mutable_start()->set_seconds(1767225600);
  report.mutable_model()->set_model(v1::MODEL_MARKOV);
  report.mutable_model()->set_order(9);
  EXPECT_THAT(
      client_->ChannelReport(report).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("model.order")));
  report.mutable_model()->set_order(2);
  EXPECT_TRUE(client_->ChannelReport(report).ok());

  v1::RetentionCohortsRequest cohorts;
  cohorts.set_workspace("acme");
  *cohorts.mutable_period() = report.period();
  cohorts.add_horizon_days(30);
  cohorts.add_horizon_days(30);
  EXPECT_THAT(client_->RetentionCohorts(cohorts).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("horizon_days[1]: must be ascending")));
}

TEST_F(ReportServerTest, AnEmptyWorkspaceReportsZerosAndUndefinedRates) {
  v1::ChannelReportRequest report;
  report.set_workspace("empty");
  report.mutable_period()->mutable_start()->set_seconds(1767225600);
  report.mutable_period()->mutable_end()->set_seconds(1767225600 + 86400);
  auto r = client_->ChannelReport(report);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->channels_size(), 0);
  EXPECT_EQ(r->total().reach().value(), 0);
  EXPECT_TRUE(r->total().reach().has_value());
  EXPECT_FALSE(r->total().cac().has_value());
  EXPECT_EQ(r->currency(), "");
}

}  // namespace
}  // namespace attribution

// Report benchmark. Starts the real attributiond on 127.0.0.1 with a fresh
// RocksDB, streams in C customers (the attribution benchmark's journeys, plus
// leads and sentiment: about 10 events each over 2025) and a year of daily
// spend per channel and campaign, sets a reporting currency, margin and three
// goals, warms the server with one report, then prints the median wall time
// of ChannelReport (a quarter against the quarter before, under several
// models), RetentionCohorts (monthly cohorts of a half year), CashFlow and
// ListGoals, ReportPage beside the four calls it is made of, and the
// server's RSS.
//
//   report_bench [--customers=1000000] [--repeats=3]
#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/bench/bench_data.h"
#include "tests/support/server_process.h"

ABSL_FLAG(int64_t, customers, 1'000'000, "Customers to generate.");
ABSL_FLAG(int, repeats, 3, "Timed runs per request; the median is printed.");

namespace attribution {
namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kQ3 = 1'751'328'000;  // 2025-07-01
constexpr int64_t kQ4 = 1'759'276'800;  // 2025-10-01

void SetPeriod(v1::ReportPeriod* p, int64_t start, int64_t end) {
  p->mutable_start()->set_seconds(start);
  p->mutable_end()->set_seconds(end);
}

// Daily spend for 2025 on every paid channel and campaign.
int64_t LoadSpend(client::AttributionClient& client) {
  int64_t rows = 0;
  v1::RecordSpendRequest req;
  auto flush = [&] {
    if (req.spend_size() == 0) return;
    auto r = client.RecordSpend(req);
    if (!r.ok())
      std::fprintf(stderr, "RecordSpend: %s\n", r.status().ToString().c_str());
    rows += req.spend_size();
    req.clear_spend();
  };
  req.set_workspace("bench");
  for (int64_t day = bench::kStart; day < bench::kEnd; day += kDay) {
    const absl::CivilDay civil =
        absl::ToCivilDay(absl::FromUnixSeconds(day), absl::UTCTimeZone());
    for (const bench::Weighted& w : bench::kChannels) {
      if (std::string(w.name) == "direct") continue;
      for (int k = 0; k < 8; ++k) {
        v1::Spend* s = req.add_spend();
        s->set_date(absl::FormatCivilTime(civil));
        s->set_channel(w.name);
        s->set_campaign(absl::StrCat("campaign_", k));
        s->set_amount_micros(w.weight * (50 + (day / kDay + k) % 100) *
                             1'000'000);
        s->set_currency("EUR");
      }
    }
    if (req.spend_size() >= 5000) flush();
  }
  flush();
  return rows;
}

template <typename T>
bool Ok(const absl::StatusOr<T>& r, const char* what) {
  if (!r.ok())
    std::fprintf(stderr, "%s: %s\n", what, r.status().ToString().c_str());
  return r.ok();
}

int Run() {
  const int64_t customers = absl::GetFlag(FLAGS_customers);
  const int repeats = absl::GetFlag(FLAGS_repeats);
  testing::TempDir dir;
  auto server = testing::ServerProcess::Start(dir.path() + "/db");
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  auto client = (*server)->NewClient();
  const absl::Time load_start = absl::Now();
  const int64_t events =
      bench::Load(*client, customers, /*report_extras=*/true);
  const int64_t spend = LoadSpend(*client);
  v1::WorkspaceSettings settings;
  settings.set_workspace("bench");
  settings.set_reporting_currency("EUR");
  settings.set_gross_margin(0.6);
  if (!Ok(client->UpdateSettings(settings), "UpdateSettings")) return 1;
  for (const char* metric : {"new_customers", "cac", "churn_rate"}) {
    v1::SetGoalRequest goal;
    goal.set_workspace("bench");
    goal.mutable_goal()->set_name(absl::StrCat("q3-", metric));
    goal.mutable_goal()->set_channel(std::string(metric) == "cac" ? "instagram"
                                                                  : "");
    goal.mutable_goal()->set_metric(metric);
    goal.mutable_goal()->set_target(100);
    SetPeriod(goal.mutable_goal()->mutable_period(), kQ3, kQ4);
    if (!Ok(client->SetGoal(goal), "SetGoal")) return 1;
  }
  std::printf(
      "report_bench: %ld customers, %ld events and %ld spend rows loaded in "
      "%.1f s, %u cores; median of %d runs per request\n\n",
      static_cast<long>(customers), static_cast<long>(events),
      static_cast<long>(spend), absl::ToDoubleSeconds(absl::Now() - load_start),
      std::thread::hardware_concurrency(), repeats);

  auto channel_report = [&](v1::Model model, bool campaigns, bool compare,
                            int order = 0) {
    v1::ChannelReportRequest r;
    r.set_workspace("bench");
    SetPeriod(r.mutable_period(), kQ3, kQ4);
    r.set_no_comparison(!compare);
    if (model != v1::MODEL_UNSPECIFIED) r.mutable_model()->set_model(model);
    if (order > 0) r.mutable_model()->set_order(order);
    if (campaigns) r.set_group_by(v1::GROUP_BY_CHANNEL_CAMPAIGN);
    return r;
  };
  v1::ChannelReportResponse report;
  auto run_report = [&](const v1::ChannelReportRequest& r) {
    auto response = client->ChannelReport(r);
    if (!Ok(response, "ChannelReport")) return false;
    report = *response;
    return true;
  };
  run_report(channel_report(v1::MODEL_UNSPECIFIED, false, true));  // Warm-up.
  std::printf(
      "ChannelReport, 2025-Q3 against Q2 (%.0f new customers, %.0f leads, %d "
      "channels, %d goals):\n",
      report.total().new_customers().value(), report.total().leads().value(),
      report.channels_size(), report.goals_size());
  struct Case {
    const char* name;
    v1::Model model;
    bool campaigns;
    bool compare;
    bool intervals = false;  // 95%, 200 replicates.
    int order = 0;           // MARKOV's; 0: the default (1).
  };
  const Case cases[] = {
      {"linear (default)", v1::MODEL_UNSPECIFIED, false, true},
      {"linear, no comparison", v1::MODEL_UNSPECIFIED, false, false},
      {"linear, by campaign", v1::MODEL_UNSPECIFIED, true, true},
      {"last_touch", v1::MODEL_LAST_TOUCH, false, true},
      {"time_decay", v1::MODEL_TIME_DECAY, false, true},
      {"markov order 1", v1::MODEL_MARKOV, false, true},
      {"shapley", v1::MODEL_SHAPLEY, false, true},
      {"incremental", v1::MODEL_INCREMENTAL, false, true},
      {"linear+ci200", v1::MODEL_UNSPECIFIED, false, true, true},
      {"incremental+ci200", v1::MODEL_INCREMENTAL, false, true, true},
      // By campaign (about a hundred channel-campaign groups), the models
      // whose work grows with the groups. MARKOV at order 3 is left out:
      // about 12 s a fit at this size (README), and a report fits once per
      // goal (lead, acquisition, repeat purchase).
      {"markov 1, by campaign", v1::MODEL_MARKOV, true, true},
      {"markov 2, by campaign", v1::MODEL_MARKOV, true, true, false, 2},
      {"markov 4, by campaign", v1::MODEL_MARKOV, true, true, false, 4},
      {"shapley, by campaign", v1::MODEL_SHAPLEY, true, true},
      {"incremental, by camp.", v1::MODEL_INCREMENTAL, true, true},
  };
  for (const Case& c : cases) {
    v1::ChannelReportRequest r =
        channel_report(c.model, c.campaigns, c.compare, c.order);
    if (c.intervals) r.mutable_intervals()->set_replicates(200);
    std::printf("  %-24s %6.3f s\n", c.name,
                bench::MedianSeconds(repeats, [&] { return run_report(r); }));
  }

  v1::RetentionCohortsRequest cohorts;
  cohorts.set_workspace("bench");
  SetPeriod(cohorts.mutable_period(), bench::kStart, kQ3);  // 2025-H1
  int rows = 0;
  const double cohort_time = bench::MedianSeconds(repeats, [&] {
    auto r = client->RetentionCohorts(cohorts);
    if (!Ok(r, "RetentionCohorts")) return false;
    rows = r->cohorts_size();
    return true;
  });
  std::printf(
      "\nRetentionCohorts, monthly, 2025-H1, horizons 30..365 (%d rows):\n"
      "  %-24s %6.3f s\n",
      rows, "linear (default)", cohort_time);
  cohorts.set_granularity(v1::GRANULARITY_WEEK);
  std::printf(
      "  %-24s %6.3f s\n", "linear, weekly", bench::MedianSeconds(repeats, [&] {
        return Ok(client->RetentionCohorts(cohorts), "RetentionCohorts");
      }));

  v1::CashFlowRequest flow;
  flow.set_workspace("bench");
  SetPeriod(flow.mutable_period(), kQ3, kQ4);
  std::printf("\nCashFlow, daily, 2025-Q3:\n  %-24s %6.3f s\n",
              "linear (default)", bench::MedianSeconds(repeats, [&] {
                return Ok(client->CashFlow(flow), "CashFlow");
              }));
  std::printf("\nListGoals (3 goals, one period):\n  %-24s %6.3f s\n",
              "linear (default)", bench::MedianSeconds(repeats, [&] {
                return Ok(client->ListGoals("bench"), "ListGoals");
              }));
  // ReportPage against the four calls it is made of, each timed alone with
  // the request the page applied (so "beyond" is the page's own cost).
  v1::ReportPageRequest page;
  page.set_workspace("bench");
  SetPeriod(page.mutable_period(), kQ3, kQ4);
  v1::ReportPageResponse made;
  const double page_time = bench::MedianSeconds(repeats, [&] {
    auto r = client->ReportPage(page);
    if (!Ok(r, "ReportPage")) return false;
    made = *r;
    return true;
  });
  const double parts[] = {
      bench::MedianSeconds(
          repeats,
          [&] {
            return Ok(client->ChannelReport(made.channel_report().request()),
                      "ChannelReport");
          }),
      bench::MedianSeconds(
          repeats,
          [&] {
            return Ok(client->CashFlow(made.cash_flow().request()), "CashFlow");
          }),
      bench::MedianSeconds(
          repeats,
          [&] {
            return Ok(client->RetentionCohorts(made.cohorts().request()),
                      "RetentionCohorts");
          }),
      bench::MedianSeconds(repeats, [&] {
        return Ok(client->Attribute(made.credits().request()), "Attribute");
      })};
  std::printf(
      "\nReportPage, 2025-Q3 (default: credit under last_touch, linear and "
      "incremental with 95%% intervals; %.0f KiB of HTML):\n"
      "  %-24s %6.3f s\n  %-24s %6.3f s\n  %-24s %6.3f s\n  %-24s %6.3f s\n"
      "  %-24s %6.3f s\n  %-24s %6.3f s\n  %-24s %6.3f s\n",
      made.html().size() / 1024.0, "ChannelReport alone", parts[0],
      "CashFlow alone", parts[1], "RetentionCohorts alone", parts[2],
      "Attribute (3 models)", parts[3], "the four, summed",
      parts[0] + parts[1] + parts[2] + parts[3], "ReportPage", page_time,
      "page beyond the four",
      page_time - (parts[0] + parts[1] + parts[2] + parts[3]));

  std::printf("\nserver RSS %.1f MiB\n",
              (*server)->RssBytes() / (1024.0 * 1024.0));
  return 0;
}

}  // namespace
}  // namespace attribution

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return attribution::Run();
}

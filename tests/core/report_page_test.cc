// The executive page's HTML from hand-made responses: what is escaped, what
// the page embeds, and the rules of its derived figures.
#include "service/page/report_page.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/page/page_assets.h"
#include "service/page/report_text.h"

namespace attribution::page {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct Responses {
  v1::ChannelReportResponse report;
  v1::CashFlowResponse cash_flow;
  v1::RetentionCohortsResponse cohorts;
  v1::AttributeResponse credits;

  PageInput Input(std::string title = "Q3") const {
    PageInput in;
    in.title = std::move(title);
    in.generated_at = absl::FromUnixSeconds(1'760'000'000);
    in.report = &report;
    in.cash_flow = &cash_flow;
    in.cohorts = &cohorts;
    in.credits = &credits;
    return in;
  }
};

v1::Cohort* AddCohort(v1::RetentionCohortsResponse* r, std::string channel,
                      double customers, double spend) {
  v1::Cohort* c = r->add_cohorts();
  c->mutable_start()->set_seconds(1'735'689'600);  // 2025-01-01
  c->set_channel(std::move(channel));
  c->set_customers(customers);
  c->set_spend(spend);
  return c;
}

TEST(ReportPageTest, NamesAndTitlesAreEscapedAndTheDataCannotCloseItsScript) {
  Responses r;
  r.report.set_currency("USD");
  r.report.mutable_request()->mutable_period()->mutable_start()->set_seconds(
      1'751'328'000);
  r.report.mutable_request()->mutable_period()->mutable_end()->set_seconds(
      1'759'276'800);
  r.report.mutable_request()->set_no_comparison(true);
  v1::ChannelRow* row = r.report.add_channels();
  row->set_channel("instagram");
  row->set_campaign("</script><img src=x onerror=alert(1)>");
  row->mutable_figures()->mutable_new_customers()->set_value(3);
  const std::string html = RenderReportPage(r.Input("Q3 <b>&</b>"));
  EXPECT_THAT(html, HasSubstr("<title>Q3 &lt;b&gt;&amp;&lt;/b&gt;</title>"));
  EXPECT_THAT(html, Not(HasSubstr("<img src=x")));
  // In the JSON the campaign's < and > are \u003c and \u003e.
  EXPECT_THAT(html, HasSubstr("Instagram · \\u003c/script\\u003e"));
  EXPECT_THAT(html, HasSubstr("@page { size: A4;"));
  EXPECT_THAT(html, HasSubstr("default-src 'none'"));
  EXPECT_THAT(html, HasSubstr("No comparison period."));
}

TEST(ReportPageTest, InlinedAssetsAreWholeAndCannotEndTheirScriptElement) {
  for (absl::string_view asset : {kPageJs, kPlotJs, kD3Js, kPageCss}) {
    EXPECT_GT(asset.size(), 1000u);
    EXPECT_FALSE(absl::StrContains(absl::AsciiStrToLower(asset), "</script"));
  }
  EXPECT_THAT(std::string(kPlotJs), HasSubstr("@observablehq/plot v0.6.17"));
  EXPECT_EQ(kD3Version, "7.9.0");
}

TEST(ReportPageTest, LetterPaper) {
  Responses r;
  PageInput in = r.Input();
  in.paper = v1::PAPER_SIZE_LETTER;
  EXPECT_THAT(RenderReportPage(in), HasSubstr("@page { size: letter;"));
}

TEST(ReportPageTest, LtvHorizonIs90DaysWhenObservedElseTheLongestObserved) {
  v1::RetentionCohortsResponse r;
  EXPECT_EQ(LtvHorizon(r), 0);
  v1::Cohort* all = AddCohort(&r, "", 10, 0);
  for (int days : {30, 60, 90, 180}) {
    v1::CohortHorizon* h = all->add_horizons();
    h->set_days(days);
    h->set_customers_observed(days <= 60 ? 10 : 0);
  }
  EXPECT_EQ(LtvHorizon(r), 60);
  all->mutable_horizons(2)->set_customers_observed(4);
  all->mutable_horizons(3)->set_customers_observed(4);
  EXPECT_EQ(LtvHorizon(r), 90);
}

TEST(ReportPageTest, LtvToCacIsPooledOverTheCohorts) {
  Responses r;
  // Two instagram cohorts: 10 customers for 100, then 30 for 500; revenue
  // per customer at 90 days 20 over 10 observed, 40 over 10 observed.
  v1::Cohort* all = AddCohort(&r.cohorts, "", 40, 600);
  v1::CohortHorizon* h = all->add_horizons();
  h->set_days(90);
  h->set_customers_observed(20);
  for (auto [customers, spend, rpc] :
       {std::tuple{10.0, 100.0, 20.0}, std::tuple{30.0, 500.0, 40.0}}) {
    v1::CohortHorizon* ch =
        AddCohort(&r.cohorts, "instagram", customers, spend)->add_horizons();
    ch->set_days(90);
    ch->set_customers_observed(10);
    ch->set_revenue_per_customer(rpc);
  }
  r.cohorts.mutable_request()->add_horizon_days(90);
  const std::string html = RenderReportPage(r.Input());
  // LTV 30 (600 over 20 observed), CAC 15 (600 over 40): 2x.
  EXPECT_THAT(html, HasSubstr("\"label\":\"Instagram\",\"ltv\":30,\"cac\":15,"
                              "\"ltv_to_cac\":2}"));
  EXPECT_THAT(html, HasSubstr("Revenue per customer by day 90 over CAC"));
}

TEST(ReportPageTest, ModelLabels) {
  v1::ModelSpec m;
  m.set_model(v1::MODEL_LAST_NON_DIRECT);
  EXPECT_EQ(ModelLabel(m), "Last non direct");
  m.set_model(v1::MODEL_MARKOV);
  m.set_order(3);
  EXPECT_EQ(ModelLabel(m), "Markov (order 3)");
  m.Clear();
  m.set_model(v1::MODEL_INCREMENTAL);
  m.mutable_half_life()->set_seconds(7 * 86400);
  EXPECT_EQ(ModelLabel(m), "Incremental (half-life 7 days)");
}

TEST(ReportPageTest, TilesSayTheDirectionInWords) {
  Responses r;
  r.report.set_currency("EUR");
  v1::Metric* cac = r.report.mutable_total()->mutable_cac();
  cac->set_value(12);
  cac->set_previous(10);
  cac->set_change(2);
  cac->set_change_ratio(0.2);
  cac->set_direction(v1::DIRECTION_UP);
  cac->set_assessment(v1::ASSESSMENT_BAD);
  const std::string html = RenderReportPage(r.Input());
  EXPECT_THAT(html, HasSubstr("data-metric=\"cac\" data-value=\"12\" "
                              "data-previous=\"10\" data-direction=\"up\" "
                              "data-assessment=\"bad\""));
  EXPECT_THAT(html, HasSubstr("€12.00"));
  EXPECT_THAT(html, HasSubstr("Up 20.0% from €10.00, worse."));
}

TEST(ReportPageTest, TheChurnTileSaysItsRule) {
  Responses r;
  r.report.set_churn_rule(v1::CHURN_RULE_NOT_MEASURED);
  EXPECT_THAT(RenderReportPage(r.Input()),
              HasSubstr("Not measured: no churn events and no lapse rule."));
  r.report.set_churn_rule(v1::CHURN_RULE_LAPSE);
  r.report.set_lapse_days(90);
  r.report.mutable_total()->mutable_churn_rate()->set_value(0.25);
  const std::string html = RenderReportPage(r.Input());
  EXPECT_THAT(html, HasSubstr("Churn (or 90 days without a purchase)"));
  EXPECT_THAT(html, HasSubstr("25.0%"));
}

TEST(ReportPageTest, AnEmptyComparisonIsSaidSoNotComparedWithZeros) {
  Responses r;
  r.report.set_comparison_empty(true);
  r.report.mutable_total()->mutable_new_customers()->set_value(5);
  const std::string html = RenderReportPage(r.Input());
  EXPECT_THAT(html, HasSubstr("The comparison period holds no data."));
  EXPECT_THAT(html, HasSubstr(", no comparison."));
}

}  // namespace
}  // namespace attribution::page

#include "service/core/report.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/core/journey_index.h"
#include "service/core/spend.h"

namespace attribution {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::Optional;

constexpr int64_t kHourUs = 3600LL * 1'000'000;
// Day n of the test calendar: 2026-01-01 (a Thursday) is day 0.
const int32_t kDay0 = *ParseDate("2026-01-01");
int64_t D(double n) {
  return kDay0 * kDayUs + static_cast<int64_t>(n * static_cast<double>(kDayUs));
}
int32_t Day(int n) { return kDay0 + n; }

class ReportTest : public ::testing::Test {
 protected:
  void Touch(const std::string& customer, int64_t at,
             const std::string& channel,
             Sentiment sentiment = Sentiment::kUnspecified,
             const std::string& campaign = "") {
    Event e;
    e.type = EventType::kTouchpoint;
    e.event_id = "e" + std::to_string(next_id_++);
    e.customer_id = customer;
    e.occurred_at_us = at;
    e.channel = channel;
    e.campaign = campaign;
    e.interaction = Interaction::kClick;
    e.sentiment = sentiment;
    index_.Insert(e, [] { return size_t{0}; });
  }
  void Convert(const std::string& customer, int64_t at, ConversionKind kind,
               double revenue = 0) {
    Event e;
    e.type = EventType::kConversion;
    e.event_id = "e" + std::to_string(next_id_++);
    e.customer_id = customer;
    e.occurred_at_us = at;
    e.kind = kind;
    e.revenue_micros = static_cast<int64_t>(std::llround(revenue * 1e6));
    e.currency = kind == ConversionKind::kPurchase ? "USD" : "";
    index_.Insert(e, [] { return size_t{0}; });
  }
  void Spend(int day, const std::string& channel, double amount) {
    spend_.push_back(
        {Day(day), channel, "", std::llround(amount * 1e6), "USD"});
  }

  // The hand-built workspace of the ChannelReport tests; every figure below
  // is computed by hand from it in the comments.
  void BuildScenario() {
    // A: touched on instagram and email, a lead, bought twice.
    Touch("A", D(11), "instagram", Sentiment::kPositive);
    Touch("A", D(12), "email", Sentiment::kNeutral);
    Convert("A", D(12) + kHourUs, ConversionKind::kLead);
    Convert("A", D(13), ConversionKind::kPurchase, 100);
    Touch("A", D(14), "instagram", Sentiment::kNegative);
    Convert("A", D(15), ConversionKind::kPurchase, 50);
    // B: first touched in the comparison period, bought, churned.
    Touch("B", D(5), "facebook");
    Touch("B", D(11), "facebook");
    Convert("B", D(11) + 2 * kHourUs, ConversionKind::kPurchase, 30);
    Convert("B", D(16), ConversionKind::kChurn);
    // C: a prospect with a lead in the comparison period only.
    Touch("C", D(3), "x");
    Convert("C", D(4), ConversionKind::kLead);
    // D: bought with no touch at all.
    Convert("D", D(12), ConversionKind::kPurchase, 20);
    Spend(10, "instagram", 40);
    Spend(19, "instagram", 20);
    Spend(20, "instagram", 5);  // Midnight after the period: not in it.
    Spend(15, "email", 10);
    Spend(12, "tiktok", 25);  // Spend and no customers.
    Spend(9, "facebook", 30);
  }

  ReportOptions Options(ModelKind model = ModelKind::kLinear) {
    ReportOptions o;
    o.model.kind = model;
    o.lookback_us = 30 * kDayUs;
    o.horizon_us = 5 * kDayUs;
    o.now_us = D(40);
    o.gross_margin = 0.5;
    o.threads = 2;
    return o;
  }

  static std::optional<double> Get(const Figures& f, MetricId id) {
    return f[static_cast<int>(id)];
  }

  // What the report engine reads: a snapshot of everything added so far.
  const IndexSnapshot* Snap() {
    snapshot_ = index_.Snapshot();
    return &snapshot_;
  }

  WorkspaceIndex index_;
  IndexSnapshot snapshot_;
  std::vector<SpendRow> spend_;
  int next_id_ = 0;
};

const TimeRange kPeriod{D(10), D(20)};
const TimeRange kCompare{D(0), D(10)};

TEST_F(ReportTest, TotalsOfThePeriodByHand) {
  BuildScenario();
  const TallyResult r =
      TallyPeriods(Snap(), {kPeriod, kCompare}, spend_, Options());
  ASSERT_FALSE(r.cancelled);
  const Figures f = Derive(r.periods[0].total, 0.5);
  EXPECT_THAT(Get(f, MetricId::kReach), Optional(2.0));  // A, B; D untouched.
  EXPECT_THAT(Get(f, MetricId::kNewProspects), Optional(1.0));  // A.
  EXPECT_THAT(Get(f, MetricId::kLeads), Optional(1.0));
  EXPECT_THAT(Get(f, MetricId::kNewCustomers), Optional(3.0));  // A, B, D.
  EXPECT_THAT(Get(f, MetricId::kLeadToCustomerRate), Optional(3.0));
  EXPECT_THAT(Get(f, MetricId::kProspectToCustomerRate), Optional(3.0));
  EXPECT_THAT(Get(f, MetricId::kRevenue), Optional(200.0));  // 100+50+30+20
  EXPECT_THAT(Get(f, MetricId::kRevenuePerCustomer),
              Optional(DoubleNear(200.0 / 3, 1e-9)));
  EXPECT_THAT(Get(f, MetricId::kRepeatPurchaseRate),
              Optional(DoubleNear(1.0 / 3, 1e-12)));  // A of A, B, D.
  EXPECT_THAT(Get(f, MetricId::kRetentionRate),
              Optional(DoubleNear(1.0 / 3, 1e-12)));  // A bought again.
  EXPECT_THAT(Get(f, MetricId::kChurnRate),
              Optional(DoubleNear(1.0 / 3, 1e-12)));      // B churned.
  EXPECT_THAT(Get(f, MetricId::kSpend), Optional(95.0));  // 40+20+10+25
  EXPECT_THAT(Get(f, MetricId::kCac), Optional(DoubleNear(95.0 / 3, 1e-9)));
  EXPECT_THAT(Get(f, MetricId::kRoas), Optional(DoubleNear(200.0 / 95, 1e-12)));
  EXPECT_THAT(Get(f, MetricId::kProfitContribution), Optional(5.0));
  EXPECT_THAT(Get(f, MetricId::kRoi), Optional(DoubleNear(5.0 / 95, 1e-12)));
  EXPECT_THAT(Get(f, MetricId::kPositiveShare),
              Optional(DoubleNear(1.0 / 3, 1e-12)));
  EXPECT_THAT(Get(f, MetricId::kNegativeShare),
              Optional(DoubleNear(1.0 / 3, 1e-12)));
}

TEST_F(ReportTest, ChannelFiguresUnderLinearByHand) {
  BuildScenario();
  const TallyResult r = TallyPeriods(Snap(), {kPeriod}, spend_, Options());
  const auto& groups = r.periods[0].groups;
  // Instagram: half of A's lead and acquisition (path instagram, email), all
  // of A's repeat purchase.
  const Figures ig = Derive(groups.at({"instagram", ""}), 0.5);
  EXPECT_THAT(Get(ig, MetricId::kReach), Optional(1.0));
  EXPECT_THAT(Get(ig, MetricId::kNewProspects), Optional(1.0));
  EXPECT_THAT(Get(ig, MetricId::kLeads), Optional(0.5));
  EXPECT_THAT(Get(ig, MetricId::kNewCustomers), Optional(0.5));
  EXPECT_THAT(Get(ig, MetricId::kLeadToCustomerRate), Optional(1.0));
  EXPECT_THAT(Get(ig, MetricId::kProspectToCustomerRate), Optional(0.5));
  EXPECT_THAT(Get(ig, MetricId::kRevenue), Optional(100.0));  // 50 + 50
  // Buyer A counts 1.5 of 2 purchase credits: 0.75.
  EXPECT_THAT(Get(ig, MetricId::kRevenuePerCustomer),
              Optional(DoubleNear(100 / 0.75, 1e-9)));
  EXPECT_THAT(Get(ig, MetricId::kRepeatPurchaseRate), Optional(1.0));
  EXPECT_THAT(Get(ig, MetricId::kRetentionRate), Optional(1.0));
  EXPECT_THAT(Get(ig, MetricId::kChurnRate), Optional(0.0));
  EXPECT_THAT(Get(ig, MetricId::kSpend), Optional(60.0));
  EXPECT_THAT(Get(ig, MetricId::kCac), Optional(120.0));
  EXPECT_THAT(Get(ig, MetricId::kRoas),
              Optional(DoubleNear(100.0 / 60, 1e-12)));
  EXPECT_THAT(Get(ig, MetricId::kProfitContribution), Optional(-10.0));
  EXPECT_THAT(Get(ig, MetricId::kRoi), Optional(DoubleNear(-10.0 / 60, 1e-12)));
  EXPECT_THAT(Get(ig, MetricId::kPositiveShare), Optional(0.5));
  EXPECT_THAT(Get(ig, MetricId::kNeutralShare), Optional(0.0));
  EXPECT_THAT(Get(ig, MetricId::kNegativeShare), Optional(0.5));

  const Figures email = Derive(groups.at({"email", ""}), 0.5);
  EXPECT_THAT(Get(email, MetricId::kRevenue), Optional(50.0));
  EXPECT_THAT(Get(email, MetricId::kRevenuePerCustomer), Optional(200.0));
  EXPECT_THAT(Get(email, MetricId::kCac), Optional(20.0));
  EXPECT_EQ(Get(email, MetricId::kProspectToCustomerRate), std::nullopt);

  // Facebook: B's acquisition, retention miss and churn; no spend in the
  // period, so CAC is 0 but ROAS and ROI are undefined.
  const Figures fb = Derive(groups.at({"facebook", ""}), 0.5);
  EXPECT_THAT(Get(fb, MetricId::kNewCustomers), Optional(1.0));
  EXPECT_THAT(Get(fb, MetricId::kRetentionRate), Optional(0.0));
  EXPECT_THAT(Get(fb, MetricId::kChurnRate), Optional(1.0));
  EXPECT_THAT(Get(fb, MetricId::kCac), Optional(0.0));
  EXPECT_EQ(Get(fb, MetricId::kRoas), std::nullopt);
  EXPECT_EQ(Get(fb, MetricId::kRoi), std::nullopt);
  EXPECT_EQ(Get(fb, MetricId::kPositiveShare), std::nullopt);
}

TEST_F(ReportTest, SpendWithoutCustomersLeavesCacUndefined) {
  BuildScenario();
  const TallyResult r = TallyPeriods(Snap(), {kPeriod}, spend_, Options());
  const Figures tiktok = Derive(r.periods[0].groups.at({"tiktok", ""}), 0.5);
  EXPECT_THAT(Get(tiktok, MetricId::kSpend), Optional(25.0));
  EXPECT_THAT(Get(tiktok, MetricId::kNewCustomers), Optional(0.0));
  EXPECT_EQ(Get(tiktok, MetricId::kCac), std::nullopt);
  EXPECT_EQ(Get(tiktok, MetricId::kRevenuePerCustomer), std::nullopt);
  EXPECT_THAT(Get(tiktok, MetricId::kRoas), Optional(0.0));
  EXPECT_THAT(Get(tiktok, MetricId::kProfitContribution), Optional(-25.0));
  EXPECT_THAT(Get(tiktok, MetricId::kRoi), Optional(-1.0));
}

TEST_F(ReportTest, ComparisonPeriodWithNoPurchases) {
  BuildScenario();
  const TallyResult r =
      TallyPeriods(Snap(), {kPeriod, kCompare}, spend_, Options());
  const Figures now = Derive(r.periods[1 - 1].total, 0.5);
  const Figures before = Derive(r.periods[1].total, 0.5);
  // Before: B and C touched and new, C's lead, facebook's spend, no sale.
  EXPECT_THAT(Get(before, MetricId::kReach), Optional(2.0));
  EXPECT_THAT(Get(before, MetricId::kNewProspects), Optional(2.0));
  EXPECT_THAT(Get(before, MetricId::kLeads), Optional(1.0));
  EXPECT_THAT(Get(before, MetricId::kNewCustomers), Optional(0.0));
  EXPECT_THAT(Get(before, MetricId::kSpend), Optional(30.0));
  EXPECT_EQ(Get(before, MetricId::kCac), std::nullopt);
  EXPECT_EQ(Get(before, MetricId::kChurnRate), std::nullopt);
  EXPECT_THAT(r.periods[1].groups.at({"x", ""}).leads, 1.0);

  const Comparison customers =
      Compare(MetricId::kNewCustomers, Get(now, MetricId::kNewCustomers),
              Get(before, MetricId::kNewCustomers));
  EXPECT_THAT(customers.change, Optional(3.0));
  EXPECT_EQ(customers.change_ratio, std::nullopt);  // From 0.
  EXPECT_EQ(customers.direction, Direction::kUp);
  EXPECT_EQ(customers.assessment, Assessment::kGood);
  const Comparison spend = Compare(MetricId::kSpend, Get(now, MetricId::kSpend),
                                   Get(before, MetricId::kSpend));
  EXPECT_THAT(spend.change_ratio, Optional(DoubleNear(65.0 / 30, 1e-12)));
  EXPECT_EQ(spend.assessment, Assessment::kBad);
  const Comparison cac = Compare(MetricId::kCac, Get(now, MetricId::kCac),
                                 Get(before, MetricId::kCac));
  EXPECT_EQ(cac.direction, Direction::kNone);  // Undefined before.
  EXPECT_EQ(cac.assessment, Assessment::kNone);
}

TEST_F(ReportTest, ComparisonPeriodWithNoDataAtAll) {
  BuildScenario();
  // Long before any event or spend.
  const TallyResult r =
      TallyPeriods(Snap(), {kPeriod, {D(-100), D(-90)}}, spend_, Options());
  EXPECT_TRUE(r.periods[1].groups.empty());
  const Figures now = Derive(r.periods[0].total, 0.5);
  const Figures before = Derive(r.periods[1].total, 0.5);
  const Comparison revenue =
      Compare(MetricId::kRevenue, Get(now, MetricId::kRevenue),
              Get(before, MetricId::kRevenue));
  EXPECT_THAT(revenue.previous, Optional(0.0));
  EXPECT_THAT(revenue.change, Optional(200.0));
  EXPECT_EQ(revenue.change_ratio, std::nullopt);
  EXPECT_EQ(revenue.assessment, Assessment::kGood);
  for (MetricId id : {MetricId::kCac, MetricId::kRoas, MetricId::kChurnRate,
                      MetricId::kRetentionRate}) {
    const Comparison c = Compare(id, Get(now, id), Get(before, id));
    EXPECT_EQ(c.previous, std::nullopt) << Info(id).name;
    EXPECT_EQ(c.change, std::nullopt) << Info(id).name;
    EXPECT_EQ(c.direction, Direction::kNone) << Info(id).name;
  }
}

TEST_F(ReportTest, EmptyPeriodHasZeroCountsAndUndefinedRates) {
  BuildScenario();
  const TallyResult r =
      TallyPeriods(Snap(), {{D(100), D(101)}}, spend_, Options());
  const Figures f = Derive(r.periods[0].total, 0.5);
  // Nothing happened, but A and D are still customers (B churned earlier):
  // a churn rate of 0 of 2.
  EXPECT_THAT(Get(f, MetricId::kChurnRate), Optional(0.0));
  EXPECT_EQ(r.periods[0].total.churn_base, 2);
  for (const auto& [name, t] : r.periods[0].groups) {
    EXPECT_EQ(t.reach + t.new_customers + t.revenue_micros + t.leads, 0)
        << name.first;
  }
  for (MetricId id :
       {MetricId::kReach, MetricId::kNewCustomers, MetricId::kRevenue,
        MetricId::kSpend, MetricId::kProfitContribution}) {
    EXPECT_THAT(Get(f, id), Optional(0.0)) << Info(id).name;
  }
  for (MetricId id :
       {MetricId::kCac, MetricId::kRoas, MetricId::kRoi,
        MetricId::kRetentionRate, MetricId::kRevenuePerCustomer,
        MetricId::kRepeatPurchaseRate, MetricId::kLeadToCustomerRate}) {
    EXPECT_EQ(Get(f, id), std::nullopt) << Info(id).name;
  }
  // No events at all behaves the same.
  const TallyResult none = TallyPeriods(nullptr, {kPeriod}, {}, Options());
  EXPECT_THAT(Get(Derive(none.periods[0].total, 0.5), MetricId::kReach),
              Optional(0.0));
}

TEST_F(ReportTest, PeriodBoundaryIsMidnightUtc) {
  // One microsecond before midnight is in the day before; midnight is in
  // the next period.
  Touch("late", D(20) - 1, "instagram");
  Convert("late", D(20) - 1, ConversionKind::kPurchase, 7);
  Touch("next", D(20), "instagram");
  Convert("next", D(20), ConversionKind::kPurchase, 9);
  Spend(19, "instagram", 1);
  Spend(20, "instagram", 2);
  const TallyResult r =
      TallyPeriods(Snap(), {kPeriod, {D(20), D(21)}}, spend_, Options());
  EXPECT_EQ(r.periods[0].total.new_customers, 1);
  EXPECT_EQ(r.periods[0].total.revenue_micros, 7e6);
  EXPECT_EQ(r.periods[0].total.spend_micros, 1'000'000);
  EXPECT_EQ(r.periods[1].total.new_customers, 1);
  EXPECT_EQ(r.periods[1].total.revenue_micros, 9e6);
  EXPECT_EQ(r.periods[1].total.spend_micros, 2'000'000);
}

TEST_F(ReportTest, CampaignGroupingSplitsSpendAndCredit) {
  Touch("a", D(11), "instagram", Sentiment::kUnspecified, "spring");
  Convert("a", D(12), ConversionKind::kPurchase, 10);
  spend_.push_back({Day(11), "instagram", "spring", 4'000'000, "USD"});
  spend_.push_back({Day(11), "instagram", "autumn", 6'000'000, "USD"});
  ReportOptions o = Options();
  o.by_campaign = true;
  const TallyResult r = TallyPeriods(Snap(), {kPeriod}, spend_, o);
  const Figures spring =
      Derive(r.periods[0].groups.at({"instagram", "spring"}), 1);
  EXPECT_THAT(Get(spring, MetricId::kCac), Optional(4.0));
  const Figures autumn =
      Derive(r.periods[0].groups.at({"instagram", "autumn"}), 1);
  EXPECT_EQ(Get(autumn, MetricId::kCac), std::nullopt);
}

// Whatever the model, channel credits add up to the total less the
// conversions with no touch in their lookback.
TEST_F(ReportTest, CreditsAddUpUnderEveryModel) {
  std::mt19937 rng(7);
  const std::vector<std::string> channels = {"facebook", "instagram", "email",
                                             "direct", "x"};
  for (int c = 0; c < 300; ++c) {
    const std::string id = "c" + std::to_string(c);
    const int touches = static_cast<int>(rng() % 6);
    for (int t = 0; t < touches; ++t) {
      Touch(id, D(rng() % 20), channels[rng() % channels.size()]);
    }
    if (rng() % 2) Convert(id, D(5 + rng() % 15), ConversionKind::kLead);
    for (int p = 0; p < static_cast<int>(rng() % 3); ++p) {
      Convert(id, D(rng() % 20) + 1, ConversionKind::kPurchase,
              static_cast<double>(1 + rng() % 100));
    }
  }
  double first_leads = 0, first_customers = 0, first_revenue = 0;
  for (ModelKind kind : {ModelKind::kFirstTouch, ModelKind::kLastTouch,
                         ModelKind::kLastNonDirect, ModelKind::kLinear,
                         ModelKind::kPositionBased, ModelKind::kTimeDecay,
                         ModelKind::kMarkov, ModelKind::kShapley}) {
    ReportOptions o = Options(kind);
    o.lookback_us = 3 * kDayUs;  // Leaves some conversions untouched.
    const TallyResult r = TallyPeriods(Snap(), {{D(0), D(20)}}, {}, o);
    double leads = 0, customers = 0, revenue = 0;
    for (const auto& [name, t] : r.periods[0].groups) {
      leads += t.leads;
      customers += t.new_customers;
      revenue += t.revenue_micros;
    }
    const Tally& total = r.periods[0].total;
    EXPECT_LE(leads, total.leads + 1e-9);
    EXPECT_LE(customers, total.new_customers + 1e-9);
    EXPECT_LE(revenue, total.revenue_micros + 1e-3);
    // Every model credits the same touched conversions.
    if (kind == ModelKind::kFirstTouch) {
      first_leads = leads;
      first_customers = customers;
      first_revenue = revenue;
    } else {
      EXPECT_NEAR(leads, first_leads, 1e-9);
      EXPECT_NEAR(customers, first_customers, 1e-9);
      EXPECT_NEAR(revenue, first_revenue, 1e-3);
    }
  }
  EXPECT_GT(first_customers, 0);
}

TEST_F(ReportTest, CashFlowDailyByHand) {
  BuildScenario();
  const CashFlowResult r =
      ComputeCashFlow(Snap(), kPeriod, false, spend_, Options());
  ASSERT_EQ(r.bucket_start_days.size(), 10u);
  EXPECT_EQ(r.bucket_start_days[0], Day(10));
  ASSERT_EQ(r.channels.size(), 4u);  // email, facebook, instagram, tiktok
  const CashFlowSeries& ig = r.channels[2];
  EXPECT_EQ(ig.channel, "instagram");
  std::vector<double> expected_in(10, 0.0), expected_out(10, 0.0);
  expected_in[3] = 50;   // Half of A's first purchase (day 13).
  expected_in[5] = 50;   // All of A's repeat purchase (day 15).
  expected_out[0] = 40;  // Day 10.
  expected_out[9] = 20;  // Day 19; day 20's 5 is outside.
  EXPECT_EQ(ig.revenue, expected_in);
  EXPECT_EQ(ig.spend, expected_out);
  double revenue = 0, spend = 0;
  for (size_t b = 0; b < 10; ++b) {
    revenue += r.total.revenue[b];
    spend += r.total.spend[b];
  }
  EXPECT_DOUBLE_EQ(revenue, 200);  // D's untouched purchase included.
  EXPECT_DOUBLE_EQ(spend, 95);
}

TEST_F(ReportTest, CashFlowWeeksAreCalendarWeeksCutToThePeriod) {
  BuildScenario();
  const CashFlowResult r =
      ComputeCashFlow(Snap(), kPeriod, true, spend_, Options());
  // 2026-01-11 is a Sunday: then the weeks of Monday 12 and Monday 19.
  EXPECT_THAT(r.bucket_start_days, ElementsAre(Day(10), Day(11), Day(18)));
  EXPECT_THAT(r.total.spend, ElementsAre(40.0, 35.0, 20.0));
  EXPECT_THAT(r.total.revenue, ElementsAre(0.0, 200.0, 0.0));
}

TEST_F(ReportTest, CohortsByHand) {
  BuildScenario();
  ReportOptions o = Options();
  o.gross_margin = 1.0;
  const std::vector<int32_t> horizons = {1, 5, 60};
  const CohortResult r =
      ComputeCohorts(Snap(), {D(0), D(31)}, false, horizons, spend_, o);
  ASSERT_FALSE(r.cancelled);
  // January: total, email, facebook, instagram, tiktok (spend only).
  ASSERT_EQ(r.rows.size(), 5u);
  const CohortRow& total = r.rows[0];
  EXPECT_EQ(total.start_day, Day(0));
  EXPECT_EQ(total.channel, "");
  EXPECT_EQ(total.customers, 3);       // A, B, D.
  EXPECT_DOUBLE_EQ(total.spend, 130);  // 65 + 10 + 25 + 30.
  EXPECT_THAT(total.cac, Optional(DoubleNear(130.0 / 3, 1e-9)));
  EXPECT_EQ(total.horizons[0].retention_rate, 0.0);  // A rebought on day 2.
  EXPECT_THAT(total.horizons[0].revenue_per_customer, Optional(50.0));
  EXPECT_THAT(total.horizons[1].retention_rate,
              Optional(DoubleNear(1.0 / 3, 1e-12)));
  EXPECT_THAT(total.horizons[1].revenue_per_customer,
              Optional(DoubleNear(200.0 / 3, 1e-9)));
  EXPECT_EQ(total.horizons[2].observed, 0);  // 60 days have not passed.
  EXPECT_EQ(total.horizons[2].retention_rate, std::nullopt);
  EXPECT_THAT(total.payback_days, Optional(0));  // 150 >= 130 on day 0.

  const CohortRow& ig = r.rows[3];
  EXPECT_EQ(ig.channel, "instagram");
  EXPECT_EQ(ig.customers, 0.5);
  EXPECT_THAT(ig.cac, Optional(130.0));  // 65 / 0.5
  EXPECT_THAT(ig.horizons[1].revenue_per_customer, Optional(150.0));
  EXPECT_THAT(ig.horizons[1].ltv_to_cac,
              Optional(DoubleNear(150.0 / 130, 1e-12)));
  // Margin 50 on day 0, 75 by day 2: covers the 65 spent on day 2.
  EXPECT_THAT(ig.payback_days, Optional(2));

  const CohortRow& tiktok = r.rows[4];
  EXPECT_EQ(tiktok.channel, "tiktok");
  EXPECT_EQ(tiktok.customers, 0);
  EXPECT_EQ(tiktok.cac, std::nullopt);
  EXPECT_EQ(tiktok.payback_days, std::nullopt);
  EXPECT_EQ(r.rows[2].channel, "facebook");
  EXPECT_THAT(r.rows[2].payback_days, Optional(0));  // 30 covers 30.
}

// The lapse rule (WorkspaceSettings.lapse_days) on a workspace without
// churn events; lapse 3 days, horizon 5 days, period days 10 to 20.
class LapseTest : public ReportTest {
 protected:
  void BuildLapses() {
    Touch("P", D(1), "instagram");
    // P: bought on days 2 and 5; lapsed on day 8, before the period.
    Convert("P", D(2), ConversionKind::kPurchase, 10);
    Convert("P", D(5), ConversionKind::kPurchase, 10);
    // Q: bought on day 8 and again exactly 3 days later (the lapse's own
    // end keeps them); lapsed on day 14.
    Convert("Q", D(8), ConversionKind::kPurchase, 10);
    Convert("Q", D(11), ConversionKind::kPurchase, 10);
    // R: acquired on day 12, bought again on day 14; lapsed on day 17.
    Convert("R", D(12), ConversionKind::kPurchase, 10);
    Convert("R", D(14), ConversionKind::kPurchase, 10);
    // S: acquired on day 18; the lapse ends on day 21, after the period.
    Convert("S", D(18), ConversionKind::kPurchase, 10);
    // V: acquired on day 10.5, lapsed on day 13.5, back on day 14.5.
    Convert("V", D(10.5), ConversionKind::kPurchase, 10);
    Convert("V", D(14.5), ConversionKind::kPurchase, 10);
  }
  ReportOptions Lapse(int64_t days) {
    ReportOptions o = Options();
    o.lapse_us = days * kDayUs;
    return o;
  }
};

TEST_F(LapseTest, ChurnAndRetentionByHand) {
  BuildLapses();
  const TallyResult r = TallyPeriods(Snap(), {kPeriod}, {}, Lapse(3));
  EXPECT_FALSE(r.churn_events);
  const Tally& t = r.periods[0].total;
  // Base: Q, R, S, V (P was lost before the period). Lost in it: Q (day
  // 14), R (17), V (13.5); not S, whose lapse ends after the period.
  EXPECT_EQ(t.churn_base, 4);
  EXPECT_EQ(t.churned, 3);
  EXPECT_THAT(Get(Derive(t, 1), MetricId::kChurnRate), Optional(0.75));
  // Acquired in the period: R, S, V. Only R bought again within both the
  // horizon and the lapse (V's second purchase came after its lapse).
  EXPECT_EQ(t.retention_base, 3);
  EXPECT_EQ(t.retained, 1);
}

TEST_F(LapseTest, OnlyLapsesCompleteByNowCount) {
  BuildLapses();
  ReportOptions o = Lapse(3);
  o.now_us = D(16);  // R's lapse (day 17) has not completed yet.
  const Tally t = TallyPeriods(Snap(), {kPeriod}, {}, o).periods[0].total;
  EXPECT_EQ(t.churn_base, 4);
  EXPECT_EQ(t.churned, 2);  // Q and V.
}

TEST_F(LapseTest, WithoutChurnEventsOrRuleChurnIsNotMeasured) {
  BuildLapses();
  const TallyResult r =
      TallyPeriods(Snap(), {kPeriod, kCompare}, {}, Options());
  EXPECT_FALSE(r.churn_events);
  for (const PeriodTally& p : r.periods) {
    EXPECT_EQ(Get(Derive(p.total, 1), MetricId::kChurnRate), std::nullopt);
    for (const auto& [name, g] : p.groups) {
      EXPECT_EQ(Get(Derive(g, 1), MetricId::kChurnRate), std::nullopt);
    }
  }
  // Retention asks only for a repeat purchase within the horizon: R and V.
  EXPECT_EQ(r.periods[0].total.retained, 2);
}

TEST_F(LapseTest, AChurnEventComesFirstAndCountsOnce) {
  BuildLapses();
  // X: acquired on day 15, a churn event on day 16, before the lapse's end
  // on day 18: lost once, at the event.
  Convert("X", D(15), ConversionKind::kPurchase, 10);
  Convert("X", D(16), ConversionKind::kChurn);
  const TallyResult with_rule = TallyPeriods(Snap(), {kPeriod}, {}, Lapse(3));
  EXPECT_TRUE(with_rule.churn_events);
  EXPECT_EQ(with_rule.periods[0].total.churn_base, 5);
  EXPECT_EQ(with_rule.periods[0].total.churned, 4);
  // Events only: X is the one churn.
  const TallyResult events = TallyPeriods(Snap(), {kPeriod}, {}, Options());
  EXPECT_EQ(events.periods[0].total.churned, 1);
  EXPECT_THAT(Get(Derive(events.periods[0].total, 1), MetricId::kChurnRate),
              Optional(DoubleNear(1.0 / 6, 1e-12)));  // Of P, Q, R, S, V, X.
}

TEST_F(LapseTest, CohortRetentionUsesTheRule) {
  BuildLapses();
  const std::vector<int32_t> horizons = {5};
  const CohortResult lapse =
      ComputeCohorts(Snap(), {D(0), D(31)}, false, horizons, {}, Lapse(3));
  // Of P, Q, R, S, V: P (3 days), Q (exactly 3) and R (2) bought again in
  // time; V (4 days) had lapsed; S never did.
  EXPECT_THAT(lapse.rows[0].horizons[0].retention_rate,
              Optional(DoubleNear(0.6, 1e-12)));
  EXPECT_FALSE(lapse.churn_events);
  const CohortResult events =
      ComputeCohorts(Snap(), {D(0), D(31)}, false, horizons, {}, Options());
  EXPECT_THAT(events.rows[0].horizons[0].retention_rate,
              Optional(DoubleNear(0.8, 1e-12)));
}

TEST(GoalTest, AdditiveGoalsArePaced) {
  const TimeRange q{D(0), D(10)};
  // Now is day 5.5: measured through the end of day 5, 60% of the period.
  GoalProgress p = EvaluateGoal(MetricId::kNewCustomers, 100, q, 70, D(5.5));
  EXPECT_DOUBLE_EQ(p.elapsed, 0.6);
  EXPECT_THAT(p.expected_to_date, Optional(DoubleNear(60, 1e-9)));
  EXPECT_EQ(p.status, GoalStatus::kOnTrack);
  EXPECT_EQ(EvaluateGoal(MetricId::kNewCustomers, 100, q, 50, D(5.5)).status,
            GoalStatus::kBehind);
  EXPECT_EQ(EvaluateGoal(MetricId::kNewCustomers, 100, q, 100, D(12)).status,
            GoalStatus::kAchieved);
  EXPECT_EQ(EvaluateGoal(MetricId::kNewCustomers, 100, q, 99, D(12)).status,
            GoalStatus::kMissed);
  EXPECT_EQ(EvaluateGoal(MetricId::kNewCustomers, 100, q, 0, D(-1)).status,
            GoalStatus::kNotStarted);
  // A budget: spend at most 1000, 600 by now is on pace.
  EXPECT_EQ(EvaluateGoal(MetricId::kSpend, 1000, q, 600, D(5.5)).status,
            GoalStatus::kOnTrack);
  EXPECT_EQ(EvaluateGoal(MetricId::kSpend, 1000, q, 700, D(5.5)).status,
            GoalStatus::kBehind);
}

TEST(GoalTest, RatioGoalsCompareWithTheTarget) {
  const TimeRange q{D(0), D(10)};
  EXPECT_EQ(EvaluateGoal(MetricId::kCac, 30, q, 25, D(5)).status,
            GoalStatus::kOnTrack);
  EXPECT_EQ(EvaluateGoal(MetricId::kCac, 30, q, 35, D(5)).status,
            GoalStatus::kBehind);
  EXPECT_EQ(EvaluateGoal(MetricId::kRoas, 3, q, 3.5, D(5)).status,
            GoalStatus::kOnTrack);
  EXPECT_EQ(EvaluateGoal(MetricId::kCac, 30, q, std::nullopt, D(5)).status,
            GoalStatus::kNoData);
  EXPECT_EQ(EvaluateGoal(MetricId::kCac, 30, q, 25, D(5)).expected_to_date,
            std::nullopt);
}

TEST(MetricTest, NamesAndPolarities) {
  EXPECT_EQ(MetricByName("cac"), MetricId::kCac);
  EXPECT_EQ(MetricByName("CAC"), std::nullopt);
  EXPECT_EQ(Info(MetricId::kCac).polarity, Polarity::kDownIsGood);
  EXPECT_EQ(Info(MetricId::kChurnRate).polarity, Polarity::kDownIsGood);
  EXPECT_EQ(Compare(MetricId::kChurnRate, 0.2, 0.1).assessment,
            Assessment::kBad);
  EXPECT_EQ(Compare(MetricId::kCac, 20, 25).assessment, Assessment::kGood);
  EXPECT_EQ(Compare(MetricId::kRevenue, 5, 5).direction, Direction::kFlat);
}

TEST(SpendDateTest, ParsesAndFormats) {
  EXPECT_EQ(ParseDate("1970-01-02"), 1);
  EXPECT_EQ(ParseDate("2026-02-30"), std::nullopt);
  EXPECT_EQ(ParseDate("2026-2-03"), std::nullopt);
  EXPECT_EQ(ParseDate("+026-02-03"), std::nullopt);
  EXPECT_EQ(FormatDate(*ParseDate("2024-02-29")), "2024-02-29");
  EXPECT_EQ(FormatDate(WeekStart(*ParseDate("2026-01-11"))), "2026-01-05");
  EXPECT_EQ(FormatDate(MonthStart(*ParseDate("2026-03-31"))), "2026-03-01");
  EXPECT_EQ(FormatDate(NextMonthStart(*ParseDate("2026-12-15"))), "2027-01-01");
}

}  // namespace
}  // namespace attribution

// The CFO report engine: channel figures of periods, cash flow and
// retention cohorts, computed from the journey index and spend with the
// attribution models. Pure domain. The metric definitions are the contract
// of proto/attribution/v1/report_service.proto.
#ifndef ATTRIBUTION_SERVICE_CORE_REPORT_H_
#define ATTRIBUTION_SERVICE_CORE_REPORT_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "service/core/attribution.h"
#include "service/core/bootstrap.h"
#include "service/core/incremental.h"
#include "service/core/journey_index.h"
#include "service/core/spend.h"

namespace attribution {

// The figures of ChannelFigures, in its field order.
enum class MetricId {
  kReach,
  kNewProspects,
  kLeads,
  kNewCustomers,
  kLeadToCustomerRate,
  kProspectToCustomerRate,
  kRevenue,
  kRevenuePerCustomer,
  kRepeatPurchaseRate,
  kRetentionRate,
  kChurnRate,
  kSpend,
  kCac,
  kRoas,
  kProfitContribution,
  kRoi,
  kPositiveShare,
  kNeutralShare,
  kNegativeShare,
};
inline constexpr int kMetricCount = 19;

enum class Polarity { kUpIsGood, kDownIsGood, kNeutral };

struct MetricInfo {
  const char* name;   // The ChannelFigures field name.
  const char* label;  // Plain words for a report table.
  Polarity polarity;
  bool additive;  // Adds up over time (counts and money).
  bool money;     // In the reporting currency.
  bool rate;      // A share, shown as a percentage.
};
const MetricInfo& Info(MetricId id);
std::optional<MetricId> MetricByName(absl::string_view name);

// [start_us, end_us).
struct TimeRange {
  int64_t start_us = 0;
  int64_t end_us = 0;
};

enum class Granularity { kDay, kWeek, kMonth };

struct ReportOptions {
  ModelParams model;
  int64_t lookback_us = 30 * kDayUs;
  int64_t horizon_us = 90 * kDayUs;  // ChannelReport's retention rate.
  // The lapse rule (WorkspaceSettings.lapse_days); 0: churn events only.
  int64_t lapse_us = 0;
  int64_t now_us = 0;  // Later horizons are not yet observed.
  double gross_margin = 1.0;
  bool by_campaign = false;
  // MODEL_INCREMENTAL: the experiments it calibrates each goal's fit on,
  // and the least standard error it takes from one.
  std::vector<ExperimentMeasure> acquisition_experiments;
  std::vector<ExperimentMeasure> repeat_experiments;
  double min_experiment_se = 0.5;
  // TallyPeriods: confidence intervals of the first period's credited new
  // customers and revenue per group (see TallyResult::intervals).
  std::optional<BootstrapOptions> intervals;
  int threads = 1;
  // Polled while scanning; when true the work stops and the result is
  // marked cancelled.
  std::function<bool()> cancelled;
};

// A report row's key: channel, and campaign when grouping by campaign.
using GroupName = std::pair<std::string, std::string>;

// Raw sums of one group (or the total) over one period. For a group,
// customer counts are weighted by credit (see the proto).
struct Tally {
  double reach = 0;
  double new_prospects = 0;
  double leads = 0;
  double new_customers = 0;
  double revenue_micros = 0;
  double buyers = 0;          // By purchase credit.
  double base_buyers = 0;     // Buyers, by acquisition credit.
  double repeat_buyers = 0;   // Of those, with a repeat purchase.
  double retention_base = 0;  // Acquired, horizon passed.
  double retained = 0;
  double churn_base = 0;  // Customers during the period.
  double churned = 0;
  double positive = 0;
  double neutral = 0;
  double negative = 0;
  int64_t spend_micros = 0;

  void Add(const Tally& o);
};

struct PeriodTally {
  std::map<GroupName, Tally> groups;
  Tally total;
};

// Bootstrap intervals of a group's credited new customers and revenue.
struct CreditRange {
  double new_customers_low = 0, new_customers_high = 0;
  double revenue_micros_low = 0, revenue_micros_high = 0;
};

struct TallyResult {
  std::vector<PeriodTally> periods;  // As requested.
  // With ReportOptions::intervals, for the first period: per group, and
  // under MODEL_INCREMENTAL for the baseline (what no group is credited
  // with). Customers are resampled (Poisson weights from their ids); the
  // incremental fits move with each replicate by one Newton step, as in
  // IncrementalIntervals; other fits (Markov, Shapley) are held.
  std::map<GroupName, CreditRange> intervals;
  std::optional<CreditRange> baseline_interval;
  // Some customer has a churn event. Without one and without a lapse rule
  // churn is not measured: every churn_base and churned is 0, so the churn
  // rate is undefined.
  bool churn_events = false;
  bool cancelled = false;
};

// Scans every customer once for all `periods`, and adds `spend` (rows of
// any day: each lands in the periods holding its day). `index` may be null
// (no events).
TallyResult TallyPeriods(const IndexSnapshot* index,
                         absl::Span<const TimeRange> periods,
                         absl::Span<const SpendRow> spend,
                         const ReportOptions& options);

using Figures = std::array<std::optional<double>, kMetricCount>;

// The metrics of a tally; nullopt where undefined (a division by zero).
// Money in currency units.
Figures Derive(const Tally& tally, double gross_margin);

enum class Direction { kNone, kUp, kDown, kFlat };
enum class Assessment { kNone, kGood, kBad, kNeutral };

struct Comparison {
  std::optional<double> value;
  std::optional<double> previous;
  std::optional<double> change;
  std::optional<double> change_ratio;
  Direction direction = Direction::kNone;
  Assessment assessment = Assessment::kNone;
};
// Direction::kFlat ("no real change", assessed neutral) below these: a rate
// that moved less than 0.1 percentage point, any other figure less than
// 0.5% of its previous value (or not at all, from 0).
inline constexpr double kNoRealChangePoints = 0.001;
inline constexpr double kNoRealChangeRatio = 0.005;
Comparison Compare(MetricId id, std::optional<double> value,
                   std::optional<double> previous);
// The same for a figure that is no MetricId (a business figure).
Comparison CompareWith(Polarity polarity, bool rate,
                       std::optional<double> value,
                       std::optional<double> previous);

// --- Business figures ------------------------------------------------------

enum class FigureAggregation { kSum, kMean, kLast };
// A series' value over days [start_day, end_day) from its values by day:
// their sum, mean or latest; nullopt if none is dated in the range.
std::optional<double> AggregateFigure(const std::map<int32_t, double>& values,
                                      FigureAggregation aggregation,
                                      int32_t start_day, int32_t end_day);

// --- Cash flow -------------------------------------------------------------

struct CashFlowSeries {
  std::string channel;          // Empty for the total.
  std::vector<double> revenue;  // Currency units, one per bucket.
  std::vector<double> spend;
};

struct CashFlowResult {
  std::vector<int32_t> bucket_start_days;
  std::vector<CashFlowSeries> channels;  // By name.
  CashFlowSeries total;
  bool cancelled = false;
};

// Buckets are days, or calendar weeks (Monday) cut to the period.
CashFlowResult ComputeCashFlow(const IndexSnapshot* index, TimeRange period,
                               bool weekly, absl::Span<const SpendRow> spend,
                               const ReportOptions& options);

// --- Retention cohorts -----------------------------------------------------

struct CohortHorizonFigures {
  int32_t days = 0;
  double observed = 0;
  std::optional<double> retention_rate;
  std::optional<double> revenue_per_customer;
  std::optional<double> ltv_to_cac;
};

struct CohortRow {
  int32_t start_day = 0;
  std::string channel;  // Empty for all channels.
  double customers = 0;
  double spend = 0;
  std::optional<double> cac;
  std::vector<CohortHorizonFigures> horizons;
  std::optional<int32_t> payback_days;
};

struct CohortResult {
  std::vector<CohortRow> rows;  // By start, then channel ("" first).
  bool churn_events = false;    // As TallyResult::churn_events.
  bool cancelled = false;
};

CohortResult ComputeCohorts(const IndexSnapshot* index, TimeRange period,
                            bool weekly, absl::Span<const int32_t> horizon_days,
                            absl::Span<const SpendRow> spend,
                            const ReportOptions& options);

// --- Goals -----------------------------------------------------------------

enum class GoalStatus {
  kNotStarted,
  kOnTrack,
  kBehind,
  kAchieved,
  kMissed,
  kNoData,
};

struct GoalProgress {
  std::optional<double> actual;
  std::optional<double> expected_to_date;
  double elapsed = 0;
  GoalStatus status = GoalStatus::kNoData;
};

// Progress of a goal on `metric` with `target` over `period`, given the
// metric's value over [period.start, measured_end_us) and the time now.
GoalProgress EvaluateGoal(MetricId metric, double target, TimeRange period,
                          std::optional<double> actual, int64_t now_us);
// The same for a figure that is no MetricId: `additive` ones are measured
// against the target times the share of the period elapsed.
GoalProgress EvaluateGoalWith(Polarity polarity, bool additive, double target,
                              TimeRange period, std::optional<double> actual,
                              int64_t now_us);

// Where a goal's metric is measured up to: the midnight after `now_us`,
// capped at the period's end.
int64_t GoalMeasuredEnd(TimeRange period, int64_t now_us);

}  // namespace attribution

#endif  // ATTRIBUTION_SERVICE_CORE_REPORT_H_

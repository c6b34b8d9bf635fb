#include "service/api/report_service_impl.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "service/api/attribute_request.h"
#include "service/api/business_figures.h"
#include "service/api/channel_grouping.h"
#include "service/api/conversation.h"
#include "service/api/event_conversion.h"
#include "service/api/experiments.h"
#include "service/api/grpc_status.h"
#include "service/api/raw_calls.h"
#include "service/core/limits.h"
#include "service/core/status_macros.h"
#include "service/page/report_page.h"

namespace attribution::api {
namespace {

constexpr int64_t kSecondUs = 1'000'000;
constexpr int64_t kMaxReportUs = 4'102'444'800'000'000;  // 2100-01-01
constexpr int64_t kMaxPeriodUs = 3650 * kDayUs;
constexpr int kMaxHorizons = 24;
constexpr char kGoalPrefix[] = "goal/";
const int32_t kMinSpendDay = *ParseDate("2000-01-01");
const int32_t kEndSpendDay = *ParseDate("2100-01-01");

absl::Status Bad(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

absl::Status ParsePeriod(const v1::ReportPeriod& in, const std::string& field,
                         TimeRange* out) {
  for (const auto& [ts, name] :
       {std::pair{&in.start(), "start"}, std::pair{&in.end(), "end"}}) {
    const std::string f = absl::StrCat(field, ".", name);
    if ((name == std::string("start") && !in.has_start()) ||
        (name == std::string("end") && !in.has_end())) {
      return Bad(f, "is required");
    }
    if (ts->nanos() != 0 || ts->seconds() % 86400 != 0) {
      return Bad(f, "must be midnight UTC (a whole day)");
    }
    const int64_t us = ts->seconds() * kSecondUs;
    if (us < kMinOccurredAtUs || us > kMaxReportUs) {
      return Bad(f, "must be between 2000-01-01 and 2100-01-01");
    }
  }
  out->start_us = TimeUs(in.start());
  out->end_us = TimeUs(in.end());
  if (out->end_us <= out->start_us) {
    return Bad(absl::StrCat(field, ".end"), "must be after start");
  }
  if (out->end_us - out->start_us > kMaxPeriodUs) {
    return Bad(absl::StrCat(field, ".end"), "the period is over 3650 days");
  }
  return absl::OkStatus();
}

void PeriodToProto(TimeRange r, v1::ReportPeriod* out) {
  TimeToProto(r.start_us, out->mutable_start());
  TimeToProto(r.end_us, out->mutable_end());
}

// The model, lookback and options of a report: the request's where given,
// else the workspace's. Fills the applied model and lookback.
absl::Status ReportDefaults(const v1::WorkspaceSettings& settings,
                            const v1::ModelSpec* model,
                            const google::protobuf::Duration* lookback,
                            v1::ModelSpec* applied_model,
                            google::protobuf::Duration* applied_lookback,
                            ReportOptions* o) {
  if (model != nullptr) {
    RETURN_IF_ERROR(ParseModel(*model, "model", &o->model, applied_model));
  } else {
    RETURN_IF_ERROR(ParseModel(settings.model(), "settings.model", &o->model,
                               applied_model));
  }
  if (lookback != nullptr) {
    RETURN_IF_ERROR(DurationUs(*lookback, "lookback", kSecondUs, kMaxPeriodUs,
                               &o->lookback_us));
  } else {
    o->lookback_us = settings.lookback().seconds() * kSecondUs +
                     settings.lookback().nanos() / 1000;
  }
  SetDuration(o->lookback_us, applied_lookback);
  o->horizon_us = settings.retention_horizon().seconds() * kSecondUs +
                  settings.retention_horizon().nanos() / 1000;
  o->gross_margin = settings.gross_margin();
  o->lapse_us = settings.has_lapse_days() ? settings.lapse_days() * kDayUs : 0;
  return absl::OkStatus();
}

// The currency a report is in. FailedPrecondition if purchases or spend are
// in another currency than the reporting one, or in several with none set.
absl::StatusOr<std::string> ReportCurrency(
    const v1::WorkspaceSettings& settings, const IndexSnapshot* index,
    const std::vector<SpendRow>& spend) {
  std::set<std::string> seen;
  if (index != nullptr) {
    seen.insert(index->currencies().begin(), index->currencies().end());
  }
  for (const SpendRow& row : spend) seen.insert(row.currency);
  const std::string& reporting = settings.reporting_currency();
  if (!reporting.empty()) {
    seen.erase(reporting);
    if (!seen.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the workspace holds purchases or spend in ",
          absl::StrJoin(seen, ", "), ", not in its reporting currency ",
          reporting, "; erase them or correct the data"));
    }
    return reporting;
  }
  if (seen.size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("purchases and spend are in several currencies (",
                     absl::StrJoin(seen, ", "),
                     "): reports need one; keep one currency a workspace"));
  }
  return seen.empty() ? std::string() : *seen.begin();
}

// The previous calendar month, quarter or year when `period` is exactly
// one, else the period of equal length before it.
TimeRange DefaultComparison(const TimeRange& period) {
  const absl::TimeZone utc = absl::UTCTimeZone();
  const absl::CivilSecond start =
      absl::ToCivilSecond(absl::FromUnixMicros(period.start_us), utc);
  const absl::CivilSecond end =
      absl::ToCivilSecond(absl::FromUnixMicros(period.end_us), utc);
  const absl::CivilMonth first(start);
  const bool whole_months = absl::CivilSecond(first) == start &&
                            absl::CivilSecond(absl::CivilMonth(end)) == end;
  if (whole_months) {
    const int64_t months = absl::CivilMonth(end) - first;
    const bool calendar = months == 1 ||
                          (months == 3 && (first.month() - 1) % 3 == 0) ||
                          (months == 12 && first.month() == 1);
    if (calendar) {
      return {absl::ToUnixMicros(absl::FromCivil(first - months, utc)),
              period.start_us};
    }
  }
  const int64_t length = period.end_us - period.start_us;
  return {period.start_us - length, period.start_us};
}

bool HoldsNothing(const Tally& t) {
  return t.reach == 0 && t.new_prospects == 0 && t.leads == 0 &&
         t.new_customers == 0 && t.revenue_micros == 0 && t.buyers == 0 &&
         t.churned == 0 && t.spend_micros == 0 && t.positive == 0 &&
         t.neutral == 0 && t.negative == 0;
}

void ComparisonToProto(const Comparison& c, v1::Metric* m) {
  if (c.value) m->set_value(*c.value);
  if (c.previous) m->set_previous(*c.previous);
  if (c.change) m->set_change(*c.change);
  if (c.change_ratio) m->set_change_ratio(*c.change_ratio);
  switch (c.direction) {
    case Direction::kNone:
      break;
    case Direction::kUp:
      m->set_direction(v1::DIRECTION_UP);
      break;
    case Direction::kDown:
      m->set_direction(v1::DIRECTION_DOWN);
      break;
    case Direction::kFlat:
      m->set_direction(v1::DIRECTION_FLAT);
      break;
  }
  switch (c.assessment) {
    case Assessment::kNone:
      break;
    case Assessment::kGood:
      m->set_assessment(v1::ASSESSMENT_GOOD);
      break;
    case Assessment::kBad:
      m->set_assessment(v1::ASSESSMENT_BAD);
      break;
    case Assessment::kNeutral:
      m->set_assessment(v1::ASSESSMENT_NEUTRAL);
      break;
  }
}

// Every metric of `current` (with `previous`'s, if any) into the
// ChannelFigures field of the metric's name.
v1::Metric* MetricOf(MetricId id, v1::ChannelFigures* out) {
  const auto* field = out->GetDescriptor()->FindFieldByName(Info(id).name);
  return static_cast<v1::Metric*>(
      out->GetReflection()->MutableMessage(out, field));
}

// Every metric of `current` (compared with `previous`), or only those of
// `only` when it is non-empty.
void FiguresToProto(const Figures& current, const Figures* previous,
                    v1::ChannelFigures* out,
                    std::initializer_list<MetricId> only = {}) {
  for (int i = 0; i < kMetricCount; ++i) {
    const auto id = static_cast<MetricId>(i);
    if (only.size() > 0 &&
        std::find(only.begin(), only.end(), id) == only.end()) {
      continue;
    }
    ComparisonToProto(
        Compare(id, current[i],
                previous == nullptr ? std::nullopt : (*previous)[i]),
        MetricOf(id, out));
  }
}

// A channel's (or the baseline's) intervals: new customers and revenue as
// bootstrapped, and CAC and ROAS from them with the known spend (CAC's
// upper end is unbounded, so unset, when new customers may be 0).
void RangeToProto(const CreditRange& r, std::optional<double> spend,
                  v1::ChannelFigures* out) {
  v1::Metric* nc = MetricOf(MetricId::kNewCustomers, out);
  nc->set_low(r.new_customers_low);
  nc->set_high(r.new_customers_high);
  v1::Metric* revenue = MetricOf(MetricId::kRevenue, out);
  revenue->set_low(r.revenue_micros_low / 1e6);
  revenue->set_high(r.revenue_micros_high / 1e6);
  if (!spend.has_value()) return;
  v1::Metric* cac = MetricOf(MetricId::kCac, out);
  if (cac->has_value()) {
    if (r.new_customers_high > 0) cac->set_low(*spend / r.new_customers_high);
    if (r.new_customers_low > 0) cac->set_high(*spend / r.new_customers_low);
  }
  v1::Metric* roas = MetricOf(MetricId::kRoas, out);
  if (roas->has_value() && *spend > 0) {
    roas->set_low(r.revenue_micros_low / 1e6 / *spend);
    roas->set_high(r.revenue_micros_high / 1e6 / *spend);
  }
}

// What no channel is credited with: the total's credited figures minus
// the channels'.
Tally BaselineOf(const PeriodTally& t) {
  Tally b;
  b.leads = t.total.leads;
  b.new_customers = t.total.new_customers;
  b.revenue_micros = t.total.revenue_micros;
  b.buyers = t.total.buyers;
  for (const auto& [name, g] : t.groups) {
    b.leads -= g.leads;
    b.new_customers -= g.new_customers;
    b.revenue_micros -= g.revenue_micros;
    b.buyers -= g.buyers;
  }
  return b;
}

v1::GoalStatus StatusToProto(GoalStatus s) {
  switch (s) {
    case GoalStatus::kNotStarted:
      return v1::GOAL_STATUS_NOT_STARTED;
    case GoalStatus::kOnTrack:
      return v1::GOAL_STATUS_ON_TRACK;
    case GoalStatus::kBehind:
      return v1::GOAL_STATUS_BEHIND;
    case GoalStatus::kAchieved:
      return v1::GOAL_STATUS_ACHIEVED;
    case GoalStatus::kMissed:
      return v1::GOAL_STATUS_MISSED;
    case GoalStatus::kNoData:
      return v1::GOAL_STATUS_NO_DATA;
  }
  return v1::GOAL_STATUS_UNSPECIFIED;
}

// Which churn a report counted (ChurnRule), and the lapse it used.
template <typename Response>
void SetChurnRule(bool churn_events, int64_t lapse_us, Response* r) {
  if (lapse_us > 0) {
    r->set_churn_rule(v1::CHURN_RULE_LAPSE);
    r->set_lapse_days(static_cast<int32_t>(lapse_us / kDayUs));
  } else {
    r->set_churn_rule(churn_events ? v1::CHURN_RULE_EVENTS
                                   : v1::CHURN_RULE_NOT_MEASURED);
  }
}

int32_t FirstDay(absl::Span<const TimeRange> ranges) {
  int64_t lo = INT64_MAX;
  for (const TimeRange& r : ranges) lo = std::min(lo, r.start_us);
  return DayOf(lo);
}

int32_t EndDay(absl::Span<const TimeRange> ranges) {
  int64_t hi = INT64_MIN;
  for (const TimeRange& r : ranges) hi = std::max(hi, r.end_us);
  return DayOf(hi);
}

}  // namespace

ReportServiceImpl::ReportServiceImpl(EventStore& store, Clock& clock,
                                     WorkspaceSettingsStore& settings,
                                     AttributionServiceImpl& auth,
                                     ServiceOptions options)
    : store_(store),
      clock_(clock),
      settings_(settings),
      auth_(auth),
      options_(std::move(options)) {}

template <typename Req, typename Resp, typename WorkspaceOf, typename Fn>
grpc::ServerUnaryReactor* ReportServiceImpl::Serve(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response, bool on_pool, Role role,
    WorkspaceOf workspace_of, Fn fn) {
  auto work = [this, context, role, workspace_of, fn](
                  const Req& req, Resp* resp) -> absl::Status {
    RETURN_IF_ERROR(auth_.Authorize(*context, workspace_of(req), role));
    return fn(&req, resp);
  };
  if (on_pool) {
    return ServeRawOnPool<Req, Resp>(auth_.query_pool(), context, request,
                                     response, std::move(work));
  }
  return ServeRaw<Req, Resp>(context, request, response, work);
}

absl::Status ReportServiceImpl::Prepare(
    grpc::CallbackServerContext* context, absl::string_view workspace,
    const v1::WorkspaceSettings& settings, const v1::ModelSpec* model,
    const google::protobuf::Duration* lookback, v1::ModelSpec* applied_model,
    google::protobuf::Duration* applied_lookback, ReportOptions* o) {
  RETURN_IF_ERROR(ReportDefaults(settings, model, lookback, applied_model,
                                 applied_lookback, o));
  o->now_us = absl::ToUnixMicros(clock_.Now());
  o->threads = options_.query_threads;
  o->cancelled = StopWhen(context);
  if (o->model.kind == ModelKind::kIncremental) {
    ASSIGN_OR_RETURN(std::vector<v1::Experiment> experiments,
                     ReadExperiments(store_, workspace));
    o->min_experiment_se = kMinExperimentSe;
    for (const v1::Experiment& e : experiments) {
      if (e.goal() == v1::GOAL_ACQUISITION) {
        o->acquisition_experiments.push_back(MeasureOf(e));
      } else if (e.goal() == v1::GOAL_REPEAT_PURCHASE) {
        o->repeat_experiments.push_back(MeasureOf(e));
      }
    }
  }
  return absl::OkStatus();
}

template <typename Compute>
absl::Status ReportServiceImpl::WithData(absl::string_view workspace,
                                         const v1::WorkspaceSettings& settings,
                                         int32_t first_day, int32_t end_day,
                                         std::string* currency, Compute compute,
                                         const ChannelGrouping* grouping) {
  ASSIGN_OR_RETURN(std::vector<SpendRow> spend,
                   store_.ReadSpend(workspace, first_day, end_day));
  absl::Status status;
  store_.ReadIndex(workspace, [&](const IndexSnapshot* index) {
    absl::StatusOr<std::string> c = ReportCurrency(settings, index, spend);
    status = c.status();
    if (!status.ok()) return;
    if (currency != nullptr) *currency = *c;
    if (grouping == nullptr) {
      compute(index, spend);
      return;
    }
    std::vector<bool> all;
    std::optional<IndexSnapshot> view;
    compute(GroupedIndex(index, grouping, &all, &view),
            GroupedSpend(spend, *grouping));
  });
  return status;
}

absl::Status ReportServiceImpl::ParseGroupBy(
    v1::GroupBy group_by, bool campaigns_allowed, absl::string_view workspace,
    ReportOptions* o, std::optional<ChannelGrouping>* grouping,
    v1::GroupBy* applied) {
  switch (group_by) {
    case v1::GROUP_BY_UNSPECIFIED:
    case v1::GROUP_BY_CHANNEL:
      *applied = v1::GROUP_BY_CHANNEL;
      return absl::OkStatus();
    case v1::GROUP_BY_CHANNEL_CAMPAIGN:
      if (!campaigns_allowed) break;
      o->by_campaign = true;
      *applied = group_by;
      return absl::OkStatus();
    case v1::GROUP_BY_CHANNEL_GROUP: {
      ASSIGN_OR_RETURN(ChannelGrouping g,
                       LoadChannelGrouping(store_, workspace));
      grouping->emplace(std::move(g));
      *applied = group_by;
      return absl::OkStatus();
    }
    default:
      return Bad("group_by", absl::StrCat("unknown value ", group_by));
  }
  return Bad("group_by",
             "must be GROUP_BY_CHANNEL or GROUP_BY_CHANNEL_GROUP here");
}

// --- Spend -----------------------------------------------------------------

absl::Status ReportServiceImpl::RecordSpendImpl(
    const v1::RecordSpendRequest& request, v1::RecordSpendResponse* response) {
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  if (request.spend_size() == 0) return Bad("spend", "at least one row");
  if (static_cast<size_t>(request.spend_size()) > options_.max_batch_events) {
    return absl::ResourceExhaustedError(
        absl::StrCat("spend: ", request.spend_size(), " rows, the limit is ",
                     options_.max_batch_events, " (--max_batch_events)"));
  }
  ASSIGN_OR_RETURN(v1::WorkspaceSettings settings,
                   settings_.Get(request.workspace()));
  std::vector<SpendRow> rows;
  rows.reserve(request.spend_size());
  for (int i = 0; i < request.spend_size(); ++i) {
    const v1::Spend& in = request.spend(i);
    const std::string p = absl::StrCat("spend[", i, "].");
    SpendRow& row = rows.emplace_back();
    const std::optional<int32_t> day = ParseDate(in.date());
    if (!day) {
      return Bad(p + "date", absl::StrCat("\"", in.date(),
                                          "\" is not a date as YYYY-MM-DD"));
    }
    if (*day < kMinSpendDay || *day >= kEndSpendDay) {
      return Bad(p + "date", "must be 2000-01-01 to 2099-12-31");
    }
    row.day = *day;
    if (const char* r = CheckChannel(in.channel()); *r) {
      return Bad(p + "channel", r);
    }
    if (const char* r = CheckCampaign(in.campaign()); *r) {
      return Bad(p + "campaign", r);
    }
    if (in.amount_micros() < 0 || in.amount_micros() > kMaxRevenueMicros) {
      return Bad(p + "amount_micros",
                 "must be 0 to 10^15 (one billion currency units)");
    }
    if (in.currency().empty()) return Bad(p + "currency", "is required");
    if (!IsKnownCurrency(in.currency())) {
      return Bad(p + "currency",
                 absl::StrCat("unknown ISO 4217 code \"", in.currency(), "\""));
    }
    if (!settings.reporting_currency().empty() &&
        in.currency() != settings.reporting_currency()) {
      return Bad(p + "currency",
                 absl::StrCat("\"", in.currency(),
                              "\" is not the workspace's reporting currency \"",
                              settings.reporting_currency(), "\""));
    }
    row.channel = in.channel();
    row.campaign = in.campaign();
    row.amount_micros = in.amount_micros();
    row.currency = in.currency();
  }
  ASSIGN_OR_RETURN(int64_t changed,
                   store_.WriteSpend(request.workspace(), rows));
  response->set_rows(static_cast<int64_t>(rows.size()));
  response->set_changed(changed);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ReportServiceImpl::RecordSpend(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::RecordSpendRequest, v1::RecordSpendResponse>(
      context, request_bytes, response_bytes, /*on_pool=*/false, Role::kWriter,
      [](const v1::RecordSpendRequest& r) { return r.workspace(); },
      [this, context](const v1::RecordSpendRequest* request,
                      v1::RecordSpendResponse* response) -> absl::Status {
        return ([&] { return RecordSpendImpl(*request, response); })();
      });
}

// --- Settings --------------------------------------------------------------

grpc::ServerUnaryReactor* ReportServiceImpl::GetSettings(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::GetSettingsRequest, v1::WorkspaceSettings>(
      context, request_bytes, response_bytes, /*on_pool=*/false, Role::kReader,
      [](const v1::GetSettingsRequest& r) { return r.workspace(); },
      [this, context](const v1::GetSettingsRequest* request,
                      v1::WorkspaceSettings* response) -> absl::Status {
        return ([&]() -> absl::Status {
          RETURN_IF_ERROR(ValidateWorkspace(request->workspace()));
          ASSIGN_OR_RETURN(*response, settings_.Get(request->workspace()));
          return absl::OkStatus();
        })();
      });
}

absl::Status ReportServiceImpl::UpdateSettingsImpl(
    const v1::UpdateSettingsRequest& request, v1::WorkspaceSettings* response) {
  const std::string& workspace = request.settings().workspace();
  RETURN_IF_ERROR(ValidateWorkspace(workspace, "settings.workspace"));
  ASSIGN_OR_RETURN(v1::WorkspaceSettings applied,
                   ApplySettingsDefaults(request.settings()));
  if (!applied.reporting_currency().empty()) {
    // Every purchase and every spend row must already be in it.
    const absl::Status currency =
        WithData(workspace, applied, kMinSpendDay, kEndSpendDay, nullptr,
                 [](const IndexSnapshot*, const std::vector<SpendRow>&) {});
    if (absl::IsFailedPrecondition(currency)) {
      return absl::FailedPreconditionError(
          absl::StrCat("settings.reporting_currency: ", currency.message()));
    }
    RETURN_IF_ERROR(currency);
  }
  RETURN_IF_ERROR(settings_.Put(applied));
  *response = std::move(applied);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ReportServiceImpl::UpdateSettings(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::UpdateSettingsRequest, v1::WorkspaceSettings>(
      context, request_bytes, response_bytes, /*on_pool=*/true, Role::kAdmin,
      [](const v1::UpdateSettingsRequest& r) {
        return r.settings().workspace();
      },
      [this, context](const v1::UpdateSettingsRequest* request,
                      v1::WorkspaceSettings* response) -> absl::Status {
        return ([&] { return UpdateSettingsImpl(*request, response); })();
      });
}

// --- Goals -----------------------------------------------------------------

absl::StatusOr<std::vector<v1::BusinessGoal>> ReportServiceImpl::ReadGoals(
    absl::string_view workspace) {
  ASSIGN_OR_RETURN(auto stored, store_.ReadMeta(workspace, kGoalPrefix));
  std::vector<v1::BusinessGoal> goals;
  for (const auto& [name, value] : stored) {
    if (!goals.emplace_back().ParseFromString(value)) {
      return absl::DataLossError(absl::StrCat("corrupt stored goal ", name));
    }
  }
  return goals;
}

absl::Status ReportServiceImpl::SetGoalImpl(const v1::SetGoalRequest& request,
                                            v1::BusinessGoal* response) {
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  const v1::BusinessGoal& goal = request.goal();
  RETURN_IF_ERROR(ValidateWorkspace(goal.name(), "goal.name"));
  if (!goal.channel().empty()) {
    if (const char* r = CheckChannel(goal.channel()); *r) {
      return Bad("goal.channel", r);
    }
  }
  if (!goal.channel_group().empty()) {
    if (const char* r = CheckChannel(goal.channel_group()); *r) {
      return Bad("goal.channel_group", r);
    }
    if (!goal.channel().empty()) {
      return Bad("goal.channel_group",
                 "give a channel or a channel group, not both");
    }
  }
  if (!goal.owner().empty()) {
    if (const char* r = CheckChannel(goal.owner()); *r) {
      return Bad("goal.owner", r);
    }
  }
  if (!goal.business_figure().empty()) {
    if (!goal.metric().empty() || !goal.channel().empty() ||
        !goal.channel_group().empty()) {
      return Bad("goal.business_figure",
                 "a goal on a business figure has no metric, channel or "
                 "channel_group");
    }
    ASSIGN_OR_RETURN(std::vector<StoredSeries> figures,
                     ReadBusinessFigures(store_, request.workspace()));
    if (std::none_of(figures.begin(), figures.end(), [&](const auto& f) {
          return f.definition.name() == goal.business_figure();
        })) {
      return Bad("goal.business_figure",
                 absl::StrCat("no series \"", goal.business_figure(),
                              "\" (RecordBusinessFigures)"));
    }
  } else if (!MetricByName(goal.metric())) {
    std::vector<std::string> names;
    for (int i = 0; i < kMetricCount; ++i) {
      names.push_back(Info(static_cast<MetricId>(i)).name);
    }
    return Bad("goal.metric",
               absl::StrCat("unknown metric \"", goal.metric(), "\"; one of ",
                            absl::StrJoin(names, ", ")));
  }
  if (!std::isfinite(goal.target()))
    return Bad("goal.target", "must be finite");
  TimeRange period;
  RETURN_IF_ERROR(ParsePeriod(goal.period(), "goal.period", &period));
  ASSIGN_OR_RETURN(std::vector<v1::BusinessGoal> goals,
                   ReadGoals(request.workspace()));
  const bool exists = std::any_of(
      goals.begin(), goals.end(),
      [&](const v1::BusinessGoal& g) { return g.name() == goal.name(); });
  if (!exists && goals.size() >= static_cast<size_t>(kMaxGoals)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("goal: the workspace has ", kMaxGoals,
                     " goals, the limit; delete one first"));
  }
  RETURN_IF_ERROR(store_.PutMeta(request.workspace(),
                                 absl::StrCat(kGoalPrefix, goal.name()),
                                 goal.SerializeAsString()));
  *response = goal;
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ReportServiceImpl::SetGoal(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::SetGoalRequest, v1::BusinessGoal>(
      context, request_bytes, response_bytes, /*on_pool=*/false, Role::kWriter,
      [](const v1::SetGoalRequest& r) { return r.workspace(); },
      [this, context](const v1::SetGoalRequest* request,
                      v1::BusinessGoal* response) -> absl::Status {
        return ([&] { return SetGoalImpl(*request, response); })();
      });
}

grpc::ServerUnaryReactor* ReportServiceImpl::DeleteGoal(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::DeleteGoalRequest, v1::DeleteGoalResponse>(
      context, request_bytes, response_bytes, /*on_pool=*/false, Role::kWriter,
      [](const v1::DeleteGoalRequest& r) { return r.workspace(); },
      [this, context](const v1::DeleteGoalRequest* request,
                      v1::DeleteGoalResponse* response) -> absl::Status {
        return ([&]() -> absl::Status {
          RETURN_IF_ERROR(ValidateWorkspace(request->workspace()));
          RETURN_IF_ERROR(ValidateWorkspace(request->name(), "name"));
          const std::string name = absl::StrCat(kGoalPrefix, request->name());
          ASSIGN_OR_RETURN(auto found,
                           store_.ReadMeta(request->workspace(), name));
          const bool exists = std::any_of(
              found.begin(), found.end(),
              [&](const auto& entry) { return entry.first == name; });
          if (exists)
            RETURN_IF_ERROR(store_.PutMeta(request->workspace(), name, ""));
          response->set_deleted(exists);
          return absl::OkStatus();
        })();
      });
}

absl::Status ReportServiceImpl::SetChannelGroupImpl(
    const v1::SetChannelGroupRequest& request, v1::ChannelGroup* response) {
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  const v1::ChannelGroup& group = request.group();
  if (const char* r = CheckChannel(group.name()); *r) {
    return Bad("group.name", r);
  }
  if (group.name() == "(excluded)") return Bad("group.name", "is reserved");
  if (group.channels().empty()) {
    return Bad("group.channels", "at least one channel");
  }
  if (group.channels_size() > kMaxChannelsPerGroup) {
    return Bad("group.channels",
               absl::StrCat(group.channels_size(), " channels; at most ",
                            kMaxChannelsPerGroup));
  }
  std::set<std::string> channels;
  for (int i = 0; i < group.channels_size(); ++i) {
    const std::string field = absl::StrCat("group.channels[", i, "]");
    if (const char* r = CheckChannel(group.channels(i)); *r) {
      return Bad(field, r);
    }
    if (!channels.insert(group.channels(i)).second) {
      return Bad(field,
                 absl::StrCat("\"", group.channels(i), "\" is listed twice"));
    }
  }
  ASSIGN_OR_RETURN(std::vector<ChannelGroup> assigned,
                   ReadAssignedGroups(store_, request.workspace()));
  const bool exists = std::any_of(
      assigned.begin(), assigned.end(),
      [&](const ChannelGroup& g) { return g.name == group.name(); });
  if (!exists && assigned.size() >= static_cast<size_t>(kMaxAssignedGroups)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("group: the workspace has ", kMaxAssignedGroups,
                     " groups of its own, the limit; delete one first"));
  }
  // The latest assignment wins: the channels leave the workspace's other
  // groups (a group left empty is removed).
  for (const ChannelGroup& g : assigned) {
    if (g.name == group.name()) continue;
    v1::ChannelGroup kept;
    kept.set_name(g.name);
    for (const std::string& c : g.channels) {
      if (!channels.contains(c)) kept.add_channels(c);
    }
    if (kept.channels_size() == static_cast<int>(g.channels.size())) continue;
    RETURN_IF_ERROR(store_.PutMeta(
        request.workspace(), absl::StrCat(kChannelGroupPrefix, g.name),
        kept.channels().empty() ? std::string() : kept.SerializeAsString()));
  }
  response->set_name(group.name());
  for (const std::string& c : channels) response->add_channels(c);
  response->set_assigned(true);
  return store_.PutMeta(request.workspace(),
                        absl::StrCat(kChannelGroupPrefix, group.name()),
                        response->SerializeAsString());
}

grpc::ServerUnaryReactor* ReportServiceImpl::SetChannelGroup(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::SetChannelGroupRequest, v1::ChannelGroup>(
      context, request_bytes, response_bytes, /*on_pool=*/false, Role::kWriter,
      [](const v1::SetChannelGroupRequest& r) { return r.workspace(); },
      [this](const v1::SetChannelGroupRequest* request,
             v1::ChannelGroup* response) {
        return SetChannelGroupImpl(*request, response);
      });
}

grpc::ServerUnaryReactor* ReportServiceImpl::DeleteChannelGroup(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::DeleteChannelGroupRequest, v1::DeleteChannelGroupResponse>(
      context, request_bytes, response_bytes, /*on_pool=*/false, Role::kWriter,
      [](const v1::DeleteChannelGroupRequest& r) { return r.workspace(); },
      [this](const v1::DeleteChannelGroupRequest* request,
             v1::DeleteChannelGroupResponse*) -> absl::Status {
        RETURN_IF_ERROR(ValidateWorkspace(request->workspace()));
        if (const char* r = CheckChannel(request->name()); *r) {
          return Bad("name", r);
        }
        ASSIGN_OR_RETURN(std::vector<ChannelGroup> assigned,
                         ReadAssignedGroups(store_, request->workspace()));
        if (std::none_of(assigned.begin(), assigned.end(),
                         [&](const ChannelGroup& g) {
                           return g.name == request->name();
                         })) {
          return absl::NotFoundError(
              absl::StrCat("name: the workspace assigned no group \"",
                           request->name(), "\""));
        }
        return store_.PutMeta(
            request->workspace(),
            absl::StrCat(kChannelGroupPrefix, request->name()), "");
      });
}

absl::Status ReportServiceImpl::ListChannelGroupsImpl(
    const v1::ListChannelGroupsRequest& request,
    v1::ListChannelGroupsResponse* response) {
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  ASSIGN_OR_RETURN(std::vector<ChannelGroup> assigned,
                   ReadAssignedGroups(store_, request.workspace()));
  std::set<std::string> assigned_names;
  for (const ChannelGroup& g : assigned) assigned_names.insert(g.name);
  const ChannelGrouping grouping(assigned);
  const WorkspaceSummary summary = store_.Describe(request.workspace());
  for (const ChannelGroup& g : grouping.Groups(summary.channels)) {
    v1::ChannelGroup* out = response->add_groups();
    out->set_name(g.name);
    for (const std::string& c : g.channels) out->add_channels(c);
    out->set_assigned(assigned_names.contains(g.name));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ReportServiceImpl::ListChannelGroups(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::ListChannelGroupsRequest, v1::ListChannelGroupsResponse>(
      context, request_bytes, response_bytes, /*on_pool=*/false, Role::kReader,
      [](const v1::ListChannelGroupsRequest& r) { return r.workspace(); },
      [this](const v1::ListChannelGroupsRequest* request,
             v1::ListChannelGroupsResponse* response) {
        return ListChannelGroupsImpl(*request, response);
      });
}

absl::Status ReportServiceImpl::GoalsProgress(
    grpc::CallbackServerContext* context, absl::string_view workspace,
    const v1::WorkspaceSettings& settings, const TimeRange* only_overlapping,
    google::protobuf::RepeatedPtrField<v1::GoalProgress>* out,
    absl::string_view owner) {
  ASSIGN_OR_RETURN(std::vector<v1::BusinessGoal> goals, ReadGoals(workspace));
  if (!owner.empty()) {
    goals.erase(std::remove_if(goals.begin(), goals.end(),
                               [&](const v1::BusinessGoal& g) {
                                 return g.owner() != owner;
                               }),
                goals.end());
  }
  std::vector<StoredSeries> figures;
  if (std::any_of(goals.begin(), goals.end(), [](const v1::BusinessGoal& g) {
        return !g.business_figure().empty();
      })) {
    ASSIGN_OR_RETURN(figures, ReadBusinessFigures(store_, workspace));
  }
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  std::vector<v1::BusinessGoal> chosen;
  std::vector<TimeRange> periods;  // Each goal's period, measured to today.
  std::vector<TimeRange> full;
  for (v1::BusinessGoal& g : goals) {
    TimeRange p;
    if (!ParsePeriod(g.period(), "goal.period", &p).ok()) continue;
    if (only_overlapping != nullptr &&
        (p.end_us <= only_overlapping->start_us ||
         p.start_us >= only_overlapping->end_us)) {
      continue;
    }
    full.push_back(p);
    periods.push_back(
        {p.start_us, std::max(p.start_us + 1, GoalMeasuredEnd(p, now))});
    chosen.push_back(std::move(g));
  }
  if (chosen.empty()) return absl::OkStatus();
  ReportOptions o;
  v1::ModelSpec unused_model;
  google::protobuf::Duration unused_lookback;
  RETURN_IF_ERROR(Prepare(context, workspace, settings, nullptr, nullptr,
                          &unused_model, &unused_lookback, &o));
  o.now_us = now;
  // The report's figures, by channel and by channel group, only if a goal
  // needs them (goals on business figures read their series alone).
  auto any = [&](auto pred) {
    return std::any_of(chosen.begin(), chosen.end(), pred);
  };
  TallyResult tallies, grouped;
  if (any([](const v1::BusinessGoal& g) {
        return g.business_figure().empty() && g.channel_group().empty();
      })) {
    RETURN_IF_ERROR(WithData(
        workspace, settings, FirstDay(periods), EndDay(periods), nullptr,
        [&](const IndexSnapshot* index, const std::vector<SpendRow>& spend) {
          tallies = TallyPeriods(index, periods, spend, o);
        }));
    if (tallies.cancelled) return Stopped(context);
  }
  if (any([](const v1::BusinessGoal& g) {
        return !g.channel_group().empty();
      })) {
    ASSIGN_OR_RETURN(ChannelGrouping grouping,
                     LoadChannelGrouping(store_, workspace));
    RETURN_IF_ERROR(WithData(
        workspace, settings, FirstDay(periods), EndDay(periods), nullptr,
        [&](const IndexSnapshot* index, const std::vector<SpendRow>& spend) {
          grouped = TallyPeriods(index, periods, spend, o);
        },
        &grouping));
    if (grouped.cancelled) return Stopped(context);
  }
  for (size_t i = 0; i < chosen.size(); ++i) {
    const v1::BusinessGoal& goal = chosen[i];
    const bool started = now >= full[i].start_us;
    std::optional<double> actual;
    GoalProgress p;
    if (!goal.business_figure().empty()) {
      const StoredSeries* series = nullptr;
      for (const StoredSeries& f : figures) {
        if (f.definition.name() == goal.business_figure()) series = &f;
      }
      if (series != nullptr && started) {
        actual = AggregateFigure(
            series->values, AggregationOf(series->definition),
            DayOf(periods[i].start_us), DayOf(periods[i].end_us));
      }
      p = EvaluateGoalWith(
          series == nullptr ? Polarity::kUpIsGood
                            : PolarityOf(series->definition),
          series == nullptr ||
              AggregationOf(series->definition) == FigureAggregation::kSum,
          goal.target(), full[i], actual, now);
    } else {
      const MetricId metric = *MetricByName(goal.metric());
      const bool by_group = !goal.channel_group().empty();
      const PeriodTally& t = (by_group ? grouped : tallies).periods[i];
      const std::string& group =
          by_group ? goal.channel_group() : goal.channel();
      const Tally none;
      const Tally* tally = &t.total;
      if (!group.empty()) {
        auto it = t.groups.find({group, ""});
        tally = it == t.groups.end() ? &none : &it->second;
      }
      if (started) {
        actual = Derive(*tally, o.gross_margin)[static_cast<int>(metric)];
      }
      p = EvaluateGoal(metric, goal.target(), full[i], actual, now);
    }
    v1::GoalProgress* g = out->Add();
    *g->mutable_goal() = std::move(chosen[i]);
    if (p.actual) g->set_actual(*p.actual);
    if (p.expected_to_date) g->set_expected_to_date(*p.expected_to_date);
    g->set_elapsed(p.elapsed);
    g->set_status(StatusToProto(p.status));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ReportServiceImpl::ListGoals(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::ListGoalsRequest, v1::ListGoalsResponse>(
      context, request_bytes, response_bytes, /*on_pool=*/true, Role::kReader,
      [](const v1::ListGoalsRequest& r) { return r.workspace(); },
      [this, context](const v1::ListGoalsRequest* request,
                      v1::ListGoalsResponse* response) -> absl::Status {
        return ([&]() -> absl::Status {
          RETURN_IF_ERROR(ValidateWorkspace(request->workspace()));
          ASSIGN_OR_RETURN(v1::WorkspaceSettings settings,
                           settings_.Get(request->workspace()));
          if (!request->owner().empty()) {
            if (const char* r = CheckChannel(request->owner()); *r) {
              return Bad("owner", r);
            }
          }
          return GoalsProgress(context, request->workspace(), settings, nullptr,
                               response->mutable_goals(), request->owner());
        })();
      });
}

// The period of a request with period, compare and no_comparison, then its
// comparison period unless no_comparison: the one given, or the default
// (written to `applied_compare`).
template <typename Request>
absl::Status ParsePeriods(const Request& request,
                          v1::ReportPeriod* applied_compare,
                          std::vector<TimeRange>* periods) {
  periods->resize(1);
  RETURN_IF_ERROR(ParsePeriod(request.period(), "period", &(*periods)[0]));
  if (request.no_comparison()) {
    if (request.has_compare()) {
      return Bad("compare", "is not allowed with no_comparison");
    }
  } else if (request.has_compare()) {
    RETURN_IF_ERROR(
        ParsePeriod(request.compare(), "compare", &periods->emplace_back()));
  } else {
    periods->push_back(DefaultComparison((*periods)[0]));
    PeriodToProto((*periods)[1], applied_compare);
  }
  return absl::OkStatus();
}

// --- Conversation ------------------------------------------------------------

// The ConversationReport rows of `mentions` over periods[0] (compared with
// periods[1] when there is one).
void ConversationToProto(const std::vector<v1::Mention>& mentions,
                         const std::vector<TimeRange>& periods,
                         v1::ConversationReportResponse* out) {
  using Key = std::pair<std::string, std::string>;
  std::vector<std::map<Key, ConversationTally>> tallies(periods.size());
  std::vector<std::map<std::string, int64_t>> all(periods.size());
  for (size_t p = 0; p < periods.size(); ++p) {
    TallyConversation(mentions, periods[p], &tallies[p], &all[p]);
  }
  std::set<Key> keys;
  for (const auto& t : tallies) {
    for (const auto& [key, tally] : t) keys.insert(key);
  }
  // Own brand ("") sorts first, then competitors; "" channel first.
  int64_t best = 0;
  for (const auto& [key, tally] : tallies[0]) {
    if (!key.first.empty() && key.second.empty() && tally.mentions > best) {
      best = tally.mentions;
      out->set_largest_competitor(key.first);
    }
  }
  // Polarity of each figure, for the own brand (competitors: neutral).
  constexpr Polarity kPolarity[] = {
      Polarity::kUpIsGood, Polarity::kUpIsGood,   Polarity::kUpIsGood,
      Polarity::kNeutral,  Polarity::kDownIsGood, Polarity::kNeutral,
      Polarity::kUpIsGood, Polarity::kDownIsGood};
  constexpr bool kRate[] = {false, true, true, true, true, false, true, false};
  const ConversationTally none;
  for (const Key& key : keys) {
    v1::ConversationRow* row = out->add_rows();
    row->set_brand(key.first);
    row->set_channel(key.second);
    auto figures_in = [&](size_t p) {
      auto it = tallies[p].find(key);
      auto a = all[p].find(key.second);
      return ConversationFigures(it == tallies[p].end() ? none : it->second,
                                 a == all[p].end() ? 0 : a->second);
    };
    const std::vector<std::optional<double>> now = figures_in(0);
    std::vector<std::optional<double>> before(now.size());
    if (periods.size() > 1) before = figures_in(1);
    v1::Metric* metrics[] = {
        row->mutable_mentions(),       row->mutable_share_of_voice(),
        row->mutable_positive_share(), row->mutable_neutral_share(),
        row->mutable_negative_share(), row->mutable_questions(),
        row->mutable_answered_share(), row->mutable_median_seconds_to_answer()};
    for (size_t f = 0; f < now.size(); ++f) {
      ComparisonToProto(
          CompareWith(key.first.empty() ? kPolarity[f] : Polarity::kNeutral,
                      kRate[f], now[f], before[f]),
          metrics[f]);
    }
  }
}

// --- ChannelReport ---------------------------------------------------------

absl::Status ReportServiceImpl::ChannelReportImpl(
    grpc::CallbackServerContext* context,
    const v1::ChannelReportRequest& request,
    v1::ChannelReportResponse* response) {
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  v1::ChannelReportRequest* applied = response->mutable_request();
  *applied = request;
  ASSIGN_OR_RETURN(v1::WorkspaceSettings settings,
                   settings_.Get(request.workspace()));
  std::vector<TimeRange> periods;
  RETURN_IF_ERROR(ParsePeriods(request, applied->mutable_compare(), &periods));
  ReportOptions o;
  RETURN_IF_ERROR(
      Prepare(context, request.workspace(), settings,
              request.has_model() ? &request.model() : nullptr,
              request.has_lookback() ? &request.lookback() : nullptr,
              applied->mutable_model(), applied->mutable_lookback(), &o));
  std::optional<ChannelGrouping> grouping;
  v1::GroupBy applied_group_by;
  RETURN_IF_ERROR(ParseGroupBy(request.group_by(), /*campaigns_allowed=*/true,
                               request.workspace(), &o, &grouping,
                               &applied_group_by));
  applied->set_group_by(applied_group_by);
  if (request.has_intervals()) {
    RETURN_IF_ERROR(ParseIntervals(request.intervals(), "intervals",
                                   applied->mutable_intervals(),
                                   &o.intervals.emplace()));
  }
  TallyResult tallies;
  std::string currency;
  RETURN_IF_ERROR(WithData(
      request.workspace(), settings, FirstDay(periods), EndDay(periods),
      &currency,
      [&](const IndexSnapshot* index, const std::vector<SpendRow>& spend) {
        tallies = TallyPeriods(index, periods, spend, o);
      },
      grouping ? &*grouping : nullptr));
  if (tallies.cancelled) return Stopped(context);
  response->set_currency(currency);
  response->set_gross_margin(o.gross_margin);
  SetDuration(o.horizon_us, response->mutable_retention_horizon());
  SetChurnRule(tallies.churn_events, o.lapse_us, response);
  const PeriodTally& now = tallies.periods[0];
  const PeriodTally* before =
      tallies.periods.size() > 1 ? &tallies.periods[1] : nullptr;
  if (before != nullptr && HoldsNothing(before->total)) {
    response->set_comparison_empty(true);
    before = nullptr;  // Nothing to compare with, rather than zeros.
  }
  std::set<GroupName> names;
  for (const auto& [name, t] : now.groups) names.insert(name);
  if (before != nullptr) {
    for (const auto& [name, t] : before->groups) names.insert(name);
  }
  const Tally empty;
  for (const GroupName& name : names) {
    v1::ChannelRow* row = response->add_channels();
    row->set_channel(name.first);
    row->set_campaign(name.second);
    auto it = now.groups.find(name);
    const Figures current =
        Derive(it == now.groups.end() ? empty : it->second, o.gross_margin);
    if (before == nullptr) {
      FiguresToProto(current, nullptr, row->mutable_figures());
    } else {
      auto prev_it = before->groups.find(name);
      const Figures previous =
          Derive(prev_it == before->groups.end() ? empty : prev_it->second,
                 o.gross_margin);
      FiguresToProto(current, &previous, row->mutable_figures());
    }
    if (o.intervals.has_value()) {
      auto range = tallies.intervals.find(name);
      RangeToProto(
          range == tallies.intervals.end() ? CreditRange() : range->second,
          current[static_cast<int>(MetricId::kSpend)], row->mutable_figures());
    }
  }
  if (o.model.kind == ModelKind::kIncremental) {
    const std::initializer_list<MetricId> credited = {
        MetricId::kLeads, MetricId::kNewCustomers, MetricId::kRevenue};
    const Figures base = Derive(BaselineOf(now), o.gross_margin);
    v1::ChannelFigures* out = response->mutable_baseline();
    if (before == nullptr) {
      FiguresToProto(base, nullptr, out, credited);
    } else {
      const Figures previous = Derive(BaselineOf(*before), o.gross_margin);
      FiguresToProto(base, &previous, out, credited);
    }
    if (tallies.baseline_interval.has_value()) {
      RangeToProto(*tallies.baseline_interval, std::nullopt, out);
    }
  }
  const Figures total = Derive(now.total, o.gross_margin);
  if (before == nullptr) {
    FiguresToProto(total, nullptr, response->mutable_total());
  } else {
    const Figures previous = Derive(before->total, o.gross_margin);
    FiguresToProto(total, &previous, response->mutable_total());
  }
  // Business figures, each with its own direction.
  ASSIGN_OR_RETURN(std::vector<StoredSeries> figures,
                   ReadBusinessFigures(store_, request.workspace()));
  for (const StoredSeries& series : figures) {
    v1::BusinessFigureRow* row = response->add_business_figures();
    row->set_name(series.definition.name());
    row->set_unit(series.definition.unit());
    row->set_good_when(series.definition.good_when());
    row->set_aggregation(series.definition.aggregation());
    auto value_in = [&](const TimeRange& p) {
      return AggregateFigure(series.values, AggregationOf(series.definition),
                             DayOf(p.start_us), DayOf(p.end_us));
    };
    ComparisonToProto(
        CompareWith(PolarityOf(series.definition), /*rate=*/false,
                    value_in(periods[0]),
                    periods.size() > 1 ? value_in(periods[1]) : std::nullopt),
        row->mutable_figure());
  }
  ASSIGN_OR_RETURN(std::vector<v1::Mention> mentions,
                   ReadMentions(store_, request.workspace()));
  if (!mentions.empty()) {
    v1::ConversationReportResponse conversation;
    ConversationToProto(mentions, periods, &conversation);
    for (const v1::ConversationRow& row : conversation.rows()) {
      if (!row.channel().empty() || !row.mentions().has_value() ||
          row.mentions().value() == 0) {
        continue;
      }
      if (row.brand().empty()) {
        *response->mutable_own_conversation() = row;
      } else if (row.brand() == conversation.largest_competitor()) {
        *response->mutable_largest_competitor_conversation() = row;
      }
    }
  }
  return GoalsProgress(context, request.workspace(), settings, &periods[0],
                       response->mutable_goals());
}

grpc::ServerUnaryReactor* ReportServiceImpl::RecordMentions(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::RecordMentionsRequest, v1::RecordMentionsResponse>(
      context, request_bytes, response_bytes, /*on_pool=*/false, Role::kWriter,
      [](const v1::RecordMentionsRequest& r) { return r.workspace(); },
      [this](const v1::RecordMentionsRequest* request,
             v1::RecordMentionsResponse* response) -> absl::Status {
        RETURN_IF_ERROR(ValidateWorkspace(request->workspace()));
        ASSIGN_OR_RETURN(*response, attribution::api::RecordMentions(
                                        store_, *request, clock_.Now(),
                                        options_.max_batch_events));
        return absl::OkStatus();
      });
}

absl::Status ReportServiceImpl::ConversationReportImpl(
    const v1::ConversationReportRequest& request,
    v1::ConversationReportResponse* response) {
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  v1::ConversationReportRequest* applied = response->mutable_request();
  *applied = request;
  std::vector<TimeRange> periods;
  RETURN_IF_ERROR(ParsePeriods(request, applied->mutable_compare(), &periods));
  ASSIGN_OR_RETURN(std::vector<v1::Mention> mentions,
                   ReadMentions(store_, request.workspace()));
  ConversationToProto(mentions, periods, response);
  int64_t unanswered = 0;
  for (const v1::Mention& m : mentions) {
    unanswered += m.brand().empty() && m.is_question() && !m.has_answered_at();
  }
  response->set_unanswered_questions(unanswered);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ReportServiceImpl::ConversationReport(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::ConversationReportRequest, v1::ConversationReportResponse>(
      context, request_bytes, response_bytes, /*on_pool=*/true, Role::kReader,
      [](const v1::ConversationReportRequest& r) { return r.workspace(); },
      [this](const v1::ConversationReportRequest* request,
             v1::ConversationReportResponse* response) {
        return ConversationReportImpl(*request, response);
      });
}

grpc::ServerUnaryReactor* ReportServiceImpl::ListUnansweredQuestions(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::ListUnansweredQuestionsRequest,
               v1::ListUnansweredQuestionsResponse>(
      context, request_bytes, response_bytes, /*on_pool=*/true, Role::kReader,
      [](const v1::ListUnansweredQuestionsRequest& r) { return r.workspace(); },
      [this](const v1::ListUnansweredQuestionsRequest* request,
             v1::ListUnansweredQuestionsResponse* response) -> absl::Status {
        RETURN_IF_ERROR(ValidateWorkspace(request->workspace()));
        if (request->page_size() < 0 || request->page_size() > 1000) {
          return Bad("page_size", "must be 0 to 1000");
        }
        const size_t page =
            request->page_size() == 0 ? 100 : request->page_size();
        // The token is the last question's (seconds, nanos, id).
        std::tuple<int64_t, int32_t, std::string> after;
        const bool has_after = !request->page_token().empty();
        if (has_after) {
          std::vector<std::string> parts =
              absl::StrSplit(request->page_token(), absl::MaxSplits('/', 2));
          if (parts.size() != 3 ||
              !absl::SimpleAtoi(parts[0], &std::get<0>(after)) ||
              !absl::SimpleAtoi(parts[1], &std::get<1>(after))) {
            return Bad("page_token", "is not a token of this call");
          }
          std::get<2>(after) = parts[2];
        }
        ASSIGN_OR_RETURN(std::vector<v1::Mention> mentions,
                         ReadMentions(store_, request->workspace()));
        using Pos = std::tuple<int64_t, int32_t, std::string>;
        auto pos = [](const v1::Mention& m) {
          return Pos{m.occurred_at().seconds(), m.occurred_at().nanos(),
                     m.mention_id()};
        };
        std::vector<const v1::Mention*> open;
        for (const v1::Mention& m : mentions) {
          if (m.brand() == request->brand() && m.is_question() &&
              !m.has_answered_at() && (!has_after || pos(m) > after)) {
            open.push_back(&m);
          }
        }
        std::sort(open.begin(), open.end(),
                  [&](const v1::Mention* a, const v1::Mention* b) {
                    return pos(*a) < pos(*b);
                  });
        for (size_t i = 0; i < open.size() && i < page; ++i) {
          *response->add_questions() = *open[i];
        }
        if (open.size() > page) {
          const v1::Mention& last = *open[page - 1];
          response->set_next_page_token(
              absl::StrCat(last.occurred_at().seconds(), "/",
                           last.occurred_at().nanos(), "/", last.mention_id()));
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ReportServiceImpl::RecordBusinessFigures(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::RecordBusinessFiguresRequest,
               v1::RecordBusinessFiguresResponse>(
      context, request_bytes, response_bytes, /*on_pool=*/false, Role::kWriter,
      [](const v1::RecordBusinessFiguresRequest& r) { return r.workspace(); },
      [this](const v1::RecordBusinessFiguresRequest* request,
             v1::RecordBusinessFiguresResponse* response) -> absl::Status {
        RETURN_IF_ERROR(ValidateWorkspace(request->workspace()));
        ASSIGN_OR_RETURN(*response,
                         attribution::api::RecordBusinessFigures(
                             store_, *request, options_.max_batch_events));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ReportServiceImpl::ChannelReport(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::ChannelReportRequest, v1::ChannelReportResponse>(
      context, request_bytes, response_bytes, /*on_pool=*/true, Role::kReader,
      [](const v1::ChannelReportRequest& r) { return r.workspace(); },
      [this, context](const v1::ChannelReportRequest* request,
                      v1::ChannelReportResponse* response) -> absl::Status {
        return (
            [&] { return ChannelReportImpl(context, *request, response); })();
      });
}

// --- CashFlow --------------------------------------------------------------

absl::Status ReportServiceImpl::CashFlowImpl(
    grpc::CallbackServerContext* context, const v1::CashFlowRequest& request,
    v1::CashFlowResponse* response) {
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  v1::CashFlowRequest* applied = response->mutable_request();
  *applied = request;
  ASSIGN_OR_RETURN(v1::WorkspaceSettings settings,
                   settings_.Get(request.workspace()));
  TimeRange period;
  RETURN_IF_ERROR(ParsePeriod(request.period(), "period", &period));
  bool weekly = false;
  switch (request.granularity()) {
    case v1::GRANULARITY_UNSPECIFIED:
    case v1::GRANULARITY_DAY:
      applied->set_granularity(v1::GRANULARITY_DAY);
      break;
    case v1::GRANULARITY_WEEK:
      weekly = true;
      break;
    default:
      return Bad("granularity", "must be GRANULARITY_DAY or GRANULARITY_WEEK");
  }
  ReportOptions o;
  RETURN_IF_ERROR(
      Prepare(context, request.workspace(), settings,
              request.has_model() ? &request.model() : nullptr,
              request.has_lookback() ? &request.lookback() : nullptr,
              applied->mutable_model(), applied->mutable_lookback(), &o));
  std::optional<ChannelGrouping> grouping;
  v1::GroupBy applied_group_by;
  RETURN_IF_ERROR(ParseGroupBy(request.group_by(), /*campaigns_allowed=*/false,
                               request.workspace(), &o, &grouping,
                               &applied_group_by));
  applied->set_group_by(applied_group_by);
  CashFlowResult flow;
  std::string currency;
  RETURN_IF_ERROR(WithData(
      request.workspace(), settings, DayOf(period.start_us),
      DayOf(period.end_us), &currency,
      [&](const IndexSnapshot* index, const std::vector<SpendRow>& spend) {
        flow = ComputeCashFlow(index, period, weekly, spend, o);
      },
      grouping ? &*grouping : nullptr));
  if (flow.cancelled) return Stopped(context);
  response->set_currency(currency);
  auto series_to_proto = [&](const CashFlowSeries& s, v1::CashFlowSeries* out) {
    out->set_channel(s.channel);
    double running = 0;
    for (size_t b = 0; b < flow.bucket_start_days.size(); ++b) {
      v1::CashFlowPoint* point = out->add_points();
      TimeToProto(flow.bucket_start_days[b] * kDayUs, point->mutable_start());
      point->set_revenue_in(s.revenue[b]);
      point->set_spend_out(s.spend[b]);
      point->set_net(s.revenue[b] - s.spend[b]);
      running += s.revenue[b] - s.spend[b];
      point->set_running_net(running);
    }
  };
  for (const CashFlowSeries& s : flow.channels) {
    series_to_proto(s, response->add_channels());
  }
  series_to_proto(flow.total, response->mutable_total());
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ReportServiceImpl::CashFlow(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::CashFlowRequest, v1::CashFlowResponse>(
      context, request_bytes, response_bytes, /*on_pool=*/true, Role::kReader,
      [](const v1::CashFlowRequest& r) { return r.workspace(); },
      [this, context](const v1::CashFlowRequest* request,
                      v1::CashFlowResponse* response) -> absl::Status {
        return ([&] { return CashFlowImpl(context, *request, response); })();
      });
}

// --- RetentionCohorts ------------------------------------------------------

absl::Status ReportServiceImpl::CohortsImpl(
    grpc::CallbackServerContext* context,
    const v1::RetentionCohortsRequest& request,
    v1::RetentionCohortsResponse* response) {
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  v1::RetentionCohortsRequest* applied = response->mutable_request();
  *applied = request;
  ASSIGN_OR_RETURN(v1::WorkspaceSettings settings,
                   settings_.Get(request.workspace()));
  TimeRange period;
  RETURN_IF_ERROR(ParsePeriod(request.period(), "period", &period));
  bool weekly = false;
  switch (request.granularity()) {
    case v1::GRANULARITY_UNSPECIFIED:
    case v1::GRANULARITY_MONTH:
      applied->set_granularity(v1::GRANULARITY_MONTH);
      break;
    case v1::GRANULARITY_WEEK:
      weekly = true;
      break;
    default:
      return Bad("granularity",
                 "must be GRANULARITY_MONTH or GRANULARITY_WEEK");
  }
  std::vector<int32_t> horizons(request.horizon_days().begin(),
                                request.horizon_days().end());
  if (horizons.empty()) {
    horizons = {30, 60, 90, 180, 365};
    for (int32_t h : horizons) applied->add_horizon_days(h);
  }
  if (horizons.size() > static_cast<size_t>(kMaxHorizons)) {
    return Bad("horizon_days", absl::StrCat("at most ", kMaxHorizons));
  }
  for (size_t i = 0; i < horizons.size(); ++i) {
    const std::string field = absl::StrCat("horizon_days[", i, "]");
    if (horizons[i] < 1 || horizons[i] > 3650) {
      return Bad(field, "must be 1 to 3650");
    }
    if (i > 0 && horizons[i] <= horizons[i - 1]) {
      return Bad(field, "must be ascending");
    }
  }
  ReportOptions o;
  RETURN_IF_ERROR(
      Prepare(context, request.workspace(), settings,
              request.has_model() ? &request.model() : nullptr,
              request.has_lookback() ? &request.lookback() : nullptr,
              applied->mutable_model(), applied->mutable_lookback(), &o));
  std::optional<ChannelGrouping> grouping;
  v1::GroupBy applied_group_by;
  RETURN_IF_ERROR(ParseGroupBy(request.group_by(), /*campaigns_allowed=*/false,
                               request.workspace(), &o, &grouping,
                               &applied_group_by));
  applied->set_group_by(applied_group_by);
  CohortResult cohorts;
  std::string currency;
  RETURN_IF_ERROR(WithData(
      request.workspace(), settings, DayOf(period.start_us),
      DayOf(period.end_us), &currency,
      [&](const IndexSnapshot* index, const std::vector<SpendRow>& spend) {
        cohorts = ComputeCohorts(index, period, weekly, horizons, spend, o);
      },
      grouping ? &*grouping : nullptr));
  if (cohorts.cancelled) return Stopped(context);
  SetChurnRule(cohorts.churn_events, o.lapse_us, response);
  response->set_currency(currency);
  response->set_gross_margin(o.gross_margin);
  for (const CohortRow& row : cohorts.rows) {
    v1::Cohort* c = response->add_cohorts();
    TimeToProto(row.start_day * kDayUs, c->mutable_start());
    c->set_channel(row.channel);
    c->set_customers(row.customers);
    c->set_spend(row.spend);
    if (row.cac) c->set_cac(*row.cac);
    for (const CohortHorizonFigures& f : row.horizons) {
      v1::CohortHorizon* h = c->add_horizons();
      h->set_days(f.days);
      h->set_customers_observed(f.observed);
      if (f.retention_rate) h->set_retention_rate(*f.retention_rate);
      if (f.revenue_per_customer) {
        h->set_revenue_per_customer(*f.revenue_per_customer);
      }
      if (f.ltv_to_cac) h->set_ltv_to_cac(*f.ltv_to_cac);
    }
    if (row.payback_days) c->set_payback_days(*row.payback_days);
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ReportServiceImpl::RetentionCohorts(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::RetentionCohortsRequest, v1::RetentionCohortsResponse>(
      context, request_bytes, response_bytes, /*on_pool=*/true, Role::kReader,
      [](const v1::RetentionCohortsRequest& r) { return r.workspace(); },
      [this, context](const v1::RetentionCohortsRequest* request,
                      v1::RetentionCohortsResponse* response) -> absl::Status {
        return ([&] { return CohortsImpl(context, *request, response); })();
      });
}

// --- ReportPage ------------------------------------------------------------

absl::Status ReportServiceImpl::ReportPageImpl(
    grpc::CallbackServerContext* context, const v1::ReportPageRequest& request,
    v1::ReportPageResponse* response) {
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  if (request.credit_models_size() > 3) {
    return Bad("credit_models", "at most 3");
  }
  if (request.title().size() > static_cast<size_t>(page::kMaxTitleBytes)) {
    return Bad("title",
               absl::StrCat("at most ", page::kMaxTitleBytes, " bytes"));
  }
  if (!IsUtf8(request.title())) return Bad("title", "is not valid UTF-8");
  if (!v1::PaperSize_IsValid(request.paper())) {
    return Bad("paper", "is not a known PaperSize");
  }
  if (request.granularity() != v1::GRANULARITY_UNSPECIFIED &&
      request.granularity() != v1::GRANULARITY_DAY &&
      request.granularity() != v1::GRANULARITY_WEEK) {
    return Bad("granularity", "must be GRANULARITY_DAY or GRANULARITY_WEEK");
  }

  // The figures, the comparison and the goals.
  v1::ChannelReportRequest report;
  report.set_workspace(request.workspace());
  *report.mutable_period() = request.period();
  if (request.has_compare()) *report.mutable_compare() = request.compare();
  report.set_no_comparison(request.no_comparison());
  if (request.has_model()) *report.mutable_model() = request.model();
  if (request.has_lookback()) *report.mutable_lookback() = request.lookback();
  report.set_group_by(request.group_by());
  RETURN_IF_ERROR(
      ChannelReportImpl(context, report, response->mutable_channel_report()));
  const v1::ChannelReportRequest& applied =
      response->channel_report().request();

  v1::CashFlowRequest flow;
  flow.set_workspace(request.workspace());
  *flow.mutable_period() = request.period();
  flow.set_granularity(request.granularity() == v1::GRANULARITY_WEEK
                           ? v1::GRANULARITY_WEEK
                           : v1::GRANULARITY_DAY);
  *flow.mutable_model() = applied.model();
  *flow.mutable_lookback() = applied.lookback();
  // Channel groups carry through; campaigns are for the channel figures.
  const v1::GroupBy series_group_by =
      applied.group_by() == v1::GROUP_BY_CHANNEL_GROUP
          ? v1::GROUP_BY_CHANNEL_GROUP
          : v1::GROUP_BY_CHANNEL;
  flow.set_group_by(series_group_by);
  RETURN_IF_ERROR(CashFlowImpl(context, flow, response->mutable_cash_flow()));

  // Cohorts of the 12 calendar months that end with the month holding the
  // period's last day.
  const absl::CivilMonth last_month = absl::CivilMonth(absl::ToCivilSecond(
      absl::FromUnixSeconds(request.period().end().seconds() - 1),
      absl::UTCTimeZone()));
  v1::RetentionCohortsRequest cohorts;
  cohorts.set_workspace(request.workspace());
  // Not before 2000-01-01, the first day a report may start.
  cohorts.mutable_period()->mutable_start()->set_seconds(
      std::max<int64_t>(kMinOccurredAtUs / kSecondUs,
                        absl::ToUnixSeconds(absl::FromCivil(
                            last_month - 11, absl::UTCTimeZone()))));
  cohorts.mutable_period()->mutable_end()->set_seconds(absl::ToUnixSeconds(
      absl::FromCivil(last_month + 1, absl::UTCTimeZone())));
  cohorts.set_granularity(v1::GRANULARITY_MONTH);
  for (int days : {30, 60, 90, 180, 365}) cohorts.add_horizon_days(days);
  *cohorts.mutable_model() = applied.model();
  *cohorts.mutable_lookback() = applied.lookback();
  cohorts.set_group_by(series_group_by);
  RETURN_IF_ERROR(CohortsImpl(context, cohorts, response->mutable_cohorts()));

  // Credited new customers under two or three models.
  v1::AttributeRequest credits;
  credits.set_workspace(request.workspace());
  credits.set_goal(v1::GOAL_ACQUISITION);
  *credits.mutable_window_start() = request.period().start();
  *credits.mutable_window_end() = request.period().end();
  *credits.mutable_lookback() = applied.lookback();
  credits.set_group_by(applied.group_by());
  if (request.credit_models_size() > 0) {
    *credits.mutable_models() = request.credit_models();
  } else {
    std::vector<v1::ModelSpec> models(3);
    models[0].set_model(v1::MODEL_LAST_TOUCH);
    models[1] = applied.model();
    models[2].set_model(v1::MODEL_INCREMENTAL);
    std::set<std::string> seen;
    for (const v1::ModelSpec& m : models) {
      // The report's model once, when it is last touch or incremental.
      if (seen.insert(m.SerializeAsString()).second) {
        *credits.add_models() = m;
      }
    }
  }
  if (!request.no_intervals()) {
    *credits.mutable_intervals() = request.intervals();
  }
  if (absl::Status s =
          auth_.AttributeImpl(context, credits, response->mutable_credits());
      !s.ok()) {
    // Attribute names its own fields: models[i] is credit_models[i] here.
    return absl::Status(
        s.code(),
        absl::StrReplaceAll(s.message(), {{"models[", "credit_models["}}));
  }

  page::PageInput in;
  in.title = request.title().empty()
                 ? absl::StrCat("Marketing report: ", request.workspace())
                 : request.title();
  in.paper = request.paper();
  in.generated_at = clock_.Now();
  in.report = &response->channel_report();
  in.cash_flow = &response->cash_flow();
  in.cohorts = &response->cohorts();
  in.credits = &response->credits();
  response->set_html(page::RenderReportPage(in));
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ReportServiceImpl::ReportPage(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes,
    grpc::ByteBuffer* response_bytes) {
  return Serve<v1::ReportPageRequest, v1::ReportPageResponse>(
      context, request_bytes, response_bytes, /*on_pool=*/true, Role::kReader,
      [](const v1::ReportPageRequest& r) { return r.workspace(); },
      [this, context](const v1::ReportPageRequest* request,
                      v1::ReportPageResponse* response) -> absl::Status {
        return ReportPageImpl(context, *request, response);
      });
}

}  // namespace attribution::api

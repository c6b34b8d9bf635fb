#include "clients/cli/report_view.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "clients/cli/attribution_args.h"
#include "clients/cli/vocabulary.h"
#include "google/protobuf/util/json_util.h"
#include "service/core/report.h"
#include "service/core/status_macros.h"

namespace attribution::cli {
namespace {

using page::ChangeWords;
using page::Customers;
using page::Date;
using page::FormatValue;
using page::MetricOf;
using page::Percent;
using page::Trend;
using page::WithThousands;

absl::Status Bad(absl::string_view flag, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", reason));
}

absl::StatusOr<v1::ReportPeriod> Period(absl::string_view from_flag,
                                        absl::string_view from,
                                        absl::string_view to_flag,
                                        absl::string_view to) {
  if (from.empty()) return Bad(from_flag, "is required (a date, 2026-07-01)");
  if (to.empty()) return Bad(to_flag, "is required (a date, exclusive)");
  v1::ReportPeriod p;
  absl::StatusOr<google::protobuf::Timestamp> start =
      ParseWhen(from_flag, from);
  if (!start.ok()) return start.status();
  absl::StatusOr<google::protobuf::Timestamp> end = ParseWhen(to_flag, to);
  if (!end.ok()) return end.status();
  *p.mutable_start() = *start;
  *p.mutable_end() = *end;
  return p;
}

// Model and lookback, when given.
absl::Status Common(const ReportArgs& a, v1::ModelSpec* model, bool* has_model,
                    google::protobuf::Duration* lookback, bool* has_lookback) {
  *has_model = !a.model.empty();
  if (*has_model) {
    absl::StatusOr<v1::ModelSpec> m = ParseModelFlag(a.model);
    if (!m.ok()) return m.status();
    *model = *m;
  }
  *has_lookback = !a.lookback.empty();
  if (*has_lookback) {
    absl::StatusOr<google::protobuf::Duration> d =
        ParseDurationFlag("lookback", a.lookback);
    if (!d.ok()) return d.status();
    *lookback = *d;
  }
  return absl::OkStatus();
}

template <typename Request>
absl::Status FillCommon(const ReportArgs& a, Request* r) {
  r->set_workspace(a.workspace);
  absl::StatusOr<v1::ReportPeriod> period = Period("from", a.from, "to", a.to);
  if (!period.ok()) return period.status();
  *r->mutable_period() = *period;
  v1::ModelSpec model;
  google::protobuf::Duration lookback;
  bool has_model, has_lookback;
  if (absl::Status s = Common(a, &model, &has_model, &lookback, &has_lookback);
      !s.ok()) {
    return s;
  }
  if (has_model) *r->mutable_model() = model;
  if (has_lookback) *r->mutable_lookback() = lookback;
  return absl::OkStatus();
}

// --granularity of cash flow and the page: day (default) or week.
absl::StatusOr<v1::Granularity> DayOrWeek(absl::string_view given) {
  const std::string g = NormaliseName(given);
  if (g.empty() || g == "day") return v1::GRANULARITY_DAY;
  if (g == "week") return v1::GRANULARITY_WEEK;
  return Bad("granularity", absl::StrCat("\"", given, "\" is not day or week",
                                         DidYouMean(g, {"day", "week"})));
}

// CSV: full precision; empty where undefined.
Cell Raw(bool has, double v) {
  if (!has) return {""};
  return {Shortest(v), true};
}

}  // namespace

absl::StatusOr<v1::ReportPeriod> BuildPeriod(const ReportArgs& args) {
  return Period("from", args.from, "to", args.to);
}

absl::StatusOr<v1::ChannelReportRequest> BuildChannelReportRequest(
    const ReportArgs& a) {
  v1::ChannelReportRequest r;
  if (absl::Status s = FillCommon(a, &r); !s.ok()) return s;
  const std::string compare = NormaliseName(a.compare);
  if (compare == "none") {
    r.set_no_comparison(true);
  } else if (!compare.empty() && compare != "previous") {
    std::vector<std::string> parts = absl::StrSplit(a.compare, "..");
    if (parts.size() != 2) {
      return Bad("compare",
                 "previous, none, or FROM..TO (2025-07-01..2025-10-01)");
    }
    absl::StatusOr<v1::ReportPeriod> p =
        Period("compare", parts[0], "compare", parts[1]);
    if (!p.ok()) return p.status();
    *r.mutable_compare() = *p;
  }
  absl::StatusOr<v1::GroupBy> group_by = ParseGroupBy(a.group_by);
  if (!group_by.ok()) return group_by.status();
  if (*group_by != v1::GROUP_BY_CHANNEL) r.set_group_by(*group_by);
  if (a.intervals) {
    r.mutable_intervals()->set_level(a.level);
    r.mutable_intervals()->set_replicates(a.replicates);
  }
  return r;
}

absl::StatusOr<v1::ReportPageRequest> BuildReportPageRequest(
    const ReportArgs& a) {
  ASSIGN_OR_RETURN(v1::ChannelReportRequest report,
                   BuildChannelReportRequest(a));
  v1::ReportPageRequest r;
  r.set_workspace(report.workspace());
  *r.mutable_period() = report.period();
  if (report.has_compare()) *r.mutable_compare() = report.compare();
  r.set_no_comparison(report.no_comparison());
  if (report.has_model()) *r.mutable_model() = report.model();
  if (report.has_lookback()) *r.mutable_lookback() = report.lookback();
  r.set_group_by(report.group_by());
  ASSIGN_OR_RETURN(const v1::Granularity g, DayOrWeek(a.granularity));
  r.set_granularity(g);
  if (!a.credit_models.empty()) {
    const std::vector<std::string> models = SplitList(a.credit_models);
    if (models.size() > 3) return Bad("credit_models", "at most 3 models");
    for (const std::string& name : models) {
      absl::StatusOr<v1::ModelSpec> m = ParseModelFlag(name);
      if (!m.ok()) return Bad("credit_models", m.status().message());
      *r.add_credit_models() = *m;
    }
  }
  r.set_no_intervals(a.no_intervals);
  if (!a.no_intervals) {
    r.mutable_intervals()->set_level(a.level);
    r.mutable_intervals()->set_replicates(a.replicates);
  }
  const std::string paper = NormaliseName(a.paper);
  if (paper == "letter") {
    r.set_paper(v1::PAPER_SIZE_LETTER);
  } else if (paper.empty() || paper == "a4") {
    r.set_paper(v1::PAPER_SIZE_A4);
  } else {
    return Bad("paper", absl::StrCat("\"", a.paper, "\" is not a4 or letter",
                                     DidYouMean(paper, {"a4", "letter"})));
  }
  r.set_title(a.title);
  return r;
}

absl::StatusOr<v1::CashFlowRequest> BuildCashFlowRequest(const ReportArgs& a) {
  v1::CashFlowRequest r;
  if (absl::Status s = FillCommon(a, &r); !s.ok()) return s;
  ASSIGN_OR_RETURN(const v1::Granularity g, DayOrWeek(a.granularity));
  r.set_granularity(g);
  ASSIGN_OR_RETURN(const v1::GroupBy group_by, ParseGroupBy(a.group_by));
  if (group_by != v1::GROUP_BY_CHANNEL) r.set_group_by(group_by);
  return r;
}

absl::StatusOr<v1::RetentionCohortsRequest> BuildCohortsRequest(
    const ReportArgs& a) {
  v1::RetentionCohortsRequest r;
  if (absl::Status s = FillCommon(a, &r); !s.ok()) return s;
  const std::string g = NormaliseName(a.granularity);
  if (g == "week") {
    r.set_granularity(v1::GRANULARITY_WEEK);
  } else if (g.empty() || g == "month") {
    r.set_granularity(v1::GRANULARITY_MONTH);
  } else {
    return Bad("granularity",
               absl::StrCat("\"", a.granularity, "\" is not month or week",
                            DidYouMean(g, {"month", "week"})));
  }
  for (const std::string& h : SplitList(a.horizons)) {
    int days;
    if (!absl::SimpleAtoi(h, &days)) {
      return Bad("horizon_days", "whole days, comma-separated (30,60,90)");
    }
    r.add_horizon_days(days);
  }
  ASSIGN_OR_RETURN(const v1::GroupBy group_by, ParseGroupBy(a.group_by));
  if (group_by != v1::GROUP_BY_CHANNEL) r.set_group_by(group_by);
  return r;
}

// The channel column of ChannelReportResponse.baseline, as Attribute's
// baseline row in `attribute`.
constexpr char kBaselineRow[] = "(baseline)";
// The channel column of ChannelReportResponse.business_figures.
constexpr char kBusinessRow[] = "(business)";

Table ChannelReportTable(const v1::ChannelReportResponse& r, bool human) {
  Table t;
  const bool by_campaign =
      r.request().group_by() == v1::GROUP_BY_CHANNEL_CAMPAIGN;
  const bool intervals = r.request().has_intervals();
  if (human) {
    t.columns = {"channel",  "figure", "this period",
                 "previous", "change", "trend"};
    if (intervals) {
      t.columns.insert(t.columns.begin() + 3,
                       absl::StrFormat("%g%% interval",
                                       r.request().intervals().level() * 100));
    }
  } else {
    t.columns = {"channel",      "campaign",  "metric",
                 "value",        "previous",  "change",
                 "change_ratio", "direction", "assessment"};
    if (intervals) t.columns.insert(t.columns.begin() + 4, {"low", "high"});
  }
  // The baseline has only its credited figures.
  auto add = [&](const std::string& channel, const std::string& campaign,
                 const v1::ChannelFigures& f, bool only_set = false) {
    int shown = 0;
    for (int i = 0; i < kMetricCount; ++i) {
      const auto id = static_cast<MetricId>(i);
      const v1::Metric& m = MetricOf(f, id);
      if (only_set && !m.has_value()) continue;
      if (!human) {
        std::vector<Cell> row = {{channel},
                                 {campaign},
                                 {Info(id).name},
                                 Raw(m.has_value(), m.value()),
                                 Raw(m.has_previous(), m.previous()),
                                 Raw(m.has_change(), m.change()),
                                 Raw(m.has_change_ratio(), m.change_ratio()),
                                 {EnumWord(m.direction())},
                                 {EnumWord(m.assessment())}};
        if (intervals) {
          row.insert(row.begin() + 4,
                     {Raw(m.has_low(), m.low()), Raw(m.has_high(), m.high())});
        }
        t.rows.push_back(std::move(row));
        continue;
      }
      const std::string change = ChangeWords(id, m, r.currency());
      std::string label = channel == kBaselineRow
                              ? "Would have happened anyway (baseline)"
                              : ChannelLabel(channel);
      if (by_campaign && !channel.empty() && channel != kBaselineRow) {
        label = absl::StrCat(label, " / ",
                             campaign.empty() ? "(no campaign)" : campaign);
      }
      std::string figure = Info(id).label;
      if (Info(id).money && !r.currency().empty()) {
        // "Revenue (EUR)", "Cost per new customer (CAC, EUR)".
        if (figure.back() == ')') {
          figure.insert(figure.size() - 1, absl::StrCat(", ", r.currency()));
        } else {
          absl::StrAppend(&figure, " (", r.currency(), ")");
        }
      }
      std::vector<Cell> row = {
          {shown++ == 0 ? label : ""},
          {figure},
          {m.has_value() ? FormatValue(id, m.value(), r.currency()) : "n/a"},
          {m.has_previous() ? FormatValue(id, m.previous(), r.currency())
           : r.request().no_comparison() ? ""
           : r.comparison_empty()        ? "no data"
                                         : "n/a"},
          {change},
          {Trend(m)}};
      if (intervals) {
        std::string range;
        if (m.has_low() || m.has_high()) {
          range = absl::StrCat(
              m.has_low() ? FormatValue(id, m.low(), r.currency()) : "n/a",
              " to ",
              m.has_high() ? FormatValue(id, m.high(), r.currency())
                           : "no limit");
        }
        row.insert(row.begin() + 3, Cell{range});
      }
      t.rows.push_back(std::move(row));
    }
  };
  add("", "", r.total());
  for (const v1::ChannelRow& row : r.channels()) {
    add(row.channel(), row.campaign(), row.figures());
  }
  if (r.has_baseline()) add(kBaselineRow, "", r.baseline(), true);
  // Business figures: channel "(business)", the series' name as metric.
  int shown = 0;
  for (const v1::BusinessFigureRow& f : r.business_figures()) {
    const v1::Metric& m = f.figure();
    if (!human) {
      std::vector<Cell> row = {{kBusinessRow},
                               {""},
                               {f.name()},
                               Raw(m.has_value(), m.value()),
                               Raw(m.has_previous(), m.previous()),
                               Raw(m.has_change(), m.change()),
                               Raw(m.has_change_ratio(), m.change_ratio()),
                               {EnumWord(m.direction())},
                               {EnumWord(m.assessment())}};
      if (intervals) row.insert(row.begin() + 4, {Cell{""}, Cell{""}});
      t.rows.push_back(std::move(row));
      continue;
    }
    auto amount = [&](double v) {
      return f.unit().empty() ? Shortest(v)
                              : absl::StrCat(Shortest(v), " ", f.unit());
    };
    std::vector<Cell> row = {
        {shown++ == 0 ? "Business figures" : ""},
        {f.name()},
        {m.has_value() ? amount(m.value()) : "n/a"},
        {m.has_previous() ? amount(m.previous()) : ""},
        {m.direction() == v1::DIRECTION_FLAT ? "no real change"
         : m.has_change_ratio()
             ? absl::StrFormat("%+.1f%%", m.change_ratio() * 100)
             : ""},
        {Trend(m)}};
    if (intervals) row.insert(row.begin() + 3, Cell{""});
    t.rows.push_back(std::move(row));
  }
  return t;
}

Table ConversationTable(const v1::ConversationReportResponse& r) {
  Table table;
  table.columns = {"brand",        "channel",   "metric",
                   "value",        "previous",  "change",
                   "change_ratio", "direction", "assessment"};
  for (const v1::ConversationRow& row : r.rows()) {
    const google::protobuf::Descriptor* d = row.GetDescriptor();
    for (int f = 0; f < d->field_count(); ++f) {
      const google::protobuf::FieldDescriptor* fd = d->field(f);
      if (fd->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE) {
        continue;
      }
      const auto& m = static_cast<const v1::Metric&>(
          row.GetReflection()->GetMessage(row, fd));
      table.rows.push_back({{row.brand()},
                            {row.channel()},
                            {fd->name()},
                            Raw(m.has_value(), m.value()),
                            Raw(m.has_previous(), m.previous()),
                            Raw(m.has_change(), m.change()),
                            Raw(m.has_change_ratio(), m.change_ratio()),
                            {EnumWord(m.direction())},
                            {EnumWord(m.assessment())}});
    }
  }
  return table;
}

Table CashFlowTable(const v1::CashFlowResponse& r, bool human) {
  Table t;
  t.columns = {"channel",   "start", "revenue_in",
               "spend_out", "net",   "running_net"};
  if (human && !r.currency().empty()) {
    for (size_t c = 2; c < t.columns.size(); ++c) {
      absl::StrAppend(&t.columns[c], " (", r.currency(), ")");
    }
  }
  auto add = [&](const v1::CashFlowSeries& s) {
    for (const v1::CashFlowPoint& p : s.points()) {
      auto money = [&](double v) -> Cell {
        return human ? Cell{FormatMoney(v, r.currency())} : Raw(true, v);
      };
      t.rows.push_back({{human ? ChannelLabel(s.channel()) : s.channel()},
                        {Date(p.start())},
                        money(p.revenue_in()),
                        money(p.spend_out()),
                        money(p.net()),
                        money(p.running_net())});
    }
  };
  add(r.total());
  for (const v1::CashFlowSeries& s : r.channels()) add(s);
  return t;
}

Table CohortsTable(const v1::RetentionCohortsResponse& r, bool human) {
  Table t;
  t.columns = {"start", "channel", "customers", "spend", "cac", "payback_days"};
  if (human && !r.currency().empty()) {
    t.columns[3] = absl::StrCat("spend (", r.currency(), ")");
    t.columns[4] = absl::StrCat("cac (", r.currency(), ")");
  }
  for (int32_t days : r.request().horizon_days()) {
    t.columns.push_back(absl::StrCat("retention_rate_", days, "d"));
    t.columns.push_back(absl::StrCat("revenue_per_customer_", days, "d"));
    t.columns.push_back(absl::StrCat("ltv_to_cac_", days, "d"));
  }
  const std::string& cur = r.currency();
  for (const v1::Cohort& c : r.cohorts()) {
    std::vector<Cell> row;
    row.push_back({Date(c.start())});
    row.push_back({human ? ChannelLabel(c.channel()) : c.channel()});
    row.push_back(human ? Cell{absl::StrFormat("%.1f", c.customers()), true}
                        : Raw(true, c.customers()));
    if (human) {
      row.push_back({FormatMoney(c.spend(), cur)});
      row.push_back({c.has_cac() ? FormatMoney(c.cac(), cur) : "n/a"});
      row.push_back(
          {c.has_payback_days() ? absl::StrCat(c.payback_days()) : "not yet"});
    } else {
      row.push_back(Raw(true, c.spend()));
      row.push_back(Raw(c.has_cac(), c.cac()));
      row.push_back(Raw(c.has_payback_days(), c.payback_days()));
    }
    for (const v1::CohortHorizon& h : c.horizons()) {
      if (human) {
        row.push_back(
            {h.has_retention_rate() ? Percent(h.retention_rate()) : "n/a"});
        row.push_back({h.has_revenue_per_customer()
                           ? FormatMoney(h.revenue_per_customer(), cur)
                           : "n/a"});
        row.push_back({h.has_ltv_to_cac()
                           ? absl::StrFormat("%.2f", h.ltv_to_cac())
                           : "n/a"});
      } else {
        row.push_back(Raw(h.has_retention_rate(), h.retention_rate()));
        row.push_back(
            Raw(h.has_revenue_per_customer(), h.revenue_per_customer()));
        row.push_back(Raw(h.has_ltv_to_cac(), h.ltv_to_cac()));
      }
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

Table GoalsTable(const google::protobuf::RepeatedPtrField<v1::GoalProgress>& g,
                 absl::string_view currency, bool human) {
  Table t;
  t.columns = {"goal",   "owner",           "channel",          "channel_group",
               "metric", "business_figure", "target",           "from",
               "to",     "actual",          "expected_to_date", "elapsed",
               "status"};
  for (const v1::GoalProgress& p : g) {
    const std::optional<MetricId> id = MetricByName(p.goal().metric());
    auto value = [&](bool has, double v) -> Cell {
      if (!has) return {human ? "n/a" : ""};
      if (human && id) return {FormatValue(*id, v, currency)};
      return Raw(true, v);
    };
    std::string status = EnumWord(p.status());
    if (human) std::replace(status.begin(), status.end(), '_', ' ');
    t.rows.push_back(
        {{p.goal().name()},
         {p.goal().owner()},
         {human && p.goal().channel_group().empty()
              ? ChannelLabel(p.goal().channel())
              : p.goal().channel()},
         {p.goal().channel_group()},
         {human && id ? Info(*id).label : p.goal().metric()},
         {p.goal().business_figure()},
         value(true, p.goal().target()),
         {Date(p.goal().period().start())},
         {Date(p.goal().period().end())},
         value(p.has_actual(), p.actual()),
         value(p.has_expected_to_date(), p.expected_to_date()),
         human ? Cell{Percent(p.elapsed())} : Raw(true, p.elapsed()),
         {status}});
  }
  return t;
}

Table SummaryTable(const std::vector<SummaryLine>& lines) {
  Table t;
  t.columns = {"topic",    "channel", "metric",    "value",
               "previous", "target",  "direction", "text"};
  for (const SummaryLine& l : lines) {
    t.rows.push_back({{l.topic},
                      {l.channel},
                      {l.metric},
                      Raw(l.value.has_value(), l.value.value_or(0)),
                      Raw(l.previous.has_value(), l.previous.value_or(0)),
                      Raw(l.target.has_value(), l.target.value_or(0)),
                      {l.direction},
                      {l.text}});
  }
  return t;
}

std::string ReportJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

}  // namespace attribution::cli

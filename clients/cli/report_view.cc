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

namespace attribution::cli {
namespace {

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

std::string Date(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixSeconds(ts.seconds()),
                          absl::UTCTimeZone());
}

std::string WithThousands(double v, int decimals) {
  std::string s = absl::StrFormat("%.*f", decimals, std::fabs(v));
  const size_t dot = std::min(s.find('.'), s.size());
  for (int i = static_cast<int>(dot) - 3; i > 0; i -= 3) s.insert(i, ",");
  return (v < 0 && std::round(v * 100) != 0 ? "-" : "") + s;
}

// "3 new customers", "0.5 new customers", "1 new customer".
std::string Customers(double v) {
  const bool whole = std::fabs(v - std::round(v)) < 1e-9;
  return absl::StrCat(
      WithThousands(v, whole ? 0 : 1),
      whole && std::round(v) == 1 ? " new customer" : " new customers");
}

std::string Percent(double ratio) {
  return absl::StrFormat("%.1f%%", ratio * 100);
}

const v1::Metric& MetricOf(const v1::ChannelFigures& f, MetricId id) {
  const auto* field = f.GetDescriptor()->FindFieldByName(Info(id).name);
  return static_cast<const v1::Metric&>(
      f.GetReflection()->GetMessage(f, field));
}

std::string FormatValue(MetricId id, double v, absl::string_view currency) {
  const MetricInfo& info = Info(id);
  if (info.money) return FormatMoney(v, currency);
  if (info.rate) return Percent(v);
  if (id == MetricId::kRoas) return absl::StrFormat("%.2fx", v);
  if (id == MetricId::kLeadToCustomerRate ||
      id == MetricId::kProspectToCustomerRate) {
    return absl::StrFormat("%.2f", v);
  }
  return WithThousands(v, std::fabs(v - std::round(v)) < 1e-9 ? 0 : 1);
}

// A change for reading: rates in percentage points ("-4.0 pts"), other
// figures relative ("+10.5%"), or in their unit when the previous value was
// 0; "no real change" under the threshold of Direction FLAT.
std::string ChangeWords(MetricId id, const v1::Metric& m,
                        absl::string_view currency) {
  if (m.direction() == v1::DIRECTION_FLAT) return "no real change";
  if (!m.has_change()) return "";
  if (Info(id).rate) return absl::StrFormat("%+.1f pts", m.change() * 100);
  if (m.has_change_ratio()) {
    return absl::StrFormat("%+.1f%%", m.change_ratio() * 100);
  }
  return absl::StrCat(m.change() >= 0 ? "+" : "",
                      FormatValue(id, m.change(), currency));
}

std::string Trend(const v1::Metric& m) {
  std::string arrow;
  switch (m.direction()) {
    case v1::DIRECTION_UP:
      arrow = "↑";
      break;
    case v1::DIRECTION_DOWN:
      arrow = "↓";
      break;
    case v1::DIRECTION_FLAT:
      return "→ no real change";
    default:
      return "";
  }
  switch (m.assessment()) {
    case v1::ASSESSMENT_GOOD:
      return arrow + " better";
    case v1::ASSESSMENT_BAD:
      return arrow + " worse";
    default:
      return arrow;
  }
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
  if (*group_by == v1::GROUP_BY_CHANNEL_CAMPAIGN) r.set_group_by(*group_by);
  if (a.intervals) {
    r.mutable_intervals()->set_level(a.level);
    r.mutable_intervals()->set_replicates(a.replicates);
  }
  return r;
}

absl::StatusOr<v1::CashFlowRequest> BuildCashFlowRequest(const ReportArgs& a) {
  v1::CashFlowRequest r;
  if (absl::Status s = FillCommon(a, &r); !s.ok()) return s;
  const std::string g = NormaliseName(a.granularity);
  if (g == "week") {
    r.set_granularity(v1::GRANULARITY_WEEK);
  } else if (g.empty() || g == "day") {
    r.set_granularity(v1::GRANULARITY_DAY);
  } else {
    return Bad("granularity",
               absl::StrCat("\"", a.granularity, "\" is not day or week",
                            DidYouMean(g, {"day", "week"})));
  }
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
  return r;
}

std::string ChannelLabel(absl::string_view slug) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"facebook", "Facebook"},
      {"instagram", "Instagram"},
      {"x", "X"},
      {"linkedin", "LinkedIn"},
      {"youtube", "YouTube"},
      {"tiktok", "TikTok"},
      {"pinterest", "Pinterest"},
      {"reddit", "Reddit"},
      {"email", "Email"},
      {"organic_search", "Search (organic)"},
      {"paid_search", "Search ads"},
      {"display", "Display ads"},
      {"referral", "Referrals"},
      {"direct", "Direct"},
  };
  if (slug.empty()) return "All channels";
  for (const auto& [s, name] : kNames) {
    if (slug == s) return name;
  }
  std::string out(slug);
  std::replace(out.begin(), out.end(), '_', ' ');
  out[0] = absl::ascii_toupper(out[0]);
  return out;
}

std::string FormatMoney(double amount, absl::string_view currency) {
  const std::string digits = WithThousands(amount, 2);
  const bool negative = !digits.empty() && digits[0] == '-';
  const std::string body = negative ? digits.substr(1) : digits;
  const char* symbol = currency == "USD"   ? "$"
                       : currency == "EUR" ? "€"
                       : currency == "GBP" ? "£"
                       : currency == "JPY" ? "¥"
                                           : nullptr;
  if (symbol != nullptr) return absl::StrCat(negative ? "-" : "", symbol, body);
  if (currency.empty()) return digits;
  return absl::StrCat(digits, " ", currency);
}

// The channel column of ChannelReportResponse.baseline, as Attribute's
// baseline row in `attribute`.
constexpr char kBaselineRow[] = "(baseline)";

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
  return t;
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
  t.columns = {"goal", "channel", "metric",           "target",  "from",
               "to",   "actual",  "expected_to_date", "elapsed", "status"};
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
         {human ? ChannelLabel(p.goal().channel()) : p.goal().channel()},
         {human && id ? Info(*id).label : p.goal().metric()},
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

std::vector<SummaryLine> Summary(const v1::ChannelReportResponse& r) {
  std::vector<SummaryLine> out;
  const std::string& cur = r.currency();
  const bool compared = !r.request().no_comparison() && !r.comparison_empty();
  const std::string compare_period =
      absl::StrCat(Date(r.request().compare().start()), " to ",
                   Date(r.request().compare().end()));
  const std::string than =
      compared ? absl::StrCat(" than ", compare_period) : "";
  const std::string against =
      compared ? absl::StrCat(" against ", compare_period) : "";
  auto line = [&](const char* topic, const std::string& channel,
                  std::optional<MetricId> id, const v1::Metric* m,
                  std::string text) {
    SummaryLine l;
    l.topic = topic;
    l.channel = channel;
    if (id) l.metric = Info(*id).name;
    if (m != nullptr && m->has_value()) l.value = m->value();
    if (m != nullptr && m->has_previous()) l.previous = m->previous();
    if (m != nullptr) l.direction = EnumWord(m->direction());
    l.text = std::move(text);
    out.push_back(std::move(l));
  };
  // ", 12% more than ..." for counts and money.
  auto change_words = [&](const v1::Metric& m, const char* up,
                          const char* down) -> std::string {
    if (!compared || !m.has_previous()) return "";
    if (m.direction() == v1::DIRECTION_FLAT) {
      return absl::StrCat(", no real change", against);
    }
    if (!m.has_change_ratio()) return "";
    return absl::StrFormat(", %.0f%% %s%s", std::fabs(m.change_ratio()) * 100,
                           m.change_ratio() > 0 ? up : down, than);
  };
  const v1::ChannelFigures& total = r.total();
  const v1::Metric& customers = MetricOf(total, MetricId::kNewCustomers);
  const v1::Metric& revenue = MetricOf(total, MetricId::kRevenue);
  const v1::Metric& spend = MetricOf(total, MetricId::kSpend);
  line("period", "", MetricId::kNewCustomers, &customers,
       absl::StrCat("From ", Date(r.request().period().start()), " to ",
                    Date(r.request().period().end()),
                    " (exclusive): ", Customers(customers.value()),
                    change_words(customers, "more", "fewer"), "; revenue ",
                    FormatMoney(revenue.value(), cur),
                    change_words(revenue, "more", "less"), "; marketing spend ",
                    FormatMoney(spend.value(), cur), "."));
  if (r.comparison_empty()) {
    line("comparison", "", std::nullopt, nullptr,
         absl::StrCat("The comparison period, ",
                      Date(r.request().compare().start()), " to ",
                      Date(r.request().compare().end()),
                      ", holds no data: nothing to compare with."));
  }
  // The channels that brought the most new customers.
  std::vector<const v1::ChannelRow*> rows;
  for (const v1::ChannelRow& row : r.channels()) rows.push_back(&row);
  std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
    return MetricOf(a->figures(), MetricId::kNewCustomers).value() >
           MetricOf(b->figures(), MetricId::kNewCustomers).value();
  });
  int told = 0;
  for (const v1::ChannelRow* row : rows) {
    const v1::Metric& n = MetricOf(row->figures(), MetricId::kNewCustomers);
    const v1::Metric& cac = MetricOf(row->figures(), MetricId::kCac);
    const v1::Metric& cost = MetricOf(row->figures(), MetricId::kSpend);
    std::string name = ChannelLabel(row->channel());
    if (!row->campaign().empty())
      absl::StrAppend(&name, " (", row->campaign(), ")");
    if (n.value() <= 0) {
      if (cost.value() > 0) {
        line("channel", row->channel(), MetricId::kSpend, &cost,
             absl::StrCat(name, " cost ", FormatMoney(cost.value(), cur),
                          " and brought no new customers."));
      }
      continue;
    }
    if (told++ >= 3) continue;
    std::string s = absl::StrCat(name, " brought ", Customers(n.value()));
    if (cac.has_value() && cost.value() > 0) {
      absl::StrAppend(&s, " at ", FormatMoney(cac.value(), cur), " each");
      if (compared && cac.direction() == v1::DIRECTION_FLAT) {
        absl::StrAppend(&s, ", no real change in cost", against);
      } else if (compared && cac.has_change_ratio()) {
        absl::StrAppend(
            &s,
            absl::StrFormat(", %.0f%% %s", std::fabs(cac.change_ratio()) * 100,
                            cac.change_ratio() < 0 ? "cheaper" : "dearer"),
            than);
      }
    } else {
      absl::StrAppend(&s, " with no recorded spend");
    }
    line("channel", row->channel(), MetricId::kNewCustomers, &n, s + ".");
  }
  const v1::Metric& churn = MetricOf(total, MetricId::kChurnRate);
  if (churn.has_value()) {
    std::string s =
        absl::StrCat("Customers lost (churn): ", Percent(churn.value()));
    if (compared && churn.has_previous()) {
      if (churn.direction() == v1::DIRECTION_FLAT) {
        absl::StrAppend(&s, ", no real change from ",
                        Percent(churn.previous()));
      } else {
        absl::StrAppend(
            &s, ", ", churn.direction() == v1::DIRECTION_UP ? "up" : "down",
            absl::StrFormat(" %.1f pts", std::fabs(churn.change()) * 100),
            " from ", Percent(churn.previous()),
            churn.assessment() == v1::ASSESSMENT_BAD ? " (worse)"
                                                     : " (better)");
      }
    }
    line("churn", "", MetricId::kChurnRate, &churn, s + ".");
  }
  const v1::Metric& profit = MetricOf(total, MetricId::kProfitContribution);
  line(
      "profit", "", MetricId::kProfitContribution, &profit,
      absl::StrCat("Profit after marketing: ", FormatMoney(profit.value(), cur),
                   change_words(profit, "more", "less"), "."));
  for (const v1::GoalProgress& g : r.goals()) {
    std::string status = EnumWord(g.status());
    std::replace(status.begin(), status.end(), '_', ' ');
    const std::optional<MetricId> id = MetricByName(g.goal().metric());
    SummaryLine& l = out.emplace_back();
    l.topic = "goal";
    l.channel = g.goal().channel();
    l.metric = g.goal().metric();
    if (g.has_actual()) l.value = g.actual();
    l.target = g.goal().target();
    l.direction = EnumWord(g.status());
    l.text = absl::StrCat(
        "Goal \"", g.goal().name(), "\" (", ChannelLabel(g.goal().channel()),
        ", ", id ? Info(*id).label : g.goal().metric(), " target ",
        id ? FormatValue(*id, g.goal().target(), cur) : "", "): ", status,
        g.has_actual() && id
            ? absl::StrCat(", ", FormatValue(*id, g.actual(), cur), " so far")
            : "",
        ".");
  }
  return out;
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

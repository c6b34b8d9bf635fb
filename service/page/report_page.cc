#include "service/page/report_page.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "service/page/page_assets.h"
#include "service/page/report_text.h"

namespace attribution::page {
namespace {

// A small JSON writer for the page's figures: numbers shortest round-trip,
// undefined figures as null, strings safe inside <script>.
class Json {
 public:
  Json& Open(char c) {
    Comma();
    out_.push_back(c);
    first_ = true;
    return *this;
  }
  Json& Close(char c) {
    out_.push_back(c);
    first_ = false;
    return *this;
  }
  Json& Key(absl::string_view k) {
    Comma();
    AppendJsonString(k, &out_, /*html_safe=*/true);
    out_.push_back(':');
    first_ = true;
    return *this;
  }
  Json& Str(absl::string_view s) {
    Comma();
    AppendJsonString(s, &out_, /*html_safe=*/true);
    return *this;
  }
  Json& Num(std::optional<double> v) {
    Comma();
    out_.append(v && std::isfinite(*v) ? Shortest(*v) : "null");
    return *this;
  }
  Json& Bool(bool b) {
    Comma();
    out_.append(b ? "true" : "false");
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  void Comma() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  std::string out_;
  bool first_ = true;
};

std::optional<double> ValueOf(const v1::Metric& m) {
  if (!m.has_value()) return std::nullopt;
  return m.value();
}

std::string RowLabel(absl::string_view channel, absl::string_view campaign) {
  std::string label = ChannelLabel(channel);
  if (!campaign.empty()) absl::StrAppend(&label, " · ", campaign);
  return label;
}

std::string Month(const google::protobuf::Timestamp& ts) {
  return Date(ts).substr(0, 7);
}

// The rows the channel charts draw: most new customers first, then by label.
std::vector<const v1::ChannelRow*> ChartRows(
    const v1::ChannelReportResponse& r) {
  std::vector<const v1::ChannelRow*> rows;
  for (const v1::ChannelRow& row : r.channels()) rows.push_back(&row);
  std::stable_sort(rows.begin(), rows.end(), [](const auto* a, const auto* b) {
    const double x = a->figures().new_customers().value();
    const double y = b->figures().new_customers().value();
    if (x != y) return x > y;
    return RowLabel(a->channel(), a->campaign()) <
           RowLabel(b->channel(), b->campaign());
  });
  if (rows.size() > static_cast<size_t>(kMaxChartRows)) {
    rows.resize(kMaxChartRows);
  }
  return rows;
}

// "Up 12.0% from $1,234.00, better."
std::string ChangeSentence(MetricId id, const v1::Metric& m,
                           absl::string_view currency, bool compared,
                           bool comparison_empty, v1::ChurnRule churn_rule) {
  if (id == MetricId::kChurnRate && churn_rule == v1::CHURN_RULE_NOT_MEASURED) {
    return "Not measured: no churn events and no lapse rule.";
  }
  if (comparison_empty) return "The comparison period holds no data.";
  if (!compared) return "No comparison period.";
  if (!m.has_value()) return "Not defined in this period.";
  if (!m.has_previous()) return "Not defined in the comparison period.";
  const std::string from =
      absl::StrCat(" from ", FormatValue(id, m.previous(), currency));
  if (m.direction() == v1::DIRECTION_FLAT) {
    return absl::StrCat("No real change", from, ".");
  }
  std::string words = ChangeWords(id, m, currency);
  if (!words.empty() && (words[0] == '+' || words[0] == '-')) {
    words.erase(0, 1);
  }
  const char* way = m.direction() == v1::DIRECTION_UP ? "Up " : "Down ";
  const char* judgement = m.assessment() == v1::ASSESSMENT_GOOD  ? ", better"
                          : m.assessment() == v1::ASSESSMENT_BAD ? ", worse"
                                                                 : "";
  return absl::StrCat(way, words, from, judgement, ".");
}

const char* AssessmentClass(const v1::Metric& m) {
  switch (m.assessment()) {
    case v1::ASSESSMENT_GOOD:
      return "good";
    case v1::ASSESSMENT_BAD:
      return "bad";
    case v1::ASSESSMENT_NEUTRAL:
      return "flat";
    default:
      return "none";
  }
}

struct Tile {
  MetricId id;
  const char* label;
};
constexpr Tile kTiles[] = {
    {MetricId::kNewCustomers, "New customers"},
    {MetricId::kCac, "Customer acquisition cost (CAC)"},
    {MetricId::kRevenue, "Revenue"},
    {MetricId::kRoas, "Return on ad spend (ROAS)"},
    {MetricId::kProfitContribution, "Profit after marketing"},
    {MetricId::kChurnRate, "Churn"},
};

void AppendTiles(const v1::ChannelReportResponse& r, bool compared,
                 std::string* out) {
  out->append("<div class=\"tiles\">\n");
  for (const Tile& t : kTiles) {
    const v1::Metric& m = MetricOf(r.total(), t.id);
    const char* name = Info(t.id).name;
    absl::StrAppend(out, "<div class=\"tile\" data-metric=\"", name, "\"");
    if (m.has_value()) {
      absl::StrAppend(out, " data-value=\"", Shortest(m.value()), "\"");
    }
    if (m.has_previous()) {
      absl::StrAppend(out, " data-previous=\"", Shortest(m.previous()), "\"");
    }
    absl::StrAppend(out, " data-direction=\"", EnumWord(m.direction()),
                    "\" data-assessment=\"", EnumWord(m.assessment()), "\">");
    std::string label = t.label;
    if (t.id == MetricId::kChurnRate &&
        r.churn_rule() == v1::CHURN_RULE_LAPSE) {
      absl::StrAppend(&label, " (or ", r.lapse_days(),
                      " days without a purchase)");
    }
    absl::StrAppend(
        out, "<div class=\"label\">", EscapeHtml(label),
        "</div><div class=\"value\">",
        EscapeHtml(m.has_value() ? FormatValue(t.id, m.value(), r.currency())
                                 : "n/a"),
        "</div><div class=\"change ", AssessmentClass(m), "\">",
        EscapeHtml(ChangeSentence(t.id, m, r.currency(), compared,
                                  r.comparison_empty(), r.churn_rule())),
        "</div></div>\n");
  }
  out->append("</div>\n");
}

void AppendGoals(const v1::ChannelReportResponse& r, std::string* out) {
  out->append("<section class=\"goals\"><h2>Goals</h2>\n");
  if (r.goals().empty()) {
    out->append("<p class=\"note\">No goal's period overlaps this one.</p>");
    out->append("</section>\n");
    return;
  }
  out->append(
      "<table class=\"goals\"><thead><tr><th>Goal</th><th>Channel</th>"
      "<th>Figure</th><th>Target</th><th>So far</th><th>Progress</th>"
      "<th>Status</th></tr></thead><tbody>\n");
  for (const v1::GoalProgress& g : r.goals()) {
    const std::optional<MetricId> id = MetricByName(g.goal().metric());
    auto value = [&](double v) {
      return id ? FormatValue(*id, v, r.currency()) : Shortest(v);
    };
    double progress = 0;
    if (g.has_actual() && g.goal().target() > 0) {
      progress = std::clamp(g.actual() / g.goal().target(), 0.0, 1.0);
    }
    std::string status = EnumWord(g.status());
    std::string status_words = absl::StrReplaceAll(status, {{"_", " "}});
    absl::StrAppend(
        out, "<tr class=\"goal ", status, "\" data-goal=\"",
        EscapeHtml(g.goal().name()), "\" data-status=\"", status,
        "\" data-progress=\"", Shortest(progress), "\"><td>",
        EscapeHtml(g.goal().name()), "</td><td>",
        EscapeHtml(ChannelLabel(g.goal().channel())), "</td><td>",
        EscapeHtml(id ? Info(*id).label : g.goal().metric()), "</td><td>",
        EscapeHtml(value(g.goal().target())), "</td><td>",
        EscapeHtml(g.has_actual() ? value(g.actual()) : "n/a"),
        "</td><td><div class=\"bar\" role=\"progressbar\" aria-valuemin=\"0\" "
        "aria-valuemax=\"100\" aria-valuenow=\"",
        absl::StrFormat("%.0f", progress * 100),
        "\"><div style=\"width:", absl::StrFormat("%.1f", progress * 100),
        "%\"></div></div></td><td class=\"status ", status, "\">",
        EscapeHtml(status_words), "</td></tr>\n");
  }
  out->append("</tbody></table></section>\n");
}

void AppendFigure(absl::string_view id, absl::string_view title,
                  absl::string_view caption, bool wide, std::string* out) {
  absl::StrAppend(out, "<figure class=\"chart", wide ? " wide" : "", "\" id=\"",
                  id, "\"><figcaption><h3>", EscapeHtml(title), "</h3><p>",
                  EscapeHtml(caption),
                  "</p></figcaption><div class=\"plot\"></div></figure>\n");
}

// The figures page.js draws.
std::string PageData(const PageInput& in,
                     const std::vector<const v1::ChannelRow*>& rows) {
  const v1::ChannelReportResponse& r = *in.report;
  Json j;
  j.Open('{');
  j.Key("currency").Str(r.currency());
  j.Key("rows_total").Num(r.channels_size());
  j.Key("rows").Open('[');
  std::set<std::string> shown;
  for (const v1::ChannelRow* row : rows) {
    const v1::ChannelFigures& f = row->figures();
    const std::string label = RowLabel(row->channel(), row->campaign());
    shown.insert(label);
    j.Open('{');
    j.Key("label").Str(label);
    j.Key("channel").Str(row->channel());
    j.Key("campaign").Str(row->campaign());
    j.Key("new_customers").Num(f.new_customers().value());
    j.Key("cac").Num(ValueOf(f.cac()));
    j.Key("revenue").Num(f.revenue().value());
    j.Key("spend").Num(f.spend().value());
    j.Key("positive").Num(ValueOf(f.positive_share()));
    j.Key("neutral").Num(ValueOf(f.neutral_share()));
    j.Key("negative").Num(ValueOf(f.negative_share()));
    j.Close('}');
  }
  j.Close(']');

  // Cash flow: the total's buckets, each with its end.
  const v1::CashFlowSeries& total = in.cash_flow->total();
  j.Key("cash_flow").Open('{');
  j.Key("points").Open('[');
  for (int i = 0; i < total.points_size(); ++i) {
    const v1::CashFlowPoint& p = total.points(i);
    const google::protobuf::Timestamp& end =
        i + 1 < total.points_size() ? total.points(i + 1).start()
                                    : in.cash_flow->request().period().end();
    j.Open('{');
    j.Key("start").Str(absl::StrCat(Date(p.start()), "T00:00:00Z"));
    j.Key("end").Str(absl::StrCat(Date(end), "T00:00:00Z"));
    j.Key("revenue_in").Num(p.revenue_in());
    j.Key("spend_out").Num(p.spend_out());
    j.Key("running_net").Num(p.running_net());
    j.Close('}');
  }
  j.Close(']').Close('}');

  // Cohorts: every channel's retention by month and horizon.
  const v1::RetentionCohortsResponse& c = *in.cohorts;
  double top = 0;
  for (const v1::Cohort& cohort : c.cohorts()) {
    if (!cohort.channel().empty()) continue;
    for (const v1::CohortHorizon& h : cohort.horizons()) {
      if (h.has_retention_rate()) top = std::max(top, h.retention_rate());
    }
  }
  j.Key("cohorts").Open('{');
  j.Key("horizons").Open('[');
  for (int d : c.request().horizon_days()) j.Num(d);
  j.Close(']');
  j.Key("months").Open('[');
  for (const v1::Cohort& cohort : c.cohorts()) {
    if (cohort.channel().empty()) j.Str(Month(cohort.start()));
  }
  j.Close(']');
  j.Key("cells").Open('[');
  for (const v1::Cohort& cohort : c.cohorts()) {
    if (!cohort.channel().empty()) continue;
    for (const v1::CohortHorizon& h : cohort.horizons()) {
      if (!h.has_retention_rate()) continue;
      j.Open('{');
      j.Key("month").Str(Month(cohort.start()));
      j.Key("horizon").Num(h.days());
      j.Key("rate").Num(h.retention_rate());
      j.Key("observed").Num(h.customers_observed());
      j.Key("dark").Bool(h.retention_rate() > 0.6 * std::max(top, 0.05));
      j.Close('}');
    }
  }
  j.Close(']').Close('}');

  // LTV:CAC per channel, pooled over the cohorts at one horizon.
  const int horizon = LtvHorizon(c);
  struct Pool {
    double observed = 0, revenue = 0, customers = 0, spend = 0;
  };
  std::map<std::string, Pool> pools;
  for (const v1::Cohort& cohort : c.cohorts()) {
    if (cohort.channel().empty()) continue;
    Pool& p = pools[cohort.channel()];
    p.customers += cohort.customers();
    p.spend += cohort.spend();
    for (const v1::CohortHorizon& h : cohort.horizons()) {
      if (h.days() != horizon || !h.has_revenue_per_customer()) continue;
      p.observed += h.customers_observed();
      p.revenue += h.revenue_per_customer() * h.customers_observed();
    }
  }
  j.Key("ltv").Open('{');
  j.Key("horizon_days").Num(horizon);
  j.Key("rows").Open('[');
  for (const auto& [channel, p] : pools) {
    if (p.observed <= 0 || p.customers <= 0 || p.spend <= 0) continue;
    const double ltv = p.revenue / p.observed;
    const double cac = p.spend / p.customers;
    j.Open('{');
    j.Key("label").Str(ChannelLabel(channel));
    j.Key("ltv").Num(ltv);
    j.Key("cac").Num(cac);
    j.Key("ltv_to_cac").Num(ltv / cac);
    j.Close('}');
  }
  j.Close(']').Close('}');

  // Credited new customers under each model, in the rows drawn above.
  j.Key("credit").Open('{');
  j.Key("models").Open('[');
  for (const v1::ModelResult& m : in.credits->results()) {
    j.Str(ModelLabel(m.model()));
  }
  j.Close(']');
  j.Key("rows").Open('[');
  for (const v1::ModelResult& m : in.credits->results()) {
    const std::string model = ModelLabel(m.model());
    for (const v1::GroupCredit& g : m.groups()) {
      const std::string label = RowLabel(g.channel(), g.campaign());
      if (shown.count(label) == 0) continue;
      j.Open('{');
      j.Key("label").Str(label);
      j.Key("model").Str(model);
      j.Key("conversions").Num(g.conversions());
      const bool has = g.has_conversions_interval();
      j.Key("low").Num(has ? std::optional(g.conversions_interval().low())
                           : std::nullopt);
      j.Key("high").Num(has ? std::optional(g.conversions_interval().high())
                            : std::nullopt);
      j.Close('}');
    }
  }
  j.Close(']').Close('}');
  j.Close('}');
  return j.str();
}

// What the credit chart's caption says about the incremental baseline.
std::string BaselineWords(const v1::AttributeResponse& a) {
  for (const v1::ModelResult& m : a.results()) {
    if (m.model().model() != v1::MODEL_INCREMENTAL) continue;
    const v1::BaselineCredit& b = m.baseline();
    std::string s = absl::StrCat(" Incremental: ", Customers(b.conversions()),
                                 " would have come anyway (",
                                 Percent(b.share_of_conversions()));
    if (b.has_conversions_interval()) {
      absl::StrAppend(&s, "; ",
                      WithThousands(b.conversions_interval().low(), 1), " to ",
                      WithThousands(b.conversions_interval().high(), 1));
    }
    return s + ").";
  }
  return "";
}

}  // namespace

std::string EscapeHtml(absl::string_view s) {
  return absl::StrReplaceAll(s, {{"&", "&amp;"},
                                 {"<", "&lt;"},
                                 {">", "&gt;"},
                                 {"\"", "&quot;"},
                                 {"'", "&#39;"}});
}

std::string ModelLabel(const v1::ModelSpec& model) {
  std::string word = EnumWord(model.model());
  std::string label = absl::StrReplaceAll(word, {{"_", " "}});
  if (!label.empty()) label[0] = static_cast<char>(std::toupper(label[0]));
  if (model.model() == v1::MODEL_MARKOV && model.has_order()) {
    absl::StrAppend(&label, " (order ", model.order(), ")");
  }
  if ((model.model() == v1::MODEL_TIME_DECAY ||
       model.model() == v1::MODEL_INCREMENTAL) &&
      model.has_half_life()) {
    const int64_t seconds = model.half_life().seconds();
    absl::StrAppend(
        &label, " (half-life ",
        seconds % 86400 == 0
            ? absl::StrCat(seconds / 86400, seconds == 86400 ? " day" : " days")
            : absl::FormatDuration(absl::Seconds(seconds)),
        ")");
  }
  return label;
}

int LtvHorizon(const v1::RetentionCohortsResponse& cohorts) {
  std::map<int, double> observed;
  for (const v1::Cohort& c : cohorts.cohorts()) {
    if (!c.channel().empty()) continue;
    for (const v1::CohortHorizon& h : c.horizons()) {
      observed[h.days()] += h.customers_observed();
    }
  }
  if (observed[90] > 0) return 90;
  int best = 0;
  for (const auto& [days, n] : observed) {
    if (n > 0) best = days;
  }
  return best;
}

std::string RenderReportPage(const PageInput& in) {
  const v1::ChannelReportResponse& r = *in.report;
  const bool compared = !r.request().no_comparison() && !r.comparison_empty();
  const std::vector<const v1::ChannelRow*> rows = ChartRows(r);
  const std::string model = ModelLabel(r.request().model());
  const bool by_campaign =
      r.request().group_by() == v1::GROUP_BY_CHANNEL_CAMPAIGN;
  const char* grain = by_campaign ? "campaign"
                      : r.request().group_by() == v1::GROUP_BY_CHANNEL_GROUP
                          ? "channel group"
                          : "channel";
  std::string shown_words =
      r.channels_size() > static_cast<int>(rows.size())
          ? absl::StrCat(" The ", rows.size(), " of ", r.channels_size(), " ",
                         grain, "s with the most new customers.")
          : "";

  std::string out;
  out.reserve(kPlotJs.size() + kD3Js.size() + 64 * 1024);
  absl::StrAppend(
      &out,
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
      "'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
      "img-src data:; font-src data:\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\">\n<meta name=\"generator\" content=\"attributiond "
      "ReportPage\">\n<title>",
      EscapeHtml(in.title), "</title>\n<style>\n@page { size: ",
      in.paper == v1::PAPER_SIZE_LETTER ? "letter" : "A4",
      "; margin: 12mm; }\n",
      // Letter is shorter and wider than A4: the same sheet, a little
      // smaller, still fits one page.
      in.paper == v1::PAPER_SIZE_LETTER
          ? "@media print { .sheet { zoom: 0.85; } }\n"
          : "",
      kPageCss, "</style>\n</head>\n<body>\n");

  // Sheet 1: the headline, the sentences and the goals.
  absl::StrAppend(
      &out, "<section class=\"sheet\" id=\"sheet-1\">\n<header><h1>",
      EscapeHtml(in.title), "</h1><p>",
      EscapeHtml(absl::StrCat(
          Date(r.request().period().start()), " to ",
          Date(r.request().period().end()), " (exclusive)",
          compared ? absl::StrCat(", compared with ",
                                  Date(r.request().compare().start()), " to ",
                                  Date(r.request().compare().end()))
                   : ", no comparison",
          ". Credit under ", model, ", ",
          r.currency().empty() ? "no currency"
                               : absl::StrCat("money in ", r.currency()),
          ". Made ",
          absl::FormatTime("%Y-%m-%d %H:%M UTC", in.generated_at,
                           absl::UTCTimeZone()),
          ".")),
      "</p></header>\n");
  AppendTiles(r, compared, &out);
  out.append("<section class=\"summary\"><h2>In short</h2><ul>\n");
  for (const SummaryLine& line : Summary(r)) {
    absl::StrAppend(&out, "<li data-topic=\"", EscapeHtml(line.topic), "\">",
                    EscapeHtml(line.text), "</li>\n");
  }
  out.append("</ul></section>\n");
  AppendGoals(r, &out);
  out.append("</section>\n");

  // Sheet 2: who brought customers, at what cost, under which model.
  out.append(
      "<section class=\"sheet\" id=\"sheet-2\">\n<h2>Customers and money by "
      "channel</h2>\n<div class=\"grid\">\n");
  AppendFigure("chart-new-customers", absl::StrCat("New customers by ", grain),
               absl::StrCat("First purchases in the period, credited under ",
                            model, ".", shown_words),
               false, &out);
  AppendFigure("chart-cac", "Customer acquisition cost",
               absl::StrCat("Spend over new customers, in ",
                            r.currency().empty() ? "money" : r.currency(),
                            "; only where both are recorded."),
               false, &out);
  AppendFigure("chart-revenue-spend", "Revenue and spend",
               absl::StrCat("Revenue of every purchase in the period, "
                            "credited, beside the spend recorded.",
                            shown_words),
               false, &out);
  std::vector<std::string> models;
  for (const v1::ModelResult& m : in.credits->results()) {
    models.push_back(ModelLabel(m.model()));
  }
  const bool intervals = in.credits->request().has_intervals();
  AppendFigure(
      "chart-credit", "New customers under each model",
      absl::StrCat(
          "Credited first purchases: ", absl::StrJoin(models, ", "), ".",
          intervals
              ? absl::StrFormat(" Lines: %g%% intervals (customer bootstrap).",
                                in.credits->request().intervals().level() * 100)
              : "",
          BaselineWords(*in.credits)),
      false, &out);
  out.append("</div></section>\n");

  // Sheet 3: cash, retention, what the conversation says.
  const int ltv_horizon = LtvHorizon(*in.cohorts);
  out.append(
      "<section class=\"sheet\" id=\"sheet-3\">\n<h2>Cash, retention and "
      "conversation</h2>\n<div class=\"grid\">\n");
  AppendFigure(
      "chart-cash-flow", "Cash flow",
      absl::StrCat("Credited revenue in and spend out per ",
                   in.cash_flow->request().granularity() == v1::GRANULARITY_WEEK
                       ? "week"
                       : "day",
                   ", with the running net since ",
                   Date(in.cash_flow->request().period().start()), "."),
      true, &out);
  AppendFigure("chart-cohorts", "Retention by acquisition month",
               absl::StrCat("Share of the customers acquired in each month who "
                            "bought again within 30 to 365 days (d) of their "
                            "first purchase, with no churn first; months "
                            "from ",
                            Date(in.cohorts->request().period().start()), "."),
               false, &out);
  AppendFigure(
      "chart-ltv-cac", "LTV:CAC by channel",
      ltv_horizon > 0
          ? absl::StrCat("Revenue per customer by day ", ltv_horizon,
                         " over CAC, pooled over the same cohorts; the dashed "
                         "line is break-even (1x).")
          : "No acquired customer is old enough yet.",
      false, &out);
  AppendFigure(
      "chart-sentiment", "What the touches said",
      absl::StrCat("Positive, neutral and negative share of each ", grain,
                   "'s touches with a sentiment in the period."),
      false, &out);
  out.append("</div>\n<p class=\"note\">");
  out.append(EscapeHtml(absl::StrCat(
      "Made by attributiond's ReportPage: the figures are those of "
      "ChannelReport, CashFlow, RetentionCohorts and Attribute for the same "
      "period. Charts: Observable Plot ",
      kPlotVersion, " and d3 ", kD3Version, ".")));
  out.append("</p></section>\n");

  absl::StrAppend(&out, "<script type=\"application/json\" id=\"page-data\">",
                  PageData(in, rows), "</script>\n<script>", kD3Js,
                  "</script>\n<script>", kPlotJs, "</script>\n<script>",
                  kPageJs, "</script>\n</body></html>\n");
  return out;
}

}  // namespace attribution::page

#include "service/page/report_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace attribution::page {

using google::protobuf::EnumDescriptor;

std::string EnumPrefix(const EnumDescriptor* type) {
  std::string out;
  for (char c : type->name()) {
    if (absl::ascii_isupper(c) && !out.empty()) out.push_back('_');
    out.push_back(absl::ascii_toupper(c));
  }
  out.push_back('_');
  return out;
}

std::string EnumWord(const EnumDescriptor* type, int number) {
  if (number == 0) return "";
  const auto* value = type->FindValueByNumber(number);
  if (value == nullptr) return absl::StrCat(number);
  absl::string_view name = value->name();
  const std::string prefix = EnumPrefix(type);
  if (absl::StartsWith(name, prefix)) name.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(name);
}

void AppendJsonString(absl::string_view s, std::string* out, bool html_safe) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '<':
      case '>':
      case '&':
        if (html_safe) {
          absl::StrAppend(out, "\\u00", absl::Hex(c, absl::kZeroPad2));
          break;
        }
        out->push_back(static_cast<char>(c));
        break;
      default:
        if (c < 0x20) {
          absl::StrAppend(out, "\\u00", absl::Hex(c, absl::kZeroPad2));
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

std::string Shortest(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  const auto result = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, result.ptr);
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
  if (!churn.has_value() && r.churn_rule() == v1::CHURN_RULE_NOT_MEASURED) {
    line("churn", "", MetricId::kChurnRate, &churn,
         "Customers lost (churn): n/a: no churn events and no lapse rule "
         "(settings: lapse_days).");
  }
  if (churn.has_value()) {
    const std::string rule =
        r.churn_rule() == v1::CHURN_RULE_LAPSE
            ? absl::StrCat("a churn event or ", r.lapse_days(),
                           " days without a purchase")
            : "churn";
    std::string s =
        absl::StrCat("Customers lost (", rule, "): ", Percent(churn.value()));
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
  // The conversation: share of voice against the largest competitor.
  if (r.has_own_conversation() || r.has_largest_competitor_conversation()) {
    const v1::Metric& own = r.own_conversation().share_of_voice();
    std::string s = absl::StrCat(
        "Share of voice: ", own.has_value() ? Percent(own.value()) : "0.0%");
    // Mentions are compared whether or not the period holds events.
    if (!r.request().no_comparison() && own.has_previous()) {
      if (own.direction() == v1::DIRECTION_FLAT) {
        absl::StrAppend(&s, " (no real change)");
      } else if (own.has_change()) {
        absl::StrAppend(
            &s, " (", own.direction() == v1::DIRECTION_UP ? "up" : "down",
            absl::StrFormat(" %.1f pts", std::fabs(own.change()) * 100), ")");
      }
    }
    if (r.has_largest_competitor_conversation()) {
      const v1::ConversationRow& c = r.largest_competitor_conversation();
      absl::StrAppend(&s, ", against ", Percent(c.share_of_voice().value()),
                      " for ", c.brand(), ", the largest competitor");
    }
    const v1::Metric& positive = r.own_conversation().positive_share();
    const v1::Metric& negative = r.own_conversation().negative_share();
    if (positive.has_value() && negative.has_value()) {
      absl::StrAppend(&s, "; ", Percent(positive.value()), " positive and ",
                      Percent(negative.value()), " negative");
    }
    SummaryLine& l = out.emplace_back();
    l.topic = "conversation";
    l.metric = "share_of_voice";
    if (own.has_value()) l.value = own.value();
    if (own.has_previous()) l.previous = own.previous();
    l.direction = EnumWord(own.direction());
    l.text = s + ".";
  }
  // Business figures beyond marketing, each against its good direction.
  for (const v1::BusinessFigureRow& f : r.business_figures()) {
    const v1::Metric& m = f.figure();
    if (!m.has_value()) continue;
    std::string label = f.name();
    std::replace(label.begin(), label.end(), '_', ' ');
    if (!label.empty()) label[0] = absl::ascii_toupper(label[0]);
    auto amount = [&](double v) {
      return f.unit().empty() ? Shortest(v)
                              : absl::StrCat(Shortest(v), " ", f.unit());
    };
    std::string s = absl::StrCat(label, ": ", amount(m.value()));
    if (m.has_previous()) {
      if (m.direction() == v1::DIRECTION_FLAT) {
        absl::StrAppend(&s, ", no real change from ", amount(m.previous()));
      } else {
        absl::StrAppend(
            &s, ", ", m.direction() == v1::DIRECTION_UP ? "up" : "down",
            m.has_change_ratio()
                ? absl::StrFormat(" %.1f%%", std::fabs(m.change_ratio()) * 100)
                : "",
            " from ", amount(m.previous()),
            m.assessment() == v1::ASSESSMENT_GOOD ? " (better)" : " (worse)");
      }
    }
    SummaryLine& l = out.emplace_back();
    l.topic = "business_figure";
    l.metric = f.name();
    l.value = m.value();
    if (m.has_previous()) l.previous = m.previous();
    l.direction = EnumWord(m.direction());
    l.text = s + ".";
  }
  for (const v1::GoalProgress& g : r.goals()) {
    if (!g.goal().business_figure().empty()) {
      std::string status = EnumWord(g.status());
      std::replace(status.begin(), status.end(), '_', ' ');
      SummaryLine& l = out.emplace_back();
      l.topic = "goal";
      l.metric = g.goal().business_figure();
      if (g.has_actual()) l.value = g.actual();
      l.target = g.goal().target();
      l.direction = EnumWord(g.status());
      l.text = absl::StrCat(
          "Goal \"", g.goal().name(), "\" (", g.goal().business_figure(),
          " target ", Shortest(g.goal().target()), "): ", status,
          g.has_actual() ? absl::StrCat(", ", Shortest(g.actual()), " so far")
                         : "",
          ".");
      continue;
    }
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

}  // namespace attribution::page

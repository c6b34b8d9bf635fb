// The words and numbers of the CFO reports as people read them: channel
// names, money in the reporting currency, percentages, changes and trends,
// and the few sentences of the summary. Shared by `attributionctl report`
// and the executive page (ReportService.ReportPage), so both say the same.
#ifndef ATTRIBUTION_SERVICE_PAGE_REPORT_TEXT_H_
#define ATTRIBUTION_SERVICE_PAGE_REPORT_TEXT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "attribution/v1/report_service.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/timestamp.pb.h"
#include "service/core/report.h"

namespace attribution::page {

// An enum value as the lower-case word without the type's prefix:
// DIRECTION_UP -> "up", MODEL_FIRST_TOUCH -> "first_touch"; "" for 0 (the
// UNSPECIFIED value).
std::string EnumWord(const google::protobuf::EnumDescriptor* type, int number);
template <typename Enum>
std::string EnumWord(Enum value) {
  return EnumWord(google::protobuf::GetEnumDescriptor<Enum>(),
                  static_cast<int>(value));
}
// "ModelKind" -> "MODEL_KIND_": the prefix of the type's value names.
std::string EnumPrefix(const google::protobuf::EnumDescriptor* type);

// Appends `s` as a JSON string literal, quotes included. `html_safe` also
// escapes <, > and & (as \u003c ...), so the literal can sit inside an HTML
// <script> element.
void AppendJsonString(absl::string_view s, std::string* out,
                      bool html_safe = false);

// The shortest decimal that reads back as exactly `v` ("0.1", "875.68491",
// "1e+21"); "NaN", "Infinity", "-Infinity" for the others.
std::string Shortest(double v);

// "2026-07-01" (UTC).
std::string Date(const google::protobuf::Timestamp& ts);
// 1234567.891 with 2 decimals -> "1,234,567.89".
std::string WithThousands(double v, int decimals);
// "3 new customers", "0.5 new customers", "1 new customer".
std::string Customers(double v);
// 0.1234 -> "12.3%".
std::string Percent(double ratio);

// "instagram" -> "Instagram", "paid_search" -> "Search ads"; "" -> "All
// channels".
std::string ChannelLabel(absl::string_view slug);
// 1234.5 in USD -> "$1,234.50"; codes without a symbol: "1,234.50 CHF".
std::string FormatMoney(double amount, absl::string_view currency);

const v1::Metric& MetricOf(const v1::ChannelFigures& f, MetricId id);
// A figure in its unit: money, a percentage, "2.50x" for ROAS, a count.
std::string FormatValue(MetricId id, double v, absl::string_view currency);
// A change for reading: rates in percentage points ("-4.0 pts"), other
// figures relative ("+10.5%"), or in their unit when the previous value was
// 0; "no real change" under the threshold of Direction FLAT.
std::string ChangeWords(MetricId id, const v1::Metric& m,
                        absl::string_view currency);
// "↑ better", "↓ worse", "→ no real change", "" without a comparison.
std::string Trend(const v1::Metric& m);

// One sentence of the summary with the figures it tells.
struct SummaryLine {
  std::string topic;    // period, comparison, channel, churn, profit, goal
  std::string channel;  // The channel told about; "" for the total.
  std::string metric;   // The ChannelFigures field the sentence is about.
  std::optional<double> value, previous, target;
  // The metric's direction (up, down, flat), or for a goal its status
  // (on_track, ...); "" if none.
  std::string direction;
  std::string text;
};

// The sentences that matter for the period, from the report's figures.
std::vector<SummaryLine> Summary(const v1::ChannelReportResponse& r);

}  // namespace attribution::page

#endif  // ATTRIBUTION_SERVICE_PAGE_REPORT_TEXT_H_

#include "clients/cli/figure_import.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "clients/cli/csv.h"
#include "clients/cli/row_import.h"
#include "clients/cli/vocabulary.h"

namespace attribution::cli {

absl::StatusOr<FigureImportCounts> ImportFigures(
    client::AttributionClient& client, const std::string& workspace,
    std::istream& in, size_t batch_size, std::ostream& log) {
  CsvReader reader(in);
  absl::StatusOr<std::map<std::string, size_t>> col = ReadCsvHeader(
      reader, {"series", "date", "value"},
      "series,date,value[,unit,good_when,aggregation,granularity]");
  if (!col.ok()) return col.status();
  std::vector<std::string> row;
  int64_t line = 0;
  std::string error;
  FigureImportCounts counts;
  // One series message per row keeps the indexes simple: series[i] is the
  // batch's row i.
  std::vector<std::pair<int64_t, v1::BusinessFigureSeries>> batch;
  auto send =
      [&](const std::vector<std::pair<int64_t, v1::BusinessFigureSeries>>& b)
      -> absl::Status {
    v1::RecordBusinessFiguresRequest request;
    request.set_workspace(workspace);
    for (const auto& [l, series] : b) *request.add_series() = series;
    absl::StatusOr<v1::RecordBusinessFiguresResponse> got =
        client.RecordBusinessFigures(request);
    if (!got.ok()) return got.status();
    counts.values += got->values();
    counts.changed += got->changed();
    return absl::OkStatus();
  };
  auto flush = [&] {
    return SendDroppingRejected<v1::BusinessFigureSeries>(
        batch, "series", send, log, &counts.rejected);
  };
  while (reader.Next(&row, &line, &error)) {
    auto reject = [&](absl::string_view why) {
      log << "line " << line << ": rejected: " << why << "\n";
      ++counts.rejected;
    };
    if (!error.empty()) {
      reject(error);
      continue;
    }
    if (row.size() == 1 && row[0].empty()) continue;
    auto get = [&](const char* name) { return CsvField(*col, row, name); };
    v1::BusinessFigureSeries s;
    s.set_name(NormaliseName(get("series")));
    s.set_unit(get("unit"));
    const std::string good = NormaliseName(get("good_when"));
    if (good.empty() || good == "down") {
      s.set_good_when(v1::GOOD_WHEN_DOWN);
    } else if (good == "up") {
      s.set_good_when(v1::GOOD_WHEN_UP);
    } else {
      reject(absl::StrCat("good_when: \"", get("good_when"),
                          "\" is not up or down"));
      continue;
    }
    const std::string agg = NormaliseName(get("aggregation"));
    if (agg.empty() || agg == "sum") {
      s.set_aggregation(v1::FIGURE_AGGREGATION_SUM);
    } else if (agg == "mean") {
      s.set_aggregation(v1::FIGURE_AGGREGATION_MEAN);
    } else if (agg == "last") {
      s.set_aggregation(v1::FIGURE_AGGREGATION_LAST);
    } else {
      reject(absl::StrCat("aggregation: \"", get("aggregation"),
                          "\" is not sum, mean or last"));
      continue;
    }
    const std::string g = NormaliseName(get("granularity"));
    if (g.empty() || g == "day") {
      s.set_granularity(v1::GRANULARITY_DAY);
    } else if (g == "month") {
      s.set_granularity(v1::GRANULARITY_MONTH);
    } else {
      reject(absl::StrCat("granularity: \"", get("granularity"),
                          "\" is not day or month"));
      continue;
    }
    v1::BusinessFigureValue* v = s.add_values();
    v->set_date(get("date"));
    double value;
    if (!absl::SimpleAtod(get("value"), &value)) {
      reject(absl::StrCat("value: \"", get("value"), "\" is not a number"));
      continue;
    }
    v->set_value(value);
    batch.emplace_back(line, std::move(s));
    if (batch.size() >= batch_size) {
      if (absl::Status st = flush(); !st.ok()) return st;
    }
  }
  if (absl::Status st = flush(); !st.ok()) return st;
  return counts;
}

}  // namespace attribution::cli

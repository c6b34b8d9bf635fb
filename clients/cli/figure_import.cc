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
#include "clients/cli/vocabulary.h"

namespace attribution::cli {
namespace {

struct Row {
  int64_t line;
  v1::BusinessFigureSeries series;  // With one value.
};

// The (i, j) of a "series[i].values[j]..." or "series[i]..." message.
bool IndexesOf(absl::string_view m, int* i, int* j) {
  *i = *j = -1;
  if (!absl::ConsumePrefix(&m, "series[")) return false;
  const size_t close = m.find(']');
  if (close == absl::string_view::npos ||
      !absl::SimpleAtoi(m.substr(0, close), i)) {
    return false;
  }
  m.remove_prefix(close + 1);
  if (absl::ConsumePrefix(&m, ".values[")) {
    const size_t c = m.find(']');
    if (c != absl::string_view::npos) (void)absl::SimpleAtoi(m.substr(0, c), j);
  }
  return true;
}

absl::Status Send(client::AttributionClient& client,
                  const std::string& workspace, std::vector<Row>& batch,
                  std::ostream& log, FigureImportCounts* counts) {
  while (!batch.empty()) {
    // One series message per row keeps the indexes simple: series[i] is
    // batch[i].
    v1::RecordBusinessFiguresRequest request;
    request.set_workspace(workspace);
    for (const Row& r : batch) *request.add_series() = r.series;
    absl::StatusOr<v1::RecordBusinessFiguresResponse> got =
        client.RecordBusinessFigures(request);
    if (got.ok()) {
      counts->values += got->values();
      counts->changed += got->changed();
      batch.clear();
      return absl::OkStatus();
    }
    int i, j;
    if (!absl::IsInvalidArgument(got.status()) ||
        !IndexesOf(got.status().message(), &i, &j) || i < 0 ||
        static_cast<size_t>(i) >= batch.size()) {
      return got.status();
    }
    absl::string_view why = got.status().message();
    why.remove_prefix(why.find(": ") + 2);
    const absl::string_view full = got.status().message();
    const size_t field_end = full.find(": ");
    absl::string_view field = full.substr(0, field_end);
    field.remove_prefix(field.rfind('.') + 1);
    log << "line " << batch[i].line << ": rejected: " << field << ": " << why
        << "\n";
    ++counts->rejected;
    batch.erase(batch.begin() + i);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FigureImportCounts> ImportFigures(
    client::AttributionClient& client, const std::string& workspace,
    std::istream& in, size_t batch_size, std::ostream& log) {
  CsvReader reader(in);
  std::vector<std::string> header, row;
  int64_t line = 0;
  std::string error;
  if (!reader.Next(&header, &line, &error)) {
    return absl::InvalidArgumentError("header: the file is empty");
  }
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) {
    col[std::string(absl::StripAsciiWhitespace(header[i]))] = i;
  }
  for (const char* required : {"series", "date", "value"}) {
    if (!col.contains(required)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "header: missing required column ", required,
          " (the columns are series,date,value[,unit,good_when,aggregation,"
          "granularity])"));
    }
  }
  FigureImportCounts counts;
  std::vector<Row> batch;
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
    auto get = [&](const char* name) -> std::string {
      auto it = col.find(name);
      return it == col.end() || it->second >= row.size()
                 ? std::string()
                 : std::string(absl::StripAsciiWhitespace(row[it->second]));
    };
    Row r{line, {}};
    v1::BusinessFigureSeries& s = r.series;
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
    batch.push_back(std::move(r));
    if (batch.size() >= batch_size) {
      if (absl::Status st = Send(client, workspace, batch, log, &counts);
          !st.ok()) {
        return st;
      }
    }
  }
  if (absl::Status st = Send(client, workspace, batch, log, &counts);
      !st.ok()) {
    return st;
  }
  return counts;
}

}  // namespace attribution::cli

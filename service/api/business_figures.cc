#include "service/api/business_figures.h"

#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "service/core/limits.h"
#include "service/core/spend.h"
#include "service/core/status_macros.h"

namespace attribution::api {
namespace {

// Metadata names: the definition, and one value a day.
constexpr char kSeriesPrefix[] = "figure/";
constexpr char kValuePrefix[] = "figure_value/";
const int32_t kMinDay = *ParseDate("2000-01-01");
const int32_t kEndDay = *ParseDate("2200-01-01");

std::string DayText(int32_t day) {
  const absl::CivilDay d = absl::CivilDay(1970, 1, 1) + day;
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

std::string EncodeValue(double v) {
  std::string out(sizeof(v), '\0');
  std::memcpy(out.data(), &v, sizeof(v));
  return out;
}

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

}  // namespace

FigureAggregation AggregationOf(const v1::BusinessFigureSeries& s) {
  switch (s.aggregation()) {
    case v1::FIGURE_AGGREGATION_MEAN:
      return FigureAggregation::kMean;
    case v1::FIGURE_AGGREGATION_LAST:
      return FigureAggregation::kLast;
    default:
      return FigureAggregation::kSum;
  }
}

Polarity PolarityOf(const v1::BusinessFigureSeries& s) {
  return s.good_when() == v1::GOOD_WHEN_DOWN ? Polarity::kDownIsGood
                                             : Polarity::kUpIsGood;
}

absl::StatusOr<std::vector<StoredSeries>> ReadBusinessFigures(
    EventStore& store, absl::string_view workspace) {
  ASSIGN_OR_RETURN(auto definitions, store.ReadMeta(workspace, kSeriesPrefix));
  std::vector<StoredSeries> out;
  for (const auto& [name, bytes] : definitions) {
    StoredSeries& s = out.emplace_back();
    if (!s.definition.ParseFromString(bytes)) {
      return absl::DataLossError(absl::StrCat("corrupt stored series ", name));
    }
    const std::string prefix =
        absl::StrCat(kValuePrefix, s.definition.name(), "/");
    ASSIGN_OR_RETURN(auto values, store.ReadMeta(workspace, prefix));
    for (const auto& [key, value] : values) {
      const std::optional<int32_t> day =
          ParseDate(absl::string_view(key).substr(prefix.size()));
      if (!day || value.size() != sizeof(double)) {
        return absl::DataLossError(absl::StrCat("corrupt stored value ", key));
      }
      double v;
      std::memcpy(&v, value.data(), sizeof(v));
      s.values[*day] = v;
    }
  }
  return out;
}

absl::StatusOr<v1::RecordBusinessFiguresResponse> RecordBusinessFigures(
    EventStore& store, const v1::RecordBusinessFiguresRequest& request,
    size_t max_values) {
  if (request.series().empty()) return Bad("series", "at least one series");
  ASSIGN_OR_RETURN(std::vector<StoredSeries> stored,
                   ReadBusinessFigures(store, request.workspace()));
  absl::flat_hash_map<std::string, const StoredSeries*> by_name;
  for (const StoredSeries& s : stored) by_name[s.definition.name()] = &s;
  size_t total = 0;
  for (const auto& s : request.series()) total += s.values_size();
  if (total > max_values) {
    return absl::ResourceExhaustedError(
        absl::StrCat("series: ", total, " values, the limit is ", max_values,
                     " (--max_batch_events)"));
  }
  std::vector<std::pair<std::string, std::string>> writes;
  absl::flat_hash_map<std::string, std::string> pending;  // value key -> bytes
  absl::flat_hash_set<std::string> new_series;
  v1::RecordBusinessFiguresResponse response;
  for (int i = 0; i < request.series_size(); ++i) {
    const v1::BusinessFigureSeries& in = request.series(i);
    const std::string at = absl::StrCat("series[", i, "].");
    if (const char* r = CheckChannel(in.name()); *r) {  // The slug rules.
      return Bad(at + "name", r);
    }
    if (in.unit().size() > 32 || !IsUtf8(in.unit())) {
      return Bad(at + "unit", "at most 32 bytes of UTF-8");
    }
    if (in.good_when() != v1::GOOD_WHEN_UP &&
        in.good_when() != v1::GOOD_WHEN_DOWN) {
      return Bad(at + "good_when",
                 "is required: GOOD_WHEN_UP or GOOD_WHEN_DOWN");
    }
    if (!v1::FigureAggregation_IsValid(in.aggregation())) {
      return Bad(at + "aggregation",
                 absl::StrCat("unknown value ", in.aggregation()));
    }
    const bool monthly = in.granularity() == v1::GRANULARITY_MONTH;
    if (!monthly && in.granularity() != v1::GRANULARITY_UNSPECIFIED &&
        in.granularity() != v1::GRANULARITY_DAY) {
      return Bad(at + "granularity",
                 "must be GRANULARITY_DAY or GRANULARITY_MONTH");
    }
    v1::BusinessFigureSeries definition = in;
    definition.clear_values();
    definition.set_granularity(monthly ? v1::GRANULARITY_MONTH
                                       : v1::GRANULARITY_DAY);
    if (definition.aggregation() == v1::FIGURE_AGGREGATION_UNSPECIFIED) {
      definition.set_aggregation(v1::FIGURE_AGGREGATION_SUM);
    }
    auto known = by_name.find(in.name());
    if (known != by_name.end() &&
        known->second->definition.granularity() != definition.granularity()) {
      return Bad(at + "granularity",
                 absl::StrCat("the series \"", in.name(), "\" is ",
                              monthly ? "daily" : "monthly",
                              "; its granularity cannot change"));
    }
    if (known == by_name.end()) new_series.insert(in.name());
    if (in.values().empty()) return Bad(at + "values", "at least one value");
    writes.emplace_back(absl::StrCat(kSeriesPrefix, in.name()),
                        definition.SerializeAsString());
    for (int j = 0; j < in.values_size(); ++j) {
      const v1::BusinessFigureValue& v = in.values(j);
      const std::string vat = absl::StrCat(at, "values[", j, "].");
      const std::optional<int32_t> day = ParseDate(v.date());
      if (!day) {
        return Bad(
            vat + "date",
            absl::StrCat("\"", v.date(), "\" is not a date as YYYY-MM-DD"));
      }
      if (*day < kMinDay || *day >= kEndDay) {
        return Bad(vat + "date", "must be from 2000-01-01 to 2199-12-31");
      }
      if (monthly && !absl::EndsWith(v.date(), "-01")) {
        return Bad(vat + "date",
                   "a monthly series takes the first day of the month");
      }
      if (!std::isfinite(v.value()))
        return Bad(vat + "value", "must be finite");
      const std::string key =
          absl::StrCat(kValuePrefix, in.name(), "/", DayText(*day));
      const std::string bytes = EncodeValue(v.value());
      std::optional<double> before;
      if (auto p = pending.find(key); p != pending.end()) {
        double d;
        std::memcpy(&d, p->second.data(), sizeof(d));
        before = d;
      } else if (known != by_name.end()) {
        if (auto it = known->second->values.find(*day);
            it != known->second->values.end()) {
          before = it->second;
        }
      }
      if (!before || EncodeValue(*before) != bytes) {
        response.set_changed(response.changed() + 1);
      }
      response.set_values(response.values() + 1);
      pending[key] = bytes;
      writes.emplace_back(key, bytes);
    }
  }
  if (stored.size() + new_series.size() >
      static_cast<size_t>(kMaxBusinessSeries)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("series: the workspace would hold more than ",
                     kMaxBusinessSeries, " series"));
  }
  RETURN_IF_ERROR(store.PutMetaBatch(request.workspace(), writes));
  return response;
}

}  // namespace attribution::api

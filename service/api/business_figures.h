// Business figures (ReportService.RecordBusinessFigures): named daily or
// monthly series beyond marketing, stored as workspace metadata.
#ifndef ATTRIBUTION_SERVICE_API_BUSINESS_FIGURES_H_
#define ATTRIBUTION_SERVICE_API_BUSINESS_FIGURES_H_

#include <cstdint>
#include <map>
#include <vector>

#include "absl/status/statusor.h"
#include "attribution/v1/report_service.pb.h"
#include "service/core/report.h"
#include "storage/event_store.h"

namespace attribution::api {

inline constexpr int kMaxBusinessSeries = 100;

struct StoredSeries {
  v1::BusinessFigureSeries definition;  // Without values.
  std::map<int32_t, double> values;     // By day since 1970-01-01.
};

// Every series of the workspace, by name.
absl::StatusOr<std::vector<StoredSeries>> ReadBusinessFigures(
    EventStore& store, absl::string_view workspace);

// Validates and stores the request (all or nothing).
absl::StatusOr<v1::RecordBusinessFiguresResponse> RecordBusinessFigures(
    EventStore& store, const v1::RecordBusinessFiguresRequest& request,
    size_t max_values);

FigureAggregation AggregationOf(const v1::BusinessFigureSeries& s);
Polarity PolarityOf(const v1::BusinessFigureSeries& s);

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_BUSINESS_FIGURES_H_

// attributionctl import figures: business figures from a CSV file.
#ifndef ATTRIBUTION_CLIENTS_CLI_FIGURE_IMPORT_H_
#define ATTRIBUTION_CLIENTS_CLI_FIGURE_IMPORT_H_

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "clients/cpp/attribution_client.h"

namespace attribution::cli {

struct FigureImportCounts {
  int64_t values = 0;
  int64_t changed = 0;
  int64_t rejected = 0;
};

// Reads a CSV with the columns series, date and value, and optionally unit,
// good_when (up or down; default down), aggregation (sum, mean or last;
// default sum) and granularity (day or month; default day), by header name,
// and records them, `batch_size` values a RecordBusinessFigures call. A row
// the file or the server rejects is logged to `log` with its line and
// skipped; the rest of its batch is sent again without it. InvalidArgument
// for a file without the required columns.
absl::StatusOr<FigureImportCounts> ImportFigures(
    client::AttributionClient& client, const std::string& workspace,
    std::istream& in, size_t batch_size, std::ostream& log);

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_FIGURE_IMPORT_H_

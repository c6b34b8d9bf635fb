// `attributionctl import spend FILE`: a CSV of date,channel,campaign,amount,
// currency sent to RecordSpend in batches. A row the client cannot parse, or
// the server rejects, is reported with its line and left out; the rest of its
// batch is sent again, so everything else is stored.
#ifndef ATTRIBUTION_CLIENTS_CLI_SPEND_IMPORT_H_
#define ATTRIBUTION_CLIENTS_CLI_SPEND_IMPORT_H_

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attribution/v1/report_service.pb.h"
#include "clients/cpp/attribution_client.h"

namespace attribution::cli {

// One CSV record (fields in `header` order) as a Spend. InvalidArgument
// naming the column otherwise.
absl::StatusOr<v1::Spend> SpendFromFields(
    const std::vector<std::string>& header,
    const std::vector<std::string>& fields);

struct SpendImportSummary {
  int64_t rows = 0;
  int64_t stored = 0;   // Rows the server accepted.
  int64_t changed = 0;  // Of those, rows that changed a stored amount.
  int64_t rejected = 0;
  // Not OK if the file's header is unusable or a call failed for another
  // reason than a bad row.
  absl::Status status;
};

SpendImportSummary ImportSpend(client::AttributionClient& client,
                               std::istream& in, const std::string& workspace,
                               size_t batch_size, std::ostream* log);

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_SPEND_IMPORT_H_

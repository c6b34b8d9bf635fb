// attributionctl import links: identity links from a CSV file.
#ifndef ATTRIBUTION_CLIENTS_CLI_LINK_IMPORT_H_
#define ATTRIBUTION_CLIENTS_CLI_LINK_IMPORT_H_

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "clients/cpp/attribution_client.h"

namespace attribution::cli {

struct LinkImportCounts {
  int64_t linked = 0;
  int64_t unchanged = 0;
  int64_t moved = 0;
  int64_t rejected = 0;
};

// Reads a CSV with the columns identity_id and customer_id (by header name,
// in any order; others ignored) and sends its links in order, `batch_size` a
// LinkIdentities call. A row the server or the file rejects (an empty id, a
// cycle) is logged to `log` with its line and skipped; the others of its
// batch are sent again without it. InvalidArgument for a file without those
// columns; the call's error for anything else the server refuses.
absl::StatusOr<LinkImportCounts> ImportLinks(client::AttributionClient& client,
                                             const std::string& workspace,
                                             std::istream& in,
                                             size_t batch_size,
                                             std::ostream& log);

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_LINK_IMPORT_H_

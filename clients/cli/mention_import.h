// attributionctl import mentions: the public conversation from a CSV file.
#ifndef ATTRIBUTION_CLIENTS_CLI_MENTION_IMPORT_H_
#define ATTRIBUTION_CLIENTS_CLI_MENTION_IMPORT_H_

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "clients/cpp/attribution_client.h"

namespace attribution::cli {

struct MentionImportCounts {
  int64_t stored = 0;
  int64_t duplicates = 0;
  int64_t answered = 0;
  int64_t conflicts = 0;
  int64_t rejected = 0;
};

// Reads a CSV with the columns mention_id, channel and occurred_at, and
// optionally brand (empty: the workspace's own), sentiment, author,
// is_question (true/false, 1/0) and answered_at, and records them,
// `batch_size` a RecordMentions call. A row the file or the server rejects
// is logged to `log` with its line and skipped; the rest of its batch is
// sent again without it.
absl::StatusOr<MentionImportCounts> ImportMentions(
    client::AttributionClient& client, const std::string& workspace,
    std::istream& in, size_t batch_size, std::ostream& log);

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_MENTION_IMPORT_H_

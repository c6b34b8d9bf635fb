// Streams an event file to IngestEvents in batches, keeping a window of
// batches in flight. A row the client cannot parse, or the server rejects, is
// reported with its line number and reason; the rest is still imported.
#ifndef ATTRIBUTION_CLIENTS_CLI_IMPORTER_H_
#define ATTRIBUTION_CLIENTS_CLI_IMPORTER_H_

#include <cstdint>
#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attribution/v1/attribution_service.pb.h"
#include "clients/cpp/attribution_client.h"

namespace attribution::cli {

// Rows of an event file.
class RowSource {
 public:
  virtual ~RowSource() = default;
  // The next row, false at the end. `line` is where the row starts; `event`
  // holds the event or why the row is malformed.
  virtual bool Next(int64_t* line, absl::StatusOr<v1::Event>* event) = 0;
};

// A CSV source reads and checks the header first: InvalidArgument if a
// required column is missing, before anything is sent.
absl::StatusOr<std::unique_ptr<RowSource>> NewCsvSource(std::istream& in);
std::unique_ptr<RowSource> NewJsonLinesSource(std::istream& in);

struct ImportOptions {
  std::string workspace;
  // Events per IngestEvents message.
  size_t batch_size = 1000;
  // Batches sent but not yet acknowledged, at most.
  size_t window = 16;
  // Where rejected rows and progress go (one line each). May be null.
  std::ostream* log = nullptr;
};

struct ImportSummary {
  int64_t rows = 0;
  int64_t stored = 0;
  // Already stored with the same content (retries).
  int64_t duplicates = 0;
  // Already stored with other content: not stored, the first write wins.
  int64_t conflicts = 0;
  // The first few conflicting event ids.
  std::vector<std::string> conflict_event_ids;
  int64_t rejected = 0;
  // The server refused a batch for its size (RESOURCE_EXHAUSTED naming
  // --max_batch_events): the import stopped; send smaller batches.
  bool batch_too_large = false;
  double seconds = 0;
  // Not OK if the stream failed; rows not acknowledged by then are in
  // neither stored, duplicates nor rejected.
  absl::Status status;
};

ImportSummary ImportEvents(client::AttributionClient& client, RowSource& source,
                           const ImportOptions& options);

struct BulkImportOptions {
  std::string workspace;
  // The input is JSONL (converted to CSV rows as it is read), else CSV.
  bool jsonl = false;
  // Bytes of rows per BulkImportEvents request, at most (a record longer
  // than this goes alone). Under the server's --max_message_bytes.
  size_t part_bytes = 8 << 20;
  // Requests in flight at once: the server parses one while it stores
  // another.
  size_t in_flight = 2;
  // Where rejected rows and progress go (one line each). May be null.
  std::ostream* log = nullptr;
};

// Sends an event file to BulkImportEvents in parts split at record
// boundaries, each with the CSV header (each part is stored atomically by
// the server). Rejected rows are reported with their line in the file. On
// a failed request the import stops; the parts acknowledged before it are
// stored (a re-run counts them as duplicates).
ImportSummary BulkImportEvents(client::AttributionClient& client,
                               std::istream& in,
                               const BulkImportOptions& options);

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_IMPORTER_H_

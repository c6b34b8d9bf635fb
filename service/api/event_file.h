// Event files in the interchange format (README "Event files"), parsed by the
// server for bulk load: a CSV with a header row naming the columns
//   event_id, customer_id, occurred_at, type, channel, campaign, interaction,
//   stage, sentiment, conversion, revenue, currency
// (the first seven required, others ignored). Values are read as
// attributionctl reads them for a streaming import, and checked as
// RecordEvents checks an event; a row's error names the column instead of
// the proto field.
#ifndef ATTRIBUTION_SERVICE_API_EVENT_FILE_H_
#define ATTRIBUTION_SERVICE_API_EVENT_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "service/core/event.h"

namespace attribution::api {

// The most rejected rows a parse names (all are counted).
inline constexpr size_t kMaxRejectedRowsShown = 100;

struct RejectedRow {
  int64_t line = 0;  // Where the row starts, 1-based, plus the line offset.
  int64_t row = 0;   // The data row's number in the text, 1-based.
  std::string reason;
};

struct ParsedEventFile {
  // The valid rows' events, in file order.
  std::vector<Event> events;
  // Data rows read (blank lines are not rows).
  int64_t rows = 0;
  int64_t rejected = 0;
  // The first kMaxRejectedRowsShown rejected rows, in file order.
  std::vector<RejectedRow> rejected_rows;
};

struct EventFileOptions {
  // Added to every line number, so that a client sending a file in parts
  // can name the lines of its file.
  int64_t line_offset = 0;
  // Bounds occurred_at (at most 24 h ahead of it).
  absl::Time now;
  // When not empty, a purchase in another currency is rejected.
  std::string reporting_currency;
};

// Parses a whole CSV text: a header row, then one event per record (quoted
// fields may hold commas, quotes and line breaks; CRLF line ends are
// accepted). InvalidArgument for the file as a whole: no header row, or a
// required column missing (naming it). A bad row is rejected on its own,
// with its line and the reason ("occurred_at: ... is not RFC 3339"), and
// the others are kept. Thread-safe (no shared state).
absl::StatusOr<ParsedEventFile> ParseCsvEvents(absl::string_view text,
                                               const EventFileOptions& options);

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_EVENT_FILE_H_

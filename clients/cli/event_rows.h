// The interchange format (README "Event files"): one event per CSV row or
// JSONL line, with the columns
//   event_id, customer_id, occurred_at, type, channel, campaign, interaction,
//   stage, sentiment, conversion, revenue, currency.
#ifndef ATTRIBUTION_CLIENTS_CLI_EVENT_ROWS_H_
#define ATTRIBUTION_CLIENTS_CLI_EVENT_ROWS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attribution/v1/attribution_service.pb.h"

namespace attribution::cli {

enum Column {
  kEventId,
  kCustomerId,
  kOccurredAt,
  kType,
  kChannel,
  kCampaign,
  kInteraction,
  kStage,
  kSentiment,
  kConversion,
  kRevenue,
  kCurrency,
  kColumnCount,
};
extern const std::array<const char*, kColumnCount> kColumnNames;

// One row's values by column; absent columns are empty.
using RowValues = std::array<std::string, kColumnCount>;

// Maps a CSV header to column positions. InvalidArgument naming the missing
// columns if a required one (event_id, customer_id, occurred_at, type,
// channel, interaction, conversion) is absent. Unknown columns are ignored.
absl::StatusOr<std::array<int, kColumnCount>> MapHeader(
    const std::vector<std::string>& header);

// Picks a CSV record's values by the header map.
RowValues PickValues(const std::vector<std::string>& fields,
                     const std::array<int, kColumnCount>& positions);

// Parses one JSONL line (a JSON object with the column names as keys).
absl::StatusOr<RowValues> ParseJsonLine(absl::string_view line);

// Builds the event a row describes. InvalidArgument naming the column on a
// malformed value. The server validates the rest (lengths, ranges, codes).
absl::StatusOr<v1::Event> RowToEvent(const RowValues& row);

// Exact decimal ("19.99") -> micros. At most 6 decimals, no sign or exponent.
absl::StatusOr<int64_t> ParseDecimalMicros(absl::string_view s);
// Micros -> exact decimal, at least 2 decimals when not whole ("19.90",
// "5", "0.125").
std::string FormatMicros(int64_t micros);

// A journey event as row values (for CSV/JSON output), plus its stage.
RowValues EventToRow(const v1::Event& event);
std::string StageName(v1::Stage stage);
std::string FormatTimestamp(const google::protobuf::Timestamp& ts);

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_EVENT_ROWS_H_

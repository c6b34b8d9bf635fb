// Output of attributionctl: the same rows as an aligned table, JSON or CSV.
#ifndef ATTRIBUTION_CLIENTS_CLI_OUTPUT_H_
#define ATTRIBUTION_CLIENTS_CLI_OUTPUT_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace attribution::cli {

enum class Format { kTable, kJson, kCsv };
absl::StatusOr<Format> ParseFormat(absl::string_view name);

struct Cell {
  std::string text;
  bool numeric = false;  // A JSON number rather than a string.
};

struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<Cell>> rows;
};

// Rows of `table` as JSON objects keyed by column.
google::protobuf::Value RowsToJson(const Table& table);
// One row as a JSON object.
google::protobuf::Value RowToJson(const Table& table, size_t row);
std::string ToJson(const google::protobuf::Value& value);

// Table: aligned columns under a header. CSV: header row, then rows. JSON: an
// array of objects, or one object when `single` is set.
void Print(const Table& table, Format format, bool single, std::ostream& out);

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_OUTPUT_H_

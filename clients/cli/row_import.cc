#include "clients/cli/row_import.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace attribution::cli {

absl::StatusOr<std::map<std::string, size_t>> ReadCsvHeader(
    CsvReader& reader, std::initializer_list<const char*> required,
    absl::string_view columns) {
  std::vector<std::string> header;
  int64_t line = 0;
  std::string error;
  if (!reader.Next(&header, &line, &error)) {
    return absl::InvalidArgumentError("header: the file is empty");
  }
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) {
    col[std::string(absl::StripAsciiWhitespace(header[i]))] = i;
  }
  for (const char* name : required) {
    if (!col.contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("header: missing required column ", name,
                       " (the columns are ", columns, ")"));
    }
  }
  return col;
}

std::string CsvField(const std::map<std::string, size_t>& columns,
                     const std::vector<std::string>& row, const char* name) {
  auto it = columns.find(name);
  return it == columns.end() || it->second >= row.size()
             ? std::string()
             : std::string(absl::StripAsciiWhitespace(row[it->second]));
}

int ListIndexOf(absl::string_view message, absl::string_view list) {
  if (!absl::ConsumePrefix(&message, list) ||
      !absl::ConsumePrefix(&message, "[")) {
    return -1;
  }
  const size_t close = message.find(']');
  int i = -1;
  if (close == absl::string_view::npos ||
      !absl::SimpleAtoi(message.substr(0, close), &i)) {
    return -1;
  }
  return i;
}

}  // namespace attribution::cli

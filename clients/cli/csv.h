// RFC 4180 CSV: a streaming reader (quoted fields may hold commas, quotes and
// line breaks) and field escaping for output.
#ifndef ATTRIBUTION_CLIENTS_CLI_CSV_H_
#define ATTRIBUTION_CLIENTS_CLI_CSV_H_

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace attribution::cli {

class CsvReader {
 public:
  explicit CsvReader(std::istream& in) : in_(in) {}

  // Reads the next record into `fields`; `line` is set to the 1-based line it
  // starts on. False at end of input. A record with an unterminated quote
  // sets `error` and still returns true, with what was read.
  bool Next(std::vector<std::string>* fields, int64_t* line,
            std::string* error);

 private:
  std::istream& in_;
  int64_t line_ = 0;
  std::string buf_;
};

// The field as CSV: quoted when it holds a comma, quote or line break.
std::string CsvEscape(absl::string_view field);

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_CSV_H_

// What the imports of small record files (links, business figures,
// mentions) share: the CSV header, and sending a batch again without the
// rows the server names.
#ifndef ATTRIBUTION_CLIENTS_CLI_ROW_IMPORT_H_
#define ATTRIBUTION_CLIENTS_CLI_ROW_IMPORT_H_

#include <cstdint>
#include <initializer_list>
#include <map>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "clients/cli/csv.h"

namespace attribution::cli {

// Column name -> index, from the header; InvalidArgument naming a missing
// required column (and `columns`, the file's columns, for help).
absl::StatusOr<std::map<std::string, size_t>> ReadCsvHeader(
    CsvReader& reader, std::initializer_list<const char*> required,
    absl::string_view columns);

// The value of column `name` in `row` (trimmed), "" if absent.
std::string CsvField(const std::map<std::string, size_t>& columns,
                     const std::vector<std::string>& row, const char* name);

// The i of a message "<list>[i]...", or -1.
int ListIndexOf(absl::string_view message, absl::string_view list);

// Sends `batch` (each item with its line) with `send`; when the server
// rejects it with InvalidArgument naming "<list>[i]", logs line and reason
// ("line 7: rejected: customer_id: ..."), drops item i, counts it in
// `rejected` and sends the rest again. Any other error is returned.
template <typename Item>
absl::Status SendDroppingRejected(
    std::vector<std::pair<int64_t, Item>>& batch, absl::string_view list,
    absl::FunctionRef<
        absl::Status(const std::vector<std::pair<int64_t, Item>>&)>
        send,
    std::ostream& log, int64_t* rejected) {
  while (!batch.empty()) {
    const absl::Status s = send(batch);
    if (s.ok()) {
      batch.clear();
      return s;
    }
    const int i =
        absl::IsInvalidArgument(s) ? ListIndexOf(s.message(), list) : -1;
    if (i < 0 || static_cast<size_t>(i) >= batch.size()) return s;
    // "links[3].customer_id: ..." -> "customer_id: ..."; a nested field
    // keeps its last part ("series[0].values[1].date: ..." -> "date: ...").
    absl::string_view why = s.message();
    const size_t colon = why.find(": ");
    absl::string_view field = why.substr(0, colon);
    why.remove_prefix(colon == absl::string_view::npos ? why.size()
                                                       : colon + 2);
    const size_t dot = field.rfind('.');
    field = dot == absl::string_view::npos || field.back() == ']'
                ? absl::string_view()
                : field.substr(dot + 1);
    log << "line " << batch[i].first << ": rejected: " << field
        << (field.empty() ? "" : ": ") << why << "\n";
    ++*rejected;
    batch.erase(batch.begin() + i);
  }
  return absl::OkStatus();
}

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_ROW_IMPORT_H_

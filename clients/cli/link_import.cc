#include "clients/cli/link_import.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/csv.h"
#include "clients/cli/row_import.h"

namespace attribution::cli {

absl::StatusOr<LinkImportCounts> ImportLinks(client::AttributionClient& client,
                                             const std::string& workspace,
                                             std::istream& in,
                                             size_t batch_size,
                                             std::ostream& log) {
  CsvReader reader(in);
  absl::StatusOr<std::map<std::string, size_t>> col = ReadCsvHeader(
      reader, {"identity_id", "customer_id"}, "identity_id,customer_id");
  if (!col.ok()) return col.status();
  LinkImportCounts counts;
  std::vector<std::pair<int64_t, v1::IdentityLink>> batch;
  auto send = [&](const std::vector<std::pair<int64_t, v1::IdentityLink>>& b)
      -> absl::Status {
    v1::LinkIdentitiesRequest request;
    request.set_workspace(workspace);
    for (const auto& [line, link] : b) *request.add_links() = link;
    absl::StatusOr<v1::LinkIdentitiesResponse> r =
        client.LinkIdentities(request);
    if (!r.ok()) return r.status();
    counts.linked += r->linked();
    counts.unchanged += r->unchanged();
    counts.moved += r->moved();
    return absl::OkStatus();
  };
  auto flush = [&] {
    return SendDroppingRejected<v1::IdentityLink>(batch, "links", send, log,
                                                  &counts.rejected);
  };
  std::vector<std::string> row;
  int64_t line = 0;
  std::string error;
  while (reader.Next(&row, &line, &error)) {
    if (!error.empty()) {
      log << "line " << line << ": rejected: " << error << "\n";
      ++counts.rejected;
      continue;
    }
    if (row.size() == 1 && row[0].empty()) continue;  // A blank line.
    v1::IdentityLink link;
    link.set_identity_id(CsvField(*col, row, "identity_id"));
    link.set_customer_id(CsvField(*col, row, "customer_id"));
    batch.emplace_back(line, std::move(link));
    if (batch.size() >= batch_size) {
      if (absl::Status s = flush(); !s.ok()) return s;
    }
  }
  if (absl::Status s = flush(); !s.ok()) return s;
  return counts;
}

}  // namespace attribution::cli

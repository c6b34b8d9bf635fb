#include "clients/cli/link_import.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/csv.h"

namespace attribution::cli {
namespace {

// The i of a "links[i]..." message, or -1.
int LinkIndexOf(absl::string_view message) {
  constexpr absl::string_view kPrefix = "links[";
  if (!absl::StartsWith(message, kPrefix)) return -1;
  message.remove_prefix(kPrefix.size());
  const size_t close = message.find(']');
  int i = -1;
  if (close == absl::string_view::npos ||
      !absl::SimpleAtoi(message.substr(0, close), &i)) {
    return -1;
  }
  return i;
}

// Sends `batch` (with the line of each link), dropping and logging the links
// the server names, until the rest is stored.
absl::Status Send(client::AttributionClient& client,
                  const std::string& workspace,
                  std::vector<std::pair<int64_t, v1::IdentityLink>>& batch,
                  std::ostream& log, LinkImportCounts* counts) {
  while (!batch.empty()) {
    v1::LinkIdentitiesRequest request;
    request.set_workspace(workspace);
    for (const auto& [line, link] : batch) *request.add_links() = link;
    absl::StatusOr<v1::LinkIdentitiesResponse> r =
        client.LinkIdentities(request);
    if (r.ok()) {
      counts->linked += r->linked();
      counts->unchanged += r->unchanged();
      counts->moved += r->moved();
      batch.clear();
      return absl::OkStatus();
    }
    const int i = absl::IsInvalidArgument(r.status())
                      ? LinkIndexOf(r.status().message())
                      : -1;
    if (i < 0 || static_cast<size_t>(i) >= batch.size()) return r.status();
    // "links[3].customer_id: ..." -> "customer_id: ..."
    absl::string_view why = r.status().message();
    why.remove_prefix(why.find(']') + 1);
    if (absl::StartsWith(why, ".")) why.remove_prefix(1);
    if (absl::StartsWith(why, ": ")) why.remove_prefix(2);
    log << "line " << batch[i].first << ": rejected: " << why << "\n";
    ++counts->rejected;
    batch.erase(batch.begin() + i);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LinkImportCounts> ImportLinks(client::AttributionClient& client,
                                             const std::string& workspace,
                                             std::istream& in,
                                             size_t batch_size,
                                             std::ostream& log) {
  CsvReader reader(in);
  std::vector<std::string> header, row;
  int64_t line = 0;
  std::string error;
  if (!reader.Next(&header, &line, &error)) {
    return absl::InvalidArgumentError("header: the file is empty");
  }
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) {
    col[std::string(absl::StripAsciiWhitespace(header[i]))] = i;
  }
  for (const char* required : {"identity_id", "customer_id"}) {
    if (!col.contains(required)) {
      return absl::InvalidArgumentError(
          absl::StrCat("header: missing required column ", required,
                       " (the columns are identity_id,customer_id)"));
    }
  }
  LinkImportCounts counts;
  std::vector<std::pair<int64_t, v1::IdentityLink>> batch;
  while (reader.Next(&row, &line, &error)) {
    if (!error.empty()) {
      log << "line " << line << ": rejected: " << error << "\n";
      ++counts.rejected;
      continue;
    }
    if (row.size() == 1 && row[0].empty()) continue;  // A blank line.
    auto get = [&](const char* name) -> std::string {
      const size_t i = col[name];
      return i < row.size() ? std::string(absl::StripAsciiWhitespace(row[i]))
                            : std::string();
    };
    v1::IdentityLink link;
    link.set_identity_id(get("identity_id"));
    link.set_customer_id(get("customer_id"));
    batch.emplace_back(line, std::move(link));
    if (batch.size() >= batch_size) {
      if (absl::Status s = Send(client, workspace, batch, log, &counts);
          !s.ok()) {
        return s;
      }
    }
  }
  if (absl::Status s = Send(client, workspace, batch, log, &counts); !s.ok()) {
    return s;
  }
  return counts;
}

}  // namespace attribution::cli

#include "clients/cli/spend_import.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cli/csv.h"
#include "clients/cli/event_rows.h"

namespace attribution::cli {
namespace {

constexpr const char* kRequired[] = {"date", "channel", "amount", "currency"};

int Position(const std::vector<std::string>& header, absl::string_view name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (absl::StripAsciiWhitespace(header[i]) == name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// The row index a RecordSpend error names ("spend[12].currency: ..."), or -1.
int RejectedIndex(const absl::Status& s) {
  const absl::string_view m = s.message();
  if (!absl::StartsWith(m, "spend[")) return -1;
  const size_t close = m.find(']');
  int index = -1;
  if (close == absl::string_view::npos ||
      !absl::SimpleAtoi(m.substr(6, close - 6), &index)) {
    return -1;
  }
  return index;
}

}  // namespace

absl::StatusOr<v1::Spend> SpendFromFields(
    const std::vector<std::string>& header,
    const std::vector<std::string>& fields) {
  auto get = [&](absl::string_view name) -> std::string {
    const int i = Position(header, name);
    if (i < 0 || static_cast<size_t>(i) >= fields.size()) return "";
    return std::string(absl::StripAsciiWhitespace(fields[i]));
  };
  v1::Spend spend;
  spend.set_date(get("date"));
  spend.set_channel(get("channel"));
  spend.set_campaign(get("campaign"));
  spend.set_currency(get("currency"));
  absl::StatusOr<int64_t> amount = ParseDecimalMicros(get("amount"));
  if (!amount.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("amount: ", amount.status().message()));
  }
  spend.set_amount_micros(*amount);
  return spend;
}

SpendImportSummary ImportSpend(client::AttributionClient& client,
                               std::istream& in, const std::string& workspace,
                               size_t batch_size, std::ostream* log) {
  SpendImportSummary summary;
  CsvReader reader(in);
  std::vector<std::string> header;
  int64_t line = 0;
  std::string error;
  if (!reader.Next(&header, &line, &error) || !error.empty()) {
    summary.status = absl::InvalidArgumentError("no CSV header");
    return summary;
  }
  std::vector<std::string> missing;
  for (const char* name : kRequired) {
    if (Position(header, name) < 0) missing.push_back(name);
  }
  if (!missing.empty()) {
    summary.status = absl::InvalidArgumentError(absl::StrCat(
        "missing column(s) ", absl::StrJoin(missing, ", "),
        "; the header must name date,channel,campaign,amount,currency"));
    return summary;
  }
  auto reject = [&](int64_t at, absl::string_view why) {
    ++summary.rejected;
    if (log != nullptr) *log << "line " << at << ": rejected: " << why << "\n";
  };
  std::vector<std::pair<int64_t, v1::Spend>> batch;
  // Sends the batch; a row the server rejects is reported and the rest sent
  // again (RecordSpend stores all of a batch or none of it).
  auto flush = [&]() -> bool {
    while (!batch.empty()) {
      v1::RecordSpendRequest request;
      request.set_workspace(workspace);
      for (const auto& [at, spend] : batch) *request.add_spend() = spend;
      absl::StatusOr<v1::RecordSpendResponse> response =
          client.RecordSpend(request);
      if (response.ok()) {
        summary.stored += response->rows();
        summary.changed += response->changed();
        batch.clear();
        return true;
      }
      const int index = RejectedIndex(response.status());
      if (!absl::IsInvalidArgument(response.status()) || index < 0 ||
          static_cast<size_t>(index) >= batch.size()) {
        summary.status = response.status();
        return false;
      }
      reject(batch[index].first, response.status().message());
      batch.erase(batch.begin() + index);
    }
    return true;
  };
  std::vector<std::string> fields;
  while (reader.Next(&fields, &line, &error)) {
    if (fields.size() == 1 && fields[0].empty()) continue;  // Blank line.
    ++summary.rows;
    if (!error.empty()) {
      reject(line, error);
      continue;
    }
    absl::StatusOr<v1::Spend> spend = SpendFromFields(header, fields);
    if (!spend.ok()) {
      reject(line, spend.status().message());
      continue;
    }
    batch.emplace_back(line, *std::move(spend));
    if (batch.size() >= std::max<size_t>(1, batch_size) && !flush()) {
      return summary;
    }
  }
  flush();
  return summary;
}

}  // namespace attribution::cli

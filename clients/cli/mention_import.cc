#include "clients/cli/mention_import.h"

#include <map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "clients/cli/attribution_args.h"
#include "clients/cli/csv.h"
#include "clients/cli/row_import.h"
#include "clients/cli/vocabulary.h"

namespace attribution::cli {

absl::StatusOr<MentionImportCounts> ImportMentions(
    client::AttributionClient& client, const std::string& workspace,
    std::istream& in, size_t batch_size, std::ostream& log) {
  CsvReader reader(in);
  absl::StatusOr<std::map<std::string, size_t>> col = ReadCsvHeader(
      reader, {"mention_id", "channel", "occurred_at"},
      "mention_id,brand,channel,occurred_at,sentiment,author,is_question,"
      "answered_at");
  if (!col.ok()) return col.status();
  std::vector<std::string> row;
  int64_t line = 0;
  std::string error;
  MentionImportCounts counts;
  std::vector<std::pair<int64_t, v1::Mention>> batch;
  auto send = [&](const std::vector<std::pair<int64_t, v1::Mention>>& b)
      -> absl::Status {
    v1::RecordMentionsRequest request;
    request.set_workspace(workspace);
    for (const auto& [l, m] : b) *request.add_mentions() = m;
    absl::StatusOr<v1::RecordMentionsResponse> got =
        client.RecordMentions(request);
    if (!got.ok()) return got.status();
    counts.stored += got->stored();
    counts.duplicates += got->duplicates();
    counts.answered += got->answered();
    counts.conflicts += got->conflicts();
    for (const std::string& id : got->conflict_mention_ids()) {
      log << "warning: mention " << id
          << " was stored with other content; not stored again\n";
    }
    return absl::OkStatus();
  };
  auto flush = [&] {
    return SendDroppingRejected<v1::Mention>(batch, "mentions", send, log,
                                             &counts.rejected);
  };
  while (reader.Next(&row, &line, &error)) {
    auto reject = [&](absl::string_view why) {
      log << "line " << line << ": rejected: " << why << "\n";
      ++counts.rejected;
    };
    if (!error.empty()) {
      reject(error);
      continue;
    }
    if (row.size() == 1 && row[0].empty()) continue;
    auto get = [&](const char* name) { return CsvField(*col, row, name); };
    v1::Mention m;
    m.set_mention_id(get("mention_id"));
    m.set_brand(get("brand"));
    m.set_channel(get("channel"));
    m.set_author(get("author"));
    absl::StatusOr<google::protobuf::Timestamp> at =
        ParseWhen("occurred_at", get("occurred_at"));
    if (!at.ok()) {
      reject(at.status().message());
      continue;
    }
    *m.mutable_occurred_at() = *at;
    if (const std::string a = get("answered_at"); !a.empty()) {
      absl::StatusOr<google::protobuf::Timestamp> t =
          ParseWhen("answered_at", a);
      if (!t.ok()) {
        reject(t.status().message());
        continue;
      }
      *m.mutable_answered_at() = *t;
    }
    const std::string sentiment = NormaliseName(get("sentiment"));
    v1::Sentiment s = v1::SENTIMENT_UNSPECIFIED;
    if (!sentiment.empty() &&
        !v1::Sentiment_Parse(
            absl::StrCat("SENTIMENT_", absl::AsciiStrToUpper(sentiment)), &s)) {
      reject(absl::StrCat("sentiment: \"", get("sentiment"),
                          "\" is not positive, neutral or negative"));
      continue;
    }
    m.set_sentiment(s);
    const std::string q = absl::AsciiStrToLower(get("is_question"));
    if (q == "true" || q == "1" || q == "yes") {
      m.set_is_question(true);
    } else if (!q.empty() && q != "false" && q != "0" && q != "no") {
      reject(absl::StrCat("is_question: \"", get("is_question"),
                          "\" is not true or false"));
      continue;
    }
    batch.emplace_back(line, std::move(m));
    if (batch.size() >= batch_size) {
      if (absl::Status st = flush(); !st.ok()) return st;
    }
  }
  if (absl::Status st = flush(); !st.ok()) return st;
  return counts;
}

}  // namespace attribution::cli

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
#include "clients/cli/vocabulary.h"

namespace attribution::cli {
namespace {

// The i of "mentions[i]...", or -1.
int IndexOf(absl::string_view m) {
  int i = -1;
  if (!absl::ConsumePrefix(&m, "mentions[")) return -1;
  const size_t close = m.find(']');
  if (close == absl::string_view::npos ||
      !absl::SimpleAtoi(m.substr(0, close), &i)) {
    return -1;
  }
  return i;
}

absl::Status Send(client::AttributionClient& client,
                  const std::string& workspace,
                  std::vector<std::pair<int64_t, v1::Mention>>& batch,
                  std::ostream& log, MentionImportCounts* counts) {
  while (!batch.empty()) {
    v1::RecordMentionsRequest request;
    request.set_workspace(workspace);
    for (const auto& [line, m] : batch) *request.add_mentions() = m;
    absl::StatusOr<v1::RecordMentionsResponse> got =
        client.RecordMentions(request);
    if (got.ok()) {
      counts->stored += got->stored();
      counts->duplicates += got->duplicates();
      counts->answered += got->answered();
      counts->conflicts += got->conflicts();
      for (const std::string& id : got->conflict_mention_ids()) {
        log << "warning: mention " << id
            << " was stored with other content; not stored again\n";
      }
      batch.clear();
      return absl::OkStatus();
    }
    const int i = absl::IsInvalidArgument(got.status())
                      ? IndexOf(got.status().message())
                      : -1;
    if (i < 0 || static_cast<size_t>(i) >= batch.size()) return got.status();
    absl::string_view why = got.status().message();
    why.remove_prefix(why.find("].") + 2);
    log << "line " << batch[i].first << ": rejected: " << why << "\n";
    ++counts->rejected;
    batch.erase(batch.begin() + i);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MentionImportCounts> ImportMentions(
    client::AttributionClient& client, const std::string& workspace,
    std::istream& in, size_t batch_size, std::ostream& log) {
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
  for (const char* required : {"mention_id", "channel", "occurred_at"}) {
    if (!col.contains(required)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "header: missing required column ", required,
          " (the columns are mention_id,brand,channel,occurred_at,sentiment,"
          "author,is_question,answered_at)"));
    }
  }
  MentionImportCounts counts;
  std::vector<std::pair<int64_t, v1::Mention>> batch;
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
    auto get = [&](const char* name) -> std::string {
      auto it = col.find(name);
      return it == col.end() || it->second >= row.size()
                 ? std::string()
                 : std::string(absl::StripAsciiWhitespace(row[it->second]));
    };
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
      if (absl::Status st = Send(client, workspace, batch, log, &counts);
          !st.ok()) {
        return st;
      }
    }
  }
  if (absl::Status st = Send(client, workspace, batch, log, &counts);
      !st.ok()) {
    return st;
  }
  return counts;
}

}  // namespace attribution::cli

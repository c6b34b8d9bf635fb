#include "service/api/conversation.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/core/limits.h"
#include "service/core/status_macros.h"

namespace attribution::api {
namespace {

constexpr char kMentionPrefix[] = "mention/";
constexpr size_t kMaxConflictIds = 10;

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

bool HasControl(absl::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

absl::StatusOr<int64_t> TimeOf(const google::protobuf::Timestamp& ts,
                               absl::string_view field, absl::Time now) {
  if (ts.nanos() < 0 || ts.nanos() > 999'999'999) {
    return Bad(absl::StrCat(field, ".nanos"), "must be 0 to 999999999");
  }
  const int64_t max_us = absl::ToUnixMicros(now) + kMaxFutureSkewUs;
  if (ts.seconds() < kMinOccurredAtUs / 1'000'000 ||
      ts.seconds() > max_us / 1'000'000) {
    return Bad(field,
               absl::StrCat(ts.seconds(),
                            " s is outside the accepted range "
                            "[2000-01-01T00:00:00Z, server time + 24h]"));
  }
  return ts.seconds() * 1'000'000 + ts.nanos() / 1000;
}

int64_t Us(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1'000'000 + ts.nanos() / 1000;
}

absl::Status Validate(const v1::Mention& m, const std::string& at,
                      absl::Time now) {
  if (const char* r = CheckId(m.mention_id()); *r) {
    return Bad(at + "mention_id", r);
  }
  if (m.brand().size() > 64 || !IsUtf8(m.brand()) || HasControl(m.brand())) {
    return Bad(at + "brand",
               "at most 64 bytes of UTF-8 without control characters");
  }
  if (const char* r = CheckChannel(m.channel()); *r) {
    return Bad(at + "channel", r);
  }
  if (!m.has_occurred_at()) return Bad(at + "occurred_at", "is required");
  ASSIGN_OR_RETURN(const int64_t t,
                   TimeOf(m.occurred_at(), at + "occurred_at", now));
  if (!v1::Sentiment_IsValid(m.sentiment())) {
    return Bad(at + "sentiment", absl::StrCat("unknown value ", m.sentiment()));
  }
  if (m.author().size() > 128 || !IsUtf8(m.author()) ||
      HasControl(m.author())) {
    return Bad(at + "author",
               "at most 128 bytes of UTF-8 without control characters");
  }
  if (m.has_answered_at()) {
    if (!m.is_question()) {
      return Bad(at + "answered_at", "only a question has an answer");
    }
    ASSIGN_OR_RETURN(const int64_t a,
                     TimeOf(m.answered_at(), at + "answered_at", now));
    if (a < t) return Bad(at + "answered_at", "is before occurred_at");
  }
  return absl::OkStatus();
}

// Serialises writers, so that the duplicate check and the write are one
// step.
absl::Mutex write_mu;

}  // namespace

absl::StatusOr<std::vector<v1::Mention>> ReadMentions(
    EventStore& store, absl::string_view workspace) {
  ASSIGN_OR_RETURN(auto stored, store.ReadMeta(workspace, kMentionPrefix));
  std::vector<v1::Mention> out;
  out.reserve(stored.size());
  for (const auto& [name, bytes] : stored) {
    if (!out.emplace_back().ParseFromString(bytes)) {
      return absl::DataLossError(absl::StrCat("corrupt stored mention ", name));
    }
  }
  return out;
}

absl::StatusOr<v1::RecordMentionsResponse> RecordMentions(
    EventStore& store, const v1::RecordMentionsRequest& request, absl::Time now,
    size_t max_mentions) {
  if (request.mentions().empty()) return Bad("mentions", "at least one");
  if (static_cast<size_t>(request.mentions_size()) > max_mentions) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "mentions: ", request.mentions_size(), " mentions, the limit is ",
        max_mentions, " (--max_batch_events)"));
  }
  for (int i = 0; i < request.mentions_size(); ++i) {
    RETURN_IF_ERROR(
        Validate(request.mentions(i), absl::StrCat("mentions[", i, "]."), now));
  }
  absl::MutexLock lock(&write_mu);
  ASSIGN_OR_RETURN(std::vector<v1::Mention> stored,
                   ReadMentions(store, request.workspace()));
  absl::flat_hash_map<std::string, v1::Mention> known;
  for (v1::Mention& m : stored) known[m.mention_id()] = std::move(m);
  v1::RecordMentionsResponse response;
  std::vector<std::pair<std::string, std::string>> writes;
  for (const v1::Mention& m : request.mentions()) {
    auto it = known.find(m.mention_id());
    if (it == known.end()) {
      known[m.mention_id()] = m;
      writes.emplace_back(absl::StrCat(kMentionPrefix, m.mention_id()),
                          m.SerializeAsString());
      response.set_stored(response.stored() + 1);
      continue;
    }
    const v1::Mention& before = it->second;
    if (before.SerializeAsString() == m.SerializeAsString()) {
      response.set_duplicates(response.duplicates() + 1);
      continue;
    }
    v1::Mention unanswered = m;
    unanswered.clear_answered_at();
    if (!before.has_answered_at() && m.has_answered_at() &&
        unanswered.SerializeAsString() == before.SerializeAsString()) {
      it->second = m;
      writes.emplace_back(absl::StrCat(kMentionPrefix, m.mention_id()),
                          m.SerializeAsString());
      response.set_answered(response.answered() + 1);
      continue;
    }
    response.set_conflicts(response.conflicts() + 1);
    if (static_cast<size_t>(response.conflict_mention_ids_size()) <
        kMaxConflictIds) {
      response.add_conflict_mention_ids(m.mention_id());
    }
  }
  if (!writes.empty()) {
    RETURN_IF_ERROR(store.PutMetaBatch(request.workspace(), writes));
  }
  return response;
}

void TallyConversation(
    const std::vector<v1::Mention>& mentions, TimeRange period,
    std::map<std::pair<std::string, std::string>, ConversationTally>* by_brand,
    std::map<std::string, int64_t>* all) {
  for (const v1::Mention& m : mentions) {
    const int64_t t = Us(m.occurred_at());
    if (t < period.start_us || t >= period.end_us) continue;
    ++(*all)[m.channel()];
    ++(*all)[""];
    for (const std::string& channel : {m.channel(), std::string()}) {
      ConversationTally& c = (*by_brand)[{m.brand(), channel}];
      ++c.mentions;
      switch (m.sentiment()) {
        case v1::SENTIMENT_POSITIVE:
          ++c.positive;
          break;
        case v1::SENTIMENT_NEUTRAL:
          ++c.neutral;
          break;
        case v1::SENTIMENT_NEGATIVE:
          ++c.negative;
          break;
        default:
          break;
      }
      if (m.is_question()) {
        ++c.questions;
        if (m.has_answered_at()) {
          ++c.answered;
          c.seconds_to_answer.push_back(
              static_cast<double>(Us(m.answered_at()) - t) / 1e6);
        }
      }
    }
  }
}

std::vector<std::optional<double>> ConversationFigures(
    const ConversationTally& t, int64_t all_mentions) {
  auto ratio = [](double a, double b) -> std::optional<double> {
    if (b == 0) return std::nullopt;
    return a / b;
  };
  const double rated = static_cast<double>(t.positive + t.neutral + t.negative);
  std::optional<double> median;
  if (!t.seconds_to_answer.empty()) {
    std::vector<double> s = t.seconds_to_answer;
    std::sort(s.begin(), s.end());
    const size_t n = s.size();
    median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
  return {
      static_cast<double>(t.mentions),
      ratio(static_cast<double>(t.mentions), static_cast<double>(all_mentions)),
      ratio(static_cast<double>(t.positive), rated),
      ratio(static_cast<double>(t.neutral), rated),
      ratio(static_cast<double>(t.negative), rated),
      static_cast<double>(t.questions),
      ratio(static_cast<double>(t.answered), static_cast<double>(t.questions)),
      median};
}

}  // namespace attribution::api

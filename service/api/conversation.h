// The public conversation (ReportService.RecordMentions, ConversationReport,
// ListUnansweredQuestions): mentions of the brand and its competitors,
// stored as workspace metadata, and their tallies.
#ifndef ATTRIBUTION_SERVICE_API_CONVERSATION_H_
#define ATTRIBUTION_SERVICE_API_CONVERSATION_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "attribution/v1/report_service.pb.h"
#include "service/core/report.h"
#include "storage/event_store.h"

namespace attribution::api {

// Validates the batch whole, then stores it (see the proto).
absl::StatusOr<v1::RecordMentionsResponse> RecordMentions(
    EventStore& store, const v1::RecordMentionsRequest& request, absl::Time now,
    size_t max_mentions);

// Every mention of the workspace, by id.
absl::StatusOr<std::vector<v1::Mention>> ReadMentions(
    EventStore& store, absl::string_view workspace);

// The sums of one brand on one channel (or all) over a period.
struct ConversationTally {
  int64_t mentions = 0;
  int64_t positive = 0, neutral = 0, negative = 0;
  int64_t questions = 0, answered = 0;
  std::vector<double> seconds_to_answer;
};
// (brand, channel) -> tally, with channel "" for a brand's total, of the
// mentions in `period`; `all` gets every brand's per channel ("" too).
void TallyConversation(
    const std::vector<v1::Mention>& mentions, TimeRange period,
    std::map<std::pair<std::string, std::string>, ConversationTally>* by_brand,
    std::map<std::string, int64_t>* all);

// The figures of a row, in the order of ConversationRow's Metric fields:
// mentions, share_of_voice, positive, neutral and negative shares,
// questions, answered_share, median_seconds_to_answer.
std::vector<std::optional<double>> ConversationFigures(
    const ConversationTally& t, int64_t all_mentions);

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_CONVERSATION_H_

// Parsing of attributionctl's attribution flags into an AttributeRequest.
#ifndef ATTRIBUTION_CLIENTS_CLI_ATTRIBUTION_ARGS_H_
#define ATTRIBUTION_CLIENTS_CLI_ATTRIBUTION_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attribution/v1/attribution.pb.h"

namespace attribution::cli {

struct AttributionArgs {
  std::string workspace;
  std::string goal;      // acquisition | repeat_purchase | retention
  std::string models;    // e.g. "linear,markov:3,position_based:0.3:0.3"
  std::string from, to;  // RFC 3339 or YYYY-MM-DD (UTC midnight)
  std::string lookback;  // e.g. "30d", "12h"; empty: the server's default
  std::string horizon;   // RETENTION, e.g. "90d"
  std::string group_by;  // channel | campaign
  std::string include, exclude;  // comma-separated channels
  bool honour_stages = false;
  // attribute: confidence intervals (--intervals, --level, --replicates).
  bool intervals = false;
  double level = 0;    // 0: the server's default, 0.95
  int replicates = 0;  // 0: the server's default, 200
};

// "a, b,,c" -> {"a", "b", "c"}: comma-separated, spaces trimmed.
std::vector<std::string> SplitList(absl::string_view list);

// channel (or empty) | campaign (or channel_campaign), any case.
absl::StatusOr<v1::GroupBy> ParseGroupBy(absl::string_view value);

// InvalidArgument naming the flag on a malformed value.
absl::StatusOr<v1::AttributeRequest> BuildAttributeRequest(
    const AttributionArgs& args, bool models_required);

// "7d", "36h", "90m", "30s" (and absl forms like "1h30m") -> Duration.
absl::StatusOr<google::protobuf::Duration> ParseDurationFlag(
    absl::string_view flag, absl::string_view value);

std::string ModelName(const v1::ModelSpec& spec);

// One model as --model spells it: "linear", "markov:3",
// "position_based:0.3:0.3", "time_decay:3d".
absl::StatusOr<v1::ModelSpec> ParseModelFlag(absl::string_view value);

// "2026-03-01" (midnight UTC) or an RFC 3339 time; InvalidArgument naming
// --`flag` otherwise.
absl::StatusOr<google::protobuf::Timestamp> ParseWhen(absl::string_view flag,
                                                      absl::string_view value);

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_ATTRIBUTION_ARGS_H_

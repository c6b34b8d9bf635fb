// Validation of AttributeRequest and conversion to the engine's query.
#ifndef ATTRIBUTION_SERVICE_API_ATTRIBUTE_REQUEST_H_
#define ATTRIBUTION_SERVICE_API_ATTRIBUTE_REQUEST_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "attribution/v1/attribution.pb.h"
#include "service/core/attribution.h"
#include "service/core/bootstrap.h"
#include "service/core/channel_groups.h"

namespace attribution::api {

struct AttributeQuery {
  PathQuery paths;  // channel_allowed is left empty: it needs the index.
  std::vector<std::string> include_channels;
  std::vector<std::string> exclude_channels;
  std::vector<ModelParams> models;
  // Set when the request asks for intervals.
  std::optional<BootstrapOptions> intervals;
  // GROUP_BY_CHANNEL_GROUP: the caller loads the workspace's grouping.
  bool by_channel_group = false;
  std::shared_ptr<const ChannelGrouping> grouping;
};

// Validates `in` (InvalidArgument naming the field, prefixed by
// `field_prefix`, e.g. "selection.") and fills `out` and `applied`: the
// request with every default filled in, as the response echoes it. `now`
// bounds RETENTION horizons. Models may be empty only if `models_optional`.
absl::Status ParseAttributeRequest(const v1::AttributeRequest& in,
                                   absl::Time now, AttributeQuery* out,
                                   v1::AttributeRequest* applied,
                                   absl::string_view field_prefix = "",
                                   bool models_optional = false);

// Validates interval options (errors name `field`.level or
// `field`.replicates) and fills `out` and `applied` (defaults filled in).
absl::Status ParseIntervals(const v1::IntervalOptions& in,
                            absl::string_view field,
                            v1::IntervalOptions* applied,
                            BootstrapOptions* out);

// Duration -> microseconds in [min_us, max_us], else InvalidArgument naming
// `field`.
absl::Status DurationUs(const google::protobuf::Duration& d,
                        absl::string_view field, int64_t min_us, int64_t max_us,
                        int64_t* out);
void SetDuration(int64_t us, google::protobuf::Duration* d);
int64_t TimeUs(const google::protobuf::Timestamp& ts);

// Validates one ModelSpec (errors name `field`.model etc.) and fills `out`
// and `applied` (defaults filled in, other models' parameters cleared).
absl::Status ParseModel(const v1::ModelSpec& in, const std::string& field,
                        ModelParams* out, v1::ModelSpec* applied);

// channel_allowed for `index` from the query's include/exclude lists.
// The channels of include_channels and exclude_channels (in that order,
// each once) that the workspace has never seen; `index` may be null.
std::vector<std::string> UnknownChannels(const IndexSnapshot* index,
                                         const AttributeQuery& query);

std::vector<bool> ChannelFilter(const IndexSnapshot& index,
                                const AttributeQuery& query);

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_ATTRIBUTE_REQUEST_H_

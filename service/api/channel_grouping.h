// The workspace's channel groups (ReportService.SetChannelGroup), stored as
// metadata, and the grouped view of an index that GROUP_BY_CHANNEL_GROUP
// queries read.
#ifndef ATTRIBUTION_SERVICE_API_CHANNEL_GROUPING_H_
#define ATTRIBUTION_SERVICE_API_CHANNEL_GROUPING_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/core/channel_groups.h"
#include "service/core/journey_index.h"
#include "service/core/spend.h"
#include "storage/event_store.h"

namespace attribution::api {

// Metadata key prefix of a group the workspace assigned: + its name. The
// value is a serialised v1::ChannelGroup.
inline constexpr char kChannelGroupPrefix[] = "channel_group/";
inline constexpr int kMaxAssignedGroups = 64;
inline constexpr int kMaxChannelsPerGroup = 1000;

// The groups the workspace assigned, by name.
absl::StatusOr<std::vector<ChannelGroup>> ReadAssignedGroups(
    EventStore& store, absl::string_view workspace);
absl::StatusOr<ChannelGrouping> LoadChannelGrouping(
    EventStore& store, absl::string_view workspace);

// `index` regrouped by `grouping` (its view kept in `*view`), with
// `*allowed` (a filter by channel id, empty: all) replaced by the view's;
// `index` itself when `grouping` is null or `index` is.
const IndexSnapshot* GroupedIndex(const IndexSnapshot* index,
                                  const ChannelGrouping* grouping,
                                  std::vector<bool>* allowed,
                                  std::optional<IndexSnapshot>* view);

// Spend rows with each channel replaced by its group and no campaign.
std::vector<SpendRow> GroupedSpend(const std::vector<SpendRow>& rows,
                                   const ChannelGrouping& grouping);

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_CHANNEL_GROUPING_H_

#include "service/api/channel_grouping.h"

#include "absl/strings/str_cat.h"
#include "attribution/v1/report_service.pb.h"

namespace attribution::api {

absl::StatusOr<std::vector<ChannelGroup>> ReadAssignedGroups(
    EventStore& store, absl::string_view workspace) {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> stored =
      store.ReadMeta(workspace, kChannelGroupPrefix);
  if (!stored.ok()) return stored.status();
  std::vector<ChannelGroup> out;
  for (const auto& [name, value] : *stored) {
    v1::ChannelGroup g;
    if (!g.ParseFromString(value)) {
      return absl::DataLossError(absl::StrCat("corrupt stored group ", name));
    }
    out.push_back({g.name(), {g.channels().begin(), g.channels().end()}});
  }
  return out;
}

absl::StatusOr<ChannelGrouping> LoadChannelGrouping(
    EventStore& store, absl::string_view workspace) {
  absl::StatusOr<std::vector<ChannelGroup>> assigned =
      ReadAssignedGroups(store, workspace);
  if (!assigned.ok()) return assigned.status();
  return ChannelGrouping(*assigned);
}

const IndexSnapshot* GroupedIndex(const IndexSnapshot* index,
                                  const ChannelGrouping* grouping,
                                  std::vector<bool>* allowed,
                                  std::optional<IndexSnapshot>* view) {
  if (index == nullptr || grouping == nullptr) return index;
  std::vector<bool> view_allowed;
  view->emplace(index->WithChannelsGrouped(
      [grouping](absl::string_view c) { return grouping->GroupOf(c); },
      *allowed, &view_allowed));
  *allowed = std::move(view_allowed);
  return &**view;
}

std::vector<SpendRow> GroupedSpend(const std::vector<SpendRow>& rows,
                                   const ChannelGrouping& grouping) {
  std::vector<SpendRow> out = rows;
  for (SpendRow& r : out) {
    r.channel = grouping.GroupOf(r.channel);
    r.campaign.clear();
  }
  return out;
}

}  // namespace attribution::api

// Channel groups: the components of a brand's social ecosystem (social
// networks, paid social, communities, search, ...) that marketers plan by.
// Every channel slug belongs to exactly one group: the workspace's own
// assignment if it made one, else its default group.
#ifndef ATTRIBUTION_SERVICE_CORE_CHANNEL_GROUPS_H_
#define ATTRIBUTION_SERVICE_CORE_CHANNEL_GROUPS_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace attribution {

struct ChannelGroup {
  std::string name;                   // A slug, e.g. "social_networks".
  std::vector<std::string> channels;  // Channel slugs, sorted.
};

// The default groups with the known channels of each, in the spirit of
// GA4's default channel grouping: social_networks (facebook, instagram, x,
// linkedin, youtube, tiktok, pinterest), paid_social (no known channel: see
// DefaultGroupOf), communities (reddit), search (organic_search,
// paid_search), email, direct, referral, display; and other, for custom
// channels no rule places. Every known channel is in exactly one.
const std::vector<ChannelGroup>& DefaultChannelGroups();

// The default group of any slug: a known channel's from the table above; a
// custom one's by these rules, the first that matches:
//   paid_social   the slug contains "paid_social", "sponsored" or "boosted",
//                 ends in "_ads", "_paid" or "_promoted", or starts with
//                 "paid_" (paid_search excepted);
//   communities   contains "community", "forum", "discord", "slack",
//                 "group" or "reddit";
//   social_networks  starts with a known social network's slug
//                 (facebook_live, instagram_stories);
//   search        contains "search" or "seo";
//   email         contains "email", "newsletter" or "mail";
//   referral      contains "referral" or "affiliate" or "partner";
//   display       contains "display" or "banner";
//   other         anything else.
std::string DefaultGroupOf(absl::string_view channel);

// A workspace's grouping: the defaults, with the channels the workspace
// assigned to a group of its own naming taken out of their default group.
class ChannelGrouping {
 public:
  ChannelGrouping() = default;
  // `assigned`: the workspace's groups (a channel in at most one of them).
  explicit ChannelGrouping(const std::vector<ChannelGroup>& assigned);
  std::string GroupOf(absl::string_view channel) const;
  // Every group with a channel among `channels` (the workspace's, say) or
  // among the known ones, each with those channels, by group name.
  std::vector<ChannelGroup> Groups(
      const std::vector<std::string>& channels) const;

 private:
  absl::flat_hash_map<std::string, std::string> assigned_;
};

}  // namespace attribution

#endif  // ATTRIBUTION_SERVICE_CORE_CHANNEL_GROUPS_H_

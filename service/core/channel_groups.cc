#include "service/core/channel_groups.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"

namespace attribution {

const std::vector<ChannelGroup>& DefaultChannelGroups() {
  static const std::vector<ChannelGroup>* const kGroups =
      new std::vector<ChannelGroup>{
          {"communities", {"reddit"}},
          {"direct", {"direct"}},
          {"display", {"display"}},
          {"email", {"email"}},
          {"other", {}},
          {"paid_social", {}},
          {"referral", {"referral"}},
          {"search", {"organic_search", "paid_search"}},
          {"social_networks",
           {"facebook", "instagram", "linkedin", "pinterest", "tiktok", "x",
            "youtube"}},
      };
  return *kGroups;
}

namespace {

bool ContainsAny(absl::string_view s,
                 std::initializer_list<absl::string_view> parts) {
  for (absl::string_view p : parts) {
    if (absl::StrContains(s, p)) return true;
  }
  return false;
}

}  // namespace

std::string DefaultGroupOf(absl::string_view channel) {
  for (const ChannelGroup& g : DefaultChannelGroups()) {
    if (std::find(g.channels.begin(), g.channels.end(), channel) !=
        g.channels.end()) {
      return g.name;
    }
  }
  if (ContainsAny(channel, {"paid_social", "sponsored", "boosted"}) ||
      absl::EndsWith(channel, "_ads") || absl::EndsWith(channel, "_paid") ||
      absl::EndsWith(channel, "_promoted") ||
      (absl::StartsWith(channel, "paid_") &&
       !absl::StartsWith(channel, "paid_search"))) {
    return "paid_social";
  }
  if (ContainsAny(channel, {"community", "forum", "discord", "slack", "group",
                            "reddit"})) {
    return "communities";
  }
  for (absl::string_view social : {"facebook", "instagram", "linkedin",
                                   "pinterest", "tiktok", "youtube", "x_"}) {
    if (absl::StartsWith(channel, social)) return "social_networks";
  }
  if (ContainsAny(channel, {"search", "seo"})) return "search";
  if (ContainsAny(channel, {"email", "newsletter", "mail"})) return "email";
  if (ContainsAny(channel, {"referral", "affiliate", "partner"})) {
    return "referral";
  }
  if (ContainsAny(channel, {"display", "banner"})) return "display";
  return "other";
}

ChannelGrouping::ChannelGrouping(const std::vector<ChannelGroup>& assigned) {
  for (const ChannelGroup& g : assigned) {
    for (const std::string& c : g.channels) assigned_[c] = g.name;
  }
}

std::string ChannelGrouping::GroupOf(absl::string_view channel) const {
  if (auto it = assigned_.find(channel); it != assigned_.end()) {
    return it->second;
  }
  return DefaultGroupOf(channel);
}

std::vector<ChannelGroup> ChannelGrouping::Groups(
    const std::vector<std::string>& channels) const {
  std::set<std::string> all(channels.begin(), channels.end());
  for (const ChannelGroup& g : DefaultChannelGroups()) {
    all.insert(g.channels.begin(), g.channels.end());
  }
  for (const auto& [channel, group] : assigned_) all.insert(channel);
  std::map<std::string, std::vector<std::string>> by_group;
  for (const std::string& c : all) by_group[GroupOf(c)].push_back(c);
  std::vector<ChannelGroup> out;
  for (auto& [name, members] : by_group) {
    out.push_back({name, std::move(members)});
  }
  return out;
}

}  // namespace attribution

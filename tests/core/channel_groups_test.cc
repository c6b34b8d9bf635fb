#include "service/core/channel_groups.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace attribution {
namespace {

using ::testing::ElementsAre;

TEST(ChannelGroupsTest, EveryKnownChannelIsInExactlyOneDefaultGroup) {
  const std::vector<std::string> known = {
      "facebook",    "instagram", "x",        "linkedin", "youtube",
      "tiktok",      "pinterest", "reddit",   "email",    "organic_search",
      "paid_search", "display",   "referral", "direct"};
  std::vector<std::string> listed;
  for (const ChannelGroup& g : DefaultChannelGroups()) {
    for (const std::string& c : g.channels) {
      listed.push_back(c);
      EXPECT_EQ(DefaultGroupOf(c), g.name) << c;
    }
  }
  EXPECT_THAT(listed, ::testing::UnorderedElementsAreArray(known));
}

TEST(ChannelGroupsTest, CustomChannelsGoByTheirSlug) {
  EXPECT_EQ(DefaultGroupOf("facebook_ads"), "paid_social");
  EXPECT_EQ(DefaultGroupOf("paid_tiktok"), "paid_social");
  EXPECT_EQ(DefaultGroupOf("instagram_sponsored"), "paid_social");
  EXPECT_EQ(DefaultGroupOf("discord"), "communities");
  EXPECT_EQ(DefaultGroupOf("brand_community"), "communities");
  EXPECT_EQ(DefaultGroupOf("instagram_stories"), "social_networks");
  EXPECT_EQ(DefaultGroupOf("x_spaces"), "social_networks");
  EXPECT_EQ(DefaultGroupOf("bing_search"), "search");
  EXPECT_EQ(DefaultGroupOf("newsletter"), "email");
  EXPECT_EQ(DefaultGroupOf("affiliate"), "referral");
  EXPECT_EQ(DefaultGroupOf("banner"), "display");
  EXPECT_EQ(DefaultGroupOf("podcast"), "other");
  EXPECT_EQ(DefaultGroupOf("xing"), "other");  // Not x's.
}

TEST(ChannelGroupsTest, TheWorkspacesAssignmentOverridesTheDefault) {
  const ChannelGrouping grouping(
      {{"forums", {"reddit", "discord"}}, {"social_networks", {"podcast"}}});
  EXPECT_EQ(grouping.GroupOf("reddit"), "forums");
  EXPECT_EQ(grouping.GroupOf("podcast"), "social_networks");
  EXPECT_EQ(grouping.GroupOf("facebook"), "social_networks");
  std::vector<std::string> names;
  for (const ChannelGroup& g : grouping.Groups({"podcast", "mastodon"})) {
    names.push_back(g.name);
    if (g.name == "forums")
      EXPECT_THAT(g.channels, ElementsAre("discord", "reddit"));
    if (g.name == "other") EXPECT_THAT(g.channels, ElementsAre("mastodon"));
  }
  // communities lost its one known channel, so it is not listed.
  EXPECT_THAT(names,
              ElementsAre("direct", "display", "email", "forums", "other",
                          "referral", "search", "social_networks"));
}

}  // namespace
}  // namespace attribution

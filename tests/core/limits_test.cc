#include "service/core/limits.h"

#include <string>

#include "gtest/gtest.h"

namespace attribution {
namespace {

TEST(LimitsTest, IdsAreOneTo128BytesOfCleanUtf8) {
  EXPECT_STREQ(CheckId("c-1"), "");
  EXPECT_STREQ(CheckId("kunde-\xc3\xa9"), "");  // é
  EXPECT_STREQ(CheckId(std::string(128, 'a')), "");
  EXPECT_STRNE(CheckId(""), "");
  EXPECT_STRNE(CheckId(std::string(129, 'a')), "");
  EXPECT_STRNE(CheckId("tab\there"), "");
  EXPECT_STRNE(CheckId("bad\xff"), "");
  EXPECT_STRNE(CheckId("\xc0\xaf"), "");      // Overlong '/'.
  EXPECT_STRNE(CheckId("\xed\xa0\x80"), "");  // Surrogate.
  EXPECT_STRNE(CheckId(std::string("nul\0x", 5)), "");
}

TEST(LimitsTest, WorkspaceIsASlug) {
  EXPECT_STREQ(CheckWorkspace("Acme_EU-1.prod"), "");
  EXPECT_STRNE(CheckWorkspace(""), "");
  EXPECT_STRNE(CheckWorkspace("a b"), "");
  EXPECT_STRNE(CheckWorkspace(std::string(65, 'w')), "");
}

TEST(LimitsTest, ChannelIsALowerCaseSlug) {
  EXPECT_STREQ(CheckChannel("instagram"), "");
  EXPECT_STREQ(CheckChannel("my_custom_2"), "");
  EXPECT_STRNE(CheckChannel("Instagram"), "");
  EXPECT_STRNE(CheckChannel("paid-search"), "");
  EXPECT_STRNE(CheckChannel(""), "");
}

TEST(LimitsTest, CampaignMayBeEmptyButNotTooLong) {
  EXPECT_STREQ(CheckCampaign(""), "");
  EXPECT_STREQ(CheckCampaign(std::string(256, 'c')), "");
  EXPECT_STRNE(CheckCampaign(std::string(257, 'c')), "");
  EXPECT_STRNE(CheckCampaign("line\nbreak"), "");
}

TEST(LimitsTest, KnowsIso4217Codes) {
  EXPECT_TRUE(IsKnownCurrency("EUR"));
  EXPECT_TRUE(IsKnownCurrency("USD"));
  EXPECT_TRUE(IsKnownCurrency("JPY"));
  EXPECT_TRUE(IsKnownCurrency("ZMW"));
  EXPECT_FALSE(IsKnownCurrency("eur"));
  EXPECT_FALSE(IsKnownCurrency("XXX"));
  EXPECT_FALSE(IsKnownCurrency("EURO"));
  EXPECT_FALSE(IsKnownCurrency(""));
}

}  // namespace
}  // namespace attribution

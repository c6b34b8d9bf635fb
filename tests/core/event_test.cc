#include "service/core/event.h"

#include "gtest/gtest.h"

namespace attribution {
namespace {

TEST(EffectiveStageTest, UntaggedTouchBeforeAnyPurchaseIsDiscovery) {
  EXPECT_EQ(EffectiveStage(Stage::kUnspecified, 100, nullptr),
            Stage::kDiscovery);
}

TEST(EffectiveStageTest, UntaggedTouchAtTheFirstPurchaseInstantIsDiscovery) {
  const int64_t first = 100;
  EXPECT_EQ(EffectiveStage(Stage::kUnspecified, 100, &first),
            Stage::kDiscovery);
}

TEST(EffectiveStageTest, UntaggedTouchAfterFirstPurchaseIsPurchase) {
  const int64_t first = 100;
  EXPECT_EQ(EffectiveStage(Stage::kUnspecified, 101, &first), Stage::kPurchase);
}

TEST(EffectiveStageTest, GivenStageWins) {
  const int64_t first = 100;
  EXPECT_EQ(EffectiveStage(Stage::kLoyalty, 500, &first), Stage::kLoyalty);
  EXPECT_EQ(EffectiveStage(Stage::kPurchase, 5, nullptr), Stage::kPurchase);
}

}  // namespace
}  // namespace attribution

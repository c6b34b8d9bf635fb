// Domain types of stored events. Values mirror the v1 proto enums so that
// conversion at the API edge is a checked cast.
#ifndef ATTRIBUTION_SERVICE_CORE_EVENT_H_
#define ATTRIBUTION_SERVICE_CORE_EVENT_H_

#include <cstdint>
#include <string>

namespace attribution {

enum class EventType : uint8_t { kTouchpoint = 0, kConversion = 1 };

enum class Interaction : uint8_t {
  kUnspecified = 0,
  kImpression = 1,
  kClick = 2,
  kLike = 3,
  kComment = 4,
  kShare = 5,
  kMention = 6,
  kMessage = 7,
  kFollow = 8,
  kReview = 9,
  kVisit = 10,
};
inline constexpr int kMaxInteraction = 10;

enum class Stage : uint8_t {
  kUnspecified = 0,
  kDiscovery = 1,
  kPurchase = 2,
  kLoyalty = 3,
};
inline constexpr int kMaxStage = 3;

enum class Sentiment : uint8_t {
  kUnspecified = 0,
  kPositive = 1,
  kNeutral = 2,
  kNegative = 3,
};
inline constexpr int kMaxSentiment = 3;

enum class ConversionKind : uint8_t {
  kUnspecified = 0,
  kLead = 1,
  kPurchase = 2,
  kChurn = 3,
};
inline constexpr int kMaxConversionKind = 3;

// One touchpoint or conversion. Fields that do not apply to the type are
// left at their defaults.
struct Event {
  EventType type = EventType::kTouchpoint;
  std::string event_id;
  std::string customer_id;
  // Microseconds since the Unix epoch, UTC.
  int64_t occurred_at_us = 0;

  // Touchpoints only.
  std::string channel;
  std::string campaign;
  Interaction interaction = Interaction::kUnspecified;
  Stage stage = Stage::kUnspecified;
  Sentiment sentiment = Sentiment::kUnspecified;

  // Conversions only.
  ConversionKind kind = ConversionKind::kUnspecified;
  int64_t revenue_micros = 0;
  std::string currency;

  friend bool operator==(const Event&, const Event&) = default;
};

// The stage a touchpoint at `at_us` serves for a customer whose first
// purchase was at `first_purchase_us` (or who never bought, if null): the
// given stage if any; otherwise DISCOVERY at or before the first purchase and
// PURCHASE after it. LOYALTY is only ever given, never derived.
Stage EffectiveStage(Stage given, int64_t at_us,
                     const int64_t* first_purchase_us);

}  // namespace attribution

#endif  // ATTRIBUTION_SERVICE_CORE_EVENT_H_

// Domain events for unit tests of core and storage.
#ifndef ATTRIBUTION_TESTS_SUPPORT_CORE_EVENTS_H_
#define ATTRIBUTION_TESTS_SUPPORT_CORE_EVENTS_H_

#include <cstdint>
#include <string>

#include "service/core/event.h"

namespace attribution::testing {

// A click on `channel` in campaign "spring", tagged loyalty, negative.
inline Event Touch(std::string id, std::string customer, int64_t at,
                   std::string channel = "instagram") {
  Event e;
  e.type = EventType::kTouchpoint;
  e.event_id = std::move(id);
  e.customer_id = std::move(customer);
  e.occurred_at_us = at;
  e.channel = std::move(channel);
  e.campaign = "spring";
  e.interaction = Interaction::kClick;
  e.stage = Stage::kLoyalty;
  e.sentiment = Sentiment::kNegative;
  return e;
}

// A purchase of `revenue` micros in EUR.
inline Event Purchase(std::string id, std::string customer, int64_t at,
                      int64_t revenue = 19'990'000) {
  Event e;
  e.type = EventType::kConversion;
  e.event_id = std::move(id);
  e.customer_id = std::move(customer);
  e.occurred_at_us = at;
  e.kind = ConversionKind::kPurchase;
  e.revenue_micros = revenue;
  e.currency = "EUR";
  return e;
}

}  // namespace attribution::testing

#endif  // ATTRIBUTION_TESTS_SUPPORT_CORE_EVENTS_H_

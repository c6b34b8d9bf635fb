// Malformed events, one per rule of the v1 contract, shared by the
// validation unit test and the real-server integration test.
#ifndef ATTRIBUTION_TESTS_SUPPORT_BAD_EVENTS_H_
#define ATTRIBUTION_TESTS_SUPPORT_BAD_EVENTS_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "attribution/v1/events.pb.h"

namespace attribution::testing {

// 2026-05-28, well inside the accepted range.
inline constexpr int64_t kGoodSeconds = 1'780'000'000;

inline v1::Event GoodTouch(std::string id = "e1", std::string customer = "c1") {
  v1::Event e;
  auto* t = e.mutable_touchpoint();
  t->set_event_id(std::move(id));
  t->set_customer_id(std::move(customer));
  t->mutable_occurred_at()->set_seconds(kGoodSeconds);
  t->mutable_occurred_at()->set_nanos(123'456'789);
  t->set_channel("instagram");
  t->set_interaction(v1::INTERACTION_COMMENT);
  return e;
}

inline v1::Event GoodPurchase(std::string id = "p1",
                              std::string customer = "c1") {
  v1::Event e;
  auto* c = e.mutable_conversion();
  c->set_event_id(std::move(id));
  c->set_customer_id(std::move(customer));
  c->mutable_occurred_at()->set_seconds(kGoodSeconds);
  c->set_kind(v1::CONVERSION_KIND_PURCHASE);
  c->set_revenue_micros(19'990'000);
  c->set_currency("EUR");
  return e;
}

struct BadCase {
  std::string name;
  std::function<void(v1::Event&)> mutate;
  bool purchase;      // Start from GoodPurchase() rather than GoodTouch().
  std::string field;  // As the error names it after "events[i].".
};

// `now_seconds` is the server's clock, for the too-far-in-the-future case.
inline std::vector<BadCase> BadEventCases(int64_t now_seconds) {
  return {

      BadCase{"empty_event", [](v1::Event& e) { e.Clear(); }, false, "kind"},
      BadCase{"empty_event_id",
              [](v1::Event& e) { e.mutable_touchpoint()->clear_event_id(); },
              false, "touchpoint.event_id"},
      BadCase{"long_customer_id",
              [](v1::Event& e) {
                e.mutable_touchpoint()->set_customer_id(std::string(129, 'c'));
              },
              false, "touchpoint.customer_id"},
      BadCase{
          "control_char_id",
          [](v1::Event& e) { e.mutable_conversion()->set_event_id("a\x01"); },
          true, "conversion.event_id"},
      BadCase{"missing_time",
              [](v1::Event& e) { e.mutable_touchpoint()->clear_occurred_at(); },
              false, "touchpoint.occurred_at"},
      BadCase{"time_before_2000",
              [](v1::Event& e) {
                e.mutable_touchpoint()->mutable_occurred_at()->set_seconds(5);
              },
              false, "touchpoint.occurred_at"},
      BadCase{"time_far_future",
              [now_seconds](v1::Event& e) {
                e.mutable_conversion()->mutable_occurred_at()->set_seconds(
                    now_seconds + 2 * 86400);
              },
              true, "conversion.occurred_at"},
      BadCase{"absurd_time",
              [](v1::Event& e) {
                e.mutable_touchpoint()->mutable_occurred_at()->set_seconds(
                    INT64_MAX);
              },
              false, "touchpoint.occurred_at"},
      BadCase{"negative_nanos",
              [](v1::Event& e) {
                e.mutable_touchpoint()->mutable_occurred_at()->set_nanos(-1);
              },
              false, "touchpoint.occurred_at.nanos"},
      BadCase{"empty_channel",
              [](v1::Event& e) { e.mutable_touchpoint()->clear_channel(); },
              false, "touchpoint.channel"},
      BadCase{"upper_case_channel",
              [](v1::Event& e) {
                e.mutable_touchpoint()->set_channel("Instagram");
              },
              false, "touchpoint.channel"},
      BadCase{"long_campaign",
              [](v1::Event& e) {
                e.mutable_touchpoint()->set_campaign(std::string(257, 'x'));
              },
              false, "touchpoint.campaign"},
      BadCase{"unspecified_interaction",
              [](v1::Event& e) {
                e.mutable_touchpoint()->set_interaction(
                    v1::INTERACTION_UNSPECIFIED);
              },
              false, "touchpoint.interaction"},
      BadCase{"unknown_interaction",
              [](v1::Event& e) {
                e.mutable_touchpoint()->set_interaction(
                    static_cast<v1::Interaction>(99));
              },
              false, "touchpoint.interaction"},
      BadCase{"unknown_stage",
              [](v1::Event& e) {
                e.mutable_touchpoint()->set_stage(static_cast<v1::Stage>(7));
              },
              false, "touchpoint.stage"},
      BadCase{"unknown_sentiment",
              [](v1::Event& e) {
                e.mutable_touchpoint()->set_sentiment(
                    static_cast<v1::Sentiment>(-3));
              },
              false, "touchpoint.sentiment"},
      BadCase{"unspecified_kind",
              [](v1::Event& e) {
                e.mutable_conversion()->set_kind(
                    v1::CONVERSION_KIND_UNSPECIFIED);
              },
              true, "conversion.kind"},
      BadCase{
          "negative_revenue",
          [](v1::Event& e) { e.mutable_conversion()->set_revenue_micros(-1); },
          true, "conversion.revenue_micros"},
      BadCase{"overflowing_revenue",
              [](v1::Event& e) {
                e.mutable_conversion()->set_revenue_micros(INT64_MAX);
              },
              true, "conversion.revenue_micros"},
      BadCase{"revenue_on_churn",
              [](v1::Event& e) {
                e.mutable_conversion()->set_kind(v1::CONVERSION_KIND_CHURN);
              },
              true, "conversion.revenue_micros"},
      BadCase{
          "unknown_currency",
          [](v1::Event& e) { e.mutable_conversion()->set_currency("EURO"); },
          true, "conversion.currency"},
      BadCase{"lower_case_currency",
              [](v1::Event& e) { e.mutable_conversion()->set_currency("eur"); },
              true, "conversion.currency"}};
}

// gtest prints the case by its name rather than as bytes.
inline void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

}  // namespace attribution::testing

#endif  // ATTRIBUTION_TESTS_SUPPORT_BAD_EVENTS_H_

// Marketing spend as the reports read it, and the calendar arithmetic of
// report periods (whole UTC days).
#ifndef ATTRIBUTION_SERVICE_CORE_SPEND_H_
#define ATTRIBUTION_SERVICE_CORE_SPEND_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace attribution {

inline constexpr int64_t kDayUs = 86400LL * 1'000'000;

// Spend on one channel (and campaign, "" for the channel as a whole) on one
// UTC day.
struct SpendRow {
  int32_t day = 0;  // Days since 1970-01-01.
  std::string channel;
  std::string campaign;
  int64_t amount_micros = 0;
  std::string currency;

  friend bool operator==(const SpendRow&, const SpendRow&) = default;
};

// "YYYY-MM-DD" -> days since the epoch; nullopt if malformed or not a real
// date.
std::optional<int32_t> ParseDate(absl::string_view text);
std::string FormatDate(int32_t day);

// The day holding `at_us` (floor).
inline int32_t DayOf(int64_t at_us) {
  return static_cast<int32_t>(at_us >= 0 ? at_us / kDayUs
                                         : (at_us - kDayUs + 1) / kDayUs);
}
// The Monday on or before `day` (1970-01-01 was a Thursday).
inline int32_t WeekStart(int32_t day) {
  return day - static_cast<int32_t>(((day + 3) % 7 + 7) % 7);
}
// The first day of the calendar month holding `day`.
int32_t MonthStart(int32_t day);
// The first day of the month after the one holding `day`.
int32_t NextMonthStart(int32_t day);

}  // namespace attribution

#endif  // ATTRIBUTION_SERVICE_CORE_SPEND_H_

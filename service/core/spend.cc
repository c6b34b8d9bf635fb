#include "service/core/spend.h"

#include "absl/strings/numbers.h"
#include "absl/time/civil_time.h"

namespace attribution {
namespace {

const absl::CivilDay kEpoch(1970, 1, 1);

}  // namespace

std::optional<int32_t> ParseDate(absl::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return std::nullopt;
  }
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  }
  int y = 0, m = 0, d = 0;
  if (!absl::SimpleAtoi(text.substr(0, 4), &y) ||
      !absl::SimpleAtoi(text.substr(5, 2), &m) ||
      !absl::SimpleAtoi(text.substr(8, 2), &d)) {
    return std::nullopt;
  }
  const absl::CivilDay day(y, m, d);
  // CivilDay normalises 2026-02-30 to March: reject what moved.
  if (day.year() != y || day.month() != m || day.day() != d) {
    return std::nullopt;
  }
  return static_cast<int32_t>(day - kEpoch);
}

std::string FormatDate(int32_t day) {
  return absl::FormatCivilTime(kEpoch + day);
}

int32_t MonthStart(int32_t day) {
  const absl::CivilDay d = kEpoch + day;
  return static_cast<int32_t>(absl::CivilDay(absl::CivilMonth(d)) - kEpoch);
}

int32_t NextMonthStart(int32_t day) {
  const absl::CivilMonth m(kEpoch + day);
  return static_cast<int32_t>(absl::CivilDay(m + 1) - kEpoch);
}

}  // namespace attribution

// The input limits every entry point enforces, and the pure checks behind
// them. Documented in the proto comments and README.
#ifndef ATTRIBUTION_SERVICE_CORE_LIMITS_H_
#define ATTRIBUTION_SERVICE_CORE_LIMITS_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace attribution {

// String lengths, in bytes. The defaults are the contract's; a server may
// set others at start (attributiond --max_id_bytes etc.).
struct StringLimits {
  size_t id = 128;        // event_id, customer_id: UTF-8, no controls
  size_t workspace = 64;  // [A-Za-z0-9_.-]
  size_t channel = 64;    // [a-z0-9_]
  size_t campaign = 256;  // UTF-8, no controls
};
// The limits in force. Set once at start, before any check runs.
const StringLimits& CurrentStringLimits();
void SetStringLimits(const StringLimits& limits);
inline constexpr int64_t kMaxRevenueMicros =
    1'000'000'000'000'000;  // 1e9 units
// 2000-01-01T00:00:00Z in microseconds since the epoch.
inline constexpr int64_t kMinOccurredAtUs = 946'684'800'000'000;
// How far past the server's clock an event may be (clock skew allowance).
inline constexpr int64_t kMaxFutureSkewUs = 24LL * 3600 * 1'000'000;
// Distinct channels one workspace may hold (they are small integers in the
// in-memory index).
inline constexpr size_t kMaxChannelsPerWorkspace = 65535;
// Identity links one LinkIdentities request may carry.
inline constexpr size_t kMaxLinksPerRequest = 10000;

// Each returns an empty string when `s` is acceptable, else the reason, to
// be prefixed with the field's name.
const char* CheckId(absl::string_view s);
const char* CheckWorkspace(absl::string_view s);
const char* CheckChannel(absl::string_view s);
const char* CheckCampaign(absl::string_view s);

// True if `s` is well-formed UTF-8 (what protobuf requires of a string).
bool IsUtf8(absl::string_view s);

// True for an active ISO 4217 alphabetic code in upper case ("EUR").
bool IsKnownCurrency(absl::string_view code);

}  // namespace attribution

#endif  // ATTRIBUTION_SERVICE_CORE_LIMITS_H_

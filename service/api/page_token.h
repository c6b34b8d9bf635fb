// GetJourney page tokens: where the previous page ended.
#ifndef ATTRIBUTION_SERVICE_API_PAGE_TOKEN_H_
#define ATTRIBUTION_SERVICE_API_PAGE_TOKEN_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "storage/event_store.h"

namespace attribution::api {

// Web-safe base64 of 'j' | at_us as 8 big-endian bytes | event_id.
std::string EncodePageToken(int64_t at_us, absl::string_view event_id);

// InvalidArgument ("page_token: malformed") unless `token` is one that
// EncodePageToken could have made; the event id must be a valid id.
absl::Status DecodePageToken(absl::string_view token, JourneyCursor* cursor);

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_PAGE_TOKEN_H_

#include "service/api/page_token.h"

#include "absl/strings/escaping.h"
#include "service/core/limits.h"

namespace attribution::api {

std::string EncodePageToken(int64_t at_us, absl::string_view event_id) {
  std::string raw(1, 'j');
  const auto u = static_cast<uint64_t>(at_us);
  for (int shift = 56; shift >= 0; shift -= 8) {
    raw.push_back(static_cast<char>((u >> shift) & 0xff));
  }
  raw.append(event_id.data(), event_id.size());
  return absl::WebSafeBase64Escape(raw);
}

absl::Status DecodePageToken(absl::string_view token, JourneyCursor* cursor) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < 10 ||
      raw[0] != 'j') {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  uint64_t u = 0;
  for (int i = 1; i <= 8; ++i) {
    u = (u << 8) | static_cast<unsigned char>(raw[i]);
  }
  const absl::string_view id = absl::string_view(raw).substr(9);
  if (*CheckId(id) != '\0') {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  cursor->at_us = static_cast<int64_t>(u);
  cursor->event_id = std::string(id);
  return absl::OkStatus();
}

}  // namespace attribution::api

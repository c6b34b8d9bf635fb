// GetJourney page tokens on fuzzed text: decoding never crashes, and a token
// that decodes encodes back to the same position.
#include <cstddef>
#include <cstdint>
#include <string>

#include "service/api/page_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string token(reinterpret_cast<const char*>(data), size);
  attribution::JourneyCursor cursor;
  const absl::Status s = attribution::api::DecodePageToken(token, &cursor);
  if (!s.ok()) {
    if (s.code() != absl::StatusCode::kInvalidArgument) __builtin_trap();
    return 0;
  }
  attribution::JourneyCursor again;
  const std::string encoded =
      attribution::api::EncodePageToken(cursor.at_us, cursor.event_id);
  if (!attribution::api::DecodePageToken(encoded, &again).ok() ||
      again.at_us != cursor.at_us || again.event_id != cursor.event_id) {
    __builtin_trap();
  }
  return 0;
}

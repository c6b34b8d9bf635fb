// The API key file parser and the key check on fuzzed text. The input's
// first line is the `authorization` value tried against the parsed ring.
#include <cstddef>
#include <cstdint>
#include <string>

#include "service/api/api_keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const size_t nl = text.find('\n');
  const std::string authorization =
      nl == std::string::npos ? text : text.substr(0, nl);
  auto ring = attribution::api::KeyRing::Parse(text);
  (void)attribution::api::KeyRing::KeyId(authorization);
  if (!ring.ok()) {
    if (ring.status().code() != absl::StatusCode::kInvalidArgument) {
      __builtin_trap();
    }
    return 0;
  }
  for (auto role :
       {attribution::api::Role::kReader, attribution::api::Role::kWriter,
        attribution::api::Role::kAdmin}) {
    const absl::Status s = ring->Check(authorization, "acme", role);
    if (!s.ok() && s.code() != absl::StatusCode::kUnauthenticated &&
        s.code() != absl::StatusCode::kPermissionDenied) {
      __builtin_trap();
    }
  }
  return 0;
}

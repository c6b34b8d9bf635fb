// Byte layout of what the store writes to RocksDB.
//
// Event key: 'e' | Esc(workspace) | Esc(customer_id) | Time(occurred_at_us) |
//            event_id
//   Esc(s): s with every 0x00 written as 0x00 0xff, then 0x00 0x01. It keeps
//     bytewise order and no escaped string is a prefix of another, so the keys
//     of one (workspace, customer) are contiguous and ordered by time, then
//     event_id.
//   Time(t): 8 bytes big-endian of t with the sign bit flipped, so that
//     bytewise order is numeric order.
// Event value: see EncodeEventValue. Version byte first.
#ifndef ATTRIBUTION_STORAGE_KEY_CODEC_H_
#define ATTRIBUTION_STORAGE_KEY_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/core/event.h"

namespace attribution::storage {

inline constexpr char kEventKeyTag = 'e';

// The key prefix shared by every event of every customer of `workspace`.
std::string WorkspacePrefix(absl::string_view workspace);
// The key prefix shared by every event of one customer.
std::string CustomerPrefix(absl::string_view workspace,
                           absl::string_view customer_id);
// Appends Time(at_us) to `out`.
void AppendTime(std::string* out, int64_t at_us);
std::string EventKey(absl::string_view workspace, absl::string_view customer_id,
                     int64_t at_us, absl::string_view event_id);
// The same, written over `out` (which keeps its capacity between calls).
void EncodeEventKey(absl::string_view workspace, absl::string_view customer_id,
                    int64_t at_us, absl::string_view event_id,
                    std::string* out);

struct DecodedKey {
  std::string workspace;
  std::string customer_id;
  int64_t at_us = 0;
  std::string event_id;
};
// DataLoss if `key` is not a well-formed event key.
absl::Status DecodeEventKey(absl::string_view key, DecodedKey* out);

// Serialises the fields of `event` that the key does not hold.
void EncodeEventValue(const Event& event, std::string* out);
// Fills those fields back in; the key's fields are left as they are. DataLoss
// on malformed bytes.
absl::Status DecodeEventValue(absl::string_view value, Event* event);

}  // namespace attribution::storage

#endif  // ATTRIBUTION_STORAGE_KEY_CODEC_H_

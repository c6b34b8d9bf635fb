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
//
// Spend key: 's' | Esc(workspace) | Day(day) | Esc(channel) | Esc(campaign)
//   Day(d): 4 bytes big-endian of d with the sign bit flipped.
// Spend value: version byte, 8 bytes big-endian amount_micros, currency.
//
// Metadata key: 'm' | Esc(workspace) | name. Value: opaque bytes of the
//   caller (settings, goals).
//
// Identity link key: 'l' | Esc(workspace) | Esc(identity_id).
// Value: version byte 1, then the customer_id it is linked to.
#ifndef ATTRIBUTION_STORAGE_KEY_CODEC_H_
#define ATTRIBUTION_STORAGE_KEY_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "service/core/event.h"
#include "service/core/spend.h"

namespace attribution::storage {

inline constexpr char kEventKeyTag = 'e';
inline constexpr char kSpendKeyTag = 's';
inline constexpr char kMetaKeyTag = 'm';
inline constexpr char kLinkKeyTag = 'l';

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

// The key prefix of the workspace's spend, and the key of its first day
// >= `day`.
std::string SpendPrefix(absl::string_view workspace);
std::string SpendDayKey(absl::string_view workspace, int32_t day);
std::string SpendKey(const SpendRow& row, absl::string_view workspace);
void EncodeSpendValue(const SpendRow& row, std::string* out);
// Fills every field of `row` from a key and value. DataLoss if malformed.
absl::Status DecodeSpend(absl::string_view key, absl::string_view value,
                         SpendRow* row);

std::string MetaPrefix(absl::string_view workspace);

std::string LinkKey(absl::string_view workspace, absl::string_view identity_id);
std::string EncodeLinkValue(absl::string_view customer_id);
// DataLoss if malformed.
absl::Status DecodeLink(absl::string_view key, absl::string_view value,
                        std::string* workspace, std::string* identity_id,
                        std::string* customer_id);

// The key prefix of `workspace`'s records of kind `tag` (kEventKeyTag,
// kSpendKeyTag, kMetaKeyTag).
std::string TaggedWorkspacePrefix(char tag, absl::string_view workspace);
// The workspace of any record's key; false if the key is malformed.
bool DecodeWorkspace(absl::string_view key, std::string* workspace);

}  // namespace attribution::storage

#endif  // ATTRIBUTION_STORAGE_KEY_CODEC_H_

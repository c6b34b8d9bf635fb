// The storage key and value codecs (events and spend) on arbitrary bytes:
// decoding never crashes, and a key that decodes encodes back to the same
// bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "storage/key_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  attribution::storage::DecodedKey key;
  if (attribution::storage::DecodeEventKey(bytes, &key).ok()) {
    const std::string again = attribution::storage::EventKey(
        key.workspace, key.customer_id, key.at_us, key.event_id);
    if (again != bytes) __builtin_trap();
  }
  attribution::Event event;
  if (attribution::storage::DecodeEventValue(bytes, &event).ok()) {
    std::string again;
    attribution::storage::EncodeEventValue(event, &again);
    attribution::Event back;
    if (!attribution::storage::DecodeEventValue(again, &back).ok() ||
        !(back == event)) {
      __builtin_trap();
    }
  }
  // Spend: the same bytes as key and value; a row that decodes encodes to a
  // value that decodes back to it.
  attribution::SpendRow row;
  if (attribution::storage::DecodeSpend(bytes, bytes, &row).ok()) {
    std::string value;
    attribution::storage::EncodeSpendValue(row, &value);
    attribution::SpendRow back;
    const std::string key = attribution::storage::SpendKey(row, "w");
    if (!attribution::storage::DecodeSpend(key, value, &back).ok() ||
        !(back == row)) {
      __builtin_trap();
    }
  }
  return 0;
}

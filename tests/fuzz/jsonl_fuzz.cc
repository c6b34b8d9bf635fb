// The JSONL event-line parser and row conversion on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "clients/cli/event_rows.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto row = attribution::cli::ParseJsonLine(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  if (row.ok()) (void)attribution::cli::RowToEvent(*row);
  (void)attribution::cli::ParseDecimalMicros(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}

// The server's CSV event-file parser (BulkImportEvents) on arbitrary bytes,
// against the streamed import's reading of the same text: the CLI's reader,
// then the server's check of each event. Both must keep the same events and
// reject the same number of rows; rows, events and rejections must add up,
// and rejected rows come in line order.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "clients/cli/importer.h"
#include "service/api/event_conversion.h"
#include "service/api/event_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace attribution;  // NOLINT: a fuzz target's one function.
  const std::string text(reinterpret_cast<const char*>(data), size);
  const absl::Time now = absl::FromUnixSeconds(1'780'000'000);
  api::EventFileOptions options;
  options.now = now;
  absl::StatusOr<api::ParsedEventFile> parsed =
      api::ParseCsvEvents(text, options);
  std::istringstream in(text);
  auto source = cli::NewCsvSource(in);
  if (parsed.ok() != source.ok()) __builtin_trap();  // Refused whole alike.
  if (!parsed.ok()) return 0;
  if (parsed->rows !=
      static_cast<int64_t>(parsed->events.size()) + parsed->rejected) {
    __builtin_trap();
  }
  for (size_t i = 1; i < parsed->rejected_rows.size(); ++i) {
    if (parsed->rejected_rows[i].line <= parsed->rejected_rows[i - 1].line) {
      __builtin_trap();
    }
  }
  std::vector<Event> streamed;
  int64_t line = 0;
  absl::StatusOr<v1::Event> row;
  while ((*source)->Next(&line, &row)) {
    Event e;
    if (row.ok() && api::EventFromProto(*row, "", now, &e).ok()) {
      streamed.push_back(std::move(e));
    }
  }
  if (streamed != parsed->events) __builtin_trap();
  return 0;
}

// The CSV event-file reader and row conversion on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "clients/cli/importer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto source = attribution::cli::NewCsvSource(in);
  if (!source.ok()) return 0;
  int64_t line = 0;
  int64_t last_line = 0;
  absl::StatusOr<attribution::v1::Event> event;
  while ((*source)->Next(&line, &event)) {
    if (line <= last_line) __builtin_trap();  // Lines only move forward.
    last_line = line;
  }
  return 0;
}

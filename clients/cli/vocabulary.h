// attributionctl's one vocabulary: how names are read (any case, dashes or
// underscores, spaces after commas, "did you mean" for a near miss) and how
// values are written (enum values as lower-case words, doubles shortest
// round-trip, messages as their proto3 JSON mapping).
#ifndef ATTRIBUTION_CLIENTS_CLI_VOCABULARY_H_
#define ATTRIBUTION_CLIENTS_CLI_VOCABULARY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "service/page/report_text.h"

namespace attribution::cli {

// " First-Touch " -> "first_touch": trimmed, lower case, dashes as
// underscores.
std::string NormaliseName(absl::string_view name);

// `known`'s closest entry to `given` as ` (did you mean "x"?)`, or "" when
// none is close (more than a third of its letters, at least 2, differ).
std::string DidYouMean(absl::string_view given,
                       const std::vector<std::string>& known);

// An enum value as the lower-case word without the type's prefix
// (DIRECTION_UP -> "up"): the reports' own words.
using page::EnumWord;
// Every word of the type but UNSPECIFIED, in declaration order.
std::vector<std::string> EnumWords(
    const google::protobuf::EnumDescriptor* type);

// The value whose word `given` names (normalised). InvalidArgument naming
// --`flag`, listing the words, with "did you mean", otherwise.
absl::StatusOr<int> ParseEnumWord(const google::protobuf::EnumDescriptor* type,
                                  absl::string_view flag,
                                  absl::string_view given);

// The shortest decimal that reads back as exactly `v`.
using page::Shortest;

// `message` as its proto3 JSON mapping: field names as in the proto, every
// field present (zeros and empty lists too; message and `optional` fields
// only when set), 64-bit integers as strings, Timestamps as RFC 3339 UTC,
// Durations as "86400s", doubles shortest round-trip. One difference:
// enum values are the lower-case words of EnumWord ("up", not
// "DIRECTION_UP"), as everywhere else in the CLI, its CSV and the Python
// client.
// Enum fields at 0 (UNSPECIFIED) are left out.
std::string MessageJson(const google::protobuf::Message& message);

// `s` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view s);

// Reads MessageJson's output (or any proto3 JSON of the type, enum values
// as words or as proto names) into `out`. InvalidArgument if it is not.
absl::Status ParseMessageJson(absl::string_view json,
                              google::protobuf::Message* out);

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_VOCABULARY_H_

// Request validation and proto <-> domain conversion, at the API edge.
#ifndef ATTRIBUTION_SERVICE_API_EVENT_CONVERSION_H_
#define ATTRIBUTION_SERVICE_API_EVENT_CONVERSION_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "attribution/v1/events.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "service/core/event.h"

namespace attribution::api {

// InvalidArgument naming `field` unless the workspace is acceptable.
absl::Status ValidateWorkspace(absl::string_view workspace,
                               absl::string_view field = "workspace");

// InvalidArgument naming `field` unless `id` is an acceptable id.
absl::Status ValidateId(absl::string_view id, absl::string_view field);

// Validates one event and converts it. Errors are InvalidArgument and name
// the field as "<prefix>.touchpoint.channel" etc. `now` bounds occurred_at.
absl::Status EventFromProto(const v1::Event& in, absl::string_view prefix,
                            absl::Time now, Event* out);

// A batch that failed validation: the status and the offending event's index
// (-1 when the error is not about one event).
struct BatchError {
  absl::Status status;
  int event_index = -1;
};

// Validates a whole batch: 1 to `max_events` events (ResourceExhausted above),
// each valid. On success fills `out`; on error `out` is unspecified.
BatchError EventsFromProto(
    const google::protobuf::RepeatedPtrField<v1::Event>& in, absl::Time now,
    size_t max_events, std::vector<Event>* out);

void EventToProto(const Event& in, v1::Event* out);

// Microseconds since the epoch -> Timestamp.
void TimeToProto(int64_t at_us, google::protobuf::Timestamp* ts);

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_EVENT_CONVERSION_H_

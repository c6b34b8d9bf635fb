// Request validation on arbitrary RecordEventsRequest bytes.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "attribution/v1/attribution_service.pb.h"
#include "service/api/event_conversion.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  attribution::v1::RecordEventsRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  (void)attribution::api::ValidateWorkspace(request.workspace());
  std::vector<attribution::Event> events;
  const auto error = attribution::api::EventsFromProto(
      request.events(), absl::FromUnixSeconds(1'790'000'000), 10000, &events);
  if (error.status.ok()) {
    // Valid events convert back to protos that validate again.
    for (const attribution::Event& e : events) {
      attribution::v1::Event back;
      attribution::api::EventToProto(e, &back);
      attribution::Event again;
      if (!attribution::api::EventFromProto(
               back, "e", absl::FromUnixSeconds(1'790'000'000), &again)
               .ok() ||
          !(again == e)) {
        __builtin_trap();
      }
    }
  }
  return 0;
}

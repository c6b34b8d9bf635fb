// The in-process gRPC handlers on fuzzed request bytes: the first byte picks
// the method (RecordEvents, an IngestEvents batch, Attribute, ChannelReport,
// GetJourney), the rest is the request as the server receives it. Each goes
// through the same strict parse and the same typed handler as a real call,
// against a real RocksDB on an in-memory Env. A crash, a sanitizer report,
// or an OK status for bytes that ParseStrict refused is a failure.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "grpcpp/server_context.h"
#include "rocksdb/env.h"
#include "service/api/attribution_service_impl.h"
#include "service/api/raw_calls.h"
#include "service/api/report_service_impl.h"
#include "service/api/workspace_settings.h"
#include "service/core/clock.h"
#include "storage/rocksdb_event_store.h"

namespace {

using namespace attribution;  // NOLINT: a fuzz target's one function.

struct Server {
  Server() {
    env.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    StorageOptions o;
    o.path = "/fuzz-db";
    o.env = env.get();
    store = *RocksDbEventStore::Open(o);
    api::ServiceOptions so;
    so.auth_enabled = false;
    so.max_batch_events = 200;
    so.query_threads = 1;
    so.query_workers = 1;
    so.stream_idle_timeout = absl::ZeroDuration();
    settings = std::make_unique<api::WorkspaceSettingsStore>(*store);
    service = std::make_unique<api::AttributionServiceImpl>(*store, clock, so,
                                                            settings.get());
    reports = std::make_unique<api::ReportServiceImpl>(*store, clock, *settings,
                                                       *service, so);
  }
  std::unique_ptr<rocksdb::Env> env;
  RealClock clock;
  std::unique_ptr<RocksDbEventStore> store;
  std::unique_ptr<api::WorkspaceSettingsStore> settings;
  std::unique_ptr<api::AttributionServiceImpl> service;
  std::unique_ptr<api::ReportServiceImpl> reports;
};

// Parses strictly, then runs the handler; traps if a refused parse is
// nonetheless served.
template <typename Req, typename Fn>
void Call(absl::string_view bytes, Fn fn) {
  Req request;
  const absl::Status parsed = api::ParseStrict(bytes, &request);
  if (!parsed.ok()) {
    if (parsed.code() != absl::StatusCode::kInvalidArgument) __builtin_trap();
    return;
  }
  fn(request).IgnoreError();  // Any error status is an acceptable answer.
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Server* server = new Server();
  if (size == 0) return 0;
  const absl::string_view bytes(reinterpret_cast<const char*>(data) + 1,
                                size - 1);
  grpc::CallbackServerContext context;
  switch (data[0] % 5) {
    case 0:
      Call<v1::RecordEventsRequest>(bytes, [&](const auto& r) {
        v1::RecordEventsResponse resp;
        return server->service->RecordEventsImpl(context, r, &resp);
      });
      break;
    case 1:
      Call<v1::IngestEventsRequest>(bytes, [&](const auto& r) {
        std::vector<Event> events;
        api::BatchError error =
            server->service->ValidateBatch(r.workspace(), r.events(), &events);
        if (!error.status.ok()) return error.status;
        WriteResult result;
        return server->service->CommitBatch(
            *server->service->PrepareBatch(r.workspace(), std::move(events)),
            &result, &error);
      });
      break;
    case 2:
      Call<v1::AttributeRequest>(bytes, [&](const auto& r) {
        v1::AttributeResponse resp;
        return server->service->AttributeImpl(&context, r, &resp);
      });
      break;
    case 3:
      Call<v1::ChannelReportRequest>(bytes, [&](const auto& r) {
        v1::ChannelReportResponse resp;
        return server->reports->ChannelReportImpl(&context, r, &resp);
      });
      break;
    case 4:
      Call<v1::GetJourneyRequest>(bytes, [&](const auto& r) {
        v1::GetJourneyResponse resp;
        return server->service->GetJourneyImpl(r, &resp);
      });
      break;
  }
  return 0;
}

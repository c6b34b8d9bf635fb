// One log line per call: time, method, workspace, status code, duration,
// peer and the key's id (never the key). A gRPC server interceptor, so that
// every method, the health and reflection services included, is logged the
// same way without each handler's help.
//
// Denied calls (UNAUTHENTICATED, PERMISSION_DENIED) are logged at most
// `denied_per_second` a second; past that they are counted, and the next
// denied line that is written says how many were left out.
#ifndef ATTRIBUTION_SERVICE_API_REQUEST_LOG_H_
#define ATTRIBUTION_SERVICE_API_REQUEST_LOG_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_interceptor.h"

namespace attribution::api {

struct RequestLogEntry {
  absl::Time at;
  std::string method;     // "attribution.v1.AttributionService/Attribute"
  std::string workspace;  // "" when the call names none
  int code = 0;           // google.rpc.Code
  absl::Duration duration;
  std::string peer;    // "ipv4:127.0.0.1:50312"
  std::string key_id;  // KeyRing::KeyId, "" without a key
};

// The line of an entry, without the newline. Text:
//   2026-12-02T05:40:00.123Z call method=... workspace=acme code=OK
//   duration_ms=1.234 peer=ipv4:127.0.0.1:1 key=key:0123456789ab
// JSON: {"time":...,"method":...,"workspace":...,"code":"OK",
//   "duration_ms":1.234,"peer":...,"key":...}
std::string FormatRequestLogEntry(const RequestLogEntry& entry, bool json,
                                  int64_t denied_left_out);

// Where the lines go, and the rate limit of denied calls. Thread-safe.
class RequestLog {
 public:
  RequestLog(std::ostream* out, bool json, int denied_per_second = 10);
  void Write(const RequestLogEntry& entry);

 private:
  std::ostream* const out_;
  const bool json_;
  const int denied_per_second_;
  absl::Mutex mu_;
  absl::Time window_start_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int denied_in_window_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t denied_left_out_ ABSL_GUARDED_BY(mu_) = 0;
};

// The workspace a request of `method` names, read from the first bytes of
// its serialised message ("" if it names none or they do not hold it).
std::string WorkspaceOfRequest(absl::string_view method,
                               absl::string_view bytes);

class ServerMetrics;

// Sees every call: writes its line to `log` (may be null: no request log)
// and counts it in `metrics` (may be null).
class RequestLogInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  RequestLogInterceptorFactory(std::shared_ptr<RequestLog> log,
                               std::shared_ptr<ServerMetrics> metrics)
      : log_(std::move(log)), metrics_(std::move(metrics)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  std::shared_ptr<RequestLog> log_;
  std::shared_ptr<ServerMetrics> metrics_;
};

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_REQUEST_LOG_H_

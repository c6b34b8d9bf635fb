#ifndef ATTRIBUTION_SERVICE_API_GRPC_STATUS_H_
#define ATTRIBUTION_SERVICE_API_GRPC_STATUS_H_

#include <chrono>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"

namespace attribution::api {

// absl::Status -> grpc::Status. The canonical codes are numerically equal.
inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

// Finishes a unary call with `status`.
inline grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context,
                                      const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Polled by long queries: has the caller gone or its deadline passed?
inline std::function<bool()> StopWhen(grpc::CallbackServerContext* context) {
  const auto deadline = context->deadline();
  return [context, deadline] {
    return context->IsCancelled() ||
           std::chrono::system_clock::now() > deadline;
  };
}

// The status of a query that StopWhen stopped.
inline absl::Status Stopped(grpc::CallbackServerContext* context) {
  if (std::chrono::system_clock::now() > context->deadline()) {
    return absl::DeadlineExceededError("the query passed its deadline");
  }
  return absl::CancelledError("the caller cancelled the query");
}

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_GRPC_STATUS_H_

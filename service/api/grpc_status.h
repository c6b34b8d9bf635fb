#ifndef ATTRIBUTION_SERVICE_API_GRPC_STATUS_H_
#define ATTRIBUTION_SERVICE_API_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace attribution::api {

// absl::Status -> grpc::Status. The canonical codes are numerically equal.
inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_GRPC_STATUS_H_

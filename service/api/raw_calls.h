// Requests as bytes: the services register every method "raw" (ByteBuffer in,
// ByteBuffer out) and parse requests themselves, strictly. gRPC's own parse
// failure for a callback method is UNIMPLEMENTED with an empty message, and on
// a stream it looks like the client's half-close; here it is
// INVALID_ARGUMENT naming what could not be parsed.
#ifndef ATTRIBUTION_SERVICE_API_RAW_CALLS_H_
#define ATTRIBUTION_SERVICE_API_RAW_CALLS_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "service/api/grpc_status.h"
#include "service/api/work_queue.h"

namespace attribution::api {

// The bytes of a received message, in one piece.
std::string BytesOf(const grpc::ByteBuffer& buffer);

// Serialises `message` into `out`.
void ToByteBuffer(const google::protobuf::Message& message,
                  grpc::ByteBuffer* out);

// Parses `bytes` as `out`'s type, stricter than protobuf is on its own.
// InvalidArgument, naming the field path (e.g. "events[3].touchpoint"), for:
// bytes that are not a message of that type; a string field that is not
// UTF-8; an enum, int32 or uint32 field whose varint does not fit 32 bits
// (protobuf would truncate it, 2^40 becoming 0); and two different members
// of one oneof (protobuf would keep the last). Unknown fields are accepted
// and ignored, for forward compatibility.
absl::Status ParseStrict(absl::string_view bytes,
                         google::protobuf::Message* out);

// The index N of a message that starts "events[N]", else -1.
int EventIndexOf(absl::string_view message);

// The value of a top-level varint field, read without parsing the rest (so
// that a message with a bad string still yields, say, its sequence); 0 if
// absent or unreadable.
uint64_t TopLevelVarint(absl::string_view bytes, int field_number);

// Finishes a raw unary call: parses the request as Req, runs
// fn(const Req&, Resp*) -> absl::Status, serialises the response on OK.
template <typename Req, typename Resp, typename Fn>
grpc::ServerUnaryReactor* ServeRaw(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request_bytes,
                                   grpc::ByteBuffer* response_bytes, Fn fn) {
  Req request;
  Resp response;
  absl::Status s = ParseStrict(BytesOf(*request_bytes), &request);
  if (s.ok()) s = fn(request, &response);
  if (s.ok()) ToByteBuffer(response, response_bytes);
  return Done(context, s);
}

// The same, but the work runs on `pool` (queries: they may take seconds and
// must not hold a gRPC thread, which streams' acks and journey reads need).
// The call finishes from the pool's thread.
template <typename Req, typename Resp, typename Fn>
grpc::ServerUnaryReactor* ServeRawOnPool(WorkQueue& pool,
                                         grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request_bytes,
                                         grpc::ByteBuffer* response_bytes,
                                         Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  pool.Push([context, request_bytes, response_bytes, reactor,
             fn = std::move(fn)]() mutable {
    Req request;
    Resp response;
    absl::Status s = ParseStrict(BytesOf(*request_bytes), &request);
    if (s.ok() && context->IsCancelled()) {
      s = absl::CancelledError("the caller cancelled the query");
    }
    if (s.ok()) s = fn(request, &response);
    if (s.ok()) ToByteBuffer(response, response_bytes);
    reactor->Finish(ToGrpcStatus(s));
  });
  return reactor;
}

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_RAW_CALLS_H_

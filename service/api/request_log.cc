#include "service/api/request_log.h"

#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "service/api/api_keys.h"
#include "service/api/event_conversion.h"
#include "service/api/metrics.h"

namespace attribution::api {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The bytes of field `number` (length-delimited) at the top of `message`,
// or false.
bool LengthDelimitedField(absl::string_view message, int number,
                          absl::string_view* out) {
  size_t i = 0;
  auto varint = [&](uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && i < message.size(); shift += 7) {
      const auto byte = static_cast<unsigned char>(message[i++]);
      *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  };
  while (i < message.size()) {
    uint64_t tag, n;
    if (!varint(&tag)) return false;
    switch (tag & 7) {
      case 0:  // varint
        if (!varint(&n)) return false;
        break;
      case 1:  // 64-bit
        i += 8;
        break;
      case 5:  // 32-bit
        i += 4;
        break;
      case 2:  // length-delimited
        if (!varint(&n) || n > message.size() - i) return false;
        if (static_cast<int>(tag >> 3) == number) {
          *out = message.substr(i, n);
          return true;
        }
        i += n;
        break;
      default:
        return false;
    }
  }
  return false;
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\u00", absl::Hex(c, absl::kZeroPad2));
      continue;
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

class RequestLogInterceptor final : public grpc::experimental::Interceptor {
 public:
  RequestLogInterceptor(grpc::experimental::ServerRpcInfo* info,
                        std::shared_ptr<RequestLog> log,
                        std::shared_ptr<ServerMetrics> metrics)
      : log_(std::move(log)),
        metrics_(std::move(metrics)),
        started_(absl::Now()),
        method_(absl::StripPrefix(info->method(), "/")),
        // Only this service's methods take their requests as raw bytes.
        ours_(absl::StartsWith(method_, "attribution.v1.")) {
    entry_.peer = info->server_context()->peer();
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      const auto* metadata = methods->GetRecvInitialMetadata();
      if (auto it = metadata->find("authorization"); it != metadata->end()) {
        entry_.key_id = KeyRing::KeyId(
            absl::string_view(it->second.data(), it->second.size()));
      }
    }
    if (ours_ && log_ != nullptr && !seen_message_ &&
        methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_MESSAGE)) {
      seen_message_ = true;  // A stream's first message names it.
      if (auto* bytes =
              static_cast<grpc::ByteBuffer*>(methods->GetRecvMessage());
          bytes != nullptr) {
        std::vector<grpc::Slice> slices;
        if (bytes->Dump(&slices).ok() && !slices.empty()) {
          entry_.workspace = WorkspaceOfRequest(
              method_, absl::string_view(
                           reinterpret_cast<const char*>(slices[0].begin()),
                           slices[0].size()));
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      entry_.at = absl::Now();
      entry_.method = std::string(method_);
      entry_.code = static_cast<int>(methods->GetSendStatus().error_code());
      entry_.duration = entry_.at - started_;
      if (log_ != nullptr) log_->Write(entry_);
      if (metrics_ != nullptr) {
        metrics_->Request(method_, entry_.code, entry_.duration);
      }
    }
    methods->Proceed();
  }

 private:
  const std::shared_ptr<RequestLog> log_;
  const std::shared_ptr<ServerMetrics> metrics_;
  const absl::Time started_;
  const absl::string_view method_;
  const bool ours_;
  bool seen_message_ = false;
  RequestLogEntry entry_;
};

}  // namespace

std::string FormatRequestLogEntry(const RequestLogEntry& e, bool json,
                                  int64_t denied_left_out) {
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", e.at, absl::UTCTimeZone());
  const std::string code =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(e.code));
  const double ms = absl::ToDoubleMilliseconds(e.duration);
  if (json) {
    std::string line = absl::StrCat(
        "{\"time\":", JsonString(time), ",\"method\":", JsonString(e.method),
        ",\"workspace\":", JsonString(e.workspace),
        ",\"code\":", JsonString(code),
        absl::StrFormat(",\"duration_ms\":%.3f", ms),
        ",\"peer\":", JsonString(e.peer), ",\"key\":", JsonString(e.key_id));
    if (denied_left_out > 0) {
      absl::StrAppend(&line, ",\"denied_not_logged\":", denied_left_out);
    }
    return line + "}";
  }
  std::string line = absl::StrCat(
      time, " call method=", e.method,
      " workspace=", e.workspace.empty() ? "-" : e.workspace, " code=", code,
      absl::StrFormat(" duration_ms=%.3f", ms), " peer=", e.peer,
      " key=", e.key_id.empty() ? "-" : e.key_id);
  if (denied_left_out > 0) {
    absl::StrAppend(&line, " denied_not_logged=", denied_left_out);
  }
  return line;
}

RequestLog::RequestLog(std::ostream* out, bool json, int denied_per_second)
    : out_(out), json_(json), denied_per_second_(denied_per_second) {}

void RequestLog::Write(const RequestLogEntry& entry) {
  const bool denied =
      entry.code == static_cast<int>(absl::StatusCode::kUnauthenticated) ||
      entry.code == static_cast<int>(absl::StatusCode::kPermissionDenied);
  absl::MutexLock lock(&mu_);
  int64_t left_out = 0;
  if (denied) {
    if (entry.at - window_start_ >= absl::Seconds(1)) {
      window_start_ = entry.at;
      denied_in_window_ = 0;
    }
    if (denied_in_window_ >= denied_per_second_) {
      ++denied_left_out_;
      return;
    }
    ++denied_in_window_;
    left_out = std::exchange(denied_left_out_, 0);
  }
  *out_ << FormatRequestLogEntry(entry, json_, left_out) << '\n';
  out_->flush();
}

std::string WorkspaceOfRequest(absl::string_view method,
                               absl::string_view bytes) {
  const absl::string_view name = method.substr(method.rfind('/') + 1);
  if (name == "CreateBackup" || name == "ListWorkspaces" ||
      name == "GetServerInfo") {
    return "";
  }
  absl::string_view field;
  if (!LengthDelimitedField(bytes, 1, &field)) return "";
  // Requests whose workspace sits one message down.
  if (name == "TopPaths" || name == "ExplainCustomer" ||
      name == "RecordExperiment" || name == "UpdateSettings") {
    absl::string_view inner;
    if (!LengthDelimitedField(field, 1, &inner)) return "";
    field = inner;
  }
  // Only a valid name is logged: nothing a caller could forge a line with.
  return ValidateWorkspace(field).ok() ? std::string(field) : "";
}

grpc::experimental::Interceptor*
RequestLogInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RequestLogInterceptor(info, log_, metrics_);
}

}  // namespace attribution::api

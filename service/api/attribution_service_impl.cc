#include "service/api/attribution_service_impl.h"

#include <deque>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/api/event_conversion.h"
#include "service/api/grpc_status.h"
#include "service/core/status_macros.h"

namespace attribution::api {
namespace {

constexpr int kDefaultPageSize = 1000;
constexpr int kMaxPageSize = 10000;

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context,
                               const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Page tokens: web-safe base64 of 'j' | Time(at_us) big-endian | event_id.
std::string EncodePageToken(const Event& last) {
  std::string raw(1, 'j');
  const auto u = static_cast<uint64_t>(last.occurred_at_us);
  for (int shift = 56; shift >= 0; shift -= 8) {
    raw.push_back(static_cast<char>((u >> shift) & 0xff));
  }
  raw.append(last.event_id);
  return absl::WebSafeBase64Escape(raw);
}

absl::Status DecodePageToken(absl::string_view token, JourneyCursor* cursor) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || raw.size() < 10 ||
      raw[0] != 'j') {
    return absl::InvalidArgumentError("page_token: malformed");
  }
  uint64_t u = 0;
  for (int i = 1; i <= 8; ++i) u = (u << 8) | static_cast<unsigned char>(raw[i]);
  cursor->at_us = static_cast<int64_t>(u);
  cursor->event_id = raw.substr(9);
  return absl::OkStatus();
}

// One IngestEvents stream. Reads a batch, stores it, queues its ack and reads
// the next while the ack is written, so a client can keep several batches in
// flight. Acks go out in request order.
class IngestReactor final
    : public grpc::ServerBidiReactor<v1::IngestEventsRequest,
                                     v1::IngestEventsResponse> {
 public:
  explicit IngestReactor(AttributionServiceImpl& service) : service_(service) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // The client half-closed (or the call broke).
      absl::MutexLock lock(&mu_);
      reads_done_ = true;
      MaybeFinishLocked(grpc::Status::OK);
      return;
    }
    v1::IngestEventsResponse response;
    response.set_sequence(request_.sequence());
    WriteResult result;
    BatchError error;
    absl::Status s = service_.StoreBatch(request_.workspace(),
                                         request_.events(), &result, &error);
    if (!s.ok()) {
      // Storage failed: the stream cannot promise durability any more.
      absl::MutexLock lock(&mu_);
      reads_done_ = true;
      MaybeFinishLocked(ToGrpcStatus(s));
      return;
    }
    if (!error.status.ok()) {
      v1::BatchError* e = response.mutable_error();
      e->set_code(static_cast<int32_t>(error.status.code()));
      e->set_message(std::string(error.status.message()));
      e->set_event_index(error.event_index);
    } else {
      response.set_stored(result.stored);
      response.set_duplicates(result.duplicates);
    }
    {
      absl::MutexLock lock(&mu_);
      pending_.push_back(std::move(response));
      if (!writing_) {
        writing_ = true;
        StartWrite(&pending_.front());
      }
    }
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    pending_.pop_front();
    if (!ok) {  // The client went away; no ack can reach it.
      writing_ = false;
      reads_done_ = true;
      MaybeFinishLocked(grpc::Status(grpc::StatusCode::CANCELLED,
                                     "client stopped reading acks"));
      return;
    }
    if (!pending_.empty()) {
      StartWrite(&pending_.front());
    } else {
      writing_ = false;
      MaybeFinishLocked(grpc::Status::OK);
    }
  }

  void OnDone() override { delete this; }

 private:
  // Finishes once reads are over and every ack is written.
  void MaybeFinishLocked(grpc::Status status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!status.ok() && final_status_.ok()) final_status_ = std::move(status);
    if (finished_ || !reads_done_ || writing_) return;
    finished_ = true;
    Finish(final_status_);
  }

  AttributionServiceImpl& service_;
  v1::IngestEventsRequest request_;  // Only touched by the read chain.
  absl::Mutex mu_;
  std::deque<v1::IngestEventsResponse> pending_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

AttributionServiceImpl::AttributionServiceImpl(EventStore& store, Clock& clock,
                                               ServiceOptions options)
    : store_(store), clock_(clock), options_(options) {}

absl::Status AttributionServiceImpl::StoreBatch(
    absl::string_view workspace,
    const google::protobuf::RepeatedPtrField<v1::Event>& events,
    WriteResult* result, BatchError* error) {
  if (absl::Status s = ValidateWorkspace(workspace); !s.ok()) {
    *error = {std::move(s), -1};
    return absl::OkStatus();
  }
  std::vector<Event> domain;
  *error = EventsFromProto(events, clock_.Now(), options_.max_batch_events,
                           &domain);
  if (!error->status.ok()) return absl::OkStatus();
  absl::StatusOr<WriteResult> written = store_.Write(workspace, domain);
  if (written.ok()) {
    *result = *written;
    return absl::OkStatus();
  }
  if (absl::IsResourceExhausted(written.status())) {
    // A workspace limit, not a storage failure: reject the batch only.
    *error = {written.status(), -1};
    return absl::OkStatus();
  }
  return written.status();
}

grpc::ServerUnaryReactor* AttributionServiceImpl::RecordEvents(
    grpc::CallbackServerContext* context,
    const v1::RecordEventsRequest* request,
    v1::RecordEventsResponse* response) {
  WriteResult result;
  BatchError error;
  absl::Status s =
      StoreBatch(request->workspace(), request->events(), &result, &error);
  if (s.ok() && !error.status.ok()) s = error.status;
  if (s.ok()) {
    response->set_stored(result.stored);
    response->set_duplicates(result.duplicates);
  }
  return Done(context, s);
}

grpc::ServerBidiReactor<v1::IngestEventsRequest, v1::IngestEventsResponse>*
AttributionServiceImpl::IngestEvents(grpc::CallbackServerContext* context) {
  return new IngestReactor(*this);
}

absl::Status AttributionServiceImpl::GetJourneyImpl(
    const v1::GetJourneyRequest& request, v1::GetJourneyResponse* response) {
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  RETURN_IF_ERROR(ValidateId(request.customer_id(), "customer_id"));
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: must be 0 to ", kMaxPageSize));
  }
  const int page_size =
      request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  JourneyCursor cursor;
  if (!request.page_token().empty()) {
    RETURN_IF_ERROR(DecodePageToken(request.page_token(), &cursor));
  }
  ASSIGN_OR_RETURN(
      JourneyPage page,
      store_.ReadJourney(request.workspace(), request.customer_id(),
                         request.page_token().empty() ? nullptr : &cursor,
                         static_cast<size_t>(page_size)));
  const int64_t* first_purchase = page.first_purchase_at_us.has_value()
                                       ? &*page.first_purchase_at_us
                                       : nullptr;
  if (first_purchase != nullptr) {
    TimeToProto(*first_purchase, response->mutable_first_purchase_at());
  }
  for (const Event& e : page.events) {
    v1::JourneyEvent* out = response->add_events();
    EventToProto(e, out->mutable_event());
    if (e.type == EventType::kTouchpoint) {
      out->set_effective_stage(static_cast<v1::Stage>(
          EffectiveStage(e.stage, e.occurred_at_us, first_purchase)));
      out->set_stage_derived(e.stage == Stage::kUnspecified);
    }
  }
  if (page.has_more && !page.events.empty()) {
    response->set_next_page_token(EncodePageToken(page.events.back()));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AttributionServiceImpl::GetJourney(
    grpc::CallbackServerContext* context, const v1::GetJourneyRequest* request,
    v1::GetJourneyResponse* response) {
  return Done(context, GetJourneyImpl(*request, response));
}

grpc::ServerUnaryReactor* AttributionServiceImpl::EraseCustomer(
    grpc::CallbackServerContext* context,
    const v1::EraseCustomerRequest* request,
    v1::EraseCustomerResponse* response) {
  absl::Status s = ValidateWorkspace(request->workspace());
  if (s.ok()) s = ValidateId(request->customer_id(), "customer_id");
  if (s.ok()) {
    absl::StatusOr<EraseResult> erased =
        store_.EraseCustomer(request->workspace(), request->customer_id());
    s = erased.status();
    if (s.ok()) {
      response->set_touchpoints_removed(erased->touchpoints);
      response->set_conversions_removed(erased->conversions);
    }
  }
  return Done(context, s);
}

grpc::ServerUnaryReactor* AttributionServiceImpl::DescribeWorkspace(
    grpc::CallbackServerContext* context,
    const v1::DescribeWorkspaceRequest* request,
    v1::DescribeWorkspaceResponse* response) {
  absl::Status s = ValidateWorkspace(request->workspace());
  if (s.ok()) {
    WorkspaceSummary summary = store_.Describe(request->workspace());
    response->set_customers(summary.stats.customers);
    response->set_touchpoints(summary.stats.touchpoints);
    response->set_conversions(summary.stats.conversions);
    for (std::string& c : summary.channels) response->add_channels(std::move(c));
  }
  return Done(context, s);
}

}  // namespace attribution::api

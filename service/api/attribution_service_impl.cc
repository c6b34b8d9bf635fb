#include "service/api/attribution_service_impl.h"

#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/api/attribute_request.h"
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
  for (int i = 1; i <= 8; ++i)
    u = (u << 8) | static_cast<unsigned char>(raw[i]);
  cursor->at_us = static_cast<int64_t>(u);
  cursor->event_id = raw.substr(9);
  return absl::OkStatus();
}

// One IngestEvents stream, as a two-stage pipeline: the gRPC thread reads
// and validates a batch and hands it to the service's write queue, then reads
// the next while that one is committed. Acks are written in request order; at
// most kMaxQueuedBatches batches of a stream wait in the queue, which bounds
// its memory and pushes back on the client through gRPC flow control.
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
    auto batch = std::make_shared<Batch>();
    batch->sequence = request_.sequence();
    std::vector<Event> events;
    batch->error = service_.ValidateBatch(request_.workspace(),
                                          request_.events(), &events);
    if (batch->error.status.ok()) {
      // Encoded here, on the gRPC thread, while the write queue commits the
      // previous batch.
      batch->prepared =
          service_.PrepareBatch(request_.workspace(), std::move(events));
    }
    {
      absl::MutexLock lock(&mu_);
      ++queued_;
    }
    service_.write_queue().Push([this, batch] { Commit(*batch); });
    absl::MutexLock lock(&mu_);
    if (queued_ < kMaxQueuedBatches) {
      StartRead(&request_);
    } else {
      read_paused_ = true;  // Resumed by Commit().
    }
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    pending_.pop_front();
    if (!ok) {  // The client went away; no ack can reach it.
      writing_ = false;
      pending_.clear();
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
  static constexpr int kMaxQueuedBatches = 4;

  struct Batch {
    uint64_t sequence = 0;
    BatchError error;
    std::unique_ptr<PreparedBatch> prepared;  // Set when error is OK.
  };

  // On the write queue's thread.
  void Commit(Batch& batch) {
    v1::IngestEventsResponse response;
    response.set_sequence(batch.sequence);
    absl::Status storage_status;
    absl::MutexLock lock(&mu_);
    if (!final_status_.ok()) {
      // The stream already failed: store nothing more of it.
    } else {
      if (batch.error.status.ok()) {
        WriteResult result;
        mu_.Unlock();
        storage_status =
            service_.CommitBatch(*batch.prepared, &result, &batch.error);
        mu_.Lock();
        response.set_stored(result.stored);
        response.set_duplicates(result.duplicates);
      }
      if (!batch.error.status.ok()) {
        response.clear_stored();
        response.clear_duplicates();
        v1::BatchError* e = response.mutable_error();
        e->set_code(static_cast<int32_t>(batch.error.status.code()));
        e->set_message(std::string(batch.error.status.message()));
        e->set_event_index(batch.error.event_index);
      }
      if (storage_status.ok()) {
        pending_.push_back(std::move(response));
        if (!writing_) {
          writing_ = true;
          StartWrite(&pending_.front());
        }
      }
    }
    --queued_;
    if (!storage_status.ok()) {
      // Storage failed: the stream cannot promise durability any more.
      reads_done_ = true;
      MaybeFinishLocked(ToGrpcStatus(storage_status));
    } else if (read_paused_ && final_status_.ok()) {
      read_paused_ = false;
      StartRead(&request_);
    } else {
      MaybeFinishLocked(grpc::Status::OK);
    }
  }

  // Finishes once reads are over, every queued batch is committed and every
  // ack is written.
  void MaybeFinishLocked(grpc::Status status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!status.ok() && final_status_.ok()) final_status_ = std::move(status);
    if (finished_ || !reads_done_ || queued_ > 0 || writing_) return;
    finished_ = true;
    Finish(final_status_);
  }

  AttributionServiceImpl& service_;
  // Filled by gRPC between StartRead() and OnReadDone(); read only there.
  v1::IngestEventsRequest request_;
  absl::Mutex mu_;
  std::deque<v1::IngestEventsResponse> pending_ ABSL_GUARDED_BY(mu_);
  int queued_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

AttributionServiceImpl::AttributionServiceImpl(EventStore& store, Clock& clock,
                                               ServiceOptions options)
    : store_(store), clock_(clock), options_(options) {}

BatchError AttributionServiceImpl::ValidateBatch(
    absl::string_view workspace,
    const google::protobuf::RepeatedPtrField<v1::Event>& events,
    std::vector<Event>* out) {
  if (absl::Status s = ValidateWorkspace(workspace); !s.ok()) {
    return {std::move(s), -1};
  }
  return EventsFromProto(events, clock_.Now(), options_.max_batch_events, out);
}

absl::Status AttributionServiceImpl::CommitBatch(PreparedBatch& batch,
                                                 WriteResult* result,
                                                 BatchError* error) {
  absl::StatusOr<WriteResult> written = store_.Commit(batch);
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
  std::vector<Event> events;
  BatchError error =
      ValidateBatch(request->workspace(), request->events(), &events);
  absl::Status s = error.status;
  if (s.ok()) {
    s = CommitBatch(*PrepareBatch(request->workspace(), std::move(events)),
                    &result, &error);
  }
  if (s.ok()) s = error.status;
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

absl::Status AttributionServiceImpl::AttributeImpl(
    const v1::AttributeRequest& request, v1::AttributeResponse* response) {
  AttributeQuery query;
  RETURN_IF_ERROR(ParseAttributeRequest(request, clock_.Now(), &query,
                                        response->mutable_request()));
  PathSet paths;
  store_.ReadIndex(request.workspace(), [&](const WorkspaceIndex* index) {
    if (index == nullptr) return;  // No data: every total is 0.
    query.paths.channel_allowed = ChannelFilter(*index, query);
    paths = ExtractPaths(*index, query.paths, options_.query_threads);
  });

  v1::AttributionTotals* totals = response->mutable_totals();
  totals->set_conversions(paths.conversions);
  totals->set_revenue(static_cast<double>(paths.revenue_micros_total) / 1e6);
  totals->set_conversions_without_touch(paths.conversions_without_touch);
  totals->set_revenue_without_touch(
      static_cast<double>(paths.revenue_without_touch_micros) / 1e6);
  totals->set_censored_customers(paths.censored_customers);
  int64_t converting = 0;
  absl::flat_hash_set<absl::Span<const uint32_t>> distinct;
  for (size_t j = 0; j < paths.size(); ++j) {
    converting += paths.converted[j];
    distinct.insert(paths.path(j));
  }
  totals->set_converting_journeys(converting);
  totals->set_non_converting_journeys(static_cast<int64_t>(paths.size()) -
                                      converting);
  totals->set_distinct_paths(static_cast<int64_t>(distinct.size()));

  for (size_t m = 0; m < query.models.size(); ++m) {
    const Credits credits = ::attribution::Attribute(paths, query.models[m]);
    v1::ModelResult* result = response->add_results();
    *result->mutable_model() = response->request().models(static_cast<int>(m));
    double total = 0;
    for (double c : credits.conversions) total += c;
    for (size_t g = 0; g < paths.group_table.size(); ++g) {
      v1::GroupCredit* credit = result->add_groups();
      credit->set_channel(paths.group_table[g].channel);
      credit->set_campaign(paths.group_table[g].campaign);
      credit->set_conversions(credits.conversions[g]);
      credit->set_revenue(credits.revenue_micros[g] / 1e6);
      credit->set_share(total > 0 ? credits.conversions[g] / total : 0);
    }
    if (query.models[m].kind == ModelKind::kShapley) {
      totals->set_shapley_equal_split(credits.shapley_equal_split);
    }
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AttributionServiceImpl::Attribute(
    grpc::CallbackServerContext* context, const v1::AttributeRequest* request,
    v1::AttributeResponse* response) {
  return Done(context, AttributeImpl(*request, response));
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
    for (std::string& c : summary.channels)
      response->add_channels(std::move(c));
  }
  return Done(context, s);
}

}  // namespace attribution::api

#include "service/api/attribution_service_impl.h"

#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <functional>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "service/api/attribute_request.h"
#include "service/api/channel_grouping.h"
#include "service/api/event_conversion.h"
#include "service/api/event_file.h"
#include "service/api/experiments.h"
#include "service/api/grpc_status.h"
#include "service/api/metrics.h"
#include "service/api/page_token.h"
#include "service/api/raw_calls.h"
#include "service/core/bootstrap.h"
#include "service/core/incremental.h"
#include "service/core/limits.h"
#include "service/core/status_macros.h"
#include "service/core/version.h"

namespace attribution::api {
namespace {

// A write's counts into a response with stored, duplicates, conflicts and
// conflict_event_ids (RecordEvents, an IngestEvents ack, BulkImportEvents).
template <typename Response>
void SetWriteResult(WriteResult result, Response* response) {
  response->set_stored(result.stored);
  response->set_duplicates(result.duplicates);
  response->set_conflicts(result.conflicts);
  for (std::string& id : result.conflict_ids) {
    response->add_conflict_event_ids(std::move(id));
  }
}

constexpr int kDefaultPageSize = 1000;
constexpr int kMaxPageSize = 10000;

absl::Status ValidateExperiment(const v1::Experiment& e) {
  RETURN_IF_ERROR(ValidateWorkspace(e.workspace(), "experiment.workspace"));
  RETURN_IF_ERROR(ValidateWorkspace(e.name(), "experiment.name"));
  if (const char* why = CheckChannel(e.channel()); *why != '\0') {
    return absl::InvalidArgumentError(
        absl::StrCat("experiment.channel: ", why));
  }
  if (e.goal() != v1::GOAL_ACQUISITION &&
      e.goal() != v1::GOAL_REPEAT_PURCHASE && e.goal() != v1::GOAL_RETENTION) {
    return absl::InvalidArgumentError(
        e.goal() == v1::GOAL_UNSPECIFIED
            ? std::string("experiment.goal: is required (GOAL_UNSPECIFIED)")
            : absl::StrCat("experiment.goal: unknown value ", e.goal()));
  }
  if (!e.has_start() || !e.has_end()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "experiment.", e.has_start() ? "end" : "start", ": is required"));
  }
  const int64_t start = TimeUs(e.start()), end = TimeUs(e.end());
  if (start < kMinOccurredAtUs || e.start().nanos() < 0 ||
      e.start().nanos() > 999'999'999) {
    return absl::InvalidArgumentError(
        "experiment.start: must be 2000-01-01 or later");
  }
  if (end <= start || e.end().nanos() < 0 || e.end().nanos() > 999'999'999) {
    return absl::InvalidArgumentError("experiment.end: must be after start");
  }
  if (e.has_estimate()) {
    const auto& est = e.estimate();
    if (!std::isfinite(est.incremental_conversions()) ||
        std::fabs(est.incremental_conversions()) > 1e12) {
      return absl::InvalidArgumentError(
          "experiment.estimate.incremental_conversions: must be a finite "
          "number of conversions");
    }
    if (!(est.standard_error() > 0) || !std::isfinite(est.standard_error())) {
      return absl::InvalidArgumentError(
          "experiment.estimate.standard_error: must be > 0");
    }
  } else if (e.has_counts()) {
    const auto& c = e.counts();
    if (c.treated_customers() < 1) {
      return absl::InvalidArgumentError(
          "experiment.counts.treated_customers: must be >= 1");
    }
    if (c.holdout_customers() < 1) {
      return absl::InvalidArgumentError(
          "experiment.counts.holdout_customers: must be >= 1");
    }
    if (c.treated_conversions() < 0 ||
        c.treated_conversions() > c.treated_customers()) {
      return absl::InvalidArgumentError(
          "experiment.counts.treated_conversions: must be 0 to "
          "treated_customers");
    }
    if (c.holdout_conversions() < 0 ||
        c.holdout_conversions() > c.holdout_customers()) {
      return absl::InvalidArgumentError(
          "experiment.counts.holdout_conversions: must be 0 to "
          "holdout_customers");
    }
  } else {
    return absl::InvalidArgumentError(
        "experiment.result: give an estimate or holdout counts");
  }
  return absl::OkStatus();
}

// The baseline and the fit of an incremental result.
void IncrementalToProto(const IncrementalResult& r, const PathSet& paths,
                        v1::ModelResult* out) {
  v1::BaselineCredit* b = out->mutable_baseline();
  b->set_conversions(r.baseline_conversions);
  b->set_revenue(r.baseline_revenue_micros / 1e6);
  b->set_share_of_conversions(paths.conversions > 0
                                  ? r.baseline_conversions /
                                        static_cast<double>(paths.conversions)
                                  : 0);
  v1::IncrementalFit* f = out->mutable_incremental_fit();
  if (r.fit.half_life_us > 0 && r.fit.half_life_us < INT64_MAX) {
    f->mutable_half_life()->set_seconds(r.fit.half_life_us / 1'000'000);
    f->mutable_half_life()->set_nanos(
        static_cast<int32_t>(r.fit.half_life_us % 1'000'000) * 1000);
  }
  f->set_baseline_hazard(r.fit.baseline_hazard);
  f->set_log_likelihood(r.fit.log_likelihood);
  f->set_iterations(r.fit.iterations);
  f->set_converged(r.fit.converged);
  for (size_t g = 0;
       g < paths.group_table.size() && g < r.fit.linear_effects.size(); ++g) {
    v1::GroupEffect* e = f->add_effects();
    e->set_channel(paths.group_table[g].channel);
    e->set_campaign(paths.group_table[g].campaign);
    e->set_linear(r.fit.linear_effects[g]);
    e->set_saturating(r.fit.saturating_effects[g]);
  }
}

// A stream refused at its start.
class RefusedStream final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit RefusedStream(grpc::Status status) { Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

// One IngestEvents stream, as a two-stage pipeline: the gRPC thread reads,
// parses and validates a batch and hands it to the service's write queue,
// then reads the next while that one is committed. Acks are written in
// request order; at most kMaxQueuedBatches batches of a stream wait in the
// queue, which bounds its memory and pushes back on the client through gRPC
// flow control. The stream takes a slot (StreamSlots) when its first batch
// is authorised, and gives it back when it ends.
class IngestStream final
    : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  IngestStream(AttributionServiceImpl& service, std::string authorization)
      : service_(service),
        authorization_(std::move(authorization)),
        key_id_(KeyRing::KeyId(authorization_)) {
    last_active_ = service_.clock().Now();
    service_.StreamOpened(this);
    StartRead(&request_bytes_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // The client half-closed (or the call broke).
      absl::MutexLock lock(&mu_);
      reads_done_ = true;
      MaybeFinishLocked(grpc::Status::OK);
      return;
    }
    auto batch = std::make_shared<Batch>();
    v1::IngestEventsRequest request;
    std::vector<Event> events;
    const std::string bytes = BytesOf(request_bytes_);
    absl::Status parsed = ParseStrict(bytes, &request);
    if (!parsed.ok()) {
      // Rejected in its ack like any bad batch, with its sequence if that
      // much of it can be read, and the event it names.
      batch->sequence =
          TopLevelVarint(bytes, v1::IngestEventsRequest::kSequenceFieldNumber);
      const int index = EventIndexOf(parsed.message());
      batch->error = {std::move(parsed), index};
    } else {
      batch->sequence = request.sequence();
      // Checked per batch against the current keys: a stream may mix
      // workspaces, and a key revoked on SIGHUP stops at its next batch.
      if (absl::Status s = service_.Authorize(
              authorization_, request.workspace(), Role::kWriter);
          !s.ok()) {
        batch->error = {std::move(s), -1};
      } else if (absl::Status slot = TakeSlot(request.workspace());
                 !slot.ok()) {
        absl::MutexLock lock(&mu_);
        reads_done_ = true;
        MaybeFinishLocked(ToGrpcStatus(slot));
        return;
      } else {
        batch->error = service_.ValidateBatch(request.workspace(),
                                              request.events(), &events);
      }
    }
    if (batch->error.status.ok()) {
      // Encoded here, on the gRPC thread, while the write queue commits the
      // previous batch.
      batch->prepared =
          service_.PrepareBatch(request.workspace(), std::move(events));
    }
    {
      absl::MutexLock lock(&mu_);
      ++queued_;
      last_active_ = service_.clock().Now();
    }
    service_.write_queue().Push([this, batch] { Commit(*batch); });
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (queued_ < kMaxQueuedBatches) {
      StartRead(&request_bytes_);
    } else {
      read_paused_ = true;  // Resumed by Commit().
    }
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    pending_.pop_front();
    last_active_ = service_.clock().Now();
    if (!ok) {  // The client went away; no ack can reach it.
      writing_ = false;
      pending_.clear();
      MaybeFinishLocked(grpc::Status(grpc::StatusCode::CANCELLED,
                                     "client stopped reading acks"));
      return;
    }
    if (!pending_.empty()) {
      StartWriteLocked();
    } else {
      writing_ = false;
      MaybeFinishLocked(grpc::Status::OK);
    }
  }

  void OnDone() override {
    service_.StreamClosed(this);
    {
      absl::MutexLock lock(&mu_);
      ReleaseSlotLocked();
    }
    delete this;
  }

  // From the watchdog: ends the stream if it has been idle, with nothing of
  // it pending, since `idle_before`.
  void EndIfIdle(absl::Time idle_before, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    if (finished_ || queued_ > 0 || writing_ || last_active_ > idle_before) {
      return;
    }
    reads_done_ = true;
    MaybeFinishLocked(grpc::Status(
        grpc::StatusCode::DEADLINE_EXCEEDED,
        absl::StrCat("IngestEvents stream idle for ",
                     absl::FormatDuration(timeout),
                     " (--stream_idle_timeout); open a new stream")));
  }

 private:
  static constexpr int kMaxQueuedBatches = 4;

  struct Batch {
    uint64_t sequence = 0;
    BatchError error;
    std::unique_ptr<PreparedBatch> prepared;  // Set when error is OK.
  };

  // The stream's slot, taken at its first authorised batch.
  absl::Status TakeSlot(const std::string& workspace) {
    absl::MutexLock lock(&mu_);
    if (slotted_) return absl::OkStatus();
    RETURN_IF_ERROR(service_.stream_slots().Acquire(key_id_, workspace));
    slotted_ = true;
    slot_workspace_ = workspace;
    return absl::OkStatus();
  }

  void ReleaseSlotLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!slotted_) return;
    slotted_ = false;
    service_.stream_slots().Release(key_id_, slot_workspace_);
  }

  void StartWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ToByteBuffer(pending_.front(), &write_bytes_);
    StartWrite(&write_bytes_);
  }

  // On the write queue's thread.
  void Commit(Batch& batch) {
    v1::IngestEventsResponse response;
    response.set_sequence(batch.sequence);
    absl::Status storage_status;
    absl::MutexLock lock(&mu_);
    if (!final_status_.ok() || finished_) {
      // The stream already failed or ended: store nothing more of it.
    } else {
      if (batch.error.status.ok()) {
        WriteResult result;
        mu_.Unlock();
        storage_status =
            service_.CommitBatch(*batch.prepared, &result, &batch.error);
        mu_.Lock();
        SetWriteResult(std::move(result), &response);
      }
      if (!batch.error.status.ok()) {
        if (service_.metrics() != nullptr) service_.metrics()->BatchRejected();
        response.clear_stored();
        response.clear_duplicates();
        response.clear_conflicts();
        response.clear_conflict_event_ids();
        v1::BatchError* e = response.mutable_error();
        e->set_code(static_cast<int32_t>(batch.error.status.code()));
        e->set_message(std::string(batch.error.status.message()));
        e->set_event_index(batch.error.event_index);
      }
      if (storage_status.ok()) {
        pending_.push_back(std::move(response));
        if (!writing_) {
          writing_ = true;
          StartWriteLocked();
        }
      }
    }
    --queued_;
    last_active_ = service_.clock().Now();
    if (!storage_status.ok()) {
      // Storage failed: the stream cannot promise durability any more.
      reads_done_ = true;
      MaybeFinishLocked(ToGrpcStatus(storage_status));
    } else if (read_paused_ && final_status_.ok() && !finished_) {
      read_paused_ = false;
      StartRead(&request_bytes_);
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
    // The slot is free before the client can see the end and open another.
    ReleaseSlotLocked();
    Finish(final_status_);
  }

  AttributionServiceImpl& service_;
  const std::string authorization_;
  const std::string key_id_;
  // Filled by gRPC between StartRead() and OnReadDone(); read only there.
  grpc::ByteBuffer request_bytes_;
  absl::Mutex mu_;
  bool slotted_ ABSL_GUARDED_BY(mu_) = false;
  std::string slot_workspace_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::IngestEventsResponse> pending_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer write_bytes_ ABSL_GUARDED_BY(mu_);
  int queued_ ABSL_GUARDED_BY(mu_) = 0;
  bool read_paused_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_active_ ABSL_GUARDED_BY(mu_);
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

// --- StreamSlots

StreamSlots::StreamSlots(const ServiceOptions& options)
    : max_total_(options.max_concurrent_streams),
      max_per_key_(options.max_streams_per_key),
      max_per_workspace_(options.max_streams_per_workspace) {}

absl::Status StreamSlots::Acquire(const std::string& key_id,
                                  const std::string& workspace) {
  absl::MutexLock lock(&mu_);
  if (total_ >= max_total_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the server already has ", max_total_,
        " IngestEvents streams open (--max_concurrent_streams); retry later"));
  }
  if (!key_id.empty() && per_key_[key_id] >= max_per_key_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "this API key already has ", max_per_key_,
        " IngestEvents streams open (--max_streams_per_key); retry later"));
  }
  if (per_workspace_[workspace] >= max_per_workspace_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "workspace \"", workspace, "\" already has ", max_per_workspace_,
        " IngestEvents streams open (--max_streams_per_workspace); retry "
        "later"));
  }
  ++total_;
  if (!key_id.empty()) ++per_key_[key_id];
  ++per_workspace_[workspace];
  return absl::OkStatus();
}

void StreamSlots::Release(const std::string& key_id,
                          const std::string& workspace) {
  absl::MutexLock lock(&mu_);
  --total_;
  if (!key_id.empty() && --per_key_[key_id] == 0) per_key_.erase(key_id);
  if (--per_workspace_[workspace] == 0) per_workspace_.erase(workspace);
}

int StreamSlots::total() const {
  absl::MutexLock lock(&mu_);
  return total_;
}

AttributionServiceImpl::AttributionServiceImpl(EventStore& store, Clock& clock,
                                               ServiceOptions options,
                                               WorkspaceSettingsStore* settings)
    : store_(store),
      clock_(clock),
      options_(options),
      started_at_(clock.Now()),
      settings_(settings),
      slots_(options_),
      query_pool_(std::max(1, options_.query_workers), /*nice_increment=*/10),
      watchdog_([this] { WatchStreams(); }) {}

AttributionServiceImpl::~AttributionServiceImpl() {
  {
    absl::MutexLock lock(&streams_mu_);
    stopping_ = true;
  }
  watchdog_.join();
}

void AttributionServiceImpl::StreamOpened(IngestStream* stream) {
  absl::MutexLock lock(&streams_mu_);
  streams_.insert(stream);
}

void AttributionServiceImpl::StreamClosed(IngestStream* stream) {
  absl::MutexLock lock(&streams_mu_);
  streams_.erase(stream);
}

void AttributionServiceImpl::WatchStreams() {
  const absl::Duration timeout = options_.stream_idle_timeout;
  // Checks a few times per timeout, at most once a second.
  const absl::Duration tick =
      timeout <= absl::ZeroDuration()
          ? absl::Seconds(1)
          : std::min(absl::Seconds(1),
                     std::max(absl::Milliseconds(50), timeout / 4));
  absl::MutexLock lock(&streams_mu_);
  while (!stopping_) {
    streams_mu_.AwaitWithTimeout(absl::Condition(&stopping_), tick);
    if (stopping_ || timeout <= absl::ZeroDuration()) continue;
    const absl::Time idle_before = clock_.Now() - timeout;
    // A stream unregisters under streams_mu_ before it is deleted, so each
    // one here is alive while it is asked.
    for (IngestStream* stream : streams_) {
      stream->EndIfIdle(idle_before, timeout);
    }
  }
}

void AttributionServiceImpl::SetKeys(KeyRing keys) {
  auto ring = std::make_shared<const KeyRing>(std::move(keys));
  absl::MutexLock lock(&keys_mu_);
  keys_ = std::move(ring);
}

std::shared_ptr<const KeyRing> AttributionServiceImpl::Keys() {
  absl::MutexLock lock(&keys_mu_);
  return keys_;
}

absl::StatusOr<std::string> AttributionServiceImpl::AuthorizationOf(
    const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto [first, last] = metadata.equal_range("authorization");
  if (first == last) return std::string();
  if (std::next(first) != last) {
    return absl::UnauthenticatedError(
        "authorization: sent more than once; send one `authorization: "
        "Bearer KEY` header");
  }
  return std::string(first->second.data(), first->second.size());
}

absl::Status AttributionServiceImpl::Authorize(absl::string_view authorization,
                                               absl::string_view workspace,
                                               Role role) {
  if (!options_.auth_enabled) return absl::OkStatus();
  return Keys()->Check(authorization, workspace, role);
}

absl::Status AttributionServiceImpl::Authorize(
    const grpc::CallbackServerContext& context, absl::string_view workspace,
    Role role) {
  ASSIGN_OR_RETURN(const std::string authorization, AuthorizationOf(context));
  return Authorize(authorization, workspace, role);
}

BatchError AttributionServiceImpl::ValidateBatch(
    absl::string_view workspace,
    const google::protobuf::RepeatedPtrField<v1::Event>& events,
    std::vector<Event>* out) {
  if (absl::Status s = ValidateWorkspace(workspace); !s.ok()) {
    return {std::move(s), -1};
  }
  BatchError error =
      EventsFromProto(events, clock_.Now(), options_.max_batch_events, out);
  if (!error.status.ok() || settings_ == nullptr) return error;
  absl::StatusOr<v1::WorkspaceSettings> settings = settings_->Get(workspace);
  if (!settings.ok()) return {settings.status(), -1};
  const std::string& currency = settings->reporting_currency();
  if (currency.empty()) return error;
  for (size_t i = 0; i < out->size(); ++i) {
    const Event& e = (*out)[i];
    if (e.type == EventType::kConversion && !e.currency.empty() &&
        e.currency != currency) {
      return {absl::InvalidArgumentError(absl::StrCat(
                  "events[", i, "].conversion.currency: \"", e.currency,
                  "\" is not the workspace's reporting currency \"", currency,
                  "\"")),
              static_cast<int>(i)};
    }
  }
  return error;
}

absl::Status AttributionServiceImpl::CommitBatch(PreparedBatch& batch,
                                                 WriteResult* result,
                                                 BatchError* error) {
  absl::StatusOr<WriteResult> written = store_.Commit(batch);
  if (written.ok()) {
    *result = *written;
    if (options_.metrics != nullptr) {
      options_.metrics->Events(result->stored, result->duplicates,
                               result->conflicts);
    }
    return absl::OkStatus();
  }
  if (absl::IsResourceExhausted(written.status()) ||
      IsDiskFull(written.status())) {
    // A workspace limit or a full disk, not a broken store: reject the
    // batch only. Nothing of it was stored; a full disk is retried later.
    *error = {written.status(), -1};
    return absl::OkStatus();
  }
  return written.status();
}

absl::Status AttributionServiceImpl::RecordEventsImpl(
    const grpc::CallbackServerContext& context,
    const v1::RecordEventsRequest& request,
    v1::RecordEventsResponse* response) {
  RETURN_IF_ERROR(Authorize(context, request.workspace(), Role::kWriter));
  WriteResult result;
  std::vector<Event> events;
  BatchError error =
      ValidateBatch(request.workspace(), request.events(), &events);
  if (error.status.ok()) {
    RETURN_IF_ERROR(
        CommitBatch(*PrepareBatch(request.workspace(), std::move(events)),
                    &result, &error));
  }
  if (!error.status.ok() && options_.metrics != nullptr) {
    options_.metrics->BatchRejected();
  }
  RETURN_IF_ERROR(error.status);
  SetWriteResult(std::move(result), response);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AttributionServiceImpl::RecordEvents(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRaw<v1::RecordEventsRequest, v1::RecordEventsResponse>(
      context, request, response, [&](const auto& req, auto* resp) {
        return RecordEventsImpl(*context, req, resp);
      });
}

absl::Status AttributionServiceImpl::BulkImportEventsImpl(
    const grpc::CallbackServerContext& context,
    const v1::BulkImportEventsRequest& request,
    v1::BulkImportEventsResponse* response) {
  RETURN_IF_ERROR(Authorize(context, request.workspace(), Role::kWriter));
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  if (request.csv().empty()) {
    return absl::InvalidArgumentError(
        "csv: is required (a header row, then the rows)");
  }
  EventFileOptions file_options;
  file_options.line_offset = request.line_offset();
  file_options.now = clock_.Now();
  if (settings_ != nullptr) {
    ASSIGN_OR_RETURN(v1::WorkspaceSettings settings,
                     settings_->Get(request.workspace()));
    file_options.reporting_currency = settings.reporting_currency();
  }
  absl::StatusOr<ParsedEventFile> file =
      ParseCsvEvents(request.csv(), file_options);
  if (!file.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("csv: ", file.status().message()));
  }
  response->set_rows(file->rows);
  response->set_rejected(file->rejected);
  for (RejectedRow& r : file->rejected_rows) {
    v1::RejectedRow* out = response->add_rejected_rows();
    out->set_line(r.line);
    out->set_row(r.row);
    out->set_reason(std::move(r.reason));
  }
  if (file->events.empty()) return absl::OkStatus();
  WriteResult result;
  BatchError error;
  RETURN_IF_ERROR(CommitBatch(
      *store_.PrepareBulk(request.workspace(), std::move(file->events)),
      &result, &error));
  RETURN_IF_ERROR(error.status);  // A workspace limit or a full disk.
  SetWriteResult(std::move(result), response);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AttributionServiceImpl::BulkImportEvents(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRaw<v1::BulkImportEventsRequest, v1::BulkImportEventsResponse>(
      context, request, response, [&](const auto& req, auto* resp) {
        return BulkImportEventsImpl(*context, req, resp);
      });
}

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>*
AttributionServiceImpl::IngestEvents(grpc::CallbackServerContext* context) {
  absl::StatusOr<std::string> authorization = AuthorizationOf(*context);
  if (!authorization.ok()) {
    return new RefusedStream(ToGrpcStatus(authorization.status()));
  }
  if (options_.auth_enabled) {
    if (absl::Status s = Keys()->Authenticate(*authorization); !s.ok()) {
      return new RefusedStream(ToGrpcStatus(s));
    }
  }
  // The slot is taken at the first authorised batch, not here: a key that
  // may not write anywhere cannot hold one.
  return new IngestStream(*this, *std::move(authorization));
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
  response->set_customer_id(page.customer_id);
  for (const std::string& id : page.identities) {
    response->add_linked_identities(id);
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
    response->set_next_page_token(EncodePageToken(
        page.events.back().occurred_at_us, page.events.back().event_id));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AttributionServiceImpl::GetJourney(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRaw<v1::GetJourneyRequest, v1::GetJourneyResponse>(
      context, request, response,
      [&](const auto& req, auto* resp) -> absl::Status {
        RETURN_IF_ERROR(Authorize(*context, req.workspace(), Role::kReader));
        return GetJourneyImpl(req, resp);
      });
}

absl::Status AttributionServiceImpl::EraseCustomerImpl(
    const v1::EraseCustomerRequest& request,
    v1::EraseCustomerResponse* response) {
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  RETURN_IF_ERROR(ValidateId(request.customer_id(), "customer_id"));
  ASSIGN_OR_RETURN(
      EraseResult erased,
      store_.EraseCustomer(request.workspace(), request.customer_id()));
  response->set_touchpoints_removed(erased.touchpoints);
  response->set_conversions_removed(erased.conversions);
  response->set_linked_identities_removed(erased.identities);
  return absl::OkStatus();
}

absl::Status AttributionServiceImpl::LinkIdentitiesImpl(
    const v1::LinkIdentitiesRequest& request,
    v1::LinkIdentitiesResponse* response) {
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  if (request.links().empty()) {
    return absl::InvalidArgumentError("links: at least one link is required");
  }
  if (static_cast<size_t>(request.links_size()) > kMaxLinksPerRequest) {
    return absl::InvalidArgumentError(
        absl::StrCat("links: ", request.links_size(), " links; at most ",
                     kMaxLinksPerRequest, " a request"));
  }
  std::vector<IdentityLink> links;
  links.reserve(request.links_size());
  for (int i = 0; i < request.links_size(); ++i) {
    const v1::IdentityLink& l = request.links(i);
    const std::string at = absl::StrCat("links[", i, "].");
    RETURN_IF_ERROR(
        ValidateId(l.identity_id(), absl::StrCat(at, "identity_id")));
    RETURN_IF_ERROR(
        ValidateId(l.customer_id(), absl::StrCat(at, "customer_id")));
    if (l.identity_id() == l.customer_id()) {
      return absl::InvalidArgumentError(absl::StrCat(
          at, "customer_id: is the identity itself (\"", l.identity_id(),
          "\"); an identity cannot be linked to itself"));
    }
    links.push_back({l.identity_id(), l.customer_id()});
  }
  ASSIGN_OR_RETURN(LinkResult result,
                   store_.LinkIdentities(request.workspace(), links));
  response->set_linked(result.linked);
  response->set_unchanged(result.unchanged);
  response->set_moved(result.moved);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AttributionServiceImpl::LinkIdentities(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRaw<v1::LinkIdentitiesRequest, v1::LinkIdentitiesResponse>(
      context, request, response,
      [&](const auto& req, auto* resp) -> absl::Status {
        RETURN_IF_ERROR(Authorize(*context, req.workspace(), Role::kWriter));
        return LinkIdentitiesImpl(req, resp);
      });
}

grpc::ServerUnaryReactor* AttributionServiceImpl::UnlinkIdentity(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRaw<v1::UnlinkIdentityRequest, v1::UnlinkIdentityResponse>(
      context, request, response,
      [&](const auto& req, auto* resp) -> absl::Status {
        RETURN_IF_ERROR(Authorize(*context, req.workspace(), Role::kWriter));
        RETURN_IF_ERROR(ValidateWorkspace(req.workspace()));
        RETURN_IF_ERROR(ValidateId(req.identity_id(), "identity_id"));
        ASSIGN_OR_RETURN(
            std::string was,
            store_.UnlinkIdentity(req.workspace(), req.identity_id()));
        resp->set_was_linked_to(std::move(was));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* AttributionServiceImpl::EraseCustomer(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRaw<v1::EraseCustomerRequest, v1::EraseCustomerResponse>(
      context, request, response,
      [&](const auto& req, auto* resp) -> absl::Status {
        RETURN_IF_ERROR(Authorize(*context, req.workspace(), Role::kAdmin));
        return EraseCustomerImpl(req, resp);
      });
}

absl::Status AttributionServiceImpl::LoadGrouping(absl::string_view workspace,
                                                  AttributeQuery* query) {
  if (!query->by_channel_group) return absl::OkStatus();
  ASSIGN_OR_RETURN(ChannelGrouping grouping,
                   LoadChannelGrouping(store_, workspace));
  query->grouping =
      std::make_shared<const ChannelGrouping>(std::move(grouping));
  return absl::OkStatus();
}

absl::Status AttributionServiceImpl::AttributeImpl(
    grpc::CallbackServerContext* context, const v1::AttributeRequest& request,
    v1::AttributeResponse* response) {
  RETURN_IF_ERROR(Authorize(*context, request.workspace(), Role::kReader));
  AttributeQuery query;
  RETURN_IF_ERROR(ParseAttributeRequest(request, clock_.Now(), &query,
                                        response->mutable_request()));
  query.paths.cancelled = StopWhen(context);
  RETURN_IF_ERROR(LoadGrouping(request.workspace(), &query));
  PathSet paths;
  store_.ReadIndex(request.workspace(), [&](const IndexSnapshot* index) {
    for (std::string& c : UnknownChannels(index, query)) {
      response->add_unknown_channels(std::move(c));
    }
    if (index == nullptr) return;  // No data: every total is 0.
    query.paths.channel_allowed = ChannelFilter(*index, query);
    std::optional<IndexSnapshot> view;
    index = GroupedIndex(index, query.grouping.get(),
                         &query.paths.channel_allowed, &view);
    paths = ExtractPaths(*index, query.paths, options_.query_threads);
  });
  if (paths.cancelled) return Stopped(context);

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
    v1::ModelResult* result = response->add_results();
    *result->mutable_model() = response->request().models(static_cast<int>(m));
    Credits credits;
    IncrementalParams incremental_params;
    IncrementalResult incremental;
    if (query.models[m].kind == ModelKind::kIncremental) {
      IncrementalParams& p = incremental_params;
      p.half_life_us = query.models[m].incremental_half_life_us;
      std::vector<v1::ExperimentCheck> checks;
      std::vector<int> check_of;
      RETURN_IF_ERROR(Calibrations(request.workspace(), request.goal(),
                                   query.paths, paths, &p.calibrations, &checks,
                                   &check_of));
      incremental = FitIncremental(paths, p, options_.query_threads,
                                   query.paths.cancelled);
      IncrementalResult& r = incremental;
      if (r.cancelled) return Stopped(context);
      IncrementalToProto(r, paths, result);
      for (size_t k = 0;
           k < check_of.size() && k < r.fit.calibrated_conversions.size();
           ++k) {
        checks[check_of[k]].set_model_conversions(
            r.fit.calibrated_conversions[k]);
      }
      for (auto& c : checks) {
        *result->mutable_incremental_fit()->add_experiments() = std::move(c);
      }
      credits = r.credits;
    } else {
      credits = ::attribution::Attribute(paths, query.models[m],
                                         options_.query_threads,
                                         query.paths.cancelled);
      if (credits.cancelled) return Stopped(context);
    }
    double total = 0;
    for (double c : credits.conversions) total += c;
    CreditIntervals ci;
    if (query.intervals.has_value()) {
      const ModelParams& model = query.models[m];
      if (model.kind == ModelKind::kIncremental) {
        ci = IncrementalIntervals(paths, incremental_params, incremental,
                                  *query.intervals, options_.query_threads,
                                  query.paths.cancelled);
      } else if (model.kind == ModelKind::kMarkov) {
        // Each conversion is split by the fit's global shares.
        std::vector<double> shares(credits.conversions.size(), 0.0);
        for (size_t g = 0; g < shares.size(); ++g) {
          shares[g] = total > 0 ? credits.conversions[g] / total : 0;
        }
        ci = BootstrapCredits(paths, {}, shares, *query.intervals,
                              options_.query_threads, query.paths.cancelled);
      } else {
        ci = BootstrapCredits(paths, PathShareTable(paths, model), {},
                              *query.intervals, options_.query_threads,
                              query.paths.cancelled);
      }
      if (ci.cancelled) return Stopped(context);
    }
    for (size_t g = 0; g < paths.group_table.size(); ++g) {
      v1::GroupCredit* credit = result->add_groups();
      credit->set_channel(paths.group_table[g].channel);
      credit->set_campaign(paths.group_table[g].campaign);
      credit->set_conversions(credits.conversions[g]);
      credit->set_revenue(credits.revenue_micros[g] / 1e6);
      credit->set_share(total > 0 ? credits.conversions[g] / total : 0);
      if (query.intervals.has_value() && g < ci.conversions_low.size()) {
        credit->mutable_conversions_interval()->set_low(ci.conversions_low[g]);
        credit->mutable_conversions_interval()->set_high(
            ci.conversions_high[g]);
        credit->mutable_revenue_interval()->set_low(ci.revenue_low[g] / 1e6);
        credit->mutable_revenue_interval()->set_high(ci.revenue_high[g] / 1e6);
      }
    }
    if (query.intervals.has_value() && result->has_baseline()) {
      v1::BaselineCredit* b = result->mutable_baseline();
      b->mutable_conversions_interval()->set_low(ci.baseline_low);
      b->mutable_conversions_interval()->set_high(ci.baseline_high);
      b->mutable_revenue_interval()->set_low(ci.baseline_revenue_low / 1e6);
      b->mutable_revenue_interval()->set_high(ci.baseline_revenue_high / 1e6);
    }
    if (query.models[m].kind == ModelKind::kShapley) {
      totals->set_shapley_equal_split(credits.shapley_equal_split);
    }
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AttributionServiceImpl::Attribute(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRawOnPool<v1::AttributeRequest, v1::AttributeResponse>(
      query_pool_, context, request, response,
      [this, context](const auto& req, auto* resp) {
        return AttributeImpl(context, req, resp);
      });
}

absl::Status AttributionServiceImpl::ExplainCustomerImpl(
    grpc::CallbackServerContext* context,
    const v1::ExplainCustomerRequest& request,
    v1::ExplainCustomerResponse* response) {
  RETURN_IF_ERROR(
      Authorize(*context, request.selection().workspace(), Role::kReader));
  AttributeQuery query;
  const v1::AttributeRequest& selection = request.selection();
  RETURN_IF_ERROR(ParseAttributeRequest(selection, clock_.Now(), &query,
                                        response->mutable_selection(),
                                        "selection."));
  query.paths.cancelled = StopWhen(context);
  RETURN_IF_ERROR(ValidateId(request.customer_id(), "customer_id"));
  RETURN_IF_ERROR(LoadGrouping(selection.workspace(), &query));
  response->set_customer_id(request.customer_id());
  // Event ids live in storage, not in the index: read the journey first, and
  // check below that the index holds the same number of events.
  std::vector<Event> journey;
  JourneyCursor cursor;
  while (true) {
    ASSIGN_OR_RETURN(
        JourneyPage page,
        store_.ReadJourney(selection.workspace(), request.customer_id(),
                           journey.empty() ? nullptr : &cursor, kMaxPageSize));
    for (Event& e : page.events) journey.push_back(std::move(e));
    if (!page.has_more) break;
    cursor = {journey.back().occurred_at_us, journey.back().event_id};
  }
  bool data_driven = false;
  for (const ModelParams& m : query.models) {
    data_driven |= m.kind == ModelKind::kMarkov ||
                   m.kind == ModelKind::kShapley ||
                   m.kind == ModelKind::kIncremental;
  }
  absl::Status status;
  store_.ReadIndex(selection.workspace(), [&](const IndexSnapshot* index) {
    std::optional<IndexSnapshot::Customer> customer;
    if (index != nullptr) customer = index->FindCustomer(request.customer_id());
    if (!customer.has_value() || customer->events.size() != journey.size()) {
      status = absl::AbortedError(
          "customer_id: the journey changed during the call; retry");
      return;
    }
    query.paths.channel_allowed = ChannelFilter(*index, query);
    for (std::string& c : UnknownChannels(index, query)) {
      response->add_unknown_channels(std::move(c));
    }
    std::optional<IndexSnapshot> view;
    if (query.grouping != nullptr) {
      index = GroupedIndex(index, query.grouping.get(),
                           &query.paths.channel_allowed, &view);
      customer = index->FindCustomer(request.customer_id());
    }
    std::vector<Group> local;
    const std::vector<CustomerConversion> conversions =
        ExtractCustomer(*index, *customer, query.paths, &local);
    // The workspace-wide fit, for MARKOV and SHAPLEY.
    PathSet paths;
    absl::flat_hash_map<int, MarkovFit> markov;
    std::unique_ptr<ShapleyGame> shapley;
    // By the requested half-life (0: chosen).
    absl::flat_hash_map<int64_t, IncrementalFit> incremental;
    std::vector<int> fit_group(local.size(), -1);
    if (data_driven && !conversions.empty()) {
      paths = ExtractPaths(*index, query.paths, options_.query_threads);
      if (paths.cancelled) {
        status = Stopped(context);
        return;
      }
      for (size_t g = 0; g < local.size(); ++g) {
        fit_group[g] = FindGroup(paths.group_table, local[g]);
      }
      for (const ModelParams& m : query.models) {
        if (m.kind == ModelKind::kMarkov && !markov.contains(m.order)) {
          markov[m.order] = FitMarkov(paths, m.order, options_.query_threads,
                                      query.paths.cancelled);
          if (markov[m.order].cancelled) {
            status = Stopped(context);
            return;
          }
        }
        if (m.kind == ModelKind::kShapley && shapley == nullptr) {
          shapley = std::make_unique<ShapleyGame>(paths);
        }
        if (m.kind == ModelKind::kIncremental &&
            !incremental.contains(m.incremental_half_life_us)) {
          IncrementalParams p;
          p.half_life_us = m.incremental_half_life_us;
          std::vector<v1::ExperimentCheck> checks;
          std::vector<int> check_of;
          if (absl::Status s = Calibrations(
                  selection.workspace(), selection.goal(), query.paths, paths,
                  &p.calibrations, &checks, &check_of);
              !s.ok()) {
            status = s;
            return;
          }
          IncrementalResult r = FitIncremental(paths, p, options_.query_threads,
                                               query.paths.cancelled);
          if (r.cancelled) {
            status = Stopped(context);
            return;
          }
          incremental[m.incremental_half_life_us] = std::move(r.fit);
        }
      }
    }
    for (const CustomerConversion& c : conversions) {
      v1::ConversionExplanation* out = response->add_conversions();
      out->set_event_id(journey[c.conversion_pos].event_id);
      TimeToProto(c.conversion_us, out->mutable_occurred_at());
      out->set_revenue(static_cast<double>(c.revenue_micros) / 1e6);
      const size_t n = c.groups.size();
      for (size_t i = 0; i < n; ++i) {
        v1::TouchCredit* t = out->add_touches();
        t->set_event_id(journey[c.touch_pos[i]].event_id);
        TimeToProto(c.times[i], t->mutable_occurred_at());
        t->set_channel(local[c.groups[i]].channel);
        t->set_campaign(local[c.groups[i]].campaign);
      }
      if (n == 0) continue;
      // Touches per group, for splitting a group's share over its touches.
      std::vector<uint32_t> set = GroupSet(c.groups);
      absl::flat_hash_map<uint32_t, int> touches_of;
      for (uint32_t g : c.groups) ++touches_of[g];
      for (size_t m = 0; m < query.models.size(); ++m) {
        const ModelParams& model = query.models[m];
        std::vector<double> group_share(set.size(), 0.0);
        std::vector<double> weights;
        if (model.kind == ModelKind::kIncremental) {
          // Shares that vanish without each group; they sum to at most 1
          // (the rest is the conversion's baseline).
          std::vector<int> ids(n);
          for (size_t i = 0; i < n; ++i) ids[i] = fit_group[c.groups[i]];
          const auto shares = IncrementalShares(
              incremental[model.incremental_half_life_us], ids, c.times);
          for (size_t i = 0; i < n; ++i) {
            double share = 0;
            for (const auto& [id, v] : shares) {
              if (id == ids[i]) share = v;
            }
            weights.push_back(ids[i] < 0 ? 0.0
                                         : share / touches_of[c.groups[i]]);
          }
        } else if (model.kind == ModelKind::kMarkov ||
                   model.kind == ModelKind::kShapley) {
          if (model.kind == ModelKind::kMarkov) {
            const MarkovFit& fit = markov[model.order];
            double sum = 0;
            for (size_t x = 0; x < set.size(); ++x) {
              const int g = fit_group[set[x]];
              group_share[x] = g < 0 ? 0 : fit.removal_effects[g];
              sum += group_share[x];
            }
            for (double& v : group_share) {
              v = sum > 0 ? v / sum : 1.0 / static_cast<double>(set.size());
            }
          } else {
            std::vector<uint32_t> fit_set;
            for (uint32_t g : set) {
              if (fit_group[g] >= 0)
                fit_set.push_back(static_cast<uint32_t>(fit_group[g]));
            }
            // Ids keep their order: both tables are sorted by name. A group
            // the fit lacks (none should) makes the split equal.
            group_share =
                fit_set.size() == set.size()
                    ? shapley->Shares(fit_set)
                    : std::vector<double>(set.size(), 1.0 / set.size());
          }
          for (size_t i = 0; i < n; ++i) {
            const size_t x =
                std::lower_bound(set.begin(), set.end(), c.groups[i]) -
                set.begin();
            weights.push_back(group_share[x] / touches_of[c.groups[i]]);
          }
        } else {
          weights =
              TouchWeights(model, c.groups, c.times, c.conversion_us, local);
        }
        v1::ModelResult* result = out->add_results();
        *result->mutable_model() =
            response->selection().models(static_cast<int>(m));
        std::vector<double> per_group(set.size(), 0.0);
        for (size_t i = 0; i < n; ++i) {
          out->mutable_touches(static_cast<int>(i))->add_credits(weights[i]);
          per_group[std::lower_bound(set.begin(), set.end(), c.groups[i]) -
                    set.begin()] += weights[i];
        }
        for (size_t x = 0; x < set.size(); ++x) {
          v1::GroupCredit* g = result->add_groups();
          g->set_channel(local[set[x]].channel);
          g->set_campaign(local[set[x]].campaign);
          g->set_conversions(per_group[x]);
          g->set_revenue(per_group[x] * static_cast<double>(c.revenue_micros) /
                         1e6);
          g->set_share(per_group[x]);
        }
      }
    }
  });
  return status;
}

absl::Status AttributionServiceImpl::TopPathsImpl(
    grpc::CallbackServerContext* context, const v1::TopPathsRequest& request,
    v1::TopPathsResponse* response) {
  RETURN_IF_ERROR(
      Authorize(*context, request.selection().workspace(), Role::kReader));
  AttributeQuery query;
  RETURN_IF_ERROR(ParseAttributeRequest(
      request.selection(), clock_.Now(), &query, response->mutable_selection(),
      "selection.", /*models_optional=*/true));
  query.paths.cancelled = StopWhen(context);
  if (request.limit() < 0 || request.limit() > 10000) {
    return absl::InvalidArgumentError("limit: must be 0 to 10000");
  }
  const int limit = request.limit() == 0 ? 20 : request.limit();
  response->set_collapse_repeats(request.collapse_repeats());
  RETURN_IF_ERROR(LoadGrouping(request.selection().workspace(), &query));
  PathSet paths;
  store_.ReadIndex(
      request.selection().workspace(), [&](const IndexSnapshot* index) {
        for (std::string& c : UnknownChannels(index, query)) {
          response->add_unknown_channels(std::move(c));
        }
        if (index == nullptr) return;
        query.paths.channel_allowed = ChannelFilter(*index, query);
        std::optional<IndexSnapshot> view;
        index = GroupedIndex(index, query.grouping.get(),
                             &query.paths.channel_allowed, &view);
        paths = ExtractPaths(*index, query.paths, options_.query_threads);
      });
  if (paths.cancelled) return Stopped(context);
  struct Stats {
    int64_t conversions = 0;
    int64_t non_conversions = 0;
    int64_t revenue_micros = 0;
  };
  absl::flat_hash_map<std::vector<uint32_t>, Stats> by_path;
  std::vector<uint32_t> steps;
  for (size_t j = 0; j < paths.size(); ++j) {
    absl::Span<const uint32_t> p = paths.path(j);
    steps.clear();
    for (uint32_t g : p) {
      if (!request.collapse_repeats() || steps.empty() || steps.back() != g) {
        steps.push_back(g);
      }
    }
    Stats& s = by_path[steps];
    if (paths.converted[j]) {
      ++s.conversions;
      s.revenue_micros += paths.revenue_micros[j];
    } else {
      ++s.non_conversions;
    }
  }
  std::vector<std::pair<const std::vector<uint32_t>*, const Stats*>> ranked;
  for (const auto& [key, stats] : by_path) ranked.push_back({&key, &stats});
  // Group ids are in name order, so comparing id sequences orders by steps.
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    const int64_t na = a.second->conversions + a.second->non_conversions;
    const int64_t nb = b.second->conversions + b.second->non_conversions;
    if (na != nb) return na > nb;
    if (a.second->conversions != b.second->conversions) {
      return a.second->conversions > b.second->conversions;
    }
    return *a.first < *b.first;
  });
  response->set_distinct_paths(static_cast<int64_t>(ranked.size()));
  response->set_journeys(static_cast<int64_t>(paths.size()));
  for (size_t r = 0; r < ranked.size() && r < static_cast<size_t>(limit); ++r) {
    v1::PathStats* out = response->add_paths();
    for (uint32_t g : *ranked[r].first) {
      const Group& group = paths.group_table[g];
      out->add_steps(group.campaign.empty() && !query.paths.by_campaign
                         ? group.channel
                         : absl::StrCat(group.channel, "/", group.campaign));
    }
    const Stats& s = *ranked[r].second;
    out->set_conversions(s.conversions);
    out->set_non_conversions(s.non_conversions);
    out->set_conversion_rate(
        static_cast<double>(s.conversions) /
        static_cast<double>(s.conversions + s.non_conversions));
    out->set_revenue(static_cast<double>(s.revenue_micros) / 1e6);
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AttributionServiceImpl::ExplainCustomer(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRawOnPool<v1::ExplainCustomerRequest,
                        v1::ExplainCustomerResponse>(
      query_pool_, context, request, response,
      [this, context](const auto& req, auto* resp) {
        return ExplainCustomerImpl(context, req, resp);
      });
}

grpc::ServerUnaryReactor* AttributionServiceImpl::TopPaths(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRawOnPool<v1::TopPathsRequest, v1::TopPathsResponse>(
      query_pool_, context, request, response,
      [this, context](const auto& req, auto* resp) {
        return TopPathsImpl(context, req, resp);
      });
}

absl::Status AttributionServiceImpl::CreateBackupImpl(
    const v1::CreateBackupRequest& request,
    v1::CreateBackupResponse* response) {
  if (options_.backup_root.empty()) {
    return absl::FailedPreconditionError(
        "backups are disabled: start attributiond with --backup_root");
  }
  RETURN_IF_ERROR(ValidateWorkspace(request.name(), "name"));  // Slug rules.
  const std::string path =
      absl::StrCat(options_.backup_root, "/", request.name());
  const absl::Time taken_at = clock_.Now();
  absl::StatusOr<uint64_t> sequence = store_.Backup(path);
  if (sequence.ok() && options_.metrics != nullptr) {
    options_.metrics->Backup(clock_.Now() - taken_at);
  }
  if (absl::IsAlreadyExists(sequence.status())) {
    // The caller's name, not the server's folder layout.
    return absl::AlreadyExistsError(absl::StrCat(
        "name: a backup named \"", request.name(), "\" already exists"));
  }
  RETURN_IF_ERROR(sequence.status());
  response->set_path(path);
  response->set_sequence_number(*sequence);
  TimeToProto(absl::ToUnixMicros(taken_at), response->mutable_taken_at());
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AttributionServiceImpl::CreateBackup(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRawOnPool<v1::CreateBackupRequest, v1::CreateBackupResponse>(
      query_pool_, context, request, response,
      [this, context](const auto& req, auto* resp) -> absl::Status {
        RETURN_IF_ERROR(Authorize(*context, "*", Role::kAdmin));
        return CreateBackupImpl(req, resp);
      });
}

absl::Status AttributionServiceImpl::DescribeWorkspaceImpl(
    const v1::DescribeWorkspaceRequest& request,
    v1::DescribeWorkspaceResponse* response) {
  RETURN_IF_ERROR(ValidateWorkspace(request.workspace()));
  WorkspaceSummary summary = store_.Describe(request.workspace());
  response->set_customers(summary.stats.customers);
  response->set_touchpoints(summary.stats.touchpoints);
  response->set_conversions(summary.stats.conversions);
  response->set_linked_identities(summary.linked_identities);
  response->set_index_bytes(summary.index_bytes);
  for (std::string& c : summary.channels) response->add_channels(std::move(c));
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AttributionServiceImpl::ListWorkspaces(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRaw<v1::ListWorkspacesRequest, v1::ListWorkspacesResponse>(
      context, request, response, [&](const auto&, auto* resp) -> absl::Status {
        ASSIGN_OR_RETURN(std::string authorization, AuthorizationOf(*context));
        // Any known key may ask; it sees the workspaces it may read.
        if (options_.auth_enabled) {
          RETURN_IF_ERROR(Keys()->Authenticate(authorization));
        }
        ASSIGN_OR_RETURN(std::vector<std::string> all, store_.ListWorkspaces());
        for (std::string& w : all) {
          if (Authorize(authorization, w, Role::kReader).ok()) {
            resp->add_workspaces(std::move(w));
          }
        }
        return absl::OkStatus();
      });
}

namespace {

constexpr size_t kExportEventsPerMessage = 5000;

// ExportEvents: reads a batch from the snapshot, writes it, reads the next
// once the write is done.
class ExportStream final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit ExportStream(std::unique_ptr<EventReader> reader)
      : reader_(std::move(reader)) {
    WriteNext();
  }
  // Finishes at once with `status`.
  explicit ExportStream(const absl::Status& status) {
    Finish(ToGrpcStatus(status));
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the stream broke"));
      return;
    }
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    if (!more_) {
      Finish(grpc::Status::OK);
      return;
    }
    events_.clear();
    absl::StatusOr<bool> more =
        reader_->Next(kExportEventsPerMessage, &events_);
    if (!more.ok()) {
      Finish(ToGrpcStatus(more.status()));
      return;
    }
    more_ = *more;
    if (events_.empty()) {
      Finish(grpc::Status::OK);
      return;
    }
    v1::ExportEventsResponse message;
    for (const Event& e : events_) EventToProto(e, message.add_events());
    ToByteBuffer(message, &buffer_);
    StartWrite(&buffer_);
  }

  std::unique_ptr<EventReader> reader_;
  std::vector<Event> events_;
  grpc::ByteBuffer buffer_;
  bool more_ = true;
};

absl::StatusOr<int64_t> BoundUs(const google::protobuf::Timestamp& ts,
                                absl::string_view field) {
  if (ts.nanos() < 0 || ts.nanos() > 999'999'999) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".nanos: must be 0 to 999999999"));
  }
  if (ts.seconds() < -62'135'596'800 || ts.seconds() > 253'402'300'799) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be between 0001-01-01 and 9999-12-31"));
  }
  return ts.seconds() * 1'000'000 + ts.nanos() / 1000;
}

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>*
AttributionServiceImpl::ExportEvents(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request) {
  v1::ExportEventsRequest req;
  absl::Status s = ParseStrict(BytesOf(*request), &req);
  if (s.ok()) s = Authorize(*context, req.workspace(), Role::kReader);
  if (s.ok()) s = ValidateWorkspace(req.workspace());
  int64_t start_us = INT64_MIN, end_us = INT64_MAX;
  if (s.ok() && req.has_start()) {
    absl::StatusOr<int64_t> us = BoundUs(req.start(), "start");
    s = us.status();
    if (us.ok()) start_us = *us;
  }
  if (s.ok() && req.has_end()) {
    absl::StatusOr<int64_t> us = BoundUs(req.end(), "end");
    s = us.status();
    if (us.ok()) end_us = *us;
  }
  if (s.ok() && start_us >= end_us) {
    s = absl::InvalidArgumentError("end: must be after start");
  }
  if (!s.ok()) return new ExportStream(s);
  return new ExportStream(
      store_.ReadEvents(req.workspace(), req.customer_id(), start_us, end_us));
}

grpc::ServerUnaryReactor* AttributionServiceImpl::GetServerInfo(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRaw<v1::GetServerInfoRequest, v1::ServerInfo>(
      context, request, response, [&](const auto&, auto* info) -> absl::Status {
        if (options_.auth_enabled) {
          ASSIGN_OR_RETURN(std::string authorization,
                           AuthorizationOf(*context));
          RETURN_IF_ERROR(Keys()->Authenticate(authorization));
        }
        info->set_version(kVersion);
        info->set_build_type(kBuildType);
        TimeToProto(absl::ToUnixMicros(started_at_),
                    info->mutable_started_at());
        const absl::Duration up = clock_.Now() - started_at_;
        info->mutable_uptime()->set_seconds(absl::ToInt64Seconds(up));
        info->mutable_uptime()->set_nanos(
            static_cast<int32_t>(absl::ToInt64Nanoseconds(
                up - absl::Seconds(absl::ToInt64Seconds(up)))));
        info->set_durability(options_.durability);
        info->set_auth(options_.auth_enabled ? "keys" : "off");
        info->set_tls(options_.tls);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* AttributionServiceImpl::DescribeWorkspace(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRaw<v1::DescribeWorkspaceRequest, v1::DescribeWorkspaceResponse>(
      context, request, response,
      [&](const auto& req, auto* resp) -> absl::Status {
        RETURN_IF_ERROR(Authorize(*context, req.workspace(), Role::kReader));
        return DescribeWorkspaceImpl(req, resp);
      });
}

}  // namespace attribution::api

namespace attribution::api {

absl::Status AttributionServiceImpl::RecordExperimentImpl(
    const v1::RecordExperimentRequest& request, v1::Experiment* response) {
  const v1::Experiment& e = request.experiment();
  RETURN_IF_ERROR(ValidateExperiment(e));
  RETURN_IF_ERROR(store_.PutMeta(e.workspace(),
                                 absl::StrCat(kExperimentPrefix, e.name()),
                                 e.SerializeAsString()));
  *response = e;
  return absl::OkStatus();
}

absl::Status AttributionServiceImpl::Calibrations(
    absl::string_view workspace, v1::Goal goal, const PathQuery& query,
    const PathSet& paths, std::vector<Calibration>* calibrations,
    std::vector<v1::ExperimentCheck>* checks,
    std::vector<int>* calibration_check) {
  ASSIGN_OR_RETURN(std::vector<v1::Experiment> experiments,
                   ReadExperiments(store_, workspace));
  for (const v1::Experiment& e : experiments) {
    if (e.goal() != goal) continue;
    v1::ExperimentCheck check;
    check.set_name(e.name());
    check.set_channel(e.channel());
    CalibrationPlan plan =
        PlanCalibration(MeasureOf(e), query.start_us, query.end_us,
                        paths.group_table, kMinExperimentSe);
    check.set_experiment_conversions(plan.conversions);
    check.set_experiment_standard_error(plan.standard_error);
    if (plan.calibration.has_value()) {
      check.set_used(true);
      calibrations->push_back(*std::move(plan.calibration));
      calibration_check->push_back(static_cast<int>(checks->size()));
    } else {
      check.set_why_not(plan.why_not);
    }
    checks->push_back(std::move(check));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* AttributionServiceImpl::RecordExperiment(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRaw<v1::RecordExperimentRequest, v1::Experiment>(
      context, request, response,
      [&](const auto& req, auto* resp) -> absl::Status {
        RETURN_IF_ERROR(
            Authorize(*context, req.experiment().workspace(), Role::kWriter));
        return RecordExperimentImpl(req, resp);
      });
}

grpc::ServerUnaryReactor* AttributionServiceImpl::ListExperiments(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRaw<v1::ListExperimentsRequest, v1::ListExperimentsResponse>(
      context, request, response,
      [&](const auto& req, auto* resp) -> absl::Status {
        RETURN_IF_ERROR(Authorize(*context, req.workspace(), Role::kReader));
        RETURN_IF_ERROR(ValidateWorkspace(req.workspace()));
        ASSIGN_OR_RETURN(std::vector<v1::Experiment> all,
                         ReadExperiments(store_, req.workspace()));
        for (v1::Experiment& e : all) *resp->add_experiments() = std::move(e);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* AttributionServiceImpl::DeleteExperiment(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  return ServeRaw<v1::DeleteExperimentRequest, v1::DeleteExperimentResponse>(
      context, request, response, [&](const auto& req, auto*) -> absl::Status {
        RETURN_IF_ERROR(Authorize(*context, req.workspace(), Role::kWriter));
        RETURN_IF_ERROR(ValidateWorkspace(req.workspace()));
        RETURN_IF_ERROR(ValidateWorkspace(req.name(), "name"));
        const std::string key = absl::StrCat(kExperimentPrefix, req.name());
        ASSIGN_OR_RETURN(auto found, store_.ReadMeta(req.workspace(), key));
        bool exists = false;
        for (const auto& [name, value] : found) exists |= name == key;
        if (!exists) {
          return absl::NotFoundError(
              absl::StrCat("name: no experiment \"", req.name(), "\""));
        }
        return store_.PutMeta(req.workspace(), key, "");
      });
}

}  // namespace attribution::api

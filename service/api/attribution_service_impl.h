#ifndef ATTRIBUTION_SERVICE_API_ATTRIBUTION_SERVICE_IMPL_H_
#define ATTRIBUTION_SERVICE_API_ATTRIBUTION_SERVICE_IMPL_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "attribution/v1/attribution_service.grpc.pb.h"
#include "grpcpp/support/byte_buffer.h"
#include "service/api/api_keys.h"
#include "service/api/attribute_request.h"
#include "service/api/event_conversion.h"
#include "service/api/work_queue.h"
#include "service/api/workspace_settings.h"
#include "service/core/clock.h"
#include "service/core/incremental.h"
#include "storage/event_store.h"

namespace attribution::api {

class ServerMetrics;

struct ServiceOptions {
  // Most events one RecordEvents call or one IngestEvents message may carry.
  size_t max_batch_events = 10000;
  // Threads one attribution query scans customers with.
  int query_threads = 2;
  // Queries (Attribute, ExplainCustomer, TopPaths, reports) run at once on
  // the query pool; more wait their turn.
  int query_workers = 2;
  // Where CreateBackup writes; empty: backups are disabled.
  std::string backup_root;
  // IngestEvents streams holding a slot at once: in all, per API key and per
  // workspace. A slot is taken when a stream's first batch is authorised; a
  // stream past a limit then ends with RESOURCE_EXHAUSTED.
  int max_concurrent_streams = 64;
  int max_streams_per_key = 16;
  int max_streams_per_workspace = 32;
  // A stream that receives no message for this long, with nothing of it
  // pending, ends with DEADLINE_EXCEEDED. Zero: never.
  absl::Duration stream_idle_timeout = absl::Seconds(60);
  // When false every call is allowed: local development only.
  bool auth_enabled = true;
  // For GetServerInfo: --durability ("process" or "machine") and TLS.
  std::string durability = "process";
  bool tls = false;
  // Where ingest and backups are counted; may be null.
  ServerMetrics* metrics = nullptr;
};

// Counts IngestEvents stream slots: in all, per API key and per workspace.
// Thread-safe.
class StreamSlots {
 public:
  explicit StreamSlots(const ServiceOptions& options);
  // ResourceExhausted naming the limit reached, else takes a slot.
  absl::Status Acquire(const std::string& key_id, const std::string& workspace);
  void Release(const std::string& key_id, const std::string& workspace);
  int total() const;

 private:
  const int max_total_, max_per_key_, max_per_workspace_;
  mutable absl::Mutex mu_;
  int total_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> per_key_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> per_workspace_ ABSL_GUARDED_BY(mu_);
};

// Every method is registered raw (bytes in, bytes out) and parses its request
// with ParseStrict, so that an unparseable request gets INVALID_ARGUMENT.
using RawAttributionService = v1::AttributionService::WithRawCallbackMethod_BulkImportEvents<
    v1::AttributionService::WithRawCallbackMethod_RecordEvents<
        v1::AttributionService::WithRawCallbackMethod_IngestEvents<
            v1::AttributionService::WithRawCallbackMethod_GetJourney<
                v1::AttributionService::WithRawCallbackMethod_EraseCustomer<
                    v1::AttributionService::WithRawCallbackMethod_Attribute<
                        v1::AttributionService::WithRawCallbackMethod_ExplainCustomer<
                            v1::AttributionService::
                                WithRawCallbackMethod_TopPaths<v1::AttributionService::WithRawCallbackMethod_CreateBackup<
                                    v1::AttributionService::
                                        WithRawCallbackMethod_DescribeWorkspace<
                                            v1::AttributionService::
                                                WithRawCallbackMethod_RecordExperiment<
                                                    v1::AttributionService::
                                                        WithRawCallbackMethod_ListExperiments<
                                                            v1::AttributionService::WithRawCallbackMethod_DeleteExperiment<
                                                                v1::AttributionService::WithRawCallbackMethod_ListWorkspaces<
                                                                    v1::AttributionService::WithRawCallbackMethod_ExportEvents<
                                                                        v1::AttributionService::WithRawCallbackMethod_GetServerInfo<
                                                                            v1::AttributionService::WithRawCallbackMethod_LinkIdentities<
                                                                                v1::AttributionService::WithRawCallbackMethod_UnlinkIdentity<
                                                                                    v1::AttributionService::
                                                                                        Service>>>>>>>>>>>>>>>>>>;

class IngestStream;

// The gRPC handlers (callback API). Each parses and validates its request,
// converts it to domain types, calls the store and converts the status back.
// Queries run on the query pool, never on a gRPC thread. Thread-safe;
// `store` and `clock` must outlive it.
class AttributionServiceImpl final : public RawAttributionService {
 public:
  // `settings` (may be null: no reporting currency is enforced) gives each
  // workspace's reporting currency, which ingest enforces.
  AttributionServiceImpl(EventStore& store, Clock& clock,
                         ServiceOptions options,
                         WorkspaceSettingsStore* settings = nullptr);
  ~AttributionServiceImpl() override;

  // v1::AttributionService, raw
  grpc::ServerUnaryReactor* RecordEvents(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* BulkImportEvents(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* IngestEvents(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* GetJourney(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* EraseCustomer(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* Attribute(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ExplainCustomer(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* TopPaths(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* CreateBackup(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* DescribeWorkspace(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RecordExperiment(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListExperiments(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* DeleteExperiment(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListWorkspaces(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* ExportEvents(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* GetServerInfo(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* LinkIdentities(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* UnlinkIdentity(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;

  // The typed work of the calls above, after parsing; also what the fuzz
  // targets drive. Each authorises against the call's metadata first.
  absl::Status RecordEventsImpl(const grpc::CallbackServerContext& context,
                                const v1::RecordEventsRequest& request,
                                v1::RecordEventsResponse* response);
  absl::Status BulkImportEventsImpl(const grpc::CallbackServerContext& context,
                                    const v1::BulkImportEventsRequest& request,
                                    v1::BulkImportEventsResponse* response);
  absl::Status AttributeImpl(grpc::CallbackServerContext* context,
                             const v1::AttributeRequest& request,
                             v1::AttributeResponse* response);
  // Without authorisation (the raw handler authorises first).
  absl::Status GetJourneyImpl(const v1::GetJourneyRequest& request,
                              v1::GetJourneyResponse* response);

  // Checks the workspace and converts the batch. On error, `out` is
  // unspecified.
  BatchError ValidateBatch(
      absl::string_view workspace,
      const google::protobuf::RepeatedPtrField<v1::Event>& events,
      std::vector<Event>* out);

  // Encodes a validated batch for CommitBatch; needs no lock.
  std::unique_ptr<PreparedBatch> PrepareBatch(absl::string_view workspace,
                                              std::vector<Event> events) {
    return store_.Prepare(workspace, std::move(events));
  }

  // Stores a prepared batch. A per-batch rejection (a workspace limit, a
  // full disk) comes back in `error`, which an ack carries; the returned
  // status is not OK only for a storage failure, which ends a stream.
  absl::Status CommitBatch(PreparedBatch& batch, WriteResult* result,
                           BatchError* error);

  // Where streams commit their batches, in order.
  WorkQueue& write_queue() { return write_queue_; }
  // Where queries run.
  WorkQueue& query_pool() { return query_pool_; }
  // IngestEvents streams holding a slot.
  int StreamsOpen() const { return slots_.total(); }
  ServerMetrics* metrics() const { return options_.metrics; }
  StreamSlots& stream_slots() { return slots_; }
  const ServiceOptions& options() const { return options_; }
  Clock& clock() { return clock_; }
  // Streams register while open, for the idle watchdog.
  void StreamOpened(IngestStream* stream);
  void StreamClosed(IngestStream* stream);

  // Replaces the API keys (at start and on SIGHUP). Calls under way finish
  // with the keys they started with; each later call and stream batch uses
  // the new ones.
  void SetKeys(KeyRing keys);

  // OK if the call's API key may act as `role` in `workspace` ("*":
  // server-wide), or if authentication is off. Unauthenticated if the call
  // carries more than one authorization header.
  absl::Status Authorize(const grpc::CallbackServerContext& context,
                         absl::string_view workspace, Role role);
  // The call's `authorization` metadata value ("" if none);
  // Unauthenticated if there is more than one.
  static absl::StatusOr<std::string> AuthorizationOf(
      const grpc::CallbackServerContext& context);
  // The same check for a value taken at the start of a stream.
  absl::Status Authorize(absl::string_view authorization,
                         absl::string_view workspace, Role role);
  // The keys in force (a snapshot: SetKeys may replace them meanwhile).
  std::shared_ptr<const KeyRing> Keys();

 private:
  // Queries stop early, freeing what they built, when the caller cancels or
  // its deadline passes; they then return CANCELLED or DEADLINE_EXCEEDED.
  absl::Status ExplainCustomerImpl(grpc::CallbackServerContext* context,
                                   const v1::ExplainCustomerRequest& request,
                                   v1::ExplainCustomerResponse* response);
  absl::Status TopPathsImpl(grpc::CallbackServerContext* context,
                            const v1::TopPathsRequest& request,
                            v1::TopPathsResponse* response);
  absl::Status EraseCustomerImpl(const v1::EraseCustomerRequest& request,
                                 v1::EraseCustomerResponse* response);
  // Loads the workspace's channel groups when the query groups by them.
  absl::Status LoadGrouping(absl::string_view workspace, AttributeQuery* query);
  absl::Status LinkIdentitiesImpl(const v1::LinkIdentitiesRequest& request,
                                  v1::LinkIdentitiesResponse* response);
  absl::Status CreateBackupImpl(const v1::CreateBackupRequest& request,
                                v1::CreateBackupResponse* response);
  absl::Status DescribeWorkspaceImpl(
      const v1::DescribeWorkspaceRequest& request,
      v1::DescribeWorkspaceResponse* response);
  absl::Status RecordExperimentImpl(const v1::RecordExperimentRequest& request,
                                    v1::Experiment* response);
  // The workspace's experiments of `goal` as calibrations of an incremental
  // fit over `paths` (the window of `query`), with one check per experiment
  // of the goal; calibration_check[k] is the check of calibrations[k].
  absl::Status Calibrations(absl::string_view workspace, v1::Goal goal,
                            const PathQuery& query, const PathSet& paths,
                            std::vector<Calibration>* calibrations,
                            std::vector<v1::ExperimentCheck>* checks,
                            std::vector<int>* calibration_check);
  // Ends streams idle past the timeout; runs on watchdog_.
  void WatchStreams();

  EventStore& store_;
  Clock& clock_;
  const ServiceOptions options_;
  const absl::Time started_at_;
  WorkspaceSettingsStore* const settings_;
  StreamSlots slots_;
  absl::Mutex keys_mu_;
  std::shared_ptr<const KeyRing> keys_ ABSL_GUARDED_BY(keys_mu_) =
      std::make_shared<const KeyRing>();
  absl::Mutex streams_mu_;
  absl::flat_hash_set<IngestStream*> streams_ ABSL_GUARDED_BY(streams_mu_);
  bool stopping_ ABSL_GUARDED_BY(streams_mu_) = false;
  WorkQueue write_queue_{1, /*nice_increment=*/0};
  WorkQueue query_pool_;
  std::thread watchdog_;  // Last: starts once the members above exist.
};

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_ATTRIBUTION_SERVICE_IMPL_H_

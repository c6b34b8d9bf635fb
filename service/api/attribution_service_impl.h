#ifndef ATTRIBUTION_SERVICE_API_ATTRIBUTION_SERVICE_IMPL_H_
#define ATTRIBUTION_SERVICE_API_ATTRIBUTION_SERVICE_IMPL_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "attribution/v1/attribution_service.grpc.pb.h"
#include "service/api/api_keys.h"
#include "service/api/event_conversion.h"
#include "service/api/workspace_settings.h"
#include "service/api/write_queue.h"
#include "service/core/clock.h"
#include "storage/event_store.h"

namespace attribution::api {

struct ServiceOptions {
  // Most events one RecordEvents call or one IngestEvents message may carry.
  size_t max_batch_events = 10000;
  // Threads one attribution query scans customers with.
  int query_threads = 2;
  // Where CreateBackup writes; empty: backups are disabled.
  std::string backup_root;
  // IngestEvents streams open at once; a stream past it is refused with
  // RESOURCE_EXHAUSTED.
  int max_concurrent_streams = 64;
  // When false every call is allowed: local development only.
  bool auth_enabled = true;
};

// The gRPC handlers (callback API). Each validates its request, converts it
// to domain types, calls the store and converts the status back. Thread-safe;
// `store` and `clock` must outlive it.
class AttributionServiceImpl final
    : public v1::AttributionService::CallbackService {
 public:
  // `settings` (may be null: no reporting currency is enforced) gives each
  // workspace's reporting currency, which ingest enforces.
  AttributionServiceImpl(EventStore& store, Clock& clock,
                         ServiceOptions options,
                         WorkspaceSettingsStore* settings = nullptr);

  // v1::AttributionService::CallbackService
  grpc::ServerUnaryReactor* RecordEvents(
      grpc::CallbackServerContext* context,
      const v1::RecordEventsRequest* request,
      v1::RecordEventsResponse* response) override;
  grpc::ServerBidiReactor<v1::IngestEventsRequest, v1::IngestEventsResponse>*
  IngestEvents(grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* GetJourney(
      grpc::CallbackServerContext* context,
      const v1::GetJourneyRequest* request,
      v1::GetJourneyResponse* response) override;
  grpc::ServerUnaryReactor* EraseCustomer(
      grpc::CallbackServerContext* context,
      const v1::EraseCustomerRequest* request,
      v1::EraseCustomerResponse* response) override;
  grpc::ServerUnaryReactor* Attribute(grpc::CallbackServerContext* context,
                                      const v1::AttributeRequest* request,
                                      v1::AttributeResponse* response) override;
  grpc::ServerUnaryReactor* ExplainCustomer(
      grpc::CallbackServerContext* context,
      const v1::ExplainCustomerRequest* request,
      v1::ExplainCustomerResponse* response) override;
  grpc::ServerUnaryReactor* TopPaths(grpc::CallbackServerContext* context,
                                     const v1::TopPathsRequest* request,
                                     v1::TopPathsResponse* response) override;
  grpc::ServerUnaryReactor* CreateBackup(
      grpc::CallbackServerContext* context,
      const v1::CreateBackupRequest* request,
      v1::CreateBackupResponse* response) override;
  grpc::ServerUnaryReactor* DescribeWorkspace(
      grpc::CallbackServerContext* context,
      const v1::DescribeWorkspaceRequest* request,
      v1::DescribeWorkspaceResponse* response) override;

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

  // Stores a prepared batch. A per-batch rejection (a workspace limit) comes
  // back in `error`, which an ack carries; the returned status is not OK only
  // for a storage failure, which ends a stream.
  absl::Status CommitBatch(PreparedBatch& batch, WriteResult* result,
                           BatchError* error);

  // Where streams commit their batches, in order.
  WriteQueue& write_queue() { return write_queue_; }
  // Called by a stream when it ends.
  void StreamEnded() { open_streams_.fetch_sub(1); }

  // Replaces the API keys (at start and on SIGHUP). Calls under way finish
  // with the keys they started with; each later call and stream batch uses
  // the new ones.
  void SetKeys(KeyRing keys);

  // OK if the call's API key may act as `role` in `workspace` ("*":
  // server-wide), or if authentication is off.
  absl::Status Authorize(const grpc::CallbackServerContext& context,
                         absl::string_view workspace, Role role);
  // The call's `authorization` metadata value ("" if none).
  static std::string AuthorizationOf(
      const grpc::CallbackServerContext& context);
  // The same check for a value taken at the start of a stream.
  absl::Status Authorize(absl::string_view authorization,
                         absl::string_view workspace, Role role);
  // The keys in force (a snapshot: SetKeys may replace them meanwhile).
  std::shared_ptr<const KeyRing> Keys();

 private:
  // Queries stop early, freeing what they built, when the caller cancels or
  // its deadline passes; they then return CANCELLED or DEADLINE_EXCEEDED.
  absl::Status AttributeImpl(grpc::CallbackServerContext* context,
                             const v1::AttributeRequest& request,
                             v1::AttributeResponse* response);
  absl::Status ExplainCustomerImpl(grpc::CallbackServerContext* context,
                                   const v1::ExplainCustomerRequest& request,
                                   v1::ExplainCustomerResponse* response);
  absl::Status TopPathsImpl(grpc::CallbackServerContext* context,
                            const v1::TopPathsRequest& request,
                            v1::TopPathsResponse* response);
  absl::Status GetJourneyImpl(const v1::GetJourneyRequest& request,
                              v1::GetJourneyResponse* response);

  EventStore& store_;
  Clock& clock_;
  const ServiceOptions options_;
  WorkspaceSettingsStore* const settings_;
  std::atomic<int> open_streams_{0};
  absl::Mutex keys_mu_;
  std::shared_ptr<const KeyRing> keys_ ABSL_GUARDED_BY(keys_mu_) =
      std::make_shared<const KeyRing>();
  WriteQueue write_queue_;
};

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_ATTRIBUTION_SERVICE_IMPL_H_

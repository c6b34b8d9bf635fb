// C++ client of attribution.v1.AttributionService. Wraps an injected
// generated stub and returns absl::StatusOr. Thread-safe (gRPC stubs are).
#ifndef ATTRIBUTION_CLIENTS_CPP_ATTRIBUTION_CLIENT_H_
#define ATTRIBUTION_CLIENTS_CPP_ATTRIBUTION_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "attribution/v1/attribution_service.grpc.pb.h"
#include "attribution/v1/report_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace attribution::client {

// grpc::Status -> absl::Status (the codes are numerically equal).
absl::Status FromGrpcStatus(const grpc::Status& s);

// One IngestEvents stream. Send() and Read() may be called from two threads
// at once (one each); Send() itself is serialised internally.
class IngestStream {
 public:
  IngestStream(std::unique_ptr<grpc::ClientContext> context,
               std::unique_ptr<grpc::ClientReaderWriterInterface<
                   v1::IngestEventsRequest, v1::IngestEventsResponse>>
                   stream);

  // False if the stream is broken; Finish() then says why.
  bool Send(const v1::IngestEventsRequest& request);
  // The next ack, in request order. False when the server closed the stream.
  bool Read(v1::IngestEventsResponse* response);
  // Tells the server no more batches come.
  void CloseSend();
  // Waits for the end of the stream and returns its status. Call after Read()
  // returned false.
  absl::Status Finish();
  // Aborts the stream.
  void Cancel() { context_->TryCancel(); }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderWriterInterface<v1::IngestEventsRequest,
                                                    v1::IngestEventsResponse>>
      stream_;
  absl::Mutex send_mu_;
};

// A whole journey, all pages read.
struct Journey {
  // Whose journey it is (the customer asked for, or the one it is linked
  // to) and the identities linked into it.
  std::string customer_id;
  std::vector<std::string> linked_identities;
  std::vector<v1::JourneyEvent> events;
  bool has_first_purchase = false;
  google::protobuf::Timestamp first_purchase_at;
};

// How to reach a server over TLS. All PEM file contents, not paths.
struct TlsOptions {
  std::string root_certs;   // CA bundle that signed the server's certificate.
  std::string client_cert;  // For mutual TLS; empty otherwise.
  std::string client_key;
};

class AttributionClient {
 public:
  // `reports` may be null for a client that makes no report calls.
  explicit AttributionClient(
      std::unique_ptr<v1::AttributionService::StubInterface> stub,
      std::unique_ptr<v1::ReportService::StubInterface> reports = nullptr);

  // A client over a plaintext channel to `target` ("host:port").
  static std::unique_ptr<AttributionClient> Connect(const std::string& target);
  // The same over TLS.
  static std::unique_ptr<AttributionClient> Connect(const std::string& target,
                                                    const TlsOptions& tls);

  // Sends `authorization: Bearer KEY` on every later call. Empty: none.
  void set_api_key(std::string key) { api_key_ = std::move(key); }

  absl::StatusOr<v1::RecordEventsResponse> RecordEvents(
      const v1::RecordEventsRequest& request);
  absl::StatusOr<v1::BulkImportEventsResponse> BulkImportEvents(
      const v1::BulkImportEventsRequest& request);
  absl::StatusOr<v1::GetJourneyResponse> GetJourneyPage(
      const v1::GetJourneyRequest& request);
  // Every page of the customer's journey. NotFound for an unknown customer.
  absl::StatusOr<Journey> GetJourney(absl::string_view workspace,
                                     absl::string_view customer_id);
  absl::StatusOr<v1::EraseCustomerResponse> EraseCustomer(
      absl::string_view workspace, absl::string_view customer_id);
  absl::StatusOr<v1::LinkIdentitiesResponse> LinkIdentities(
      const v1::LinkIdentitiesRequest& request);
  absl::StatusOr<v1::UnlinkIdentityResponse> UnlinkIdentity(
      absl::string_view workspace, absl::string_view identity_id);
  absl::StatusOr<v1::DescribeWorkspaceResponse> DescribeWorkspace(
      absl::string_view workspace);
  absl::StatusOr<v1::AttributeResponse> Attribute(
      const v1::AttributeRequest& request);
  absl::StatusOr<v1::ExplainCustomerResponse> ExplainCustomer(
      const v1::ExplainCustomerRequest& request);
  absl::StatusOr<v1::TopPathsResponse> TopPaths(
      const v1::TopPathsRequest& request);
  absl::StatusOr<v1::CreateBackupResponse> CreateBackup(absl::string_view name);
  absl::StatusOr<v1::ListWorkspacesResponse> ListWorkspaces();
  absl::StatusOr<v1::ServerInfo> GetServerInfo();
  // Streams the export, calling `fn` on every message as it arrives; stops
  // with fn's error if it returns one.
  absl::Status ExportEvents(
      const v1::ExportEventsRequest& request,
      absl::FunctionRef<absl::Status(const v1::ExportEventsResponse&)> fn);
  std::unique_ptr<IngestStream> StartIngest();
  absl::StatusOr<v1::Experiment> RecordExperiment(
      const v1::Experiment& experiment);
  absl::StatusOr<v1::ListExperimentsResponse> ListExperiments(
      absl::string_view workspace);
  absl::StatusOr<v1::DeleteExperimentResponse> DeleteExperiment(
      absl::string_view workspace, absl::string_view name);

  // ReportService.
  absl::StatusOr<v1::RecordSpendResponse> RecordSpend(
      const v1::RecordSpendRequest& request);
  absl::StatusOr<v1::WorkspaceSettings> GetSettings(
      absl::string_view workspace);
  absl::StatusOr<v1::WorkspaceSettings> UpdateSettings(
      const v1::WorkspaceSettings& settings);
  absl::StatusOr<v1::BusinessGoal> SetGoal(const v1::SetGoalRequest& request);
  absl::StatusOr<v1::DeleteGoalResponse> DeleteGoal(absl::string_view workspace,
                                                    absl::string_view name);
  absl::StatusOr<v1::ListGoalsResponse> ListGoals(absl::string_view workspace);
  absl::StatusOr<v1::ChannelReportResponse> ChannelReport(
      const v1::ChannelReportRequest& request);
  absl::StatusOr<v1::CashFlowResponse> CashFlow(
      const v1::CashFlowRequest& request);
  absl::StatusOr<v1::RetentionCohortsResponse> RetentionCohorts(
      const v1::RetentionCohortsRequest& request);
  absl::StatusOr<v1::ReportPageResponse> ReportPage(
      const v1::ReportPageRequest& request);
  absl::StatusOr<v1::ChannelGroup> SetChannelGroup(
      const v1::SetChannelGroupRequest& request);
  absl::StatusOr<v1::DeleteChannelGroupResponse> DeleteChannelGroup(
      absl::string_view workspace, absl::string_view name);
  absl::StatusOr<v1::ListChannelGroupsResponse> ListChannelGroups(
      absl::string_view workspace);
  absl::StatusOr<v1::RecordBusinessFiguresResponse> RecordBusinessFigures(
      const v1::RecordBusinessFiguresRequest& request);
  absl::StatusOr<v1::ListGoalsResponse> ListGoals(
      const v1::ListGoalsRequest& request);
  absl::StatusOr<v1::RecordMentionsResponse> RecordMentions(
      const v1::RecordMentionsRequest& request);
  absl::StatusOr<v1::ConversationReportResponse> ConversationReport(
      const v1::ConversationReportRequest& request);
  absl::StatusOr<v1::ListUnansweredQuestionsResponse> ListUnansweredQuestions(
      const v1::ListUnansweredQuestionsRequest& request);

 private:
  template <typename Response, typename Request, typename Method>
  absl::StatusOr<Response> Report(Method method, const Request& request);

  std::unique_ptr<v1::AttributionService::StubInterface> stub_;
  std::unique_ptr<v1::ReportService::StubInterface> reports_;
  std::string api_key_;
};

}  // namespace attribution::client

#endif  // ATTRIBUTION_CLIENTS_CPP_ATTRIBUTION_CLIENT_H_

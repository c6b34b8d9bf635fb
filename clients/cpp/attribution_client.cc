#include "clients/cpp/attribution_client.h"

#include <utility>

namespace attribution::client {

absl::Status FromGrpcStatus(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
}

IngestStream::IngestStream(
    std::unique_ptr<grpc::ClientContext> context,
    std::unique_ptr<grpc::ClientReaderWriterInterface<v1::IngestEventsRequest,
                                                      v1::IngestEventsResponse>>
        stream)
    : context_(std::move(context)), stream_(std::move(stream)) {}

bool IngestStream::Send(const v1::IngestEventsRequest& request) {
  absl::MutexLock lock(&send_mu_);
  return stream_->Write(request);
}

bool IngestStream::Read(v1::IngestEventsResponse* response) {
  return stream_->Read(response);
}

void IngestStream::CloseSend() {
  absl::MutexLock lock(&send_mu_);
  stream_->WritesDone();
}

absl::Status IngestStream::Finish() {
  return FromGrpcStatus(stream_->Finish());
}

AttributionClient::AttributionClient(
    std::unique_ptr<v1::AttributionService::StubInterface> stub,
    std::unique_ptr<v1::ReportService::StubInterface> reports)
    : stub_(std::move(stub)), reports_(std::move(reports)) {}

std::unique_ptr<AttributionClient> AttributionClient::Connect(
    const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(
      target, grpc::InsecureChannelCredentials(), args);
  return std::make_unique<AttributionClient>(
      v1::AttributionService::NewStub(channel),
      v1::ReportService::NewStub(channel));
}

namespace {

// One unary call on the stub, its status translated.
void AddKey(const std::string& api_key, grpc::ClientContext* context) {
  if (!api_key.empty())
    context->AddMetadata("authorization", "Bearer " + api_key);
}

template <typename Response, typename Stub, typename Request, typename Method>
absl::StatusOr<Response> Unary(Stub& stub, const std::string& api_key,
                               Method method, const Request& request) {
  grpc::ClientContext context;
  AddKey(api_key, &context);
  Response response;
  grpc::Status s = (stub.*method)(&context, request, &response);
  if (!s.ok()) return FromGrpcStatus(s);
  return response;
}

}  // namespace

std::unique_ptr<AttributionClient> AttributionClient::Connect(
    const std::string& target, const TlsOptions& tls) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls.root_certs;
  options.pem_cert_chain = tls.client_cert;
  options.pem_private_key = tls.client_key;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel =
      grpc::CreateCustomChannel(target, grpc::SslCredentials(options), args);
  return std::make_unique<AttributionClient>(
      v1::AttributionService::NewStub(channel),
      v1::ReportService::NewStub(channel));
}

absl::StatusOr<v1::BulkImportEventsResponse>
AttributionClient::BulkImportEvents(
    const v1::BulkImportEventsRequest& request) {
  return Unary<v1::BulkImportEventsResponse>(
      *stub_, api_key_,
      &v1::AttributionService::StubInterface::BulkImportEvents, request);
}

absl::StatusOr<v1::RecordEventsResponse> AttributionClient::RecordEvents(
    const v1::RecordEventsRequest& request) {
  return Unary<v1::RecordEventsResponse>(
      *stub_, api_key_, &v1::AttributionService::StubInterface::RecordEvents,
      request);
}

absl::StatusOr<v1::GetJourneyResponse> AttributionClient::GetJourneyPage(
    const v1::GetJourneyRequest& request) {
  return Unary<v1::GetJourneyResponse>(
      *stub_, api_key_, &v1::AttributionService::StubInterface::GetJourney,
      request);
}

absl::StatusOr<Journey> AttributionClient::GetJourney(
    absl::string_view workspace, absl::string_view customer_id) {
  Journey journey;
  v1::GetJourneyRequest request;
  request.set_workspace(std::string(workspace));
  request.set_customer_id(std::string(customer_id));
  request.set_page_size(10000);
  do {
    absl::StatusOr<v1::GetJourneyResponse> page = GetJourneyPage(request);
    if (!page.ok()) return page.status();
    for (auto& e : *page->mutable_events())
      journey.events.push_back(std::move(e));
    journey.customer_id = page->customer_id();
    journey.linked_identities.assign(page->linked_identities().begin(),
                                     page->linked_identities().end());
    if (page->has_first_purchase_at()) {
      journey.has_first_purchase = true;
      journey.first_purchase_at = page->first_purchase_at();
    }
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  return journey;
}

absl::StatusOr<v1::EraseCustomerResponse> AttributionClient::EraseCustomer(
    absl::string_view workspace, absl::string_view customer_id) {
  v1::EraseCustomerRequest request;
  request.set_workspace(std::string(workspace));
  request.set_customer_id(std::string(customer_id));
  return Unary<v1::EraseCustomerResponse>(
      *stub_, api_key_, &v1::AttributionService::StubInterface::EraseCustomer,
      request);
}

absl::StatusOr<v1::LinkIdentitiesResponse> AttributionClient::LinkIdentities(
    const v1::LinkIdentitiesRequest& request) {
  return Unary<v1::LinkIdentitiesResponse>(
      *stub_, api_key_, &v1::AttributionService::StubInterface::LinkIdentities,
      request);
}

absl::StatusOr<v1::UnlinkIdentityResponse> AttributionClient::UnlinkIdentity(
    absl::string_view workspace, absl::string_view identity_id) {
  v1::UnlinkIdentityRequest request;
  request.set_workspace(std::string(workspace));
  request.set_identity_id(std::string(identity_id));
  return Unary<v1::UnlinkIdentityResponse>(
      *stub_, api_key_, &v1::AttributionService::StubInterface::UnlinkIdentity,
      request);
}

absl::StatusOr<v1::DescribeWorkspaceResponse>
AttributionClient::DescribeWorkspace(absl::string_view workspace) {
  v1::DescribeWorkspaceRequest request;
  request.set_workspace(std::string(workspace));
  return Unary<v1::DescribeWorkspaceResponse>(
      *stub_, api_key_,
      &v1::AttributionService::StubInterface::DescribeWorkspace, request);
}

absl::StatusOr<v1::ListWorkspacesResponse> AttributionClient::ListWorkspaces() {
  return Unary<v1::ListWorkspacesResponse>(
      *stub_, api_key_, &v1::AttributionService::StubInterface::ListWorkspaces,
      v1::ListWorkspacesRequest());
}

absl::StatusOr<v1::ServerInfo> AttributionClient::GetServerInfo() {
  return Unary<v1::ServerInfo>(
      *stub_, api_key_, &v1::AttributionService::StubInterface::GetServerInfo,
      v1::GetServerInfoRequest());
}

absl::Status AttributionClient::ExportEvents(
    const v1::ExportEventsRequest& request,
    absl::FunctionRef<absl::Status(const v1::ExportEventsResponse&)> fn) {
  grpc::ClientContext context;
  AddKey(api_key_, &context);
  std::unique_ptr<grpc::ClientReaderInterface<v1::ExportEventsResponse>>
      reader = stub_->ExportEvents(&context, request);
  v1::ExportEventsResponse message;
  absl::Status failed;
  while (reader->Read(&message)) {
    failed = fn(message);
    if (!failed.ok()) {
      context.TryCancel();
      break;
    }
  }
  grpc::Status s = reader->Finish();
  if (!failed.ok()) return failed;
  return s.ok() ? absl::OkStatus() : FromGrpcStatus(s);
}

absl::StatusOr<v1::AttributeResponse> AttributionClient::Attribute(
    const v1::AttributeRequest& request) {
  return Unary<v1::AttributeResponse>(
      *stub_, api_key_, &v1::AttributionService::StubInterface::Attribute,
      request);
}

absl::StatusOr<v1::ExplainCustomerResponse> AttributionClient::ExplainCustomer(
    const v1::ExplainCustomerRequest& request) {
  return Unary<v1::ExplainCustomerResponse>(
      *stub_, api_key_, &v1::AttributionService::StubInterface::ExplainCustomer,
      request);
}

absl::StatusOr<v1::TopPathsResponse> AttributionClient::TopPaths(
    const v1::TopPathsRequest& request) {
  return Unary<v1::TopPathsResponse>(
      *stub_, api_key_, &v1::AttributionService::StubInterface::TopPaths,
      request);
}

absl::StatusOr<v1::CreateBackupResponse> AttributionClient::CreateBackup(
    absl::string_view name) {
  v1::CreateBackupRequest request;
  request.set_name(std::string(name));
  return Unary<v1::CreateBackupResponse>(
      *stub_, api_key_, &v1::AttributionService::StubInterface::CreateBackup,
      request);
}

absl::StatusOr<v1::Experiment> AttributionClient::RecordExperiment(
    const v1::Experiment& experiment) {
  v1::RecordExperimentRequest request;
  *request.mutable_experiment() = experiment;
  return Unary<v1::Experiment>(
      *stub_, api_key_,
      &v1::AttributionService::StubInterface::RecordExperiment, request);
}

absl::StatusOr<v1::ListExperimentsResponse> AttributionClient::ListExperiments(
    absl::string_view workspace) {
  v1::ListExperimentsRequest request;
  request.set_workspace(std::string(workspace));
  return Unary<v1::ListExperimentsResponse>(
      *stub_, api_key_, &v1::AttributionService::StubInterface::ListExperiments,
      request);
}

absl::StatusOr<v1::DeleteExperimentResponse>
AttributionClient::DeleteExperiment(absl::string_view workspace,
                                    absl::string_view name) {
  v1::DeleteExperimentRequest request;
  request.set_workspace(std::string(workspace));
  request.set_name(std::string(name));
  return Unary<v1::DeleteExperimentResponse>(
      *stub_, api_key_,
      &v1::AttributionService::StubInterface::DeleteExperiment, request);
}

std::unique_ptr<IngestStream> AttributionClient::StartIngest() {
  auto context = std::make_unique<grpc::ClientContext>();
  AddKey(api_key_, context.get());
  auto stream = stub_->IngestEvents(context.get());
  return std::make_unique<IngestStream>(std::move(context), std::move(stream));
}

template <typename Response, typename Request, typename Method>
absl::StatusOr<Response> AttributionClient::Report(Method method,
                                                   const Request& request) {
  if (reports_ == nullptr) {
    return absl::FailedPreconditionError("this client has no ReportService");
  }
  return Unary<Response>(*reports_, api_key_, method, request);
}

absl::StatusOr<v1::RecordSpendResponse> AttributionClient::RecordSpend(
    const v1::RecordSpendRequest& request) {
  return Report<v1::RecordSpendResponse>(
      &v1::ReportService::StubInterface::RecordSpend, request);
}

absl::StatusOr<v1::WorkspaceSettings> AttributionClient::GetSettings(
    absl::string_view workspace) {
  v1::GetSettingsRequest request;
  request.set_workspace(std::string(workspace));
  return Report<v1::WorkspaceSettings>(
      &v1::ReportService::StubInterface::GetSettings, request);
}

absl::StatusOr<v1::WorkspaceSettings> AttributionClient::UpdateSettings(
    const v1::WorkspaceSettings& settings) {
  v1::UpdateSettingsRequest request;
  *request.mutable_settings() = settings;
  return Report<v1::WorkspaceSettings>(
      &v1::ReportService::StubInterface::UpdateSettings, request);
}

absl::StatusOr<v1::BusinessGoal> AttributionClient::SetGoal(
    const v1::SetGoalRequest& request) {
  return Report<v1::BusinessGoal>(&v1::ReportService::StubInterface::SetGoal,
                                  request);
}

absl::StatusOr<v1::DeleteGoalResponse> AttributionClient::DeleteGoal(
    absl::string_view workspace, absl::string_view name) {
  v1::DeleteGoalRequest request;
  request.set_workspace(std::string(workspace));
  request.set_name(std::string(name));
  return Report<v1::DeleteGoalResponse>(
      &v1::ReportService::StubInterface::DeleteGoal, request);
}

absl::StatusOr<v1::ListGoalsResponse> AttributionClient::ListGoals(
    absl::string_view workspace) {
  v1::ListGoalsRequest request;
  request.set_workspace(std::string(workspace));
  return Report<v1::ListGoalsResponse>(
      &v1::ReportService::StubInterface::ListGoals, request);
}

absl::StatusOr<v1::ChannelReportResponse> AttributionClient::ChannelReport(
    const v1::ChannelReportRequest& request) {
  return Report<v1::ChannelReportResponse>(
      &v1::ReportService::StubInterface::ChannelReport, request);
}

absl::StatusOr<v1::CashFlowResponse> AttributionClient::CashFlow(
    const v1::CashFlowRequest& request) {
  return Report<v1::CashFlowResponse>(
      &v1::ReportService::StubInterface::CashFlow, request);
}

absl::StatusOr<v1::RetentionCohortsResponse>
AttributionClient::RetentionCohorts(
    const v1::RetentionCohortsRequest& request) {
  return Report<v1::RetentionCohortsResponse>(
      &v1::ReportService::StubInterface::RetentionCohorts, request);
}

absl::StatusOr<v1::ReportPageResponse> AttributionClient::ReportPage(
    const v1::ReportPageRequest& request) {
  return Report<v1::ReportPageResponse>(
      &v1::ReportService::StubInterface::ReportPage, request);
}

absl::StatusOr<v1::ChannelGroup> AttributionClient::SetChannelGroup(
    const v1::SetChannelGroupRequest& request) {
  return Report<v1::ChannelGroup>(
      &v1::ReportService::StubInterface::SetChannelGroup, request);
}

absl::StatusOr<v1::DeleteChannelGroupResponse>
AttributionClient::DeleteChannelGroup(absl::string_view workspace,
                                      absl::string_view name) {
  v1::DeleteChannelGroupRequest request;
  request.set_workspace(std::string(workspace));
  request.set_name(std::string(name));
  return Report<v1::DeleteChannelGroupResponse>(
      &v1::ReportService::StubInterface::DeleteChannelGroup, request);
}

absl::StatusOr<v1::ListChannelGroupsResponse>
AttributionClient::ListChannelGroups(absl::string_view workspace) {
  v1::ListChannelGroupsRequest request;
  request.set_workspace(std::string(workspace));
  return Report<v1::ListChannelGroupsResponse>(
      &v1::ReportService::StubInterface::ListChannelGroups, request);
}

absl::StatusOr<v1::RecordBusinessFiguresResponse>
AttributionClient::RecordBusinessFigures(
    const v1::RecordBusinessFiguresRequest& request) {
  return Report<v1::RecordBusinessFiguresResponse>(
      &v1::ReportService::StubInterface::RecordBusinessFigures, request);
}

absl::StatusOr<v1::ListGoalsResponse> AttributionClient::ListGoals(
    const v1::ListGoalsRequest& request) {
  return Report<v1::ListGoalsResponse>(
      &v1::ReportService::StubInterface::ListGoals, request);
}

absl::StatusOr<v1::RecordMentionsResponse> AttributionClient::RecordMentions(
    const v1::RecordMentionsRequest& request) {
  return Report<v1::RecordMentionsResponse>(
      &v1::ReportService::StubInterface::RecordMentions, request);
}

absl::StatusOr<v1::ConversationReportResponse>
AttributionClient::ConversationReport(
    const v1::ConversationReportRequest& request) {
  return Report<v1::ConversationReportResponse>(
      &v1::ReportService::StubInterface::ConversationReport, request);
}

absl::StatusOr<v1::ListUnansweredQuestionsResponse>
AttributionClient::ListUnansweredQuestions(
    const v1::ListUnansweredQuestionsRequest& request) {
  return Report<v1::ListUnansweredQuestionsResponse>(
      &v1::ReportService::StubInterface::ListUnansweredQuestions, request);
}

}  // namespace attribution::client

#ifndef ATTRIBUTION_SERVICE_API_REPORT_SERVICE_IMPL_H_
#define ATTRIBUTION_SERVICE_API_REPORT_SERVICE_IMPL_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "attribution/v1/report_service.grpc.pb.h"
#include "service/api/attribution_service_impl.h"
#include "service/api/workspace_settings.h"
#include "service/core/channel_groups.h"
#include "service/core/clock.h"
#include "service/core/report.h"
#include "storage/event_store.h"

namespace attribution::api {

// Most goals one workspace may hold.
inline constexpr int kMaxGoals = 100;

// The ReportService handlers (callback API). Authorisation goes through
// `auth`'s key ring, so both services share one set of keys. Thread-safe;
// every argument must outlive it.
// Every method is registered raw and parses its request with ParseStrict.
// clang-format off
using RawReportService = v1::ReportService::WithRawCallbackMethod_RecordSpend<
    v1::ReportService::WithRawCallbackMethod_GetSettings<
    v1::ReportService::WithRawCallbackMethod_UpdateSettings<
    v1::ReportService::WithRawCallbackMethod_SetGoal<
    v1::ReportService::WithRawCallbackMethod_DeleteGoal<
    v1::ReportService::WithRawCallbackMethod_ListGoals<
    v1::ReportService::WithRawCallbackMethod_ChannelReport<
    v1::ReportService::WithRawCallbackMethod_CashFlow<
    v1::ReportService::WithRawCallbackMethod_RetentionCohorts<
    v1::ReportService::WithRawCallbackMethod_ReportPage<
    v1::ReportService::WithRawCallbackMethod_SetChannelGroup<
    v1::ReportService::WithRawCallbackMethod_DeleteChannelGroup<
    v1::ReportService::WithRawCallbackMethod_ListChannelGroups<
    v1::ReportService::WithRawCallbackMethod_RecordBusinessFigures<
    v1::ReportService::WithRawCallbackMethod_RecordMentions<
    v1::ReportService::WithRawCallbackMethod_ConversationReport<
    v1::ReportService::WithRawCallbackMethod_ListUnansweredQuestions<
    v1::ReportService::Service>>>>>>>>>>>>>>>>>;
// clang-format on

class ReportServiceImpl final : public RawReportService {
 public:
  ReportServiceImpl(EventStore& store, Clock& clock,
                    WorkspaceSettingsStore& settings,
                    AttributionServiceImpl& auth, ServiceOptions options);

  grpc::ServerUnaryReactor* RecordSpend(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetSettings(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* UpdateSettings(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* SetGoal(grpc::CallbackServerContext* context,
                                    const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* DeleteGoal(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListGoals(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ChannelReport(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* CashFlow(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RetentionCohorts(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ReportPage(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* SetChannelGroup(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* DeleteChannelGroup(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListChannelGroups(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RecordBusinessFigures(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RecordMentions(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ConversationReport(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListUnansweredQuestions(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
      grpc::ByteBuffer* response) override;

  // The typed work of ChannelReport after parsing and authorisation; also
  // what the fuzz target drives.
  absl::Status ChannelReportImpl(grpc::CallbackServerContext* context,
                                 const v1::ChannelReportRequest& request,
                                 v1::ChannelReportResponse* response);

 private:
  // Parses the request as Req, authorises the call for `role` in
  // workspace_of(request), then runs fn(&request, &response) and finishes
  // the call with its status; on the query pool when `on_pool`.
  template <typename Req, typename Resp, typename WorkspaceOf, typename Fn>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                  const grpc::ByteBuffer* request,
                                  grpc::ByteBuffer* response, bool on_pool,
                                  Role role, WorkspaceOf workspace_of, Fn fn);
  // A report's options: the request's model and lookback where given (null
  // otherwise), else the workspace's; now, threads and cancellation; under
  // MODEL_INCREMENTAL the workspace's experiments to calibrate on.
  absl::Status Prepare(
      grpc::CallbackServerContext* context, absl::string_view workspace,
      const v1::WorkspaceSettings& settings, const v1::ModelSpec* model,
      const google::protobuf::Duration* lookback, v1::ModelSpec* applied_model,
      google::protobuf::Duration* applied_lookback, ReportOptions* o);
  // Reads the spend of days [first_day, end_day), settles the report's
  // currency (FailedPrecondition for mixed currencies) and runs
  // compute(index, spend) under the index's read lock.
  // With `grouping`, the index and the spend are regrouped by channel
  // group first (GROUP_BY_CHANNEL_GROUP).
  template <typename Compute>
  absl::Status WithData(absl::string_view workspace,
                        const v1::WorkspaceSettings& settings,
                        int32_t first_day, int32_t end_day,
                        std::string* currency, Compute compute,
                        const ChannelGrouping* grouping = nullptr);
  // Parses a report's group_by (campaigns only where `campaigns_allowed`)
  // into `o`, loading the workspace's channel groups into `grouping` for
  // GROUP_BY_CHANNEL_GROUP; sets the applied value.
  absl::Status ParseGroupBy(v1::GroupBy group_by, bool campaigns_allowed,
                            absl::string_view workspace, ReportOptions* o,
                            std::optional<ChannelGrouping>* grouping,
                            v1::GroupBy* applied);
  absl::Status ConversationReportImpl(
      const v1::ConversationReportRequest& request,
      v1::ConversationReportResponse* response);
  absl::Status SetChannelGroupImpl(const v1::SetChannelGroupRequest& request,
                                   v1::ChannelGroup* response);
  absl::Status ListChannelGroupsImpl(
      const v1::ListChannelGroupsRequest& request,
      v1::ListChannelGroupsResponse* response);

  absl::Status RecordSpendImpl(const v1::RecordSpendRequest& request,
                               v1::RecordSpendResponse* response);
  absl::Status UpdateSettingsImpl(const v1::UpdateSettingsRequest& request,
                                  v1::WorkspaceSettings* response);
  absl::Status SetGoalImpl(const v1::SetGoalRequest& request,
                           v1::BusinessGoal* response);
  absl::Status CashFlowImpl(grpc::CallbackServerContext* context,
                            const v1::CashFlowRequest& request,
                            v1::CashFlowResponse* response);
  absl::Status CohortsImpl(grpc::CallbackServerContext* context,
                           const v1::RetentionCohortsRequest& request,
                           v1::RetentionCohortsResponse* response);

  // The page's four calls in turn, then the page.
  absl::Status ReportPageImpl(grpc::CallbackServerContext* context,
                              const v1::ReportPageRequest& request,
                              v1::ReportPageResponse* response);

  absl::StatusOr<std::vector<v1::BusinessGoal>> ReadGoals(
      absl::string_view workspace);
  // Progress of `goals` (those with `only_overlapping` set: only goals whose
  // period overlaps it), measured with the workspace's defaults.
  // With `owner`, only that owner's goals.
  absl::Status GoalsProgress(
      grpc::CallbackServerContext* context, absl::string_view workspace,
      const v1::WorkspaceSettings& settings, const TimeRange* only_overlapping,
      google::protobuf::RepeatedPtrField<v1::GoalProgress>* out,
      absl::string_view owner = "");

  EventStore& store_;
  Clock& clock_;
  WorkspaceSettingsStore& settings_;
  AttributionServiceImpl& auth_;
  const ServiceOptions options_;
};

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_REPORT_SERVICE_IMPL_H_

// attributionctl's reports: requests from flags, and the responses as tables
// a CFO can read (money in the reporting currency, arrows, plain words), as
// CSV rows of raw numbers, and as the few sentences of `report summary`.
#ifndef ATTRIBUTION_CLIENTS_CLI_REPORT_VIEW_H_
#define ATTRIBUTION_CLIENTS_CLI_REPORT_VIEW_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attribution/v1/report_service.pb.h"
#include "clients/cli/output.h"
#include "service/page/report_text.h"

namespace attribution::cli {

struct ReportArgs {
  std::string workspace;
  std::string from, to;     // Dates; `to` is exclusive.
  std::string compare;      // "" or "previous", "none", or "FROM..TO".
  std::string model;        // "" for the workspace default.
  std::string lookback;     // "" for the workspace default.
  std::string group_by;     // channel | campaign
  std::string granularity;  // day | week | month
  std::string horizons;     // "30,60,90"
  // report channels: confidence intervals (level and replicates 0: the
  // server's defaults).
  bool intervals = false;
  double level = 0;
  int replicates = 0;
  // report page.
  std::string credit_models;  // "last_touch,linear,incremental"
  bool no_intervals = false;
  std::string paper;  // a4 | letter
  std::string title;
};

absl::StatusOr<v1::ChannelReportRequest> BuildChannelReportRequest(
    const ReportArgs& args);
absl::StatusOr<v1::CashFlowRequest> BuildCashFlowRequest(
    const ReportArgs& args);
absl::StatusOr<v1::RetentionCohortsRequest> BuildCohortsRequest(
    const ReportArgs& args);
// report page: ChannelReport's flags, the credit chart's models (at most
// 3) and intervals, paper and title.
absl::StatusOr<v1::ReportPageRequest> BuildReportPageRequest(
    const ReportArgs& args);
// --from/--to as a goal's period.
absl::StatusOr<v1::ReportPeriod> BuildPeriod(const ReportArgs& args);

// Channel names and money as people read them (service/page/report_text.h).
using page::ChannelLabel;
using page::FormatMoney;

// The report as rows. `human`: formatted for reading (table); otherwise raw
// numbers (CSV).
Table ChannelReportTable(const v1::ChannelReportResponse& r, bool human);
Table CashFlowTable(const v1::CashFlowResponse& r, bool human);
// One row per brand, channel and figure of a ConversationReport.
Table ConversationTable(const v1::ConversationReportResponse& r);
Table CohortsTable(const v1::RetentionCohortsResponse& r, bool human);
Table GoalsTable(const google::protobuf::RepeatedPtrField<v1::GoalProgress>& g,
                 absl::string_view currency, bool human);

// The sentences of `report summary` (the executive page shows the same).
using page::Summary;
using page::SummaryLine;

// The sentences as rows (for --format=json|csv): topic, channel, metric,
// value, previous, target, direction, text.
Table SummaryTable(const std::vector<SummaryLine>& lines);

// The response as proto3 JSON (field names as in the proto).
std::string ReportJson(const google::protobuf::Message& message);

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_REPORT_VIEW_H_

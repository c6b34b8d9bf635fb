// The executive page (ReportService.ReportPage): one self-contained HTML
// document made of a ChannelReport, a CashFlow, RetentionCohorts and an
// Attribute response. The tiles, sentences and goals are written here as
// HTML; the charts are drawn in the browser by page.js with Observable Plot
// from the figures this file writes into the page as JSON. Nothing is
// fetched when the page is opened: a Content-Security-Policy forbids it.
#ifndef ATTRIBUTION_SERVICE_PAGE_REPORT_PAGE_H_
#define ATTRIBUTION_SERVICE_PAGE_REPORT_PAGE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "attribution/v1/report_service.pb.h"

namespace attribution::page {

// Rows drawn per channel chart: those with the most new customers.
inline constexpr int kMaxChartRows = 20;
// Longest ReportPageRequest.title, in bytes.
inline constexpr int kMaxTitleBytes = 200;

struct PageInput {
  std::string title;
  v1::PaperSize paper = v1::PAPER_SIZE_A4;
  absl::Time generated_at;
  // The calls the page is made of (ReportPageResponse's fields).
  const v1::ChannelReportResponse* report = nullptr;
  const v1::CashFlowResponse* cash_flow = nullptr;
  const v1::RetentionCohortsResponse* cohorts = nullptr;
  const v1::AttributeResponse* credits = nullptr;
};

std::string RenderReportPage(const PageInput& in);

// "Last touch", "Markov (order 2)", "Incremental (half-life 7 days)".
std::string ModelLabel(const v1::ModelSpec& model);

// `s` with &, <, >, " and ' as character references.
std::string EscapeHtml(absl::string_view s);

// The horizon LTV:CAC is read at: 90 days when some cohort has customers
// observed that long, else the longest horizon with observed customers; 0
// when none has any.
int LtvHorizon(const v1::RetentionCohortsResponse& cohorts);

}  // namespace attribution::page

#endif  // ATTRIBUTION_SERVICE_PAGE_REPORT_PAGE_H_

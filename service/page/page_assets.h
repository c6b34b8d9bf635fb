// What the executive page inlines: its stylesheet and script, and the chart
// library (Observable Plot and d3, from npm at build time, versions pinned by
// service/page/package-lock.json). Built into the binary: the server needs
// no files at run time.
#ifndef ATTRIBUTION_SERVICE_PAGE_PAGE_ASSETS_H_
#define ATTRIBUTION_SERVICE_PAGE_PAGE_ASSETS_H_

#include "absl/strings/string_view.h"

namespace attribution::page {

extern const absl::string_view kPageCss;
extern const absl::string_view kPageJs;
extern const absl::string_view kPlotJs;
extern const absl::string_view kD3Js;
extern const absl::string_view kPlotVersion;
extern const absl::string_view kD3Version;

}  // namespace attribution::page

#endif  // ATTRIBUTION_SERVICE_PAGE_PAGE_ASSETS_H_

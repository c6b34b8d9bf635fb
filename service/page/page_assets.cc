#include "service/page/page_assets.h"

// Each file is assembled into .rodata as it is (GNU as .incbin), between a
// start and an end symbol. The paths come from CMake.
#define ATTRIBUTION_INCBIN(name, path)                                \
  __asm__(".section .rodata\n.global " #name "_start\n.hidden " #name \
          "_start\n" #name "_start:\n.incbin \"" path                 \
          "\"\n"                                                      \
          ".global " #name "_end\n.hidden " #name "_end\n" #name      \
          "_end:\n.byte 0\n.previous\n");                             \
  extern "C" const char name##_start[];                               \
  extern "C" const char name##_end[]

ATTRIBUTION_INCBIN(attribution_page_css, ATTRIBUTION_PAGE_CSS);
ATTRIBUTION_INCBIN(attribution_page_js, ATTRIBUTION_PAGE_JS);
ATTRIBUTION_INCBIN(attribution_plot_js, ATTRIBUTION_PLOT_JS);
ATTRIBUTION_INCBIN(attribution_d3_js, ATTRIBUTION_D3_JS);

namespace attribution::page {
namespace {

absl::string_view Between(const char* start, const char* end) {
  return absl::string_view(start, static_cast<size_t>(end - start));
}

}  // namespace

const absl::string_view kPageCss =
    Between(attribution_page_css_start, attribution_page_css_end);
const absl::string_view kPageJs =
    Between(attribution_page_js_start, attribution_page_js_end);
const absl::string_view kPlotJs =
    Between(attribution_plot_js_start, attribution_plot_js_end);
const absl::string_view kD3Js =
    Between(attribution_d3_js_start, attribution_d3_js_end);
const absl::string_view kPlotVersion = ATTRIBUTION_PLOT_VERSION;
const absl::string_view kD3Version = ATTRIBUTION_D3_VERSION;

}  // namespace attribution::page

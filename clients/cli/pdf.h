// An HTML file printed to PDF by headless Chromium (`report page --pdf`).
#ifndef ATTRIBUTION_CLIENTS_CLI_PDF_H_
#define ATTRIBUTION_CLIENTS_CLI_PDF_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace attribution::cli {

// The browser to print with: `given` if not empty, else $CHROMIUM, else the
// first of chromium, chromium-browser, google-chrome, google-chrome-stable
// on PATH. NotFound saying how to get one otherwise.
absl::StatusOr<std::string> FindChromium(absl::string_view given);

// Prints `html` (a self-contained page) to `pdf_path` with `chromium`,
// headless, with a fresh profile and its network features off; the page's
// own CSS sets the paper. At most `timeout_seconds`. Returns the page count.
absl::StatusOr<int> PrintToPdf(const std::string& chromium,
                               absl::string_view html,
                               const std::string& pdf_path,
                               int timeout_seconds = 120);

// Pages of a PDF file's bytes (its /Type /Page objects); 0 if none.
int PdfPageCount(absl::string_view pdf);

}  // namespace attribution::cli

#endif  // ATTRIBUTION_CLIENTS_CLI_PDF_H_

// Local equivalents of absl's status macros, which Debian's Abseil 20220623
// does not ship.
#ifndef ATTRIBUTION_SERVICE_CORE_STATUS_MACROS_H_
#define ATTRIBUTION_SERVICE_CORE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ATTRIBUTION_CONCAT_INNER_(a, b) a##b
#define ATTRIBUTION_CONCAT_(a, b) ATTRIBUTION_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    ::absl::Status _status = (expr);   \
    if (!_status.ok()) return _status; \
  } while (false)

// Evaluates `rexpr` (a StatusOr); on error returns its status, else moves the
// value into `lhs`.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  ASSIGN_OR_RETURN_IMPL_(ATTRIBUTION_CONCAT_(_statusor_, __LINE__), lhs, rexpr)
#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                           \
  if (!statusor.ok()) return statusor.status();      \
  lhs = std::move(statusor).value()

#endif  // ATTRIBUTION_SERVICE_CORE_STATUS_MACROS_H_

// Lift and holdout tests as stored in a workspace's metadata, and their
// reading as measurements for the incremental model's calibration.
#ifndef ATTRIBUTION_SERVICE_API_EXPERIMENTS_H_
#define ATTRIBUTION_SERVICE_API_EXPERIMENTS_H_

#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attribution/v1/attribution_service.pb.h"
#include "service/core/incremental.h"
#include "storage/event_store.h"

namespace attribution::api {

// Metadata key prefix of a stored experiment: kExperimentPrefix + name.
inline constexpr char kExperimentPrefix[] = "experiment/";
// The least standard error taken from a test, in conversions (a test whose
// rates are both 0 or 1 would otherwise claim certainty).
inline constexpr double kMinExperimentSe = 0.5;

// An experiment's incremental conversions and standard error, from its
// estimate or its counts, the error at least kMinExperimentSe.
std::pair<double, double> ExperimentEstimate(const v1::Experiment& e);

// The experiment's measurement over its whole period.
ExperimentMeasure MeasureOf(const v1::Experiment& e);

// Every experiment stored for `workspace`, in name order. DataLoss if one
// is corrupt.
absl::StatusOr<std::vector<v1::Experiment>> ReadExperiments(
    EventStore& store, absl::string_view workspace);

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_EXPERIMENTS_H_

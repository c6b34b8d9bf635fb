#include "service/api/experiments.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "service/api/attribute_request.h"
#include "service/core/status_macros.h"

namespace attribution::api {

std::pair<double, double> ExperimentEstimate(const v1::Experiment& e) {
  if (e.has_estimate()) {
    return {e.estimate().incremental_conversions(),
            std::max(e.estimate().standard_error(), kMinExperimentSe)};
  }
  const auto& c = e.counts();
  const double nt = static_cast<double>(c.treated_customers());
  const double nh = static_cast<double>(c.holdout_customers());
  const double pt = static_cast<double>(c.treated_conversions()) / nt;
  const double ph = static_cast<double>(c.holdout_conversions()) / nh;
  const double se = std::sqrt(pt * (1 - pt) / nt + ph * (1 - ph) / nh) * nt;
  return {(pt - ph) * nt, std::max(se, kMinExperimentSe)};
}

ExperimentMeasure MeasureOf(const v1::Experiment& e) {
  const auto [estimate, se] = ExperimentEstimate(e);
  return {e.channel(), TimeUs(e.start()), TimeUs(e.end()), estimate, se};
}

absl::StatusOr<std::vector<v1::Experiment>> ReadExperiments(
    EventStore& store, absl::string_view workspace) {
  ASSIGN_OR_RETURN(auto stored, store.ReadMeta(workspace, kExperimentPrefix));
  std::vector<v1::Experiment> out;
  for (const auto& [name, value] : stored) {
    v1::Experiment e;
    if (!e.ParseFromString(value)) {
      return absl::DataLossError(absl::StrCat("stored ", name, " is corrupt"));
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace attribution::api

// The incremental model: what each group of channels caused, under a fitted
// model of conversion, rather than how often it stood on the path.
//
// Model (one journey j of the goal, converting or not):
//   P(convert) = 1 - exp(-eta_j),
//   eta_j = b + sum over the groups g on the path of
//           a_g * x_jg + c_g * log(1 + x_jg),
//   x_jg = sum over g's touches of 2^(-(t_j - touch time) / half_life),
// where t_j is the conversion (or, for a journey that did not convert, its
// last touch), b > 0 is the baseline hazard and a_g, c_g >= 0: each touch
// adds hazard, with ad-stock decay (x) and a choice of linear and saturating
// response (log(1 + x)); no touch can lower the chance of converting. It is
// the complementary log-log (proportional hazards) model of a conversion
// whose hazard is a sum of a baseline and per-group exposures, a discrete
// form of the additive hazard models of survival analysis.
//
// Fit: maximum likelihood over every journey, by projected Newton steps on
// the (convex) negative log-likelihood under the sign constraints. Each step
// needs only sums over journeys of gradient and curvature terms, taken over
// 64 fixed blocks of journeys and added in block order, so the result is the
// same for any thread count (and the same sums can come from shards).
// The half-life, unless given, is chosen from 1, 3, 7, 14, 30 and 90 days by
// likelihood.
//
// Credit: a channel's conversions are those that would not have happened
// had its touches been removed, under the fit. For a journey that converted
// with probability p, and p_-g without g's exposure, that is (p - p_-g) / p
// of the conversion: the chance that the same customer, with every other
// draw kept, would then not have converted. Revenue likewise. What no single
// group's removal would lose is the baseline: conversions minus the groups'
// credits (conversions without any touch included).
#ifndef ATTRIBUTION_SERVICE_CORE_INCREMENTAL_H_
#define ATTRIBUTION_SERVICE_CORE_INCREMENTAL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "service/core/attribution.h"

namespace attribution {

// An experiment's measurement of one channel, to calibrate the fit on: the
// conversions (converting journeys with conversion_us in [start_us,
// end_us)) that removing every group of `groups` at once would lose.
struct Calibration {
  std::vector<uint32_t> groups;  // Group ids of the channel.
  int64_t start_us = 0;
  int64_t end_us = 0;
  double conversions = 0;
  double standard_error = 1;
};

// An experiment's measurement of one channel over its whole period.
struct ExperimentMeasure {
  std::string channel;
  int64_t start_us = 0;
  int64_t end_us = 0;
  double conversions = 0;
  double standard_error = 1;
};

// What a fit over the journeys of [start_us, end_us), grouped by `table`,
// takes from an experiment: its figure scaled to the part of its period in
// the window, and the calibration that holds it, unless it does not apply
// (then why not).
struct CalibrationPlan {
  double conversions = 0;  // Scaled to the overlap.
  double standard_error = 0;
  std::optional<Calibration> calibration;
  std::string why_not;
};
CalibrationPlan PlanCalibration(const ExperimentMeasure& m, int64_t start_us,
                                int64_t end_us, const std::vector<Group>& table,
                                double min_standard_error);

struct IncrementalParams {
  // Ad-stock half-life; 0: chosen by likelihood from the grid above.
  int64_t half_life_us = 0;
  // Each adds (model - conversions)^2 / (2 standard_error^2) to the negative
  // log-likelihood.
  std::vector<Calibration> calibrations;
};

struct IncrementalFit {
  int64_t half_life_us = 0;  // As used (chosen or given).
  double baseline_hazard = 0;
  std::vector<double> linear_effects;      // a_g, by group id.
  std::vector<double> saturating_effects;  // c_g, by group id.
  double log_likelihood = 0;
  int iterations = 0;  // Newton steps of the chosen fit.
  bool converged = false;
  // Per calibration: the model's conversions it measures, at the fit.
  std::vector<double> calibrated_conversions;
};

// The fit's per-journey exposures at its half-life, kept for the intervals.
struct IncrementalFeatures;

struct IncrementalResult {
  Credits credits;  // Incremental conversions and revenue per group.
  double baseline_conversions = 0;
  double baseline_revenue_micros = 0;
  IncrementalFit fit;
  // The journeys' exposures the fit was taken on (in a content order), so
  // that IncrementalIntervals need not rebuild them; null if cancelled.
  std::shared_ptr<const IncrementalFeatures> features;
  bool cancelled = false;
};

// Fits the model on every journey of `paths` and credits its conversions.
// Deterministic; the same for any `threads`.
IncrementalResult FitIncremental(
    const PathSet& paths, const IncrementalParams& params, int threads = 1,
    const std::function<bool()>& cancelled = nullptr);

// A share's derivative in the fit's parameters [b, a_0 .. a_{G-1}, c_0 ..
// c_{G-1}]: (parameter index, derivative), for those it depends on.
using ShareGradient = std::vector<std::pair<uint32_t, double>>;

// For one converting journey under `fit`: the share of its conversion that
// would vanish without each group. `groups` holds each touch's group as an
// id of the fit's effects (-1: a group the fit has no effect for, which then
// gets 0), `times` the touches' times. Returns (id, share) for each distinct
// id >= 0, ascending; the shares sum to at most 1. With `gradients`, also
// each share's derivative, in the same order.
std::vector<std::pair<int, double>> IncrementalShares(
    const IncrementalFit& fit, absl::Span<const int> groups,
    absl::Span<const int64_t> times,
    std::vector<ShareGradient>* gradients = nullptr);

// Solves A x = r for symmetric positive definite A (n x n, row-major),
// adding to the diagonal until it factors.
std::vector<double> SolveSpd(const std::vector<double>& a,
                             std::vector<double> r, size_t n);

}  // namespace attribution

#endif  // ATTRIBUTION_SERVICE_CORE_INCREMENTAL_H_

// Confidence intervals for credits: a customer-level bootstrap.
//
// Replicate b weighs every customer by a Poisson(1) draw taken from a hash of
// the customer's id and b, so every journey of a customer moves together,
// the replicates are the same in every run, and one pass over the journeys
// computes all of them. Each replicate's credits are the weighted sums of
// the journeys' credits; the interval is the replicates' percentiles.
// Sums are exact (fixed point), so results do not depend on journey order
// or thread count.
//
// What is resampled is the customers: the sampling noise of the data. In
// BootstrapCredits a model's fit (Markov removal effects, Shapley values)
// is held at its full-data value, so those intervals leave out the fit's
// own uncertainty; the incremental model's fit moves with each replicate
// by one Newton step (IncrementalReplicateSteps, IncrementalIntervals).
#ifndef ATTRIBUTION_SERVICE_CORE_BOOTSTRAP_H_
#define ATTRIBUTION_SERVICE_CORE_BOOTSTRAP_H_

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "service/core/attribution.h"
#include "service/core/incremental.h"

namespace attribution {

struct BootstrapOptions {
  double level = 0.95;   // (0, 1)
  int replicates = 200;  // 10 to 2000
};

// Each converting journey's credit to each group: journey j's entries are
// [offsets[j], offsets[j+1]) of `groups` and `shares` (empty for journeys
// that did not convert).
struct ShareTable {
  std::vector<uint32_t> offsets = {0};
  std::vector<uint32_t> groups;
  std::vector<double> shares;
};

// Under a path-local model or SHAPLEY (not MARKOV, whose credit is not per
// journey, nor INCREMENTAL: see IncrementalShareTable).
ShareTable PathShareTable(const PathSet& paths, const ModelParams& model);
// Under a fitted incremental model: each group's lost share.
ShareTable IncrementalShareTable(const PathSet& paths,
                                 const IncrementalFit& fit);

struct CreditIntervals {
  // Per group; revenue in micros.
  std::vector<double> conversions_low, conversions_high;
  std::vector<double> revenue_low, revenue_high;
  // The conversions no group is credited with (all conversions minus the
  // groups' credits), for the incremental baseline. Conversions without a
  // touch count as a fixed number.
  double baseline_low = 0, baseline_high = 0;
  double baseline_revenue_low = 0, baseline_revenue_high = 0;
  bool cancelled = false;
};

// The q-quantile of the replicates `v` (sorts them), interpolating
// linearly between order statistics.
double BootstrapQuantile(std::vector<double>& v, double q);

namespace bootstrap_internal {
// kPoissonThresholds[k]: the least 53-bit u with u / 2^53 >= P(X <= k) for
// X ~ Poisson(1), k = 0..20.
extern const std::array<uint64_t, 21> kPoissonThresholds;
}  // namespace bootstrap_internal

// Replicate r's weight of a customer: a Poisson(1) draw from a hash of the
// customer's key and r, by its inverse distribution. Called once per
// journey and replicate, so it is inline and counts the common values
// without branches.
inline int BootstrapWeight(uint64_t customer_key, size_t replicate) {
  using bootstrap_internal::kPoissonThresholds;
  const uint64_t u =
      MixBits(customer_key ^ ((replicate + 1) * 0xd1b54a32d192ed03ULL)) >> 11;
  int k = (u >= kPoissonThresholds[0]) + (u >= kPoissonThresholds[1]) +
          (u >= kPoissonThresholds[2]) + (u >= kPoissonThresholds[3]);
  if (k == 4) {  // P = 0.019
    while (k < 20 && u >= kPoissonThresholds[k]) ++k;
  }
  return k;
}

// w[r] = BootstrapWeight(customer_key, r) for r < replicates.
inline void BootstrapWeights(uint64_t customer_key, double* w,
                             size_t replicates) {
  for (size_t r = 0; r < replicates; ++r) {
    w[r] = BootstrapWeight(customer_key, r);
  }
}

// The linearised bootstrap's replicates of an incremental fit: replicate r
// moves the fitted parameters by steps[r * params .. (r + 1) * params), one
// Newton step with its weighted score and the full data's curvature
// (parameters at a bound stay there). `params` must be the ones `result`
// was fitted with on `paths`.
struct ReplicateSteps {
  size_t params = 0;  // 1 + 2 x groups, laid out as ShareGradient's.
  size_t replicates = 0;
  std::vector<double> steps;
  bool cancelled = false;
};
ReplicateSteps IncrementalReplicateSteps(
    const PathSet& paths, const IncrementalParams& params,
    const IncrementalResult& result, const BootstrapOptions& options,
    int threads, const std::function<bool()>& cancelled);

// to[r] += by[r] * c for r < n: one pass over a journey's replicates
// (vectorised).
void AddScaled(double* __restrict to, const double* __restrict by, double c,
               size_t n);

// Intervals for an incremental result that carry the fit's own uncertainty:
// the linearised (one-step) bootstrap. Each replicate moves the fitted
// parameters by one Newton step, with the replicate's weighted score and
// the full data's curvature, and its credits move with them through their
// derivative. `params` must be the ones `result` was fitted with.
CreditIntervals IncrementalIntervals(const PathSet& paths,
                                     const IncrementalParams& params,
                                     const IncrementalResult& result,
                                     const BootstrapOptions& options,
                                     int threads,
                                     const std::function<bool()>& cancelled);

// Intervals for credits given per journey by `table`, or, when
// `global_shares` is non-empty (MARKOV), as global_shares[g] times each
// replicate's conversions and revenue.
CreditIntervals BootstrapCredits(const PathSet& paths, const ShareTable& table,
                                 const std::vector<double>& global_shares,
                                 const BootstrapOptions& options, int threads,
                                 const std::function<bool()>& cancelled);

}  // namespace attribution

#endif  // ATTRIBUTION_SERVICE_CORE_BOOTSTRAP_H_

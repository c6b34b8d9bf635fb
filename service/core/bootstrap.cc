#include "service/core/bootstrap.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "absl/container/flat_hash_map.h"

namespace attribution {
namespace {

constexpr int kBlocks = 64;
// Fixed point: conversion shares to 2^-40 (times a weight of at most 20),
// revenue credits to 2^-20 micros.
constexpr double kConvScale = 1099511627776.0;  // 2^40
constexpr double kRevScale = 1048576.0;         // 2^20

}  // namespace

namespace bootstrap_internal {

// From the same doubles as the draw u / 2^53 >= cdf[k] they stand for:
// cdf[k] * 2^53 is exact, so the integer test is the same test.
const std::array<uint64_t, 21> kPoissonThresholds = [] {
  std::array<uint64_t, 21> t{};
  double p = std::exp(-1.0), cdf = 0;
  for (int k = 0; k <= 20; ++k) {
    cdf += p;
    t[k] = static_cast<uint64_t>(std::ceil(cdf * 0x1.0p53));
    p /= (k + 1);
  }
  return t;
}();

}  // namespace bootstrap_internal

namespace {

__int128 Fixed(double v, double scale) {
  return static_cast<__int128>(std::nearbyint(v * scale));
}

// Whether |v| <= 2^bits, so that a weight (at most 20 < 2^5) times v fits
// in 64 bits for bits <= 58, and 2^16 such products for bits <= 41.
bool FitsProduct(__int128 v, int bits) {
  const __int128 limit = __int128{1} << bits;
  return v >= -limit && v <= limit;
}

// to[r] += w[r] * v for every replicate r, each product in 64 bits where
// it fits.
void AddWeighted(__int128* to, const std::vector<int64_t>& w, __int128 v) {
  if (FitsProduct(v, 58)) {
    const auto v64 = static_cast<int64_t>(v);
    for (size_t r = 0; r < w.size(); ++r) to[r] += w[r] * v64;
  } else {
    for (size_t r = 0; r < w.size(); ++r) to[r] += w[r] * v;
  }
}

}  // namespace

void AddScaled(double* __restrict to, const double* __restrict by, double c,
               size_t n) {
  for (size_t r = 0; r < n; ++r) to[r] += by[r] * c;
}

// Linear interpolation between order statistics (type 7).
double BootstrapQuantile(std::vector<double>& v, double q) {
  std::sort(v.begin(), v.end());
  const double h = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (h - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

namespace {

void AddShares(ShareTable& t, absl::flat_hash_map<uint32_t, double>& acc) {
  std::vector<std::pair<uint32_t, double>> sorted(acc.begin(), acc.end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [g, s] : sorted) {
    t.groups.push_back(g);
    t.shares.push_back(s);
  }
  t.offsets.push_back(static_cast<uint32_t>(t.groups.size()));
}

}  // namespace

ShareTable PathShareTable(const PathSet& paths, const ModelParams& model) {
  ShareTable t;
  // Every converted set's shares, once (each journey's set is its own).
  std::unique_ptr<ShapleyShareTable> shapley;
  if (model.kind == ModelKind::kShapley) {
    shapley = std::make_unique<ShapleyShareTable>(paths, /*threads=*/1,
                                                  /*findable=*/false);
  }
  absl::flat_hash_map<uint32_t, double> acc;
  for (size_t j = 0; j < paths.size(); ++j) {
    acc.clear();
    if (paths.converted[j]) {
      const auto path = paths.path(j);
      if (shapley != nullptr) {
        const GroupSets& sets = shapley->sets();
        const uint32_t s = sets.of_path[j];
        for (uint32_t x = sets.begin[s]; x < sets.begin[s + 1]; ++x) {
          acc[sets.groups[x]] += shapley->shares()[x];
        }
      } else {
        const std::vector<double> w =
            TouchWeights(model, path, paths.path_times(j),
                         paths.conversion_us[j], paths.group_table);
        for (size_t i = 0; i < path.size(); ++i) acc[path[i]] += w[i];
      }
    }
    AddShares(t, acc);
  }
  return t;
}

ShareTable IncrementalShareTable(const PathSet& paths,
                                 const IncrementalFit& fit) {
  ShareTable t;
  absl::flat_hash_map<uint32_t, double> acc;
  std::vector<int> ids;
  for (size_t j = 0; j < paths.size(); ++j) {
    acc.clear();
    if (paths.converted[j]) {
      const auto path = paths.path(j);
      ids.assign(path.begin(), path.end());
      for (const auto& [g, share] :
           IncrementalShares(fit, ids, paths.path_times(j))) {
        acc[static_cast<uint32_t>(g)] += share;
      }
    }
    AddShares(t, acc);
  }
  return t;
}

CreditIntervals BootstrapCredits(const PathSet& paths, const ShareTable& table,
                                 const std::vector<double>& global_shares,
                                 const BootstrapOptions& options, int threads,
                                 const std::function<bool()>& cancelled) {
  const size_t groups = paths.group_table.size();
  const size_t reps = static_cast<size_t>(options.replicates);
  const bool global = !global_shares.empty();
  // Exact sums. A share of at most 2 is at most 2^41 in fixed point and a
  // weight at most 20, so conversion sums are gathered in 64 bits over runs
  // of kRun = 2^16 journeys (below 2^62) and then added into 128 bits.
  // Revenue is gathered in 128 bits, each term a 64-bit product where it
  // fits.
  constexpr size_t kRun = 1 << 16;
  struct Acc {
    std::vector<__int128> conv, rev, total_conv, total_rev;
    std::vector<int64_t> conv_run;
  };
  threads = std::max(1, std::min(threads, kBlocks));
  std::vector<Acc> acc(threads);
  for (Acc& a : acc) {
    a.conv.assign(global ? 0 : reps * groups, 0);
    a.conv_run.assign(global ? 0 : reps * groups, 0);
    a.rev.assign(global ? 0 : reps * groups, 0);
    a.total_conv.assign(reps, 0);
    a.total_rev.assign(reps, 0);
  }
  std::atomic<int> next{0};
  std::atomic<bool> stopped{false};
  const size_t n = paths.size();
  auto work = [&](int t) {
    Acc& a = acc[t];
    std::vector<int64_t> w(reps);
    size_t in_run = 0;
    auto flush = [&a] {
      for (size_t i = 0; i < a.conv_run.size(); ++i) {
        a.conv[i] += a.conv_run[i];
        a.conv_run[i] = 0;
      }
    };
    for (int b = next++; b < kBlocks; b = next++) {
      if (cancelled && cancelled()) {
        stopped = true;
        return;
      }
      for (size_t j = n * b / kBlocks; j < n * (b + 1) / kBlocks; ++j) {
        if (!paths.converted[j]) continue;
        const uint64_t key = paths.customer_keys[j];
        const double revenue = static_cast<double>(paths.revenue_micros[j]);
        const __int128 one_rev = Fixed(revenue, kRevScale);
        for (size_t r = 0; r < reps; ++r) {
          w[r] = BootstrapWeight(key, r);
          a.total_conv[r] += w[r];
        }
        AddWeighted(a.total_rev.data(), w, one_rev);
        if (global) continue;
        if (++in_run == kRun) {
          flush();
          in_run = 0;
        }
        for (uint32_t k = table.offsets[j]; k < table.offsets[j + 1]; ++k) {
          const uint32_t g = table.groups[k];
          const __int128 c = Fixed(table.shares[k], kConvScale);
          if (FitsProduct(c, 41)) {
            const auto c64 = static_cast<int64_t>(c);
            int64_t* conv = &a.conv_run[g * reps];
            for (size_t r = 0; r < reps; ++r) conv[r] += w[r] * c64;
          } else {
            AddWeighted(&a.conv[g * reps], w, c);
          }
          AddWeighted(&a.rev[g * reps], w,
                      Fixed(table.shares[k] * revenue, kRevScale));
        }
      }
    }
    if (!global) flush();
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& t : pool) t.join();
  CreditIntervals out;
  if (stopped) {
    out.cancelled = true;
    return out;
  }
  // Exact sums: adding the threads' parts in any order gives the same.
  Acc sum = acc[0];
  for (int t = 1; t < threads; ++t) {
    for (size_t i = 0; i < sum.conv.size(); ++i) sum.conv[i] += acc[t].conv[i];
    for (size_t i = 0; i < sum.rev.size(); ++i) sum.rev[i] += acc[t].rev[i];
    for (size_t r = 0; r < reps; ++r) {
      sum.total_conv[r] += acc[t].total_conv[r];
      sum.total_rev[r] += acc[t].total_rev[r];
    }
  }
  const double lo_q = (1 - options.level) / 2, hi_q = 1 - lo_q;
  std::vector<double> v(reps), vr(reps);
  std::vector<double> credited(reps, 0.0), credited_rev(reps, 0.0);
  out.conversions_low.assign(groups, 0);
  out.conversions_high.assign(groups, 0);
  out.revenue_low.assign(groups, 0);
  out.revenue_high.assign(groups, 0);
  for (size_t g = 0; g < groups; ++g) {
    for (size_t r = 0; r < reps; ++r) {
      if (global) {
        v[r] = global_shares[g] * static_cast<double>(sum.total_conv[r]);
        vr[r] = global_shares[g] * static_cast<double>(sum.total_rev[r]) /
                kRevScale;
      } else {
        v[r] = static_cast<double>(sum.conv[g * reps + r]) / kConvScale;
        vr[r] = static_cast<double>(sum.rev[g * reps + r]) / kRevScale;
      }
      credited[r] += v[r];
      credited_rev[r] += vr[r];
    }
    out.conversions_low[g] = BootstrapQuantile(v, lo_q);
    out.conversions_high[g] = BootstrapQuantile(v, hi_q);
    out.revenue_low[g] = BootstrapQuantile(vr, lo_q);
    out.revenue_high[g] = BootstrapQuantile(vr, hi_q);
  }
  for (size_t r = 0; r < reps; ++r) {
    v[r] = static_cast<double>(sum.total_conv[r]) +
           static_cast<double>(paths.conversions_without_touch) - credited[r];
    vr[r] = static_cast<double>(sum.total_rev[r]) / kRevScale +
            static_cast<double>(paths.revenue_without_touch_micros) -
            credited_rev[r];
  }
  out.baseline_low = BootstrapQuantile(v, lo_q);
  out.baseline_high = BootstrapQuantile(v, hi_q);
  out.baseline_revenue_low = BootstrapQuantile(vr, lo_q);
  out.baseline_revenue_high = BootstrapQuantile(vr, hi_q);
  return out;
}

}  // namespace attribution

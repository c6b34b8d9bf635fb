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

// A Poisson(1) draw from 64 random bits, by its inverse distribution.
int PoissonOne(uint64_t bits) {
  static const double* const cdf = [] {
    auto* c = new double[21];
    double p = std::exp(-1.0), sum = 0;
    for (int k = 0; k <= 20; ++k) {
      sum += p;
      c[k] = sum;
      p /= (k + 1);
    }
    return c;
  }();
  const double u = static_cast<double>(bits >> 11) * 0x1.0p-53;
  int k = 0;
  while (k < 20 && u >= cdf[k]) ++k;
  return k;
}

}  // namespace

int BootstrapWeight(uint64_t customer_key, size_t replicate) {
  return PoissonOne(
      MixBits(customer_key ^ ((replicate + 1) * 0xd1b54a32d192ed03ULL)));
}

namespace {

__int128 Fixed(double v, double scale) {
  return static_cast<__int128>(std::nearbyint(v * scale));
}

}  // namespace

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
  std::unique_ptr<ShapleyGame> game;
  absl::flat_hash_map<std::vector<uint32_t>, std::vector<double>> cache;
  if (model.kind == ModelKind::kShapley) {
    game = std::make_unique<ShapleyGame>(paths);
  }
  absl::flat_hash_map<uint32_t, double> acc;
  for (size_t j = 0; j < paths.size(); ++j) {
    acc.clear();
    if (paths.converted[j]) {
      const auto path = paths.path(j);
      if (game != nullptr) {
        std::vector<uint32_t> set = GroupSet(path);
        auto [it, inserted] = cache.try_emplace(set);
        if (inserted) it->second = game->Shares(set);
        for (size_t x = 0; x < set.size(); ++x) acc[set[x]] += it->second[x];
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
  struct Acc {
    std::vector<__int128> conv, rev, total_conv, total_rev;
  };
  threads = std::max(1, std::min(threads, kBlocks));
  std::vector<Acc> acc(threads);
  for (Acc& a : acc) {
    a.conv.assign(global ? 0 : reps * groups, 0);
    a.rev.assign(global ? 0 : reps * groups, 0);
    a.total_conv.assign(reps, 0);
    a.total_rev.assign(reps, 0);
  }
  std::atomic<int> next{0};
  std::atomic<bool> stopped{false};
  const size_t n = paths.size();
  auto work = [&](int t) {
    Acc& a = acc[t];
    std::vector<int> w(reps);
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
          a.total_rev[r] += w[r] * one_rev;
        }
        if (global) continue;
        for (uint32_t k = table.offsets[j]; k < table.offsets[j + 1]; ++k) {
          const uint32_t g = table.groups[k];
          const __int128 c = Fixed(table.shares[k], kConvScale);
          const __int128 v = Fixed(table.shares[k] * revenue, kRevScale);
          for (size_t r = 0; r < reps; ++r) {
            if (w[r] == 0) continue;
            a.conv[r * groups + g] += w[r] * c;
            a.rev[r * groups + g] += w[r] * v;
          }
        }
      }
    }
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
        v[r] = static_cast<double>(sum.conv[r * groups + g]) / kConvScale;
        vr[r] = static_cast<double>(sum.rev[r * groups + g]) / kRevScale;
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

// For every attribution model and each simulated family with a known causal
// truth (tests/tools/causal_sim.h), the share distance (sum over channels of
// |credited share - true share|) and the error on incremental counts
// (sum over channels of |credited conversions - true conversions|, as a
// share of the true total), averaged over --seeds. Runs the service's own
// engine (service/core) on the simulated journeys: the same code the
// server's Attribute runs.
//
//   incrementality_eval [--customers=100000] [--seeds=5]
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "service/core/attribution.h"
#include "service/core/bootstrap.h"
#include "service/core/incremental.h"
#include "service/core/journey_index.h"
#include "tests/tools/causal_sim.h"

ABSL_FLAG(int, customers, 100000, "Simulated customers per world.");
ABSL_FLAG(int, seeds, 5, "Worlds per family; figures are their means.");
ABSL_FLAG(bool, verbose, false, "Print each world's credits and truth.");
ABSL_FLAG(int, coverage_seeds, 0,
          "If > 0: instead, how often the incremental model's 95% intervals "
          "(200 replicates) cover the true incremental count, over this many "
          "worlds of family a.");

namespace attribution {
namespace {

struct Row {
  std::string name;
  double distance = 0;
  double count_error = 0;
  double smallest_last = 0;  // Worlds where the smallest truth ranks last.
  double no_effect_share = 0;
};

PathSet Paths(const sim::World& w, WorkspaceIndex* index) {
  sim::IndexWorld(w, index);
  PathQuery q;
  q.goal = Goal::kAcquisition;
  q.start_us = sim::kT0Us;
  q.end_us = sim::kWindowEndUs;
  q.lookback_us = 30 * sim::kDayUs;
  return ExtractPaths(index->Snapshot(), q, 2);
}

int Coverage(int customers, int seeds) {
  int covered = 0, pairs = 0;
  for (int seed = 1; seed <= seeds; ++seed) {
    const sim::World w =
        sim::Simulate(sim::Family::kAdditive, customers, 1000 + seed);
    WorkspaceIndex index;
    const PathSet paths = Paths(w, &index);
    const IncrementalResult r = FitIncremental(paths, {}, 2);
    const CreditIntervals ci =
        IncrementalIntervals(paths, {}, r, BootstrapOptions{}, 2, nullptr);
    for (size_t g = 0; g < paths.group_table.size(); ++g) {
      for (int k = 0; k < sim::kChannels; ++k) {
        if (paths.group_table[g].channel != sim::kChannelNames[k]) continue;
        const double truth = w.truth_conversions[k];
        const bool in =
            truth >= ci.conversions_low[g] && truth <= ci.conversions_high[g];
        covered += in;
        ++pairs;
        if (absl::GetFlag(FLAGS_verbose)) {
          std::printf(
              "  seed %d %-12s truth %6.0f  estimate %8.1f  [%8.1f, "
              "%8.1f]%s\n",
              seed, sim::kChannelNames[k], truth, r.credits.conversions[g],
              ci.conversions_low[g], ci.conversions_high[g],
              in ? "" : "  MISSED");
        }
      }
    }
  }
  std::printf(
      "coverage of the incremental model's 95%% intervals (200 "
      "replicates), family a, %d worlds of %d customers: %d of %d "
      "channel-world pairs (%.1f%%)\n",
      seeds, customers, covered, pairs, 100.0 * covered / pairs);
  return 0;
}

int Main() {
  const int customers = absl::GetFlag(FLAGS_customers);
  if (absl::GetFlag(FLAGS_coverage_seeds) > 0) {
    return Coverage(customers, absl::GetFlag(FLAGS_coverage_seeds));
  }
  const int seeds = absl::GetFlag(FLAGS_seeds);
  const std::vector<std::pair<std::string, ModelParams>> models = [] {
    std::vector<std::pair<std::string, ModelParams>> m;
    auto add = [&](std::string name, ModelKind k, int order = 1) {
      ModelParams p;
      p.kind = k;
      p.order = order;
      m.emplace_back(std::move(name), p);
    };
    add("first_touch", ModelKind::kFirstTouch);
    add("last_touch", ModelKind::kLastTouch);
    add("last_non_direct", ModelKind::kLastNonDirect);
    add("linear", ModelKind::kLinear);
    add("position_based", ModelKind::kPositionBased);
    add("time_decay", ModelKind::kTimeDecay);
    add("markov", ModelKind::kMarkov);
    add("shapley", ModelKind::kShapley);
    return m;
  }();
  std::printf(
      "incrementality_eval: %d customers per world, %d worlds per "
      "family\n",
      customers, seeds);
  for (sim::Family family : {sim::Family::kAdditive, sim::Family::kSaturating,
                             sim::Family::kConfounded}) {
    const bool with_tests = family == sim::Family::kConfounded;
    std::vector<Row> rows(models.size() + (with_tests ? 2 : 1));
    for (size_t m = 0; m < models.size(); ++m) rows[m].name = models[m].first;
    rows[models.size()].name = "incremental";
    if (with_tests) rows.back().name = "incremental+tests";
    double conversions = 0;
    for (int seed = 1; seed <= seeds; ++seed) {
      const sim::World w = sim::Simulate(family, customers, seed);
      conversions += static_cast<double>(w.conversions);
      WorkspaceIndex index;
      sim::IndexWorld(w, &index);
      const IndexSnapshot snap = index.Snapshot();
      PathQuery q;
      q.goal = Goal::kAcquisition;
      q.start_us = sim::kT0Us;
      q.end_us = sim::kWindowEndUs;
      q.lookback_us = 30 * sim::kDayUs;
      const PathSet paths = ExtractPaths(snap, q, 2);
      // Group id -> sim channel.
      std::vector<int> channel_of(paths.group_table.size(), -1);
      for (size_t g = 0; g < paths.group_table.size(); ++g) {
        for (int k = 0; k < sim::kChannels; ++k) {
          if (paths.group_table[g].channel == sim::kChannelNames[k]) {
            channel_of[g] = k;
          }
        }
      }
      double truth_total = 0;
      int smallest = 0;
      for (int k = 0; k < sim::kChannels; ++k) {
        truth_total += w.truth_conversions[k];
        if (w.truth_conversions[k] < w.truth_conversions[smallest]) {
          smallest = k;
        }
      }
      auto score = [&](Row& row, const std::vector<double>& by_group) {
        std::vector<double> credited(sim::kChannels, 0.0);
        for (size_t g = 0; g < by_group.size(); ++g) {
          if (channel_of[g] >= 0) credited[channel_of[g]] += by_group[g];
        }
        row.distance += sim::ShareDistance(w, credited);
        double err = 0, credit_total = 0;
        int lowest = 0;
        for (int k = 0; k < sim::kChannels; ++k) {
          err += std::fabs(credited[k] - w.truth_conversions[k]);
          credit_total += credited[k];
          if (credited[k] < credited[lowest]) lowest = k;
        }
        row.count_error += truth_total > 0 ? err / truth_total : 0;
        row.smallest_last += lowest == smallest ? 1 : 0;
        if (family == sim::Family::kConfounded && credit_total > 0) {
          row.no_effect_share += credited[sim::kTiktok] / credit_total;
        }
        if (absl::GetFlag(FLAGS_verbose)) {
          std::printf("  %-16s", row.name.c_str());
          for (int k = 0; k < sim::kChannels; ++k) {
            std::printf(" %s %.0f/%.0f", sim::kChannelNames[k], credited[k],
                        w.truth_conversions[k]);
          }
          std::printf("\n");
        }
      };
      for (size_t m = 0; m < models.size(); ++m) {
        score(rows[m], Attribute(paths, models[m].second, 2).conversions);
      }
      const IncrementalResult inc = FitIncremental(paths, {}, 2);
      score(rows[models.size()], inc.credits.conversions);
      if (with_tests) {
        // The world's two holdout tests as calibrations, over the window.
        IncrementalParams p;
        for (const sim::Experiment& e : w.experiments) {
          Calibration c;
          for (size_t g = 0; g < paths.group_table.size(); ++g) {
            if (channel_of[g] == e.channel) c.groups.push_back(g);
          }
          c.start_us = q.start_us;
          c.end_us = q.end_us;
          c.conversions = e.incremental;
          c.standard_error = e.standard_error;
          p.calibrations.push_back(c);
        }
        const IncrementalResult cal = FitIncremental(paths, p, 2);
        score(rows.back(), cal.credits.conversions);
        if (absl::GetFlag(FLAGS_verbose)) {
          for (size_t k = 0; k < w.experiments.size(); ++k) {
            std::printf("  test on %s: measured %.0f +- %.0f, model %.0f\n",
                        sim::kChannelNames[w.experiments[k].channel],
                        w.experiments[k].incremental,
                        w.experiments[k].standard_error,
                        cal.fit.calibrated_conversions[k]);
          }
        }
      }
      if (absl::GetFlag(FLAGS_verbose)) {
        std::printf(
            "  incremental: half-life %lld d, baseline %.0f of %lld, "
            "%d iterations%s\n",
            static_cast<long long>(inc.fit.half_life_us / sim::kDayUs),
            inc.baseline_conversions, static_cast<long long>(paths.conversions),
            inc.fit.iterations, inc.fit.converged ? "" : " (not converged)");
      }
    }
    std::printf("\nfamily %s (mean %.0f conversions per world)\n",
                sim::FamilyName(family), conversions / seeds);
    std::printf("  %-16s %14s %14s %14s%s\n", "model", "share distance",
                "count error", "smallest last",
                family == sim::Family::kConfounded ? "   tiktok share" : "");
    for (const Row& r : rows) {
      std::printf("  %-16s %14.3f %14.3f %11.0f/%d", r.name.c_str(),
                  r.distance / seeds, r.count_error / seeds, r.smallest_last,
                  seeds);
      if (family == sim::Family::kConfounded) {
        std::printf(" %14.3f", r.no_effect_share / seeds);
      }
      std::printf("\n");
    }
  }
  return 0;
}

}  // namespace
}  // namespace attribution

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return attribution::Main();
}

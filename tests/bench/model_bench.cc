// Times the path models in-process, on synthetic goal paths shaped like
// attribution_bench's acquisition journeys (no server, no index): for
// working on the models themselves.
//
//   model_bench [--customers=1000000] [--by_campaign] [--only=markov2,...]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "service/core/attribution.h"

ABSL_FLAG(int64_t, customers, 1'000'000, "Journeys to generate.");
ABSL_FLAG(bool, by_campaign, true, "8 campaigns per channel (112 groups).");
ABSL_FLAG(int, threads, 2, "Threads for the Markov removals.");
ABSL_FLAG(std::vector<std::string>, only, {}, "Rows to time; all when empty.");

namespace attribution {
namespace {

constexpr int kWeights[] = {24, 20, 12, 8, 5, 4, 3, 2, 10, 5, 4, 1, 1, 3};
constexpr int kChannels = 14;

PathSet Generate(int64_t customers, bool by_campaign) {
  PathSet p;
  const int campaigns = by_campaign ? 8 : 1;
  for (int c = 0; c < kChannels; ++c) {
    for (int k = 0; k < campaigns; ++k) {
      Group g;
      g.channel =
          absl::StrCat("ch", std::string(1, static_cast<char>('a' + c)));
      if (by_campaign) g.campaign = absl::StrCat("campaign_", k);
      p.group_table.push_back(g);
    }
  }
  int total = 0;
  for (int w : kWeights) total += w;
  for (int64_t c = 0; c < customers; ++c) {
    std::mt19937_64 rng(static_cast<uint64_t>(c) * 0x9e3779b97f4a7c15ULL + 1);
    const int events = 1 + static_cast<int>(rng() % 19);
    bool converted = false;
    const size_t begin = p.groups.size();
    for (int i = 0; i < events; ++i) {
      if (i > 0 && rng() % 100 < 14) {
        converted = true;
        break;
      }
      int pick = static_cast<int>(rng() % total);
      int ch = 0;
      while (pick >= kWeights[ch]) pick -= kWeights[ch++];
      const int campaign = static_cast<int>(rng() % 8) % campaigns;
      p.groups.push_back(ch * campaigns + campaign);
      p.times.push_back(i * 3600);
    }
    if (p.groups.size() == begin) continue;
    p.offsets.push_back(p.groups.size());
    p.converted.push_back(converted);
    p.conversion_us.push_back(events * 3600);
    p.revenue_micros.push_back(converted ? 100'000'000 : 0);
    p.customer_keys.push_back(c);
    p.conversions += converted;
  }
  return p;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace
}  // namespace attribution

int main(int argc, char** argv) {
  using namespace attribution;
  absl::ParseCommandLine(argc, argv);
  auto start = std::chrono::steady_clock::now();
  const PathSet paths = Generate(absl::GetFlag(FLAGS_customers),
                                 absl::GetFlag(FLAGS_by_campaign));
  std::printf("model_bench: %zu journeys, %zu touches, %zu groups in %.2f s\n",
              paths.size(), paths.groups.size(), paths.group_table.size(),
              Seconds(start));
  const std::vector<std::string> only = absl::GetFlag(FLAGS_only);
  auto wanted = [&](const std::string& name) {
    return only.empty() ||
           std::find(only.begin(), only.end(), name) != only.end();
  };
  const int threads = absl::GetFlag(FLAGS_threads);
  for (int order = 1; order <= 4; ++order) {
    const std::string name = absl::StrCat("markov", order);
    if (!wanted(name)) continue;
    ModelParams m;
    m.kind = ModelKind::kMarkov;
    m.order = order;
    start = std::chrono::steady_clock::now();
    const Credits credits = Attribute(paths, m, threads);
    const double s = Seconds(start);
    double sum = 0;
    for (double c : credits.conversions) sum += c;
    std::printf("  %-10s %7.3f s  (credits %.6f, first group %.9f)\n",
                name.c_str(), s, sum, credits.conversions[0]);
  }
  if (wanted("shapley")) {
    ModelParams m;
    m.kind = ModelKind::kShapley;
    start = std::chrono::steady_clock::now();
    const Credits credits = Attribute(paths, m, threads);
    std::printf("  %-10s %7.3f s  (first group %.9f)\n", "shapley",
                Seconds(start), credits.conversions[0]);
  }
  return 0;
}

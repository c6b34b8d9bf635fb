// Attribution benchmark. Starts the real attributiond on 127.0.0.1 with a
// fresh RocksDB, streams in C customers' journeys (about 10 events each, a
// social-heavy channel mix, purchases, repeat purchases and churn over 2025),
// warms the server with one query, then times Attribute for each model alone
// and for all eight in one request, for each goal, and prints the server's
// RSS.
//
//   attribution_bench [--customers=1000000] [--repeats=3] [--by_campaign]
//                     [--only=NAME,...]
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/bench/bench_data.h"
#include "tests/support/server_process.h"

ABSL_FLAG(int64_t, customers, 1'000'000, "Customers to generate.");
ABSL_FLAG(int, repeats, 3, "Timed runs per request; the median is printed.");
ABSL_FLAG(bool, by_campaign, false, "Group by channel and campaign.");
ABSL_FLAG(std::vector<std::string>, only, {},
          "Time only the rows of these names (e.g. increm.+ci200); all when "
          "empty.");

namespace attribution {
namespace {

using bench::kEnd;
using bench::kStart;
using bench::Load;

v1::AttributeRequest Request(v1::Goal goal) {
  v1::AttributeRequest r;
  r.set_workspace("bench");
  r.set_goal(goal);
  r.mutable_window_start()->set_seconds(kStart);
  r.mutable_window_end()->set_seconds(kEnd);
  if (absl::GetFlag(FLAGS_by_campaign)) {
    r.set_group_by(v1::GROUP_BY_CHANNEL_CAMPAIGN);
  }
  return r;
}

// Median wall time of `repeats` calls, in seconds.
double Time(client::AttributionClient& client, const v1::AttributeRequest& r,
            int repeats, v1::AttributeResponse* last) {
  return bench::MedianSeconds(repeats, [&] {
    auto response = client.Attribute(r);
    if (!response.ok()) {
      std::fprintf(stderr, "Attribute: %s\n",
                   response.status().ToString().c_str());
      return false;
    }
    *last = *response;
    return true;
  });
}

bool Wanted(const char* name) {
  const std::vector<std::string> only = absl::GetFlag(FLAGS_only);
  return only.empty() || absl::c_linear_search(only, name);
}

int Run() {
  const int64_t customers = absl::GetFlag(FLAGS_customers);
  const int repeats = absl::GetFlag(FLAGS_repeats);
  testing::TempDir dir;
  auto server = testing::ServerProcess::Start(dir.path() + "/db");
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  auto client = (*server)->NewClient();
  const absl::Time load_start = absl::Now();
  const int64_t events = Load(*client, customers);
  std::printf(
      "attribution_bench: %ld customers, %ld events loaded in %.1f s, "
      "%u cores; median of %d runs per request\n",
      static_cast<long>(customers), static_cast<long>(events),
      absl::ToDoubleSeconds(absl::Now() - load_start),
      std::thread::hardware_concurrency(), repeats);

  struct Spec {
    const char* name;
    v1::Model model;
    int order;
  };
  const Spec specs[] = {
      {"first_touch", v1::MODEL_FIRST_TOUCH, 0},
      {"last_touch", v1::MODEL_LAST_TOUCH, 0},
      {"last_non_direct", v1::MODEL_LAST_NON_DIRECT, 0},
      {"linear", v1::MODEL_LINEAR, 0},
      {"position_based", v1::MODEL_POSITION_BASED, 0},
      {"time_decay", v1::MODEL_TIME_DECAY, 0},
      {"markov order 1", v1::MODEL_MARKOV, 1},
      {"markov order 3", v1::MODEL_MARKOV, 3},
      {"shapley", v1::MODEL_SHAPLEY, 0},
      {"incremental", v1::MODEL_INCREMENTAL, 0},
  };
  const v1::Goal goals[] = {v1::GOAL_ACQUISITION, v1::GOAL_REPEAT_PURCHASE,
                            v1::GOAL_RETENTION};
  for (v1::Goal goal : goals) {
    v1::AttributeResponse response;
    v1::AttributeRequest warm = Request(goal);
    warm.add_models()->set_model(v1::MODEL_LINEAR);
    Time(*client, warm, 1, &response);  // Warm-up.
    const auto& t = response.totals();
    std::printf(
        "\n%s: %ld conversions, %ld converting and %ld non-converting "
        "journeys, %ld distinct paths\n",
        v1::Goal_Name(goal).c_str(), static_cast<long>(t.conversions()),
        static_cast<long>(t.converting_journeys()),
        static_cast<long>(t.non_converting_journeys()),
        static_cast<long>(t.distinct_paths()));
    v1::AttributeRequest all = Request(goal);
    for (const Spec& s : specs) {
      v1::AttributeRequest r = Request(goal);
      v1::ModelSpec* m = r.add_models();
      m->set_model(s.model);
      if (s.order > 0) m->set_order(s.order);
      if ((s.model != v1::MODEL_MARKOV || s.order == 1) &&
          s.model != v1::MODEL_INCREMENTAL) {
        *all.add_models() = *m;
      }
      if (!Wanted(s.name)) continue;
      std::printf("  %-16s %6.3f s\n", s.name,
                  Time(*client, r, repeats, &response));
    }
    // The eight models of the issue (MARKOV at order 1) in one request.
    if (Wanted("all eight")) {
      std::printf("  %-16s %6.3f s\n", "all eight",
                  Time(*client, all, repeats, &response));
    }
    // 95% intervals, 200 replicates.
    for (v1::Model model : {v1::MODEL_LINEAR, v1::MODEL_INCREMENTAL}) {
      v1::AttributeRequest r = Request(goal);
      r.add_models()->set_model(model);
      r.mutable_intervals()->set_replicates(200);
      const char* name =
          model == v1::MODEL_LINEAR ? "linear+ci200" : "increm.+ci200";
      if (!Wanted(name)) continue;
      std::printf("  %-16s %6.3f s\n", name,
                  Time(*client, r, repeats, &response));
    }
  }
  std::printf("\nserver RSS %.1f MiB\n",
              (*server)->RssBytes() / (1024.0 * 1024.0));
  return 0;
}

}  // namespace
}  // namespace attribution

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return attribution::Run();
}

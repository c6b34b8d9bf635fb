// Attribution benchmark. Starts the real attributiond on 127.0.0.1 with a
// fresh RocksDB, streams in C customers' journeys (about 10 events each, a
// social-heavy channel mix, purchases, repeat purchases and churn over 2025),
// warms the server with one query, then times Attribute for each model alone
// and for all eight in one request, for each goal, and prints the server's
// RSS.
//
//   attribution_bench [--customers=1000000] [--repeats=3] [--by_campaign]
//                     [--only=NAME,...] [--stitching] [--channel_groups]
//
// --channel_groups: GROUP_BY_CHANNEL_GROUP's cost instead: per model, the
// time by channel and by channel group (which regroups a copy of the index
// first), alternating in the same run, and their ratio.
//
// --stitching: identity stitching's cost instead. Loads the data twice: as
// is, and with every fifth customer's touches before its first purchase
// recorded under an anonymous identity that LinkIdentities then links to the
// customer (20% of customers linked). Both workspaces hold the same
// journeys, so the credits must be identical; prints, per model, the time on
// each and their ratio, measured in the same run, alternating.
#include <cmath>
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
ABSL_FLAG(bool, stitching, false,
          "Time Attribute with 20% of customers linked against the same "
          "journeys unlinked.");
ABSL_FLAG(bool, channel_groups, false,
          "Time Attribute by channel group against by channel, alternating.");
ABSL_FLAG(std::vector<std::string>, only, {},
          "Time only the rows of these names (e.g. increm.+ci200); all when "
          "empty.");

namespace attribution {
namespace {

using bench::kEnd;
using bench::kStart;
using bench::Load;

v1::AttributeRequest Request(v1::Goal goal,
                             const std::string& workspace = "bench") {
  v1::AttributeRequest r;
  r.set_workspace(workspace);
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

struct Spec {
  const char* name;
  v1::Model model;
  int order;
};
constexpr Spec kSpecs[] = {
    {"first_touch", v1::MODEL_FIRST_TOUCH, 0},
    {"last_touch", v1::MODEL_LAST_TOUCH, 0},
    {"last_non_direct", v1::MODEL_LAST_NON_DIRECT, 0},
    {"linear", v1::MODEL_LINEAR, 0},
    {"position_based", v1::MODEL_POSITION_BASED, 0},
    {"time_decay", v1::MODEL_TIME_DECAY, 0},
    {"markov order 1", v1::MODEL_MARKOV, 1},
    {"markov order 2", v1::MODEL_MARKOV, 2},
    {"markov order 3", v1::MODEL_MARKOV, 3},
    {"markov order 4", v1::MODEL_MARKOV, 4},
    {"shapley", v1::MODEL_SHAPLEY, 0},
    {"incremental", v1::MODEL_INCREMENTAL, 0},
};

// Medians of `repeats` timed calls of `a` and of `b`, alternating, after
// one warm-up call of each; the last responses in `ra` and `rb`.
std::pair<double, double> AlternatingMedians(client::AttributionClient& client,
                                             const v1::AttributeRequest& a,
                                             const v1::AttributeRequest& b,
                                             int repeats,
                                             v1::AttributeResponse* ra,
                                             v1::AttributeResponse* rb) {
  Time(client, a, 1, ra);
  Time(client, b, 1, rb);
  std::vector<double> ta, tb;
  for (int i = 0; i < repeats; ++i) {
    ta.push_back(Time(client, a, 1, ra));
    tb.push_back(Time(client, b, 1, rb));
  }
  absl::c_sort(ta);
  absl::c_sort(tb);
  return {ta[ta.size() / 2], tb[tb.size() / 2]};
}

bool Wanted(const char* name) {
  const std::vector<std::string> only = absl::GetFlag(FLAGS_only);
  return only.empty() || absl::c_linear_search(only, name);
}

// Whether two responses hold the same groups with credits equal to 1e-9
// (relative), and the same totals.
bool SameCredits(const v1::AttributeResponse& a,
                 const v1::AttributeResponse& b) {
  auto close = [](double x, double y) {
    return std::abs(x - y) <= 1e-9 * std::max(1.0, std::abs(x));
  };
  if (a.results_size() != b.results_size() ||
      a.totals().SerializeAsString() != b.totals().SerializeAsString()) {
    return false;
  }
  for (int r = 0; r < a.results_size(); ++r) {
    const auto& ga = a.results(r).groups();
    const auto& gb = b.results(r).groups();
    if (ga.size() != gb.size()) return false;
    for (int i = 0; i < ga.size(); ++i) {
      if (ga[i].channel() != gb[i].channel() ||
          ga[i].campaign() != gb[i].campaign() ||
          !close(ga[i].conversions(), gb[i].conversions()) ||
          !close(ga[i].revenue(), gb[i].revenue())) {
        return false;
      }
    }
  }
  return true;
}

// Links "v<c>" to "c<c>" for every fifth customer; returns the links made.
int64_t LinkEveryFifth(client::AttributionClient& client,
                       const std::string& workspace, int64_t customers) {
  int64_t linked = 0;
  v1::LinkIdentitiesRequest req;
  auto send = [&] {
    auto r = client.LinkIdentities(req);
    if (!r.ok()) {
      std::fprintf(stderr, "LinkIdentities: %s\n",
                   r.status().ToString().c_str());
    } else {
      linked += r->linked();
    }
    req.clear_links();
  };
  req.set_workspace(workspace);
  for (int64_t c = 0; c < customers; c += 5) {
    v1::IdentityLink* l = req.add_links();
    l->set_identity_id(absl::StrCat("v", c));
    l->set_customer_id(absl::StrCat("c", c));
    if (req.links_size() == 10000) send();
  }
  if (req.links_size() > 0) send();
  return linked;
}

int RunStitching(client::AttributionClient& client, int64_t customers,
                 int repeats) {
  absl::Time t0 = absl::Now();
  const int64_t plain = Load(client, customers, false, "bench");
  const double plain_s = absl::ToDoubleSeconds(absl::Now() - t0);
  t0 = absl::Now();
  const int64_t anonymous = Load(client, customers, false, "linked", 5);
  const double anonymous_s = absl::ToDoubleSeconds(absl::Now() - t0);
  t0 = absl::Now();
  const int64_t links = LinkEveryFifth(client, "linked", customers);
  const double link_s = absl::ToDoubleSeconds(absl::Now() - t0);
  std::printf(
      "attribution_bench --stitching: %ld customers; %ld events loaded as is "
      "in %.1f s, %ld with every fifth customer's first touches anonymous "
      "in %.1f s; %ld links in %.1f s (%.0f links/s); %u cores; median of "
      "%d runs per request, the two workspaces alternating\n",
      static_cast<long>(customers), static_cast<long>(plain), plain_s,
      static_cast<long>(anonymous), anonymous_s, static_cast<long>(links),
      link_s, links / std::max(link_s, 1e-9),
      std::thread::hardware_concurrency(), repeats);
  bool identical = true;
  for (v1::Goal goal :
       {v1::GOAL_ACQUISITION, v1::GOAL_REPEAT_PURCHASE, v1::GOAL_RETENTION}) {
    std::printf("\n%s            unlinked   20%% linked   ratio\n",
                v1::Goal_Name(goal).c_str());
    for (const Spec& s : kSpecs) {
      if (!Wanted(s.name)) continue;
      v1::AttributeRequest a = Request(goal, "bench");
      v1::ModelSpec* m = a.add_models();
      m->set_model(s.model);
      if (s.order > 0) m->set_order(s.order);
      v1::AttributeRequest b = a;
      b.set_workspace("linked");
      v1::AttributeResponse ra, rb;
      const auto [ma, mb] = AlternatingMedians(client, a, b, repeats, &ra, &rb);
      // The same journeys, so the same credits, up to the rounding of sums
      // taken in another order (the customers' slots are not in the same
      // order in the two workspaces).
      ra.clear_request();
      rb.clear_request();
      const bool same = SameCredits(ra, rb);
      identical &= same;
      std::printf("  %-16s %8.3f s %10.3f s %7.3f%s\n", s.name, ma, mb, mb / ma,
                  same ? "" : "  (credits differ!)");
    }
  }
  std::printf("\ncredits identical in every row: %s\n",
              identical ? "yes" : "NO");
  return identical ? 0 : 1;
}

int RunChannelGroups(client::AttributionClient& client, int64_t customers,
                     int repeats) {
  const absl::Time t0 = absl::Now();
  const int64_t events = Load(client, customers);
  std::printf(
      "attribution_bench --channel_groups: %ld customers, %ld events loaded "
      "in %.1f s, %u cores; median of %d runs per request, alternating\n",
      static_cast<long>(customers), static_cast<long>(events),
      absl::ToDoubleSeconds(absl::Now() - t0),
      std::thread::hardware_concurrency(), repeats);
  for (v1::Goal goal : {v1::GOAL_ACQUISITION, v1::GOAL_REPEAT_PURCHASE}) {
    std::printf("\n%s          by channel   by group   ratio\n",
                v1::Goal_Name(goal).c_str());
    for (const Spec& s : kSpecs) {
      if (!Wanted(s.name)) continue;
      v1::AttributeRequest a = Request(goal);
      v1::ModelSpec* m = a.add_models();
      m->set_model(s.model);
      if (s.order > 0) m->set_order(s.order);
      v1::AttributeRequest b = a;
      b.set_group_by(v1::GROUP_BY_CHANNEL_GROUP);
      v1::AttributeResponse ra, rb;
      const auto [ma, mb] = AlternatingMedians(client, a, b, repeats, &ra, &rb);
      std::printf("  %-16s %8.3f s %9.3f s %7.3f  (%d groups)\n", s.name, ma,
                  mb, mb / ma,
                  rb.results_size() > 0 ? rb.results(0).groups_size() : 0);
    }
  }
  return 0;
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
  if (absl::GetFlag(FLAGS_stitching)) {
    return RunStitching(*client, customers, repeats);
  }
  if (absl::GetFlag(FLAGS_channel_groups)) {
    return RunChannelGroups(*client, customers, repeats);
  }
  const absl::Time load_start = absl::Now();
  const int64_t events = Load(*client, customers);
  std::printf(
      "attribution_bench: %ld customers, %ld events loaded in %.1f s, "
      "%u cores; median of %d runs per request\n",
      static_cast<long>(customers), static_cast<long>(events),
      absl::ToDoubleSeconds(absl::Now() - load_start),
      std::thread::hardware_concurrency(), repeats);
  bench::PrintMemory(*client, "bench", (*server)->RssBytes());

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
        "journeys, %ld distinct paths, %d groups\n",
        v1::Goal_Name(goal).c_str(), static_cast<long>(t.conversions()),
        static_cast<long>(t.converting_journeys()),
        static_cast<long>(t.non_converting_journeys()),
        static_cast<long>(t.distinct_paths()),
        response.results_size() > 0 ? response.results(0).groups_size() : 0);
    v1::AttributeRequest all = Request(goal);
    for (const Spec& s : kSpecs) {
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
  std::printf("\nserver RSS %.1f MiB (peak %.1f MiB)\n",
              (*server)->RssBytes() / (1024.0 * 1024.0),
              (*server)->PeakRssBytes() / (1024.0 * 1024.0));
  return 0;
}

}  // namespace
}  // namespace attribution

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return attribution::Run();
}

// Do queries stall writes and journey reads? Starts the real server, loads C
// customers, then keeps a steady IngestEvents stream (a batch of 100 events
// every 20 ms) and a GetJourney loop (every 10 ms) running, and measures
// their latency in four phases of --seconds each:
//   baseline:  nothing else;
//   explain:   ExplainCustomer, Markov order 4 and Shapley by campaign, back
//              to back;
//   report:    ChannelReport over 365 days with Markov order 4, back to back;
//   mixed:     Attribute and ChannelReport, Shapley by campaign, back to
//              back on another connection;
//   attribute: 64 callers running Attribute back to back.
// Prints p50 and p99 of each, and how far each p99 is above the baseline's,
// in ms (the bound is 50 ms) and as a ratio.
//
//   read_stall_bench [--customers=200000] [--seconds=6] [--callers=64]
//                    [--server_flags=--query_threads=1,...]
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/bench/bench_data.h"
#include "tests/support/server_process.h"

ABSL_FLAG(int64_t, customers, 200'000, "Customers loaded before the phases.");
ABSL_FLAG(int, seconds, 6, "Length of each phase.");
ABSL_FLAG(int, callers, 64, "Concurrent Attribute callers in that phase.");
ABSL_FLAG(std::vector<std::string>, server_flags, {},
          "Flags for the server, comma-separated (e.g. --query_threads=1).");

namespace attribution {
namespace {

using bench::kEnd;
using bench::kStart;

struct Latencies {
  absl::Mutex mu;
  std::vector<double> ack_ms ABSL_GUARDED_BY(mu);
  std::vector<double> journey_ms ABSL_GUARDED_BY(mu);
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

// The steady writer: one stream, a batch of 100 new events every 20 ms.
void Writer(const testing::ServerProcess& server, std::atomic<bool>& stop,
            Latencies& out) {
  auto client = server.NewClient();
  auto stream = client->StartIngest();
  absl::Mutex mu;
  std::vector<absl::Time> sent;  // By sequence - 1.
  std::thread reader([&] {
    v1::IngestEventsResponse ack;
    while (stream->Read(&ack)) {
      const absl::Time now = absl::Now();
      absl::Time at;
      {
        absl::MutexLock lock(&mu);
        at = sent[ack.sequence() - 1];
      }
      if (ack.has_error()) {
        std::fprintf(stderr, "ack error: %s\n", ack.error().message().c_str());
      }
      absl::MutexLock lock(&out.mu);
      out.ack_ms.push_back(absl::ToDoubleMilliseconds(now - at));
    }
  });
  uint64_t seq = 0;
  absl::Time next = absl::Now();
  while (!stop) {
    v1::IngestEventsRequest req;
    req.set_workspace("bench");
    req.set_sequence(++seq);
    for (int i = 0; i < 100; ++i) {
      v1::Event* e = req.add_events();
      auto* t = e->mutable_touchpoint();
      t->set_event_id(absl::StrCat("w", seq, "-", i));
      t->set_customer_id(absl::StrCat("w", seq % 5000, "-", i));
      t->mutable_occurred_at()->set_seconds(kStart + 86400 * 30 +
                                            static_cast<int64_t>(seq));
      t->set_channel("instagram");
      t->set_interaction(v1::INTERACTION_CLICK);
    }
    {
      absl::MutexLock lock(&mu);
      sent.push_back(absl::Now());
    }
    if (!stream->Send(req)) break;
    next += absl::Milliseconds(20);
    absl::SleepFor(next - absl::Now());
  }
  stream->CloseSend();
  reader.join();
  stream->Finish().IgnoreError();
}

// The journey reader: one GetJourney every 10 ms.
void Reader(const testing::ServerProcess& server, int64_t customers,
            std::atomic<bool>& stop, Latencies& out) {
  auto client = server.NewClient();
  std::mt19937_64 rng(7);
  absl::Time next = absl::Now();
  while (!stop) {
    const std::string c = absl::StrCat("c", rng() % customers);
    const absl::Time start = absl::Now();
    auto j = client->GetJourney("bench", c);
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - start);
    if (!j.ok() && !absl::IsNotFound(j.status())) {
      std::fprintf(stderr, "GetJourney: %s\n", j.status().ToString().c_str());
    }
    {
      absl::MutexLock lock(&out.mu);
      out.journey_ms.push_back(ms);
    }
    next += absl::Milliseconds(10);
    absl::SleepFor(next - absl::Now());
  }
}

v1::AttributeRequest Selection(bool by_campaign) {
  v1::AttributeRequest r;
  r.set_workspace("bench");
  r.set_goal(v1::GOAL_ACQUISITION);
  r.mutable_window_start()->set_seconds(kStart);
  r.mutable_window_end()->set_seconds(kEnd);
  if (by_campaign) r.set_group_by(v1::GROUP_BY_CHANNEL_CAMPAIGN);
  return r;
}

struct Phase {
  std::string name;
  // Runs queries until `stop`; returns how many completed.
  std::function<int64_t(std::atomic<bool>&)> load;
};

int Main() {
  testing::TempDir dir;
  auto server = testing::ServerProcess::Start(
      dir.path() + "/db", absl::GetFlag(FLAGS_server_flags));
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 2;
  }
  const testing::ServerProcess& s = **server;
  const int64_t customers = absl::GetFlag(FLAGS_customers);
  auto loader = s.NewClient();
  const absl::Time load_start = absl::Now();
  const int64_t events = bench::Load(*loader, customers);
  std::printf("loaded %lld customers, %lld events in %.1f s\n",
              static_cast<long long>(customers), static_cast<long long>(events),
              absl::ToDoubleSeconds(absl::Now() - load_start));

  std::vector<Phase> phases;
  phases.push_back({"baseline", [](std::atomic<bool>& stop) -> int64_t {
                      while (!stop) absl::SleepFor(absl::Milliseconds(20));
                      return 0;
                    }});
  phases.push_back(
      {"ExplainCustomer markov-4 + shapley by campaign",
       [&](std::atomic<bool>& stop) -> int64_t {
         auto c = s.NewClient();
         v1::ExplainCustomerRequest req;
         *req.mutable_selection() = Selection(/*by_campaign=*/true);
         auto* m = req.mutable_selection()->add_models();
         m->set_model(v1::MODEL_MARKOV);
         m->set_order(4);
         req.mutable_selection()->add_models()->set_model(v1::MODEL_SHAPLEY);
         req.set_customer_id("c3");
         int64_t n = 0;
         while (!stop) {
           auto r = c->ExplainCustomer(req);
           if (!r.ok()) {
             std::fprintf(stderr, "explain: %s\n",
                          r.status().ToString().c_str());
             break;
           }
           ++n;
         }
         return n;
       }});
  phases.push_back(
      {"ChannelReport 365 days, markov-4",
       [&](std::atomic<bool>& stop) -> int64_t {
         auto c = s.NewClient();
         v1::ChannelReportRequest req;
         req.set_workspace("bench");
         req.mutable_period()->mutable_start()->set_seconds(kStart);
         req.mutable_period()->mutable_end()->set_seconds(kStart + 365 * 86400);
         req.mutable_model()->set_model(v1::MODEL_MARKOV);
         req.mutable_model()->set_order(4);
         int64_t n = 0;
         while (!stop) {
           auto r = c->ChannelReport(req);
           if (!r.ok()) {
             std::fprintf(stderr, "report: %s\n",
                          r.status().ToString().c_str());
             break;
           }
           ++n;
         }
         return n;
       }});
  phases.push_back(
      {"Attribute + ChannelReport by campaign, shapley",
       [&](std::atomic<bool>& stop) -> int64_t {
         auto c = s.NewClient();
         v1::AttributeRequest attribute = Selection(/*by_campaign=*/true);
         attribute.add_models()->set_model(v1::MODEL_SHAPLEY);
         v1::ChannelReportRequest report;
         report.set_workspace("bench");
         report.mutable_period()->mutable_start()->set_seconds(kStart);
         report.mutable_period()->mutable_end()->set_seconds(kStart +
                                                             365 * 86400);
         report.mutable_model()->set_model(v1::MODEL_SHAPLEY);
         report.set_group_by(v1::GROUP_BY_CHANNEL_CAMPAIGN);
         int64_t n = 0;
         while (!stop) {
           auto a = c->Attribute(attribute);
           auto r = c->ChannelReport(report);
           if (!a.ok() || !r.ok()) {
             std::fprintf(stderr, "attribute/report: %s %s\n",
                          a.status().ToString().c_str(),
                          r.status().ToString().c_str());
             break;
           }
           n += 2;
         }
         return n;
       }});
  const int callers = absl::GetFlag(FLAGS_callers);
  phases.push_back({absl::StrCat(callers, " concurrent Attribute calls"),
                    [&](std::atomic<bool>& stop) -> int64_t {
                      auto c = s.NewClient();
                      std::atomic<int64_t> n{0};
                      std::vector<std::thread> threads;
                      for (int i = 0; i < callers; ++i) {
                        threads.emplace_back([&] {
                          v1::AttributeRequest req = Selection(false);
                          req.add_models()->set_model(v1::MODEL_LINEAR);
                          req.add_models()->set_model(v1::MODEL_MARKOV);
                          while (!stop) {
                            if (!c->Attribute(req).ok()) break;
                            ++n;
                          }
                        });
                      }
                      for (auto& t : threads) t.join();
                      return n.load();
                    }});

  const absl::Duration length = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  double base_ack = 0, base_journey = 0;
  bool ok = true;
  std::printf("%-48s %9s %9s %11s %11s %8s\n", "phase", "ack p50", "ack p99",
              "journey p50", "journey p99", "queries");
  for (size_t p = 0; p < phases.size(); ++p) {
    Latencies lat;
    std::atomic<bool> stop_probes{false}, stop_load{false};
    std::thread writer([&] { Writer(s, stop_probes, lat); });
    std::thread reader([&] { Reader(s, customers, stop_probes, lat); });
    int64_t done = 0;
    std::thread load([&] { done = phases[p].load(stop_load); });
    absl::SleepFor(length);
    stop_probes = true;
    writer.join();
    reader.join();
    stop_load = true;
    load.join();
    absl::MutexLock lock(&lat.mu);
    const double a50 = Percentile(lat.ack_ms, 0.5);
    const double a99 = Percentile(lat.ack_ms, 0.99);
    const double j50 = Percentile(lat.journey_ms, 0.5);
    const double j99 = Percentile(lat.journey_ms, 0.99);
    std::printf("%-48s %6.1f ms %6.1f ms %8.1f ms %8.1f ms %8lld\n",
                phases[p].name.c_str(), a50, a99, j50, j99,
                static_cast<long long>(done));
    if (p == 0) {
      base_ack = a99;
      base_journey = j99;
    } else {
      const double da = a99 - base_ack, dj = j99 - base_journey;
      std::printf(
          "%-48s ack p99 %+.1f ms (%.2fx), journey p99 %+.1f ms (%.2fx) "
          "over the baseline\n",
          "", da, a99 / std::max(base_ack, 1e-9), dj,
          j99 / std::max(base_journey, 1e-9));
      ok = ok && da <= 50 && dj <= 50 && done > 0;
    }
  }
  std::printf("server RSS %.1f MiB\n", s.RssBytes() / 1048576.0);
  std::printf("%s\n", ok ? "read_stall_bench: PASS (every p99 within 50 ms "
                           "of the baseline)"
                         : "read_stall_bench: FAIL");
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace attribution

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return attribution::Main();
}

// Soak: streaming ingest at about 80% of the measured maximum, with
// attribution queries alongside, for a fixed time; prints each minute the
// ingest rate, query latency p50/p99, server RSS and failed calls.
//
//   soak [--minutes=10] [--customers=100000] [--load=0.8]
//
// The real server starts on 127.0.0.1 with a fresh RocksDB. Warm-up loads a
// working set of `customers` journeys (about 10 events each), then streams it
// once more as fast as it can: every event is then a duplicate, and that rate
// is the maximum of the soaked workload. The soak streams the working set
// again and again at `load` x that maximum, so the data stays the same size
// and the server's RSS must stay flat unless something leaks, while the whole
// ingest pipeline (parse, validate, dedup lookups, acks) runs and, alongside,
// Attribute (linear, markov, shapley) is called once a second, as a CRM
// would. Exit 1 if any call failed.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/support/server_process.h"

ABSL_FLAG(int, minutes, 10, "How long the soak runs after warm-up.");
ABSL_FLAG(int64_t, customers, 100'000, "Customers in the working set.");
ABSL_FLAG(double, load, 0.8, "Ingest rate as a share of the measured maximum.");

namespace attribution {
namespace {

constexpr int64_t kStart = 1'735'689'600;  // 2025-01-01.
constexpr int kBatch = 1000;
const char* kChannels[] = {"instagram", "facebook", "tiktok", "email",
                           "youtube",   "x",        "direct"};

// The working set as batches of 1000 events.
std::vector<v1::IngestEventsRequest> WorkingSet(int64_t customers) {
  std::vector<v1::IngestEventsRequest> batches;
  v1::IngestEventsRequest req;
  for (int64_t c = 0; c < customers; ++c) {
    const std::string id = absl::StrCat("c", c);
    int64_t t = kStart + (c * 7919) % (300 * 86400);
    for (int i = 0; i < 10; ++i) {
      t += 3600 + (c * 31 + i * 977) % 86400;
      v1::Event* e = req.add_events();
      if (i == 9 && c % 3 == 0) {
        auto* cv = e->mutable_conversion();
        cv->set_event_id(absl::StrCat(id, "-", i));
        cv->set_customer_id(id);
        cv->mutable_occurred_at()->set_seconds(t);
        cv->set_kind(v1::CONVERSION_KIND_PURCHASE);
        cv->set_revenue_micros(25'000'000);
      } else {
        auto* tp = e->mutable_touchpoint();
        tp->set_event_id(absl::StrCat(id, "-", i));
        tp->set_customer_id(id);
        tp->mutable_occurred_at()->set_seconds(t);
        tp->set_channel(kChannels[(c + i) % 7]);
        tp->set_interaction(v1::INTERACTION_CLICK);
      }
      if (req.events_size() == kBatch) {
        req.set_workspace("soak");
        batches.push_back(std::move(req));
        req = v1::IngestEventsRequest();
      }
    }
  }
  if (req.events_size() > 0) {
    req.set_workspace("soak");
    batches.push_back(std::move(req));
  }
  return batches;
}

struct Counters {
  absl::Mutex mu;
  int64_t acked_events = 0;
  int64_t failed_calls = 0;
  std::vector<double> query_ms;
};

// Streams `batches` round and round until `stop`, at most `rate` events/s
// (0: as fast as it can), on one stream; counts acks into `counters`.
void Ingest(client::AttributionClient& client,
            const std::vector<v1::IngestEventsRequest>& batches, double rate,
            int rounds, std::atomic<bool>& stop, Counters& counters) {
  auto stream = client.StartIngest();
  absl::Mutex mu;
  int in_flight = 0;
  std::thread reader([&] {
    v1::IngestEventsResponse ack;
    while (stream->Read(&ack)) {
      {
        absl::MutexLock lock(&mu);
        --in_flight;
      }
      absl::MutexLock lock(&counters.mu);
      if (ack.has_error()) {
        ++counters.failed_calls;
      } else {
        counters.acked_events += ack.stored() + ack.duplicates();
      }
    }
  });
  const absl::Time start = absl::Now();
  int64_t sent = 0;
  uint64_t seq = 0;
  for (int round = 0; (rounds == 0 || round < rounds) && !stop; ++round) {
    for (const v1::IngestEventsRequest& b : batches) {
      if (stop) break;
      if (rate > 0) {
        const absl::Time due =
            start + absl::Seconds(static_cast<double>(sent) / rate);
        if (due > absl::Now()) absl::SleepFor(due - absl::Now());
      }
      {
        absl::MutexLock lock(&mu);
        mu.Await(absl::Condition(
            +[](int* n) { return *n < 16; }, &in_flight));
        ++in_flight;
      }
      v1::IngestEventsRequest req = b;
      req.set_sequence(++seq);
      if (!stream->Send(req)) break;
      sent += req.events_size();
    }
  }
  stream->CloseSend();
  reader.join();
  if (!stream->Finish().ok()) {
    absl::MutexLock lock(&counters.mu);
    ++counters.failed_calls;
  }
}

void Query(client::AttributionClient& client, std::atomic<bool>& stop,
           Counters& counters) {
  v1::AttributeRequest r;
  r.set_workspace("soak");
  r.set_goal(v1::GOAL_ACQUISITION);
  r.mutable_window_start()->set_seconds(kStart);
  r.mutable_window_end()->set_seconds(kStart + 365 * 86400);
  r.add_models()->set_model(v1::MODEL_LINEAR);
  r.add_models()->set_model(v1::MODEL_MARKOV);
  r.add_models()->set_model(v1::MODEL_SHAPLEY);
  while (!stop) {
    const absl::Time t = absl::Now();
    auto response = client.Attribute(r);
    const double ms = absl::ToDoubleMilliseconds(absl::Now() - t);
    {
      absl::MutexLock lock(&counters.mu);
      if (response.ok()) {
        counters.query_ms.push_back(ms);
      } else {
        ++counters.failed_calls;
      }
    }
    absl::SleepFor(absl::Seconds(1));
  }
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

int Run() {
  testing::TempDir dir;
  auto server = testing::ServerProcess::Start(dir.path() + "/db");
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  auto client = (*server)->NewClient();
  const auto batches = WorkingSet(absl::GetFlag(FLAGS_customers));
  int64_t events = 0;
  for (const auto& b : batches) events += b.events_size();

  Counters warm;
  std::atomic<bool> never{false};
  Ingest(*client, batches, 0, 1, never, warm);  // Fresh writes.
  const absl::Time t0 = absl::Now();
  Ingest(*client, batches, 0, 1, never, warm);  // The soaked workload.
  const double max_rate =
      static_cast<double>(events) / absl::ToDoubleSeconds(absl::Now() - t0);
  const double rate = max_rate * absl::GetFlag(FLAGS_load);
  std::printf(
      "soak: %ld events in the working set; re-sent at most at %.0f "
      "events/s (the maximum); soaking at %.0f events/s with "
      "Attribute (linear, markov, shapley) once a second, for %d "
      "min\n",
      static_cast<long>(events), max_rate, rate, absl::GetFlag(FLAGS_minutes));
  std::printf("%6s %14s %12s %12s %10s %8s\n", "minute", "ingest ev/s",
              "query p50", "query p99", "RSS MiB", "failed");

  Counters counters;
  std::atomic<bool> stop{false};
  std::thread ingest(
      [&] { Ingest(*client, batches, rate, 0, stop, counters); });
  std::thread query([&] { Query(*client, stop, counters); });
  int64_t failed_total = warm.failed_calls;
  for (int minute = 1; minute <= absl::GetFlag(FLAGS_minutes); ++minute) {
    absl::SleepFor(absl::Minutes(1));
    int64_t acked;
    std::vector<double> ms;
    int64_t failed;
    {
      absl::MutexLock lock(&counters.mu);
      acked = counters.acked_events;
      counters.acked_events = 0;
      ms.swap(counters.query_ms);
      failed = counters.failed_calls;
      counters.failed_calls = 0;
    }
    failed_total += failed;
    std::printf("%6d %14.0f %9.0f ms %9.0f ms %10.1f %8ld\n", minute,
                static_cast<double>(acked) / 60.0, Percentile(ms, 0.5),
                Percentile(ms, 0.99), (*server)->RssBytes() / 1048576.0,
                static_cast<long>(failed));
    std::fflush(stdout);
  }
  stop = true;
  ingest.join();
  query.join();
  {
    absl::MutexLock lock(&counters.mu);
    failed_total += counters.failed_calls;
  }
  std::printf("failed calls in all: %ld\n", static_cast<long>(failed_total));
  return failed_total == 0 ? 0 : 1;
}

}  // namespace
}  // namespace attribution

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return attribution::Run();
}

// The benchmarks' synthetic workspace: C customers with about 10 events
// each (a social-heavy channel mix, purchases, repeat purchases and churn
// over 2025), streamed into the real server. Deterministic per customer.
#ifndef ATTRIBUTION_TESTS_BENCH_BENCH_DATA_H_
#define ATTRIBUTION_TESTS_BENCH_BENCH_DATA_H_

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/cpp/attribution_client.h"

namespace attribution::bench {

inline constexpr int64_t kStart = 1'735'689'600;  // 2025-01-01, seconds.
inline constexpr int64_t kEnd = 1'767'225'600;    // 2026-01-01.

struct Weighted {
  const char* name;
  int weight;
};
inline constexpr Weighted kChannels[] = {
    {"instagram", 24},     {"facebook", 20},   {"tiktok", 12},
    {"youtube", 8},        {"x", 5},           {"linkedin", 4},
    {"pinterest", 3},      {"reddit", 2},      {"email", 10},
    {"organic_search", 5}, {"paid_search", 4}, {"display", 1},
    {"referral", 1},       {"direct", 3}};

// Appends customer c's journey to `req`; returns its event count. With
// `report_extras`, some touches before the first purchase are leads and
// touches carry a sentiment (the attribution benchmark's data has neither).
// With `anonymous`, the touches before the first purchase are recorded under
// the identity "v<c>" instead of "c<c>" (as an anonymous visitor's), to be
// linked to the customer.
inline int AddCustomer(int64_t c, v1::IngestEventsRequest* req,
                       bool report_extras = false, bool anonymous = false) {
  std::mt19937_64 rng(static_cast<uint64_t>(c) * 0x9e3779b97f4a7c15ULL + 1);
  int total_weight = 0;
  for (const Weighted& w : kChannels) total_weight += w.weight;
  const std::string customer = absl::StrCat("c", c);
  const std::string visitor = absl::StrCat("v", c);
  const int events = 1 + static_cast<int>(rng() % 19);
  int64_t t = kStart + static_cast<int64_t>(rng() % (300 * 86400));
  int purchases = 0;
  for (int i = 0; i < events; ++i) {
    t += 3600 + static_cast<int64_t>(rng() % (5 * 86400));
    if (t >= kEnd) break;
    const int roll = static_cast<int>(rng() % 100);
    v1::Event* e = req->add_events();
    const std::string id = absl::StrCat(customer, "-", i);
    if (i > 0 && roll < 14) {
      auto* cv = e->mutable_conversion();
      cv->set_event_id(id);
      cv->set_customer_id(customer);
      cv->mutable_occurred_at()->set_seconds(t);
      cv->set_kind(v1::CONVERSION_KIND_PURCHASE);
      cv->set_revenue_micros(static_cast<int64_t>(5 + rng() % 300) * 1'000'000);
      ++purchases;
    } else if (report_extras && purchases == 0 && roll >= 90) {
      auto* cv = e->mutable_conversion();
      cv->set_event_id(id);
      cv->set_customer_id(customer);
      cv->mutable_occurred_at()->set_seconds(t);
      cv->set_kind(v1::CONVERSION_KIND_LEAD);
    } else if (purchases > 0 && roll < 16) {
      auto* cv = e->mutable_conversion();
      cv->set_event_id(id);
      cv->set_customer_id(customer);
      cv->mutable_occurred_at()->set_seconds(t);
      cv->set_kind(v1::CONVERSION_KIND_CHURN);
    } else {
      int pick = static_cast<int>(rng() % total_weight);
      const char* channel = kChannels[0].name;
      for (const Weighted& w : kChannels) {
        if (pick < w.weight) {
          channel = w.name;
          break;
        }
        pick -= w.weight;
      }
      auto* tp = e->mutable_touchpoint();
      tp->set_event_id(id);
      tp->set_customer_id(anonymous && purchases == 0 ? visitor : customer);
      tp->mutable_occurred_at()->set_seconds(t);
      tp->set_channel(channel);
      tp->set_campaign(absl::StrCat("campaign_", rng() % 8));
      tp->set_interaction(static_cast<v1::Interaction>(1 + rng() % 10));
      if (report_extras) {
        tp->set_sentiment(static_cast<v1::Sentiment>(rng() % 4));
      }
    }
  }
  return req->events_size();
}

// Streams customers [0, customers) into `workspace`; returns the events
// stored. With `anonymous_every` > 0, every customer whose number it divides
// has its touches before the first purchase recorded under "v<c>" (see
// AddCustomer).
inline int64_t Load(client::AttributionClient& client, int64_t customers,
                    bool report_extras = false,
                    const std::string& workspace = "bench",
                    int64_t anonymous_every = 0) {
  auto stream = client.StartIngest();
  absl::Mutex mu;
  int in_flight = 0;
  int64_t stored = 0;
  std::thread reader([&] {
    v1::IngestEventsResponse ack;
    while (stream->Read(&ack)) {
      absl::MutexLock lock(&mu);
      --in_flight;
      stored += ack.stored();
      if (ack.has_error())
        std::fprintf(stderr, "%s\n", ack.error().message().c_str());
    }
  });
  v1::IngestEventsRequest req;
  uint64_t seq = 0;
  for (int64_t c = 0; c < customers;) {
    req.Clear();
    req.set_workspace(workspace);
    req.set_sequence(++seq);
    while (c < customers && req.events_size() < 1000) {
      AddCustomer(c, &req, report_extras,
                  anonymous_every > 0 && c % anonymous_every == 0);
      ++c;
    }
    {
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(
          +[](int* n) { return *n < 16; }, &in_flight));
      ++in_flight;
    }
    stream->Send(req);
  }
  stream->CloseSend();
  reader.join();
  (void)stream->Finish();
  return stored;
}

// Median wall time of `repeats` runs of call() (which returns false on
// failure, making the result -1), in seconds.
template <typename Call>
double MedianSeconds(int repeats, Call call) {
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const absl::Time start = absl::Now();
    if (!call()) return -1;
    times.push_back(absl::ToDoubleSeconds(absl::Now() - start));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// Prints the workspace's index bytes (DescribeWorkspace.index_bytes) and
// the server's RSS, each in total and per stored event.
inline void PrintMemory(client::AttributionClient& client,
                        const std::string& workspace, int64_t rss_bytes) {
  auto d = client.DescribeWorkspace(workspace);
  if (!d.ok()) {
    std::fprintf(stderr, "DescribeWorkspace: %s\n",
                 d.status().ToString().c_str());
    return;
  }
  const double events = std::max<double>(
      1, static_cast<double>(d->touchpoints() + d->conversions()));
  std::printf(
      "memory: %.0f events; index %.1f MiB (%.1f bytes/event); server RSS "
      "%.1f MiB (%.1f bytes/event)\n",
      events, d->index_bytes() / 1048576.0, d->index_bytes() / events,
      rss_bytes / 1048576.0, rss_bytes / events);
}

}  // namespace attribution::bench

#endif  // ATTRIBUTION_TESTS_BENCH_BENCH_DATA_H_

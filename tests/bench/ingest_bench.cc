// Ingest benchmark. Starts the real attributiond on 127.0.0.1 (fresh RocksDB
// in a temp folder) and measures, in one run:
//   stream: N events over M customers through IngestEvents (a window of
//           batches in flight), events/s and p50/p99 batch ack latency;
//   unary:  events through RecordEvents, one batch per call;
//   new:    a stream where most customers are new (--new_events over
//           --new_customers, into another workspace), as a history file of
//           web sessions is;
//   file:   that workspace exported as a CSV history file and loaded with
//           attributionctl, streamed and with --bulk (twice), then every
//           model over it (file to credits);
//   raw:    the same events written straight into RocksDB with the store's
//           options, key layout and value encoding, one WriteBatch per batch,
//           no gRPC: the reference;
// then the stream/raw ratio, the index's bytes and the server's RSS (in
// total and per event). Each timed phase after the first starts once the
// server's RocksDB is quiet (no flush or compaction running or owed, read
// from its /metrics), so that no phase pays for the one before it; the time
// waited is printed.
//
//   ingest_bench [--events=5000000] [--customers=500000] [--batch=1000]
//                [--window=16] [--unary_events=1000000]
//                [--new_events=900000] [--new_customers=700000] [--bulk]
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "service/api/event_conversion.h"
#include "storage/key_codec.h"
#include "storage/rocksdb_event_store.h"
#include "tests/bench/bench_data.h"
#include "tests/support/server_process.h"

ABSL_FLAG(int64_t, events, 5'000'000, "Events through IngestEvents and raw.");
ABSL_FLAG(int64_t, customers, 500'000, "Distinct customers.");
ABSL_FLAG(int, batch, 1000, "Events per batch (message, call, WriteBatch).");
ABSL_FLAG(int, window, 16, "IngestEvents batches in flight, per stream.");
ABSL_FLAG(int, streams, 1,
          "Concurrent IngestEvents streams sharing the events.");
ABSL_FLAG(int64_t, unary_events, 1'000'000, "Events through RecordEvents.");
ABSL_FLAG(int64_t, new_events, 900'000,
          "Events of the many-new-customers stream (another workspace); 0: "
          "none.");
ABSL_FLAG(int64_t, new_customers, 700'000,
          "Customers of the many-new-customers stream: one or two events "
          "each at the defaults.");
ABSL_FLAG(bool, bulk, true,
          "Also export the many-new-customers workspace as a CSV file and "
          "load it with attributionctl: streamed, bulk (twice: the second "
          "load is all duplicates), then attribute it under every model.");
ABSL_FLAG(std::vector<std::string>, server_flags, {},
          "Flags for the server, comma-separated (e.g. --request_log=false).");

namespace attribution {
namespace {

constexpr const char* kChannels[] = {
    "instagram", "facebook",       "tiktok",      "youtube",
    "x",         "linkedin",       "pinterest",   "reddit",
    "email",     "organic_search", "paid_search", "direct"};
constexpr int64_t kStartUs = 1'735'689'600'000'000;  // 2025-01-01.

// Event i of a deterministic stream: customer i % M, times increasing, one
// purchase in eight.
Event MakeEvent(int64_t i, int64_t customers, const std::string& prefix) {
  Event e;
  e.event_id = absl::StrCat(prefix, i);
  e.customer_id = absl::StrCat("cust-", i % customers);
  e.occurred_at_us = kStartUs + i * 1'000'000;
  if (i % 8 == 7) {
    e.type = EventType::kConversion;
    e.kind = ConversionKind::kPurchase;
    e.revenue_micros = 10'000'000 + (i % 97) * 1'000'000;
    e.currency = "EUR";
  } else {
    e.type = EventType::kTouchpoint;
    e.channel = kChannels[(i * 7 + i / 13) % std::size(kChannels)];
    e.campaign = absl::StrCat("campaign_", i % 20);
    e.interaction = static_cast<Interaction>(1 + i % kMaxInteraction);
  }
  return e;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

struct Figures {
  double events_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

struct StreamRun {
  int64_t acked = 0;
  std::vector<double> latencies_ms;
};

// Streams events [begin, end) on one IngestEvents stream.
StreamRun StreamSlice(client::AttributionClient& client,
                      const std::string& workspace, int64_t begin, int64_t end,
                      int64_t customers, int batch_size, int window) {
  auto stream = client.StartIngest();
  absl::Mutex mu;
  std::map<uint64_t, absl::Time> sent;
  std::vector<double> latencies_ms;
  int64_t acked = 0;
  bool broken = false;
  std::thread reader([&] {
    v1::IngestEventsResponse ack;
    while (stream->Read(&ack)) {
      const absl::Time now = absl::Now();
      absl::MutexLock lock(&mu);
      if (ack.has_error()) {
        std::fprintf(stderr, "batch %lu rejected: %s\n",
                     static_cast<unsigned long>(ack.sequence()),
                     ack.error().message().c_str());
      }
      acked += ack.stored() + ack.duplicates();
      latencies_ms.push_back(
          absl::ToDoubleMilliseconds(now - sent[ack.sequence()]));
      sent.erase(ack.sequence());
    }
    absl::MutexLock lock(&mu);
    broken = true;
  });
  uint64_t seq = 0;
  const int64_t n = end - begin;
  // Reused: Send() has serialised it when it returns, and a cleared message
  // keeps its allocations, as a production client would do.
  v1::IngestEventsRequest req;
  for (int64_t i = begin; i < end;) {
    req.Clear();
    req.set_workspace(workspace);
    req.set_sequence(++seq);
    for (int k = 0; k < batch_size && i < end; ++k, ++i) {
      api::EventToProto(MakeEvent(i, customers, "s"), req.add_events());
    }
    {
      absl::MutexLock lock(&mu);
      auto room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
        return static_cast<int>(sent.size()) < window || broken;
      };
      mu.Await(absl::Condition(&room));
      if (broken) break;
      sent[seq] = absl::Now();
    }
    if (!stream->Send(req)) break;
  }
  stream->CloseSend();
  reader.join();
  absl::Status s = stream->Finish();
  if (!s.ok() || acked != n) {
    std::fprintf(stderr, "stream failed: %s (acked %ld of %ld)\n",
                 s.ToString().c_str(), static_cast<long>(acked),
                 static_cast<long>(n));
  }
  return {acked, std::move(latencies_ms)};
}

Figures Stream(client::AttributionClient& client, const std::string& workspace,
               int64_t n, int64_t customers, int batch_size, int window,
               int streams) {
  std::vector<StreamRun> runs(streams);
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int k = 0; k < streams; ++k) {
    threads.emplace_back([&, k] {
      runs[k] =
          StreamSlice(client, workspace, n * k / streams, n * (k + 1) / streams,
                      customers, batch_size, window);
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  int64_t acked = 0;
  std::vector<double> latencies_ms;
  for (const StreamRun& r : runs) {
    acked += r.acked;
    latencies_ms.insert(latencies_ms.end(), r.latencies_ms.begin(),
                        r.latencies_ms.end());
  }
  return {acked / seconds, Percentile(latencies_ms, 0.5),
          Percentile(latencies_ms, 0.99)};
}

Figures Unary(client::AttributionClient& client, int64_t n, int64_t customers,
              int batch_size) {
  std::vector<double> latencies_ms;
  int64_t stored = 0;
  const absl::Time start = absl::Now();
  v1::RecordEventsRequest req;
  for (int64_t i = 0; i < n;) {
    req.Clear();
    req.set_workspace("bench");
    for (int k = 0; k < batch_size && i < n; ++k, ++i) {
      api::EventToProto(MakeEvent(i, customers, "u"), req.add_events());
    }
    const absl::Time t = absl::Now();
    auto r = client.RecordEvents(req);
    latencies_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t));
    if (!r.ok()) {
      std::fprintf(stderr, "RecordEvents failed: %s\n",
                   r.status().ToString().c_str());
      break;
    }
    stored += r->stored();
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  return {stored / seconds, Percentile(latencies_ms, 0.5),
          Percentile(latencies_ms, 0.99)};
}

Figures Raw(const std::string& path, int64_t n, int64_t customers,
            int batch_size) {
  StorageOptions options;
  options.path = path;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(MakeRocksDbOptions(options), path, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "raw open: %s\n", s.ToString().c_str());
    return {};
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  const rocksdb::WriteOptions wo = MakeWriteOptions(options);
  std::vector<double> latencies_ms;
  std::string key;
  std::string value;
  const absl::Time start = absl::Now();
  for (int64_t i = 0; i < n;) {
    const absl::Time t = absl::Now();
    rocksdb::WriteBatch batch;
    for (int k = 0; k < batch_size && i < n; ++k, ++i) {
      const Event e = MakeEvent(i, customers, "s");
      storage::EncodeEventKey("bench", e.customer_id, e.occurred_at_us,
                              e.event_id, &key);
      storage::EncodeEventValue(e, &value);
      batch.Put(key, value);
    }
    s = db->Write(wo, &batch);
    latencies_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - t));
    if (!s.ok()) {
      std::fprintf(stderr, "raw write: %s\n", s.ToString().c_str());
      break;
    }
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  db->Close().PermitUncheckedError();
  return {n / seconds, Percentile(latencies_ms, 0.5),
          Percentile(latencies_ms, 0.99)};
}

// The value of the sample `name` (no labels) in a /metrics page, or -1.
double MetricSample(const std::string& page, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (absl::StartsWith(line, name) && line.size() > name.size() &&
        line[name.size()] == ' ') {
      return std::strtod(std::string(line.substr(name.size() + 1)).c_str(),
                         nullptr);
    }
  }
  return -1;
}

// Waits (up to 120 s) until the server's RocksDB runs no flush or
// compaction and owes none, seen on two polls in a row; the seconds waited.
double WaitUntilQuiet(int admin_port) {
  const absl::Time start = absl::Now();
  int quiet_polls = 0;
  while (quiet_polls < 2 && absl::Now() - start < absl::Seconds(120)) {
    auto page = testing::HttpGet(admin_port, "/metrics");
    if (!page.ok() || page->first != 200) return -1;
    const bool quiet =
        MetricSample(page->second,
                     "attributiond_rocksdb_compactions_running") == 0 &&
        MetricSample(page->second, "attributiond_rocksdb_flushes_running") ==
            0 &&
        MetricSample(page->second,
                     "attributiond_rocksdb_pending_compaction_bytes") == 0;
    quiet_polls = quiet ? quiet_polls + 1 : 0;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::ToDoubleSeconds(absl::Now() - start);
}

// attributionctl against the server in `workspace`; its wall time in
// seconds, or -1 (reported) if it failed.
double TimedCtl(const testing::ServerProcess& server,
                const std::string& workspace, std::vector<std::string> args,
                std::string* out = nullptr) {
  std::vector<std::string> argv = {ATTRIBUTIONCTL_PATH,
                                   "--server=" + server.address(),
                                   "--workspace=" + workspace};
  argv.insert(argv.end(), args.begin(), args.end());
  const absl::Time start = absl::Now();
  testing::CommandResult r = testing::RunCommand(argv);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (r.exit_code != 0) {
    std::fprintf(stderr, "attributionctl %s failed (%d): %s\n",
                 args.empty() ? "" : args[0].c_str(), r.exit_code,
                 r.err.c_str());
    return -1;
  }
  if (out != nullptr) *out = r.out;
  return seconds;
}

// The many-new-customers events as a history file (exported from workspace
// "new"), loaded as a user would: `import events` (the stream) into "cli",
// `import events --bulk` into "bulk" twice, then every model over it.
bool FileLoads(const testing::ServerProcess& server, int admin_port,
               const std::string& dir, int64_t rows) {
  const std::string file = dir + "/history.csv";
  if (TimedCtl(server, "new", {"export", "events", file}) < 0) return false;
  double waited = WaitUntilQuiet(admin_port);
  const double streamed = TimedCtl(server, "cli", {"import", "events", file});
  std::string first, second;
  waited += WaitUntilQuiet(admin_port);
  const double bulk =
      TimedCtl(server, "bulk",
               {"--format=json", "import", "events", "--bulk", file}, &first);
  waited += WaitUntilQuiet(admin_port);
  const double again =
      TimedCtl(server, "bulk",
               {"--format=json", "import", "events", "--bulk", file}, &second);
  const double attribute =
      TimedCtl(server, "bulk",
               {"attribute", "--goal=acquisition", "--start=2025-01-01",
                "--end=2026-01-01",
                "--model=first_touch,last_touch,last_non_direct,linear,"
                "position_based,time_decay,markov,shapley"});
  if (streamed < 0 || bulk < 0 || again < 0 || attribute < 0) return false;
  const auto trim = [](std::string s) {
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  };
  std::printf(
      "file, attributionctl import events      %10.0f rows/s  (%ld rows, "
      "%.2f s)\n",
      rows / streamed, static_cast<long>(rows), streamed);
  std::printf(
      "file, import events --bulk             %10.0f rows/s  (%.2f s; %.2fx "
      "the stream) %s\n",
      rows / bulk, bulk, streamed / bulk, trim(first).c_str());
  std::printf(
      "file, --bulk again (duplicates)        %10.0f rows/s  (%.2f s) %s\n",
      rows / again, again, trim(second).c_str());
  std::printf(
      "file to credits: --bulk + attribute, 8 models %6.2f s  (attribute "
      "%.2f s)\n",
      bulk + attribute, attribute);
  std::printf("file loads: waited %.1f s in all for a quiet RocksDB\n", waited);
  return true;
}

int Run() {
  const int64_t n = absl::GetFlag(FLAGS_events);
  const int64_t customers = absl::GetFlag(FLAGS_customers);
  const int batch = absl::GetFlag(FLAGS_batch);
  const int window = absl::GetFlag(FLAGS_window);
  const int64_t unary_n = absl::GetFlag(FLAGS_unary_events);
  testing::TempDir dir;
  std::printf(
      "ingest_bench: %ld events over %ld customers, batches of %d, "
      "window %d, %u cores\n",
      static_cast<long>(n), static_cast<long>(customers), batch, window,
      std::thread::hardware_concurrency());

  const Figures raw = Raw(dir.path() + "/raw", n, customers, batch);
  std::printf(
      "raw RocksDB (reference)  %10.0f events/s  batch p50 %6.2f ms  "
      "p99 %6.2f ms\n",
      raw.events_per_s, raw.p50_ms, raw.p99_ms);
  std::filesystem::remove_all(dir.path() + "/raw");

  const std::string log = dir.path() + "/server.log";
  auto server = testing::ServerProcess::Start(
      dir.path() + "/db", absl::GetFlag(FLAGS_server_flags), log);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    return 1;
  }
  const int admin_port = testing::AdminPortFromLog(log);
  if (admin_port == 0) {
    std::fprintf(stderr, "no admin port in %s\n", log.c_str());
    return 1;
  }
  auto client = (*server)->NewClient();
  const int streams = absl::GetFlag(FLAGS_streams);
  const Figures stream =
      Stream(*client, "bench", n, customers, batch, window, streams);
  std::printf(
      "IngestEvents stream x%d   %10.0f events/s  ack p50 %8.2f ms  "
      "p99 %6.2f ms\n",
      streams, stream.events_per_s, stream.p50_ms, stream.p99_ms);
  const Figures unary = Unary(*client, unary_n, customers, batch);
  std::printf(
      "RecordEvents unary       %10.0f events/s  call p50 %7.2f ms  "
      "p99 %6.2f ms  (%ld events)\n",
      unary.events_per_s, unary.p50_ms, unary.p99_ms,
      static_cast<long>(unary_n));
  std::printf(
      "stream / raw ratio       %10.2f\n",
      raw.events_per_s > 0 ? stream.events_per_s / raw.events_per_s : 0);
  const int64_t new_n = absl::GetFlag(FLAGS_new_events);
  const int64_t new_customers = absl::GetFlag(FLAGS_new_customers);
  if (new_n > 0) {
    std::printf("waited %.1f s for a quiet RocksDB\n",
                WaitUntilQuiet(admin_port));
    const Figures fresh =
        Stream(*client, "new", new_n, new_customers, batch, window, streams);
    std::printf(
        "stream, new customers    %10.0f events/s  ack p50 %8.2f ms  "
        "p99 %6.2f ms  (%ld events over %ld customers, workspace new)\n",
        fresh.events_per_s, fresh.p50_ms, fresh.p99_ms,
        static_cast<long>(new_n), static_cast<long>(new_customers));
  }
  if (new_n > 0 && absl::GetFlag(FLAGS_bulk)) {
    if (!FileLoads(**server, admin_port, dir.path(), new_n)) return 1;
  }
  bench::PrintMemory(*client, "bench", (*server)->RssBytes());
  return 0;
}

}  // namespace
}  // namespace attribution

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return attribution::Run();
}

#include "service/api/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cstring>
#include <exception>
#include <fstream>

#include "CivetServer.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "civetweb.h"
#include "prometheus/exposer.h"
#include "service/api/attribution_service_impl.h"
#include "service/core/version.h"
#include "storage/rocksdb_event_store.h"

namespace attribution::api {
namespace {

// The methods that are queries, by the kind the query histogram names.
absl::string_view QueryKind(absl::string_view method) {
  const absl::string_view name = method.substr(method.rfind('/') + 1);
  for (absl::string_view q :
       {"Attribute", "ExplainCustomer", "TopPaths", "ChannelReport", "CashFlow",
        "RetentionCohorts", "ListGoals"}) {
    if (name == q) return q;
  }
  return "";
}

// Latency buckets, seconds: 0.5 ms to 60 s.
const prometheus::Histogram::BucketBoundaries& Buckets() {
  static const auto* b = new prometheus::Histogram::BucketBoundaries{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
      0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
  return *b;
}

// /healthz and /readyz, answered before civetweb looks for a handler.
std::atomic<const std::atomic<bool>*> g_ready{nullptr};
std::function<bool()>* g_writable = nullptr;  // Set once, before serving.

int BeginRequest(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  if (info == nullptr || info->local_uri == nullptr) return 0;
  const absl::string_view uri = info->local_uri;
  if (uri != "/healthz" && uri != "/readyz") return 0;
  bool ok = true;
  const char* body = "ok\n";
  if (uri == "/readyz") {
    const std::atomic<bool>* ready = g_ready.load();
    if (ready == nullptr || !ready->load()) {
      ok = false;
      body = "not ready: loading or stopping\n";
    } else if (g_writable != nullptr && *g_writable && !(*g_writable)()) {
      ok = false;
      body = "not ready: the store cannot take writes (disk full?)\n";
    }
  }
  mg_printf(conn,
            "HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: "
            "%zu\r\nConnection: close\r\n\r\n%s",
            ok ? "200 OK" : "503 Service Unavailable", strlen(body), body);
  return ok ? 200 : 503;
}

}  // namespace

ServerMetrics::ServerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("attributiond_requests_total")
                    .Help("Finished calls, by method and gRPC status code.")
                    .Register(*registry_)),
      latency_(prometheus::BuildHistogram()
                   .Name("attributiond_request_duration_seconds")
                   .Help("Call latency, by method (a stream: its life).")
                   .Register(*registry_)),
      queries_(prometheus::BuildHistogram()
                   .Name("attributiond_query_duration_seconds")
                   .Help("Attribution and report query latency, by kind.")
                   .Register(*registry_)),
      events_(prometheus::BuildCounter()
                  .Name("attributiond_events_total")
                  .Help("Events of committed batches: stored, duplicate "
                        "(same content again) or conflict (same id, other "
                        "content; not stored).")
                  .Register(*registry_)),
      stored_(events_.Add({{"result", "stored"}})),
      duplicates_(events_.Add({{"result", "duplicate"}})),
      conflicts_(events_.Add({{"result", "conflict"}})),
      batches_rejected_(
          prometheus::BuildCounter()
              .Name("attributiond_batches_rejected_total")
              .Help("Batches rejected whole (a bad event, a limit, a full "
                    "disk); nothing of them was stored.")
              .Register(*registry_)
              .Add({})),
      backups_(prometheus::BuildCounter()
                   .Name("attributiond_backups_total")
                   .Help("Backups taken.")
                   .Register(*registry_)
                   .Add({})),
      backup_seconds_(prometheus::BuildGauge()
                          .Name("attributiond_backup_last_duration_seconds")
                          .Help("How long the last backup took.")
                          .Register(*registry_)
                          .Add({})) {}

void ServerMetrics::Request(absl::string_view method, int code,
                            absl::Duration duration) {
  const std::string m(method);
  requests_
      .Add({{"method", m},
            {"code",
             absl::StatusCodeToString(static_cast<absl::StatusCode>(code))}})
      .Increment();
  const double seconds = absl::ToDoubleSeconds(duration);
  latency_.Add({{"method", m}}, Buckets()).Observe(seconds);
  if (const absl::string_view kind = QueryKind(method); !kind.empty()) {
    queries_.Add({{"kind", std::string(kind)}}, Buckets()).Observe(seconds);
  }
}

void ServerMetrics::Events(int64_t stored, int64_t duplicates,
                           int64_t conflicts) {
  stored_.Increment(static_cast<double>(stored));
  duplicates_.Increment(static_cast<double>(duplicates));
  conflicts_.Increment(static_cast<double>(conflicts));
}

void ServerMetrics::BatchRejected() { batches_rejected_.Increment(); }

void ServerMetrics::Backup(absl::Duration took) {
  backups_.Increment();
  backup_seconds_.Set(absl::ToDoubleSeconds(took));
}

prometheus::MetricFamily GaugeFamily(
    std::string name, std::string help,
    const std::vector<
        std::pair<std::vector<std::pair<std::string, std::string>>, double>>&
        samples) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = prometheus::MetricType::Gauge;
  for (const auto& [labels, value] : samples) {
    prometheus::ClientMetric m;
    for (const auto& [k, v] : labels) m.label.push_back({k, v});
    m.gauge.value = value;
    f.metric.push_back(std::move(m));
  }
  return f;
}

std::vector<prometheus::MetricFamily> ServerFigures(
    absl::Time started, bool ready, const AttributionServiceImpl* service,
    RocksDbEventStore* store) {
  std::vector<prometheus::MetricFamily> out;
  out.push_back(GaugeFamily(
      "attributiond_build_info", "The build: version and build type.",
      {{{{"version", kVersion}, {"build_type", kBuildType}}, 1}}));
  out.push_back(GaugeFamily(
      "attributiond_uptime_seconds", "Seconds since the process started.",
      {{{}, absl::ToDoubleSeconds(absl::Now() - started)}}));
  out.push_back(GaugeFamily("attributiond_resident_memory_bytes",
                            "Resident set size of the process.",
                            {{{}, double(ProcessRssBytes())}}));
  out.push_back(GaugeFamily("attributiond_open_fds",
                            "Open file descriptors of the process.",
                            {{{}, double(ProcessOpenFds())}}));
  out.push_back(GaugeFamily("attributiond_ready",
                            "1 once the index is loaded and the server serves.",
                            {{{}, ready ? 1.0 : 0.0}}));
  if (service != nullptr) {
    out.push_back(GaugeFamily("attributiond_streams_open",
                              "IngestEvents streams holding a slot.",
                              {{{}, double(service->StreamsOpen())}}));
  }
  if (store == nullptr) return out;
  const RocksDbEventStore::StoreFigures figures =
      store->Figures(kMaxWorkspaceSeries);
  std::vector<
      std::pair<std::vector<std::pair<std::string, std::string>>, double>>
      customers, events;
  for (const auto& w : figures.workspaces) {
    customers.push_back({{{"workspace", w.name}}, double(w.customers)});
    events.push_back({{{"workspace", w.name}}, double(w.events)});
  }
  out.push_back(GaugeFamily(
      "attributiond_index_customers",
      absl::StrCat("Customers in the journey index, by workspace (the ",
                   kMaxWorkspaceSeries,
                   " with the most events; the rest as \"_other\")."),
      customers));
  out.push_back(GaugeFamily("attributiond_index_events",
                            "Events in the journey index, by workspace (as "
                            "attributiond_index_customers).",
                            events));
  for (const auto& f : figures.rocksdb) {
    out.push_back(GaugeFamily(absl::StrCat("attributiond_rocksdb_", f.name),
                              f.help, {{{}, double(f.value)}}));
  }
  return out;
}

int64_t ProcessRssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * sysconf(_SC_PAGESIZE);
}

int64_t ProcessOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  int64_t n = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // The one opendir holds.
}

absl::StatusOr<std::unique_ptr<AdminEndpoint>> AdminEndpoint::Start(
    const std::string& address,
    const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables,
    const std::atomic<bool>* ready, std::function<bool()> writable) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--admin_listen: \"", address, "\" is not HOST:PORT (empty: off)"));
  }
  g_ready = ready;
  g_writable = new std::function<bool()>(std::move(writable));
  static CivetCallbacks callbacks = [] {
    CivetCallbacks c;
    c.begin_request = &BeginRequest;
    return c;
  }();
  std::unique_ptr<AdminEndpoint> endpoint(new AdminEndpoint);
  try {
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", address, "num_threads",
                                 "2"},
        &callbacks);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "--admin_listen: cannot listen on ", address,
        " (the port is in use, or the address is not this machine's): ",
        e.what()));
  }
  endpoint->collectables_ = collectables;
  for (const auto& c : endpoint->collectables_) {
    endpoint->exposer_->RegisterCollectable(c);
  }
  const std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  endpoint->port_ = ports.empty() ? 0 : ports[0];
  return endpoint;
}

AdminEndpoint::~AdminEndpoint() = default;

}  // namespace attribution::api

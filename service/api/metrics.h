// The server's Prometheus metrics (prometheus-cpp) and its admin HTTP
// endpoint: /metrics, /healthz, /readyz. The endpoint needs no key, so it
// serves figures only, never events or credits: counts per method and
// status, latencies, ingest counts, streams, index sizes per workspace
// (capped), RocksDB and process figures.
#ifndef ATTRIBUTION_SERVICE_API_METRICS_H_
#define ATTRIBUTION_SERVICE_API_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}
namespace attribution {
class RocksDbEventStore;
}

namespace attribution::api {

class AttributionServiceImpl;

// At most this many workspaces get index series of their own; the others
// are summed under workspace="_other".
inline constexpr size_t kMaxWorkspaceSeries = 100;

// Counters and histograms the server updates as it works. Thread-safe.
class ServerMetrics {
 public:
  ServerMetrics();

  // One finished call (the request log's interceptor reports it).
  void Request(absl::string_view method, int code, absl::Duration duration);
  // One committed batch.
  void Events(int64_t stored, int64_t duplicates, int64_t conflicts);
  // One batch rejected whole (validation, a limit, a full disk).
  void BatchRejected();
  void Backup(absl::Duration took);

  const std::shared_ptr<prometheus::Registry>& registry() const {
    return registry_;
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Histogram>& queries_;
  prometheus::Family<prometheus::Counter>& events_;
  prometheus::Counter& stored_;
  prometheus::Counter& duplicates_;
  prometheus::Counter& conflicts_;
  prometheus::Counter& batches_rejected_;
  prometheus::Counter& backups_;
  prometheus::Gauge& backup_seconds_;
};

// Figures read when Prometheus scrapes (index sizes, RocksDB, process).
class ScrapedFigures final : public prometheus::Collectable {
 public:
  explicit ScrapedFigures(
      std::function<std::vector<prometheus::MetricFamily>()> collect)
      : collect_(std::move(collect)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    return collect_();
  }

 private:
  std::function<std::vector<prometheus::MetricFamily>()> collect_;
};

// What ScrapedFigures serves for the server: build, uptime since
// `started`, RSS, open fds, readiness, and (when not null) open streams,
// index sizes per workspace (capped at kMaxWorkspaceSeries) and RocksDB's
// figures.
std::vector<prometheus::MetricFamily> ServerFigures(
    absl::Time started, bool ready, const AttributionServiceImpl* service,
    RocksDbEventStore* store);

// A gauge family of one sample per label set.
prometheus::MetricFamily GaugeFamily(
    std::string name, std::string help,
    const std::vector<
        std::pair<std::vector<std::pair<std::string, std::string>>, double>>&
        samples);

// The process's resident set (bytes) and open file descriptors, from /proc.
int64_t ProcessRssBytes();
int64_t ProcessOpenFds();

// The admin endpoint on `address` ("127.0.0.1:9464"; port 0 picks one):
// /metrics serves `collectables`; /healthz answers 200 while the process
// runs; /readyz 200 while `ready` is true (the index is loaded and the gRPC
// server serves) and `writable()` (the store could take a write: not a
// full disk), 503 otherwise, with the reason. InvalidArgument or
// Unavailable (the port is taken) naming the address.
class AdminEndpoint {
 public:
  static absl::StatusOr<std::unique_ptr<AdminEndpoint>> Start(
      const std::string& address,
      const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables,
      const std::atomic<bool>* ready, std::function<bool()> writable);
  ~AdminEndpoint();
  int port() const { return port_; }

 private:
  AdminEndpoint() = default;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  int port_ = 0;
};

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_METRICS_H_

#ifndef ATTRIBUTION_SERVICE_API_QUERY_POOL_H_
#define ATTRIBUTION_SERVICE_API_QUERY_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace attribution::api {

// The threads queries run on, off gRPC's own threads. At most `workers`
// queries run at once; the others wait in arrival order. Its threads run at
// a lower scheduling priority (nice `nice_increment`), and so do the scan
// threads a query starts (Linux threads inherit it), so that ingest acks and
// journey reads keep their latency while the CPUs are busy with queries.
// Thread-safe. The destructor runs what is queued, then joins.
class QueryPool {
 public:
  QueryPool(int workers, int nice_increment);
  ~QueryPool();
  QueryPool(const QueryPool&) = delete;
  QueryPool& operator=(const QueryPool&) = delete;

  void Run(std::function<void()> job);

 private:
  void Work(int nice_increment);

  absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // Last: start once the rest exists.
};

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_QUERY_POOL_H_

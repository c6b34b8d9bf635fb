#ifndef ATTRIBUTION_SERVICE_API_WORK_QUEUE_H_
#define ATTRIBUTION_SERVICE_API_WORK_QUEUE_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace attribution::api {

// Threads that run pushed jobs, in push order, at most `threads` at once;
// with one thread, one after another. Used twice:
//   - the write queue (1 thread, normal priority): streams hand their
//     validated batches to it, so that the gRPC thread can parse the next
//     batch while this one is committed (the store serialises writes anyway);
//   - the query pool (--query_workers threads, nice +10): queries run there,
//     off gRPC's own threads, at a lower scheduling priority. The scan threads
//     a query starts inherit it (Linux threads do), so that ingest acks and
//     journey reads keep their latency while the CPUs are busy with queries.
// Thread-safe. The destructor runs what is queued, then joins.
class WorkQueue {
 public:
  WorkQueue(int threads, int nice_increment);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Push(std::function<void()> job);

 private:
  void Work(int nice_increment);

  absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // Last: start once the rest exists.
};

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_WORK_QUEUE_H_

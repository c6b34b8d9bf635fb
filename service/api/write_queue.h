#ifndef ATTRIBUTION_SERVICE_API_WRITE_QUEUE_H_
#define ATTRIBUTION_SERVICE_API_WRITE_QUEUE_H_

#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace attribution::api {

// One thread that runs jobs in the order they were pushed. Streams hand their
// validated batches to it, so that the gRPC thread can parse and validate the
// next batch while this one is committed (the store serialises writes
// anyway). Thread-safe. The destructor runs what is queued, then joins.
class WriteQueue {
 public:
  WriteQueue();
  ~WriteQueue();
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  void Push(std::function<void()> job);

 private:
  void Run();

  absl::Mutex mu_;
  std::deque<std::function<void()>> jobs_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // Last: starts once the members above exist.
};

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_WRITE_QUEUE_H_

#include "service/api/work_queue.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <utility>

namespace attribution::api {

WorkQueue::WorkQueue(int threads, int nice_increment) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, nice_increment] { Work(nice_increment); });
  }
}

WorkQueue::~WorkQueue() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& t : threads_) t.join();
}

void WorkQueue::Push(std::function<void()> job) {
  absl::MutexLock lock(&mu_);
  jobs_.push_back(std::move(job));
}

void WorkQueue::Work(int nice_increment) {
  if (nice_increment > 0) {
    // Per thread on Linux: PRIO_PROCESS with a thread id. Best effort: a
    // refusal leaves the thread at the normal priority.
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    const int now = getpriority(PRIO_PROCESS, tid);
    setpriority(PRIO_PROCESS, tid, now + nice_increment);
  }
  while (true) {
    std::function<void()> job;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](WorkQueue* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
            return p->stopping_ || !p->jobs_.empty();
          },
          this));
      if (jobs_.empty()) return;  // Stopping, and nothing left to run.
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace attribution::api

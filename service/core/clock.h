#ifndef ATTRIBUTION_SERVICE_CORE_CLOCK_H_
#define ATTRIBUTION_SERVICE_CORE_CLOCK_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace attribution {

// Source of the current time. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
};

// The wall clock. The only place in the project that calls absl::Now().
class RealClock final : public Clock {
 public:
  // Clock
  absl::Time Now() override;
};

// A clock that moves only when told to. Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start) : now_(start) {}

  // Clock
  absl::Time Now() override;

  void Advance(absl::Duration d);

 private:
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace attribution

#endif  // ATTRIBUTION_SERVICE_CORE_CLOCK_H_

#include "service/core/clock.h"

namespace attribution {

absl::Time RealClock::Now() { return absl::Now(); }

absl::Time SimulatedClock::Now() {
  absl::MutexLock lock(&mu_);
  return now_;
}

void SimulatedClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

}  // namespace attribution

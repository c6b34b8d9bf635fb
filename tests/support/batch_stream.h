// Streams numbered batches through IngestEvents with a bounded window, for
// the crash and fault runs. Header-only; for tests and benchmarks.
#ifndef ATTRIBUTION_TESTS_SUPPORT_BATCH_STREAM_H_
#define ATTRIBUTION_TESTS_SUPPORT_BATCH_STREAM_H_

#include <cstdint>
#include <functional>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "clients/cpp/attribution_client.h"

namespace attribution::testing {

struct StreamResult {
  std::set<int> acked;  // Sequences of the batches acknowledged as stored.
  int64_t stored = 0;
  int64_t duplicates = 0;
  int64_t rejected = 0;  // Batches whose ack carried an error.
};

// Sends make_batch(b) for b in [0, batches) (its sequence must be b), with at
// most `window` unacknowledged, and calls on_ack(acks so far) after each
// successful ack. Stops when the stream breaks (say, the server was killed).
inline StreamResult StreamBatches(
    client::AttributionClient& client, int batches, int window,
    const std::function<v1::IngestEventsRequest(int)>& make_batch,
    const std::function<void(int acks)>& on_ack) {
  StreamResult result;
  auto stream = client.StartIngest();
  absl::Mutex mu;
  struct Window {
    int in_flight = 0;
    int limit = 0;
    bool broken = false;
  } w;
  w.limit = window;
  std::thread reader([&] {
    v1::IngestEventsResponse ack;
    while (stream->Read(&ack)) {
      int acks;
      {
        absl::MutexLock lock(&mu);
        --w.in_flight;
        if (ack.has_error()) {
          ++result.rejected;
          continue;
        }
        result.acked.insert(static_cast<int>(ack.sequence()));
        result.stored += ack.stored();
        result.duplicates += ack.duplicates();
        acks = static_cast<int>(result.acked.size());
      }
      on_ack(acks);
    }
    absl::MutexLock lock(&mu);
    w.broken = true;
  });
  for (int b = 0; b < batches; ++b) {
    {
      absl::MutexLock lock(&mu);
      mu.Await(absl::Condition(
          +[](Window* x) { return x->in_flight < x->limit || x->broken; }, &w));
      if (w.broken) break;
      ++w.in_flight;
    }
    if (!stream->Send(make_batch(b))) break;
  }
  stream->CloseSend();
  reader.join();
  stream->Finish().IgnoreError();  // A killed server fails the stream.
  absl::MutexLock lock(&mu);
  return result;
}

}  // namespace attribution::testing

#endif  // ATTRIBUTION_TESTS_SUPPORT_BATCH_STREAM_H_

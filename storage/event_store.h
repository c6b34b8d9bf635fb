// The seam between the service and durable storage.
#ifndef ATTRIBUTION_STORAGE_EVENT_STORE_H_
#define ATTRIBUTION_STORAGE_EVENT_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "service/core/event.h"
#include "service/core/journey_index.h"
#include "service/core/spend.h"

namespace attribution {

// The payload that marks a storage error as "the disk is full": the write
// stored nothing and can be retried once space is freed. Such errors are
// Unavailable.
inline constexpr char kDiskFullPayload[] = "attribution.v1/disk-full";
inline bool IsDiskFull(const absl::Status& s) {
  return !s.ok() && s.GetPayload(kDiskFullPayload).has_value();
}

// The most conflicting event ids a WriteResult names.
inline constexpr size_t kMaxConflictIdsShown = 10;

struct WriteResult {
  int64_t stored = 0;
  // Same event_id and the same content as a stored event (or an earlier one
  // of the batch): a retry.
  int64_t duplicates = 0;
  // Same event_id as a stored (or earlier) event but different content
  // (customer, time or any field): not stored either, first write wins.
  int64_t conflicts = 0;
  // The first kMaxConflictIdsShown conflicting ids, in request order.
  std::vector<std::string> conflict_ids;
};

// A position in a journey: the last event a page returned.
struct JourneyCursor {
  int64_t at_us = 0;
  std::string event_id;
};

struct JourneyPage {
  // The customer whose journey this is: the one asked for, or the customer
  // it is linked to.
  std::string customer_id;
  // The identities linked into the journey, by id.
  std::vector<std::string> identities;
  // In (occurred_at, event_id) order; each with the customer_id it was
  // recorded under.
  std::vector<Event> events;
  bool has_more = false;  // More events follow the last one.
  std::optional<int64_t> first_purchase_at_us;
};

struct EraseResult {
  // Of the customer and the identities erased with it.
  int64_t touchpoints = 0;
  int64_t conversions = 0;
  // Identities linked to the customer (directly or through others) that were
  // erased with it.
  int64_t identities = 0;
};

// "The events recorded under identity_id belong to customer_id's journey."
struct IdentityLink {
  std::string identity_id;
  std::string customer_id;
};

struct LinkResult {
  // New links.
  int64_t linked = 0;
  // Links that were already so.
  int64_t unchanged = 0;
  // Identities that were linked to another customer and now are to this one.
  int64_t moved = 0;
};

struct WorkspaceSummary {
  IndexStats stats;
  // Identities linked to a customer.
  int64_t linked_identities = 0;
  std::vector<std::string> channels;
  // Heap bytes of the workspace's in-memory index (WorkspaceIndex::
  // MemoryBytes).
  int64_t index_bytes = 0;
};

// Events of a workspace read in key order (customer, then time, then id)
// from a snapshot taken when the reader was made: writes that commit later
// are not seen. Not thread-safe.
class EventReader {
 public:
  virtual ~EventReader() = default;
  // Appends up to `max` more events to `out`; false once none is left.
  virtual absl::StatusOr<bool> Next(size_t max, std::vector<Event>* out) = 0;
};

// A batch encoded for storage by EventStore::Prepare, not yet stored. Opaque.
class PreparedBatch {
 public:
  virtual ~PreparedBatch() = default;
};

// Durable event storage with its in-memory journey index. Implementations are
// thread-safe.
class EventStore {
 public:
  virtual ~EventStore() = default;

  // Does the part of a write that needs no lock (encoding), so that a caller
  // can do it on another thread than the commit. Events must already be
  // valid.
  virtual std::unique_ptr<PreparedBatch> Prepare(absl::string_view workspace,
                                                 std::vector<Event> events) = 0;
  // Prepare for a large batch of history: Commit then stores the batch's new
  // events as one sorted table file added to the database in one step
  // (RocksDB's IngestExternalFile), not through the write-ahead log. The
  // result, the duplicate and conflict rules and the atomicity are
  // Commit's; the table file is synced before it is added, whatever the
  // durability setting.
  virtual std::unique_ptr<PreparedBatch> PrepareBulk(
      absl::string_view workspace, std::vector<Event> events) = 0;

  // Atomically stores every event of the batch whose event_id the workspace
  // does not hold yet (first write wins; a repeat within the batch counts as
  // a duplicate too, or as a conflict when its content differs). Returns once
  // durable under the store's durability setting. On error nothing was stored:
  // ResourceExhausted if the workspace would exceed its channel limit,
  // Unavailable or Internal for storage failures. `batch` must come from this
  // store's Prepare.
  virtual absl::StatusOr<WriteResult> Commit(PreparedBatch& batch) = 0;

  // Prepare and Commit in one call.
  absl::StatusOr<WriteResult> Write(absl::string_view workspace,
                                    std::vector<Event> events) {
    return Commit(*Prepare(workspace, std::move(events)));
  }

  // Up to `limit` events of the customer after `after` (from the start when
  // null). NotFound if the customer has no events.
  virtual absl::StatusOr<JourneyPage> ReadJourney(absl::string_view workspace,
                                                  absl::string_view customer_id,
                                                  const JourneyCursor* after,
                                                  size_t limit) = 0;

  // Removes every event of the customer, and of every identity linked to it
  // (directly or through others), from storage and the index, with those
  // links and the customer's own link.
  virtual absl::StatusOr<EraseResult> EraseCustomer(
      absl::string_view workspace, absl::string_view customer_id) = 0;

  // Identity stitching. Applies the links in order, atomically: on error
  // nothing is stored. A link replaces the identity's earlier link (the
  // latest wins). InvalidArgument naming links[i] if a link would make a
  // cycle. Links are durable and chain: the events of identity a, linked to
  // b, linked to c, belong to c's journey.
  virtual absl::StatusOr<LinkResult> LinkIdentities(
      absl::string_view workspace, absl::Span<const IdentityLink> links) = 0;
  // Removes the identity's link; returns the customer it was linked to, or
  // "" if it had none. Identities linked to it stay linked to it.
  virtual absl::StatusOr<std::string> UnlinkIdentity(
      absl::string_view workspace, absl::string_view identity_id) = 0;

  virtual WorkspaceSummary Describe(absl::string_view workspace) = 0;

  // Every workspace holding events, spend, settings, goals or experiments,
  // by name.
  virtual absl::StatusOr<std::vector<std::string>> ListWorkspaces() = 0;

  // The workspace's events (of one customer's stitched journey when
  // `customer_id` is not empty) with start_us <= occurred_at_us < end_us,
  // from a snapshot, each with customer_id set to the customer whose journey
  // it belongs to (for an event of a linked identity, that customer).
  virtual std::unique_ptr<EventReader> ReadEvents(absl::string_view workspace,
                                                  absl::string_view customer_id,
                                                  int64_t start_us,
                                                  int64_t end_us) = 0;

  // Runs `fn` on a snapshot of the workspace's journey index (null if the
  // workspace holds no events): every event whose commit returned before the
  // call, none committed after. No lock is held while `fn` runs, so writes
  // and journey reads go on meanwhile.
  virtual void ReadIndex(absl::string_view workspace,
                         absl::FunctionRef<void(const IndexSnapshot*)> fn) = 0;

  // Stores spend rows in one atomic write, each replacing the row with the
  // same (day, channel, campaign). Returns how many rows differed from what
  // was stored (new ones included). Rows must already be valid.
  virtual absl::StatusOr<int64_t> WriteSpend(
      absl::string_view workspace, const std::vector<SpendRow>& rows) = 0;

  // The workspace's spend rows with from_day <= day < to_day, by day, then
  // channel, then campaign.
  virtual absl::StatusOr<std::vector<SpendRow>> ReadSpend(
      absl::string_view workspace, int32_t from_day, int32_t to_day) = 0;

  // Small named values of a workspace (settings, goals), opaque to the
  // store. An empty `value` in PutMeta deletes the name.
  virtual absl::Status PutMeta(absl::string_view workspace,
                               absl::string_view name,
                               absl::string_view value) = 0;
  // Several PutMeta in one atomic write, in order.
  virtual absl::Status PutMetaBatch(
      absl::string_view workspace,
      absl::Span<const std::pair<std::string, std::string>> entries) = 0;
  // Every (name, value) whose name starts with `name_prefix`, by name.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
  ReadMeta(absl::string_view workspace, absl::string_view name_prefix) = 0;

  // Writes a consistent, openable copy of the whole store to `dir` (which
  // must not exist: AlreadyExists otherwise, and nothing is touched) while
  // writes go on; returns the sequence number it holds everything up to.
  // Events committed before the call are in it. The copy is built in a
  // private folder beside `dir` whose name no backup name can take
  // ("~staging-..."), then renamed into place.
  virtual absl::StatusOr<uint64_t> Backup(const std::string& dir) = 0;

  // Flushes memtables to disk. For shutdown.
  virtual absl::Status Flush() = 0;
};

}  // namespace attribution

#endif  // ATTRIBUTION_STORAGE_EVENT_STORE_H_

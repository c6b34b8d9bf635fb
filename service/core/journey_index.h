// The compact in-memory journey index of DESIGN.md: per workspace, every
// customer's events as 16-byte records in time order, with channels and
// campaigns interned as small integers. Attribution scans this; RocksDB is the
// durable truth it is rebuilt from at start.
//
// Queries read an IndexSnapshot: an immutable view of the workspace as it was
// when the snapshot was taken, which needs no lock while it is read. Writers
// go on meanwhile; what a snapshot shares with the live index is copied on
// the writer's side before it is changed (per chunk of customers and per
// customer), so a snapshot costs a few pointer copies to take and nothing to
// keep while no write touches what it sees.
#ifndef ATTRIBUTION_SERVICE_CORE_JOURNEY_INDEX_H_
#define ATTRIBUTION_SERVICE_CORE_JOURNEY_INDEX_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "service/core/event.h"

namespace attribution {

// One event of a journey. 16 bytes.
struct IndexedEvent {
  // Microseconds since the epoch.
  int64_t at_us;
  // Touchpoint: campaign id. Conversion: slot in the revenue table.
  uint32_t ref;
  // Touchpoint: channel id. Conversion: 0.
  uint16_t channel;
  // 0 for a touchpoint, else the ConversionKind.
  uint8_t kind;
  // Touchpoint: interaction | stage << 4 | sentiment << 6. Conversion: 0.
  uint8_t attrs;

  bool is_touchpoint() const { return kind == 0; }
  ConversionKind conversion_kind() const {
    return static_cast<ConversionKind>(kind);
  }
  Interaction interaction() const {
    return static_cast<Interaction>(attrs & 0x0f);
  }
  Stage stage() const { return static_cast<Stage>((attrs >> 4) & 0x03); }
  Sentiment sentiment() const {
    return static_cast<Sentiment>((attrs >> 6) & 0x03);
  }
};
static_assert(sizeof(IndexedEvent) == 16);

// The time of the first purchase among `events` (in time order), if any.
std::optional<int64_t> FirstPurchaseIn(absl::Span<const IndexedEvent> events);

// Hash of an event id used to recognise duplicates without a disk read.
uint64_t EventIdHash(absl::string_view event_id);
// Hash of a customer id in the index's customer map.
size_t CustomerKeyHash(absl::string_view customer_id);

// An event's hashes as the index uses them: computed ahead (where a write
// prepares its batch, before the write lock), so that the commit only
// probes.
struct EventHashes {
  uint64_t event_id = 0;   // EventIdHash(event_id).
  size_t customer_id = 0;  // The customer map's hash of customer_id.
  static EventHashes Of(const Event& event);
};

namespace index_internal {

// One customer's events: a reference-counted, heap-allocated array. A list
// whose count is 1 belongs to the live index alone and may change in place;
// otherwise a snapshot shares it and the writer copies it first. 8 bytes.
class EventList {
 public:
  EventList() = default;
  EventList(const EventList& other);
  EventList& operator=(const EventList& other);
  EventList(EventList&& other) noexcept : rep_(other.rep_) {
    other.rep_ = nullptr;
  }
  EventList& operator=(EventList&& other) noexcept;
  ~EventList() { Release(); }

  absl::Span<const IndexedEvent> events() const;
  size_t size() const { return rep_ == nullptr ? 0 : rep_->size; }
  // True if no snapshot shares the list.
  bool exclusive() const {
    return rep_ == nullptr || rep_->refs.load(std::memory_order_acquire) == 1;
  }
  // Inserts `e` at `pos`; the list must be exclusive.
  void Insert(size_t pos, const IndexedEvent& e);
  // A new exclusive list with the same events and room for one more.
  EventList Copy() const;
  // Heap bytes held (for memory figures).
  size_t heap_bytes() const;

 private:
  struct Rep {
    std::atomic<uint32_t> refs;
    uint32_t size;
    uint32_t capacity;
    uint32_t unused;
    IndexedEvent* data() { return reinterpret_cast<IndexedEvent*>(this + 1); }
  };
  static_assert(sizeof(Rep) == 16);
  static Rep* Allocate(uint32_t capacity);
  void Release();

  Rep* rep_ = nullptr;
};

// Append-only array whose elements never move: a snapshot reads the first
// `size` elements, fixed at the time it was taken, while the writer appends.
template <typename T>
class AppendOnly {
 public:
  static constexpr size_t kBlockBits = 12;
  static constexpr size_t kBlock = size_t{1} << kBlockBits;
  using Directory = std::vector<T*>;

  size_t size() const { return size_; }
  const T& operator[](size_t i) const {
    return (*dir_)[i >> kBlockBits][i & (kBlock - 1)];
  }
  // Appends; the caller publishes the new size to readers under its lock.
  void push_back(T value) {
    if ((size_ & (kBlock - 1)) == 0 && (size_ >> kBlockBits) == dir_->size()) {
      owned_.push_back(std::make_unique<T[]>(kBlock));
      auto grown = std::make_shared<Directory>(*dir_);
      grown->push_back(owned_.back().get());
      dir_ = std::move(grown);
    }
    (*dir_)[size_ >> kBlockBits][size_ & (kBlock - 1)] = std::move(value);
    ++size_;
  }
  std::shared_ptr<const Directory> directory() const { return dir_; }

 private:
  std::vector<std::unique_ptr<T[]>> owned_;
  std::shared_ptr<Directory> dir_ = std::make_shared<Directory>();
  size_t size_ = 0;
};

// A view of the first `size` elements of an AppendOnly, as a snapshot saw it.
template <typename T>
class AppendOnlyView {
 public:
  AppendOnlyView() = default;
  AppendOnlyView(const AppendOnly<T>& array)
      : dir_(array.directory()), size_(array.size()) {}
  size_t size() const { return size_; }
  const T& operator[](size_t i) const {
    return (
        *dir_)[i >> AppendOnly<T>::kBlockBits][i & (AppendOnly<T>::kBlock - 1)];
  }

 private:
  std::shared_ptr<const typename AppendOnly<T>::Directory> dir_;
  size_t size_ = 0;
};

// Event id hash -> the customers holding an event with it, in 8 bytes per
// slot: open addressing with linear probing over (the hash's upper 32
// bits, customer) pairs, grown at 80% load. Only the upper 32 bits are
// kept, so two ids whose hashes share them look alike: Find may name a
// customer that holds neither, which callers confirm against storage (at
// 10M events, about 1 lookup in 430 of a new id meets such a neighbour).
class IdHashTable {
 public:
  // Records that `customer` holds an event whose id has `hash`; once per
  // pair.
  void Add(uint64_t hash, uint32_t customer);
  // Forgets the pair, if recorded.
  void Remove(uint64_t hash, uint32_t customer);
  // The customers recorded with `hash`'s upper 32 bits.
  std::vector<uint32_t> Find(uint64_t hash) const;
  void Prefetch(uint64_t hash) const;
  size_t size() const { return size_; }
  size_t heap_bytes() const { return slots_.capacity() * sizeof(uint64_t); }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint32_t Tag(uint64_t hash) {
    return static_cast<uint32_t>(hash >> 32);
  }
  size_t Home(uint32_t tag) const {
    return static_cast<uint32_t>(tag * 0x9E3779B9u) >> (32 - bits_);
  }
  static uint64_t Entry(uint64_t hash, uint32_t customer) {
    return uint64_t{Tag(hash)} << 32 | customer;
  }
  // The slot holding `entry`, or the empty slot that ends its run.
  size_t Probe(uint64_t entry) const;
  void Grow();

  std::vector<uint64_t> slots_;  // tag << 32 | customer, or kEmpty.
  size_t size_ = 0;
  int bits_ = 0;
};

// A fixed run of customer slots, shared between the live index and the
// snapshots taken since it last changed.
inline constexpr size_t kChunkBits = 10;
inline constexpr size_t kChunkSize = size_t{1} << kChunkBits;
struct CustomerChunk {
  EventList lists[kChunkSize];
};

}  // namespace index_internal

class WorkspaceIndex;

// One customer's stitched journey (see LinkIdentities): the customer, the
// identities linked to it directly or through others, and every event
// recorded under any of them, ordered by (occurred_at_us, event_id).
struct IdentityGroup {
  std::string root;
  std::vector<std::string> members;
  std::vector<Event> events;
};

// A customer whose events leave the index, with the hashes of their ids.
struct ErasedCustomer {
  std::string customer_id;
  std::vector<uint64_t> event_id_hashes;
};

// Index statistics of one workspace.
struct IndexStats {
  int64_t customers = 0;
  int64_t touchpoints = 0;
  int64_t conversions = 0;
};

// An immutable view of one workspace's index at one instant: every event
// committed before it was taken, none committed after. Cheap to copy; reads
// need no lock and are safe from any number of threads. It must not outlive
// the WorkspaceIndex it came from.
class IndexSnapshot {
 public:
  using Stats = IndexStats;
  struct Customer {
    absl::string_view id;
    absl::Span<const IndexedEvent> events;  // Ordered by (at_us, event_id).
  };

  // Customer slots, erased ones included (their event lists are empty).
  size_t customer_count() const { return customer_ids_.size(); }
  Customer customer(uint32_t index) const {
    if (flat_ != nullptr) {
      return {customer_ids_[index],
              absl::MakeConstSpan(flat_->events)
                  .subspan(flat_->offsets[index],
                           flat_->offsets[index + 1] - flat_->offsets[index])};
    }
    return {customer_ids_[index],
            chunks_[index >> index_internal::kChunkBits]
                ->lists[index & (index_internal::kChunkSize - 1)]
                .events()};
  }

  // The same snapshot with every touchpoint's channel replaced by its
  // group, `group_of(channel name)`: channels() are then the group names,
  // in first-seen order. For grouping by channel group; copies every event
  // once. Touchpoints of channels that `allowed` (indexed by channel id;
  // empty: all) excludes go to a group named "(excluded)", and
  // `view_allowed` is set to the view's filter, which excludes that group
  // alone (empty when `allowed` is), so that events keep their positions.
  IndexSnapshot WithChannelsGrouped(
      absl::FunctionRef<std::string(absl::string_view)> group_of,
      const std::vector<bool>& allowed, std::vector<bool>* view_allowed) const;
  // The customer's stitched journey: for an identity linked to a customer,
  // that customer's (whose id is then the one returned). Null if the
  // customer had no slot when the snapshot was taken.
  std::optional<Customer> FindCustomer(absl::string_view customer_id) const;
  // The first purchase of the customer, if any.
  std::optional<int64_t> FirstPurchaseAt(absl::string_view customer_id) const;

  // Id of a channel slug, or -1 if the workspace had not seen it.
  int ChannelId(absl::string_view name) const;
  // Id of a campaign name, or -1 if the workspace had not seen it.
  int64_t CampaignId(absl::string_view name) const;
  const std::string& channel_name(uint16_t id) const { return channels_[id]; }
  const std::vector<std::string>& channels() const { return channels_; }
  const std::string& campaign_name(uint32_t id) const { return campaigns_[id]; }
  int64_t revenue_micros(const IndexedEvent& e) const {
    return e.is_touchpoint() ? 0 : revenues_[e.ref];
  }
  // The currencies purchases were stored with, in first-seen order.
  const std::vector<std::string>& currencies() const { return currencies_; }
  Stats stats() const { return stats_; }

 private:
  friend class WorkspaceIndex;
  using Links = absl::flat_hash_map<uint32_t, uint32_t>;
  const WorkspaceIndex* owner_ = nullptr;
  // Linked identity's slot -> the slot of the customer whose list holds its
  // events.
  std::shared_ptr<const Links> links_;
  // Set in a WithChannelsGrouped view: every customer's events, end to end.
  struct Flat {
    std::vector<IndexedEvent> events;
    std::vector<size_t> offsets;  // customer_count() + 1.
  };
  std::shared_ptr<const Flat> flat_;
  std::vector<std::shared_ptr<const index_internal::CustomerChunk>> chunks_;
  index_internal::AppendOnlyView<std::string> customer_ids_;
  index_internal::AppendOnlyView<std::string> campaigns_;
  index_internal::AppendOnlyView<int64_t> revenues_;
  std::vector<std::string> channels_;
  std::vector<std::string> currencies_;
  Stats stats_;
};

// ResourceExhausted if storing `events` would take a workspace that holds
// `index`'s channels (none when null: a new workspace) past
// kMaxChannelsPerWorkspace distinct channels. Checked on every batch,
// whatever its size.
absl::Status CheckChannelCapacity(const WorkspaceIndex* index,
                                  absl::Span<const Event* const> events);

// The live index of one workspace. One writer at a time (the owner
// serialises Insert and EraseCustomer, and calls the write-side lookups only
// from that writer); Snapshot, FindCustomerSummary, stats and channels may be
// called from any thread at any time.
class WorkspaceIndex {
 public:
  using Stats = IndexStats;

  WorkspaceIndex();
  ~WorkspaceIndex();
  WorkspaceIndex(const WorkspaceIndex&) = delete;
  WorkspaceIndex& operator=(const WorkspaceIndex&) = delete;

  // --- Reads, from any thread.

  // Everything committed so far, frozen. A few microseconds: it copies one
  // pointer per kChunkSize customers and the channel names.
  IndexSnapshot Snapshot() const;
  Stats stats() const;
  std::vector<std::string> channels() const;
  // The first purchase of the customer (nullopt in `first_purchase` if
  // none); false if the customer has no events.
  bool FindCustomerSummary(absl::string_view customer_id,
                           std::optional<int64_t>* first_purchase) const;
  // Heap bytes the live index holds: the event lists and chunks, the
  // customer and campaign tables, the revenue table, the customer map and
  // the event id hashes, each at its allocated capacity (not what snapshots
  // still hold of replaced lists). Walks every customer's list, outside the
  // lock, from a snapshot.
  size_t MemoryBytes() const;

  // --- The writer's side.

  // Indexes of the customers that may hold an event with this id hash (the
  // hash can collide, so the caller confirms against storage). Empty if no
  // stored event has the hash.
  std::vector<uint32_t> CustomersWithIdHash(uint64_t hash) const;
  // The id of a customer slot.
  const std::string& customer_id(uint32_t index) const
      ABSL_NO_THREAD_SAFETY_ANALYSIS {  // Only the writer appends.
    return customer_ids_[index];
  }
  bool HasChannel(absl::string_view name) const ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return channel_ids_.contains(name);
  }
  size_t channel_count() const { return channel_ids_.size(); }

  // Brings the index entries an event will touch (its id hash's slot, its
  // customer's) into cache, so that a batch can issue its misses ahead of
  // use (about kPrefetchAhead events ahead). No effect on the contents.
  void Prefetch(const EventHashes& hashes) const;
  // Its id hash's slot only (a duplicate check).
  void PrefetchIdHash(uint64_t event_id_hash) const;
  static constexpr size_t kPrefetchAhead = 8;

  // Adds committed events, in order, atomically for snapshots: a snapshot
  // sees all of them or none. hashes[i] are events[i]'s. Only when a
  // customer already has events at the same at_us is `ties_before(i)`
  // called for events[i]: it must return how many of them have an event_id
  // that sorts before this one's (the index keeps no ids).
  void InsertBatch(absl::Span<const Event* const> events,
                   absl::Span<const EventHashes* const> hashes,
                   absl::FunctionRef<size_t(size_t)> ties_before);
  // One event; for tests and the rebuild at start.
  void Insert(const Event& event, absl::FunctionRef<size_t()> ties_before);

  // Removes every event of the customer; `event_id_hashes` are the hashes of
  // their ids. No-op for an unknown customer.
  void EraseCustomer(absl::string_view customer_id,
                     absl::Span<const uint64_t> event_id_hashes);

  // Identity stitching, one step for snapshots: first removes the `erased`
  // customers (their events, id hashes and links), then, for each group,
  // empties the lists of its root and members, points the members at the
  // root and gives the root the group's events (which must be sorted).
  // Every group whose membership changed must be passed whole, an identity
  // that left a group as the root of its own (possibly memberless) group.
  // Events recorded later under a member go to its root's list.
  void Regroup(absl::Span<const IdentityGroup> groups,
               absl::Span<const ErasedCustomer> erased);
  // Identities whose events another customer's list holds.
  size_t linked_count() const;

 private:
  friend class IndexSnapshot;
  // The customer's slot, or nullopt. Takes mu_.
  std::optional<uint32_t> LookupCustomer(absl::string_view customer_id) const;
  void InsertLocked(const Event& event, const EventHashes& hashes,
                    absl::FunctionRef<size_t()> ties_before)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The customer's list, made exclusive to the live index (copying its
  // chunk and the list itself if a snapshot shares them).
  index_internal::EventList& MutableList(uint32_t customer)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint16_t InternChannel(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint32_t InternCampaign(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint32_t CustomerIndex(const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return CustomerIndex(id, CustomerKeyHash(id));
  }
  uint32_t CustomerIndex(const std::string& id, size_t hash)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The slot whose list holds the events recorded under slot `ci`.
  uint32_t JourneyOf(uint32_t ci) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // An IndexedEvent for `event`, interning what it names and counting it.
  IndexedEvent Record(const Event& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Empties slot `ci`'s list, uncounting its events.
  void ClearList(uint32_t ci) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddIdHash(uint64_t hash, uint32_t ci);
  void RemoveIdHash(uint64_t hash, uint32_t ci);

  // Guards what snapshots and readers copy or look up: the chunk table, the
  // sizes of the append-only arrays, channels, currencies, stats and the
  // customer map. The writer-only tables (id hashes, campaign map) need no
  // lock: only the single writer touches them.
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<index_internal::CustomerChunk>> chunks_
      ABSL_GUARDED_BY(mu_);
  index_internal::AppendOnly<std::string> customer_ids_ ABSL_GUARDED_BY(mu_);
  index_internal::AppendOnly<std::string> campaigns_ ABSL_GUARDED_BY(mu_);
  index_internal::AppendOnly<int64_t> revenues_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> channels_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> currencies_ ABSL_GUARDED_BY(mu_);
  // A lookup key whose hash is computed already (EventHashes).
  struct HashedId {
    absl::string_view id;
    size_t hash;
  };
  // Customer id -> slot, holding only the slot (4 bytes): its hash and
  // equality read the id from customer_ids_, whose strings never move.
  struct CustomerIdHash {
    using is_transparent = void;
    const index_internal::AppendOnly<std::string>* ids;
    size_t operator()(absl::string_view id) const {
      return CustomerKeyHash(id);
    }
    size_t operator()(const HashedId& id) const { return id.hash; }
    size_t operator()(uint32_t slot) const { return (*this)((*ids)[slot]); }
  };
  struct CustomerIdEq {
    using is_transparent = void;
    const index_internal::AppendOnly<std::string>* ids;
    absl::string_view Id(uint32_t slot) const { return (*ids)[slot]; }
    absl::string_view Id(absl::string_view id) const { return id; }
    absl::string_view Id(const HashedId& id) const { return id.id; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Id(a) == Id(b);
    }
  };
  absl::flat_hash_set<uint32_t, CustomerIdHash, CustomerIdEq> customer_map_
      ABSL_GUARDED_BY(mu_){0, CustomerIdHash{&customer_ids_},
                           CustomerIdEq{&customer_ids_}};
  Stats stats_ ABSL_GUARDED_BY(mu_);
  // Replaced, never changed, so that snapshots share it. Never null.
  std::shared_ptr<const IndexSnapshot::Links> links_ ABSL_GUARDED_BY(mu_);

  // Writer only.
  absl::flat_hash_map<std::string, uint16_t> channel_ids_;
  absl::flat_hash_map<std::string, uint32_t> campaign_ids_;
  // Event id hash -> the customers holding it.
  index_internal::IdHashTable id_hashes_;
};

// Every workspace's index. Thread-safe; a workspace, once created, lives as
// long as the JourneyIndex.
class JourneyIndex {
 public:
  // Null if the workspace holds no events.
  const WorkspaceIndex* Find(absl::string_view workspace) const;
  WorkspaceIndex* FindMutable(absl::string_view workspace);
  WorkspaceIndex& GetOrCreate(absl::string_view workspace);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<WorkspaceIndex>> workspaces_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace attribution

#endif  // ATTRIBUTION_SERVICE_CORE_JOURNEY_INDEX_H_

#include "service/core/journey_index.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "service/core/limits.h"

namespace attribution {

std::optional<int64_t> FirstPurchaseIn(absl::Span<const IndexedEvent> events) {
  for (const IndexedEvent& e : events) {
    if (!e.is_touchpoint() &&
        e.conversion_kind() == ConversionKind::kPurchase) {
      return e.at_us;
    }
  }
  return std::nullopt;
}

uint64_t EventIdHash(absl::string_view event_id) {
  return absl::Hash<absl::string_view>{}(event_id);
}

size_t CustomerKeyHash(absl::string_view customer_id) {
  return absl::Hash<absl::string_view>{}(customer_id);
}

EventHashes EventHashes::Of(const Event& event) {
  return {EventIdHash(event.event_id), CustomerKeyHash(event.customer_id)};
}

namespace index_internal {

size_t IdHashTable::Probe(uint64_t entry) const {
  const size_t mask = slots_.size() - 1;
  size_t i = Home(static_cast<uint32_t>(entry >> 32));
  while (slots_[i] != kEmpty && slots_[i] != entry) i = (i + 1) & mask;
  return i;
}

void IdHashTable::Add(uint64_t hash, uint32_t customer) {
  if ((size_ + 1) * 5 > slots_.size() * 4) Grow();
  const uint64_t entry = Entry(hash, customer);
  const size_t i = Probe(entry);
  if (slots_[i] == entry) return;
  slots_[i] = entry;
  ++size_;
}

void IdHashTable::Remove(uint64_t hash, uint32_t customer) {
  if (size_ == 0) return;
  size_t i = Probe(Entry(hash, customer));
  if (slots_[i] == kEmpty) return;
  // Backward-shift deletion: move up each later entry of the run that may
  // sit at the hole (its home is not cyclically within (hole, its slot]).
  const size_t mask = slots_.size() - 1;
  for (size_t j = (i + 1) & mask; slots_[j] != kEmpty; j = (j + 1) & mask) {
    const size_t home = Home(static_cast<uint32_t>(slots_[j] >> 32));
    if (((j - home) & mask) >= ((j - i) & mask)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = kEmpty;
  --size_;
}

std::vector<uint32_t> IdHashTable::Find(uint64_t hash) const {
  std::vector<uint32_t> out;
  if (size_ == 0) return out;
  const uint32_t tag = Tag(hash);
  const size_t mask = slots_.size() - 1;
  for (size_t i = Home(tag); slots_[i] != kEmpty; i = (i + 1) & mask) {
    if (static_cast<uint32_t>(slots_[i] >> 32) == tag) {
      out.push_back(static_cast<uint32_t>(slots_[i]));
    }
  }
  return out;
}

void IdHashTable::Prefetch(uint64_t hash) const {
  if (!slots_.empty()) __builtin_prefetch(&slots_[Home(Tag(hash))]);
}

void IdHashTable::Grow() {
  std::vector<uint64_t> old = std::move(slots_);
  bits_ = bits_ == 0 ? 4 : bits_ + 1;
  slots_.assign(size_t{1} << bits_, kEmpty);
  for (uint64_t entry : old) {
    if (entry != kEmpty) slots_[Probe(entry)] = entry;  // Entries are unique.
  }
}

EventList::Rep* EventList::Allocate(uint32_t capacity) {
  Rep* rep = static_cast<Rep*>(
      ::operator new(sizeof(Rep) + sizeof(IndexedEvent) * capacity));
  new (&rep->refs) std::atomic<uint32_t>(1);
  rep->size = 0;
  rep->capacity = capacity;
  rep->unused = 0;
  return rep;
}

void EventList::Release() {
  if (rep_ != nullptr &&
      rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    ::operator delete(rep_);
  }
  rep_ = nullptr;
}

EventList::EventList(const EventList& other) : rep_(other.rep_) {
  if (rep_ != nullptr) rep_->refs.fetch_add(1, std::memory_order_relaxed);
}

EventList& EventList::operator=(const EventList& other) {
  if (this != &other) {
    if (other.rep_ != nullptr) {
      other.rep_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    Release();
    rep_ = other.rep_;
  }
  return *this;
}

EventList& EventList::operator=(EventList&& other) noexcept {
  if (this != &other) {
    Release();
    rep_ = other.rep_;
    other.rep_ = nullptr;
  }
  return *this;
}

absl::Span<const IndexedEvent> EventList::events() const {
  if (rep_ == nullptr) return {};
  return absl::Span<const IndexedEvent>(rep_->data(), rep_->size);
}

size_t EventList::heap_bytes() const {
  return rep_ == nullptr ? 0
                         : sizeof(Rep) + sizeof(IndexedEvent) * rep_->capacity;
}

EventList EventList::Copy() const {
  EventList out;
  const uint32_t n = rep_ == nullptr ? 0 : rep_->size;
  out.rep_ = Allocate(n + 1);
  if (n > 0)
    std::memcpy(out.rep_->data(), rep_->data(), n * sizeof(IndexedEvent));
  out.rep_->size = n;
  return out;
}

void EventList::Insert(size_t pos, const IndexedEvent& e) {
  assert(exclusive());
  if (rep_ == nullptr) rep_ = Allocate(1);
  if (rep_->size == rep_->capacity) {
    // Most journeys are short: grow by half, at least by two events.
    const uint32_t cap =
        rep_->capacity + std::max<uint32_t>(2, rep_->capacity / 2);
    Rep* grown = Allocate(cap);
    std::memcpy(grown->data(), rep_->data(), rep_->size * sizeof(IndexedEvent));
    grown->size = rep_->size;
    ::operator delete(rep_);
    rep_ = grown;
  }
  IndexedEvent* d = rep_->data();
  std::memmove(d + pos + 1, d + pos, (rep_->size - pos) * sizeof(IndexedEvent));
  d[pos] = e;
  ++rep_->size;
}

}  // namespace index_internal

using index_internal::CustomerChunk;
using index_internal::EventList;
using index_internal::kChunkBits;
using index_internal::kChunkSize;

// --- IndexSnapshot

std::optional<IndexSnapshot::Customer> IndexSnapshot::FindCustomer(
    absl::string_view customer_id) const {
  if (owner_ == nullptr) return std::nullopt;
  std::optional<uint32_t> slot = owner_->LookupCustomer(customer_id);
  // Slots are never reused, so a slot made after the snapshot is simply
  // outside it.
  if (!slot.has_value() || *slot >= customer_count()) return std::nullopt;
  if (links_ != nullptr && !links_->empty()) {
    if (auto it = links_->find(*slot); it != links_->end()) {
      return customer(it->second);
    }
  }
  return customer(*slot);
}

std::optional<int64_t> IndexSnapshot::FirstPurchaseAt(
    absl::string_view customer_id) const {
  std::optional<Customer> c = FindCustomer(customer_id);
  if (!c.has_value()) return std::nullopt;
  return FirstPurchaseIn(c->events);
}

IndexSnapshot IndexSnapshot::WithChannelsGrouped(
    absl::FunctionRef<std::string(absl::string_view)> group_of,
    const std::vector<bool>& allowed, std::vector<bool>* view_allowed) const {
  IndexSnapshot view = *this;
  view.channels_.clear();
  std::vector<uint16_t> group_id(channels_.size());
  for (size_t c = 0; c < channels_.size(); ++c) {
    const std::string group = !allowed.empty() && !allowed[c]
                                  ? std::string("(excluded)")
                                  : group_of(channels_[c]);
    auto it = std::find(view.channels_.begin(), view.channels_.end(), group);
    group_id[c] = static_cast<uint16_t>(it - view.channels_.begin());
    if (it == view.channels_.end()) view.channels_.push_back(group);
  }
  auto flat = std::make_shared<Flat>();
  flat->offsets.reserve(customer_count() + 1);
  flat->events.reserve(
      static_cast<size_t>(stats_.touchpoints + stats_.conversions));
  flat->offsets.push_back(0);
  for (uint32_t i = 0; i < customer_count(); ++i) {
    for (IndexedEvent e : customer(i).events) {
      if (e.is_touchpoint()) e.channel = group_id[e.channel];
      flat->events.push_back(e);
    }
    flat->offsets.push_back(flat->events.size());
  }
  view.flat_ = std::move(flat);
  view_allowed->clear();
  if (!allowed.empty()) {
    view_allowed->assign(view.channels_.size(), true);
    for (size_t g = 0; g < view.channels_.size(); ++g) {
      if (view.channels_[g] == "(excluded)") (*view_allowed)[g] = false;
    }
  }
  return view;
}

int IndexSnapshot::ChannelId(absl::string_view name) const {
  for (size_t i = 0; i < channels_.size(); ++i) {
    if (channels_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

int64_t IndexSnapshot::CampaignId(absl::string_view name) const {
  for (size_t i = 0; i < campaigns_.size(); ++i) {
    if (campaigns_[i] == name) return static_cast<int64_t>(i);
  }
  return -1;
}

// --- WorkspaceIndex

absl::Status CheckChannelCapacity(const WorkspaceIndex* index,
                                  absl::Span<const Event* const> events) {
  const size_t known = index == nullptr ? 0 : index->channel_count();
  if (known + events.size() <= kMaxChannelsPerWorkspace) {
    return absl::OkStatus();  // Cannot exceed it, however many are new.
  }
  absl::flat_hash_set<absl::string_view> fresh;
  for (const Event* e : events) {
    if (e->type == EventType::kTouchpoint &&
        (index == nullptr || !index->HasChannel(e->channel))) {
      fresh.insert(e->channel);
    }
  }
  if (known + fresh.size() > kMaxChannelsPerWorkspace) {
    return absl::ResourceExhaustedError(
        absl::StrCat("workspace would exceed ", kMaxChannelsPerWorkspace,
                     " distinct channels (it holds ", known,
                     ", the batch adds ", fresh.size(), ")"));
  }
  return absl::OkStatus();
}

WorkspaceIndex::WorkspaceIndex()
    : links_(std::make_shared<const IndexSnapshot::Links>()) {}
WorkspaceIndex::~WorkspaceIndex() = default;

IndexSnapshot WorkspaceIndex::Snapshot() const {
  IndexSnapshot s;
  s.owner_ = this;
  absl::MutexLock lock(&mu_);
  s.chunks_.assign(chunks_.begin(), chunks_.end());
  s.customer_ids_ = customer_ids_;
  s.campaigns_ = campaigns_;
  s.revenues_ = revenues_;
  s.channels_ = channels_;
  s.currencies_ = currencies_;
  s.stats_ = stats_;
  s.links_ = links_;
  return s;
}

WorkspaceIndex::Stats WorkspaceIndex::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

std::vector<std::string> WorkspaceIndex::channels() const {
  absl::MutexLock lock(&mu_);
  return channels_;
}

std::optional<uint32_t> WorkspaceIndex::LookupCustomer(
    absl::string_view customer_id) const {
  absl::MutexLock lock(&mu_);
  auto it = customer_map_.find(customer_id);
  if (it == customer_map_.end()) return std::nullopt;
  return *it;
}

bool WorkspaceIndex::FindCustomerSummary(
    absl::string_view customer_id,
    std::optional<int64_t>* first_purchase) const {
  absl::MutexLock lock(&mu_);
  auto it = customer_map_.find(customer_id);
  if (it == customer_map_.end()) return false;
  const uint32_t ci = JourneyOf(*it);
  absl::Span<const IndexedEvent> events =
      chunks_[ci >> kChunkBits]->lists[ci & (kChunkSize - 1)].events();
  if (events.empty()) return false;
  *first_purchase = FirstPurchaseIn(events);
  return true;
}

std::vector<uint32_t> WorkspaceIndex::CustomersWithIdHash(uint64_t hash) const {
  return id_hashes_.Find(hash);
}

void WorkspaceIndex::Prefetch(const EventHashes& hashes) const
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  // The writer is the only thread that changes customer_map_.
  id_hashes_.Prefetch(hashes.event_id);
  customer_map_.prefetch(HashedId{{}, hashes.customer_id});
}

void WorkspaceIndex::PrefetchIdHash(uint64_t event_id_hash) const {
  id_hashes_.Prefetch(event_id_hash);
}

uint16_t WorkspaceIndex::InternChannel(const std::string& name) {
  auto [it, inserted] =
      channel_ids_.try_emplace(name, static_cast<uint16_t>(channels_.size()));
  if (inserted) channels_.push_back(name);
  return it->second;
}

uint32_t WorkspaceIndex::InternCampaign(const std::string& name) {
  auto [it, inserted] =
      campaign_ids_.try_emplace(name, static_cast<uint32_t>(campaigns_.size()));
  if (inserted) campaigns_.push_back(name);
  return it->second;
}

uint32_t WorkspaceIndex::CustomerIndex(const std::string& id, size_t hash) {
  auto it = customer_map_.find(HashedId{id, hash});
  if (it != customer_map_.end()) return *it;
  const auto ci = static_cast<uint32_t>(customer_ids_.size());
  customer_ids_.push_back(id);
  customer_map_.insert(ci);
  if ((ci >> kChunkBits) == chunks_.size()) {
    chunks_.push_back(std::make_shared<CustomerChunk>());
  }
  return ci;
}

EventList& WorkspaceIndex::MutableList(uint32_t customer) {
  std::shared_ptr<CustomerChunk>& chunk = chunks_[customer >> kChunkBits];
  // Only this writer makes new references (snapshots copy under mu_, which
  // it holds), so a count of 1 cannot grow behind its back.
  if (chunk.use_count() > 1) {
    chunk = std::make_shared<CustomerChunk>(*chunk);
  } else {
    // Pairs with the release of the last snapshot that held the chunk.
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  EventList& list = chunk->lists[customer & (kChunkSize - 1)];
  if (!list.exclusive()) list = list.Copy();
  return list;
}

uint32_t WorkspaceIndex::JourneyOf(uint32_t ci) const {
  if (links_->empty()) return ci;
  auto it = links_->find(ci);
  return it == links_->end() ? ci : it->second;
}

IndexedEvent WorkspaceIndex::Record(const Event& event) {
  IndexedEvent rec{};
  rec.at_us = event.occurred_at_us;
  if (event.type == EventType::kTouchpoint) {
    rec.channel = InternChannel(event.channel);
    rec.ref = InternCampaign(event.campaign);
    rec.attrs =
        static_cast<uint8_t>(static_cast<uint8_t>(event.interaction) |
                             (static_cast<uint8_t>(event.stage) << 4) |
                             (static_cast<uint8_t>(event.sentiment) << 6));
    ++stats_.touchpoints;
  } else {
    rec.kind = static_cast<uint8_t>(event.kind);
    rec.ref = static_cast<uint32_t>(revenues_.size());
    revenues_.push_back(event.revenue_micros);
    ++stats_.conversions;
    if (!event.currency.empty() &&
        std::find(currencies_.begin(), currencies_.end(), event.currency) ==
            currencies_.end()) {
      currencies_.push_back(event.currency);
    }
  }
  return rec;
}

void WorkspaceIndex::AddIdHash(uint64_t hash, uint32_t ci) {
  id_hashes_.Add(hash, ci);
}

void WorkspaceIndex::RemoveIdHash(uint64_t hash, uint32_t ci) {
  id_hashes_.Remove(hash, ci);
}

void WorkspaceIndex::InsertLocked(const Event& event, const EventHashes& hashes,
                                  absl::FunctionRef<size_t()> ties_before) {
  const IndexedEvent rec = Record(event);
  // The id hash names the slot the event is stored under; the list is that
  // of the customer it is linked to, if any.
  const uint32_t ci = CustomerIndex(event.customer_id, hashes.customer_id);
  EventList& list = MutableList(JourneyOf(ci));
  absl::Span<const IndexedEvent> events = list.events();
  if (events.empty()) ++stats_.customers;
  size_t pos = events.size();
  if (!events.empty() && events.back().at_us >= rec.at_us) {
    auto first = std::lower_bound(
        events.begin(), events.end(), rec.at_us,
        [](const IndexedEvent& e, int64_t t) { return e.at_us < t; });
    auto last = std::upper_bound(
        first, events.end(), rec.at_us,
        [](int64_t t, const IndexedEvent& e) { return t < e.at_us; });
    const size_t ties = last - first;
    // Clamped: a caller that cannot tell puts the event after its ties.
    const size_t before = ties == 0 ? 0 : std::min(ties_before(), ties);
    pos = static_cast<size_t>(first - events.begin()) + before;
  }
  list.Insert(pos, rec);
  AddIdHash(hashes.event_id, ci);
}

void WorkspaceIndex::InsertBatch(
    absl::Span<const Event* const> events,
    absl::Span<const EventHashes* const> hashes,
    absl::FunctionRef<size_t(size_t)> ties_before) {
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < events.size(); ++i) {
    // Each event's entries are random accesses into large tables: start
    // the cache misses of the events a few places ahead.
    if (i + kPrefetchAhead < events.size()) {
      Prefetch(*hashes[i + kPrefetchAhead]);
    }
    InsertLocked(*events[i], *hashes[i], [&] { return ties_before(i); });
  }
}

void WorkspaceIndex::Insert(const Event& event,
                            absl::FunctionRef<size_t()> ties_before) {
  absl::MutexLock lock(&mu_);
  InsertLocked(event, EventHashes::Of(event), ties_before);
}

void WorkspaceIndex::ClearList(uint32_t ci) {
  EventList& list = MutableList(ci);
  for (const IndexedEvent& e : list.events()) {
    if (e.is_touchpoint()) {
      --stats_.touchpoints;
    } else {
      --stats_.conversions;
    }
  }
  if (list.size() > 0) --stats_.customers;
  list = EventList();
}

void WorkspaceIndex::EraseCustomer(absl::string_view customer_id,
                                   absl::Span<const uint64_t> event_id_hashes) {
  ErasedCustomer erased{
      std::string(customer_id),
      std::vector<uint64_t>(event_id_hashes.begin(), event_id_hashes.end())};
  Regroup({}, absl::MakeConstSpan(&erased, 1));
}

void WorkspaceIndex::Regroup(absl::Span<const IdentityGroup> groups,
                             absl::Span<const ErasedCustomer> erased) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<IndexSnapshot::Links> links;
  auto mutable_links = [&]() -> IndexSnapshot::Links& {
    if (links == nullptr) {
      links = std::make_shared<IndexSnapshot::Links>(*links_);
    }
    return *links;
  };
  auto current = [&]() -> const IndexSnapshot::Links& {
    return links != nullptr ? *links : *links_;
  };
  for (const ErasedCustomer& e : erased) {
    auto found = customer_map_.find(e.customer_id);
    if (found == customer_map_.end()) continue;
    const uint32_t ci = *found;
    ClearList(ci);
    for (uint64_t hash : e.event_id_hashes) RemoveIdHash(hash, ci);
    if (current().contains(ci)) mutable_links().erase(ci);
  }
  for (const IdentityGroup& g : groups) {
    const uint32_t root = CustomerIndex(g.root);
    ClearList(root);
    if (current().contains(root)) mutable_links().erase(root);
    for (const std::string& m : g.members) {
      const uint32_t mi = CustomerIndex(m);
      ClearList(mi);
      mutable_links()[mi] = root;
    }
    if (g.events.empty()) continue;
    EventList& list = MutableList(root);
    for (const Event& e : g.events) {
      list.Insert(list.size(), Record(e));
      AddIdHash(EventIdHash(e.event_id), CustomerIndex(e.customer_id));
    }
    ++stats_.customers;
  }
  if (links != nullptr) links_ = std::move(links);
}

namespace {

// Bytes of an AppendOnly's blocks and of its elements' own heap.
template <typename T>
size_t AppendOnlyBytes(const index_internal::AppendOnlyView<T>& view) {
  using A = index_internal::AppendOnly<T>;
  const size_t blocks = (view.size() + A::kBlock - 1) >> A::kBlockBits;
  size_t bytes = blocks * A::kBlock * sizeof(T);
  if constexpr (std::is_same_v<T, std::string>) {
    const size_t inline_capacity = std::string().capacity();
    for (size_t i = 0; i < view.size(); ++i) {
      if (view[i].capacity() > inline_capacity) {
        bytes += view[i].capacity() + 1;
      }
    }
  }
  return bytes;
}

// Bytes of a flat hash table: a slot and a control byte per capacity.
template <typename Map>
size_t TableBytes(const Map& map) {
  return map.capacity() * (sizeof(typename Map::value_type) + 1);
}

}  // namespace

size_t WorkspaceIndex::MemoryBytes() const {
  const IndexSnapshot snap = Snapshot();
  size_t bytes = sizeof(*this);
  {
    // Every writer holds mu_ while it changes a table, the writer-only
    // ones included, so their capacities are stable here.
    absl::MutexLock lock(&mu_);
    bytes += chunks_.capacity() * sizeof(chunks_[0]);
    bytes += TableBytes(customer_map_) + TableBytes(*links_);
    bytes += id_hashes_.heap_bytes();
    bytes += TableBytes(channel_ids_) + TableBytes(campaign_ids_);
  }
  bytes += snap.chunks_.size() * sizeof(index_internal::CustomerChunk);
  for (const auto& chunk : snap.chunks_) {
    for (const EventList& list : chunk->lists) bytes += list.heap_bytes();
  }
  bytes += AppendOnlyBytes(snap.customer_ids_) +
           AppendOnlyBytes(snap.campaigns_) + AppendOnlyBytes(snap.revenues_);
  return bytes;
}

size_t WorkspaceIndex::linked_count() const {
  absl::MutexLock lock(&mu_);
  return links_->size();
}

// --- JourneyIndex

const WorkspaceIndex* JourneyIndex::Find(absl::string_view workspace) const {
  absl::MutexLock lock(&mu_);
  auto it = workspaces_.find(workspace);
  return it == workspaces_.end() ? nullptr : it->second.get();
}

WorkspaceIndex* JourneyIndex::FindMutable(absl::string_view workspace) {
  absl::MutexLock lock(&mu_);
  auto it = workspaces_.find(workspace);
  return it == workspaces_.end() ? nullptr : it->second.get();
}

WorkspaceIndex& JourneyIndex::GetOrCreate(absl::string_view workspace) {
  absl::MutexLock lock(&mu_);
  auto& slot = workspaces_[workspace];
  if (slot == nullptr) slot = std::make_unique<WorkspaceIndex>();
  return *slot;
}

}  // namespace attribution

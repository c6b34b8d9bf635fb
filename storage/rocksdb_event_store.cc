#include "storage/rocksdb_event_store.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>
#include <tuple>
#include <utility>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"
#include "service/core/status_macros.h"
#include "storage/key_codec.h"

namespace attribution {
namespace {

// The smallest string greater than every string with prefix `p`. Every
// prefix the store makes ends in the escape terminator 0x00 0x01 (or a time
// byte), so incrementing the last byte that is not 0xff is enough.
std::string PrefixSuccessor(std::string p) {
  while (!p.empty() && static_cast<unsigned char>(p.back()) == 0xff) {
    p.pop_back();
  }
  if (!p.empty()) p.back() = static_cast<char>(p.back() + 1);
  return p;
}

absl::string_view View(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

// Fills `e` from a stored event's key and value.
absl::Status DecodeStored(const rocksdb::Slice& key,
                          const rocksdb::Slice& value,
                          storage::DecodedKey* scratch, Event* e) {
  RETURN_IF_ERROR(storage::DecodeEventKey(View(key), scratch));
  RETURN_IF_ERROR(storage::DecodeEventValue(View(value), e));
  e->customer_id = std::move(scratch->customer_id);
  e->occurred_at_us = scratch->at_us;
  e->event_id = std::move(scratch->event_id);
  return absl::OkStatus();
}

// A journey's order: time, then event_id.
bool JourneyOrder(const Event& a, const Event& b) {
  return std::tie(a.occurred_at_us, a.event_id) <
         std::tie(b.occurred_at_us, b.event_id);
}

// The events of several customers merged in (time, event_id) order: one
// iterator per customer's key prefix, the smallest suffix first.
class MergedIterator {
 public:
  // Starts at the first key whose suffix (after its prefix) is >= `from`.
  MergedIterator(rocksdb::DB* db, const rocksdb::ReadOptions& options,
                 const std::vector<std::string>& prefixes,
                 absl::string_view from) {
    for (const std::string& p : prefixes) {
      auto src = std::make_unique<Source>();
      src->prefix = p;
      src->upper = PrefixSuccessor(p);
      src->upper_slice = rocksdb::Slice(src->upper);
      rocksdb::ReadOptions ro = options;
      ro.iterate_upper_bound = &src->upper_slice;
      src->it.reset(db->NewIterator(ro));
      src->it->Seek(absl::StrCat(p, from));
      sources_.push_back(std::move(src));
    }
    Pick();
  }
  bool Valid() const { return current_ != nullptr; }
  rocksdb::Slice key() const { return current_->it->key(); }
  rocksdb::Slice value() const { return current_->it->value(); }
  absl::string_view suffix() const {
    return View(key()).substr(current_->prefix.size());
  }
  void Next() {
    current_->it->Next();
    Pick();
  }
  absl::Status status() const {
    for (const auto& src : sources_) {
      RETURN_IF_ERROR(FromRocksDb(src->it->status()));
    }
    return absl::OkStatus();
  }

 private:
  struct Source {
    std::string prefix;
    std::string upper;
    rocksdb::Slice upper_slice;
    std::unique_ptr<rocksdb::Iterator> it;
  };
  void Pick() {
    current_ = nullptr;
    absl::string_view best;
    for (const auto& src : sources_) {
      if (!src->it->Valid()) continue;
      absl::string_view suffix =
          View(src->it->key()).substr(src->prefix.size());
      if (current_ == nullptr || suffix < best) {
        current_ = src.get();
        best = suffix;
      }
    }
  }
  std::vector<std::unique_ptr<Source>> sources_;
  Source* current_ = nullptr;
};

std::vector<std::string> CustomerPrefixes(absl::string_view workspace,
                                          const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    out.push_back(storage::CustomerPrefix(workspace, id));
  }
  return out;
}

}  // namespace

absl::Status FromRocksDb(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat("rocksdb: ", s.ToString());
  if (s.IsNoSpace()) {
    // Not RESOURCE_EXHAUSTED, which callers read as "this batch is over a
    // limit": a full disk is the server's condition, and goes away.
    absl::Status full = absl::UnavailableError(absl::StrCat(
        "the server's disk is full; nothing was stored, retry once space is "
        "freed (",
        msg, ")"));
    full.SetPayload(kDiskFullPayload, absl::Cord("1"));
    return full;
  }
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return absl::UnavailableError(msg);
  }
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  return absl::InternalError(msg);
}

rocksdb::Options MakeRocksDbOptions(const StorageOptions& options) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.IncreaseParallelism(2);
  o.max_background_jobs = 2;
  o.write_buffer_size = 64 << 20;
  o.max_write_buffer_number = 4;
  o.compression = rocksdb::kLZ4Compression;
  o.bottommost_compression = rocksdb::kZSTD;
  rocksdb::BlockBasedTableOptions table;
  // Whole-key bloom filters make the point lookup that confirms a suspected
  // duplicate cheap.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // No fallocate: RocksDB would otherwise preallocate each write-ahead log
  // file to about the write buffer size (70 MB here), so that after a full
  // disk writes resumed only once that much was free. Without it they
  // resume as soon as the next batch fits; the cost is a little more file
  // fragmentation.
  o.allow_fallocate = false;
  if (options.env != nullptr) o.env = options.env;
  return o;
}

rocksdb::WriteOptions MakeWriteOptions(const StorageOptions& options) {
  rocksdb::WriteOptions w;
  w.sync = options.durability == Durability::kMachineCrash;
  return w;
}

RocksDbEventStore::RocksDbEventStore(const StorageOptions& options,
                                     std::unique_ptr<rocksdb::DB> db)
    : write_options_(MakeWriteOptions(options)),
      path_(options.env == nullptr ? options.path : std::string()),
      db_(std::move(db)) {}

RocksDbEventStore::~RocksDbEventStore() {
  // Closing flushes nothing by itself; the WAL makes that safe.
  db_->Close().PermitUncheckedError();
}

absl::StatusOr<std::unique_ptr<RocksDbEventStore>> RocksDbEventStore::Open(
    const StorageOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("storage path is empty");
  }
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocksDb(
      rocksdb::DB::Open(MakeRocksDbOptions(options), options.path, &raw)));
  std::unique_ptr<RocksDbEventStore> store(
      new RocksDbEventStore(options, std::unique_ptr<rocksdb::DB>(raw)));
  RETURN_IF_ERROR(store->RemoveUnaddedTableFiles());
  RETURN_IF_ERROR(store->LoadLinks());
  RETURN_IF_ERROR(store->RebuildIndex());
  return store;
}

absl::Status RocksDbEventStore::LoadLinks() {
  absl::MutexLock lock(&links_mu_);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  std::string workspace, identity, customer;
  for (it->Seek(std::string(1, storage::kLinkKeyTag));
       it->Valid() &&
       it->key().starts_with(rocksdb::Slice(&storage::kLinkKeyTag, 1));
       it->Next()) {
    RETURN_IF_ERROR(storage::DecodeLink(View(it->key()), View(it->value()),
                                        &workspace, &identity, &customer));
    links_[workspace].Set(identity, customer);
  }
  return FromRocksDb(it->status());
}

absl::Status RocksDbEventStore::RebuildIndex() {
  absl::MutexLock lock(&write_mu_);
  absl::MutexLock links_lock(&links_mu_);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  storage::DecodedKey key;
  Event event;
  std::string last_ws;
  WorkspaceIndex* ws = nullptr;
  const LinkTable* links = nullptr;
  // The events of stitched journeys, by workspace and root: indexed whole at
  // the end, in (time, event_id) order across their identities.
  absl::flat_hash_map<std::string,
                      absl::flat_hash_map<std::string, std::vector<Event>>>
      stitched;
  for (it->Seek(std::string(1, storage::kEventKeyTag));
       it->Valid() &&
       it->key().starts_with(rocksdb::Slice(&storage::kEventKeyTag, 1));
       it->Next()) {
    event = Event{};
    RETURN_IF_ERROR(DecodeStored(it->key(), it->value(), &key, &event));
    if (ws == nullptr || key.workspace != last_ws) {
      ws = &index_.GetOrCreate(key.workspace);
      last_ws = key.workspace;
      auto found = links_.find(key.workspace);
      links = found == links_.end() ? nullptr : &found->second;
    }
    if (links != nullptr && links->InAGroup(event.customer_id)) {
      stitched[key.workspace][links->RootOf(event.customer_id)].push_back(
          std::move(event));
      continue;
    }
    // Keys come in (customer, time, id) order, so every indexed event of the
    // customer at this instant sorts before this one.
    ws->Insert(event, [] { return SIZE_MAX; });
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  for (const auto& [workspace, table] : links_) {
    if (table.empty()) continue;
    std::vector<IdentityGroup> groups;
    auto& events = stitched[workspace];
    for (const std::string& root : table.Roots()) {
      IdentityGroup& g = groups.emplace_back();
      g.root = root;
      g.members = table.MembersOf(root);
      if (auto e = events.find(root); e != events.end()) {
        g.events = std::move(e->second);
        std::sort(g.events.begin(), g.events.end(), JourneyOrder);
      }
    }
    index_.GetOrCreate(workspace).Regroup(groups, {});
  }
  return absl::OkStatus();
}

LinkTable RocksDbEventStore::LinksOf(absl::string_view workspace) {
  absl::MutexLock lock(&links_mu_);
  auto found = links_.find(workspace);
  return found == links_.end() ? LinkTable() : found->second;
}

void RocksDbEventStore::SetLinks(absl::string_view workspace, LinkTable links) {
  absl::MutexLock lock(&links_mu_);
  if (links.empty()) {
    links_.erase(workspace);
  } else {
    links_[std::string(workspace)] = std::move(links);
  }
}

std::vector<std::string> RocksDbEventStore::JourneyIds(
    absl::string_view workspace, absl::string_view id) {
  absl::MutexLock lock(&links_mu_);
  auto found = links_.find(workspace);
  if (found == links_.end() || !found->second.InAGroup(id)) {
    return {std::string(id)};
  }
  std::vector<std::string> ids{found->second.RootOf(id)};
  for (std::string& m : found->second.MembersOf(ids[0])) {
    ids.push_back(std::move(m));
  }
  return ids;
}

absl::StatusOr<IdentityGroup> RocksDbEventStore::ReadGroup(
    absl::string_view workspace, const LinkTable& links,
    const std::string& root) {
  IdentityGroup g;
  g.root = root;
  g.members = links.MembersOf(root);
  std::vector<std::string> ids = g.members;
  ids.push_back(root);
  storage::DecodedKey key;
  MergedIterator it(db_.get(), rocksdb::ReadOptions(),
                    CustomerPrefixes(workspace, ids), "");
  for (; it.Valid(); it.Next()) {
    RETURN_IF_ERROR(
        DecodeStored(it.key(), it.value(), &key, &g.events.emplace_back()));
  }
  RETURN_IF_ERROR(it.status());
  return g;
}

absl::StatusOr<std::vector<RocksDbEventStore::Stored>>
RocksDbEventStore::AreStored(absl::string_view workspace,
                             const WorkspaceIndex* index,
                             absl::Span<const Event* const> events,
                             absl::Span<const uint64_t> id_hashes) {
  std::vector<Stored> out(events.size(), Stored::kNo);
  if (index == nullptr) return out;
  // The events whose id hash the index holds (for a new id, rarely: see
  // IdHashTable), with the customers that hold it.
  std::vector<std::pair<uint32_t, std::vector<uint32_t>>> suspects;
  for (size_t i = 0; i < events.size(); ++i) {
    // Each lookup is a cache miss in a large table: start them ahead.
    if (i + WorkspaceIndex::kPrefetchAhead < events.size()) {
      index->PrefetchIdHash(id_hashes[i + WorkspaceIndex::kPrefetchAhead]);
    }
    std::vector<uint32_t> candidates = index->CustomersWithIdHash(id_hashes[i]);
    if (!candidates.empty()) {
      suspects.emplace_back(static_cast<uint32_t>(i), std::move(candidates));
    }
  }
  if (suspects.empty()) return out;
  // The usual suspect is a retry of the very same event: its key is
  // stored. One MultiGet, in key order, looks them all up.
  std::vector<std::string> keys(suspects.size());
  for (size_t k = 0; k < suspects.size(); ++k) {
    const Event& e = *events[suspects[k].first];
    storage::EncodeEventKey(workspace, e.customer_id, e.occurred_at_us,
                            e.event_id, &keys[k]);
  }
  std::vector<uint32_t> order(suspects.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
  std::vector<rocksdb::Slice> slices;
  slices.reserve(order.size());
  for (uint32_t k : order) slices.emplace_back(keys[k]);
  std::vector<rocksdb::PinnableSlice> values(order.size());
  std::vector<rocksdb::Status> statuses(order.size());
  db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(),
                slices.size(), slices.data(), values.data(), statuses.data(),
                /*sorted_input=*/true);
  std::string encoded;
  storage::DecodedKey key;
  for (size_t j = 0; j < order.size(); ++j) {
    const auto& [i, candidates] = suspects[order[j]];
    const Event& event = *events[i];
    if (statuses[j].ok()) {
      // Same customer, time and id: the rest of the content is the value.
      storage::EncodeEventValue(event, &encoded);
      out[i] = View(values[j]) == encoded ? Stored::kSame : Stored::kDifferent;
      continue;
    }
    if (!statuses[j].IsNotFound()) return FromRocksDb(statuses[j]);
    // Same id under another customer or time (a conflict: first write
    // wins), or a hash collision: look through the candidates' events.
    for (uint32_t ci : candidates) {
      const std::string prefix =
          storage::CustomerPrefix(workspace, index->customer_id(ci));
      std::unique_ptr<rocksdb::Iterator> it(
          db_->NewIterator(rocksdb::ReadOptions()));
      for (it->Seek(prefix); out[i] == Stored::kNo && it->Valid() &&
                             it->key().starts_with(prefix);
           it->Next()) {
        RETURN_IF_ERROR(storage::DecodeEventKey(View(it->key()), &key));
        if (key.event_id == event.event_id) out[i] = Stored::kDifferent;
      }
      RETURN_IF_ERROR(FromRocksDb(it->status()));
      if (out[i] != Stored::kNo) break;
    }
  }
  return out;
}

absl::StatusOr<size_t> RocksDbEventStore::CountTiesBefore(
    absl::string_view workspace, const Event& event) {
  size_t n = 0;
  for (const std::string& id : JourneyIds(workspace, event.customer_id)) {
    std::string prefix = storage::CustomerPrefix(workspace, id);
    storage::AppendTime(&prefix, event.occurred_at_us);
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      if (View(it->key()).substr(prefix.size()) >= event.event_id) break;
      ++n;
    }
    RETURN_IF_ERROR(FromRocksDb(it->status()));
  }
  return n;
}

namespace {

// What Prepare makes: the events, their encoded WriteBatch, and the order in
// which the index takes them.
class RocksDbPreparedBatch final : public PreparedBatch {
 public:
  std::string workspace;
  std::vector<Event> events;
  // Every event, in request order (the order duplicates are judged in).
  // Empty for a bulk batch, which holds `keys` and `values` instead.
  rocksdb::WriteBatch batch;
  bool bulk = false;
  // For a bulk batch: each event's encoded key and value.
  std::vector<std::string> keys;
  std::vector<std::string> values;
  size_t bytes = 0;
  // For a bulk batch, when not empty: a table file of every event, written
  // by Prepare outside the write lock, which Commit adds as it is when
  // every event turns out new (a first load). Removed unless added.
  std::string table_file;
  rocksdb::Env* env = nullptr;  // The store's, for a bulk batch.

  ~RocksDbPreparedBatch() override {
    if (!table_file.empty()) env->DeleteFile(table_file).PermitUncheckedError();
  }
  // Indexes into `events` by (customer, time, event_id): key order, so that
  // each event's earlier ties are indexed before it.
  std::vector<uint32_t> key_order;
  // Each event's hashes, and the first event of the batch with its id (its
  // own index if none before it): found before the write lock, so that the
  // commit only looks up.
  std::vector<EventHashes> hashes;
  std::vector<uint32_t> first_of;
};

// Fills the batch's hashes and first_of. Ids are matched by their 64-bit
// hash, then compared; two ids of one hash (a collision) go through a map
// of the ids themselves.
void HashAndFindRepeats(RocksDbPreparedBatch* prepared) {
  const std::vector<Event>& ev = prepared->events;
  prepared->hashes.resize(ev.size());
  prepared->first_of.resize(ev.size());
  absl::flat_hash_map<uint64_t, uint32_t> first;
  absl::flat_hash_map<absl::string_view, uint32_t> collided;
  first.reserve(ev.size());
  for (uint32_t i = 0; i < ev.size(); ++i) {
    prepared->hashes[i] = EventHashes::Of(ev[i]);
    const uint32_t f =
        first.try_emplace(prepared->hashes[i].event_id, i).first->second;
    prepared->first_of[i] =
        ev[f].event_id == ev[i].event_id
            ? f
            : collided.try_emplace(ev[i].event_id, i).first->second;
  }
}

void PutEvent(absl::string_view workspace, const Event& e, std::string* key,
              std::string* value, rocksdb::WriteBatch* batch) {
  storage::EncodeEventKey(workspace, e.customer_id, e.occurred_at_us,
                          e.event_id, key);
  storage::EncodeEventValue(e, value);
  batch->Put(*key, *value);
}

// Sorts the batch's key order.
void SortKeyOrder(RocksDbPreparedBatch* prepared) {
  const std::vector<Event>& ev = prepared->events;
  prepared->key_order.resize(ev.size());
  for (uint32_t i = 0; i < ev.size(); ++i) prepared->key_order[i] = i;
  std::sort(prepared->key_order.begin(), prepared->key_order.end(),
            [&ev](uint32_t a, uint32_t b) {
              return std::tie(ev[a].customer_id, ev[a].occurred_at_us,
                              ev[a].event_id) < std::tie(ev[b].customer_id,
                                                         ev[b].occurred_at_us,
                                                         ev[b].event_id);
            });
}

}  // namespace

std::unique_ptr<PreparedBatch> RocksDbEventStore::Prepare(
    absl::string_view workspace, std::vector<Event> events) {
  auto prepared = std::make_unique<RocksDbPreparedBatch>();
  prepared->workspace = std::string(workspace);
  prepared->events = std::move(events);
  std::string key;
  std::string value;
  for (const Event& e : prepared->events) {
    PutEvent(workspace, e, &key, &value, &prepared->batch);
  }
  SortKeyOrder(prepared.get());
  HashAndFindRepeats(prepared.get());
  return prepared;
}

std::unique_ptr<PreparedBatch> RocksDbEventStore::PrepareBulk(
    absl::string_view workspace, std::vector<Event> events) {
  auto prepared = std::make_unique<RocksDbPreparedBatch>();
  prepared->bulk = true;
  prepared->env = db_->GetEnv();
  prepared->workspace = std::string(workspace);
  prepared->events = std::move(events);
  const size_t n = prepared->events.size();
  prepared->keys.resize(n);
  prepared->values.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Event& e = prepared->events[i];
    storage::EncodeEventKey(workspace, e.customer_id, e.occurred_at_us,
                            e.event_id, &prepared->keys[i]);
    storage::EncodeEventValue(e, &prepared->values[i]);
    prepared->bytes += prepared->keys[i].size() + prepared->values[i].size();
  }
  SortKeyOrder(prepared.get());
  HashAndFindRepeats(prepared.get());
  // The table file's writing (encoding, compression, sync) is most of a
  // bulk commit's cost: done here, it overlaps another request's commit.
  // Skipped on a disk too full for it (Commit then refuses the batch), and
  // when the workspace's last bulk commit found most of its events stored
  // (a file loaded again), which would make the file a waste.
  bool reloading = false;
  {
    absl::MutexLock lock(&hint_mu_);
    auto it = bulk_mostly_stored_.find(workspace);
    reloading = it != bulk_mostly_stored_.end() && it->second;
  }
  if (!reloading && CheckFreeSpace(prepared->bytes).ok()) {
    prepared->table_file = NewTableFileName();
    if (!WriteTableFile(prepared->table_file, prepared->keys, prepared->values,
                        prepared->key_order)
             .ok()) {
      // Two events with one key (a repeat, which Commit counts): Commit
      // writes the new ones.
      prepared->env->DeleteFile(prepared->table_file).PermitUncheckedError();
      prepared->table_file.clear();
    }
  }
  return prepared;
}

absl::StatusOr<WriteResult> RocksDbEventStore::Commit(PreparedBatch& batch) {
  auto& prepared = static_cast<RocksDbPreparedBatch&>(batch);
  const absl::string_view workspace = prepared.workspace;
  const std::vector<Event>& events = prepared.events;
  WriteResult result;
  absl::MutexLock write_lock(&write_mu_);

  // Which events are new: not stored yet, not repeated earlier in the batch.
  std::vector<bool> fresh(events.size(), false);
  std::vector<const Event*> fresh_events;
  fresh_events.reserve(events.size());
  {
    const WorkspaceIndex* index = index_.Find(workspace);
    auto conflict = [&result](const Event& e) {
      ++result.conflicts;
      if (result.conflict_ids.size() < kMaxConflictIdsShown) {
        result.conflict_ids.push_back(e.event_id);
      }
    };
    // The first event of each id in the batch (see first_of), and whether
    // it conflicts with a stored event.
    const std::vector<uint32_t>& first_of = prepared.first_of;
    std::vector<const Event*> firsts;
    std::vector<uint64_t> first_hashes;
    firsts.reserve(events.size());
    first_hashes.reserve(events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      if (first_of[i] == i) {
        firsts.push_back(&events[i]);
        first_hashes.push_back(prepared.hashes[i].event_id);
      }
    }
    ASSIGN_OR_RETURN(const std::vector<Stored> stored,
                     AreStored(workspace, index, firsts, first_hashes));
    std::vector<bool> first_conflicts(events.size(), false);
    size_t k = 0;  // Into firsts and stored.
    for (size_t i = 0; i < events.size(); ++i) {
      const Event& e = events[i];
      if (first_of[i] != i) {
        if (events[first_of[i]] == e && !first_conflicts[first_of[i]]) {
          ++result.duplicates;
        } else {
          conflict(e);
        }
        continue;
      }
      const Stored st = stored[k++];
      if (st == Stored::kSame) {
        ++result.duplicates;
        continue;
      }
      if (st == Stored::kDifferent) {
        first_conflicts[i] = true;
        conflict(e);
        continue;
      }
      fresh[i] = true;
      fresh_events.push_back(&e);
    }
    // A new workspace's first batch is checked too (index is null then).
    RETURN_IF_ERROR(CheckChannelCapacity(index, fresh_events));
  }
  if (prepared.bulk) {
    absl::MutexLock lock(&hint_mu_);
    bulk_mostly_stored_[workspace] = fresh_events.size() * 2 < events.size();
  }
  if (fresh_events.empty()) return result;

  if (prepared.bulk) {
    RETURN_IF_ERROR(CheckFreeSpace(prepared.bytes));
    if (prepared.table_file.empty() || fresh_events.size() != events.size()) {
      // Some events are stored already: a file of the new ones only.
      if (!prepared.table_file.empty()) {
        prepared.env->DeleteFile(prepared.table_file).PermitUncheckedError();
      }
      prepared.table_file = NewTableFileName();
      std::vector<uint32_t> order;
      order.reserve(fresh_events.size());
      for (uint32_t i : prepared.key_order) {
        if (fresh[i]) order.push_back(i);
      }
      RETURN_IF_ERROR(WriteTableFile(prepared.table_file, prepared.keys,
                                     prepared.values, order));
    }
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;  // A hard link: nothing is copied.
    RETURN_IF_ERROR(
        FromRocksDb(db_->IngestExternalFile({prepared.table_file}, ingest)));
    prepared.table_file.clear();  // RocksDB's now.
  } else {
    RETURN_IF_ERROR(CheckFreeSpace(prepared.batch.GetDataSize()));
    rocksdb::WriteBatch only_fresh;
    const bool some_old = result.duplicates > 0 || result.conflicts > 0;
    if (some_old) {
      // The prepared batch holds every event; write only the new ones.
      std::string key;
      std::string value;
      for (const Event* e : fresh_events) {
        PutEvent(workspace, *e, &key, &value, &only_fresh);
      }
    }
    RETURN_IF_ERROR(FromRocksDb(
        db_->Write(write_options_, some_old ? &only_fresh : &prepared.batch)));
  }
  result.stored = static_cast<int64_t>(fresh_events.size());

  WorkspaceIndex& index = index_.GetOrCreate(workspace);
  std::vector<const Event*> ordered;
  ordered.reserve(fresh_events.size());
  for (uint32_t i : prepared.key_order) {
    if (fresh[i]) ordered.push_back(&events[i]);
  }
  // Each ordered event's hashes (by its place in `events`).
  auto hashes_of = [&](absl::Span<const Event* const> in) {
    std::vector<const EventHashes*> out(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
      out[i] = &prepared.hashes[static_cast<size_t>(in[i] - events.data())];
    }
    return out;
  };
  {
    absl::MutexLock links_lock(&links_mu_);
    auto found = links_.find(workspace);
    if (found != links_.end() && !found->second.empty()) {
      // A stitched journey takes the events of several identities: index
      // them in the journey's (time, event_id) order, as ties require.
      const LinkTable& links = found->second;
      std::vector<std::pair<std::string, const Event*>> keyed;
      keyed.reserve(ordered.size());
      for (const Event* e : ordered) {
        keyed.emplace_back(links.InAGroup(e->customer_id)
                               ? links.RootOf(e->customer_id)
                               : e->customer_id,
                           e);
      }
      std::stable_sort(keyed.begin(), keyed.end(),
                       [](const auto& a, const auto& b) {
                         return std::tie(a.first, a.second->occurred_at_us,
                                         a.second->event_id) <
                                std::tie(b.first, b.second->occurred_at_us,
                                         b.second->event_id);
                       });
      for (size_t i = 0; i < keyed.size(); ++i) ordered[i] = keyed[i].second;
    }
  }
  // One step for snapshots: a query sees the whole batch or none of it.
  index.InsertBatch(ordered, hashes_of(ordered), [&](size_t i) -> size_t {
    // Rare (two events of a customer in the same microsecond): storage
    // orders ties by event_id, and holds every event of this batch.
    absl::StatusOr<size_t> n = CountTiesBefore(workspace, *ordered[i]);
    return n.ok() ? *n : SIZE_MAX;  // On a read error: after its ties.
  });
  return result;
}

namespace {

// A bulk load's table file before RocksDB takes it: "bulk-<n>.sst.tmp" in
// the data folder (a name RocksDB neither uses nor removes).
constexpr absl::string_view kTableFilePrefix = "bulk-";
constexpr absl::string_view kTableFileSuffix = ".sst.tmp";

}  // namespace

std::string RocksDbEventStore::NewTableFileName() {
  return absl::StrCat(db_->GetName(), "/", kTableFilePrefix, ++table_files_,
                      kTableFileSuffix);
}

absl::Status RocksDbEventStore::WriteTableFile(
    const std::string& file, const std::vector<std::string>& keys,
    const std::vector<std::string>& values,
    const std::vector<uint32_t>& order) {
  const rocksdb::Options options = db_->GetOptions();
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(options), options);
  RETURN_IF_ERROR(FromRocksDb(writer.Open(file)));
  for (uint32_t i : order) {
    RETURN_IF_ERROR(FromRocksDb(writer.Put(keys[i], values[i])));
  }
  return FromRocksDb(writer.Finish());  // Syncs the file.
}

absl::Status RocksDbEventStore::RemoveUnaddedTableFiles() {
  rocksdb::Env* env = db_->GetEnv();
  std::vector<std::string> children;
  RETURN_IF_ERROR(FromRocksDb(env->GetChildren(db_->GetName(), &children)));
  for (const std::string& name : children) {
    if (absl::StartsWith(name, kTableFilePrefix) &&
        absl::EndsWith(name, kTableFileSuffix)) {
      RETURN_IF_ERROR(FromRocksDb(
          env->DeleteFile(absl::StrCat(db_->GetName(), "/", name))));
    }
  }
  return absl::OkStatus();
}

absl::Status RocksDbEventStore::CheckFreeSpace(size_t batch_bytes) {
  if (path_.empty()) return absl::OkStatus();
  struct statvfs fs;
  if (statvfs(path_.c_str(), &fs) != 0) return absl::OkStatus();  // Unknown.
  const uint64_t free_bytes =
      static_cast<uint64_t>(fs.f_bavail) * static_cast<uint64_t>(fs.f_frsize);
  uint64_t memtable = 0;
  db_->GetIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables, &memtable);
  // Room for this batch in the write-ahead log (twice, for the log's own
  // framing and a margin), for the memtable's flush into a table file, and a
  // fixed margin for the manifest and the next log.
  const uint64_t reserve =
      kMinFreeDiskBytes + memtable + 2 * static_cast<uint64_t>(batch_bytes);
  if (free_bytes >= reserve) return absl::OkStatus();
  absl::Status full = absl::UnavailableError(absl::StrCat(
      "the server's disk is full: ", free_bytes >> 20, " MB free, ",
      (reserve + (1 << 20) - 1) >> 20,
      " MB needed to store the batch safely; nothing was stored, retry once "
      "space is freed"));
  full.SetPayload(kDiskFullPayload, absl::Cord("1"));
  return full;
}

absl::StatusOr<JourneyPage> RocksDbEventStore::ReadJourney(
    absl::string_view workspace, absl::string_view customer_id,
    const JourneyCursor* after, size_t limit) {
  JourneyPage page;
  {
    const WorkspaceIndex* index = index_.Find(workspace);
    if (index == nullptr ||
        !index->FindCustomerSummary(customer_id, &page.first_purchase_at_us)) {
      return absl::NotFoundError(
          absl::StrCat("customer_id: no events for \"", customer_id, "\""));
    }
  }
  std::vector<std::string> ids = JourneyIds(workspace, customer_id);
  page.customer_id = ids[0];
  page.identities.assign(ids.begin() + 1, ids.end());
  std::string start;
  if (after != nullptr) {
    storage::AppendTime(&start, after->at_us);
    start.append(after->event_id);
  }
  MergedIterator it(db_.get(), rocksdb::ReadOptions(),
                    CustomerPrefixes(workspace, ids), start);
  storage::DecodedKey key;
  for (; it.Valid(); it.Next()) {
    if (after != nullptr && it.suffix() == start) continue;
    if (page.events.size() == limit) {
      page.has_more = true;
      break;
    }
    RETURN_IF_ERROR(
        DecodeStored(it.key(), it.value(), &key, &page.events.emplace_back()));
  }
  RETURN_IF_ERROR(it.status());
  return page;
}

absl::StatusOr<EraseResult> RocksDbEventStore::EraseCustomer(
    absl::string_view workspace, absl::string_view customer_id) {
  EraseResult result;
  absl::MutexLock write_lock(&write_mu_);
  // The customer and every identity linked to it go; so do their links.
  LinkTable links = LinksOf(workspace);
  std::vector<std::string> erased_ids{std::string(customer_id)};
  for (std::string& m : links.MembersOf(customer_id)) {
    erased_ids.push_back(std::move(m));
  }
  // The journey the customer was linked into, which keeps the rest.
  const std::string above = links.RootOf(customer_id);
  rocksdb::WriteBatch batch;
  std::vector<ErasedCustomer> erased;
  storage::DecodedKey key;
  Event event;
  for (const std::string& id : erased_ids) {
    ErasedCustomer& ec = erased.emplace_back();
    ec.customer_id = id;
    const std::string prefix = storage::CustomerPrefix(workspace, id);
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      RETURN_IF_ERROR(storage::DecodeEventKey(View(it->key()), &key));
      RETURN_IF_ERROR(storage::DecodeEventValue(View(it->value()), &event));
      if (event.type == EventType::kTouchpoint) {
        ++result.touchpoints;
      } else {
        ++result.conversions;
      }
      ec.event_id_hashes.push_back(EventIdHash(key.event_id));
      batch.Delete(it->key());
    }
    RETURN_IF_ERROR(FromRocksDb(it->status()));
    if (links.ParentOf(id) != nullptr) {
      batch.Delete(storage::LinkKey(workspace, id));
    }
  }
  result.identities = static_cast<int64_t>(erased_ids.size()) - 1;
  if (batch.Count() == 0) return result;
  RETURN_IF_ERROR(CheckFreeSpace(batch.GetDataSize()));
  RETURN_IF_ERROR(FromRocksDb(db_->Write(write_options_, &batch)));
  for (const std::string& id : erased_ids) links.Remove(id);
  std::vector<IdentityGroup> groups;
  if (above != customer_id) {
    ASSIGN_OR_RETURN(IdentityGroup g, ReadGroup(workspace, links, above));
    groups.push_back(std::move(g));
  }
  SetLinks(workspace, std::move(links));
  index_.GetOrCreate(workspace).Regroup(groups, erased);
  return result;
}

absl::StatusOr<LinkResult> RocksDbEventStore::LinkIdentities(
    absl::string_view workspace, absl::Span<const IdentityLink> links) {
  LinkResult result;
  absl::MutexLock write_lock(&write_mu_);
  LinkTable next = LinksOf(workspace);
  // The journeys whose identities change: those an identity leaves and
  // those it joins (resolved to their roots once every link is applied).
  absl::btree_set<std::string> touched;
  absl::flat_hash_map<std::string, std::string> written;
  for (size_t i = 0; i < links.size(); ++i) {
    const IdentityLink& link = links[i];
    const std::string* before = next.ParentOf(link.identity_id);
    if (before != nullptr && *before == link.customer_id) {
      ++result.unchanged;
      continue;
    }
    if (next.Reaches(link.customer_id, link.identity_id)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "links[", i, "]: linking \"", link.identity_id, "\" to \"",
          link.customer_id, "\" would make a cycle: \"", link.customer_id,
          "\" is already linked to \"", link.identity_id,
          "\" (directly or through others)"));
    }
    if (before != nullptr) {
      ++result.moved;
    } else {
      ++result.linked;
    }
    touched.insert(next.RootOf(link.identity_id));
    touched.insert(link.identity_id);
    next.Set(link.identity_id, link.customer_id);
    written[link.identity_id] = link.customer_id;
  }
  if (written.empty()) return result;
  rocksdb::WriteBatch batch;
  for (const auto& [identity, customer] : written) {
    batch.Put(storage::LinkKey(workspace, identity),
              storage::EncodeLinkValue(customer));
  }
  RETURN_IF_ERROR(CheckFreeSpace(batch.GetDataSize()));
  // Read the journeys first, so that a read error stores nothing.
  absl::btree_set<std::string> roots;
  for (const std::string& id : touched) roots.insert(next.RootOf(id));
  std::vector<IdentityGroup> groups;
  for (const std::string& root : roots) {
    ASSIGN_OR_RETURN(IdentityGroup g, ReadGroup(workspace, next, root));
    groups.push_back(std::move(g));
  }
  RETURN_IF_ERROR(FromRocksDb(db_->Write(write_options_, &batch)));
  SetLinks(workspace, std::move(next));
  index_.GetOrCreate(workspace).Regroup(groups, {});
  return result;
}

absl::StatusOr<std::string> RocksDbEventStore::UnlinkIdentity(
    absl::string_view workspace, absl::string_view identity_id) {
  absl::MutexLock write_lock(&write_mu_);
  LinkTable next = LinksOf(workspace);
  const std::string* parent = next.ParentOf(identity_id);
  if (parent == nullptr) return std::string();
  const std::string was = *parent;
  const std::string old_root = next.RootOf(identity_id);
  next.Remove(identity_id);
  std::vector<IdentityGroup> groups;
  for (const std::string& root : {old_root, std::string(identity_id)}) {
    ASSIGN_OR_RETURN(IdentityGroup g, ReadGroup(workspace, next, root));
    groups.push_back(std::move(g));
  }
  const std::string key = storage::LinkKey(workspace, identity_id);
  RETURN_IF_ERROR(CheckFreeSpace(key.size()));
  RETURN_IF_ERROR(FromRocksDb(db_->Delete(write_options_, key)));
  SetLinks(workspace, std::move(next));
  index_.GetOrCreate(workspace).Regroup(groups, {});
  return was;
}

WorkspaceSummary RocksDbEventStore::Describe(absl::string_view workspace) {
  WorkspaceSummary summary;
  if (const WorkspaceIndex* index = index_.Find(workspace)) {
    summary.stats = index->stats();
    summary.linked_identities = static_cast<int64_t>(index->linked_count());
    summary.channels = index->channels();
    std::sort(summary.channels.begin(), summary.channels.end());
    summary.index_bytes = static_cast<int64_t>(index->MemoryBytes());
  }
  return summary;
}

absl::StatusOr<std::vector<std::string>> RocksDbEventStore::ListWorkspaces() {
  std::vector<std::string> names;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  std::string workspace;
  for (char tag : {storage::kEventKeyTag, storage::kSpendKeyTag,
                   storage::kMetaKeyTag, storage::kLinkKeyTag}) {
    // One seek per workspace: from its first record to past its last.
    it->Seek(std::string(1, tag));
    while (it->Valid() && !it->key().empty() && it->key()[0] == tag) {
      if (!storage::DecodeWorkspace(View(it->key()), &workspace)) {
        return absl::DataLossError("a record's key has no workspace");
      }
      names.push_back(workspace);
      it->Seek(PrefixSuccessor(storage::TaggedWorkspacePrefix(tag, workspace)));
    }
    RETURN_IF_ERROR(FromRocksDb(it->status()));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

absl::Status RocksDbEventStore::Writable() {
  RETURN_IF_ERROR(CheckFreeSpace(1 << 20));
  uint64_t stopped = 0;
  if (db_->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &stopped) &&
      stopped != 0) {
    return absl::UnavailableError("RocksDB has stopped writes");
  }
  return absl::OkStatus();
}

RocksDbEventStore::StoreFigures RocksDbEventStore::Figures(
    size_t max_workspaces) {
  StoreFigures out;
  absl::StatusOr<std::vector<std::string>> names = ListWorkspaces();
  if (names.ok()) {
    for (const std::string& name : *names) {
      // The counts alone: Describe would also walk the index for its bytes.
      const WorkspaceIndex* index = index_.Find(name);
      if (index == nullptr) continue;
      const IndexStats stats = index->stats();
      if (stats.customers == 0) continue;  // Settings or spend only.
      out.workspaces.push_back(
          {name, stats.customers, stats.touchpoints + stats.conversions});
    }
  }
  std::stable_sort(
      out.workspaces.begin(), out.workspaces.end(),
      [](const auto& a, const auto& b) { return a.events > b.events; });
  if (out.workspaces.size() > max_workspaces) {
    WorkspaceFigures other{"_other"};
    for (size_t i = max_workspaces; i < out.workspaces.size(); ++i) {
      other.customers += out.workspaces[i].customers;
      other.events += out.workspaces[i].events;
    }
    out.workspaces.resize(max_workspaces);
    out.workspaces.push_back(other);
  }
  struct Property {
    const char* name;
    const char* help;
    const std::string& property;
  };
  for (const Property& p :
       {Property{"live_sst_bytes", "Bytes of the live SST files.",
                 rocksdb::DB::Properties::kLiveSstFilesSize},
        Property{"memtable_bytes", "Bytes of all memtables.",
                 rocksdb::DB::Properties::kCurSizeAllMemTables},
        Property{"pending_compaction_bytes",
                 "Bytes compaction estimates it has to rewrite.",
                 rocksdb::DB::Properties::kEstimatePendingCompactionBytes},
        Property{"write_stopped", "1 while RocksDB stops writes.",
                 rocksdb::DB::Properties::kIsWriteStopped},
        Property{"delayed_write_rate",
                 "Bytes a second writes are slowed to (0: not slowed).",
                 rocksdb::DB::Properties::kActualDelayedWriteRate},
        Property{"compactions_running", "Compactions running now.",
                 rocksdb::DB::Properties::kNumRunningCompactions},
        Property{"flushes_running", "Memtable flushes running now.",
                 rocksdb::DB::Properties::kNumRunningFlushes}}) {
    uint64_t v = 0;
    if (db_->GetIntProperty(p.property, &v)) {
      out.rocksdb.push_back({p.name, p.help, v});
    }
  }
  std::map<std::string, std::string> stats;
  if (db_->GetMapProperty(rocksdb::DB::Properties::kCFStats, &stats)) {
    for (const auto& [name, help, key] :
         {std::tuple{"write_stops", "Write stops since the start (a count).",
                     "io_stalls.total_stop"},
          std::tuple{"write_slowdowns",
                     "Write slowdowns since the start (a count).",
                     "io_stalls.total_slowdown"}}) {
      if (auto it = stats.find(key); it != stats.end()) {
        out.rocksdb.push_back({name, help,
                               static_cast<uint64_t>(std::strtoull(
                                   it->second.c_str(), nullptr, 10))});
      }
    }
  }
  return out;
}

namespace {

class RocksDbEventReader final : public EventReader {
 public:
  // Reads the keys under `prefixes` merged in (time, event_id) order (one
  // prefix: in key order), giving each event the customer_id of the journey
  // it belongs to under `links` (none: as recorded).
  RocksDbEventReader(rocksdb::DB* db, const std::vector<std::string>& prefixes,
                     std::shared_ptr<const LinkTable> links, int64_t start_us,
                     int64_t end_us)
      : db_(db),
        snapshot_(db->GetSnapshot()),
        links_(std::move(links)),
        start_us_(start_us),
        end_us_(end_us) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot_;
    ro.fill_cache = false;
    it_ = std::make_unique<MergedIterator>(db_, ro, prefixes, "");
  }
  ~RocksDbEventReader() override {
    it_.reset();
    db_->ReleaseSnapshot(snapshot_);
  }

  absl::StatusOr<bool> Next(size_t max, std::vector<Event>* out) override {
    size_t added = 0;
    for (; it_->Valid() && added < max; it_->Next()) {
      RETURN_IF_ERROR(storage::DecodeEventKey(View(it_->key()), &key_));
      if (key_.at_us < start_us_ || key_.at_us >= end_us_) continue;
      Event& e = out->emplace_back();
      RETURN_IF_ERROR(storage::DecodeEventValue(View(it_->value()), &e));
      e.customer_id = links_ != nullptr && links_->InAGroup(key_.customer_id)
                          ? links_->RootOf(key_.customer_id)
                          : std::move(key_.customer_id);
      e.occurred_at_us = key_.at_us;
      e.event_id = std::move(key_.event_id);
      ++added;
    }
    RETURN_IF_ERROR(it_->status());
    return it_->Valid();
  }

 private:
  rocksdb::DB* const db_;
  const rocksdb::Snapshot* const snapshot_;
  const std::shared_ptr<const LinkTable> links_;
  const int64_t start_us_, end_us_;
  std::unique_ptr<MergedIterator> it_;
  storage::DecodedKey key_;
};

}  // namespace

std::unique_ptr<EventReader> RocksDbEventStore::ReadEvents(
    absl::string_view workspace, absl::string_view customer_id,
    int64_t start_us, int64_t end_us) {
  std::shared_ptr<const LinkTable> links;
  {
    absl::MutexLock lock(&links_mu_);
    if (auto found = links_.find(workspace);
        found != links_.end() && !found->second.empty()) {
      links = std::make_shared<const LinkTable>(found->second);
    }
  }
  std::vector<std::string> prefixes;
  if (customer_id.empty()) {
    prefixes.push_back(storage::WorkspacePrefix(workspace));
  } else {
    prefixes = CustomerPrefixes(workspace, JourneyIds(workspace, customer_id));
  }
  return std::make_unique<RocksDbEventReader>(
      db_.get(), prefixes, std::move(links), start_us, end_us);
}

absl::StatusOr<int64_t> RocksDbEventStore::WriteSpend(
    absl::string_view workspace, const std::vector<SpendRow>& rows) {
  // Under the write lock, so that the count of changed rows is exact.
  absl::MutexLock lock(&write_mu_);
  rocksdb::WriteBatch batch;
  absl::flat_hash_map<std::string, std::string> pending;
  int64_t changed = 0;
  std::string value;
  for (const SpendRow& row : rows) {
    std::string key = storage::SpendKey(row, workspace);
    storage::EncodeSpendValue(row, &value);
    std::string before;
    if (auto it = pending.find(key); it != pending.end()) {
      before = it->second;
    } else {
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &before);
      if (s.IsNotFound()) {
        before.clear();
      } else if (!s.ok()) {
        return FromRocksDb(s);
      }
    }
    if (before != value) ++changed;
    RETURN_IF_ERROR(FromRocksDb(batch.Put(key, value)));
    pending[std::move(key)] = value;
  }
  RETURN_IF_ERROR(CheckFreeSpace(batch.GetDataSize()));
  RETURN_IF_ERROR(FromRocksDb(db_->Write(write_options_, &batch)));
  return changed;
}

absl::StatusOr<std::vector<SpendRow>> RocksDbEventStore::ReadSpend(
    absl::string_view workspace, int32_t from_day, int32_t to_day) {
  std::vector<SpendRow> rows;
  if (from_day >= to_day) return rows;
  const std::string end = storage::SpendDayKey(workspace, to_day);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(storage::SpendDayKey(workspace, from_day));
       it->Valid() && View(it->key()) < end; it->Next()) {
    SpendRow row;
    RETURN_IF_ERROR(
        storage::DecodeSpend(View(it->key()), View(it->value()), &row));
    rows.push_back(std::move(row));
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  return rows;
}

absl::Status RocksDbEventStore::PutMeta(absl::string_view workspace,
                                        absl::string_view name,
                                        absl::string_view value) {
  const std::pair<std::string, std::string> entry{std::string(name),
                                                  std::string(value)};
  return PutMetaBatch(workspace, absl::MakeConstSpan(&entry, 1));
}

absl::Status RocksDbEventStore::PutMetaBatch(
    absl::string_view workspace,
    absl::Span<const std::pair<std::string, std::string>> entries) {
  rocksdb::WriteBatch batch;
  const std::string prefix = storage::MetaPrefix(workspace);
  for (const auto& [name, value] : entries) {
    const std::string key = absl::StrCat(prefix, name);
    if (value.empty()) {
      RETURN_IF_ERROR(FromRocksDb(batch.Delete(key)));
    } else {
      RETURN_IF_ERROR(FromRocksDb(batch.Put(key, value)));
    }
  }
  absl::MutexLock lock(&write_mu_);
  RETURN_IF_ERROR(CheckFreeSpace(batch.GetDataSize()));
  return FromRocksDb(db_->Write(write_options_, &batch));
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
RocksDbEventStore::ReadMeta(absl::string_view workspace,
                            absl::string_view name_prefix) {
  const std::string ws_prefix = storage::MetaPrefix(workspace);
  const std::string prefix = absl::StrCat(ws_prefix, name_prefix);
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix);
       it->Valid() && absl::StartsWith(View(it->key()), prefix); it->Next()) {
    out.emplace_back(std::string(View(it->key()).substr(ws_prefix.size())),
                     std::string(View(it->value())));
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  return out;
}

void RocksDbEventStore::ReadIndex(
    absl::string_view workspace,
    absl::FunctionRef<void(const IndexSnapshot*)> fn) {
  const WorkspaceIndex* index = index_.Find(workspace);
  if (index == nullptr) {
    fn(nullptr);
    return;
  }
  const IndexSnapshot snapshot = index->Snapshot();
  fn(&snapshot);
}

absl::StatusOr<uint64_t> RocksDbEventStore::Backup(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target(dir);
  if (fs::exists(fs::symlink_status(target, ec))) {
    return absl::AlreadyExistsError(
        absl::StrCat(target.filename().string(), " exists"));
  }
  // RocksDB's checkpoint builds in "<dir>.tmp" and deletes whatever is
  // there first; so it builds inside a private folder whose name no backup
  // name can take ('~' is outside the name rules), and the result is renamed
  // into place without replacing anything.
  // The checkpoint flushes the memtable first, which needs room.
  RETURN_IF_ERROR(CheckFreeSpace(0));
  static std::atomic<uint64_t> counter{0};
  const fs::path staging =
      target.parent_path() /
      absl::StrCat("~staging-", getpid(), "-", counter.fetch_add(1));
  fs::remove_all(staging, ec);
  if (!fs::create_directory(staging, ec)) {
    return absl::InternalError(
        absl::StrCat("cannot create a staging folder: ", ec.message()));
  }
  const fs::path built = staging / "backup";
  rocksdb::Checkpoint* raw = nullptr;
  absl::Status status =
      FromRocksDb(rocksdb::Checkpoint::Create(db_.get(), &raw));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  uint64_t sequence = 0;
  // log_size_for_flush = 0: memtables are flushed first, so the copy is SST
  // files (hard links where the filesystem allows) plus a short WAL.
  if (status.ok()) {
    status =
        FromRocksDb(checkpoint->CreateCheckpoint(built.string(), 0, &sequence));
  }
  if (status.ok() && renameat2(AT_FDCWD, built.c_str(), AT_FDCWD,
                               target.c_str(), RENAME_NOREPLACE) != 0) {
    const int err = errno;
    status = err == EEXIST
                 ? absl::AlreadyExistsError(
                       absl::StrCat(target.filename().string(), " exists"))
                 : absl::InternalError(absl::StrCat(
                       "cannot move the backup into place: ", strerror(err)));
  }
  fs::remove_all(staging, ec);
  RETURN_IF_ERROR(status);
  return sequence;
}

absl::Status RestoreBackup(const std::string& backup_dir,
                           const std::string& data_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(backup_dir, ec) ||
      !fs::exists(fs::path(backup_dir) / "CURRENT", ec)) {
    return absl::NotFoundError(
        absl::StrCat(backup_dir, " is not a backup (no CURRENT file)"));
  }
  if (fs::exists(data_dir, ec) && !fs::is_directory(data_dir, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        data_dir, " is a file: restore only into a new or empty folder"));
  }
  if (fs::exists(data_dir, ec) && !fs::is_empty(data_dir, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        data_dir, " is not empty: restore only into a new or empty folder"));
  }
  fs::create_directories(data_dir, ec);
  fs::copy(backup_dir, data_dir, fs::copy_options::recursive, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("copying ", backup_dir, " to ",
                                            data_dir, ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::Status RocksDbEventStore::Flush() {
  return FromRocksDb(db_->Flush(rocksdb::FlushOptions()));
}

}  // namespace attribution

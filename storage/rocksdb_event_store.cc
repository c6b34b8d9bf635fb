#include "storage/rocksdb_event_store.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
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

rocksdb::Slice ToSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

}  // namespace

absl::Status FromRocksDb(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat("rocksdb: ", s.ToString());
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
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
    : write_options_(MakeWriteOptions(options)), db_(std::move(db)) {}

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
  RETURN_IF_ERROR(
      FromRocksDb(rocksdb::DB::Open(MakeRocksDbOptions(options), options.path,
                                    &raw)));
  std::unique_ptr<RocksDbEventStore> store(
      new RocksDbEventStore(options, std::unique_ptr<rocksdb::DB>(raw)));
  RETURN_IF_ERROR(store->RebuildIndex());
  return store;
}

absl::Status RocksDbEventStore::RebuildIndex() {
  absl::MutexLock lock(&index_mu_);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  storage::DecodedKey key;
  Event event;
  std::string last_ws;
  WorkspaceIndex* ws = nullptr;
  for (it->Seek(std::string(1, storage::kEventKeyTag));
       it->Valid() && it->key().starts_with(rocksdb::Slice(
                          &storage::kEventKeyTag, 1));
       it->Next()) {
    RETURN_IF_ERROR(storage::DecodeEventKey(View(it->key()), &key));
    event = Event{};
    RETURN_IF_ERROR(storage::DecodeEventValue(View(it->value()), &event));
    event.customer_id = key.customer_id;
    event.occurred_at_us = key.at_us;
    event.event_id = key.event_id;
    if (ws == nullptr || key.workspace != last_ws) {
      ws = &index_.GetOrCreate(key.workspace);
      last_ws = key.workspace;
    }
    // Keys come in (customer, time, id) order, so every indexed event of the
    // customer at this instant sorts before this one.
    const WorkspaceIndex::Customer* c = ws->FindCustomer(event.customer_id);
    size_t ties = 0;
    if (c != nullptr) {
      for (auto e = c->events.rbegin();
           e != c->events.rend() && e->at_us == event.occurred_at_us; ++e) {
        ++ties;
      }
    }
    ws->Insert(event, ties);
  }
  return FromRocksDb(it->status());
}

absl::StatusOr<bool> RocksDbEventStore::IsStored(absl::string_view workspace,
                                                 const WorkspaceIndex* index,
                                                 const Event& event) {
  if (index == nullptr) return false;
  const std::vector<uint32_t> candidates =
      index->CustomersWithIdHash(EventIdHash(event.event_id));
  if (candidates.empty()) return false;
  // The usual duplicate is a retry of the very same event: one point lookup.
  std::string value;
  rocksdb::Status s = db_->Get(
      rocksdb::ReadOptions(),
      storage::EventKey(workspace, event.customer_id, event.occurred_at_us,
                        event.event_id),
      &value);
  if (s.ok()) return true;
  if (!s.IsNotFound()) return FromRocksDb(s);
  // Same id under another customer or time (first write wins), or a hash
  // collision: look through the candidates' events.
  storage::DecodedKey key;
  for (uint32_t ci : candidates) {
    const std::string prefix =
        storage::CustomerPrefix(workspace, index->customer(ci).id);
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      RETURN_IF_ERROR(storage::DecodeEventKey(View(it->key()), &key));
      if (key.event_id == event.event_id) return true;
    }
    RETURN_IF_ERROR(FromRocksDb(it->status()));
  }
  return false;
}

absl::StatusOr<size_t> RocksDbEventStore::CountTiesBefore(
    absl::string_view workspace, const Event& event) {
  std::string prefix = storage::CustomerPrefix(workspace, event.customer_id);
  storage::AppendTime(&prefix, event.occurred_at_us);
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  size_t n = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    if (View(it->key()).substr(prefix.size()) >= event.event_id) break;
    ++n;
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  return n;
}

absl::StatusOr<WriteResult> RocksDbEventStore::Write(
    absl::string_view workspace, absl::Span<const Event> events) {
  WriteResult result;
  absl::MutexLock write_lock(&write_mu_);

  // Which events are new: not stored yet, not repeated earlier in the batch.
  std::vector<const Event*> fresh;
  fresh.reserve(events.size());
  {
    absl::ReaderMutexLock index_lock(&index_mu_);
    const WorkspaceIndex* index = index_.Find(workspace);
    absl::flat_hash_set<absl::string_view> batch_ids;
    batch_ids.reserve(events.size());
    for (const Event& e : events) {
      if (!batch_ids.insert(e.event_id).second) {
        ++result.duplicates;
        continue;
      }
      ASSIGN_OR_RETURN(const bool stored, IsStored(workspace, index, e));
      if (stored) {
        ++result.duplicates;
        continue;
      }
      fresh.push_back(&e);
    }
    if (index != nullptr) RETURN_IF_ERROR(index->CheckCapacity(fresh));
  }
  if (fresh.empty()) return result;

  rocksdb::WriteBatch batch;
  std::string value;
  for (const Event* e : fresh) {
    storage::EncodeEventValue(*e, &value);
    batch.Put(storage::EventKey(workspace, e->customer_id, e->occurred_at_us,
                                e->event_id),
              value);
  }
  RETURN_IF_ERROR(FromRocksDb(db_->Write(write_options_, &batch)));
  result.stored = static_cast<int64_t>(fresh.size());

  // Index the committed events in key order, so that each event's ties that
  // sort before it are already indexed when it is inserted.
  std::sort(fresh.begin(), fresh.end(), [](const Event* a, const Event* b) {
    return std::tie(a->customer_id, a->occurred_at_us, a->event_id) <
           std::tie(b->customer_id, b->occurred_at_us, b->event_id);
  });
  std::vector<size_t> ties(fresh.size(), 0);
  {
    absl::ReaderMutexLock index_lock(&index_mu_);
    const WorkspaceIndex* index = index_.Find(workspace);
    for (size_t i = 0; i < fresh.size(); ++i) {
      const Event& e = *fresh[i];
      const bool tied_in_batch = i > 0 &&
                                 fresh[i - 1]->customer_id == e.customer_id &&
                                 fresh[i - 1]->occurred_at_us == e.occurred_at_us;
      if (tied_in_batch ||
          (index != nullptr && index->HasEventAt(e.customer_id, e.occurred_at_us))) {
        // Rare (two events of a customer in the same microsecond): ask the
        // store, which orders ties by event_id.
        ASSIGN_OR_RETURN(ties[i], CountTiesBefore(workspace, e));
      }
    }
  }
  absl::MutexLock index_lock(&index_mu_);
  WorkspaceIndex& index = index_.GetOrCreate(workspace);
  for (size_t i = 0; i < fresh.size(); ++i) index.Insert(*fresh[i], ties[i]);
  return result;
}

absl::StatusOr<JourneyPage> RocksDbEventStore::ReadJourney(
    absl::string_view workspace, absl::string_view customer_id,
    const JourneyCursor* after, size_t limit) {
  JourneyPage page;
  {
    absl::ReaderMutexLock lock(&index_mu_);
    const WorkspaceIndex* index = index_.Find(workspace);
    const WorkspaceIndex::Customer* c =
        index == nullptr ? nullptr : index->FindCustomer(customer_id);
    if (c == nullptr || c->events.empty()) {
      return absl::NotFoundError(
          absl::StrCat("customer_id: no events for \"", customer_id, "\""));
    }
    page.first_purchase_at_us = index->FirstPurchaseAt(customer_id);
  }
  const std::string prefix = storage::CustomerPrefix(workspace, customer_id);
  const std::string upper = PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  std::string start = prefix;
  if (after != nullptr) {
    storage::AppendTime(&start, after->at_us);
    start.append(after->event_id);
  }
  it->Seek(start);
  if (after != nullptr && it->Valid() && it->key() == start) it->Next();
  storage::DecodedKey key;
  for (; it->Valid(); it->Next()) {
    if (page.events.size() == limit) {
      page.has_more = true;
      break;
    }
    RETURN_IF_ERROR(storage::DecodeEventKey(View(it->key()), &key));
    Event& e = page.events.emplace_back();
    RETURN_IF_ERROR(storage::DecodeEventValue(View(it->value()), &e));
    e.customer_id = std::move(key.customer_id);
    e.occurred_at_us = key.at_us;
    e.event_id = std::move(key.event_id);
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  return page;
}

absl::StatusOr<EraseResult> RocksDbEventStore::EraseCustomer(
    absl::string_view workspace, absl::string_view customer_id) {
  EraseResult result;
  absl::MutexLock write_lock(&write_mu_);
  const std::string prefix = storage::CustomerPrefix(workspace, customer_id);
  rocksdb::WriteBatch batch;
  std::vector<uint64_t> hashes;
  storage::DecodedKey key;
  Event event;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    RETURN_IF_ERROR(storage::DecodeEventKey(View(it->key()), &key));
    RETURN_IF_ERROR(
        storage::DecodeEventValue(View(it->value()), &event));
    if (event.type == EventType::kTouchpoint) {
      ++result.touchpoints;
    } else {
      ++result.conversions;
    }
    hashes.push_back(EventIdHash(key.event_id));
    batch.Delete(it->key());
  }
  RETURN_IF_ERROR(FromRocksDb(it->status()));
  if (hashes.empty()) return result;
  RETURN_IF_ERROR(FromRocksDb(db_->Write(write_options_, &batch)));
  absl::MutexLock index_lock(&index_mu_);
  if (WorkspaceIndex* index = index_.FindMutable(workspace)) {
    index->EraseCustomer(customer_id, hashes);
  }
  return result;
}

WorkspaceSummary RocksDbEventStore::Describe(absl::string_view workspace) {
  WorkspaceSummary summary;
  absl::ReaderMutexLock lock(&index_mu_);
  if (const WorkspaceIndex* index = index_.Find(workspace)) {
    summary.stats = index->stats();
    summary.channels = index->channels();
    std::sort(summary.channels.begin(), summary.channels.end());
  }
  return summary;
}

absl::Status RocksDbEventStore::Flush() {
  return FromRocksDb(db_->Flush(rocksdb::FlushOptions()));
}

}  // namespace attribution

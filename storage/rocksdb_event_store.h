#ifndef ATTRIBUTION_STORAGE_ROCKSDB_EVENT_STORE_H_
#define ATTRIBUTION_STORAGE_ROCKSDB_EVENT_STORE_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"
#include "storage/event_store.h"
#include "storage/identity_links.h"

namespace attribution {

enum class Durability {
  // The write-ahead log is written before a batch is acknowledged but not
  // fsynced: safe when the process crashes, not when the machine does.
  kProcessCrash,
  // The write-ahead log is fsynced for every batch: safe when the machine
  // crashes too, at the cost of one fsync per batch.
  kMachineCrash,
};

struct StorageOptions {
  // The RocksDB folder; created if missing.
  std::string path;
  Durability durability = Durability::kProcessCrash;
  // Null for the default (real filesystem) Env. Not owned.
  rocksdb::Env* env = nullptr;
};

// Copies a backup made by EventStore::Backup into `data_dir`, which must be
// missing or empty (FailedPrecondition otherwise). For --restore_from.
absl::Status RestoreBackup(const std::string& backup_dir,
                           const std::string& data_dir);

// The RocksDB options every writer of the store's folder uses (also the
// benchmark's raw reference).
rocksdb::Options MakeRocksDbOptions(const StorageOptions& options);
rocksdb::WriteOptions MakeWriteOptions(const StorageOptions& options);
// rocksdb::Status -> absl::Status, the one place that translates.
absl::Status FromRocksDb(const rocksdb::Status& s);

// Writes are refused as "disk full" while the data folder's filesystem has
// less free space than this plus the memtable's size plus twice the batch.
inline constexpr uint64_t kMinFreeDiskBytes = 4 << 20;

// EventStore on an embedded RocksDB. Writes are serialised (one WriteBatch
// each); reads run concurrently. Thread-safe.
class RocksDbEventStore final : public EventStore {
 public:
  // Opens (or creates) the store and rebuilds the journey index from it.
  static absl::StatusOr<std::unique_ptr<RocksDbEventStore>> Open(
      const StorageOptions& options);

  ~RocksDbEventStore() override;

  // EventStore
  std::unique_ptr<PreparedBatch> Prepare(absl::string_view workspace,
                                         std::vector<Event> events) override;
  std::unique_ptr<PreparedBatch> PrepareBulk(
      absl::string_view workspace, std::vector<Event> events) override;
  absl::StatusOr<WriteResult> Commit(PreparedBatch& batch) override;
  absl::StatusOr<JourneyPage> ReadJourney(absl::string_view workspace,
                                          absl::string_view customer_id,
                                          const JourneyCursor* after,
                                          size_t limit) override;
  absl::StatusOr<EraseResult> EraseCustomer(
      absl::string_view workspace, absl::string_view customer_id) override;
  absl::StatusOr<LinkResult> LinkIdentities(
      absl::string_view workspace,
      absl::Span<const IdentityLink> links) override;
  absl::StatusOr<std::string> UnlinkIdentity(
      absl::string_view workspace, absl::string_view identity_id) override;
  WorkspaceSummary Describe(absl::string_view workspace) override;
  absl::StatusOr<std::vector<std::string>> ListWorkspaces() override;

  // For the metrics endpoint: index sizes of the `max_workspaces`
  // workspaces with the most events (the rest summed as "_other"), and
  // RocksDB's figures (live SST bytes, memtable bytes, pending compaction
  // bytes, write stops and slowdowns, delayed write rate).
  struct WorkspaceFigures {
    std::string name;
    int64_t customers = 0;
    int64_t events = 0;
  };
  struct Figure {
    std::string name;  // e.g. "live_sst_bytes"
    std::string help;
    uint64_t value = 0;
  };
  struct StoreFigures {
    std::vector<WorkspaceFigures> workspaces;
    std::vector<Figure> rocksdb;
  };
  StoreFigures Figures(size_t max_workspaces);

  // OK if a write could be taken now: the disk has room for a batch (as
  // Commit checks) and RocksDB has not stopped writes.
  absl::Status Writable();
  std::unique_ptr<EventReader> ReadEvents(absl::string_view workspace,
                                          absl::string_view customer_id,
                                          int64_t start_us,
                                          int64_t end_us) override;
  void ReadIndex(absl::string_view workspace,
                 absl::FunctionRef<void(const IndexSnapshot*)> fn) override;
  absl::StatusOr<int64_t> WriteSpend(
      absl::string_view workspace, const std::vector<SpendRow>& rows) override;
  absl::StatusOr<std::vector<SpendRow>> ReadSpend(absl::string_view workspace,
                                                  int32_t from_day,
                                                  int32_t to_day) override;
  absl::Status PutMeta(absl::string_view workspace, absl::string_view name,
                       absl::string_view value) override;
  absl::Status PutMetaBatch(
      absl::string_view workspace,
      absl::Span<const std::pair<std::string, std::string>> entries) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadMeta(
      absl::string_view workspace, absl::string_view name_prefix) override;
  absl::StatusOr<uint64_t> Backup(const std::string& dir) override;
  absl::Status Flush() override;

 private:
  RocksDbEventStore(const StorageOptions& options,
                    std::unique_ptr<rocksdb::DB> db);

  absl::Status RebuildIndex();
  // A new name for a bulk load's table file, in the data folder.
  std::string NewTableFileName();
  // Writes the events at `order` (keys and values encoded, in key order)
  // into a table file, synced. InvalidArgument-like errors for keys out of
  // order.
  absl::Status WriteTableFile(const std::string& file,
                              const std::vector<std::string>& keys,
                              const std::vector<std::string>& values,
                              const std::vector<uint32_t>& order);
  // Removes table files a bulk load left behind when the process stopped
  // between writing and adding them.
  absl::Status RemoveUnaddedTableFiles();
  absl::Status LoadLinks();
  // The ids whose events make `id`'s journey: first the customer it belongs
  // to (`id` itself unless linked), then the identities linked into it.
  std::vector<std::string> JourneyIds(absl::string_view workspace,
                                      absl::string_view id);
  // A copy of the workspace's links, and their replacement.
  LinkTable LinksOf(absl::string_view workspace);
  void SetLinks(absl::string_view workspace, LinkTable links);
  // The journey of `root` under `links`, read from storage.
  absl::StatusOr<IdentityGroup> ReadGroup(absl::string_view workspace,
                                          const LinkTable& links,
                                          const std::string& root);
  enum class Stored { kNo, kSame, kDifferent };
  // For each event: whether the workspace already stores an event with its
  // id, and whether that event has the same content. id_hashes[i] is
  // EventIdHash(events[i]->event_id).
  absl::StatusOr<std::vector<Stored>> AreStored(
      absl::string_view workspace, const WorkspaceIndex* index,
      absl::Span<const Event* const> events,
      absl::Span<const uint64_t> id_hashes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // How many stored events of the customer's journey (the identities linked
  // into it included) at event.occurred_at_us have an id that sorts before
  // event.event_id.
  absl::StatusOr<size_t> CountTiesBefore(absl::string_view workspace,
                                         const Event& event);

  // Unavailable (disk full) unless the disk has room for a batch of
  // `batch_bytes` and what RocksDB needs beside it (see kMinFreeDiskBytes).
  // Checked before every write, so that RocksDB itself never meets a full
  // disk mid-append (its 7.8 error path asserts and aborts the process).
  absl::Status CheckFreeSpace(size_t batch_bytes);

  const rocksdb::WriteOptions write_options_;
  // The data folder on the real filesystem, for free-space checks ("" with
  // an injected Env, which has no disk to check).
  const std::string path_;
  const std::unique_ptr<rocksdb::DB> db_;

  // Serialises writers, so that the duplicate check and the write are one
  // step. Readers never take it: queries read index snapshots, journeys
  // read RocksDB.
  absl::Mutex write_mu_;
  // Per workspace: whether its last bulk commit found most of its events
  // stored already. PrepareBulk then leaves the table file to Commit.
  absl::Mutex hint_mu_;
  absl::flat_hash_map<std::string, bool> bulk_mostly_stored_
      ABSL_GUARDED_BY(hint_mu_);
  // Names the next bulk load's table file.
  std::atomic<uint64_t> table_files_{0};
  // Internally synchronised; its one writer runs under write_mu_.
  JourneyIndex index_;
  // Every workspace's identity links. Changed under write_mu_ too.
  absl::Mutex links_mu_ ABSL_ACQUIRED_AFTER(write_mu_);
  absl::flat_hash_map<std::string, LinkTable> links_ ABSL_GUARDED_BY(links_mu_);
};

}  // namespace attribution

#endif  // ATTRIBUTION_STORAGE_ROCKSDB_EVENT_STORE_H_

// The compact in-memory journey index of DESIGN.md: per workspace, every
// customer's events as 16-byte records in time order, with channels and
// campaigns interned as small integers. Attribution scans this; RocksDB is the
// durable truth it is rebuilt from at start.
#ifndef ATTRIBUTION_SERVICE_CORE_JOURNEY_INDEX_H_
#define ATTRIBUTION_SERVICE_CORE_JOURNEY_INDEX_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
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

// Hash of an event id used to recognise duplicates without a disk read.
uint64_t EventIdHash(absl::string_view event_id);

// The index of one workspace. Not thread-safe: the owner synchronises.
class WorkspaceIndex {
 public:
  struct Customer {
    std::string id;
    std::vector<IndexedEvent> events;  // Ordered by (at_us, event_id).
  };
  struct Stats {
    int64_t customers = 0;
    int64_t touchpoints = 0;
    int64_t conversions = 0;
  };

  // ResourceExhausted if storing `events` would take the workspace past
  // kMaxChannelsPerWorkspace distinct channels.
  absl::Status CheckCapacity(absl::Span<const Event* const> events) const;

  // Indexes of the customers that may hold an event with this id hash (the
  // hash can collide, so the caller confirms against storage). Empty if no
  // stored event has the hash.
  std::vector<uint32_t> CustomersWithIdHash(uint64_t hash) const;

  // Brings the index entries `event` will touch (its id hash, its customer)
  // into cache, so that a batch can issue every miss up front. No effect on
  // the contents.
  void Prefetch(const Event& event) const;

  // Adds a committed event. Only when the customer already has events at
  // the same at_us is `ties_before` called: it must return how many of them
  // have an event_id that sorts before this one's (the index keeps no ids).
  void Insert(const Event& event, absl::FunctionRef<size_t()> ties_before);

  // Removes every event of the customer; `event_id_hashes` are the hashes of
  // their ids. No-op for an unknown customer.
  void EraseCustomer(absl::string_view customer_id,
                     absl::Span<const uint64_t> event_id_hashes);

  // Null if the customer has never had an event.
  const Customer* FindCustomer(absl::string_view customer_id) const;
  const Customer& customer(uint32_t index) const { return customers_[index]; }
  // Customer slots, erased ones included (their event lists are empty).
  size_t customer_count() const { return customers_.size(); }
  // Id of a channel slug, or -1 if the workspace never saw it.
  int ChannelId(absl::string_view name) const {
    auto it = channel_ids_.find(name);
    return it == channel_ids_.end() ? -1 : it->second;
  }

  // The first purchase of the customer, if any.
  std::optional<int64_t> FirstPurchaseAt(absl::string_view customer_id) const;

  // Id of a campaign name, or -1 if the workspace never saw it.
  int64_t CampaignId(absl::string_view name) const {
    auto it = campaign_ids_.find(name);
    return it == campaign_ids_.end() ? -1 : it->second;
  }
  // The currencies purchases were stored with, in first-seen order (erasure
  // does not remove one; a restart rebuilds the list from what is stored).
  const std::vector<std::string>& currencies() const { return currencies_; }

  const std::string& channel_name(uint16_t id) const { return channels_[id]; }
  const std::vector<std::string>& channels() const { return channels_; }
  const std::string& campaign_name(uint32_t id) const { return campaigns_[id]; }
  int64_t revenue_micros(const IndexedEvent& e) const {
    return e.is_touchpoint() ? 0 : revenues_[e.ref];
  }
  Stats stats() const { return stats_; }

 private:
  uint16_t InternChannel(const std::string& name);
  uint32_t InternCampaign(const std::string& name);
  uint32_t CustomerIndex(const std::string& id);

  std::vector<std::string> channels_;
  absl::flat_hash_map<std::string, uint16_t> channel_ids_;
  std::vector<std::string> campaigns_;
  absl::flat_hash_map<std::string, uint32_t> campaign_ids_;
  std::vector<int64_t> revenues_;
  std::vector<std::string> currencies_;
  std::vector<Customer> customers_;
  absl::flat_hash_map<std::string, uint32_t> customer_ids_;
  // Event id hash -> the customer holding it. A hash held by events of more
  // than one customer also lists the others in id_hash_collisions_.
  absl::flat_hash_map<uint64_t, uint32_t> id_hashes_;
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> id_hash_collisions_;
  Stats stats_;
};

// Every workspace's index. Not thread-safe: the owner synchronises.
class JourneyIndex {
 public:
  // Null if the workspace holds no events.
  const WorkspaceIndex* Find(absl::string_view workspace) const;
  WorkspaceIndex* FindMutable(absl::string_view workspace);
  WorkspaceIndex& GetOrCreate(absl::string_view workspace);

 private:
  absl::flat_hash_map<std::string, std::unique_ptr<WorkspaceIndex>> workspaces_;
};

}  // namespace attribution

#endif  // ATTRIBUTION_SERVICE_CORE_JOURNEY_INDEX_H_

#include "service/core/journey_index.h"

#include <algorithm>
#include <cassert>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "service/core/limits.h"

namespace attribution {

uint64_t EventIdHash(absl::string_view event_id) {
  return absl::Hash<absl::string_view>{}(event_id);
}

absl::Status WorkspaceIndex::CheckCapacity(
    absl::Span<const Event* const> events) const {
  if (channels_.size() + events.size() <= kMaxChannelsPerWorkspace) {
    return absl::OkStatus();  // Cannot exceed it, however many are new.
  }
  absl::flat_hash_set<absl::string_view> fresh;
  for (const Event* e : events) {
    if (e->type == EventType::kTouchpoint &&
        !channel_ids_.contains(e->channel)) {
      fresh.insert(e->channel);
    }
  }
  if (channels_.size() + fresh.size() > kMaxChannelsPerWorkspace) {
    return absl::ResourceExhaustedError(absl::StrCat("workspace would exceed ",
                                                     kMaxChannelsPerWorkspace,
                                                     " distinct channels"));
  }
  return absl::OkStatus();
}

std::vector<uint32_t> WorkspaceIndex::CustomersWithIdHash(uint64_t hash) const {
  std::vector<uint32_t> out;
  auto it = id_hashes_.find(hash);
  if (it == id_hashes_.end()) return out;
  out.push_back(it->second);
  if (auto c = id_hash_collisions_.find(hash); c != id_hash_collisions_.end()) {
    out.insert(out.end(), c->second.begin(), c->second.end());
  }
  return out;
}

void WorkspaceIndex::Prefetch(const Event& event) const {
  id_hashes_.prefetch(EventIdHash(event.event_id));
  customer_ids_.prefetch(event.customer_id);
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

uint32_t WorkspaceIndex::CustomerIndex(const std::string& id) {
  auto [it, inserted] =
      customer_ids_.try_emplace(id, static_cast<uint32_t>(customers_.size()));
  if (inserted) customers_.push_back(Customer{id, {}});
  return it->second;
}

void WorkspaceIndex::Insert(const Event& event,
                            absl::FunctionRef<size_t()> ties_before) {
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
  const uint32_t ci = CustomerIndex(event.customer_id);
  std::vector<IndexedEvent>& events = customers_[ci].events;
  if (events.empty()) ++stats_.customers;
  if (events.empty() || events.back().at_us < rec.at_us) {
    events.push_back(rec);  // The common case: events arrive in time order.
  } else {
    auto first = std::lower_bound(
        events.begin(), events.end(), rec.at_us,
        [](const IndexedEvent& e, int64_t t) { return e.at_us < t; });
    auto last = std::upper_bound(
        first, events.end(), rec.at_us,
        [](int64_t t, const IndexedEvent& e) { return t < e.at_us; });
    const size_t ties = last - first;
    // Clamped: a caller that cannot tell puts the event after its ties.
    const size_t before = ties == 0 ? 0 : std::min(ties_before(), ties);
    events.insert(first + static_cast<ptrdiff_t>(before), rec);
  }
  const uint64_t hash = EventIdHash(event.event_id);
  auto [it, inserted] = id_hashes_.try_emplace(hash, ci);
  if (!inserted && it->second != ci) {
    std::vector<uint32_t>& others = id_hash_collisions_[hash];
    if (std::find(others.begin(), others.end(), ci) == others.end()) {
      others.push_back(ci);
    }
  }
}

void WorkspaceIndex::EraseCustomer(absl::string_view customer_id,
                                   absl::Span<const uint64_t> event_id_hashes) {
  auto found = customer_ids_.find(customer_id);
  if (found == customer_ids_.end()) return;
  const uint32_t ci = found->second;
  Customer& c = customers_[ci];
  for (const IndexedEvent& e : c.events) {
    if (e.is_touchpoint()) {
      --stats_.touchpoints;
    } else {
      --stats_.conversions;
    }
  }
  if (!c.events.empty()) --stats_.customers;
  c.events.clear();
  c.events.shrink_to_fit();
  for (uint64_t hash : event_id_hashes) {
    auto it = id_hashes_.find(hash);
    if (it == id_hashes_.end()) continue;
    auto coll = id_hash_collisions_.find(hash);
    if (it->second == ci) {
      if (coll == id_hash_collisions_.end()) {
        id_hashes_.erase(it);
      } else {
        it->second = coll->second.back();
        coll->second.pop_back();
        if (coll->second.empty()) id_hash_collisions_.erase(coll);
      }
    } else if (coll != id_hash_collisions_.end()) {
      auto& others = coll->second;
      others.erase(std::remove(others.begin(), others.end(), ci), others.end());
      if (others.empty()) id_hash_collisions_.erase(coll);
    }
  }
}

const WorkspaceIndex::Customer* WorkspaceIndex::FindCustomer(
    absl::string_view customer_id) const {
  auto it = customer_ids_.find(customer_id);
  return it == customer_ids_.end() ? nullptr : &customers_[it->second];
}

std::optional<int64_t> WorkspaceIndex::FirstPurchaseAt(
    absl::string_view customer_id) const {
  const Customer* c = FindCustomer(customer_id);
  if (c == nullptr) return std::nullopt;
  for (const IndexedEvent& e : c->events) {
    if (e.conversion_kind() == ConversionKind::kPurchase &&
        !e.is_touchpoint()) {
      return e.at_us;
    }
  }
  return std::nullopt;
}

const WorkspaceIndex* JourneyIndex::Find(absl::string_view workspace) const {
  auto it = workspaces_.find(workspace);
  return it == workspaces_.end() ? nullptr : it->second.get();
}

WorkspaceIndex* JourneyIndex::FindMutable(absl::string_view workspace) {
  auto it = workspaces_.find(workspace);
  return it == workspaces_.end() ? nullptr : it->second.get();
}

WorkspaceIndex& JourneyIndex::GetOrCreate(absl::string_view workspace) {
  auto& slot = workspaces_[workspace];
  if (slot == nullptr) slot = std::make_unique<WorkspaceIndex>();
  return *slot;
}

}  // namespace attribution

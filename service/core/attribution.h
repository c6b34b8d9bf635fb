// The attribution engine: goal paths from the journey index, and the models
// that credit them. Pure domain: no I/O. The contract is in
// proto/attribution/v1/attribution.proto.
#ifndef ATTRIBUTION_SERVICE_CORE_ATTRIBUTION_H_
#define ATTRIBUTION_SERVICE_CORE_ATTRIBUTION_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/types/span.h"
#include "service/core/journey_index.h"

namespace attribution {

// kLead is for reports: each lead conversion, its path the touches in its
// lookback after the customer's previous lead (GOAL_* of the API has no
// lead goal).
enum class Goal { kAcquisition, kRepeatPurchase, kRetention, kLead };

enum class ModelKind {
  kFirstTouch,
  kLastTouch,
  kLastNonDirect,
  kLinear,
  kPositionBased,
  kTimeDecay,
  kMarkov,
  kShapley,
  // Fitted and credited by FitIncremental (service/core/incremental.h), not
  // by Attribute.
  kIncremental,
};

struct ModelParams {
  ModelKind kind = ModelKind::kLinear;
  double first_weight = 0.4;                       // POSITION_BASED
  double last_weight = 0.4;                        // POSITION_BASED
  int64_t half_life_us = 7LL * 86400 * 1'000'000;  // TIME_DECAY
  // INCREMENTAL: the ad-stock half-life; 0: chosen by likelihood.
  int64_t incremental_half_life_us = 0;
  int order = 1;  // MARKOV, 1 to 4
};

// Shapley is exact up to this many distinct groups in a journey.
inline constexpr int kMaxShapleyGroups = 15;

struct PathQuery {
  Goal goal = Goal::kAcquisition;
  int64_t start_us = 0;  // Conversions in [start_us, end_us).
  int64_t end_us = 0;
  int64_t lookback_us = 0;
  int64_t horizon_us = 0;  // RETENTION.
  int64_t now_us = 0;      // RETENTION: later horizons are censored.
  bool honour_stages = false;
  bool by_campaign = false;
  // Leave out journeys that did not convert (reports, which only credit).
  bool converting_only = false;
  // Indexed by channel id; a touch whose channel is false is left off paths.
  // Empty: every channel.
  std::vector<bool> channel_allowed;
  // Polled now and then from any thread; when it returns true the work stops
  // early and its result is marked cancelled. Null: never.
  std::function<bool()> cancelled;
};

// A group: a channel, or a (channel, campaign) pair.
struct Group {
  std::string channel;
  std::string campaign;  // Empty unless grouping by campaign.
  bool is_direct = false;
};

// Every journey of a goal, as flat arrays. Journey j's touches are
// [offsets[j], offsets[j+1]) of `groups` and `times`. Converting journeys
// have at least one touch; journeys without touches are only counted.
struct PathSet {
  std::vector<Group> group_table;  // Dense ids, sorted by (channel, campaign).
  std::vector<uint32_t> groups;
  std::vector<int64_t> times;
  std::vector<uint32_t> offsets = {0};
  std::vector<int64_t> conversion_us;   // Window end for non-converting.
  std::vector<uint8_t> converted;       // 1 or 0.
  std::vector<int64_t> revenue_micros;  // 0 for non-converting.
  // A stable hash of each journey's customer id (the same in every process
  // and after restarts), for resampling customers in the bootstrap.
  std::vector<uint64_t> customer_keys;

  int64_t conversions = 0;  // All, with or without a touch.
  int64_t revenue_micros_total = 0;
  int64_t conversions_without_touch = 0;
  int64_t revenue_without_touch_micros = 0;
  int64_t censored_customers = 0;
  // The scan stopped early (PathQuery::cancelled): the rest is partial.
  bool cancelled = false;

  size_t size() const { return converted.size(); }
  absl::Span<const uint32_t> path(size_t j) const {
    return absl::MakeConstSpan(groups).subspan(offsets[j],
                                               offsets[j + 1] - offsets[j]);
  }
  absl::Span<const int64_t> path_times(size_t j) const {
    return absl::MakeConstSpan(times).subspan(offsets[j],
                                              offsets[j + 1] - offsets[j]);
  }
};

// The goal's journeys in `index` for `query`. Scans customers on `threads`
// threads; the result does not depend on the thread count.
PathSet ExtractPaths(const IndexSnapshot& index, const PathQuery& query,
                     int threads);

// Credit of each group under one model: conversions and revenue (micros, as
// double), indexed by group id.
struct Credits {
  std::vector<double> conversions;
  std::vector<double> revenue_micros;
  int64_t shapley_equal_split = 0;
  bool cancelled = false;  // Stopped early: the figures are partial.
};

// Credits every converting journey of `paths` under `model`. Each
// conversion's credits sum to 1 and its revenue credits to its revenue.
// MARKOV's removal solves run on `threads` threads; results do not depend on
// it.
Credits Attribute(const PathSet& paths, const ModelParams& model,
                  int threads = 1,
                  const std::function<bool()>& cancelled = nullptr);

// The per-touch weights of one converting path under a path-local model
// (every model but MARKOV and SHAPLEY); they sum to 1. For tests and
// ExplainCustomer.
std::vector<double> TouchWeights(const ModelParams& model,
                                 absl::Span<const uint32_t> path,
                                 absl::Span<const int64_t> times,
                                 int64_t conversion_us,
                                 const std::vector<Group>& group_table);

// MARKOV removal effects of every group (0 for groups on no path), and the
// conversion probability from the start state.
struct MarkovFit {
  double p_conversion = 0;
  std::vector<double> removal_effects;
  bool cancelled = false;
};
MarkovFit FitMarkov(const PathSet& paths, int order, int threads = 1,
                    const std::function<bool()>& cancelled = nullptr);

// The distinct group sets of a path set's journeys, numbered as they first
// come, with how many journeys have each and how many of those converted.
struct GroupSets {
  explicit GroupSets(const PathSet& paths);
  size_t size() const { return total.size(); }
  absl::Span<const uint32_t> set(size_t s) const {
    return absl::MakeConstSpan(groups).subspan(begin[s],
                                               begin[s + 1] - begin[s]);
  }
  std::vector<uint32_t> of_path;  // Each journey's set.
  std::vector<uint32_t> begin;    // Set s is groups[begin[s], begin[s + 1]).
  std::vector<uint32_t> groups;   // Sorted within a set.
  std::vector<double> total, converted;
  std::vector<size_t> hashes;  // Each set's SetHash.
};

// Hash of a sorted, distinct group set.
size_t SetHash(absl::Span<const uint32_t> set);

namespace attribution_internal {

// A set of ids of a GroupSets' sets, looked up by a set's groups: a set is
// stored once (in the GroupSets) and looked up without a copy.
struct SetKey {
  absl::Span<const uint32_t> groups;
  size_t hash;
};
struct SetIdHash {
  using is_transparent = void;
  const GroupSets* sets;
  size_t operator()(uint32_t id) const { return sets->hashes[id]; }
  size_t operator()(const SetKey& k) const { return k.hash; }
};
struct SetIdEq {
  using is_transparent = void;
  const GroupSets* sets;
  absl::Span<const uint32_t> Of(uint32_t id) const { return sets->set(id); }
  absl::Span<const uint32_t> Of(const SetKey& k) const { return k.groups; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    const absl::Span<const uint32_t> x = Of(a), y = Of(b);
    return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin());
  }
};
using SetIds = absl::flat_hash_set<uint32_t, SetIdHash, SetIdEq>;

}  // namespace attribution_internal

// The SHAPLEY game of a path set: v(S) for every set of groups seen.
class ShapleyGame {
 public:
  explicit ShapleyGame(const PathSet& paths);
  explicit ShapleyGame(const GroupSets& sets);
  // Shares of the groups of `set` (sorted, distinct), summing to 1: Shapley
  // values clipped at 0 and normalised, equal if all are 0 or the set has
  // more than kMaxShapleyGroups groups.
  std::vector<double> Shares(const std::vector<uint32_t>& set) const;

 private:
  // The coalitions with a conversion, as a trie of their sorted groups:
  // node 0 is the empty set, a node's value its coalition's conversion rate
  // (0 for a prefix alone); nodes breadth first.
  struct Node {
    double value;
    uint32_t first_child;  // Its children are consecutive nodes, by group.
    uint32_t children;
  };
  std::vector<Node> nodes_;
  std::vector<uint32_t> group_;  // The group that leads to each node.
};

// The SHAPLEY shares of every set of groups that converted in a path set,
// computed once (on `threads` threads) and, if `findable`, found by the
// set's groups.
class ShapleyShareTable {
 public:
  ShapleyShareTable(const PathSet& paths, int threads, bool findable = true);
  ShapleyShareTable(const ShapleyShareTable&) = delete;  // Holds &sets_.
  ShapleyShareTable& operator=(const ShapleyShareTable&) = delete;
  // The shares of `set` (sorted, distinct), in its order; null if no
  // converting journey of the paths had exactly that set (or the table is
  // not findable).
  const double* Find(absl::Span<const uint32_t> set) const;
  const GroupSets& sets() const { return sets_; }
  const ShapleyGame& game() const { return game_; }
  // Aligned with sets().groups: the shares of each converted set (0 for
  // the others).
  const std::vector<double>& shares() const { return shares_; }

 private:
  GroupSets sets_;
  ShapleyGame game_;
  std::vector<double> shares_;
  // The converted sets' ids (if findable).
  attribution_internal::SetIds converted_{
      0, attribution_internal::SetIdHash{&sets_},
      attribution_internal::SetIdEq{&sets_}};
};

// One customer's journeys of a goal, groups as raw keys: the channel id, or
// channel id << 32 | campaign id when grouping by campaign. Journey j's
// touches are the lengths[j] after those of journeys before it.
struct RawJourneys {
  std::vector<uint64_t> keys;
  std::vector<int64_t> times;
  std::vector<uint32_t> lengths;
  std::vector<int64_t> conversion_us;
  std::vector<uint8_t> converted;
  std::vector<int64_t> revenue_micros;
  std::vector<uint64_t> customer_keys;  // Filled by ExtractPaths.
  // Also keep converting journeys without a touch (length 0).
  bool keep_untouched = false;
  // Filled only when recording positions (ExtractCustomer).
  bool record_positions = false;
  std::vector<size_t> touch_pos;
  std::vector<size_t> conversion_pos;
  int64_t conversions = 0;
  int64_t revenue = 0;
  int64_t without_touch = 0;
  int64_t revenue_without_touch = 0;
  int64_t censored = 0;

  void Clear();
};

// Extracts one customer at a time, reusing its buffers. Not thread-safe:
// one per thread.
class JourneyScanner {
 public:
  JourneyScanner(const IndexSnapshot& index, const PathQuery& query);
  ~JourneyScanner();
  // The customer's journeys of the query's goal, untouched conversions
  // included. Valid until the next call.
  const RawJourneys& Scan(absl::Span<const IndexedEvent> events);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The sorted distinct groups of a path.
std::vector<uint32_t> GroupSet(absl::Span<const uint32_t> path);

// One converting journey of one customer, with where its touches and its
// conversion sit among the customer's indexed events.
struct CustomerConversion {
  size_t conversion_pos = 0;
  int64_t conversion_us = 0;
  int64_t revenue_micros = 0;
  std::vector<size_t> touch_pos;
  std::vector<uint32_t> groups;  // Ids in ExtractCustomer's `group_table`.
  std::vector<int64_t> times;
};

// The converting journeys of one customer (every conversion of the goal in
// the window, also those without touches). `group_table` receives the
// customer's groups, sorted as a PathSet's are.
std::vector<CustomerConversion> ExtractCustomer(
    const IndexSnapshot& index, const IndexSnapshot::Customer& customer,
    const PathQuery& query, std::vector<Group>* group_table);

// A stable 64-bit hash of a customer id (FNV-1a, then a mix).
uint64_t CustomerKey(absl::string_view customer_id);

// splitmix64's finaliser: a fixed (unseeded) bit mix, for hashes that must
// be the same in every process (absl::Hash is seeded per process).
inline uint64_t MixBits(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Id of `group` in a sorted group table, or -1.
int FindGroup(const std::vector<Group>& table, const Group& group);

}  // namespace attribution

#endif  // ATTRIBUTION_SERVICE_CORE_ATTRIBUTION_H_

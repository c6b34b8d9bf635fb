#include "service/core/attribution.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <thread>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "service/core/incremental.h"

namespace attribution {
namespace {

Stage GoalStage(Goal goal) {
  switch (goal) {
    case Goal::kAcquisition:
      return Stage::kDiscovery;
    case Goal::kRepeatPurchase:
      return Stage::kPurchase;
    case Goal::kRetention:
      return Stage::kLoyalty;
    case Goal::kLead:
      return Stage::kDiscovery;
  }
  return Stage::kUnspecified;
}

// The group a raw key names (see RawPaths).
Group GroupOfKey(const IndexSnapshot& index, uint64_t key, bool by_campaign) {
  Group g;
  g.channel =
      index.channel_name(static_cast<uint16_t>(by_campaign ? key >> 32 : key));
  if (by_campaign) g.campaign = index.campaign_name(static_cast<uint32_t>(key));
  g.is_direct = g.channel == "direct";
  return g;
}

// Group tables are sorted by (channel, campaign) name.
bool GroupLess(const Group& a, const Group& b) {
  return std::tie(a.channel, a.campaign) < std::tie(b.channel, b.campaign);
}

using RawPaths = RawJourneys;

class Extractor {
 public:
  Extractor(const IndexSnapshot& index, const PathQuery& q, RawPaths& out)
      : index_(index), q_(q), out_(out), goal_stage_(GoalStage(q.goal)) {}

  void Customer(absl::Span<const IndexedEvent> ev) {
    purchases_.clear();
    const ConversionKind kind = q_.goal == Goal::kLead
                                    ? ConversionKind::kLead
                                    : ConversionKind::kPurchase;
    for (size_t i = 0; i < ev.size(); ++i) {
      if (ev[i].conversion_kind() == kind) purchases_.push_back(i);
    }
    switch (q_.goal) {
      case Goal::kAcquisition:
        Acquisition(ev);
        break;
      case Goal::kRepeatPurchase:
        RepeatPurchase(ev);
        break;
      case Goal::kRetention:
        Retention(ev);
        break;
      case Goal::kLead:
        RepeatPurchase(ev, /*first_counts=*/true);  // Same shape, leads.
        break;
    }
  }

 private:
  static constexpr int64_t kNone = INT64_MIN;

  void Acquisition(absl::Span<const IndexedEvent> ev) {
    if (purchases_.empty() || ev[purchases_[0]].at_us >= q_.end_us) {
      // No purchase by the window's end: a prospect who did not convert.
      AddNonConverting(ev, kNone);
      return;
    }
    const IndexedEvent& first = ev[purchases_[0]];
    if (first.at_us < q_.start_us) return;  // Acquired before the window.
    AddJourney(ev, first.at_us - q_.lookback_us, first.at_us, kNone,
               first.at_us, true, index_.revenue_micros(first), purchases_[0]);
  }

  // `purchases_` holds the goal's conversions. REPEAT_PURCHASE skips the
  // first (the acquisition); LEAD (`first_counts`) does not.
  void RepeatPurchase(absl::Span<const IndexedEvent> ev,
                      bool first_counts = false) {
    int64_t last_before_end = kNone;
    for (size_t k = 0; k < purchases_.size(); ++k) {
      const IndexedEvent& p = ev[purchases_[k]];
      if (p.at_us < q_.end_us) last_before_end = p.at_us;
      if ((k == 0 && !first_counts) || p.at_us < q_.start_us ||
          p.at_us >= q_.end_us) {
        continue;
      }
      AddJourney(ev, p.at_us - q_.lookback_us, p.at_us,
                 k == 0 ? kNone : ev[purchases_[k - 1]].at_us, p.at_us, true,
                 index_.revenue_micros(p), purchases_[k]);
    }
    if (q_.goal == Goal::kLead && last_before_end == kNone) {
      if (!q_.converting_only) AddNonConverting(ev, kNone);  // No lead yet.
      return;
    }
    if (last_before_end != kNone) AddNonConverting(ev, last_before_end);
  }

  void Retention(absl::Span<const IndexedEvent> ev) {
    if (purchases_.empty()) return;
    const int64_t t0 = ev[purchases_[0]].at_us;
    if (t0 < q_.start_us || t0 >= q_.end_us) return;
    const int64_t horizon_end = t0 + q_.horizon_us;
    if (horizon_end > q_.now_us) {
      ++out_.censored;
      return;
    }
    const IndexedEvent* again = nullptr;
    size_t again_pos = 0;
    for (size_t k = 1; k < purchases_.size(); ++k) {
      const IndexedEvent& p = ev[purchases_[k]];
      if (p.at_us > t0) {
        if (p.at_us <= horizon_end) {
          again = &p;
          again_pos = purchases_[k];
        }
        break;
      }
    }
    if (again != nullptr) {
      for (const IndexedEvent& e : ev) {
        if (e.conversion_kind() == ConversionKind::kChurn && e.at_us > t0 &&
            e.at_us < again->at_us) {
          again = nullptr;  // Churned before buying again.
          break;
        }
      }
    }
    if (again != nullptr) {
      AddJourney(ev, again->at_us - q_.lookback_us, again->at_us, t0,
                 again->at_us, true, index_.revenue_micros(*again), again_pos);
    } else if (!q_.converting_only) {
      // Every touch of the horizon, as the contract has it.
      AddJourney(ev, t0, horizon_end, t0, horizon_end, false, 0, 0);
    }
  }

  bool Keep(const IndexedEvent& e) const {
    if (!e.is_touchpoint()) return false;
    if (!q_.channel_allowed.empty() &&
        (e.channel >= q_.channel_allowed.size() ||
         !q_.channel_allowed[e.channel])) {
      return false;
    }
    if (q_.honour_stages && e.stage() != Stage::kUnspecified &&
        e.stage() != goal_stage_) {
      return false;
    }
    return true;
  }

  // A journey that did not convert by the window's end: anchored at its last
  // touch in the window (after `after`), where the customer dropped off, and
  // bounded by the lookback like a converting one. None if no such touch.
  void AddNonConverting(absl::Span<const IndexedEvent> ev, int64_t after) {
    if (q_.converting_only) return;
    int64_t last = kNone;
    for (const IndexedEvent& e : ev) {
      if (e.at_us >= q_.end_us) break;
      if (e.at_us >= q_.start_us && (after == kNone || e.at_us > after) &&
          Keep(e)) {
        last = e.at_us;
      }
    }
    if (last == kNone) return;
    AddJourney(ev, last - q_.lookback_us, last, after, last, false, 0, 0);
  }

  // Touches with lo <= at <= hi and at > after (kNone: no such bound).
  // `conversion_pos`: where the conversion is among `ev` (converting only).
  void AddJourney(absl::Span<const IndexedEvent> ev, int64_t lo, int64_t hi,
                  int64_t after, int64_t conversion_us, bool converted,
                  int64_t revenue, size_t conversion_pos) {
    uint32_t n = 0;
    for (size_t i = 0; i < ev.size(); ++i) {
      const IndexedEvent& e = ev[i];
      if (e.at_us > hi) break;
      if (e.at_us < lo || (after != kNone && e.at_us <= after) || !Keep(e)) {
        continue;
      }
      out_.keys.push_back(q_.by_campaign ? (uint64_t{e.channel} << 32) | e.ref
                                         : uint64_t{e.channel});
      out_.times.push_back(e.at_us);
      if (out_.record_positions) out_.touch_pos.push_back(i);
      ++n;
    }
    if (converted) {
      ++out_.conversions;
      out_.revenue += revenue;
      if (n == 0) {
        ++out_.without_touch;
        out_.revenue_without_touch += revenue;
        // ExtractCustomer and reports use these too; paths for models never
        // hold them.
        if (!out_.record_positions && !out_.keep_untouched) return;
      }
    } else if (n == 0) {
      return;  // Nothing to learn from a journey without touches.
    }
    out_.lengths.push_back(n);
    out_.conversion_us.push_back(conversion_us);
    out_.converted.push_back(converted ? 1 : 0);
    out_.revenue_micros.push_back(revenue);
    if (out_.record_positions) out_.conversion_pos.push_back(conversion_pos);
  }

  const IndexSnapshot& index_;
  const PathQuery& q_;
  RawPaths& out_;
  const Stage goal_stage_;
  std::vector<size_t> purchases_;
};

}  // namespace

PathSet ExtractPaths(const IndexSnapshot& index, const PathQuery& query,
                     int threads) {
  const size_t customers = index.customer_count();
  threads = std::max(1, std::min<int>(threads, 64));
  std::vector<RawPaths> parts(threads);
  std::atomic<bool> stopped{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      Extractor extractor(index, query, parts[t]);
      const size_t begin = customers * t / threads;
      const size_t end = customers * (t + 1) / threads;
      for (size_t c = begin; c < end; ++c) {
        if ((c & 4095) == 0 && query.cancelled && query.cancelled()) {
          stopped = true;
          return;
        }
        const IndexSnapshot::Customer customer =
            index.customer(static_cast<uint32_t>(c));
        const size_t before = parts[t].lengths.size();
        extractor.Customer(customer.events);
        if (parts[t].lengths.size() > before) {
          parts[t].customer_keys.resize(parts[t].lengths.size(),
                                        CustomerKey(customer.id));
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
  if (stopped) {
    PathSet out;
    out.cancelled = true;
    return out;
  }

  // Dense group ids in (channel, campaign) name order, so that results do
  // not depend on the order channels were first seen.
  absl::flat_hash_map<uint64_t, uint32_t> dense;
  for (const RawPaths& p : parts) {
    for (uint64_t k : p.keys) dense.try_emplace(k, 0);
  }
  std::vector<std::pair<Group, uint64_t>> named;
  named.reserve(dense.size());
  for (const auto& [key, unused] : dense) {
    named.push_back({GroupOfKey(index, key, query.by_campaign), key});
  }
  std::sort(named.begin(), named.end(), [](const auto& a, const auto& b) {
    return GroupLess(a.first, b.first);
  });
  PathSet out;
  for (uint32_t id = 0; id < named.size(); ++id) {
    dense[named[id].second] = id;
    out.group_table.push_back(std::move(named[id].first));
  }
  for (const RawPaths& p : parts) {
    for (uint64_t k : p.keys) out.groups.push_back(dense[k]);
    out.times.insert(out.times.end(), p.times.begin(), p.times.end());
    for (uint32_t n : p.lengths) out.offsets.push_back(out.offsets.back() + n);
    out.conversion_us.insert(out.conversion_us.end(), p.conversion_us.begin(),
                             p.conversion_us.end());
    out.converted.insert(out.converted.end(), p.converted.begin(),
                         p.converted.end());
    out.revenue_micros.insert(out.revenue_micros.end(),
                              p.revenue_micros.begin(), p.revenue_micros.end());
    out.customer_keys.insert(out.customer_keys.end(), p.customer_keys.begin(),
                             p.customer_keys.end());
    out.conversions += p.conversions;
    out.revenue_micros_total += p.revenue;
    out.conversions_without_touch += p.without_touch;
    out.revenue_without_touch_micros += p.revenue_without_touch;
    out.censored_customers += p.censored;
  }
  return out;
}

void RawJourneys::Clear() {
  keys.clear();
  times.clear();
  lengths.clear();
  conversion_us.clear();
  converted.clear();
  revenue_micros.clear();
  customer_keys.clear();
  touch_pos.clear();
  conversion_pos.clear();
  conversions = revenue = without_touch = revenue_without_touch = censored = 0;
}

struct JourneyScanner::Impl {
  Impl(const IndexSnapshot& index, const PathQuery& q)
      : query(q), extractor(index, query, raw) {}
  const PathQuery query;  // The extractor keeps a reference.
  RawJourneys raw;
  Extractor extractor;
};

JourneyScanner::JourneyScanner(const IndexSnapshot& index,
                               const PathQuery& query)
    : impl_(std::make_unique<Impl>(index, query)) {
  impl_->raw.keep_untouched = true;
}

JourneyScanner::~JourneyScanner() = default;

const RawJourneys& JourneyScanner::Scan(absl::Span<const IndexedEvent> events) {
  impl_->raw.Clear();
  impl_->extractor.Customer(events);
  return impl_->raw;
}

std::vector<double> TouchWeights(const ModelParams& model,
                                 absl::Span<const uint32_t> path,
                                 absl::Span<const int64_t> times,
                                 int64_t conversion_us,
                                 const std::vector<Group>& group_table) {
  const size_t n = path.size();
  std::vector<double> w(n, 0.0);
  if (n == 0) return w;
  switch (model.kind) {
    case ModelKind::kFirstTouch:
      w[0] = 1;
      break;
    case ModelKind::kLastTouch:
      w[n - 1] = 1;
      break;
    case ModelKind::kLastNonDirect: {
      size_t i = n;
      while (i > 0 && group_table[path[i - 1]].is_direct) --i;
      w[i == 0 ? n - 1 : i - 1] = 1;
      break;
    }
    case ModelKind::kLinear:
      std::fill(w.begin(), w.end(), 1.0 / static_cast<double>(n));
      break;
    case ModelKind::kPositionBased:
      if (n == 1) {
        w[0] = 1;
      } else if (n == 2) {
        const double sum = model.first_weight + model.last_weight;
        w[0] = sum > 0 ? model.first_weight / sum : 0.5;
        w[1] = 1 - w[0];
      } else {
        const double middle = (1 - model.first_weight - model.last_weight) /
                              static_cast<double>(n - 2);
        std::fill(w.begin(), w.end(), middle);
        w[0] = model.first_weight;
        w[n - 1] = model.last_weight;
      }
      break;
    case ModelKind::kTimeDecay: {
      // Relative to the latest touch, so that the weights cannot all
      // underflow to 0 however old the path is.
      double sum = 0;
      for (size_t i = 0; i < n; ++i) {
        const double dt = static_cast<double>(times[n - 1] - times[i]);
        w[i] = std::exp2(-dt / static_cast<double>(model.half_life_us));
        sum += w[i];
      }
      for (double& x : w) x /= sum;
      break;
    }
    case ModelKind::kMarkov:
    case ModelKind::kShapley:
      // Not path-local: only used by ExplainCustomer, with a fit.
      std::fill(w.begin(), w.end(), 1.0 / static_cast<double>(n));
      break;
  }
  (void)conversion_us;  // TIME_DECAY's dt is measured to the conversion,
                        // which only scales all weights by one factor.
  return w;
}

namespace {

// A Markov state: up to 4 consecutive groups.
struct State {
  std::array<uint32_t, 4> g{};
  uint8_t len = 0;
};

// The absorbing chain of a path set; state 0 is the start. Transition
// probabilities in CSR form both ways, and the strongly connected components
// in topological order: a component comes before every one it leads to.
struct Chain {
  std::vector<State> states;
  std::vector<double> to_conversion;  // P(s -> conversion).
  std::vector<uint32_t> out_begin, out_to;
  std::vector<double> out_p;
  std::vector<uint32_t> in_begin, in_from;
  std::vector<double> in_p;
  std::vector<uint32_t> topo;        // States, component after component.
  std::vector<uint32_t> comp_begin;  // Component c is [comp_begin[c], [c+1]).
  std::vector<uint32_t> comp;        // Component of each state.
  std::vector<uint32_t> level;       // Fewest steps from the start.
  std::vector<uint32_t> place;       // Position in topo.

  size_t size() const { return states.size(); }
};

// Tarjan's algorithm, iteratively: fills `topo`, `comp_begin` and `comp`.
void OrderComponents(Chain& c) {
  const size_t n = c.size();
  std::vector<int64_t> index(n, -1), low(n, 0);
  std::vector<uint8_t> on_stack(n, 0);
  std::vector<uint32_t> stack;
  std::vector<std::pair<uint32_t, uint32_t>> calls;  // State, next edge.
  // The components as Tarjan completes them (sinks first), flat: component
  // i is sink_first[sink_begin[i], sink_begin[i + 1]).
  std::vector<uint32_t> sink_first, sink_begin = {0};
  sink_first.reserve(n);
  int64_t counter = 0;
  auto open = [&](uint32_t s) {
    index[s] = low[s] = counter++;
    stack.push_back(s);
    on_stack[s] = 1;
    calls.push_back({s, c.out_begin[s]});
  };
  for (uint32_t root = 0; root < n; ++root) {
    if (index[root] >= 0) continue;
    open(root);
    while (!calls.empty()) {
      const uint32_t v = calls.back().first;
      const uint32_t e = calls.back().second;
      if (e < c.out_begin[v + 1]) {
        ++calls.back().second;
        const uint32_t w = c.out_to[e];
        if (index[w] < 0) {
          open(w);
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      if (low[v] == index[v]) {
        uint32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = 0;
          sink_first.push_back(w);
        } while (w != v);
        sink_begin.push_back(static_cast<uint32_t>(sink_first.size()));
      }
      calls.pop_back();
      if (!calls.empty()) {
        const uint32_t parent = calls.back().first;
        low[parent] = std::min(low[parent], low[v]);
      }
    }
  }
  // Within a component, the states go by their distance from the start,
  // then by id: a sweep along the flow then finds more of its predecessors
  // done (measured: order 3 by campaign a fifth faster than in id order).
  c.level.assign(n, std::numeric_limits<uint32_t>::max());
  {
    std::vector<uint32_t> queue = {0};
    c.level[0] = 0;
    for (size_t q = 0; q < queue.size(); ++q) {
      const uint32_t u = queue[q];
      for (uint32_t e = c.out_begin[u]; e < c.out_begin[u + 1]; ++e) {
        const uint32_t w = c.out_to[e];
        if (c.level[w] == std::numeric_limits<uint32_t>::max()) {
          c.level[w] = c.level[u] + 1;
          queue.push_back(w);
        }
      }
    }
  }
  for (size_t k = 0; k + 1 < sink_begin.size(); ++k) {
    if (sink_begin[k + 1] - sink_begin[k] < 2) continue;
    std::sort(sink_first.begin() + sink_begin[k],
              sink_first.begin() + sink_begin[k + 1],
              [&](uint32_t a, uint32_t b) {
                return std::tie(c.level[a], a) < std::tie(c.level[b], b);
              });
  }
  // Tarjan completes a component after every component it leads to.
  c.topo.reserve(n);
  c.comp.assign(n, 0);
  c.place.assign(n, 0);
  c.comp_begin.reserve(sink_begin.size());
  for (size_t k = sink_begin.size() - 1; k-- > 0;) {
    const uint32_t id = static_cast<uint32_t>(c.comp_begin.size());
    c.comp_begin.push_back(static_cast<uint32_t>(c.topo.size()));
    for (uint32_t i = sink_begin[k]; i < sink_begin[k + 1]; ++i) {
      const uint32_t s = sink_first[i];
      c.comp[s] = id;
      c.place[s] = static_cast<uint32_t>(c.topo.size());
      c.topo.push_back(s);
    }
  }
  c.comp_begin.push_back(static_cast<uint32_t>(c.topo.size()));
}

// Sorts integers whose values are below 2^bits, least significant digit
// first (11 bits a pass): linear in their number, where a comparison sort
// of a chain's transitions (one per touch) would take some 20 levels.
template <typename Key>
void RadixSort(std::vector<Key>& v, int bits) {
  constexpr int kDigit = 11;
  constexpr size_t kBuckets = size_t{1} << kDigit;
  std::vector<Key> tmp(v.size());
  std::vector<size_t> count(kBuckets);
  for (int shift = 0; shift < bits; shift += kDigit) {
    std::fill(count.begin(), count.end(), 0);
    for (const Key& x : v)
      ++count[static_cast<size_t>(x >> shift) & (kBuckets - 1)];
    size_t sum = 0;
    for (size_t& c : count) {
      const size_t here = c;
      c = sum;
      sum += here;
    }
    for (const Key& x : v)
      tmp[count[static_cast<size_t>(x >> shift) & (kBuckets - 1)]++] = x;
    v.swap(tmp);
  }
}

// The states of BuildChain as integers: the length, then each group in
// `bits` bits, so that integer order is (length, groups) order.
template <typename Key>
Chain BuildChainWith(const PathSet& paths, int order, int bits) {
  const size_t k = static_cast<size_t>(order);
  const Key group_mask = (Key{1} << bits) - 1;
  auto key_of = [&](const uint32_t* g, size_t len) {
    Key key = len;
    for (size_t x = 0; x < k; ++x) key = key << bits | (x < len ? g[x] : 0);
    return key;
  };
  // Every path's states in order (a state repeated in a row counts once),
  // by the order they first came in.
  struct Hash {
    size_t operator()(Key key) const {
      return absl::HashOf(static_cast<uint64_t>(key),
                          static_cast<uint64_t>(key >> 32 >> 32));
    }
  };
  absl::flat_hash_map<Key, uint32_t, Hash> first_ids;
  std::vector<Key> firsts;
  std::vector<uint32_t> walk;
  walk.reserve(paths.groups.size());
  std::vector<size_t> walk_end(paths.size());
  for (size_t j = 0; j < paths.size(); ++j) {
    absl::Span<const uint32_t> p = paths.path(j);
    const size_t len = std::min(k, p.size());
    const size_t windows = p.size() < k ? 1 : p.size() - k + 1;
    const size_t begin = walk.size();
    for (size_t i = 0; i < windows; ++i) {
      const Key key = key_of(p.data() + i, len);
      auto [it, inserted] =
          first_ids.try_emplace(key, static_cast<uint32_t>(firsts.size()));
      if (inserted) firsts.push_back(key);
      if (walk.size() == begin || walk.back() != it->second) {
        walk.push_back(it->second);
      }
    }
    walk_end[j] = walk.size();
  }
  absl::flat_hash_map<Key, uint32_t, Hash>().swap(first_ids);
  // The states, numbered by their groups (not in the order the journeys
  // came in, so that the solves round the same way however the index holds
  // its customers: that order differs after a restart, or after a bulk load
  // whose parts committed in another order). The start is 0.
  const size_t n = firsts.size() + 1;
  std::vector<std::pair<Key, uint32_t>> by_key(firsts.size());
  for (uint32_t i = 0; i < firsts.size(); ++i) by_key[i] = {firsts[i], i};
  std::vector<Key>().swap(firsts);
  std::sort(by_key.begin(), by_key.end());  // Keys are distinct.
  std::vector<uint32_t> id_of(by_key.size());
  Chain c;
  c.states.resize(n);
  for (size_t s = 1; s < n; ++s) {
    id_of[by_key[s - 1].second] = static_cast<uint32_t>(s);
    State& st = c.states[s];
    Key key = by_key[s - 1].first;
    for (size_t x = k; x-- > 0;) {
      st.g[x] = static_cast<uint32_t>(key & group_mask);
      key >>= bits;
    }
    st.len = static_cast<uint8_t>(key);
  }
  // The transitions, as from << id_bits | to, sorted: counted by runs.
  int id_bits = 1;
  while ((uint64_t{1} << id_bits) < n) ++id_bits;
  const uint64_t id_mask = (uint64_t{1} << id_bits) - 1;
  std::vector<double> conversions(n, 0.0), total(n, 0.0);
  std::vector<uint64_t> moves(walk.size());
  for (size_t j = 0, w = 0; j < paths.size(); ++j) {
    uint32_t from = 0;
    for (; w < walk_end[j]; ++w) {
      const uint32_t to = id_of[walk[w]];
      moves[w] = uint64_t{from} << id_bits | to;
      total[from] += 1;
      from = to;
    }
    total[from] += 1;  // To conversion or to null.
    if (paths.converted[j]) conversions[from] += 1;
  }
  std::vector<uint32_t>().swap(walk);
  RadixSort(moves, 2 * id_bits);
  c.to_conversion.resize(n);
  for (size_t s = 0; s < n; ++s) {
    c.to_conversion[s] = total[s] > 0 ? conversions[s] / total[s] : 0;
  }
  c.out_begin.assign(n + 1, 0);
  c.in_begin.assign(n + 1, 0);
  size_t edges = 0;
  for (size_t i = 0; i < moves.size(); ++i) {
    if (i > 0 && moves[i] == moves[i - 1]) continue;
    ++edges;
    ++c.out_begin[(moves[i] >> id_bits) + 1];
    ++c.in_begin[(moves[i] & id_mask) + 1];
  }
  for (size_t s = 0; s < n; ++s) {
    c.out_begin[s + 1] += c.out_begin[s];
    c.in_begin[s + 1] += c.in_begin[s];
  }
  c.out_to.resize(edges);
  c.out_p.resize(edges);
  c.in_from.resize(edges);
  c.in_p.resize(edges);
  // Edges in a fixed order, so that sums run the same way every time.
  std::vector<uint32_t> in_fill(c.in_begin.begin(), c.in_begin.end() - 1);
  for (size_t i = 0, e = 0; i < moves.size(); ++e) {
    size_t run = i + 1;
    while (run < moves.size() && moves[run] == moves[i]) ++run;
    const uint32_t from = static_cast<uint32_t>(moves[i] >> id_bits);
    const uint32_t to = static_cast<uint32_t>(moves[i] & id_mask);
    const double p = static_cast<double>(run - i) / total[from];
    c.out_to[e] = to;
    c.out_p[e] = p;
    c.in_from[in_fill[to]] = from;
    c.in_p[in_fill[to]++] = p;
    i = run;
  }
  OrderComponents(c);
  return c;
}

Chain BuildChain(const PathSet& paths, int order) {
  int bits = 1;
  while (bits < 32 && (uint64_t{1} << bits) < paths.group_table.size()) {
    ++bits;
  }
  // The length takes 3 bits.
  if (order * bits + 3 <= 64) {
    return BuildChainWith<uint64_t>(paths, order, bits);
  }
  return BuildChainWith<unsigned __int128>(paths, order, bits);
}

// Solves one component, [begin, end) of `members`, for
// value[s] = base(s) + sum over the edges e of s of weight(e) * value[other]
// where the edges' other ends outside the component are already final:
// directly for a lone state, by Gauss-Seidel to double precision (no value
// moving by more than 1e-15 of itself) otherwise, Anderson-accelerated on
// large components. Returns false if `cancelled` stopped it.
template <typename Base, typename Edges>
bool SolveComponent(absl::Span<const uint32_t> members,
                    std::vector<double>& value, Base base, Edges edges,
                    const std::function<bool()>& cancelled) {
  if (members.size() == 1) {
    const uint32_t s = members[0];
    double self = 0;
    double v = base(s);
    edges(s, [&](uint32_t other, double weight) {
      if (other == s) {
        self += weight;
      } else {
        v += weight * value[other];
      }
    });
    value[s] = self < 1 ? v / (1 - self) : 0;
    return true;
  }
  // One Gauss-Seidel sweep, from the members' values as they are; true if
  // it moved none by more than 1e-15 of itself.
  auto sweep = [&]() {
    double delta = 0;
    for (uint32_t s : members) {
      double v = base(s);
      edges(s,
            [&](uint32_t other, double weight) { v += weight * value[other]; });
      delta = std::max(delta, std::abs(v - value[s]) / std::max(1.0, v));
      value[s] = v;
    }
    return delta < 1e-15;
  };
  constexpr size_t kAccelerateFrom = 64;
  const size_t m = members.size();
  if (m < kAccelerateFrom) {  // Small: plain sweeps cost less.
    for (int iter = 0; iter < 100000; ++iter) {
      if (cancelled && cancelled()) return false;
      if (sweep()) break;
    }
    return true;
  }
  // A plain sweep shrinks the error by a fixed factor, set by how likely a
  // walk is to go on (0.6-0.7 per sweep on a campaign-grain chain: 65-77
  // sweeps). The error is then almost all in a few slow directions, which
  // Anderson acceleration removes: each step starts the next sweep from the
  // combination of the last kDepth sweeps whose differences cancel best
  // (least squares). It only chooses where the next sweep starts; the
  // answer is still a sweep that moves no value by more than 1e-15.
  constexpr size_t kDepth = 4;
  std::vector<double> x(m), g(m), f(m), f_prev(m), g_prev(m);
  // The last kDepth changes of f and of g, oldest first; reused.
  std::vector<std::vector<double>> df, dg;
  for (size_t i = 0; i < m; ++i) x[i] = value[members[i]];
  for (int iter = 0; iter < 100000; ++iter) {
    if (cancelled && cancelled()) return false;
    if (sweep()) return true;
    for (size_t i = 0; i < m; ++i) {
      g[i] = value[members[i]];
      f[i] = g[i] - x[i];
    }
    if (iter > 0) {
      if (df.size() == kDepth) {
        std::rotate(df.begin(), df.begin() + 1, df.end());
        std::rotate(dg.begin(), dg.begin() + 1, dg.end());
      } else {
        df.emplace_back(m);
        dg.emplace_back(m);
      }
      for (size_t i = 0; i < m; ++i) {
        df.back()[i] = f[i] - f_prev[i];
        dg.back()[i] = g[i] - g_prev[i];
      }
    }
    f_prev.swap(f);
    g_prev.swap(g);
    // f_prev and g_prev are now this sweep's. Minimise |f - df gamma| by
    // the normal equations (their rounding only moves the next start).
    const size_t k = df.size();
    std::vector<double> gram(k * k), rhs(k);
    for (size_t r = 0; r < k; ++r) {
      for (size_t c = r; c < k; ++c) {
        double d = 0;
        for (size_t i = 0; i < m; ++i) d += df[r][i] * df[c][i];
        gram[r * k + c] = gram[c * k + r] = d;
      }
      for (size_t i = 0; i < m; ++i) rhs[r] += df[r][i] * f_prev[i];
    }
    const std::vector<double> gamma = SolveSpd(gram, std::move(rhs), k);
    const bool usable = std::all_of(gamma.begin(), gamma.end(),
                                    [](double v) { return std::isfinite(v); });
    for (size_t i = 0; i < m; ++i) {
      double v = g_prev[i];
      for (size_t j = 0; usable && j < k; ++j) v -= gamma[j] * dg[j][i];
      x[i] = v;
    }
    if (!usable) {
      df.clear();
      dg.clear();
    }
    for (size_t i = 0; i < m; ++i) value[members[i]] = x[i];
  }
  return true;
}

// The removals of up to kLanes groups at once (see FitMarkov). Lane l of a
// state's row is its flow (expected visits from the start) with group l's
// states R_l sent to null: 0 on R_l, the full chain's v on every state the
// walk cannot reach from R_l. D is the union of the groups' D's and their
// R's: one walk finds it, and each sweep reads an edge once for all lanes.
template <size_t kLanes>
class RemovalBlock {
  static_assert(kLanes >= 1 && kLanes <= 8, "a state's lanes are a byte");
  struct alignas(kLanes * sizeof(double)) Row {
    double lane[kLanes];
  };

 public:
  RemovalBlock(const Chain& chain, const std::vector<double>& x,
               const std::vector<double>& v,
               const std::vector<std::vector<uint32_t>>& states_of)
      : chain_(chain),
        x_(x),
        v_(v),
        states_of_(states_of),
        mark_(chain.size(), kOther),
        mask_(chain.size(), 0),
        local_(chain.size(), 0) {}

  // The conversion probability lost from the start when each group of
  // `groups` (at most kLanes) is removed, into lost[0..groups.size()).
  // reach[s] & reach_bits is nonzero iff s reaches a state of the groups.
  // False if `cancelled` stopped it.
  bool Solve(absl::Span<const uint32_t> groups,
             absl::Span<const uint64_t> reach, uint64_t reach_bits,
             double* lost, const std::function<bool()>& cancelled) {
    const Chain& c = chain_;
    removed_.clear();
    for (size_t l = 0; l < groups.size(); ++l) {
      for (uint32_t s : states_of_[groups[l]]) {
        if (mask_[s] == 0) removed_.push_back(s);
        mask_[s] |= static_cast<uint8_t>(1u << l);
      }
    }
    // D: the states reachable from R that reach it again, R included. A
    // walk from R finds them, stepping only onto states that reach R: every
    // state on a way from R to one of D reaches R too.
    d_ = removed_;
    for (uint32_t s : removed_) mark_[s] = kInD;
    for (size_t q = 0; q < d_.size(); ++q) {
      const uint32_t u = d_[q];
      for (uint32_t e = c.out_begin[u]; e < c.out_begin[u + 1]; ++e) {
        const uint32_t to = c.out_to[e];
        if (mark_[to] == kOther && (reach[to] & reach_bits) != 0) {
          mark_[to] = kInD;
          d_.push_back(to);
        }
      }
    }
    // A state that every group of the block removes carries no flow in
    // any lane: it is only a place where flow is lost. The rest of D is a
    // union of whole components, solved in topological order.
    const uint8_t all = static_cast<uint8_t>((1u << groups.size()) - 1);
    size_t live = 0;
    for (uint32_t s : d_) {
      if (mask_[s] == all) {
        mark_[s] = kDead;
      } else {
        d_[live++] = s;
      }
    }
    d_.resize(live);
    if (d_.size() * 32 < c.size()) {
      std::sort(d_.begin(), d_.end(), [&](uint32_t a, uint32_t b) {
        return c.place[a] < c.place[b];
      });
    } else {  // Cheaper to pick them out of the whole order.
      d_.clear();
      for (uint32_t s : c.topo) {
        if (mark_[s] == kInD) d_.push_back(s);
      }
    }
    const size_t m = d_.size();
    for (size_t i = 0; i < m; ++i) local_[d_[i]] = static_cast<uint32_t>(i);
    if (w_.size() < m) w_.resize(m);
    std::fill(lost, lost + groups.size(), 0.0);
    bool ok = true;
    for (size_t lo = 0; ok && lo < m;) {
      size_t hi = lo + 1;
      while (hi < m && c.comp[d_[hi]] == c.comp[d_[lo]]) ++hi;
      ok = hi - lo == 1 ? SolveLone(lo, groups.size(), lost)
                        : SolveCyclic(lo, hi, groups.size(), lost, cancelled);
      lo = hi;
    }
    for (size_t q = 0; ok && q < removed_.size(); ++q) {
      const uint32_t r = removed_[q];
      if (mark_[r] != kDead) continue;
      double into[kLanes] = {};
      for (uint32_t e = c.in_begin[r]; e < c.in_begin[r + 1]; ++e) {
        AddFlow(c.in_from[e], c.in_p[e], into);
      }
      AddLost(r, into, groups.size(), lost);
    }
    // Every marked state is in d_ or, dead, in removed_.
    for (uint32_t s : d_) mark_[s] = kOther;
    for (uint32_t s : removed_) {
      mark_[s] = kOther;
      mask_[s] = 0;
    }
    return ok;
  }

 private:
  enum : uint8_t { kOther, kInD, kDead };
  // SolveCyclic's Anderson depth (its normal equations are written out
  // for 2).
  static constexpr size_t kDepth = 2;

  // acc += p * (the flow of `from`: its row in D, else the full chain's).
  void AddFlow(uint32_t from, double p, double* acc) const {
    if (mark_[from] == kDead) return;
    if (mark_[from] == kInD) {
      const double* src = w_[local_[from]].lane;
      for (size_t l = 0; l < kLanes; ++l) acc[l] += p * src[l];
    } else {
      const double f = p * v_[from];
      for (size_t l = 0; l < kLanes; ++l) acc[l] += f;
    }
  }

  // The flow into R at state s, where its groups are removed, times the
  // conversion probability the walk loses there.
  void AddLost(uint32_t s, const double* into, size_t lanes,
               double* lost) const {
    const uint8_t zero = mask_[s];
    for (size_t l = 0; l < lanes; ++l) {
      if (zero >> l & 1) lost[l] += into[l] * x_[s];
    }
  }

  // A state that is a component of its own: directly.
  bool SolveLone(size_t i, size_t lanes, double* lost) {
    const uint32_t s = d_[i];
    double acc[kLanes];
    std::fill(acc, acc + kLanes, s == 0 ? 1.0 : 0.0);
    double self = 0;
    for (uint32_t e = chain_.in_begin[s]; e < chain_.in_begin[s + 1]; ++e) {
      const uint32_t from = chain_.in_from[e];
      if (from == s) {
        self += chain_.in_p[e];
      } else {
        AddFlow(from, chain_.in_p[e], acc);
      }
    }
    AddLost(s, acc, lanes, lost);
    const uint8_t zero = mask_[s];
    double* out = w_[i].lane;
    for (size_t l = 0; l < kLanes; ++l) {
      out[l] = (zero >> l & 1) || self >= 1 ? 0.0 : acc[l] / (1 - self);
    }
    return true;
  }

  // A component of D's states [lo, hi): its edges from outside it are
  // fixed, those within it are swept by Gauss-Seidel to double precision.
  bool SolveCyclic(size_t lo, size_t hi, size_t lanes, double* lost,
                   const std::function<bool()>& cancelled) {
    const size_t m = hi - lo;
    base_.resize(m);
    begin_.assign(1, 0);
    from_.clear();
    p_.clear();
    for (size_t i = lo; i < hi; ++i) {
      const uint32_t s = d_[i];
      double* acc = base_[i - lo].lane;
      std::fill(acc, acc + kLanes, s == 0 ? 1.0 : 0.0);
      for (uint32_t e = chain_.in_begin[s]; e < chain_.in_begin[s + 1]; ++e) {
        const uint32_t from = chain_.in_from[e];
        if (mark_[from] == kInD && local_[from] >= lo) {  // Within.
          from_.push_back(local_[from]);
          p_.push_back(chain_.in_p[e]);
        } else {
          AddFlow(from, chain_.in_p[e], acc);
        }
      }
      begin_.push_back(static_cast<uint32_t>(from_.size()));
      std::fill(w_[i].lane, w_[i].lane + kLanes, 0.0);
    }
    auto inflow = [&](size_t i, double* acc) {
      std::copy(base_[i - lo].lane, base_[i - lo].lane + kLanes, acc);
      for (uint32_t e = begin_[i - lo]; e < begin_[i - lo + 1]; ++e) {
        const double p = p_[e];
        const double* src = w_[from_[e]].lane;
        for (size_t l = 0; l < kLanes; ++l) acc[l] += p * src[l];
      }
    };
    // Anderson-accelerated on large components, as the free
    // SolveComponent, with depth kDepth = 2 and its history in floats: it only
    // chooses where the next sweep starts (the start's correction is small, and
    // rounding it to a float's precision costs nothing), and floats halve the
    // memory the history takes (28 bytes a state and lane). Order 2 by
    // campaign: 19-21 sweeps instead of 57-63. Not on components too large for
    // the caches: there each pass over the history costs as much as a sweep
    // (memory-bound), and order 3 by campaign (a component of 553,000 states)
    // was slower with it than without (attribution_bench: repeat purchase 5.9 s
    // plain, 9.2 s accelerated), besides its 124 MB a thread.
    const bool accelerate = m >= 64 && m * kLanes <= (size_t{1} << 20);
    const size_t len = accelerate ? m * kLanes : 0;
    f_.assign(len, 0.0f);
    f_prev_.assign(len, 0.0f);
    corr_.assign(len, 0.0f);
    for (auto& h : df_) h.assign(len, 0.0f);
    for (auto& h : dg_) h.assign(len, 0.0f);
    size_t history = 0;
    for (int iter = 0; iter < 100000; ++iter) {
      if (cancelled && cancelled()) return false;
      double delta = 0;
      for (size_t i = lo; i < hi; ++i) {
        double acc[kLanes];
        inflow(i, acc);
        const uint8_t zero = mask_[d_[i]];
        double* out = w_[i].lane;
        for (size_t l = 0; l < kLanes; ++l) {
          const double next = (zero >> l & 1) ? 0.0 : acc[l];
          delta =
              std::max(delta, std::abs(next - out[l]) / std::max(1.0, next));
          if (accelerate)
            f_[(i - lo) * kLanes + l] = static_cast<float>(next - out[l]);
          out[l] = next;
        }
      }
      if (delta < 1e-15) break;
      if (!accelerate) continue;
      if (iter == 0) {  // No history yet: the next sweep starts at g.
        f_prev_.swap(f_);
        continue;
      }
      // The newest differences (dg = g - g_prev = f - corr, as the last
      // start was g_prev - corr), and in the same pass the normal
      // equations of min |f - df gamma| over the last k of them.
      std::rotate(df_.begin(), df_.begin() + 1, df_.end());
      std::rotate(dg_.begin(), dg_.begin() + 1, dg_.end());
      history = std::min(history + 1, kDepth);
      const size_t k = history;
      std::vector<float>& df_new = df_[kDepth - 1];
      std::vector<float>& dg_new = dg_[kDepth - 1];
      const std::vector<float>& df_old = df_[0];
      double g00 = 0, g01 = 0, g11 = 0, r0 = 0, r1 = 0;
      for (size_t j = 0; j < len; ++j) {
        const float fj = f_[j];
        const float dn = fj - f_prev_[j];
        df_new[j] = dn;
        dg_new[j] = fj - corr_[j];
        const double o = df_old[j];
        g00 += o * o;
        g01 += o * dn;
        g11 += double{dn} * dn;
        r0 += o * fj;
        r1 += double{dn} * fj;
      }
      f_prev_.swap(f_);
      std::vector<double> gram, rhs;
      if (k == 1) {
        gram = {g11};
        rhs = {r1};
      } else {
        gram = {g00, g01, g01, g11};
        rhs = {r0, r1};
      }
      const std::vector<double> gamma = SolveSpd(gram, std::move(rhs), k);
      if (!std::all_of(gamma.begin(), gamma.end(),
                       [](double g) { return std::isfinite(g); })) {
        history = 0;
        std::fill(corr_.begin(), corr_.end(), 0.0f);
        continue;
      }
      for (size_t i = lo; i < hi; ++i) {
        double* out = w_[i].lane;
        for (size_t l = 0; l < kLanes; ++l) {
          const size_t j = (i - lo) * kLanes + l;
          double c = 0;
          for (size_t r = 0; r < k; ++r) c += gamma[r] * dg_[kDepth - k + r][j];
          corr_[j] = static_cast<float>(c);
          out[l] -= corr_[j];
        }
      }
    }
    for (size_t i = lo; i < hi; ++i) {
      if (mask_[d_[i]] == 0) continue;
      double into[kLanes];
      inflow(i, into);
      AddLost(d_[i], into, lanes, lost);
    }
    return true;
  }

  const Chain& chain_;
  const std::vector<double>& x_;
  const std::vector<double>& v_;
  const std::vector<std::vector<uint32_t>>& states_of_;
  std::vector<uint8_t> mark_;    // By state.
  std::vector<uint8_t> mask_;    // By state: the lanes that remove it.
  std::vector<uint32_t> local_;  // By state: its place in d_.
  std::vector<uint32_t> removed_, d_;
  std::vector<Row> w_;  // By place in d_: the flows, one lane per group.
  // The component being swept: its fixed inflows, and its in-edges from
  // within by place in d_.
  std::vector<Row> base_;
  // Its acceleration: this sweep's and the last sweep's changes, the last
  // start's correction, and the last kDepth differences of both.
  std::vector<float> f_, f_prev_, corr_;
  std::array<std::vector<float>, kDepth> df_, dg_;
  std::vector<uint32_t> begin_, from_;
  std::vector<double> p_;
};

// Fills lost[g], the conversion probability lost from the start when group
// g is removed, for every group with a state, kLanes groups at a time on
// `threads` threads. False if `cancelled` stopped it.
template <size_t kLanes>
bool RemoveInBlocks(const Chain& chain, const std::vector<double>& x,
                    const std::vector<double>& v,
                    const std::vector<std::vector<uint32_t>>& states_of,
                    int threads, const std::function<bool()>& cancelled,
                    std::vector<double>& lost) {
  std::vector<uint32_t> present;
  for (uint32_t g = 0; g < states_of.size(); ++g) {
    if (!states_of[g].empty()) present.push_back(g);
  }
  std::vector<uint32_t> chunk_of(states_of.size(), 0),
      bit_of(states_of.size(), 0);
  for (size_t i = 0; i < present.size(); ++i) {
    chunk_of[present[i]] = static_cast<uint32_t>(i / 64);
    bit_of[present[i]] = static_cast<uint32_t>(i % 64);
  }
  // 64 groups at a time: which of them each state reaches (its own
  // included), sinks first; a component shares one set.
  std::vector<uint64_t> reach(chain.size());
  const size_t comps = chain.comp_begin.size() - 1;
  threads = std::clamp<int>(threads, 1, 64);
  std::atomic<bool> stopped{false};
  for (size_t lo = 0; lo < present.size() && !stopped; lo += 64) {
    const uint32_t chunk = static_cast<uint32_t>(lo / 64);
    for (size_t k = comps; k-- > 0;) {
      uint64_t bits = 0;
      for (uint32_t i = chain.comp_begin[k]; i < chain.comp_begin[k + 1]; ++i) {
        const uint32_t s = chain.topo[i];
        const State& st = chain.states[s];
        for (uint8_t x = 0; x < st.len; ++x) {
          if (chunk_of[st.g[x]] == chunk)
            bits |= uint64_t{1} << bit_of[st.g[x]];
        }
        for (uint32_t e = chain.out_begin[s]; e < chain.out_begin[s + 1]; ++e) {
          const uint32_t to = chain.out_to[e];
          if (chain.comp[to] != k) bits |= reach[to];
        }
      }
      for (uint32_t i = chain.comp_begin[k]; i < chain.comp_begin[k + 1]; ++i) {
        reach[chain.topo[i]] = bits;
      }
    }
    const size_t hi = std::min(present.size(), lo + 64);
    const size_t blocks = (hi - lo + kLanes - 1) / kLanes;
    const int workers_here = static_cast<int>(
        std::min<size_t>(threads, std::max<size_t>(blocks, 1)));
    std::atomic<size_t> next{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < workers_here; ++t) {
      workers.emplace_back([&] {
        RemovalBlock<kLanes> block(chain, x, v, states_of);
        double block_lost[kLanes];
        for (size_t b; (b = next++) < blocks;) {
          if (stopped || (cancelled && cancelled())) {
            stopped = true;
            return;
          }
          const size_t first = lo + b * kLanes;
          const auto groups = absl::MakeConstSpan(present).subspan(
              first, std::min(kLanes, hi - first));
          uint64_t reach_bits = 0;
          for (uint32_t g : groups) reach_bits |= uint64_t{1} << bit_of[g];
          if (!block.Solve(groups, reach, reach_bits, block_lost, cancelled)) {
            stopped = true;
            return;
          }
          for (size_t l = 0; l < groups.size(); ++l) {
            lost[groups[l]] = block_lost[l];
          }
        }
      });
    }
    for (std::thread& t : workers) t.join();
  }
  return !stopped;
}

}  // namespace

// Removing a group sends the states that contain it, R, to null. The
// conversion probability lost from the start is then
//   d = sum over r in R of P(the walk's first state in R is r) * x[r],
// x the conversions' probabilities of the full chain, and the probability
// of entering R at r is the flow into r from states outside R. That flow
// equals the full chain's, v, at every state the walk cannot reach after
// leaving R; it differs only on D, the states outside R that lie between two
// states of R (reachable from R and reaching R), where it is solved again.
// D is empty unless the group recurs along paths, so a removal costs the
// edges around R and a walk over the states after R, not a solve of the
// whole chain: the work grows with the groups and the states, not with
// their product. Where groups recur (campaign grain at order 2-3: one
// component holds most states), D is most of the chain for every group;
// then 8 removals share each walk and each sweep (RemovalBlock's lanes).
MarkovFit FitMarkov(const PathSet& paths, int order, int threads,
                    const std::function<bool()>& cancelled) {
  MarkovFit fit;
  fit.removal_effects.assign(paths.group_table.size(), 0.0);
  const Chain chain = BuildChain(paths, std::clamp(order, 1, 4));
  const size_t n = chain.size();
  const size_t comps = chain.comp_begin.size() - 1;
  auto members = [&](size_t k) {
    return absl::MakeConstSpan(chain.topo)
        .subspan(chain.comp_begin[k],
                 chain.comp_begin[k + 1] - chain.comp_begin[k]);
  };
  // x: P(conversion) from each state, sinks first. v: expected visits of
  // each state from the start, sources first. The two solves are
  // independent: on two threads when the request has them.
  std::vector<double> x(n, 0.0);
  std::vector<double> v(n, 0.0);
  auto solve_x = [&] {
    for (size_t k = comps; k-- > 0;) {
      if (!SolveComponent(
              members(k), x, [&](uint32_t s) { return chain.to_conversion[s]; },
              [&](uint32_t s, auto&& f) {
                for (uint32_t e = chain.out_begin[s];
                     e < chain.out_begin[s + 1]; ++e) {
                  f(chain.out_to[e], chain.out_p[e]);
                }
              },
              cancelled)) {
        return false;
      }
    }
    return true;
  };
  auto solve_v = [&] {
    for (size_t k = 0; k < comps; ++k) {
      if (!SolveComponent(
              members(k), v, [](uint32_t s) { return s == 0 ? 1.0 : 0.0; },
              [&](uint32_t s, auto&& f) {
                for (uint32_t e = chain.in_begin[s]; e < chain.in_begin[s + 1];
                     ++e) {
                  f(chain.in_from[e], chain.in_p[e]);
                }
              },
              cancelled)) {
        return false;
      }
    }
    return true;
  };
  bool v_ok = true;
  std::thread v_thread;
  if (threads > 1) {
    v_thread = std::thread([&] { v_ok = solve_v(); });
  }
  const bool x_ok = solve_x();
  if (threads > 1) {
    v_thread.join();
  } else if (x_ok) {
    v_ok = solve_v();
  }
  if (!x_ok || !v_ok) {
    fit.cancelled = true;
    return fit;
  }
  fit.p_conversion = x[0];
  if (fit.p_conversion <= 0) return fit;
  std::vector<std::vector<uint32_t>> states_of(paths.group_table.size());
  for (uint32_t s = 1; s < n; ++s) {
    const State& st = chain.states[s];
    for (uint8_t i = 0; i < st.len; ++i) {
      auto& list = states_of[st.g[i]];
      if (list.empty() || list.back() != s) list.push_back(s);
    }
  }
  // Lanes pay where sweeps dominate: when most states lie in components
  // of more than one state (recurring groups). On a chain that is almost a
  // DAG a block's rows would carry kLanes flows where one or two differ.
  size_t cyclic = 0;
  for (size_t k = 0; k < comps; ++k) {
    const size_t size = chain.comp_begin[k + 1] - chain.comp_begin[k];
    if (size > 1) cyclic += size;
  }
  const bool ok = cyclic * 2 >= n
                      ? RemoveInBlocks<8>(chain, x, v, states_of, threads,
                                          cancelled, fit.removal_effects)
                      : RemoveInBlocks<1>(chain, x, v, states_of, threads,
                                          cancelled, fit.removal_effects);
  fit.cancelled = !ok;
  for (double& re : fit.removal_effects) {
    re = std::min(1.0, re / fit.p_conversion);
  }
  return fit;
}

namespace {

// Credit sums in fixed point, exact and so independent of the order the
// journeys come in (the index holds customers in another order after a
// restart; a floating-point sum would then differ in its last bits).
// Conversion shares (at most 1 each) are kept to 2^-60, revenue credits (at
// most 10^15 micros each) to 2^-30 micros: far below a double's precision
// in the total, and with room for 10^13 journeys without overflow.
class ExactCredits {
 public:
  explicit ExactCredits(size_t groups) : conv_(groups, 0), rev_(groups, 0) {}
  void Add(uint32_t group, double share, int64_t revenue) {
    conv_[group] += Fixed(share, kConvScale);
    rev_[group] += Fixed(share * static_cast<double>(revenue), kRevScale);
  }
  void WriteTo(Credits& credits) const {
    for (size_t g = 0; g < conv_.size(); ++g) {
      credits.conversions[g] = static_cast<double>(conv_[g]) / kConvScale;
      credits.revenue_micros[g] = static_cast<double>(rev_[g]) / kRevScale;
    }
  }

 private:
  static constexpr double kConvScale = 1152921504606846976.0;  // 2^60
  static constexpr double kRevScale = 1073741824.0;            // 2^30
  static __int128 Fixed(double v, double scale) {
    return static_cast<__int128>(std::nearbyint(v * scale));
  }
  std::vector<__int128> conv_;
  std::vector<__int128> rev_;
};

// Weights |S|! (m - |S| - 1)! / m! by m and |S|.
const std::vector<std::vector<double>>& ShapleyWeights() {
  static const auto* weights = [] {
    auto* w = new std::vector<std::vector<double>>(kMaxShapleyGroups + 1);
    for (int m = 1; m <= kMaxShapleyGroups; ++m) {
      (*w)[m].resize(m);
      for (int s = 0; s < m; ++s) {
        (*w)[m][s] = std::exp(std::lgamma(s + 1) + std::lgamma(m - s) -
                              std::lgamma(m + 1));
      }
    }
    return w;
  }();
  return *weights;
}

void ShapleyCredits(const PathSet& paths, int threads, Credits& credits) {
  const ShapleyShareTable table(paths, threads, /*findable=*/false);
  const GroupSets& sets = table.sets();
  const std::vector<double>& shares = table.shares();
  ExactCredits sums(credits.conversions.size());
  for (size_t j = 0; j < paths.size(); ++j) {
    if (!paths.converted[j]) continue;
    const uint32_t s = sets.of_path[j];
    if (sets.begin[s + 1] - sets.begin[s] >
        static_cast<uint32_t>(kMaxShapleyGroups)) {
      ++credits.shapley_equal_split;
    }
    for (uint32_t x = sets.begin[s]; x < sets.begin[s + 1]; ++x) {
      sums.Add(sets.groups[x], shares[x], paths.revenue_micros[j]);
    }
  }
  sums.WriteTo(credits);
}

}  // namespace

uint64_t CustomerKey(absl::string_view customer_id) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : customer_id) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

std::vector<uint32_t> GroupSet(absl::Span<const uint32_t> path) {
  std::vector<uint32_t> set(path.begin(), path.end());
  std::sort(set.begin(), set.end());
  set.erase(std::unique(set.begin(), set.end()), set.end());
  return set;
}

size_t SetHash(absl::Span<const uint32_t> set) { return absl::HashOf(set); }

GroupSets::GroupSets(const PathSet& paths) {
  of_path.resize(paths.size());
  begin.push_back(0);
  using attribution_internal::SetKey;
  attribution_internal::SetIds ids(0, attribution_internal::SetIdHash{this},
                                   attribution_internal::SetIdEq{this});
  std::vector<uint32_t> set;
  for (size_t j = 0; j < paths.size(); ++j) {
    const absl::Span<const uint32_t> p = paths.path(j);
    set.assign(p.begin(), p.end());
    std::sort(set.begin(), set.end());
    set.erase(std::unique(set.begin(), set.end()), set.end());
    const SetKey key{set, SetHash(set)};
    auto it = ids.find(key);
    uint32_t id;
    if (it != ids.end()) {
      id = *it;
    } else {
      id = static_cast<uint32_t>(size());
      groups.insert(groups.end(), set.begin(), set.end());
      begin.push_back(static_cast<uint32_t>(groups.size()));
      total.push_back(0);
      converted.push_back(0);
      hashes.push_back(key.hash);
      ids.insert(id);
    }
    of_path[j] = id;
    total[id] += 1;
    converted[id] += paths.converted[j];
  }
}

ShapleyShareTable::ShapleyShareTable(const PathSet& paths, int threads,
                                     bool findable)
    : sets_(paths), game_(sets_), shares_(sets_.groups.size(), 0.0) {
  // The shares of every set that converted, on `threads` threads.
  std::atomic<size_t> next{0};
  auto work = [&] {
    constexpr size_t kChunk = 256;
    for (size_t lo; (lo = next.fetch_add(kChunk)) < sets_.size();) {
      for (size_t s = lo; s < std::min(lo + kChunk, sets_.size()); ++s) {
        if (sets_.converted[s] == 0) continue;
        const absl::Span<const uint32_t> set = sets_.set(s);
        const std::vector<double> phi =
            game_.Shares(std::vector<uint32_t>(set.begin(), set.end()));
        std::copy(phi.begin(), phi.end(), shares_.begin() + sets_.begin[s]);
      }
    }
  };
  std::vector<std::thread> workers;
  for (int t = 1; t < std::clamp(threads, 1, 64); ++t) {
    workers.emplace_back(work);
  }
  work();
  for (std::thread& t : workers) t.join();
  if (!findable) return;
  for (uint32_t s = 0; s < sets_.size(); ++s) {
    if (sets_.converted[s] > 0) converted_.insert(s);
  }
}

const double* ShapleyShareTable::Find(absl::Span<const uint32_t> set) const {
  auto it = converted_.find(attribution_internal::SetKey{set, SetHash(set)});
  return it == converted_.end() ? nullptr : shares_.data() + sets_.begin[*it];
}

ShapleyGame::ShapleyGame(const PathSet& paths)
    : ShapleyGame(GroupSets(paths)) {}

ShapleyGame::ShapleyGame(const GroupSets& sets) {
  // Only coalitions with a value count; the trie holds those. They are
  // taken in lexicographic order of their sorted groups, so that the sets
  // below a prefix come together: each set then shares with the one before
  // it all of the trie's path it shares with any earlier set, and the trie
  // is built with a stack of the previous set's nodes. The sort compares
  // the first two groups packed in a key (a missing group before any).
  std::vector<std::pair<uint64_t, uint32_t>> valued;
  for (uint32_t s = 0; s < sets.size(); ++s) {
    if (sets.converted[s] == 0) continue;
    const absl::Span<const uint32_t> x = sets.set(s);
    const uint64_t key = (x.empty() ? 0 : uint64_t{x[0]} + 1) << 32 |
                         (x.size() < 2 ? 0 : x[1] + 1);
    valued.emplace_back(key, s);
  }
  std::sort(valued.begin(), valued.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    // Same key: both hold the same first two groups.
    const absl::Span<const uint32_t> x = sets.set(a.second).subspan(2),
                                     y = sets.set(b.second).subspan(2);
    return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end());
  });
  // Nodes in the order they are made: node 0 is the empty set.
  std::vector<double> value = {0};
  std::vector<uint32_t> parent = {0};
  std::vector<uint32_t> label = {0};  // The group leading to the node.
  std::vector<uint32_t> stack;        // The previous set's nodes, by depth.
  absl::Span<const uint32_t> previous;
  for (const auto& [key, s] : valued) {
    const absl::Span<const uint32_t> x = sets.set(s);
    size_t shared = 0;
    while (shared < x.size() && shared < previous.size() &&
           x[shared] == previous[shared]) {
      ++shared;
    }
    stack.resize(shared);
    uint32_t node = shared == 0 ? 0 : stack.back();
    for (size_t d = shared; d < x.size(); ++d) {
      const auto made = static_cast<uint32_t>(value.size());
      value.push_back(0);
      parent.push_back(node);
      label.push_back(x[d]);
      stack.push_back(made);
      node = made;
    }
    value[node] = sets.converted[s] / sets.total[s];
    previous = x;
  }
  // A node's children, in the order made: by group.
  const size_t n = value.size();
  std::vector<uint32_t> children_begin(n + 1, 0);
  for (size_t u = 1; u < n; ++u) ++children_begin[parent[u] + 1];
  for (size_t u = 0; u < n; ++u) children_begin[u + 1] += children_begin[u];
  std::vector<uint32_t> children(n > 0 ? n - 1 : 0);
  {
    std::vector<uint32_t> at(children_begin.begin(), children_begin.end() - 1);
    for (size_t u = 1; u < n; ++u) {
      children[at[parent[u]]++] = static_cast<uint32_t>(u);
    }
  }
  // Renumbered breadth first, so that a node's children are consecutive
  // nodes (by group) and the small coalitions, which every walk passes,
  // lie together at the front: a walk down the trie reads a few
  // contiguous entries per node, not a hash probe per group it tries.
  nodes_.resize(n);
  group_.assign(n, 0);
  std::vector<uint32_t> order = {0};  // Nodes as made, breadth first.
  order.reserve(n);
  for (size_t u = 0; u < order.size(); ++u) {
    const uint32_t old = order[u];
    nodes_[u].value = value[old];
    nodes_[u].first_child = static_cast<uint32_t>(order.size());
    nodes_[u].children = children_begin[old + 1] - children_begin[old];
    for (uint32_t e = children_begin[old]; e < children_begin[old + 1]; ++e) {
      group_[order.size()] = label[children[e]];
      order.push_back(children[e]);
    }
  }
}

std::vector<double> ShapleyGame::Shares(const std::vector<uint32_t>& t) const {
  const int m = static_cast<int>(t.size());
  if (m == 0) return {};
  if (m > kMaxShapleyGroups) return std::vector<double>(m, 1.0 / m);
  // phi[x] = sum over S of t without x of w(|S|) (v(S + x) - v(S)). Only
  // the coalitions with a value count, so it is summed over those among the
  // subsets of t, each S adding w(|S| - 1) v(S) to its members and taking
  // w(|S|) v(S) from the others: the work follows the coalitions seen, not
  // the 2^m subsets. Taking w(|S|) v(S) from everyone and giving it back to
  // the members, a coalition costs one step per member, not one per group:
  // phi[x] = member[x] - all, member[x] summing (w(|S| - 1) + w(|S|)) v(S)
  // over the S that hold x, `all` summing w(|S|) v(S) (w(m) = 0: t itself
  // leaves no one out).
  const std::vector<double>& weight = ShapleyWeights()[m];
  double member[kMaxShapleyGroups] = {};
  double all = 0;
  struct Frame {
    uint32_t node;
    int next;  // Position in t of the next group that may follow.
    uint32_t mask;
    int size;
  };
  // Breadth first, so that the nodes a frame adds are fetched from memory
  // while the frames before them run; a frame's children's groups are
  // fetched kAhead frames before it runs (its node has arrived by then).
  constexpr size_t kAhead = 4;
  thread_local std::vector<Frame> queue;  // Kept: most sets need a few dozen.
  queue.assign(1, {0, 0, 0, 0});
  for (size_t head = 0; head < queue.size(); ++head) {
    if (head + kAhead < queue.size()) {
      __builtin_prefetch(group_.data() +
                         nodes_[queue[head + kAhead].node].first_child);
    }
    const Frame f = queue[head];
    const Node& node = nodes_[f.node];
    if (f.size > 0 && node.value > 0) {
      const double v = node.value;
      const double out = f.size < m ? weight[f.size] * v : 0.0;
      const double in = weight[f.size - 1] * v + out;
      all += out;
      for (uint32_t bits = f.mask; bits != 0; bits &= bits - 1) {
        member[__builtin_ctz(bits)] += in;
      }
    }
    // The node's children among t[next, m), both sorted: merged when the
    // node has few children, else by binary search.
    const uint32_t* first = group_.data() + node.first_child;
    const uint32_t* q = first;
    const uint32_t* end = first + node.children;
    auto push = [&](const uint32_t* at, int i) __attribute__((always_inline)) {
      const uint32_t child =
          node.first_child + static_cast<uint32_t>(at - first);
      __builtin_prefetch(&nodes_[child]);
      queue.push_back({child, i + 1, f.mask | (1u << i), f.size + 1});
    };
    if (node.children <= 16) {
      for (int i = f.next; i < m && q != end;) {
        if (*q < t[i]) {
          ++q;
        } else if (*q > t[i]) {
          ++i;
        } else {
          push(q++, i++);
        }
      }
    } else {
      for (int i = f.next; i < m && q != end; ++i) {
        q = std::lower_bound(q, end, t[i]);
        if (q != end && *q == t[i]) push(q, i);
      }
    }
  }
  std::vector<double> phi(m);
  double sum = 0;
  for (int x = 0; x < m; ++x) {
    phi[x] = std::max(member[x] - all, 0.0);
    sum += phi[x];
  }
  for (double& p : phi) p = sum > 0 ? p / sum : 1.0 / m;
  return phi;
}

int FindGroup(const std::vector<Group>& table, const Group& group) {
  auto it = std::lower_bound(table.begin(), table.end(), group, GroupLess);
  if (it == table.end() || it->channel != group.channel ||
      it->campaign != group.campaign) {
    return -1;
  }
  return static_cast<int>(it - table.begin());
}

std::vector<CustomerConversion> ExtractCustomer(
    const IndexSnapshot& index, const IndexSnapshot::Customer& customer,
    const PathQuery& query, std::vector<Group>* group_table) {
  RawPaths raw;
  raw.record_positions = true;
  Extractor(index, query, raw).Customer(customer.events);
  group_table->clear();
  for (uint64_t key : raw.keys) {
    group_table->push_back(GroupOfKey(index, key, query.by_campaign));
  }
  std::sort(group_table->begin(), group_table->end(), GroupLess);
  group_table->erase(std::unique(group_table->begin(), group_table->end(),
                                 [](const Group& a, const Group& b) {
                                   return a.channel == b.channel &&
                                          a.campaign == b.campaign;
                                 }),
                     group_table->end());
  std::vector<CustomerConversion> out;
  size_t touch = 0;
  for (size_t j = 0; j < raw.lengths.size(); ++j) {
    const uint32_t n = raw.lengths[j];
    if (!raw.converted[j]) {
      touch += n;
      continue;
    }
    CustomerConversion& c = out.emplace_back();
    c.conversion_pos = raw.conversion_pos[j];
    c.conversion_us = raw.conversion_us[j];
    c.revenue_micros = raw.revenue_micros[j];
    for (uint32_t i = 0; i < n; ++i, ++touch) {
      c.touch_pos.push_back(raw.touch_pos[touch]);
      c.groups.push_back(static_cast<uint32_t>(
          FindGroup(*group_table,
                    GroupOfKey(index, raw.keys[touch], query.by_campaign))));
      c.times.push_back(raw.times[touch]);
    }
  }
  return out;
}

Credits Attribute(const PathSet& paths, const ModelParams& model, int threads,
                  const std::function<bool()>& cancelled) {
  Credits credits;
  credits.conversions.assign(paths.group_table.size(), 0.0);
  credits.revenue_micros.assign(paths.group_table.size(), 0.0);
  if (model.kind == ModelKind::kIncremental) {
    IncrementalParams p;
    p.half_life_us = model.incremental_half_life_us;
    IncrementalResult r = FitIncremental(paths, p, threads, cancelled);
    r.credits.cancelled = r.cancelled;
    return std::move(r.credits);
  }
  if (model.kind == ModelKind::kMarkov) {
    const MarkovFit fit = FitMarkov(paths, model.order, threads, cancelled);
    if (fit.cancelled) {
      credits.cancelled = true;
      return credits;
    }
    double sum = 0;
    for (double re : fit.removal_effects) sum += re;
    if (sum <= 0) return credits;
    // Every conversion is split by the removal-effect shares.
    double conversions = 0;
    double revenue = 0;
    for (size_t j = 0; j < paths.size(); ++j) {
      if (!paths.converted[j]) continue;
      conversions += 1;
      revenue += static_cast<double>(paths.revenue_micros[j]);
    }
    for (size_t g = 0; g < fit.removal_effects.size(); ++g) {
      credits.conversions[g] = fit.removal_effects[g] / sum * conversions;
      credits.revenue_micros[g] = fit.removal_effects[g] / sum * revenue;
    }
    return credits;
  }
  if (model.kind == ModelKind::kShapley) {
    ShapleyCredits(paths, threads, credits);
    return credits;
  }
  ExactCredits sums(credits.conversions.size());
  for (size_t j = 0; j < paths.size(); ++j) {
    if (!paths.converted[j]) continue;
    absl::Span<const uint32_t> p = paths.path(j);
    const std::vector<double> w =
        TouchWeights(model, p, paths.path_times(j), paths.conversion_us[j],
                     paths.group_table);
    for (size_t i = 0; i < p.size(); ++i) {
      sums.Add(p[i], w[i], paths.revenue_micros[j]);
    }
  }
  sums.WriteTo(credits);
  return credits;
}

}  // namespace attribution

#include "service/core/attribution.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <thread>
#include <tuple>

#include "absl/container/flat_hash_map.h"
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
  bool operator==(const State& o) const { return len == o.len && g == o.g; }
  template <typename H>
  friend H AbslHashValue(H h, const State& s) {
    return H::combine(std::move(h), s.g, s.len);
  }
};

// The absorbing chain: state 0 is the start. Transition counts in CSR form.
struct Chain {
  std::vector<State> states;
  std::vector<std::vector<std::pair<uint32_t, double>>> out;  // to, count
  std::vector<double> to_conversion;
  std::vector<double> to_null;
};

Chain BuildChain(const PathSet& paths, int order) {
  Chain c;
  absl::flat_hash_map<State, uint32_t> ids;
  c.states.push_back(State{});  // Start.
  c.out.emplace_back();
  c.to_conversion.push_back(0);
  c.to_null.push_back(0);
  auto id_of = [&](const State& s) {
    auto [it, inserted] =
        ids.try_emplace(s, static_cast<uint32_t>(c.states.size()));
    if (inserted) {
      c.states.push_back(s);
      c.out.emplace_back();
      c.to_conversion.push_back(0);
      c.to_null.push_back(0);
    }
    return it->second;
  };
  absl::flat_hash_map<uint64_t, double> edges;
  std::vector<uint32_t> seq;
  for (size_t j = 0; j < paths.size(); ++j) {
    absl::Span<const uint32_t> p = paths.path(j);
    seq.clear();
    const size_t k = static_cast<size_t>(order);
    const size_t windows = p.size() < k ? 1 : p.size() - k + 1;
    for (size_t i = 0; i < windows; ++i) {
      State s;
      s.len = static_cast<uint8_t>(std::min(k, p.size()));
      for (size_t x = 0; x < s.len; ++x) s.g[x] = p[i + x];
      const uint32_t id = id_of(s);
      if (seq.empty() || seq.back() != id) seq.push_back(id);
    }
    uint32_t from = 0;
    for (uint32_t to : seq) {
      edges[(uint64_t{from} << 32) | to] += 1;
      from = to;
    }
    if (paths.converted[j]) {
      c.to_conversion[from] += 1;
    } else {
      c.to_null[from] += 1;
    }
  }
  // Edges in a fixed order, so that sums run the same way every time.
  std::vector<std::pair<uint64_t, double>> sorted(edges.begin(), edges.end());
  std::sort(sorted.begin(), sorted.end());
  for (const auto& [key, count] : sorted) {
    c.out[key >> 32].push_back({static_cast<uint32_t>(key), count});
  }
  return c;
}

// P(conversion) from every state with the states in `removed` leading to
// null, starting from `x` (an upper bound, e.g. the solution without removals,
// or zeros). Gauss-Seidel on x_s = P(s -> conversion) + sum_t P(s -> t) x_t,
// run until no value moves by more than 1e-15: exact to double precision.
// Returns false if `cancelled` stopped it.
bool SolveChain(const Chain& c, const std::vector<double>& total,
                const std::vector<uint8_t>& removed, std::vector<double>& x,
                const std::function<bool()>& cancelled) {
  const size_t n = c.states.size();
  for (size_t s = 0; s < n; ++s) {
    if (removed[s]) x[s] = 0;
  }
  for (int iter = 0; iter < 100000; ++iter) {
    // A poll is cheap next to a sweep over every state.
    if (cancelled && cancelled()) return false;
    double delta = 0;
    // Later states first: paths mostly move forward, so values flow back
    // to the start in few sweeps.
    for (size_t s = n; s-- > 0;) {
      if (removed[s] || total[s] == 0) continue;
      double v = c.to_conversion[s];
      for (const auto& [to, count] : c.out[s]) v += count * x[to];
      v /= total[s];
      delta = std::max(delta, std::abs(v - x[s]));
      x[s] = v;
    }
    if (delta < 1e-15) break;
  }
  return true;
}

}  // namespace

MarkovFit FitMarkov(const PathSet& paths, int order, int threads,
                    const std::function<bool()>& cancelled) {
  MarkovFit fit;
  fit.removal_effects.assign(paths.group_table.size(), 0.0);
  const Chain chain = BuildChain(paths, std::clamp(order, 1, 4));
  const size_t n = chain.states.size();
  std::vector<double> total(n, 0);
  for (size_t s = 0; s < n; ++s) {
    total[s] = chain.to_conversion[s] + chain.to_null[s];
    for (const auto& [to, count] : chain.out[s]) total[s] += count;
  }
  std::vector<double> full(n, 0.0);
  if (!SolveChain(chain, total, std::vector<uint8_t>(n, 0), full, cancelled)) {
    fit.cancelled = true;
    return fit;
  }
  fit.p_conversion = full[0];
  if (fit.p_conversion <= 0) return fit;
  std::vector<std::vector<uint32_t>> states_of(paths.group_table.size());
  for (uint32_t s = 1; s < n; ++s) {
    const State& st = chain.states[s];
    for (uint8_t x = 0; x < st.len; ++x) {
      auto& list = states_of[st.g[x]];
      if (list.empty() || list.back() != s) list.push_back(s);
    }
  }
  // One independent solve per group, each warm-started from the full
  // solution (removing states only lowers values), spread over the threads.
  threads = std::max(1, std::min<int>(threads, 64));
  std::atomic<bool> stopped{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::vector<uint8_t> removed(n, 0);
      std::vector<double> x;
      for (size_t g = t; g < states_of.size(); g += threads) {
        if (states_of[g].empty()) continue;
        std::fill(removed.begin(), removed.end(), 0);
        for (uint32_t s : states_of[g]) removed[s] = 1;
        x = full;
        if (stopped || !SolveChain(chain, total, removed, x, cancelled)) {
          stopped = true;
          return;
        }
        fit.removal_effects[g] = 1 - x[0] / fit.p_conversion;
      }
    });
  }
  for (std::thread& w : workers) w.join();
  fit.cancelled = stopped;
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

void ShapleyCredits(const PathSet& paths, Credits& credits) {
  const ShapleyGame game(paths);
  ExactCredits sums(credits.conversions.size());
  absl::flat_hash_map<std::vector<uint32_t>, std::vector<double>> shares;
  for (size_t j = 0; j < paths.size(); ++j) {
    if (!paths.converted[j]) continue;
    std::vector<uint32_t> set = GroupSet(paths.path(j));
    if (set.size() > static_cast<size_t>(kMaxShapleyGroups)) {
      ++credits.shapley_equal_split;
    }
    auto [it, inserted] = shares.try_emplace(set);
    if (inserted) it->second = game.Shares(set);
    for (size_t x = 0; x < set.size(); ++x) {
      sums.Add(set[x], it->second[x], paths.revenue_micros[j]);
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

ShapleyGame::ShapleyGame(const PathSet& paths) {
  for (size_t j = 0; j < paths.size(); ++j) {
    Rate& r = rates_[GroupSet(paths.path(j))];
    r.total += 1;
    r.converted += paths.converted[j];
  }
}

double ShapleyGame::Value(const std::vector<uint32_t>& set) const {
  auto it = rates_.find(set);
  return it == rates_.end() ? 0.0 : it->second.converted / it->second.total;
}

std::vector<double> ShapleyGame::Shares(const std::vector<uint32_t>& t) const {
  const int m = static_cast<int>(t.size());
  if (m == 0) return {};
  if (m > kMaxShapleyGroups) return std::vector<double>(m, 1.0 / m);
  const uint32_t full = (1u << m) - 1;
  std::vector<double> v(full + 1, 0.0);
  std::vector<uint32_t> subset;
  for (uint32_t mask = 1; mask <= full; ++mask) {
    subset.clear();
    for (int x = 0; x < m; ++x) {
      if (mask & (1u << x)) subset.push_back(t[x]);
    }
    v[mask] = Value(subset);
  }
  const std::vector<double>& weight = ShapleyWeights()[m];
  std::vector<double> phi(m, 0.0);
  for (uint32_t mask = 0; mask < full; ++mask) {
    const int size = __builtin_popcount(mask);
    for (int x = 0; x < m; ++x) {
      if (mask & (1u << x)) continue;
      phi[x] += weight[size] * (v[mask | (1u << x)] - v[mask]);
    }
  }
  double sum = 0;
  for (double& p : phi) {
    p = std::max(p, 0.0);
    sum += p;
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
    ShapleyCredits(paths, credits);
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

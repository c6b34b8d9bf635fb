// The engine on hand-made journeys with hand-computed expectations, plus a
// property test over random journeys.
#include "service/core/attribution.h"

#include <atomic>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace attribution {
namespace {

using ::testing::DoubleNear;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr int64_t kHour = 3600LL * 1'000'000;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kBase = 1'767'225'600LL * 1'000'000;  // 2026-01-01.

class Journeys {
 public:
  // A touch `day` days (plus `hour` hours) after the base.
  Journeys& Touch(const std::string& customer, const std::string& channel,
                  int64_t at, Stage stage = Stage::kUnspecified,
                  const std::string& id = "") {
    Event e;
    e.type = EventType::kTouchpoint;
    e.event_id = id.empty() ? absl::StrCat("e", next_++) : id;
    e.customer_id = customer;
    e.occurred_at_us = kBase + at;
    e.channel = channel;
    e.campaign = "c1";
    e.interaction = Interaction::kClick;
    e.stage = stage;
    return Add(e);
  }
  Journeys& Buy(const std::string& customer, int64_t at, int64_t revenue = 0,
                ConversionKind kind = ConversionKind::kPurchase) {
    Event e;
    e.type = EventType::kConversion;
    e.event_id = absl::StrCat("e", next_++);
    e.customer_id = customer;
    e.occurred_at_us = kBase + at;
    e.kind = kind;
    e.revenue_micros = revenue;
    return Add(e);
  }
  Journeys& Churn(const std::string& customer, int64_t at) {
    return Buy(customer, at, 0, ConversionKind::kChurn);
  }
  // Ties: the caller adds events of one instant in event_id order.
  Journeys& Add(const Event& e) {
    index_.Insert(e, [] { return SIZE_MAX; });
    return *this;
  }
  // What queries read: a snapshot of everything added so far.
  IndexSnapshot index() const { return index_.Snapshot(); }

 private:
  WorkspaceIndex index_;
  int next_ = 100;
};

PathQuery Query(Goal goal, int64_t lookback = 30 * kDay) {
  PathQuery q;
  q.goal = goal;
  q.start_us = kBase;
  q.end_us = kBase + 365 * kDay;
  q.lookback_us = lookback;
  q.horizon_us = 90 * kDay;
  q.now_us = kBase + 1000 * kDay;
  return q;
}

ModelParams M(ModelKind kind) {
  ModelParams m;
  m.kind = kind;
  return m;
}

// channel -> credited conversions.
std::map<std::string, double> Credit(const PathSet& paths,
                                     const ModelParams& model) {
  const Credits c = Attribute(paths, model);
  std::map<std::string, double> out;
  for (size_t g = 0; g < c.conversions.size(); ++g) {
    if (c.conversions[g] != 0)
      out[paths.group_table[g].channel] = c.conversions[g];
  }
  return out;
}

const ModelKind kAllModels[] = {
    ModelKind::kFirstTouch,    ModelKind::kLastTouch,
    ModelKind::kLastNonDirect, ModelKind::kLinear,
    ModelKind::kPositionBased, ModelKind::kTimeDecay,
    ModelKind::kMarkov,        ModelKind::kShapley};

TEST(AttributionTest, OneTouchPathGetsEverythingUnderEveryModel) {
  Journeys j;
  j.Touch("a", "instagram", 1 * kDay).Buy("a", 2 * kDay, 100'000'000);
  const PathSet paths = ExtractPaths(j.index(), Query(Goal::kAcquisition), 2);
  ASSERT_EQ(paths.size(), 1u);
  for (ModelKind kind : kAllModels) {
    const Credits c = Attribute(paths, M(kind));
    ASSERT_EQ(c.conversions.size(), 1u);
    EXPECT_DOUBLE_EQ(c.conversions[0], 1.0) << static_cast<int>(kind);
    EXPECT_DOUBLE_EQ(c.revenue_micros[0], 100'000'000.0);
  }
}

TEST(AttributionTest, LastNonDirectSkipsDirectUnlessThePathIsAllDirect) {
  Journeys j;
  j.Touch("a", "facebook", 1 * kDay)
      .Touch("a", "direct", 2 * kDay)
      .Buy("a", 3 * kDay)
      .Touch("b", "direct", 1 * kDay)
      .Touch("b", "direct", 2 * kDay)
      .Buy("b", 3 * kDay);
  const PathSet paths = ExtractPaths(j.index(), Query(Goal::kAcquisition), 1);
  EXPECT_THAT(Credit(paths, M(ModelKind::kLastNonDirect)),
              UnorderedElementsAre(Pair("facebook", 1.0), Pair("direct", 1.0)));
  EXPECT_THAT(Credit(paths, M(ModelKind::kLastTouch)),
              UnorderedElementsAre(Pair("direct", 2.0)));
}

TEST(AttributionTest, EqualTimestampsAreOrderedByEventId) {
  Journeys j;
  j.Touch("a", "facebook", 1 * kDay, Stage::kUnspecified, "id-a")
      .Touch("a", "email", 1 * kDay, Stage::kUnspecified, "id-b")
      .Buy("a", 1 * kDay);  // Same instant: the touches are on its path.
  const PathSet paths = ExtractPaths(j.index(), Query(Goal::kAcquisition), 1);
  EXPECT_THAT(Credit(paths, M(ModelKind::kFirstTouch)),
              UnorderedElementsAre(Pair("facebook", 1.0)));
  EXPECT_THAT(Credit(paths, M(ModelKind::kLastTouch)),
              UnorderedElementsAre(Pair("email", 1.0)));
}

TEST(AttributionTest, ConversionWithoutTouchInLookbackIsReportedNotCredited) {
  Journeys j;
  j.Touch("a", "tiktok", 0).Buy("a", 40 * kDay, 5'000'000);
  const PathSet paths = ExtractPaths(j.index(), Query(Goal::kAcquisition), 1);
  EXPECT_EQ(paths.conversions, 1);
  EXPECT_EQ(paths.conversions_without_touch, 1);
  EXPECT_EQ(paths.revenue_without_touch_micros, 5'000'000);
  EXPECT_EQ(paths.size(), 0u);
  EXPECT_TRUE(Credit(paths, M(ModelKind::kLinear)).empty());
}

TEST(AttributionTest, TouchExactlyOnTheLookbackBoundaryCounts) {
  Journeys j;
  j.Touch("a", "youtube", 10 * kDay - 1)   // One microsecond too early.
      .Touch("a", "pinterest", 10 * kDay)  // Exactly conversion - lookback.
      .Buy("a", 40 * kDay);
  const PathSet paths = ExtractPaths(j.index(), Query(Goal::kAcquisition), 1);
  EXPECT_THAT(Credit(paths, M(ModelKind::kLinear)),
              UnorderedElementsAre(Pair("pinterest", 1.0)));
}

TEST(AttributionTest, ThreePurchasesAreOneAcquisitionAndTwoRepeats) {
  Journeys j;
  j.Touch("a", "facebook", 1 * kDay)
      .Buy("a", 2 * kDay, 10'000'000)
      .Touch("a", "email", 3 * kDay)
      .Buy("a", 4 * kDay, 20'000'000)
      .Touch("a", "instagram", 5 * kDay)
      .Touch("a", "tiktok", 6 * kDay)
      .Buy("a", 7 * kDay, 30'000'000);
  const PathSet acq = ExtractPaths(j.index(), Query(Goal::kAcquisition), 1);
  EXPECT_EQ(acq.conversions, 1);
  EXPECT_EQ(acq.revenue_micros_total, 10'000'000);
  EXPECT_THAT(Credit(acq, M(ModelKind::kLinear)),
              UnorderedElementsAre(Pair("facebook", 1.0)));

  const PathSet rep = ExtractPaths(j.index(), Query(Goal::kRepeatPurchase), 1);
  EXPECT_EQ(rep.conversions, 2);
  EXPECT_EQ(rep.revenue_micros_total, 50'000'000);
  // The second repeat's path starts after the first repeat.
  EXPECT_THAT(Credit(rep, M(ModelKind::kLinear)),
              UnorderedElementsAre(Pair("email", 1.0), Pair("instagram", 0.5),
                                   Pair("tiktok", 0.5)));
  const Credits revenue = Attribute(rep, M(ModelKind::kLinear));
  double tiktok_revenue = 0;
  for (size_t g = 0; g < rep.group_table.size(); ++g) {
    if (rep.group_table[g].channel == "tiktok")
      tiktok_revenue = revenue.revenue_micros[g];
  }
  EXPECT_DOUBLE_EQ(tiktok_revenue, 15'000'000.0);
}

TEST(AttributionTest, RetentionNeedsARepeatWithinTheHorizonAndNoChurnBefore) {
  Journeys j;
  // Retained: bought again on day 30 after an email on day 10.
  j.Buy("kept", 0)
      .Touch("kept", "email", 10 * kDay)
      .Buy("kept", 30 * kDay, 7'000'000);
  // Churned on day 10, came back on day 20: not retained.
  j.Buy("lost", 0).Touch("lost", "reddit", 5 * kDay).Churn("lost", 10 * kDay);
  j.Buy("lost", 20 * kDay);
  // Bought again only after the 90-day horizon: not retained.
  j.Buy("late", 0).Touch("late", "x", 50 * kDay).Buy("late", 100 * kDay);
  const PathSet paths = ExtractPaths(j.index(), Query(Goal::kRetention), 1);
  EXPECT_EQ(paths.conversions, 1);
  EXPECT_EQ(paths.revenue_micros_total, 7'000'000);
  EXPECT_EQ(paths.size(), 3u);  // One converting, two non-converting.
  EXPECT_THAT(Credit(paths, M(ModelKind::kLinear)),
              UnorderedElementsAre(Pair("email", 1.0)));
}

TEST(AttributionTest, RetentionCensorsCustomersWhoseHorizonHasNotElapsed) {
  Journeys j;
  j.Buy("new", 300 * kDay).Touch("new", "email", 301 * kDay);
  j.Buy("old", 0).Touch("old", "email", 1 * kDay).Buy("old", 2 * kDay);
  PathQuery q = Query(Goal::kRetention);
  q.now_us = kBase + 320 * kDay;  // "new" needs until day 390.
  const PathSet paths = ExtractPaths(j.index(), q, 1);
  EXPECT_EQ(paths.censored_customers, 1);
  EXPECT_EQ(paths.conversions, 1);
  EXPECT_EQ(paths.size(), 1u);
}

TEST(AttributionTest, HonouringStagesKeepsTaggedTouchesToTheirGoal) {
  Journeys j;
  j.Buy("a", 0)
      .Touch("a", "email", 1 * kDay, Stage::kLoyalty)
      .Touch("a", "display", 2 * kDay, Stage::kPurchase)
      .Touch("a", "x", 3 * kDay)
      .Buy("a", 4 * kDay);
  PathQuery q = Query(Goal::kRepeatPurchase);
  q.honour_stages = true;
  EXPECT_THAT(Credit(ExtractPaths(j.index(), q, 1), M(ModelKind::kLinear)),
              UnorderedElementsAre(Pair("display", 0.5), Pair("x", 0.5)));
  q.goal = Goal::kRetention;
  EXPECT_THAT(Credit(ExtractPaths(j.index(), q, 1), M(ModelKind::kLinear)),
              UnorderedElementsAre(Pair("email", 0.5), Pair("x", 0.5)));
}

TEST(AttributionTest, PositionBasedAndTimeDecayWeights) {
  const std::vector<Group> table = {
      {"a", "", false}, {"b", "", false}, {"c", "", false}};
  const std::vector<uint32_t> path = {0, 1, 2};
  ModelParams pb = M(ModelKind::kPositionBased);
  EXPECT_THAT(
      TouchWeights(pb, path, {0, 1, 2}, 3, table),
      ::testing::ElementsAre(DoubleNear(0.4, 1e-12), DoubleNear(0.2, 1e-12),
                             DoubleNear(0.4, 1e-12)));
  const std::vector<uint32_t> two = {0, 1};
  EXPECT_THAT(TouchWeights(pb, two, {0, 1}, 2, table),
              ::testing::ElementsAre(0.5, 0.5));
  ModelParams td = M(ModelKind::kTimeDecay);
  td.half_life_us = kDay;
  // Two and one days before the conversion: weights 1/4 and 1/2.
  EXPECT_THAT(TouchWeights(td, two, {0, kDay}, 2 * kDay, table),
              ::testing::ElementsAre(DoubleNear(1.0 / 3, 1e-12),
                                     DoubleNear(2.0 / 3, 1e-12)));
}

TEST(AttributionTest, MarkovRemovalEffectsMatchTheHandSolvedChain) {
  // Journeys: a -> conv, b -> null, a > b -> conv. P = 2/3; without a: 1/6,
  // so RE_a = 0.75; without b: 1/3, so RE_b = 0.5. Shares 0.6 / 0.4.
  Journeys j;
  j.Touch("1", "a", kDay).Buy("1", 2 * kDay);
  j.Touch("2", "b", kDay);
  j.Touch("3", "a", kDay).Touch("3", "b", 2 * kDay).Buy("3", 3 * kDay);
  const PathSet paths = ExtractPaths(j.index(), Query(Goal::kAcquisition), 1);
  const MarkovFit fit = FitMarkov(paths, 1);
  EXPECT_NEAR(fit.p_conversion, 2.0 / 3, 1e-12);
  EXPECT_NEAR(fit.removal_effects[0], 0.75, 1e-12);
  EXPECT_NEAR(fit.removal_effects[1], 0.5, 1e-12);
  const auto credit = Credit(paths, M(ModelKind::kMarkov));
  EXPECT_NEAR(credit.at("a"), 1.2, 1e-12);
  EXPECT_NEAR(credit.at("b"), 0.8, 1e-12);
}

TEST(AttributionTest, ShapleyClipsNegativeValues) {
  // v({a}) = 1, v({b}) = 1/2, v({a,b}) = 1/4: phi_a = 3/8, phi_b = -1/8,
  // clipped to 0, so the {a,b} conversion goes to a alone.
  Journeys j;
  j.Touch("a1", "a", kDay).Buy("a1", 2 * kDay);
  j.Touch("b1", "b", kDay).Buy("b1", 2 * kDay);
  j.Touch("b2", "b", kDay);
  j.Touch("ab1", "a", kDay).Touch("ab1", "b", 2 * kDay).Buy("ab1", 3 * kDay);
  for (int k = 0; k < 3; ++k) {
    const std::string c = absl::StrCat("ab-null", k);
    j.Touch(c, "a", kDay).Touch(c, "b", 2 * kDay);
  }
  const PathSet paths = ExtractPaths(j.index(), Query(Goal::kAcquisition), 1);
  EXPECT_THAT(Credit(paths, M(ModelKind::kShapley)),
              UnorderedElementsAre(Pair("a", 2.0), Pair("b", 1.0)));
}

TEST(AttributionTest, ResultsDoNotDependOnTheThreadCount) {
  Journeys j;
  for (int c = 0; c < 50; ++c) {
    const std::string id = absl::StrCat("c", c);
    j.Touch(id, c % 3 ? "facebook" : "email", kDay)
        .Touch(id, c % 5 ? "tiktok" : "x", 2 * kDay);
    if (c % 2) j.Buy(id, 3 * kDay, c * 1'000'000);
  }
  const PathSet one = ExtractPaths(j.index(), Query(Goal::kAcquisition), 1);
  const PathSet four = ExtractPaths(j.index(), Query(Goal::kAcquisition), 4);
  for (ModelKind kind : kAllModels) {
    EXPECT_EQ(Attribute(one, M(kind)).conversions,
              Attribute(four, M(kind)).conversions);
  }
}

TEST(AttributionTest, StopsEarlyWhenCancelled) {
  Journeys j;
  for (int c = 0; c < 9000; ++c) {
    const std::string id = absl::StrCat("c", c);
    j.Touch(id, c % 2 ? "facebook" : "email", kDay).Touch(id, "x", 2 * kDay);
    if (c % 3) j.Buy(id, 3 * kDay);
  }
  PathQuery q = Query(Goal::kAcquisition);
  q.cancelled = [] { return true; };
  const PathSet stopped = ExtractPaths(j.index(), q, 2);
  EXPECT_TRUE(stopped.cancelled);
  EXPECT_EQ(stopped.size(), 0u);

  // A caller that goes away once the work has started: the Markov solve
  // notices between sweeps.
  q.cancelled = nullptr;
  const PathSet paths = ExtractPaths(j.index(), q, 2);
  ASSERT_FALSE(paths.cancelled);
  std::atomic<int> polls{0};
  const std::function<bool()> after_first_poll = [&polls] {
    return polls.fetch_add(1) > 0;
  };
  const Credits credits =
      Attribute(paths, M(ModelKind::kMarkov), 2, after_first_poll);
  EXPECT_TRUE(credits.cancelled);
  EXPECT_GT(polls.load(), 0);
  EXPECT_FALSE(Attribute(paths, M(ModelKind::kMarkov), 2).cancelled);
}

// Property: under every model and goal, each conversion's credits sum to 1
// and its revenue credits to its revenue, so the totals do too.
TEST(AttributionPropertyTest, CreditsOfEveryConversionSumToOne) {
  std::mt19937 rng(20261122);
  const char* channels[] = {"facebook", "instagram", "tiktok", "email",
                            "direct",   "x",         "reddit"};
  Journeys j;
  for (int c = 0; c < 400; ++c) {
    const std::string id = absl::StrCat("c", c);
    int64_t t = static_cast<int64_t>(rng() % (200 * kDay));
    const int events = 1 + static_cast<int>(rng() % 12);
    for (int e = 0; e < events; ++e) {
      t += 1 + static_cast<int64_t>(rng() % (5 * kDay));
      const int roll = static_cast<int>(rng() % 10);
      if (roll < 7) {
        j.Touch(id, channels[rng() % 7], t);
      } else if (roll < 9) {
        j.Buy(id, t, static_cast<int64_t>(rng() % 500) * 1'000'000);
      } else {
        j.Churn(id, t);
      }
    }
  }
  for (Goal goal :
       {Goal::kAcquisition, Goal::kRepeatPurchase, Goal::kRetention}) {
    const PathSet paths = ExtractPaths(j.index(), Query(goal, 20 * kDay), 2);
    double conversions = 0, revenue = 0;
    for (size_t k = 0; k < paths.size(); ++k) {
      conversions += paths.converted[k];
      if (paths.converted[k])
        revenue += static_cast<double>(paths.revenue_micros[k]);
    }
    ASSERT_GT(conversions, 10) << static_cast<int>(goal);
    EXPECT_EQ(
        conversions + static_cast<double>(paths.conversions_without_touch),
        static_cast<double>(paths.conversions));
    for (ModelKind kind : kAllModels) {
      for (int order : {1, 2, 3, 4}) {
        if (order > 1 && kind != ModelKind::kMarkov) continue;
        ModelParams m = M(kind);
        m.order = order;
        const Credits c = Attribute(paths, m);
        double sum = 0, sum_revenue = 0;
        for (double x : c.conversions) sum += x;
        for (double x : c.revenue_micros) sum_revenue += x;
        EXPECT_NEAR(sum, conversions, 1e-9 * conversions)
            << "goal " << static_cast<int>(goal) << " model "
            << static_cast<int>(kind);
        EXPECT_NEAR(sum_revenue, revenue, 1e-9 * revenue + 1e-6);
        if (kind == ModelKind::kMarkov || kind == ModelKind::kShapley) continue;
        for (size_t k = 0; k < paths.size(); ++k) {
          if (!paths.converted[k]) continue;
          double w = 0;
          for (double x :
               TouchWeights(m, paths.path(k), paths.path_times(k),
                            paths.conversion_us[k], paths.group_table)) {
            w += x;
          }
          ASSERT_NEAR(w, 1.0, 1e-12);
        }
      }
    }
  }
}

// A random path set over `groups` groups whose paths revisit groups (so
// that chains of every order have cycles) and end converted or not.
PathSet RandomPaths(std::mt19937_64& rng, int groups, int journeys) {
  PathSet paths;
  for (int g = 0; g < groups; ++g) {
    paths.group_table.push_back({absl::StrCat("g", g), "", false});
  }
  std::uniform_int_distribution<int> length(1, 9);
  // Skewed: a few groups carry most touches, as campaigns do.
  std::geometric_distribution<int> group(0.35);
  for (int j = 0; j < journeys; ++j) {
    const int n = length(rng);
    for (int i = 0; i < n; ++i) {
      paths.groups.push_back(static_cast<uint32_t>(group(rng) % groups));
      paths.times.push_back(i);
    }
    paths.offsets.push_back(static_cast<uint32_t>(paths.groups.size()));
    const bool converted = rng() % 3 == 0;
    paths.converted.push_back(converted ? 1 : 0);
    paths.conversion_us.push_back(n);
    paths.revenue_micros.push_back(converted ? 1000 : 0);
    paths.customer_keys.push_back(rng());
    paths.conversions += converted;
  }
  return paths;
}

// The removal effects by their definition: the chain of `order` built from
// the paths as DESIGN.md states it, solved whole once per removed group by
// plain value iteration.
std::vector<double> DirectRemovalEffects(const PathSet& paths, int order) {
  std::map<std::vector<uint32_t>, int> ids = {{{}, 0}};
  std::map<std::pair<int, int>, double> edges;
  std::map<int, double> conversions, nulls;
  for (size_t j = 0; j < paths.size(); ++j) {
    const auto p = paths.path(j);
    std::vector<int> seq;
    const size_t windows = p.size() < size_t(order) ? 1 : p.size() - order + 1;
    for (size_t i = 0; i < windows; ++i) {
      std::vector<uint32_t> state(
          p.begin() + i, p.begin() + i + std::min<size_t>(order, p.size()));
      const int id = ids.try_emplace(state, int(ids.size())).first->second;
      if (seq.empty() || seq.back() != id) seq.push_back(id);
    }
    int from = 0;
    for (int to : seq) {
      edges[{from, to}] += 1;
      from = to;
    }
    (paths.converted[j] ? conversions : nulls)[from] += 1;
  }
  const int n = static_cast<int>(ids.size());
  std::vector<double> total(n, 0);
  for (const auto& [e, c] : edges) total[e.first] += c;
  for (const auto& [s, c] : conversions) total[s] += c;
  for (const auto& [s, c] : nulls) total[s] += c;
  auto solve = [&](int removed_group) {
    std::vector<bool> removed(n, false);
    for (const auto& [state, id] : ids) {
      for (uint32_t g : state) removed[id] = removed[id] || g == removed_group;
    }
    std::vector<double> x(n, 0);
    for (int iter = 0; iter < 1'000'000; ++iter) {
      std::vector<double> next(n, 0);
      for (const auto& [s, c] : conversions) next[s] += c;
      for (const auto& [e, c] : edges) next[e.first] += c * x[e.second];
      double delta = 0;
      for (int s = 0; s < n; ++s) {
        next[s] = removed[s] || total[s] == 0 ? 0 : next[s] / total[s];
        delta = std::max(delta, std::abs(next[s] - x[s]));
      }
      x = next;
      if (delta < 1e-16) break;
    }
    return x[0];
  };
  const double full = solve(-1);
  std::vector<double> effects;
  for (size_t g = 0; g < paths.group_table.size(); ++g) {
    effects.push_back(1 - solve(static_cast<int>(g)) / full);
  }
  return effects;
}

// Shapley shares by the textbook sum over every subset.
std::vector<double> DirectShapleyShares(const PathSet& paths,
                                        const std::vector<uint32_t>& t) {
  std::map<std::vector<uint32_t>, std::pair<double, double>> rates;
  for (size_t j = 0; j < paths.size(); ++j) {
    auto& r = rates[GroupSet(paths.path(j))];
    r.first += paths.converted[j];
    r.second += 1;
  }
  auto value = [&](uint32_t mask) {
    std::vector<uint32_t> s;
    for (size_t x = 0; x < t.size(); ++x) {
      if (mask & (1u << x)) s.push_back(t[x]);
    }
    auto it = rates.find(s);
    return it == rates.end() ? 0.0 : it->second.first / it->second.second;
  };
  const int m = static_cast<int>(t.size());
  std::vector<double> phi(m, 0);
  for (uint32_t mask = 0; mask < (1u << m); ++mask) {
    const int size = __builtin_popcount(mask);
    for (int x = 0; x < m; ++x) {
      if (mask & (1u << x)) continue;
      const double w =
          std::tgamma(size + 1) * std::tgamma(m - size) / std::tgamma(m + 1);
      phi[x] += w * (value(mask | (1u << x)) - value(mask));
    }
  }
  double sum = 0;
  for (double& p : phi) sum += p = std::max(p, 0.0);
  for (double& p : phi) p = sum > 0 ? p / sum : 1.0 / m;
  return phi;
}

TEST(AttributionTest, MarkovAtEveryOrderMatchesTheWholeChainSolvedPerRemoval) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 6; ++round) {
    const PathSet paths = RandomPaths(rng, 4 + 2 * round, 300);
    for (int order = 1; order <= 4; ++order) {
      const std::vector<double> direct = DirectRemovalEffects(paths, order);
      for (int threads : {1, 3}) {
        const MarkovFit fit = FitMarkov(paths, order, threads);
        ASSERT_EQ(fit.removal_effects.size(), direct.size());
        for (size_t g = 0; g < direct.size(); ++g) {
          EXPECT_NEAR(fit.removal_effects[g], direct[g], 1e-12)
              << "round " << round << " order " << order << " group " << g;
        }
      }
    }
  }
}

// Many groups and journeys: at orders 2 and 3 the chain has a strongly
// connected component of hundreds of states, which FitMarkov solves with
// Anderson acceleration (from 64 states); it must land where plain
// iteration of the whole chain does.
TEST(AttributionTest, MarkovOnALargeComponentMatchesTheWholeChainSolve) {
  std::mt19937_64 rng(21);
  const PathSet paths = RandomPaths(rng, 20, 4000);
  for (int order : {2, 3}) {
    const std::vector<double> direct = DirectRemovalEffects(paths, order);
    const MarkovFit fit = FitMarkov(paths, order, 2);
    ASSERT_EQ(fit.removal_effects.size(), direct.size());
    for (size_t g = 0; g < direct.size(); ++g) {
      EXPECT_NEAR(fit.removal_effects[g], direct[g], 1e-12)
          << "order " << order << " group " << g;
    }
  }
}

// A state of order 4 over 40,000 groups takes more than 64 bits as a key;
// the chain must come out the same as over the groups numbered densely.
TEST(AttributionTest, MarkovOverManyGroupsMatchesTheSameGroupsNumberedDensely) {
  std::mt19937_64 rng(33);
  const PathSet dense = RandomPaths(rng, 12, 2000);
  constexpr uint32_t kGroups = 40000;
  auto spread = [](uint32_t g) { return g * 3331 % kGroups; };
  PathSet sparse = dense;
  sparse.group_table.assign(kGroups, {"unused", "", false});
  for (uint32_t g = 0; g < dense.group_table.size(); ++g) {
    sparse.group_table[spread(g)] = dense.group_table[g];
  }
  for (uint32_t& g : sparse.groups) g = spread(g);
  for (int order = 1; order <= 4; ++order) {
    const MarkovFit want = FitMarkov(dense, order, 2);
    const MarkovFit got = FitMarkov(sparse, order, 2);
    EXPECT_NEAR(got.p_conversion, want.p_conversion, 1e-12);
    ASSERT_EQ(got.removal_effects.size(), kGroups);
    double others = 0;
    for (double re : got.removal_effects) others += re;
    for (uint32_t g = 0; g < dense.group_table.size(); ++g) {
      EXPECT_NEAR(got.removal_effects[spread(g)], want.removal_effects[g],
                  1e-12)
          << "order " << order << " group " << g;
      others -= got.removal_effects[spread(g)];
    }
    EXPECT_NEAR(others, 0, 1e-12) << "order " << order;
  }
}

// The same journeys in another order (as the index holds customers after a
// restart, or after a load whose batches committed out of order).
PathSet Reversed(const PathSet& paths) {
  PathSet out;
  out.group_table = paths.group_table;
  out.conversions = paths.conversions;
  for (size_t j = paths.size(); j-- > 0;) {
    for (uint32_t g : paths.path(j)) out.groups.push_back(g);
    for (int64_t t : paths.path_times(j)) out.times.push_back(t);
    out.offsets.push_back(static_cast<uint32_t>(out.groups.size()));
    out.converted.push_back(paths.converted[j]);
    out.conversion_us.push_back(paths.conversion_us[j]);
    out.revenue_micros.push_back(paths.revenue_micros[j]);
    out.customer_keys.push_back(paths.customer_keys[j]);
  }
  return out;
}

TEST(AttributionTest, MarkovIsBitForBitTheSameWhateverTheJourneyOrder) {
  std::mt19937_64 rng(13);
  const PathSet paths = RandomPaths(rng, 12, 3000);
  const PathSet reversed = Reversed(paths);
  for (int order = 1; order <= 4; ++order) {
    const MarkovFit a = FitMarkov(paths, order, 2);
    const MarkovFit b = FitMarkov(reversed, order, 2);
    EXPECT_EQ(a.p_conversion, b.p_conversion) << "order " << order;
    EXPECT_EQ(a.removal_effects, b.removal_effects) << "order " << order;
  }
}

TEST(AttributionTest, ShapleyMatchesTheSumOverEverySubset) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 4; ++round) {
    const PathSet paths = RandomPaths(rng, 5 + 3 * round, 2000);
    const ShapleyGame game(paths);
    std::set<std::vector<uint32_t>> seen;
    for (size_t j = 0; j < paths.size(); ++j) {
      const std::vector<uint32_t> t = GroupSet(paths.path(j));
      if (!paths.converted[j] || !seen.insert(t).second) continue;
      const std::vector<double> direct = DirectShapleyShares(paths, t);
      EXPECT_THAT(game.Shares(t),
                  ::testing::Pointwise(DoubleNear(1e-12), direct))
          << "round " << round << " journey " << j;
    }
  }
}

TEST(AttributionTest, ShapleyShareTableHoldsEveryConvertedSetAndNoOther) {
  std::mt19937_64 rng(17);
  const PathSet paths = RandomPaths(rng, 9, 3000);
  const ShapleyShareTable table(paths, /*threads=*/2);
  std::set<std::vector<uint32_t>> converted, other;
  for (size_t j = 0; j < paths.size(); ++j) {
    (paths.converted[j] ? converted : other).insert(GroupSet(paths.path(j)));
  }
  ASSERT_FALSE(converted.empty());
  for (const std::vector<uint32_t>& t : converted) {
    const double* found = table.Find(t);
    ASSERT_NE(found, nullptr);
    // The very shares the game gives, not merely close ones.
    EXPECT_EQ(std::vector<double>(found, found + t.size()),
              table.game().Shares(t));
  }
  int unconverted = 0;
  for (const std::vector<uint32_t>& t : other) {
    if (converted.count(t) > 0) continue;
    EXPECT_EQ(table.Find(t), nullptr);
    ++unconverted;
  }
  EXPECT_GT(unconverted, 0);
  // A set with a group the paths never had.
  EXPECT_EQ(table.Find(std::vector<uint32_t>{0, 99}), nullptr);
  const ShapleyShareTable whole(paths, 1, /*findable=*/false);
  EXPECT_EQ(whole.shares(), table.shares());
  EXPECT_EQ(whole.Find(*converted.begin()), nullptr);
}

}  // namespace
}  // namespace attribution

// Simulated customer journeys with a known causal truth, for checking what
// attribution models credit against what channels caused.
//
// Every customer starts at a random time, is touched by each channel a
// random number of times over 20 days, and decides one day after that: a
// purchase happens iff the customer's uniform draw U falls below
// p = 1 - exp(-H), where H is the family's hazard of the touches. The truth
// of a channel is the number of purchases that vanish when every touch of
// that channel is removed and every other draw (touch times, U, intent,
// revenue) is kept: the conversions it caused.
//
// Families:
//   kAdditive:   H = h0 + sum_c beta_c * n_c (touch counts); exposure does not
//                depend on intent.
//   kSaturating: per channel an ad stock of touches decayed to the decision
//                (half-life 5 days), saturating as 1 - exp(-stock / k_c),
//                plus a synergy term between instagram and email.
//   kConfounded: a latent high intent (a quarter of customers) raises both
//                the baseline hazard and the rate of paid_search and direct
//                touches; tiktok has no effect at all. Two holdout tests, on
//                paid_search and direct, each keep a random 10% of customers
//                from that channel, and report treated and holdout counts as
//                a real test would.
// Deterministic for a seed. Header-only.
#ifndef ATTRIBUTION_TESTS_TOOLS_CAUSAL_SIM_H_
#define ATTRIBUTION_TESTS_TOOLS_CAUSAL_SIM_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "service/core/journey_index.h"

namespace attribution::sim {

enum class Family { kAdditive, kSaturating, kConfounded };

inline const char* FamilyName(Family f) {
  switch (f) {
    case Family::kAdditive:
      return "a: additive, exposure independent of intent";
    case Family::kSaturating:
      return "b: saturating, decaying, synergy";
    case Family::kConfounded:
      return "c: confounded by intent, tiktok has no effect";
  }
  return "";
}

inline constexpr int kChannels = 6;
inline constexpr const char* kChannelNames[kChannels] = {
    "instagram", "facebook", "tiktok", "email", "paid_search", "direct"};
inline constexpr int kPaidSearch = 4;
inline constexpr int kDirect = 5;
inline constexpr int kTiktok = 2;

inline constexpr int64_t kDayUs = 86'400'000'000;
inline constexpr int64_t kT0Us = 1'735'689'600'000'000;  // 2025-01-01.
// Customers start in [T0, T0 + 60 d), decide 21 d later: all in 90 days.
inline constexpr int64_t kWindowEndUs = kT0Us + 90 * kDayUs;

struct Touch {
  int channel;
  int64_t at_us;
};

struct Customer {
  std::string id;
  std::vector<Touch> touches;  // In time order.
  int64_t decide_us = 0;
  bool high_intent = false;
  double u = 0;  // The conversion draw.
  int64_t revenue_micros = 0;
  int holdout = -1;  // The channel whose test kept it out, or -1.
  bool converted = false;
};

struct Experiment {
  int channel;
  int64_t treated_customers = 0;
  int64_t treated_conversions = 0;
  int64_t holdout_customers = 0;
  int64_t holdout_conversions = 0;
  // (treated rate - holdout rate) x treated customers, and its standard
  // error: the incremental conversions the test measures.
  double incremental = 0;
  double standard_error = 0;
};

struct World {
  Family family;
  std::vector<Customer> customers;
  int64_t conversions = 0;
  // Purchases that vanish without channel c, and their revenue (micros).
  std::vector<double> truth_conversions = std::vector<double>(kChannels, 0);
  std::vector<double> truth_revenue = std::vector<double>(kChannels, 0);
  std::vector<Experiment> experiments;
};

// The hazard of a customer's touches, leaving out channel `removed` (-1:
// none) and any channel the customer is held out of.
inline double Hazard(Family f, const Customer& c, int removed) {
  double n[kChannels] = {0};
  double stock[kChannels] = {0};
  for (const Touch& t : c.touches) {
    if (t.channel == removed) continue;
    n[t.channel] += 1;
    const double age_days = static_cast<double>(c.decide_us - t.at_us) / kDayUs;
    stock[t.channel] += std::exp2(-age_days / 5.0);
  }
  switch (f) {
    case Family::kAdditive: {
      static constexpr double kBeta[kChannels] = {0.06, 0.04, 0.025,
                                                  0.08, 0.05, 0.01};
      double h = 0.03;
      for (int k = 0; k < kChannels; ++k) h += kBeta[k] * n[k];
      return h;
    }
    case Family::kSaturating: {
      static constexpr double kBeta[kChannels] = {0.30, 0.20, 0.12,
                                                  0.25, 0.15, 0.03};
      static constexpr double kK[kChannels] = {1.0, 1.5, 1.0, 0.7, 0.8, 1.0};
      double sat[kChannels];
      double h = 0.04;
      for (int k = 0; k < kChannels; ++k) {
        sat[k] = 1 - std::exp(-stock[k] / kK[k]);
        h += kBeta[k] * sat[k];
      }
      return h + 0.15 * sat[0] * sat[3];  // instagram x email synergy
    }
    case Family::kConfounded: {
      static constexpr double kBeta[kChannels] = {0.05, 0.035, 0.0,
                                                  0.06, 0.02,  0.01};
      double h = c.high_intent ? 0.35 : 0.02;
      for (int k = 0; k < kChannels; ++k) h += kBeta[k] * n[k];
      return h;
    }
  }
  return 0;
}

inline bool Converts(Family f, const Customer& c, int removed) {
  return c.u < 1 - std::exp(-Hazard(f, c, removed));
}

inline World Simulate(Family family, int customers, uint64_t seed) {
  World w;
  w.family = family;
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ULL + static_cast<int>(family));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  static constexpr double kRate[kChannels] = {2.0, 1.8, 1.5, 1.2, 0.8, 0.6};
  for (int i = 0; i < customers; ++i) {
    Customer c;
    c.id = "s" + std::to_string(i);
    const int64_t start = kT0Us + static_cast<int64_t>(unit(rng) * 60 * kDayUs);
    c.decide_us = start + 21 * kDayUs;
    c.high_intent = family == Family::kConfounded && unit(rng) < 0.25;
    for (int k = 0; k < kChannels; ++k) {
      double rate = kRate[k];
      if (family == Family::kConfounded && (k == kPaidSearch || k == kDirect)) {
        rate *= c.high_intent ? 4.0 : 0.6;
      }
      std::poisson_distribution<int> count(rate);
      const int n = count(rng);
      for (int t = 0; t < n; ++t) {
        c.touches.push_back(
            {k, start + static_cast<int64_t>(unit(rng) * 20 * kDayUs)});
      }
    }
    std::sort(
        c.touches.begin(), c.touches.end(), [](const Touch& a, const Touch& b) {
          return a.at_us != b.at_us ? a.at_us < b.at_us : a.channel < b.channel;
        });
    c.u = unit(rng);
    c.revenue_micros = static_cast<int64_t>(20 + unit(rng) * 180) * 1'000'000;
    if (family == Family::kConfounded) {
      const double r = unit(rng);
      if (r < 0.10) c.holdout = kPaidSearch;
      if (r >= 0.10 && r < 0.20) c.holdout = kDirect;
      if (c.holdout >= 0) {
        // Held out: the channel never reaches this customer.
        std::vector<Touch> kept;
        for (const Touch& t : c.touches) {
          if (t.channel != c.holdout) kept.push_back(t);
        }
        c.touches = std::move(kept);
      }
    }
    w.customers.push_back(std::move(c));
  }
  for (Customer& c : w.customers) {
    c.converted = Converts(family, c, -1);
    w.conversions += c.converted;
    for (int k = 0; k < kChannels; ++k) {
      if (c.converted && !Converts(family, c, k)) {
        w.truth_conversions[k] += 1;
        w.truth_revenue[k] += static_cast<double>(c.revenue_micros);
      }
    }
  }
  if (family == Family::kConfounded) {
    for (int k : {kPaidSearch, kDirect}) {
      Experiment e;
      e.channel = k;
      for (const Customer& c : w.customers) {
        if (c.holdout == k) {
          ++e.holdout_customers;
          e.holdout_conversions += c.converted;
        } else if (c.holdout < 0) {
          ++e.treated_customers;
          e.treated_conversions += c.converted;
        }
      }
      const double pt = static_cast<double>(e.treated_conversions) /
                        static_cast<double>(e.treated_customers);
      const double ph = static_cast<double>(e.holdout_conversions) /
                        static_cast<double>(e.holdout_customers);
      e.incremental = (pt - ph) * static_cast<double>(e.treated_customers);
      e.standard_error =
          std::sqrt(pt * (1 - pt) / static_cast<double>(e.treated_customers) +
                    ph * (1 - ph) / static_cast<double>(e.holdout_customers)) *
          static_cast<double>(e.treated_customers);
      w.experiments.push_back(e);
    }
  }
  return w;
}

// Sum over channels of |credited share - true share|, the shares taken over
// the channels alone. `credited` is indexed like kChannelNames.
inline double ShareDistance(const World& w,
                            const std::vector<double>& credited) {
  double truth_total = 0, credit_total = 0;
  for (int k = 0; k < kChannels; ++k) {
    truth_total += w.truth_conversions[k];
    credit_total += credited[k];
  }
  double d = 0;
  for (int k = 0; k < kChannels; ++k) {
    const double t = truth_total > 0 ? w.truth_conversions[k] / truth_total : 0;
    const double c = credit_total > 0 ? credited[k] / credit_total : 0;
    d += std::fabs(c - t);
  }
  return d;
}

// The world's events in a journey index, as the service would hold them.
inline void IndexWorld(const World& w, WorkspaceIndex* index) {
  int64_t n = 0;
  for (const Customer& c : w.customers) {
    for (const Touch& t : c.touches) {
      Event e;
      e.type = EventType::kTouchpoint;
      e.event_id = "e" + std::to_string(n++);
      e.customer_id = c.id;
      e.occurred_at_us = t.at_us;
      e.channel = kChannelNames[t.channel];
      e.interaction = Interaction::kClick;
      index->Insert(e, [] { return SIZE_MAX; });
    }
    if (c.converted) {
      Event e;
      e.type = EventType::kConversion;
      e.event_id = "e" + std::to_string(n++);
      e.customer_id = c.id;
      e.occurred_at_us = c.decide_us;
      e.kind = ConversionKind::kPurchase;
      e.revenue_micros = c.revenue_micros;
      index->Insert(e, [] { return SIZE_MAX; });
    }
  }
}

}  // namespace attribution::sim

#endif  // ATTRIBUTION_TESTS_TOOLS_CAUSAL_SIM_H_

#include "service/core/report.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <optional>
#include <thread>

#include "absl/container/flat_hash_map.h"

namespace attribution {
namespace {

constexpr MetricInfo kMetrics[kMetricCount] = {
    {"reach", "Customers reached", Polarity::kUpIsGood, true, false, false},
    {"new_prospects", "New prospects", Polarity::kUpIsGood, true, false, false},
    {"leads", "Leads", Polarity::kUpIsGood, true, false, false},
    {"new_customers", "New customers", Polarity::kUpIsGood, true, false, false},
    // Ratios, not shares: customers who never were a lead count too, so
    // they may pass 1.
    {"lead_to_customer_rate", "New customers per lead", Polarity::kUpIsGood,
     false, false, false},
    {"prospect_to_customer_rate", "New customers per new prospect",
     Polarity::kUpIsGood, false, false, false},
    {"revenue", "Revenue", Polarity::kUpIsGood, true, true, false},
    {"revenue_per_customer", "Revenue per customer", Polarity::kUpIsGood, false,
     true, false},
    {"repeat_purchase_rate", "Customers who bought again", Polarity::kUpIsGood,
     false, false, true},
    {"retention_rate", "Customers retained", Polarity::kUpIsGood, false, false,
     true},
    {"churn_rate", "Customers lost (churn)", Polarity::kDownIsGood, false,
     false, true},
    {"spend", "Marketing spend", Polarity::kDownIsGood, true, true, false},
    {"cac", "Cost per new customer (CAC)", Polarity::kDownIsGood, false, true,
     false},
    {"roas", "Revenue per 1 spent (ROAS)", Polarity::kUpIsGood, false, false,
     false},
    {"profit_contribution", "Profit after marketing", Polarity::kUpIsGood, true,
     true, false},
    {"roi", "Return on marketing (ROI)", Polarity::kUpIsGood, false, false,
     true},
    {"positive_share", "Positive reactions", Polarity::kUpIsGood, false, false,
     true},
    {"neutral_share", "Neutral reactions", Polarity::kNeutral, false, false,
     true},
    {"negative_share", "Negative reactions", Polarity::kDownIsGood, false,
     false, true},
};

std::optional<double> Ratio(double num, double den) {
  if (den == 0) return std::nullopt;
  return num / den;
}

uint64_t KeyOf(const IndexedEvent& e, bool by_campaign) {
  return by_campaign ? (uint64_t{e.channel} << 32) | e.ref
                     : uint64_t{e.channel};
}

GroupName NameOf(const IndexSnapshot& index, uint64_t key, bool by_campaign) {
  if (!by_campaign) return {index.channel_name(static_cast<uint16_t>(key)), ""};
  return {index.channel_name(static_cast<uint16_t>(key >> 32)),
          index.campaign_name(static_cast<uint32_t>(key))};
}

// A query over all time: reports bucket conversions themselves.
PathQuery AllTime(Goal goal, const ReportOptions& o) {
  PathQuery q;
  q.goal = goal;
  q.start_us = INT64_MIN / 4;
  q.end_us = INT64_MAX / 4;
  q.lookback_us = o.lookback_us;
  q.horizon_us = o.horizon_us;
  q.now_us = o.now_us;
  q.by_campaign = o.by_campaign;
  q.converting_only = true;
  return q;
}

// (key, derivative of its credit in the fit's parameters) of one
// conversion, one per distinct key the fit knows.
using KeyGradients = std::vector<std::pair<uint64_t, ShareGradient>>;

// Per-touch weights of journeys under the report's model. MARKOV, SHAPLEY
// and INCREMENTAL are fitted once on the goal's journeys in `fit`; a
// conversion is then split over the groups of its own path by their removal
// effects, Shapley shares or incremental shares, and a group's part evenly
// over its touches. Incremental weights sum to at most 1: the rest is the
// baseline's.
class Crediter {
 public:
  // One thread's buffers.
  struct Scratch {
    // Shares of the sets the fit did not see converting.
    absl::flat_hash_map<std::vector<uint32_t>, std::vector<double>> shapley;
    std::vector<uint32_t> set, set_ids;
    std::vector<uint32_t> channels;
    std::vector<int> ids;
    std::vector<ShareGradient> gradients;
  };

  Crediter(const IndexSnapshot& index, const ReportOptions& o, Goal goal,
           TimeRange fit)
      : model_(o.model), by_campaign_(o.by_campaign) {
    for (const std::string& name : index.channels()) {
      Group g;
      g.is_direct = name == "direct";
      channel_table_.push_back(g);
    }
    if (model_.kind != ModelKind::kMarkov &&
        model_.kind != ModelKind::kShapley &&
        model_.kind != ModelKind::kIncremental) {
      return;
    }
    PathQuery q;
    q.goal = goal;
    q.start_us = fit.start_us;
    q.end_us = fit.end_us;
    q.lookback_us = o.lookback_us;
    q.horizon_us = o.horizon_us;
    q.now_us = o.now_us;
    q.by_campaign = o.by_campaign;
    q.cancelled = o.cancelled;
    const PathSet paths = ExtractPaths(index, q, o.threads);
    if (paths.cancelled) {
      cancelled_ = true;
      return;
    }
    std::vector<uint64_t> keys;
    for (const Group& g : paths.group_table) {
      uint64_t key = static_cast<uint64_t>(index.ChannelId(g.channel));
      if (by_campaign_) {
        key = key << 32 | static_cast<uint64_t>(index.CampaignId(g.campaign));
      }
      keys.push_back(key);
    }
    if (model_.kind == ModelKind::kMarkov) {
      const MarkovFit fit_result =
          FitMarkov(paths, model_.order, o.threads, o.cancelled);
      cancelled_ = fit_result.cancelled;
      for (size_t g = 0; g < keys.size() && !cancelled_; ++g) {
        removal_[keys[g]] = fit_result.removal_effects[g];
      }
    } else {
      for (size_t g = 0; g < keys.size(); ++g) {
        dense_[keys[g]] = static_cast<uint32_t>(g);
      }
      table_size_ = keys.size();
      if (model_.kind == ModelKind::kShapley) {
        shapley_ = std::make_unique<ShapleyShareTable>(paths, o.threads);
      } else {
        FitIncrementalModel(paths, o, goal, fit, std::move(keys));
      }
    }
  }

  bool cancelled() const { return cancelled_; }
  // The linearised bootstrap's parameter steps of an incremental fit, when
  // the report asks for intervals; null otherwise.
  const ReplicateSteps* steps() const {
    return steps_.has_value() ? &*steps_ : nullptr;
  }

  // Weights of one journey's touches; they sum to 1 (at most 1 under
  // INCREMENTAL). With `gradients` (INCREMENTAL only), also each credited
  // key's derivative in the fit's parameters.
  void Weights(absl::Span<const uint64_t> keys, absl::Span<const int64_t> times,
               int64_t conversion_us, std::vector<double>* w, Scratch* scratch,
               KeyGradients* gradients = nullptr) const {
    const size_t n = keys.size();
    w->assign(n, 0.0);
    if (gradients != nullptr) gradients->clear();
    if (n == 0) return;
    if (model_.kind == ModelKind::kIncremental) {
      std::vector<int>& ids = scratch->ids;
      ids.resize(n);
      for (size_t i = 0; i < n; ++i) {
        auto it = dense_.find(keys[i]);
        ids[i] = it == dense_.end() ? -1 : static_cast<int>(it->second);
      }
      const std::vector<std::pair<int, double>> shares = IncrementalShares(
          fit_, ids, times,
          gradients != nullptr ? &scratch->gradients : nullptr);
      for (size_t i = 0; i < n; ++i) {
        if (ids[i] < 0) continue;
        const auto it = std::lower_bound(shares.begin(), shares.end(), ids[i],
                                         [](const std::pair<int, double>& a,
                                            int id) { return a.first < id; });
        const auto count = std::count(ids.begin(), ids.end(), ids[i]);
        (*w)[i] = it->second / static_cast<double>(count);
      }
      if (gradients != nullptr) {
        for (size_t k = 0; k < shares.size(); ++k) {
          gradients->emplace_back(keys_[static_cast<size_t>(shares[k].first)],
                                  std::move(scratch->gradients[k]));
        }
      }
      return;
    }
    if (model_.kind == ModelKind::kMarkov) {
      SplitByValue(keys, w, [&](uint64_t k, size_t) {
        auto it = removal_.find(k);
        return it == removal_.end() ? 0.0 : it->second;
      });
      return;
    }
    if (model_.kind == ModelKind::kShapley) {
      // Groups the fit never saw get ids past its table: every set holding
      // them is unseen, worth 0.
      std::vector<uint32_t>& ids = scratch->set_ids;
      ids.resize(n);
      std::vector<uint64_t> unseen;
      for (size_t i = 0; i < n; ++i) {
        auto it = dense_.find(keys[i]);
        if (it != dense_.end()) {
          ids[i] = it->second;
        } else {
          auto u = std::find(unseen.begin(), unseen.end(), keys[i]);
          if (u == unseen.end()) u = unseen.insert(unseen.end(), keys[i]);
          ids[i] = static_cast<uint32_t>(table_size_ + (u - unseen.begin()));
        }
      }
      std::vector<uint32_t>& set = scratch->set;
      set.assign(ids.begin(), ids.end());
      std::sort(set.begin(), set.end());
      set.erase(std::unique(set.begin(), set.end()), set.end());
      // Most sets converted in the fit's journeys: their shares are in the
      // table. The others are computed once per thread.
      const double* shares = shapley_->Find(set);
      if (shares == nullptr) {
        auto [it, inserted] = scratch->shapley.try_emplace(set);
        if (inserted) it->second = shapley_->game().Shares(set);
        shares = it->second.data();
      }
      SplitByValue(keys, w, [&](uint64_t, size_t i) {
        return shares[std::lower_bound(set.begin(), set.end(), ids[i]) -
                      set.begin()];
      });
      return;
    }
    std::vector<uint32_t>& channels = scratch->channels;
    channels.resize(n);
    for (size_t i = 0; i < n; ++i) {
      channels[i] =
          static_cast<uint32_t>(by_campaign_ ? keys[i] >> 32 : keys[i]);
    }
    *w = TouchWeights(model_, channels, times, conversion_us, channel_table_);
  }

 private:
  // w[i] = value(group of i) / sum over distinct groups / touches of it;
  // an even split when every value is 0.
  template <typename ValueFn>
  static void SplitByValue(absl::Span<const uint64_t> keys,
                           std::vector<double>* w, ValueFn value) {
    const size_t n = keys.size();
    double sum = 0;
    for (size_t i = 0; i < n; ++i) {
      bool first = std::find(keys.begin(), keys.begin() + i, keys[i]) ==
                   keys.begin() + i;
      const double v = value(keys[i], i);
      (*w)[i] = v;
      if (first) sum += v;
    }
    if (sum <= 0) {
      std::fill(w->begin(), w->end(), 1.0 / static_cast<double>(n));
      return;
    }
    for (size_t i = 0; i < n; ++i) {
      const auto count = std::count(keys.begin(), keys.end(), keys[i]);
      (*w)[i] = (*w)[i] / sum / static_cast<double>(count);
    }
  }

  void FitIncrementalModel(const PathSet& paths, const ReportOptions& o,
                           Goal goal, TimeRange window,
                           std::vector<uint64_t> keys) {
    keys_ = std::move(keys);
    IncrementalParams params;
    params.half_life_us = model_.incremental_half_life_us;
    const std::vector<ExperimentMeasure>* experiments =
        goal == Goal::kAcquisition      ? &o.acquisition_experiments
        : goal == Goal::kRepeatPurchase ? &o.repeat_experiments
                                        : nullptr;
    if (experiments != nullptr) {
      for (const ExperimentMeasure& m : *experiments) {
        CalibrationPlan plan =
            PlanCalibration(m, window.start_us, window.end_us,
                            paths.group_table, o.min_experiment_se);
        if (plan.calibration) {
          params.calibrations.push_back(*std::move(plan.calibration));
        }
      }
    }
    IncrementalResult r = FitIncremental(paths, params, o.threads, o.cancelled);
    if (r.cancelled) {
      cancelled_ = true;
      return;
    }
    fit_ = r.fit;
    // Intervals are on new customers and revenue: the acquisition and
    // repeat-purchase fits' replicates, not the leads'.
    if (o.intervals.has_value() &&
        (goal == Goal::kAcquisition || goal == Goal::kRepeatPurchase)) {
      steps_ = IncrementalReplicateSteps(paths, params, r, *o.intervals,
                                         o.threads, o.cancelled);
      cancelled_ = steps_->cancelled;
    }
  }

  const ModelParams model_;
  const bool by_campaign_;
  IncrementalFit fit_;
  std::vector<uint64_t> keys_;  // By fit group id.
  std::optional<ReplicateSteps> steps_;
  std::vector<Group> channel_table_;
  absl::flat_hash_map<uint64_t, double> removal_;
  std::unique_ptr<ShapleyShareTable> shapley_;
  absl::flat_hash_map<uint64_t, uint32_t> dense_;
  size_t table_size_ = 0;
  bool cancelled_ = false;
};

constexpr int64_t kNone = INT64_MIN;

// Runs fn(worker, events, customer id) for every customer slot, each worker on
// its own thread over a contiguous range. False if cancelled.
template <typename Fn>
bool ForEachCustomer(const IndexSnapshot& index, int threads,
                     const std::function<bool()>& cancelled, Fn fn) {
  const size_t customers = index.customer_count();
  std::atomic<bool> stopped{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const size_t begin = customers * t / threads;
      const size_t end = customers * (t + 1) / threads;
      for (size_t c = begin; c < end; ++c) {
        if ((c & 4095) == 0 && cancelled && cancelled()) {
          stopped = true;
          return;
        }
        const IndexSnapshot::Customer customer =
            index.customer(static_cast<uint32_t>(c));
        if (!customer.events.empty()) fn(t, customer.events, customer.id);
      }
    });
  }
  for (std::thread& w : workers) w.join();
  return !stopped;
}

// Calls fn(keys, times, conversion_us, revenue_micros) for every converting
// journey (with or without touches).
template <typename Fn>
void ForEachConversion(const RawJourneys& r, Fn fn) {
  size_t offset = 0;
  for (size_t j = 0; j < r.lengths.size(); ++j) {
    const size_t n = r.lengths[j];
    if (r.converted[j]) {
      fn(absl::MakeConstSpan(r.keys).subspan(offset, n),
         absl::MakeConstSpan(r.times).subspan(offset, n), r.conversion_us[j],
         r.revenue_micros[j]);
    }
    offset += n;
  }
}

// (key, credit) pairs of one conversion, one per distinct key.
using KeyCredits = std::vector<std::pair<uint64_t, double>>;

void AddKeyCredit(KeyCredits* out, uint64_t key, double w) {
  for (auto& [k, v] : *out) {
    if (k == key) {
      v += w;
      return;
    }
  }
  out->push_back({key, w});
}

// The facts of one customer the reports share.
struct CustomerFacts {
  int64_t first_touch_us = kNone;
  uint64_t first_touch_key = 0;
  int64_t acquired_us = kNone;  // First purchase.
  // Their first purchase after acquisition, if no churn came before it: no
  // churn event, and under the lapse rule no lapse (the purchase is at most
  // lapse_us after acquisition).
  int64_t retained_at_us = kNone;
  bool saw_churn = false;  // The customer has a churn event.

  void Compute(absl::Span<const IndexedEvent> ev, bool by_campaign,
               int64_t lapse_us) {
    *this = CustomerFacts();
    bool churned = false;
    for (const IndexedEvent& e : ev) {
      if (e.is_touchpoint()) {
        if (first_touch_us == kNone) {
          first_touch_us = e.at_us;
          first_touch_key = KeyOf(e, by_campaign);
        }
        continue;
      }
      if (e.conversion_kind() == ConversionKind::kPurchase) {
        if (acquired_us == kNone) {
          acquired_us = e.at_us;
        } else if (retained_at_us == kNone && !churned &&
                   e.at_us > acquired_us &&
                   (lapse_us == 0 || e.at_us <= acquired_us + lapse_us)) {
          retained_at_us = e.at_us;
        }
      } else if (e.conversion_kind() == ConversionKind::kChurn) {
        saw_churn = true;
        if (acquired_us != kNone && e.at_us > acquired_us &&
            retained_at_us == kNone) {
          churned = true;
        }
      }
    }
  }
};

// Whether a customer acquired before `end_us` had churned at `start_us` and
// whether they churned in [start_us, end_us): churn events, and under the
// lapse rule a lapse (no purchase for lapse_us after a purchase, and no
// churn event before its end) completed by now_us. A purchase brings the
// customer back.
struct ChurnInPeriod {
  bool churned_at_start = false;
  bool churned_in = false;
};
ChurnInPeriod ChurnOf(absl::Span<const IndexedEvent> ev, int64_t acquired_us,
                      int64_t start_us, int64_t end_us, int64_t lapse_us,
                      int64_t now_us) {
  ChurnInPeriod out;
  bool lost = false;
  int64_t last_purchase = kNone;
  auto churn_at = [&](int64_t at) {
    lost = true;
    if (at < start_us) {
      out.churned_at_start = true;
    } else if (at < end_us) {
      out.churned_in = true;
    }
  };
  // The lapse after the last purchase, if it completed before `before`.
  auto lapse_before = [&](int64_t before) {
    if (lapse_us == 0 || lost || last_purchase == kNone) return;
    const int64_t at = last_purchase + lapse_us;
    if (at < before && at <= now_us) churn_at(at);
  };
  for (const IndexedEvent& x : ev) {
    if (x.at_us >= end_us) break;
    if (x.at_us < acquired_us || x.is_touchpoint()) continue;
    const ConversionKind k = x.conversion_kind();
    if (k != ConversionKind::kPurchase && k != ConversionKind::kChurn) {
      continue;
    }
    // A purchase exactly at the lapse's end keeps the customer.
    lapse_before(k == ConversionKind::kPurchase ? x.at_us : x.at_us + 1);
    if (k == ConversionKind::kPurchase) {
      lost = false;
      if (x.at_us < start_us) out.churned_at_start = false;
      last_purchase = x.at_us;
    } else {
      churn_at(x.at_us);
    }
  }
  lapse_before(end_us);
  return out;
}

// A group's bootstrap sums for the first period: per replicate its
// weighted new-customer and revenue credits, and their derivatives in the
// acquisition and repeat-purchase fits' parameters (INCREMENTAL).
struct IntervalSums {
  IntervalSums(size_t reps, size_t acq_params, size_t rep_params)
      : new_customers(reps, 0.0),
        revenue(reps, 0.0),
        new_customers_d_acq(acq_params, 0.0),
        revenue_d_acq(acq_params, 0.0),
        revenue_d_rep(rep_params, 0.0) {}
  std::vector<double> new_customers, revenue;
  std::vector<double> new_customers_d_acq, revenue_d_acq, revenue_d_rep;

  void Add(const IntervalSums& o) {
    auto add = [](std::vector<double>& a, const std::vector<double>& b) {
      AddScaled(a.data(), b.data(), 1.0, a.size());
    };
    add(new_customers, o.new_customers);
    add(revenue, o.revenue);
    add(new_customers_d_acq, o.new_customers_d_acq);
    add(revenue_d_acq, o.revenue_d_acq);
    add(revenue_d_rep, o.revenue_d_rep);
  }
};

}  // namespace

const MetricInfo& Info(MetricId id) { return kMetrics[static_cast<int>(id)]; }

std::optional<MetricId> MetricByName(absl::string_view name) {
  for (int i = 0; i < kMetricCount; ++i) {
    if (name == kMetrics[i].name) return static_cast<MetricId>(i);
  }
  return std::nullopt;
}

void Tally::Add(const Tally& o) {
  reach += o.reach;
  new_prospects += o.new_prospects;
  leads += o.leads;
  new_customers += o.new_customers;
  revenue_micros += o.revenue_micros;
  buyers += o.buyers;
  base_buyers += o.base_buyers;
  repeat_buyers += o.repeat_buyers;
  retention_base += o.retention_base;
  retained += o.retained;
  churn_base += o.churn_base;
  churned += o.churned;
  positive += o.positive;
  neutral += o.neutral;
  negative += o.negative;
  spend_micros += o.spend_micros;
}

TallyResult TallyPeriods(const IndexSnapshot* index,
                         absl::Span<const TimeRange> periods,
                         absl::Span<const SpendRow> spend,
                         const ReportOptions& o) {
  TallyResult result;
  result.periods.resize(periods.size());
  if (index != nullptr && !periods.empty()) {
    TimeRange fit = periods[0];
    for (const TimeRange& p : periods) {
      fit.start_us = std::min(fit.start_us, p.start_us);
      fit.end_us = std::max(fit.end_us, p.end_us);
    }
    // One fit after another: running the three at once made reports by
    // campaign 0.3-1.3 s faster but raised the ack p99 of a stream beside
    // them by 2-4 ms (read_stall_bench, README "Reports").
    const Crediter lead_credit(*index, o, Goal::kLead, fit);
    const Crediter acq_credit(*index, o, Goal::kAcquisition, fit);
    const Crediter rep_credit(*index, o, Goal::kRepeatPurchase, fit);
    if (lead_credit.cancelled() || acq_credit.cancelled() ||
        rep_credit.cancelled()) {
      result.cancelled = true;
      return result;
    }
    const int threads = std::max(1, std::min(o.threads, 64));
    struct Worker {
      Worker(const IndexSnapshot& index, const ReportOptions& o)
          : leads(index, AllTime(Goal::kLead, o)),
            acquisition(index, AllTime(Goal::kAcquisition, o)),
            repeats(index, AllTime(Goal::kRepeatPurchase, o)) {}
      JourneyScanner leads, acquisition, repeats;
      Crediter::Scratch scratch;
      std::vector<absl::flat_hash_map<uint64_t, Tally>> groups;
      std::vector<Tally> totals;
      // Per customer.
      std::vector<double> w;
      std::vector<uint64_t> touched;
      bool saw_churn = false;  // A churn event among its customers.
      KeyCredits acquired_by, purchase_credit;
      // Intervals (first period): per key the replicates' weighted credits
      // and, under INCREMENTAL, the credits' derivatives in each fit's
      // parameters; the replicates' weighted totals; this customer's
      // replicate weights and acquisition derivatives.
      absl::flat_hash_map<uint64_t, IntervalSums> interval_sums;
      std::vector<double> total_new, total_revenue, replicate_w;
      KeyGradients acquired_gradients, gradients;
    };
    const size_t reps = o.intervals.has_value()
                            ? static_cast<size_t>(o.intervals->replicates)
                            : 0;
    const ReplicateSteps* acq_steps = acq_credit.steps();
    const ReplicateSteps* rep_steps = rep_credit.steps();
    const IntervalSums blank(reps, acq_steps ? acq_steps->params : 0,
                             rep_steps ? rep_steps->params : 0);
    std::vector<std::unique_ptr<Worker>> workers;
    for (int t = 0; t < threads; ++t) {
      workers.push_back(std::make_unique<Worker>(*index, o));
      workers.back()->groups.resize(periods.size());
      workers.back()->totals.resize(periods.size());
      workers.back()->total_new.assign(reps, 0.0);
      workers.back()->total_revenue.assign(reps, 0.0);
      workers.back()->replicate_w.assign(reps, 0.0);
    }
    auto sums_of = [&blank](Worker& wk, uint64_t key) -> IntervalSums& {
      return wk.interval_sums.try_emplace(key, blank).first->second;
    };
    const bool completed = ForEachCustomer(
        *index, threads, o.cancelled,
        [&](int t, absl::Span<const IndexedEvent> ev, absl::string_view id) {
          Worker& wk = *workers[t];
          CustomerFacts facts;
          facts.Compute(ev, o.by_campaign, o.lapse_us);
          wk.saw_churn |= facts.saw_churn;
          const RawJourneys& leads = wk.leads.Scan(ev);
          const RawJourneys& acq = wk.acquisition.Scan(ev);
          const RawJourneys& rep = wk.repeats.Scan(ev);
          // The customer's acquisition credit (all time).
          wk.acquired_by.clear();
          wk.acquired_gradients.clear();
          int64_t acquired_revenue = 0;
          ForEachConversion(
              acq, [&](auto keys, auto times, int64_t at, int64_t revenue) {
                acq_credit.Weights(
                    keys, times, at, &wk.w, &wk.scratch,
                    acq_steps != nullptr ? &wk.acquired_gradients : nullptr);
                for (size_t i = 0; i < keys.size(); ++i) {
                  AddKeyCredit(&wk.acquired_by, keys[i], wk.w[i]);
                }
                acquired_revenue = revenue;
              });
          if (reps > 0) {
            BootstrapWeights(CustomerKey(id), wk.replicate_w.data(), reps);
          }
          for (size_t p = 0; p < periods.size(); ++p) {
            const int64_t s = periods[p].start_us, e = periods[p].end_us;
            auto in = [&](int64_t at) { return at >= s && at < e; };
            auto& groups = wk.groups[p];
            Tally& total = wk.totals[p];
            // Reach and sentiment.
            wk.touched.clear();
            double pos = 0, neu = 0, neg = 0;
            for (const IndexedEvent& x : ev) {
              if (x.at_us >= e) break;
              if (x.at_us < s || !x.is_touchpoint()) continue;
              const uint64_t key = KeyOf(x, o.by_campaign);
              wk.touched.push_back(key);
              Tally* g = nullptr;
              switch (x.sentiment()) {
                case Sentiment::kPositive:
                  g = &groups[key];
                  g->positive += 1;
                  pos += 1;
                  break;
                case Sentiment::kNeutral:
                  g = &groups[key];
                  g->neutral += 1;
                  neu += 1;
                  break;
                case Sentiment::kNegative:
                  g = &groups[key];
                  g->negative += 1;
                  neg += 1;
                  break;
                case Sentiment::kUnspecified:
                  break;
              }
            }
            total.positive += pos;
            total.neutral += neu;
            total.negative += neg;
            if (!wk.touched.empty()) {
              total.reach += 1;
              std::sort(wk.touched.begin(), wk.touched.end());
              wk.touched.erase(
                  std::unique(wk.touched.begin(), wk.touched.end()),
                  wk.touched.end());
              for (uint64_t key : wk.touched) groups[key].reach += 1;
            }
            if (facts.first_touch_us != kNone && in(facts.first_touch_us)) {
              total.new_prospects += 1;
              groups[facts.first_touch_key].new_prospects += 1;
            }
            // Leads.
            ForEachConversion(
                leads, [&](auto keys, auto times, int64_t at, int64_t) {
                  if (!in(at)) return;
                  total.leads += 1;
                  lead_credit.Weights(keys, times, at, &wk.w, &wk.scratch);
                  for (size_t i = 0; i < keys.size(); ++i) {
                    groups[keys[i]].leads += wk.w[i];
                  }
                });
            // Purchases: the first over its acquisition path, later ones
            // over repeat-purchase paths.
            int purchases = 0;
            bool repeated = false;
            wk.purchase_credit.clear();
            const bool sample = reps > 0 && p == 0;
            const double* rw = wk.replicate_w.data();
            if (facts.acquired_us != kNone && in(facts.acquired_us)) {
              ++purchases;
              const auto revenue = static_cast<double>(acquired_revenue);
              total.new_customers += 1;
              total.revenue_micros += revenue;
              for (const auto& [key, w] : wk.acquired_by) {
                Tally& g = groups[key];
                g.new_customers += w;
                g.revenue_micros += w * revenue;
                AddKeyCredit(&wk.purchase_credit, key, w);
              }
              if (sample) {
                AddScaled(wk.total_new.data(), rw, 1.0, reps);
                AddScaled(wk.total_revenue.data(), rw, revenue, reps);
                for (const auto& [key, w] : wk.acquired_by) {
                  IntervalSums& sums = sums_of(wk, key);
                  AddScaled(sums.new_customers.data(), rw, w, reps);
                  AddScaled(sums.revenue.data(), rw, w * revenue, reps);
                }
                for (const auto& [key, d] : wk.acquired_gradients) {
                  IntervalSums& sums = sums_of(wk, key);
                  for (const auto& [i, v] : d) {
                    sums.new_customers_d_acq[i] += v;
                    sums.revenue_d_acq[i] += v * revenue;
                  }
                }
              }
            }
            ForEachConversion(
                rep, [&](auto keys, auto times, int64_t at, int64_t revenue) {
                  if (!in(at)) return;
                  ++purchases;
                  repeated = true;
                  const auto money = static_cast<double>(revenue);
                  total.revenue_micros += money;
                  rep_credit.Weights(
                      keys, times, at, &wk.w, &wk.scratch,
                      sample && rep_steps != nullptr ? &wk.gradients : nullptr);
                  for (size_t i = 0; i < keys.size(); ++i) {
                    groups[keys[i]].revenue_micros += wk.w[i] * money;
                    AddKeyCredit(&wk.purchase_credit, keys[i], wk.w[i]);
                  }
                  if (!sample) return;
                  AddScaled(wk.total_revenue.data(), rw, money, reps);
                  for (size_t i = 0; i < keys.size(); ++i) {
                    AddScaled(sums_of(wk, keys[i]).revenue.data(), rw,
                              wk.w[i] * money, reps);
                  }
                  if (rep_steps == nullptr) return;
                  for (const auto& [key, d] : wk.gradients) {
                    IntervalSums& sums = sums_of(wk, key);
                    for (const auto& [i, v] : d) {
                      sums.revenue_d_rep[i] += v * money;
                    }
                  }
                });
            if (purchases > 0) {
              total.buyers += 1;
              total.base_buyers += 1;
              if (repeated) total.repeat_buyers += 1;
              for (const auto& [key, w] : wk.purchase_credit) {
                groups[key].buyers += w / purchases;
              }
              for (const auto& [key, a] : wk.acquired_by) {
                Tally& g = groups[key];
                g.base_buyers += a;
                if (repeated) g.repeat_buyers += a;
              }
            }
            if (facts.acquired_us == kNone) continue;
            // Retention of customers acquired in the period.
            if (in(facts.acquired_us) &&
                facts.acquired_us + o.horizon_us <= o.now_us) {
              const bool retained =
                  facts.retained_at_us != kNone &&
                  facts.retained_at_us <= facts.acquired_us + o.horizon_us;
              total.retention_base += 1;
              total.retained += retained ? 1 : 0;
              for (const auto& [key, a] : wk.acquired_by) {
                Tally& g = groups[key];
                g.retention_base += a;
                if (retained) g.retained += a;
              }
            }
            // Churn among the customers during the period.
            if (facts.acquired_us >= e) continue;
            const auto [churned_at_start, churned_in] =
                ChurnOf(ev, facts.acquired_us, s, e, o.lapse_us, o.now_us);
            if (churned_at_start) continue;
            total.churn_base += 1;
            total.churned += churned_in ? 1 : 0;
            for (const auto& [key, a] : wk.acquired_by) {
              Tally& g = groups[key];
              g.churn_base += a;
              if (churned_in) g.churned += a;
            }
          }
        });
    if (!completed) {
      result.cancelled = true;
      return result;
    }
    // Merged in worker order, so a server gives the same figures each time.
    for (const auto& wk : workers) {
      for (size_t p = 0; p < periods.size(); ++p) {
        result.periods[p].total.Add(wk->totals[p]);
        for (const auto& [key, tally] : wk->groups[p]) {
          result.periods[p].groups[NameOf(*index, key, o.by_campaign)].Add(
              tally);
        }
      }
    }
    for (const auto& wk : workers) result.churn_events |= wk->saw_churn;
    // No churn events and no lapse rule: churn is not measured. Its rate
    // is left undefined rather than 0.
    if (!result.churn_events && o.lapse_us == 0) {
      for (PeriodTally& p : result.periods) {
        p.total.churn_base = p.total.churned = 0;
        for (auto& [name, tally] : p.groups) {
          tally.churn_base = tally.churned = 0;
        }
      }
    }
    if (reps > 0) {
      std::map<GroupName, IntervalSums> merged;
      std::vector<double> total_new(reps, 0.0), total_revenue(reps, 0.0);
      for (const auto& wk : workers) {
        for (const auto& [key, sums] : wk->interval_sums) {
          merged.try_emplace(NameOf(*index, key, o.by_campaign), blank)
              .first->second.Add(sums);
        }
        AddScaled(total_new.data(), wk->total_new.data(), 1.0, reps);
        AddScaled(total_revenue.data(), wk->total_revenue.data(), 1.0, reps);
      }
      const bool incremental = o.model.kind == ModelKind::kIncremental;
      const double lo_q = (1 - o.intervals->level) / 2, hi_q = 1 - lo_q;
      std::vector<double> nc(reps), rev(reps);
      for (auto& [name, sums] : merged) {
        for (size_t r = 0; r < reps; ++r) {
          nc[r] = sums.new_customers[r];
          rev[r] = sums.revenue[r];
          if (acq_steps != nullptr) {
            const double* step = &acq_steps->steps[r * acq_steps->params];
            for (size_t i = 0; i < acq_steps->params; ++i) {
              nc[r] += sums.new_customers_d_acq[i] * step[i];
              rev[r] += sums.revenue_d_acq[i] * step[i];
            }
          }
          if (rep_steps != nullptr) {
            const double* step = &rep_steps->steps[r * rep_steps->params];
            for (size_t i = 0; i < rep_steps->params; ++i) {
              rev[r] += sums.revenue_d_rep[i] * step[i];
            }
          }
          if (incremental) {
            nc[r] = std::max(0.0, nc[r]);
            rev[r] = std::max(0.0, rev[r]);
          }
          total_new[r] -= incremental ? nc[r] : 0.0;
          total_revenue[r] -= incremental ? rev[r] : 0.0;
        }
        CreditRange& range = result.intervals[name];
        range.new_customers_low = BootstrapQuantile(nc, lo_q);
        range.new_customers_high = BootstrapQuantile(nc, hi_q);
        range.revenue_micros_low = BootstrapQuantile(rev, lo_q);
        range.revenue_micros_high = BootstrapQuantile(rev, hi_q);
      }
      if (incremental) {
        CreditRange& base = result.baseline_interval.emplace();
        base.new_customers_low = BootstrapQuantile(total_new, lo_q);
        base.new_customers_high = BootstrapQuantile(total_new, hi_q);
        base.revenue_micros_low = BootstrapQuantile(total_revenue, lo_q);
        base.revenue_micros_high = BootstrapQuantile(total_revenue, hi_q);
      }
    }
  }
  for (const SpendRow& row : spend) {
    const int64_t at = row.day * kDayUs;
    for (size_t p = 0; p < periods.size(); ++p) {
      if (at < periods[p].start_us || at >= periods[p].end_us) continue;
      result.periods[p].total.spend_micros += row.amount_micros;
      result.periods[p]
          .groups[{row.channel, o.by_campaign ? row.campaign : ""}]
          .spend_micros += row.amount_micros;
    }
  }
  return result;
}

Figures Derive(const Tally& t, double gross_margin) {
  Figures f;
  auto set = [&f](MetricId id, std::optional<double> v) {
    f[static_cast<int>(id)] = v;
  };
  const double revenue = t.revenue_micros / 1e6;
  const double spend = static_cast<double>(t.spend_micros) / 1e6;
  const double profit = revenue * gross_margin - spend;
  const double sentiments = t.positive + t.neutral + t.negative;
  set(MetricId::kReach, t.reach);
  set(MetricId::kNewProspects, t.new_prospects);
  set(MetricId::kLeads, t.leads);
  set(MetricId::kNewCustomers, t.new_customers);
  set(MetricId::kLeadToCustomerRate, Ratio(t.new_customers, t.leads));
  set(MetricId::kProspectToCustomerRate,
      Ratio(t.new_customers, t.new_prospects));
  set(MetricId::kRevenue, revenue);
  set(MetricId::kRevenuePerCustomer, Ratio(revenue, t.buyers));
  set(MetricId::kRepeatPurchaseRate, Ratio(t.repeat_buyers, t.base_buyers));
  set(MetricId::kRetentionRate, Ratio(t.retained, t.retention_base));
  set(MetricId::kChurnRate, Ratio(t.churned, t.churn_base));
  set(MetricId::kSpend, spend);
  set(MetricId::kCac, Ratio(spend, t.new_customers));
  set(MetricId::kRoas, Ratio(revenue, spend));
  set(MetricId::kProfitContribution, profit);
  set(MetricId::kRoi, Ratio(profit, spend));
  set(MetricId::kPositiveShare, Ratio(t.positive, sentiments));
  set(MetricId::kNeutralShare, Ratio(t.neutral, sentiments));
  set(MetricId::kNegativeShare, Ratio(t.negative, sentiments));
  return f;
}

Comparison Compare(MetricId id, std::optional<double> value,
                   std::optional<double> previous) {
  return CompareWith(Info(id).polarity, Info(id).rate, value, previous);
}

std::optional<double> AggregateFigure(const std::map<int32_t, double>& values,
                                      FigureAggregation aggregation,
                                      int32_t start_day, int32_t end_day) {
  auto first = values.lower_bound(start_day);
  auto last = values.lower_bound(end_day);
  if (first == last) return std::nullopt;
  double sum = 0;
  int n = 0;
  for (auto it = first; it != last; ++it, ++n) sum += it->second;
  switch (aggregation) {
    case FigureAggregation::kSum:
      return sum;
    case FigureAggregation::kMean:
      return sum / n;
    case FigureAggregation::kLast:
      return std::prev(last)->second;
  }
  return std::nullopt;
}

Comparison CompareWith(Polarity polarity, bool rate,
                       std::optional<double> value,
                       std::optional<double> previous) {
  Comparison c;
  c.value = value;
  c.previous = previous;
  if (!value || !previous) return c;
  const double change = *value - *previous;
  c.change = change;
  if (*previous != 0) c.change_ratio = change / std::fabs(*previous);
  // No real change: under kNoRealChangePoints for a rate, under
  // kNoRealChangeRatio of the previous value otherwise.
  const bool no_real_change =
      rate ? std::fabs(change) < kNoRealChangePoints
      : *previous != 0
          ? std::fabs(change) < kNoRealChangeRatio * std::fabs(*previous)
          : std::fabs(change) < 1e-9;
  if (no_real_change) {
    c.direction = Direction::kFlat;
    c.assessment = Assessment::kNeutral;
    return c;
  }
  c.direction = change > 0 ? Direction::kUp : Direction::kDown;
  switch (polarity) {
    case Polarity::kUpIsGood:
      c.assessment = change > 0 ? Assessment::kGood : Assessment::kBad;
      break;
    case Polarity::kDownIsGood:
      c.assessment = change < 0 ? Assessment::kGood : Assessment::kBad;
      break;
    case Polarity::kNeutral:
      c.assessment = Assessment::kNeutral;
      break;
  }
  return c;
}

namespace {

// Bucket starts (days) of a period: every day, or calendar weeks or months
// cut to the period. `period` is whole days.
std::vector<int32_t> BucketStarts(TimeRange period, Granularity g) {
  std::vector<int32_t> starts;
  const int32_t first = DayOf(period.start_us), end = DayOf(period.end_us);
  for (int32_t d = first; d < end;) {
    starts.push_back(d);
    switch (g) {
      case Granularity::kDay:
        d += 1;
        break;
      case Granularity::kWeek:
        d = WeekStart(d) + 7;
        break;
      case Granularity::kMonth:
        d = NextMonthStart(d);
        break;
    }
  }
  return starts;
}

size_t BucketOf(const std::vector<int32_t>& starts, int32_t day) {
  return static_cast<size_t>(
      std::upper_bound(starts.begin(), starts.end(), day) - starts.begin() - 1);
}

std::vector<double> Zeros(size_t n) { return std::vector<double>(n, 0.0); }

}  // namespace

CashFlowResult ComputeCashFlow(const IndexSnapshot* index, TimeRange period,
                               bool weekly, absl::Span<const SpendRow> spend,
                               const ReportOptions& options) {
  ReportOptions o = options;
  o.by_campaign = false;
  CashFlowResult result;
  result.bucket_start_days =
      BucketStarts(period, weekly ? Granularity::kWeek : Granularity::kDay);
  const size_t n = result.bucket_start_days.size();
  const auto& starts = result.bucket_start_days;
  std::map<std::string, CashFlowSeries> by_channel;
  auto series = [&](const std::string& channel) -> CashFlowSeries& {
    CashFlowSeries& s = by_channel[channel];
    if (s.revenue.empty()) {
      s.channel = channel;
      s.revenue = s.spend = Zeros(n);
    }
    return s;
  };
  result.total.revenue = result.total.spend = Zeros(n);
  if (index != nullptr && n > 0) {
    const Crediter acq_credit(*index, o, Goal::kAcquisition, period);
    const Crediter rep_credit(*index, o, Goal::kRepeatPurchase, period);
    if (acq_credit.cancelled() || rep_credit.cancelled()) {
      result.cancelled = true;
      return result;
    }
    const int threads = std::max(1, std::min(o.threads, 64));
    struct Worker {
      Worker(const IndexSnapshot& index, const ReportOptions& o)
          : acquisition(index, AllTime(Goal::kAcquisition, o)),
            repeats(index, AllTime(Goal::kRepeatPurchase, o)) {}
      JourneyScanner acquisition, repeats;
      Crediter::Scratch scratch;
      std::vector<double> w;
      absl::flat_hash_map<uint64_t, std::vector<double>> revenue;
      std::vector<double> total;
    };
    std::vector<std::unique_ptr<Worker>> workers;
    for (int t = 0; t < threads; ++t) {
      workers.push_back(std::make_unique<Worker>(*index, o));
      workers.back()->total = Zeros(n);
    }
    const bool completed = ForEachCustomer(
        *index, threads, o.cancelled,
        [&](int t, absl::Span<const IndexedEvent> ev, absl::string_view) {
          Worker& wk = *workers[t];
          auto credit = [&](const Crediter& crediter) {
            return [&](auto keys, auto times, int64_t at, int64_t revenue) {
              if (at < period.start_us || at >= period.end_us) return;
              const size_t b = BucketOf(starts, DayOf(at));
              wk.total[b] += static_cast<double>(revenue);
              crediter.Weights(keys, times, at, &wk.w, &wk.scratch);
              for (size_t i = 0; i < keys.size(); ++i) {
                std::vector<double>& r = wk.revenue[keys[i]];
                if (r.empty()) r = Zeros(n);
                r[b] += wk.w[i] * static_cast<double>(revenue);
              }
            };
          };
          ForEachConversion(wk.acquisition.Scan(ev), credit(acq_credit));
          ForEachConversion(wk.repeats.Scan(ev), credit(rep_credit));
        });
    if (!completed) {
      result.cancelled = true;
      return result;
    }
    for (const auto& wk : workers) {
      for (size_t b = 0; b < n; ++b) result.total.revenue[b] += wk->total[b];
      for (const auto& [key, revenue] : wk->revenue) {
        CashFlowSeries& s =
            series(index->channel_name(static_cast<uint16_t>(key)));
        for (size_t b = 0; b < n; ++b) s.revenue[b] += revenue[b];
      }
    }
  }
  for (const SpendRow& row : spend) {
    const int64_t at = row.day * kDayUs;
    if (at < period.start_us || at >= period.end_us || n == 0) continue;
    const size_t b = BucketOf(starts, row.day);
    const double amount = static_cast<double>(row.amount_micros);
    series(row.channel).spend[b] += amount;
    result.total.spend[b] += amount;
  }
  auto to_units = [](CashFlowSeries& s) {
    for (double& x : s.revenue) x /= 1e6;
    for (double& x : s.spend) x /= 1e6;
  };
  for (auto& [name, s] : by_channel) {
    to_units(s);
    result.channels.push_back(std::move(s));
  }
  to_units(result.total);
  return result;
}

CohortResult ComputeCohorts(const IndexSnapshot* index, TimeRange period,
                            bool weekly, absl::Span<const int32_t> horizon_days,
                            absl::Span<const SpendRow> spend,
                            const ReportOptions& options) {
  ReportOptions o = options;
  o.by_campaign = false;
  CohortResult result;
  const std::vector<int32_t> starts =
      BucketStarts(period, weekly ? Granularity::kWeek : Granularity::kMonth);
  const size_t buckets = starts.size();
  const size_t horizons = horizon_days.size();
  const int32_t now_day = DayOf(o.now_us);
  // Days of revenue a cohort can have seen: from its first day to today.
  auto curve_length = [&](size_t b) {
    return static_cast<size_t>(
        std::clamp<int64_t>(int64_t{now_day} - starts[b] + 1, 1, 3651));
  };
  struct Acc {
    double customers = 0;
    std::vector<double> observed, retained, revenue;  // By horizon.
    std::vector<double> curve;  // Revenue micros by day since acquisition.
    int64_t spend_micros = 0;
  };
  // Key: bucket << 32 | channel id, or | kTotal for all channels.
  constexpr uint64_t kTotal = 0xffffffffu;
  auto new_acc = [&](size_t b) {
    Acc a;
    a.observed = a.retained = a.revenue = Zeros(horizons);
    a.curve = Zeros(curve_length(b));
    return a;
  };
  std::map<std::pair<size_t, std::string>, Acc> merged;
  if (index != nullptr && buckets > 0) {
    const Crediter acq_credit(*index, o, Goal::kAcquisition, period);
    if (acq_credit.cancelled()) {
      result.cancelled = true;
      return result;
    }
    const int threads = std::max(1, std::min(o.threads, 64));
    struct Worker {
      Worker(const IndexSnapshot& index, const ReportOptions& o)
          : acquisition(index, AllTime(Goal::kAcquisition, o)) {}
      JourneyScanner acquisition;
      Crediter::Scratch scratch;
      std::vector<double> w;
      KeyCredits acquired_by;
      absl::flat_hash_map<uint64_t, Acc> acc;
      std::vector<uint8_t> observed, retained;
      std::vector<double> revenue;
      bool saw_churn = false;
      std::vector<std::pair<size_t, double>> purchases;  // Day, revenue.
    };
    std::vector<std::unique_ptr<Worker>> workers;
    for (int t = 0; t < threads; ++t) {
      workers.push_back(std::make_unique<Worker>(*index, o));
    }
    const bool completed = ForEachCustomer(
        *index, threads, o.cancelled,
        [&](int t, absl::Span<const IndexedEvent> ev, absl::string_view) {
          Worker& wk = *workers[t];
          CustomerFacts facts;
          facts.Compute(ev, false, o.lapse_us);
          wk.saw_churn |= facts.saw_churn;
          const int64_t t0 = facts.acquired_us;
          if (t0 == kNone || t0 < period.start_us || t0 >= period.end_us) {
            return;
          }
          const size_t b = BucketOf(starts, DayOf(t0));
          wk.acquired_by.clear();
          ForEachConversion(wk.acquisition.Scan(ev), [&](auto keys, auto times,
                                                         int64_t at, int64_t) {
            acq_credit.Weights(keys, times, at, &wk.w, &wk.scratch);
            for (size_t i = 0; i < keys.size(); ++i) {
              AddKeyCredit(&wk.acquired_by, keys[i], wk.w[i]);
            }
          });
          wk.acquired_by.push_back({kTotal, 1.0});
          // The customer's own figures, once; each key adds them weighted.
          // Per horizon: observed, retained, revenue so far; and the
          // revenue of each purchase by day since acquisition.
          wk.observed.assign(horizons, 0);
          wk.retained.assign(horizons, 0);
          wk.revenue.assign(horizons, 0.0);
          for (size_t h = 0; h < horizons; ++h) {
            const int64_t end = t0 + horizon_days[h] * kDayUs;
            wk.observed[h] = end <= o.now_us;
            wk.retained[h] =
                facts.retained_at_us != kNone && facts.retained_at_us <= end;
          }
          wk.purchases.clear();
          for (const IndexedEvent& x : ev) {
            if (x.at_us < t0 ||
                x.conversion_kind() != ConversionKind::kPurchase) {
              continue;
            }
            const double revenue =
                static_cast<double>(index->revenue_micros(x));
            const int64_t since = x.at_us - t0;
            for (size_t h = 0; h < horizons; ++h) {
              if (wk.observed[h] && since <= horizon_days[h] * kDayUs) {
                wk.revenue[h] += revenue;
              }
            }
            wk.purchases.push_back(
                {static_cast<size_t>(since / kDayUs), revenue});
          }
          for (const auto& [key, a] : wk.acquired_by) {
            auto [it, inserted] = wk.acc.try_emplace(uint64_t{b} << 32 | key);
            if (inserted) it->second = new_acc(b);
            Acc& acc = it->second;
            acc.customers += a;
            for (size_t h = 0; h < horizons; ++h) {
              if (!wk.observed[h]) continue;
              acc.observed[h] += a;
              if (wk.retained[h]) acc.retained[h] += a;
              acc.revenue[h] += a * wk.revenue[h];
            }
            for (const auto& [day, revenue] : wk.purchases) {
              if (day < acc.curve.size()) acc.curve[day] += a * revenue;
            }
          }
        });
    if (!completed) {
      result.cancelled = true;
      return result;
    }
    for (const auto& wk : workers) result.churn_events |= wk->saw_churn;
    for (const auto& wk : workers) {
      for (const auto& [key, a] : wk->acc) {
        const size_t b = key >> 32;
        const uint64_t ch = key & 0xffffffffu;
        const std::string name =
            ch == kTotal ? "" : index->channel_name(static_cast<uint16_t>(ch));
        auto [it, inserted] = merged.try_emplace({b, name});
        if (inserted) it->second = new_acc(b);
        Acc& m = it->second;
        m.customers += a.customers;
        for (size_t h = 0; h < horizons; ++h) {
          m.observed[h] += a.observed[h];
          m.retained[h] += a.retained[h];
          m.revenue[h] += a.revenue[h];
        }
        for (size_t d = 0; d < m.curve.size(); ++d) m.curve[d] += a.curve[d];
      }
    }
  }
  for (const SpendRow& row : spend) {
    const int64_t at = row.day * kDayUs;
    if (at < period.start_us || at >= period.end_us || buckets == 0) continue;
    const size_t b = BucketOf(starts, row.day);
    for (const std::string& name : {row.channel, std::string()}) {
      auto [it, inserted] = merged.try_emplace({b, name});
      if (inserted) it->second = new_acc(b);
      it->second.spend_micros += row.amount_micros;
    }
  }
  for (const auto& [key, a] : merged) {
    CohortRow& row = result.rows.emplace_back();
    row.start_day = starts[key.first];
    row.channel = key.second;
    row.customers = a.customers;
    row.spend = static_cast<double>(a.spend_micros) / 1e6;
    row.cac = Ratio(row.spend, row.customers);
    for (size_t h = 0; h < horizons; ++h) {
      CohortHorizonFigures& f = row.horizons.emplace_back();
      f.days = horizon_days[h];
      f.observed = a.observed[h];
      f.retention_rate = Ratio(a.retained[h], a.observed[h]);
      f.revenue_per_customer = Ratio(a.revenue[h] / 1e6, a.observed[h]);
      if (f.revenue_per_customer && row.cac && *row.cac > 0) {
        f.ltv_to_cac = *f.revenue_per_customer / *row.cac;
      }
    }
    // Payback: cumulative margin per customer >= CAC, that is cumulative
    // margin >= the cohort's spend.
    if (row.customers > 0) {
      double margin = 0;
      for (size_t d = 0; d < a.curve.size(); ++d) {
        margin += a.curve[d] / 1e6 * o.gross_margin;
        if (margin >= row.spend - 1e-9) {
          row.payback_days = static_cast<int32_t>(d);
          break;
        }
      }
    }
  }
  return result;
}

int64_t GoalMeasuredEnd(TimeRange period, int64_t now_us) {
  const int64_t next_midnight = (DayOf(now_us) + int64_t{1}) * kDayUs;
  return std::clamp(next_midnight, period.start_us, period.end_us);
}

GoalProgress EvaluateGoal(MetricId metric, double target, TimeRange period,
                          std::optional<double> actual, int64_t now_us) {
  return EvaluateGoalWith(Info(metric).polarity, Info(metric).additive, target,
                          period, actual, now_us);
}

GoalProgress EvaluateGoalWith(Polarity polarity, bool additive, double target,
                              TimeRange period, std::optional<double> actual,
                              int64_t now_us) {
  GoalProgress g;
  g.actual = actual;
  const double length = static_cast<double>(period.end_us - period.start_us);
  g.elapsed = std::clamp(
      static_cast<double>(GoalMeasuredEnd(period, now_us) - period.start_us) /
          length,
      0.0, 1.0);
  if (now_us < period.start_us) {
    g.status = GoalStatus::kNotStarted;
    return g;
  }
  const bool down = polarity == Polarity::kDownIsGood;
  const bool over = now_us >= period.end_us;
  double bar = target;
  if (additive) {
    bar = target * g.elapsed;
    g.expected_to_date = bar;
  }
  if (!actual) {
    g.status = GoalStatus::kNoData;
    return g;
  }
  if (over) {
    const bool met = down ? *actual <= target : *actual >= target;
    g.status = met ? GoalStatus::kAchieved : GoalStatus::kMissed;
    return g;
  }
  const bool ok = down ? *actual <= bar : *actual >= bar;
  g.status = ok ? GoalStatus::kOnTrack : GoalStatus::kBehind;
  return g;
}

}  // namespace attribution

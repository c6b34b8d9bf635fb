#include "service/core/incremental.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "service/core/bootstrap.h"

namespace attribution {
namespace {

constexpr int64_t kDayUs = 86'400'000'000;
// The half-life grid; kNoDecay (every touch counts the same) last.
constexpr int64_t kNoDecay = INT64_MAX;
constexpr int64_t kHalfLifeGridDays[] = {1, 3, 7, 14, 30, 90};
// Sums are taken over this many fixed blocks of journeys, then added in
// block order: the same result for any thread count.
constexpr int kBlocks = 64;
constexpr int kMaxIterations = 100;
// Above this many journeys the half-life is chosen on 1 in kSubsample.
constexpr size_t kSubsampleAbove = 200'000;
constexpr size_t kSubsample = 8;
constexpr double kMinBaseline = 1e-9;

}  // namespace

// Journey j's exposures: for each distinct group on its path, x and
// log(1 + x), in CSR form. The touches behind them are kept (each touch's
// age and its slot among the row's groups), so that the exposures at
// another half-life are one sequential pass (SetHalfLife).
struct IncrementalFeatures {
  std::vector<uint8_t> converted;  // Per row.
  std::vector<int64_t> conversion_us;
  std::vector<uint64_t> customer_keys;
  std::vector<int64_t> revenue_micros;
  std::vector<uint32_t> offsets = {0};
  std::vector<uint32_t> groups;
  size_t rows() const { return converted.size(); }
  std::vector<double> x;
  std::vector<double> log1p_x;
  int64_t half_life_us = 0;
  // Per row, its touches [touch_offsets[j], touch_offsets[j+1]): age in
  // microseconds and the index k (into groups/x) of the touch's group.
  std::vector<uint32_t> touch_offsets = {0};
  std::vector<double> touch_age_us;
  std::vector<uint32_t> touch_slot;
};

namespace {

using Features = IncrementalFeatures;

// The journeys in an order that depends on their content alone (a hash,
// then the content itself), so that sums come out bit for bit the same
// whatever order the index holds customers in (it changes at a restart).
std::vector<uint32_t> CanonicalOrder(const PathSet& paths) {
  const size_t n = paths.size();
  std::vector<uint64_t> key(n);
  for (size_t j = 0; j < n; ++j) {
    const auto path = paths.path(j);
    const auto times = paths.path_times(j);
    // A fixed hash (absl::Hash is seeded per process).
    uint64_t h = MixBits(paths.converted[j] ^ 0x51ed2701ULL);
    h = MixBits(h ^ static_cast<uint64_t>(paths.revenue_micros[j]));
    h = MixBits(h ^ static_cast<uint64_t>(paths.conversion_us[j]));
    for (size_t i = 0; i < path.size(); ++i) {
      h = MixBits(h ^ path[i]);
      h = MixBits(h ^ static_cast<uint64_t>(times[i]));
    }
    key[j] = h;
  }
  std::vector<uint32_t> order(n);
  for (size_t j = 0; j < n; ++j) order[j] = static_cast<uint32_t>(j);
  auto content = [&paths](uint32_t j) {
    return std::make_tuple(paths.converted[j], paths.revenue_micros[j],
                           paths.conversion_us[j], paths.path(j),
                           paths.path_times(j));
  };
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    if (key[a] != key[b]) return key[a] < key[b];
    return content(a) < content(b);
  });
  return order;
}

// Features of the journeys in `order` (row r is journey order[r]), their
// exposures not yet set.
Features GatherFeatures(const PathSet& paths,
                        const std::vector<uint32_t>& order) {
  Features f;
  size_t touches = 0;
  for (const uint32_t j : order) touches += paths.path(j).size();
  f.converted.reserve(order.size());
  f.conversion_us.reserve(order.size());
  f.customer_keys.reserve(order.size());
  f.revenue_micros.reserve(order.size());
  f.offsets.reserve(order.size() + 1);
  f.touch_offsets.reserve(order.size() + 1);
  f.groups.reserve(touches);
  f.touch_age_us.reserve(touches);
  f.touch_slot.reserve(touches);
  // Per group, its slot on the current path, or -1 (reset after each).
  std::vector<int32_t> slot(paths.group_table.size(), -1);
  for (const uint32_t j : order) {
    const auto path = paths.path(j);
    const auto times = paths.path_times(j);
    // Ages are taken at the journey's last touch, for converting and
    // non-converting journeys alike: a non-converting journey has no
    // conversion time, and measuring only the converting ones at their
    // conversion would make every touch look older on them, and decay look
    // harmful.
    const int64_t ref = times.empty() ? 0 : times.back();
    const auto start = static_cast<uint32_t>(f.groups.size());
    for (const uint32_t g : path) {
      if (slot[g] < 0) {
        slot[g] = 0;
        f.groups.push_back(g);
      }
    }
    // Groups in id order, so that sums do not depend on path order.
    std::sort(f.groups.begin() + start, f.groups.end());
    for (size_t k = start; k < f.groups.size(); ++k) {
      slot[f.groups[k]] = static_cast<int32_t>(k);
    }
    for (size_t i = 0; i < path.size(); ++i) {
      f.touch_age_us.push_back(
          static_cast<double>(std::max<int64_t>(0, ref - times[i])));
      f.touch_slot.push_back(static_cast<uint32_t>(slot[path[i]]));
    }
    for (size_t k = start; k < f.groups.size(); ++k) slot[f.groups[k]] = -1;
    f.offsets.push_back(static_cast<uint32_t>(f.groups.size()));
    f.touch_offsets.push_back(static_cast<uint32_t>(f.touch_age_us.size()));
    f.converted.push_back(paths.converted[j]);
    f.conversion_us.push_back(paths.conversion_us[j]);
    f.customer_keys.push_back(
        j < paths.customer_keys.size() ? paths.customer_keys[j] : j);
    f.revenue_micros.push_back(paths.revenue_micros[j]);
  }
  f.x.assign(f.groups.size(), 0.0);
  f.log1p_x.assign(f.groups.size(), 0.0);
  return f;
}

// Parameter layout: [b, a_0 .. a_{G-1}, c_0 .. c_{G-1}].
struct Model {
  size_t groups;
  std::vector<double> theta;
  const std::vector<Calibration>* calibrations = nullptr;
  // The exposure effect of group g in row k of the features.
  double Effect(const Features& f, uint32_t k) const {
    const uint32_t g = f.groups[k];
    return theta[1 + g] * f.x[k] + theta[1 + groups + g] * f.log1p_x[k];
  }
  size_t size() const { return theta.size(); }
  double Eta(const Features& f, size_t j) const {
    double eta = theta[0];
    for (uint32_t k = f.offsets[j]; k < f.offsets[j + 1]; ++k) {
      const uint32_t g = f.groups[k];
      eta += theta[1 + g] * f.x[k] + theta[1 + groups + g] * f.log1p_x[k];
    }
    return eta;
  }
};

// A converting journey's share lost without one group of effect e, at
// linear predictor eta: with q = exp(-eta), p = 1 - q and, without the
// group, p' = 1 - q exp(e), it is (p - p') / p = q (exp(e) - 1) / (1 - q);
// with its derivatives in eta (e held) and in e (eta held).
struct LostShare {
  double share, d_eta, d_effect;
};
LostShare Lost(double eta, double e) {
  const double q = std::exp(-eta);
  const double one_minus_q = -std::expm1(-eta);
  const double em1 = std::expm1(e);
  return {q * em1 / one_minus_q, -em1 * q / (one_minus_q * one_minus_q),
          q * (em1 + 1) / one_minus_q};
}

// How far, in units of se / kConstraintStiffness, the model's value v lies
// outside the test's 95% interval (0 inside it). The fit is free inside the
// interval and pushed back steeply outside: a test constrains the channel
// rather than weighing as one more observation, since what it corrects
// (confounding) is a bias of the journeys' likelihood itself, which no
// amount of them averages away.
constexpr double kInterval = 1.959963984540054;
constexpr double kConstraintStiffness = 100;
double Excess(double v, const Calibration& c) {
  const double d = v - c.conversions;
  const double half = kInterval * c.standard_error;
  const double outside = d > half ? d - half : (d < -half ? d + half : 0.0);
  return outside * kConstraintStiffness / c.standard_error;
}

bool InGroups(const Calibration& c, uint32_t g) {
  return std::binary_search(c.groups.begin(), c.groups.end(), g);
}

// For converting row j inside calibration c's period: the share r of its
// conversion lost without c's groups, and dr/d eta and dr/d e (e: the
// removed groups' effect). False if the row does not count for c.
bool CalibrationTerm(const Features& f, const Model& m, const Calibration& c,
                     size_t j, double eta, double* r, double* dr_deta,
                     double* dr_de) {
  if (!f.converted[j] || f.conversion_us[j] < c.start_us ||
      f.conversion_us[j] >= c.end_us) {
    return false;
  }
  double e = 0;
  bool any = false;
  for (uint32_t k = f.offsets[j]; k < f.offsets[j + 1]; ++k) {
    if (InGroups(c, f.groups[k])) {
      e += m.Effect(f, k);
      any = true;
    }
  }
  if (!any) return false;
  const LostShare lost = Lost(eta, e);
  *r = lost.share;
  *dr_deta = lost.d_eta;
  *dr_de = lost.d_effect;
  return true;
}

// Runs fn(block, begin, end) for the kBlocks blocks of `n` journeys on
// `threads` threads. False if cancelled.
template <typename Fn>
bool ForBlocks(size_t n, int threads, const std::function<bool()>& cancelled,
               Fn fn) {
  std::atomic<int> next{0};
  std::atomic<bool> stopped{false};
  auto work = [&] {
    for (int b = next++; b < kBlocks; b = next++) {
      if (cancelled && cancelled()) {
        stopped = true;
        return;
      }
      fn(b, n * b / kBlocks, n * (b + 1) / kBlocks);
    }
  };
  threads = std::max(1, std::min(threads, kBlocks));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return !stopped;
}

// Sets f's exposures for `half_life_us` (kNoDecay: every touch counts 1),
// on `threads` threads; each row's touches add up in path order.
void SetHalfLife(Features* f, int64_t half_life_us, int threads) {
  const double inv_hl =
      half_life_us == kNoDecay ? 0.0 : 1.0 / static_cast<double>(half_life_us);
  ForBlocks(f->rows(), threads, nullptr, [&](int, size_t lo, size_t hi) {
    for (uint32_t k = f->offsets[lo]; k < f->offsets[hi]; ++k) f->x[k] = 0;
    for (uint32_t t = f->touch_offsets[lo]; t < f->touch_offsets[hi]; ++t) {
      f->x[f->touch_slot[t]] +=
          inv_hl == 0 ? 1.0 : std::exp2(-f->touch_age_us[t] * inv_hl);
    }
    for (uint32_t k = f->offsets[lo]; k < f->offsets[hi]; ++k) {
      f->log1p_x[k] = std::log1p(f->x[k]);
    }
  });
  f->half_life_us = half_life_us;
}

// Negative log-likelihood of one journey at linear predictor eta.
double Nll(double eta, bool converted) {
  return converted ? -std::log(-std::expm1(-eta)) : eta;
}

// The model's conversions measured by each calibration.
std::vector<double> Calibrated(const Features& f, const Model& m, int threads) {
  const size_t nc = m.calibrations == nullptr ? 0 : m.calibrations->size();
  std::vector<double> out(nc, 0.0);
  if (nc == 0) return out;
  std::vector<std::vector<double>> part(kBlocks);
  ForBlocks(f.rows(), threads, nullptr, [&](int b, size_t lo, size_t hi) {
    part[b].assign(nc, 0.0);
    for (size_t j = lo; j < hi; ++j) {
      if (!f.converted[j]) continue;
      const double eta = m.Eta(f, j);
      for (size_t c = 0; c < nc; ++c) {
        double r, d1, d2;
        if (CalibrationTerm(f, m, (*m.calibrations)[c], j, eta, &r, &d1, &d2)) {
          part[b][c] += r;
        }
      }
    }
  });
  for (int b = 0; b < kBlocks; ++b) {
    for (size_t c = 0; c < nc; ++c) out[c] += part[b][c];
  }
  return out;
}

double TotalNll(const Features& f, const Model& m, int threads) {
  std::vector<double> part(kBlocks, 0.0);
  ForBlocks(f.rows(), threads, nullptr, [&](int b, size_t lo, size_t hi) {
    double s = 0;
    for (size_t j = lo; j < hi; ++j) s += Nll(m.Eta(f, j), f.converted[j]);
    part[b] = s;
  });
  double total = 0;
  for (double p : part) total += p;
  if (m.calibrations != nullptr && !m.calibrations->empty()) {
    const std::vector<double> v = Calibrated(f, m, threads);
    for (size_t c = 0; c < v.size(); ++c) {
      const double z = Excess(v[c], (*m.calibrations)[c]);
      total += 0.5 * z * z;
    }
  }
  return total;
}

// Gradient and curvature sums of the negative log-likelihood at m.
void Derivatives(const Features& f, const Model& m, int threads,
                 std::vector<double>* grad, std::vector<double>* hess) {
  const size_t n = m.size();
  std::vector<std::vector<double>> g_part(kBlocks), h_part(kBlocks);
  ForBlocks(f.rows(), threads, nullptr, [&](int b, size_t lo, size_t hi) {
    std::vector<double>& g = g_part[b];
    std::vector<double>& h = h_part[b];
    g.assign(n, 0.0);
    h.assign(n * n, 0.0);
    std::vector<uint32_t> idx;
    std::vector<double> val;
    for (size_t j = lo; j < hi; ++j) {
      const double eta = m.Eta(f, j);
      const bool y = f.converted[j];
      const double em1 = std::expm1(eta);
      // d/d eta and d2/d eta2 of the journey's negative log-likelihood.
      const double d1 = y ? -1.0 / em1 : 1.0;
      const double d2 = y ? (em1 + 1.0) / (em1 * em1) : 0.0;
      idx.clear();
      val.clear();
      idx.push_back(0);
      val.push_back(1.0);
      for (uint32_t k = f.offsets[j]; k < f.offsets[j + 1]; ++k) {
        idx.push_back(1 + f.groups[k]);
        val.push_back(f.x[k]);
        idx.push_back(1 + m.groups + f.groups[k]);
        val.push_back(f.log1p_x[k]);
      }
      for (size_t p = 0; p < idx.size(); ++p) {
        g[idx[p]] += d1 * val[p];
        if (d2 == 0) continue;
        for (size_t q = 0; q < idx.size(); ++q) {
          h[idx[p] * n + idx[q]] += d2 * val[p] * val[q];
        }
      }
    }
  });
  grad->assign(n, 0.0);
  hess->assign(n * n, 0.0);
  for (int b = 0; b < kBlocks; ++b) {
    if (g_part[b].empty()) continue;
    for (size_t i = 0; i < n; ++i) (*grad)[i] += g_part[b][i];
    for (size_t i = 0; i < n * n; ++i) (*hess)[i] += h_part[b][i];
  }
  // Calibration penalties, with Gauss-Newton curvature: for each, its value
  // v and gradient J over the journeys, then (v - E) J / se^2 and
  // J J^T / se^2.
  const size_t nc = m.calibrations == nullptr ? 0 : m.calibrations->size();
  if (nc == 0) return;
  std::vector<std::vector<double>> v_part(kBlocks), j_part(kBlocks);
  ForBlocks(f.rows(), threads, nullptr, [&](int b, size_t lo, size_t hi) {
    v_part[b].assign(nc, 0.0);
    j_part[b].assign(nc * n, 0.0);
    for (size_t j = lo; j < hi; ++j) {
      if (!f.converted[j]) continue;
      const double eta = m.Eta(f, j);
      for (size_t c = 0; c < nc; ++c) {
        const Calibration& cal = (*m.calibrations)[c];
        double r, dr_deta, dr_de;
        if (!CalibrationTerm(f, m, cal, j, eta, &r, &dr_deta, &dr_de)) {
          continue;
        }
        v_part[b][c] += r;
        double* jac = &j_part[b][c * n];
        jac[0] += dr_deta;
        for (uint32_t k = f.offsets[j]; k < f.offsets[j + 1]; ++k) {
          const uint32_t g = f.groups[k];
          const double d = dr_deta + (InGroups(cal, g) ? dr_de : 0.0);
          jac[1 + g] += d * f.x[k];
          jac[1 + m.groups + g] += d * f.log1p_x[k];
        }
      }
    }
  });
  for (size_t c = 0; c < nc; ++c) {
    double v = 0;
    std::vector<double> jac(n, 0.0);
    for (int b = 0; b < kBlocks; ++b) {
      v += v_part[b][c];
      for (size_t i = 0; i < n; ++i) jac[i] += j_part[b][c * n + i];
    }
    const Calibration& cal = (*m.calibrations)[c];
    const double z = Excess(v, cal);
    if (z == 0) continue;  // Inside the test's interval: no pull.
    const double scale = kConstraintStiffness / cal.standard_error;
    for (size_t i = 0; i < n; ++i) {
      (*grad)[i] += z * scale * jac[i];
      for (size_t k = 0; k < n; ++k) {
        (*hess)[i * n + k] += scale * scale * jac[i] * jac[k];
      }
    }
  }
}

// A Cholesky factor L (lower, row-major) of A + ridge I, for many solves.
std::vector<double> Factor(const std::vector<double>& a, size_t n) {
  double max_diag = 0;
  for (size_t i = 0; i < n; ++i) max_diag = std::max(max_diag, a[i * n + i]);
  const double base = std::max(max_diag, 1.0) * 1e-10;
  double ridge = 0;
  std::vector<double> l(n * n);
  for (int attempt = 0; attempt < 40; ++attempt) {
    bool ok = true;
    std::fill(l.begin(), l.end(), 0.0);
    for (size_t i = 0; i < n && ok; ++i) {
      for (size_t j = 0; j <= i; ++j) {
        double s = a[i * n + j] + (i == j ? ridge : 0.0);
        for (size_t k = 0; k < j; ++k) s -= l[i * n + k] * l[j * n + k];
        if (i == j) {
          if (s <= 0) {
            ok = false;
            break;
          }
          l[i * n + i] = std::sqrt(s);
        } else {
          l[i * n + j] = s / l[j * n + j];
        }
      }
    }
    if (ok) break;
    ridge = ridge == 0 ? base : ridge * 10;
  }
  return l;
}

void SolveFactored(const std::vector<double>& l, size_t n, double* r) {
  for (size_t i = 0; i < n; ++i) {
    double s = r[i];
    for (size_t k = 0; k < i; ++k) s -= l[i * n + k] * r[k];
    r[i] = s / l[i * n + i];
  }
  for (size_t i = n; i-- > 0;) {
    double s = r[i];
    for (size_t k = i + 1; k < n; ++k) s -= l[k * n + i] * r[k];
    r[i] = s / l[i * n + i];
  }
}

}  // namespace

std::vector<double> SolveSpd(const std::vector<double>& a,
                             std::vector<double> r, size_t n) {
  SolveFactored(Factor(a, n), n, r.data());
  return r;
}

namespace {

double LowerBound(size_t i) { return i == 0 ? kMinBaseline : 0.0; }

// Calibrations as the fit reads them: groups sorted, errors above 0.
std::vector<Calibration> Normalised(std::vector<Calibration> calibrations) {
  for (Calibration& c : calibrations) {
    std::sort(c.groups.begin(), c.groups.end());
    c.standard_error = std::max(c.standard_error, 1e-9);
  }
  return calibrations;
}

// Projected Newton on the negative log-likelihood. Returns false if
// cancelled.
bool FitAt(const Features& f, int threads,
           const std::function<bool()>& cancelled, Model* m,
           IncrementalFit* fit) {
  const size_t n = m->size();
  double nll = TotalNll(f, *m, threads);
  std::vector<double> grad, hess;
  fit->converged = false;
  for (int it = 0; it < kMaxIterations; ++it) {
    if (cancelled && cancelled()) return false;
    Derivatives(f, *m, threads, &grad, &hess);
    // Variables at their bound whose gradient pushes outward stay there.
    std::vector<size_t> free;
    for (size_t i = 0; i < n; ++i) {
      const bool at_bound = m->theta[i] <= LowerBound(i) * (1 + 1e-12);
      if (!(at_bound && grad[i] > 0)) free.push_back(i);
    }
    const size_t k = free.size();
    std::vector<double> a(k * k), r(k);
    for (size_t p = 0; p < k; ++p) {
      r[p] = -grad[free[p]];
      for (size_t q = 0; q < k; ++q) a[p * k + q] = hess[free[p] * n + free[q]];
    }
    const std::vector<double> step = SolveSpd(std::move(a), std::move(r), k);
    // Backtracking line search on the projected path.
    double alpha = 1.0;
    bool improved = false;
    Model trial = *m;
    double trial_nll = nll;
    for (int ls = 0; ls < 40; ++ls, alpha *= 0.5) {
      trial.theta = m->theta;
      for (size_t p = 0; p < k; ++p) {
        const size_t i = free[p];
        trial.theta[i] = std::max(LowerBound(i), m->theta[i] + alpha * step[p]);
      }
      trial_nll = TotalNll(f, trial, threads);
      if (std::isfinite(trial_nll) && trial_nll <= nll) {
        improved = true;
        break;
      }
    }
    fit->iterations = it + 1;
    if (!improved) {
      fit->converged = true;  // No descent left at machine precision.
      break;
    }
    const double drop = nll - trial_nll;
    *m = trial;
    nll = trial_nll;
    if (drop <= 1e-10 * std::max(1.0, std::fabs(nll))) {
      fit->converged = true;
      break;
    }
  }
  fit->log_likelihood = -nll;
  return true;
}

}  // namespace

CalibrationPlan PlanCalibration(const ExperimentMeasure& m, int64_t start_us,
                                int64_t end_us, const std::vector<Group>& table,
                                double min_standard_error) {
  CalibrationPlan out;
  const int64_t lo = std::max(m.start_us, start_us);
  const int64_t hi = std::min(m.end_us, end_us);
  const double scale = hi > lo && m.end_us > m.start_us
                           ? static_cast<double>(hi - lo) /
                                 static_cast<double>(m.end_us - m.start_us)
                           : 0.0;
  out.conversions = m.conversions * scale;
  out.standard_error = m.standard_error * scale;
  Calibration c;
  for (size_t g = 0; g < table.size(); ++g) {
    if (table[g].channel == m.channel)
      c.groups.push_back(static_cast<uint32_t>(g));
  }
  if (hi <= lo) {
    out.why_not = "its period does not overlap the window";
  } else if (c.groups.empty()) {
    out.why_not =
        absl::StrCat("channel \"", m.channel, "\" is on no path in the window");
  } else {
    c.start_us = lo;
    c.end_us = hi;
    c.conversions = out.conversions;
    c.standard_error = std::max(out.standard_error, min_standard_error);
    out.calibration = std::move(c);
  }
  return out;
}

IncrementalResult FitIncremental(const PathSet& paths,
                                 const IncrementalParams& params, int threads,
                                 const std::function<bool()>& cancelled) {
  IncrementalResult out;
  const size_t groups = paths.group_table.size();
  out.credits.conversions.assign(groups, 0.0);
  out.credits.revenue_micros.assign(groups, 0.0);
  out.baseline_conversions = static_cast<double>(paths.conversions);
  out.baseline_revenue_micros = static_cast<double>(paths.revenue_micros_total);
  if (paths.size() == 0) return out;

  std::vector<int64_t> grid;
  if (params.half_life_us > 0) {
    grid.push_back(params.half_life_us);
  } else {
    for (int64_t d : kHalfLifeGridDays) grid.push_back(d * kDayUs);
    grid.push_back(kNoDecay);
  }
  int64_t converted = 0;
  for (uint8_t y : paths.converted) converted += y;
  const double rate = std::clamp(
      static_cast<double>(converted) / static_cast<double>(paths.size()), 1e-6,
      1 - 1e-6);

  std::vector<Calibration> calibrations = Normalised(params.calibrations);
  const std::vector<uint32_t> order = CanonicalOrder(paths);
  // The half-life is chosen on every kSubsample-th journey in content order
  // (a fixed pseudo-random sample) when there are many; the fit at the
  // chosen one then runs on all of them, started from the sample's.
  std::vector<uint32_t> sample;
  std::vector<Calibration> sample_calibrations = calibrations;
  if (grid.size() > 1 && order.size() >= kSubsampleAbove) {
    for (size_t r = 0; r < order.size(); r += kSubsample) {
      sample.push_back(order[r]);
    }
    for (Calibration& c : sample_calibrations) {
      c.conversions /= kSubsample;
      c.standard_error /= kSubsample;
    }
  }
  Features all = GatherFeatures(paths, order);
  Features sampled;
  if (!sample.empty()) sampled = GatherFeatures(paths, sample);
  Features& choose_on = sample.empty() ? all : sampled;
  bool have_best = false;
  Model best{groups, {}};
  double best_ll = 0;
  for (int64_t hl : grid) {
    SetHalfLife(&choose_on, hl, threads);
    Model m{groups, std::vector<double>(1 + 2 * groups, 0.0)};
    m.theta[0] = -std::log1p(-rate);
    m.calibrations = sample.empty() ? &calibrations : &sample_calibrations;
    IncrementalFit fit;
    fit.half_life_us = hl;
    if (!FitAt(choose_on, threads, cancelled, &m, &fit)) {
      out.cancelled = true;
      return out;
    }
    // Ties keep the shorter half-life (the grid is in ascending order).
    if (!have_best || fit.log_likelihood > best_ll + 1e-9) {
      have_best = true;
      best_ll = fit.log_likelihood;
      best = m;
      out.fit = fit;
    }
  }
  if (!sample.empty()) {
    best.calibrations = &calibrations;
    const int64_t hl = out.fit.half_life_us;
    SetHalfLife(&all, hl, threads);
    if (!FitAt(all, threads, cancelled, &best, &out.fit)) {
      out.cancelled = true;
      return out;
    }
    out.fit.half_life_us = hl;
  }
  if (all.half_life_us != out.fit.half_life_us) {
    SetHalfLife(&all, out.fit.half_life_us, threads);
  }
  out.features = std::make_shared<const Features>(std::move(all));
  const Features& f = *out.features;
  out.fit.baseline_hazard = best.theta[0];
  out.fit.calibrated_conversions = Calibrated(f, best, threads);
  out.fit.linear_effects.assign(best.theta.begin() + 1,
                                best.theta.begin() + 1 + groups);
  out.fit.saturating_effects.assign(best.theta.begin() + 1 + groups,
                                    best.theta.end());

  // Credits: each conversion's share that vanishes without each group.
  std::vector<std::vector<double>> conv_part(kBlocks), rev_part(kBlocks);
  const bool done =
      ForBlocks(f.rows(), threads, cancelled, [&](int b, size_t lo, size_t hi) {
        conv_part[b].assign(groups, 0.0);
        rev_part[b].assign(groups, 0.0);
        for (size_t j = lo; j < hi; ++j) {
          if (!f.converted[j]) continue;
          const double eta = best.Eta(f, j);
          const double p = -std::expm1(-eta);
          for (uint32_t k = f.offsets[j]; k < f.offsets[j + 1]; ++k) {
            const uint32_t g = f.groups[k];
            const double eg = best.theta[1 + g] * f.x[k] +
                              best.theta[1 + groups + g] * f.log1p_x[k];
            const double p_without = -std::expm1(-(eta - eg));
            const double lost = p > 0 ? (p - p_without) / p : 0.0;
            conv_part[b][g] += lost;
            rev_part[b][g] += lost * static_cast<double>(f.revenue_micros[j]);
          }
        }
      });
  if (!done) {
    out.cancelled = true;
    return out;
  }
  for (int b = 0; b < kBlocks; ++b) {
    for (size_t g = 0; g < groups; ++g) {
      out.credits.conversions[g] += conv_part[b][g];
      out.credits.revenue_micros[g] += rev_part[b][g];
    }
  }
  for (size_t g = 0; g < groups; ++g) {
    out.baseline_conversions -= out.credits.conversions[g];
    out.baseline_revenue_micros -= out.credits.revenue_micros[g];
  }
  return out;
}

std::vector<std::pair<int, double>> IncrementalShares(
    const IncrementalFit& fit, absl::Span<const int> groups,
    absl::Span<const int64_t> times, std::vector<ShareGradient>* gradients) {
  std::vector<std::pair<int, double>> stock;  // (id, x), ascending id
  const int64_t ref = times.empty() ? 0 : times.back();
  const double inv_hl = fit.half_life_us == kNoDecay || fit.half_life_us <= 0
                            ? 0.0
                            : 1.0 / static_cast<double>(fit.half_life_us);
  for (size_t i = 0; i < groups.size(); ++i) {
    if (groups[i] < 0) continue;
    const double age =
        static_cast<double>(std::max<int64_t>(0, ref - times[i]));
    auto it = std::lower_bound(
        stock.begin(), stock.end(), groups[i],
        [](const std::pair<int, double>& a, int id) { return a.first < id; });
    if (it == stock.end() || it->first != groups[i]) {
      it = stock.insert(it, {groups[i], 0.0});
    }
    it->second += std::exp2(-age * inv_hl);
  }
  const size_t fitted = fit.linear_effects.size();
  std::vector<double> effect(stock.size());
  double eta = fit.baseline_hazard;
  for (size_t k = 0; k < stock.size(); ++k) {
    const auto g = static_cast<size_t>(stock[k].first);
    const double x = stock[k].second;
    effect[k] = g < fitted ? fit.linear_effects[g] * x +
                                 fit.saturating_effects[g] * std::log1p(x)
                           : 0.0;
    eta += effect[k];
  }
  const double p = -std::expm1(-eta);
  std::vector<std::pair<int, double>> out;
  for (size_t k = 0; k < stock.size(); ++k) {
    const double p_without = -std::expm1(-(eta - effect[k]));
    out.emplace_back(stock[k].first, p > 0 ? (p - p_without) / p : 0.0);
  }
  if (gradients == nullptr) return out;
  gradients->assign(stock.size(), {});
  for (size_t k = 0; k < stock.size(); ++k) {
    ShareGradient& d = (*gradients)[k];
    const LostShare lost = Lost(eta, effect[k]);
    d.emplace_back(0, lost.d_eta);
    for (size_t h = 0; h < stock.size(); ++h) {
      const auto g = static_cast<uint32_t>(stock[h].first);
      if (g >= fitted) continue;
      const double x = stock[h].second;
      const double de = h == k ? lost.d_effect : 0.0;
      d.emplace_back(1 + g, (lost.d_eta + de) * x);
      d.emplace_back(static_cast<uint32_t>(1 + fitted + g),
                     (lost.d_eta + de) * std::log1p(x));
    }
  }
  return out;
}

namespace {

// The fit's features: those kept in `result`, else rebuilt.
std::shared_ptr<const Features> FitFeatures(const PathSet& paths,
                                            const IncrementalResult& result,
                                            int threads) {
  if (result.features != nullptr) return result.features;
  Features gathered = GatherFeatures(paths, CanonicalOrder(paths));
  SetHalfLife(&gathered, result.fit.half_life_us, threads);
  return std::make_shared<const Features>(std::move(gathered));
}

Model FittedModel(const IncrementalFit& fit,
                  const std::vector<Calibration>* calibrations) {
  const size_t groups = fit.linear_effects.size();
  Model m{groups, std::vector<double>(1 + 2 * groups, 0.0)};
  m.theta[0] = fit.baseline_hazard;
  for (size_t g = 0; g < groups; ++g) {
    m.theta[1 + g] = fit.linear_effects[g];
    m.theta[1 + groups + g] = fit.saturating_effects[g];
  }
  m.calibrations = calibrations;
  return m;
}

// One journey's parameters with a non-zero derivative of its linear
// predictor: (index, d eta / d theta_index).
void PredictorTerms(const Features& f, size_t groups, size_t j,
                    std::vector<uint32_t>* idx, std::vector<double>* val) {
  idx->clear();
  val->clear();
  idx->push_back(0);
  val->push_back(1.0);
  for (uint32_t q = f.offsets[j]; q < f.offsets[j + 1]; ++q) {
    idx->push_back(1 + f.groups[q]);
    val->push_back(f.x[q]);
    idx->push_back(static_cast<uint32_t>(1 + groups + f.groups[q]));
    val->push_back(f.log1p_x[q]);
  }
}

}  // namespace

ReplicateSteps IncrementalReplicateSteps(
    const PathSet& paths, const IncrementalParams& params,
    const IncrementalResult& result, const BootstrapOptions& options,
    int threads, const std::function<bool()>& cancelled) {
  ReplicateSteps out;
  const size_t groups = result.fit.linear_effects.size();
  const size_t reps = static_cast<size_t>(options.replicates);
  out.params = 1 + 2 * groups;
  out.replicates = reps;
  out.steps.assign(reps * out.params, 0.0);
  if (paths.size() == 0 || groups != paths.group_table.size()) return out;
  std::vector<Calibration> calibrations = Normalised(params.calibrations);
  const std::shared_ptr<const Features> built =
      FitFeatures(paths, result, threads);
  const Features& f = *built;
  const Model m = FittedModel(result.fit, &calibrations);
  const size_t n = m.size();
  std::vector<double> grad, hess;
  Derivatives(f, m, threads, &grad, &hess);
  // Parameters at their bound stay there; the others move.
  std::vector<size_t> free;
  for (size_t i = 0; i < n; ++i) {
    if (m.theta[i] > LowerBound(i) * (1 + 1e-12)) free.push_back(i);
  }
  const size_t k = free.size();
  std::vector<double> h_free(k * k);
  for (size_t p = 0; p < k; ++p) {
    for (size_t q = 0; q < k; ++q)
      h_free[p * k + q] = hess[free[p] * n + free[q]];
  }
  const std::vector<double> chol = Factor(h_free, k);

  // Per replicate the weighted score (n x reps, replicates contiguous so
  // that each journey's term is one branch-free, vectorisable loop), in
  // fixed blocks. At the fit the unweighted score (with the calibration
  // penalties) is zero, so (w - 1) x each journey's score sums to the
  // replicate's.
  std::vector<std::vector<double>> parts(kBlocks);
  const bool done =
      ForBlocks(f.rows(), threads, cancelled, [&](int b, size_t lo, size_t hi) {
        std::vector<double>& score = parts[b];
        score.assign(n * reps, 0.0);
        std::vector<double> w(reps);
        std::vector<uint32_t> idx;
        std::vector<double> val;
        for (size_t j = lo; j < hi; ++j) {
          BootstrapWeights(f.customer_keys[j], w.data(), reps);
          for (double& x : w) x -= 1;
          const double eta = m.Eta(f, j);
          const double d1 = f.converted[j] ? -1.0 / std::expm1(eta) : 1.0;
          PredictorTerms(f, groups, j, &idx, &val);
          for (size_t e = 0; e < idx.size(); ++e) {
            AddScaled(&score[idx[e] * reps], w.data(), d1 * val[e], reps);
          }
        }
      });
  if (!done) {
    out.cancelled = true;
    return out;
  }
  for (int b = 1; b < kBlocks; ++b) {
    AddScaled(parts[0].data(), parts[b].data(), 1.0, parts[0].size());
  }
  std::vector<double> step(k);
  for (size_t r = 0; r < reps; ++r) {
    for (size_t p = 0; p < k; ++p) step[p] = -parts[0][free[p] * reps + r];
    SolveFactored(chol, k, step.data());
    for (size_t p = 0; p < k; ++p)
      out.steps[r * out.params + free[p]] = step[p];
  }
  return out;
}

CreditIntervals IncrementalIntervals(const PathSet& paths,
                                     const IncrementalParams& params,
                                     const IncrementalResult& result,
                                     const BootstrapOptions& options,
                                     int threads,
                                     const std::function<bool()>& cancelled) {
  CreditIntervals out;
  const size_t groups = paths.group_table.size();
  const size_t reps = static_cast<size_t>(options.replicates);
  out.conversions_low.assign(groups, 0);
  out.conversions_high.assign(groups, 0);
  out.revenue_low.assign(groups, 0);
  out.revenue_high.assign(groups, 0);
  if (paths.size() == 0 || result.fit.linear_effects.size() != groups) {
    return out;
  }
  const ReplicateSteps steps = IncrementalReplicateSteps(
      paths, params, result, options, threads, cancelled);
  if (steps.cancelled) {
    out.cancelled = true;
    return out;
  }
  const std::shared_ptr<const Features> built =
      FitFeatures(paths, result, threads);
  const Features& f = *built;
  const Model m = FittedModel(result.fit, nullptr);
  const size_t n = m.size();

  // One pass, in fixed blocks: per replicate the weighted credits; and,
  // unweighted, the credits' derivatives J (per group, over the
  // parameters), through which the credits follow each replicate's step.
  struct Part {
    std::vector<double> credit;     // groups x reps
    std::vector<double> revenue;    // groups x reps
    std::vector<double> total;      // reps: weighted converting journeys
    std::vector<double> total_rev;  // reps
    std::vector<double> jac;        // groups x n
    std::vector<double> jac_rev;    // groups x n
  };
  std::vector<Part> parts(kBlocks);
  const bool done =
      ForBlocks(f.rows(), threads, cancelled, [&](int b, size_t lo, size_t hi) {
        Part& p = parts[b];
        p.credit.assign(groups * reps, 0.0);
        p.revenue.assign(groups * reps, 0.0);
        p.total.assign(reps, 0.0);
        p.total_rev.assign(reps, 0.0);
        p.jac.assign(groups * n, 0.0);
        p.jac_rev.assign(groups * n, 0.0);
        std::vector<double> w(reps);
        std::vector<uint32_t> idx;
        std::vector<double> val;
        for (size_t j = lo; j < hi; ++j) {
          if (!f.converted[j]) continue;
          BootstrapWeights(f.customer_keys[j], w.data(), reps);
          const double eta = m.Eta(f, j);
          PredictorTerms(f, groups, j, &idx, &val);
          const double rev = static_cast<double>(f.revenue_micros[j]);
          AddScaled(p.total.data(), w.data(), 1.0, reps);
          AddScaled(p.total_rev.data(), w.data(), rev, reps);
          for (uint32_t q = f.offsets[j]; q < f.offsets[j + 1]; ++q) {
            const uint32_t g = f.groups[q];
            const LostShare lost = Lost(eta, m.Effect(f, q));
            AddScaled(&p.credit[g * reps], w.data(), lost.share, reps);
            AddScaled(&p.revenue[g * reps], w.data(), lost.share * rev, reps);
            double* jg = &p.jac[g * n];
            double* jr = &p.jac_rev[g * n];
            for (size_t e2 = 0; e2 < idx.size(); ++e2) {
              double d = lost.d_eta * val[e2];
              if (idx[e2] == 1 + g || idx[e2] == 1 + groups + g) {
                d += lost.d_effect * val[e2];
              }
              jg[idx[e2]] += d;
              jr[idx[e2]] += d * rev;
            }
          }
        }
      });
  if (!done) {
    out.cancelled = true;
    return out;
  }
  Part sum = parts[0];
  for (int b = 1; b < kBlocks; ++b) {
    auto add = [](std::vector<double>& a, const std::vector<double>& x) {
      AddScaled(a.data(), x.data(), 1.0, a.size());
    };
    add(sum.credit, parts[b].credit);
    add(sum.revenue, parts[b].revenue);
    add(sum.total, parts[b].total);
    add(sum.total_rev, parts[b].total_rev);
    add(sum.jac, parts[b].jac);
    add(sum.jac_rev, parts[b].jac_rev);
  }
  // Per replicate: the credits its step implies.
  std::vector<std::vector<double>> conv(groups, std::vector<double>(reps)),
      revs(groups, std::vector<double>(reps));
  std::vector<double> base(reps), base_rev(reps);
  for (size_t r = 0; r < reps; ++r) {
    const double* step = &steps.steps[r * n];
    double credited = 0, credited_rev = 0;
    for (size_t g = 0; g < groups; ++g) {
      double c = sum.credit[g * reps + r], v = sum.revenue[g * reps + r];
      for (size_t i = 0; i < n; ++i) {
        c += sum.jac[g * n + i] * step[i];
        v += sum.jac_rev[g * n + i] * step[i];
      }
      conv[g][r] = std::max(0.0, c);
      revs[g][r] = std::max(0.0, v);
      credited += conv[g][r];
      credited_rev += revs[g][r];
    }
    base[r] = sum.total[r] +
              static_cast<double>(paths.conversions_without_touch) - credited;
    base_rev[r] = sum.total_rev[r] +
                  static_cast<double>(paths.revenue_without_touch_micros) -
                  credited_rev;
  }
  const double lo_q = (1 - options.level) / 2, hi_q = 1 - lo_q;
  for (size_t g = 0; g < groups; ++g) {
    out.conversions_low[g] = BootstrapQuantile(conv[g], lo_q);
    out.conversions_high[g] = BootstrapQuantile(conv[g], hi_q);
    out.revenue_low[g] = BootstrapQuantile(revs[g], lo_q);
    out.revenue_high[g] = BootstrapQuantile(revs[g], hi_q);
  }
  out.baseline_low = BootstrapQuantile(base, lo_q);
  out.baseline_high = BootstrapQuantile(base, hi_q);
  out.baseline_revenue_low = BootstrapQuantile(base_rev, lo_q);
  out.baseline_revenue_high = BootstrapQuantile(base_rev, hi_q);
  return out;
}

}  // namespace attribution

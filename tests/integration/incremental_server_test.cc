// MODEL_INCREMENTAL against the real server: simulated journeys with a known
// causal truth go in over gRPC; the credits come back close to the truth,
// byte-identical across calls and restarts, with the baseline as the rest.
#include <signal.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"
#include "tests/support/status_matchers.h"
#include "tests/tools/causal_sim.h"

namespace attribution {
namespace {

using ::attribution::testing::CommandResult;
using ::attribution::testing::RunCommand;
using ::attribution::testing::ServerProcess;
using ::attribution::testing::StatusIs;
using ::attribution::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

void SetTime(int64_t us, google::protobuf::Timestamp* ts) {
  ts->set_seconds(us / 1'000'000);
  ts->set_nanos(static_cast<int32_t>(us % 1'000'000) * 1000);
}

// The world's events, in batches of about 5000.
std::vector<v1::RecordEventsRequest> Batches(const sim::World& w) {
  std::vector<v1::RecordEventsRequest> out(1);
  int64_t n = 0;
  for (const sim::Customer& c : w.customers) {
    if (out.back().events_size() > 5000) out.emplace_back();
    v1::RecordEventsRequest& r = out.back();
    r.set_workspace("sim");
    for (const sim::Touch& t : c.touches) {
      auto* tp = r.add_events()->mutable_touchpoint();
      tp->set_event_id(absl::StrCat("e", n++));
      tp->set_customer_id(c.id);
      SetTime(t.at_us, tp->mutable_occurred_at());
      tp->set_channel(sim::kChannelNames[t.channel]);
      tp->set_interaction(v1::INTERACTION_CLICK);
    }
    if (c.converted) {
      auto* cv = r.add_events()->mutable_conversion();
      cv->set_event_id(absl::StrCat("e", n++));
      cv->set_customer_id(c.id);
      SetTime(c.decide_us, cv->mutable_occurred_at());
      cv->set_kind(v1::CONVERSION_KIND_PURCHASE);
      cv->set_revenue_micros(c.revenue_micros);
    }
  }
  return out;
}

class IncrementalServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    world_ = sim::Simulate(sim::Family::kAdditive, 20000, 21);
    Start();
    for (const auto& b : Batches(world_)) {
      auto r = client_->RecordEvents(b);
      ASSERT_TRUE(r.ok()) << r.status();
    }
  }
  void Start() {
    auto server = ServerProcess::Start(dir_.path() + "/db");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    client_ = server_->NewClient();
  }
  static v1::AttributeRequest Request() {
    v1::AttributeRequest r;
    r.set_workspace("sim");
    r.set_goal(v1::GOAL_ACQUISITION);
    SetTime(sim::kT0Us, r.mutable_window_start());
    SetTime(sim::kWindowEndUs, r.mutable_window_end());
    r.add_models()->set_model(v1::MODEL_INCREMENTAL);
    r.add_models()->set_model(v1::MODEL_LAST_TOUCH);
    return r;
  }
  double Distance(const v1::ModelResult& result) const {
    std::vector<double> credited(sim::kChannels, 0.0);
    for (const v1::GroupCredit& g : result.groups()) {
      for (int k = 0; k < sim::kChannels; ++k) {
        if (g.channel() == sim::kChannelNames[k]) credited[k] = g.conversions();
      }
    }
    return sim::ShareDistance(world_, credited);
  }

  sim::World world_;
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<client::AttributionClient> client_;
};

TEST_F(IncrementalServerTest, CreditsWhatChannelsCausedWithABaselineRow) {
  auto r = client_->Attribute(Request());
  ASSERT_TRUE(r.ok()) << r.status();
  const v1::ModelResult& inc = r->results(0);
  const v1::ModelResult& last = r->results(1);
  EXPECT_LT(Distance(inc), 0.1);
  EXPECT_GT(Distance(last), 0.2);
  ASSERT_TRUE(inc.has_baseline());
  EXPECT_FALSE(last.has_baseline());
  double credited = 0;
  for (const auto& g : inc.groups()) credited += g.conversions();
  EXPECT_NEAR(credited + inc.baseline().conversions(),
              static_cast<double>(r->totals().conversions()), 1e-6);
  EXPECT_NEAR(inc.baseline().share_of_conversions(),
              inc.baseline().conversions() /
                  static_cast<double>(r->totals().conversions()),
              1e-12);
  EXPECT_TRUE(inc.incremental_fit().converged());
  EXPECT_EQ(inc.incremental_fit().effects_size(), inc.groups_size());
  EXPECT_GT(inc.incremental_fit().baseline_hazard(), 0);
}

TEST_F(IncrementalServerTest, ByteIdenticalAcrossCallsAndRestarts) {
  // Every model, with intervals: the index holds customers in another
  // order after a restart, which must change nothing.
  v1::AttributeRequest every = Request();
  every.clear_models();
  for (int m = v1::MODEL_FIRST_TOUCH; m <= v1::MODEL_INCREMENTAL; ++m) {
    every.add_models()->set_model(static_cast<v1::Model>(m));
  }
  every.mutable_intervals()->set_replicates(50);
  auto first = client_->Attribute(every);
  auto second = client_->Attribute(every);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->SerializeAsString(), second->SerializeAsString());
  server_->SignalAndWait(SIGTERM);
  Start();
  auto third = client_->Attribute(every);
  ASSERT_TRUE(third.ok()) << third.status();
  for (int m = 0; m < first->results_size(); ++m) {
    EXPECT_EQ(first->results(m).DebugString(), third->results(m).DebugString())
        << "model " << m;
  }
  EXPECT_EQ(first->totals().DebugString(), third->totals().DebugString());
  EXPECT_EQ(first->SerializeAsString(), third->SerializeAsString());
}

TEST_F(IncrementalServerTest, ExplainCustomerSplitsAConversionUpToItsBaseline) {
  std::string buyer;
  for (const sim::Customer& c : world_.customers) {
    if (c.converted && c.touches.size() >= 3) {
      buyer = c.id;
      break;
    }
  }
  ASSERT_FALSE(buyer.empty());
  v1::ExplainCustomerRequest req;
  *req.mutable_selection() = Request();
  req.set_customer_id(buyer);
  auto r = client_->ExplainCustomer(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->conversions_size(), 1);
  const auto& conv = r->conversions(0);
  double incremental = 0, last_touch = 0;
  for (const auto& t : conv.touches()) {
    ASSERT_EQ(t.credits_size(), 2);
    EXPECT_GE(t.credits(0), 0);
    incremental += t.credits(0);
    last_touch += t.credits(1);
  }
  EXPECT_GT(incremental, 0);
  EXPECT_LE(incremental, 1 + 1e-12);
  EXPECT_NEAR(last_touch, 1, 1e-12);
}

TEST_F(IncrementalServerTest, ParameterErrorsNameTheirField) {
  v1::AttributeRequest bad = Request();
  bad.mutable_models(0)->mutable_half_life()->set_seconds(-1);
  EXPECT_THAT(client_->Attribute(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("models[0].half_life")));
  v1::ChannelReportRequest report;
  report.set_workspace("sim");
  SetTime(sim::kT0Us, report.mutable_period()->mutable_start());
  SetTime(sim::kWindowEndUs, report.mutable_period()->mutable_end());
  report.mutable_model()->set_model(v1::MODEL_INCREMENTAL);
  report.mutable_model()->mutable_half_life()->set_seconds(-1);
  EXPECT_THAT(client_->ChannelReport(report),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("model.half_life")));
  report.mutable_model()->clear_half_life();
  report.mutable_intervals()->set_replicates(3);
  EXPECT_THAT(client_->ChannelReport(report),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("intervals.replicates")));
  // A given half-life is used and echoed.
  v1::AttributeRequest given = Request();
  given.mutable_models(0)->mutable_half_life()->set_seconds(3 * 86400);
  auto r = client_->Attribute(given);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->results(0).incremental_fit().half_life().seconds(), 3 * 86400);
  EXPECT_EQ(r->request().models(0).half_life().seconds(), 3 * 86400);
}

TEST_F(IncrementalServerTest,
       ChannelReportGivesWhatChannelsCausedWithIntervals) {
  // The report's model is Attribute's, on the same journeys: the same
  // credits, baseline and intervals (the same replicates and steps), with
  // CAC and ROAS intervals from the spend.
  v1::RecordSpendRequest spend;
  spend.set_workspace("sim");
  v1::Spend* row = spend.add_spend();
  row->set_date("2025-01-15");
  row->set_channel("instagram");
  row->set_amount_micros(50'000'000'000);
  row->set_currency("USD");
  ASSERT_TRUE(client_->RecordSpend(spend).ok());
  v1::AttributeRequest attribute = Request();
  attribute.mutable_lookback()->set_seconds(30 * 86400);
  attribute.mutable_intervals()->set_replicates(100);
  auto a = client_->Attribute(attribute);
  ASSERT_TRUE(a.ok()) << a.status();
  const v1::ModelResult& inc = a->results(0);

  v1::ChannelReportRequest report;
  report.set_workspace("sim");
  SetTime(sim::kT0Us, report.mutable_period()->mutable_start());
  SetTime(sim::kWindowEndUs, report.mutable_period()->mutable_end());
  report.set_no_comparison(true);
  report.mutable_model()->set_model(v1::MODEL_INCREMENTAL);
  report.mutable_lookback()->set_seconds(30 * 86400);
  report.mutable_intervals()->set_replicates(100);
  auto r = client_->ChannelReport(report);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->request().intervals().level(), 0.95);
  ASSERT_EQ(r->channels_size(), inc.groups_size());
  for (int i = 0; i < inc.groups_size(); ++i) {
    const v1::GroupCredit& g = inc.groups(i);
    const v1::ChannelFigures& f = r->channels(i).figures();
    ASSERT_EQ(r->channels(i).channel(), g.channel());
    const double tol = 1e-6 * std::max(1.0, g.conversions());
    EXPECT_NEAR(f.new_customers().value(), g.conversions(), tol);
    EXPECT_NEAR(f.revenue().value(), g.revenue(), 1e-6 * g.revenue() + 1e-6);
    EXPECT_NEAR(f.new_customers().low(), g.conversions_interval().low(), tol);
    EXPECT_NEAR(f.new_customers().high(), g.conversions_interval().high(), tol);
    EXPECT_NEAR(f.revenue().high(), g.revenue_interval().high(),
                1e-6 * g.revenue_interval().high() + 1e-6);
    EXPECT_LT(f.new_customers().low(), f.new_customers().high());
  }
  // The baseline row: the rest of the conversions, with its interval.
  ASSERT_TRUE(r->has_baseline());
  EXPECT_NEAR(r->baseline().new_customers().value(),
              inc.baseline().conversions(),
              1e-6 * r->total().new_customers().value());
  EXPECT_NEAR(r->baseline().new_customers().low(),
              inc.baseline().conversions_interval().low(),
              1e-6 * r->total().new_customers().value());
  EXPECT_FALSE(r->baseline().reach().has_value());
  // Incremental CAC: the spend over what the channel caused.
  for (const v1::ChannelRow& c : r->channels()) {
    if (c.channel() != "instagram") {
      // No spend: a CAC of 0 for sure, and no ROAS.
      EXPECT_EQ(c.figures().cac().high(), 0) << c.channel();
      EXPECT_FALSE(c.figures().roas().has_low()) << c.channel();
      continue;
    }
    const v1::ChannelFigures& f = c.figures();
    EXPECT_NEAR(f.cac().value(), 50'000 / f.new_customers().value(), 1e-6);
    EXPECT_NEAR(f.cac().low(), 50'000 / f.new_customers().high(), 1e-6);
    EXPECT_NEAR(f.cac().high(), 50'000 / f.new_customers().low(), 1e-6);
    EXPECT_NEAR(f.roas().low(), f.revenue().low() / 50'000, 1e-9);
  }
  auto again = client_->ChannelReport(report);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(r->SerializeAsString(), again->SerializeAsString());

  // Under a convention there is no baseline; the intervals hold the credit.
  report.mutable_model()->set_model(v1::MODEL_LINEAR);
  auto linear = client_->ChannelReport(report);
  ASSERT_TRUE(linear.ok()) << linear.status();
  EXPECT_FALSE(linear->has_baseline());
  for (const v1::ChannelRow& c : linear->channels()) {
    const v1::Metric& nc = c.figures().new_customers();
    EXPECT_LE(nc.low(), nc.value()) << c.channel();
    EXPECT_GE(nc.high(), nc.value()) << c.channel();
  }
}

TEST_F(IncrementalServerTest, TheCliPrintsTheBaselineRow) {
  CommandResult r = RunCommand(
      {ATTRIBUTIONCTL_PATH, "--server=" + server_->address(), "--workspace=sim",
       "attribute", "--goal=acquisition", "--from=2025-01-01",
       "--to=2025-04-01", "--model=incremental", "--format=csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("incremental,(baseline),"));
  EXPECT_THAT(r.out, HasSubstr("incremental,instagram,"));
  // The report too: incremental figures with low/high columns and the
  // baseline's credited figures.
  CommandResult report =
      RunCommand({ATTRIBUTIONCTL_PATH, "--server=" + server_->address(),
                  "--workspace=sim", "report", "channels", "--from=2025-01-01",
                  "--to=2025-04-01", "--compare=none", "--model=incremental",
                  "--intervals", "--replicates=50", "--format=csv"});
  ASSERT_EQ(report.exit_code, 0) << report.err;
  EXPECT_THAT(report.out,
              HasSubstr("channel,campaign,metric,value,low,high,previous"));
  EXPECT_THAT(report.out, HasSubstr("(baseline),,new_customers,"));
  EXPECT_THAT(report.out, Not(HasSubstr("(baseline),,reach,")));
  EXPECT_THAT(report.out, HasSubstr("instagram,,new_customers,"));
}

TEST_F(IncrementalServerTest, IntervalsForEveryModelDeterministicAndValidated) {
  v1::AttributeRequest r = Request();
  r.clear_models();
  for (int m = v1::MODEL_FIRST_TOUCH; m <= v1::MODEL_INCREMENTAL; ++m) {
    r.add_models()->set_model(static_cast<v1::Model>(m));
  }
  r.mutable_intervals()->set_replicates(100);
  auto first = client_->Attribute(r);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->request().intervals().level(), 0.95);
  EXPECT_EQ(first->request().intervals().replicates(), 100);
  for (const v1::ModelResult& result : first->results()) {
    for (const v1::GroupCredit& g : result.groups()) {
      ASSERT_TRUE(g.has_conversions_interval()) << g.channel();
      EXPECT_LE(g.conversions_interval().low(),
                g.conversions_interval().high());
      EXPECT_GE(g.conversions_interval().low(), 0);
      if (result.model().model() != v1::MODEL_INCREMENTAL) {
        // Resampling customers around the full-data credit.
        EXPECT_LE(g.conversions_interval().low(), g.conversions());
        EXPECT_GE(g.conversions_interval().high(), g.conversions());
      }
      EXPECT_LE(g.revenue_interval().low(), g.revenue_interval().high());
    }
  }
  const v1::ModelResult& inc = first->results(first->results_size() - 1);
  ASSERT_TRUE(inc.baseline().has_conversions_interval());
  EXPECT_LT(inc.baseline().conversions_interval().low(),
            inc.baseline().conversions_interval().high());
  auto second = client_->Attribute(r);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->SerializeAsString(), second->SerializeAsString());

  v1::AttributeRequest bad = Request();
  bad.mutable_intervals()->set_level(1.5);
  EXPECT_THAT(client_->Attribute(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("intervals.level")));
  bad.mutable_intervals()->set_level(0);
  bad.mutable_intervals()->set_replicates(5);
  EXPECT_THAT(client_->Attribute(bad),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("intervals.replicates")));
  CommandResult cli = RunCommand(
      {ATTRIBUTIONCTL_PATH, "--server=" + server_->address(), "--workspace=sim",
       "attribute", "--goal=acquisition", "--from=2025-01-01",
       "--to=2025-04-01", "--model=incremental,linear", "--intervals",
       "--replicates=50", "--format=csv"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_THAT(cli.out, HasSubstr("conversions_interval.low,conversions_"
                                 "interval.high,revenue_interval.low,"
                                 "revenue_interval.high"));
}

// Experiments: stored, validated, and calibrating the confounded family.
class ExperimentServerTest : public IncrementalServerTest {
 protected:
  void SetUp() override {
    world_ = sim::Simulate(sim::Family::kConfounded, 30000, 8);
    Start();
    for (const auto& b : Batches(world_)) {
      auto r = client_->RecordEvents(b);
      ASSERT_TRUE(r.ok()) << r.status();
    }
  }
  v1::Experiment Test(const sim::Experiment& e) const {
    v1::Experiment out;
    out.set_workspace("sim");
    out.set_name(absl::StrCat(sim::kChannelNames[e.channel], "-holdout"));
    out.set_channel(sim::kChannelNames[e.channel]);
    out.set_goal(v1::GOAL_ACQUISITION);
    SetTime(sim::kT0Us, out.mutable_start());
    SetTime(sim::kWindowEndUs, out.mutable_end());
    v1::HoldoutCounts* c = out.mutable_counts();
    c->set_treated_customers(e.treated_customers);
    c->set_treated_conversions(e.treated_conversions);
    c->set_holdout_customers(e.holdout_customers);
    c->set_holdout_conversions(e.holdout_conversions);
    return out;
  }
};

TEST_F(ExperimentServerTest, TestsCalibrateTheModelAndAreReportedBesideIt) {
  v1::AttributeRequest r = Request();
  auto without = client_->Attribute(r);
  ASSERT_TRUE(without.ok()) << without.status();
  for (const sim::Experiment& e : world_.experiments) {
    auto stored = client_->RecordExperiment(Test(e));
    ASSERT_TRUE(stored.ok()) << stored.status();
  }
  auto with = client_->Attribute(r);
  ASSERT_TRUE(with.ok()) << with.status();
  const double before = Distance(without->results(0));
  const double after = Distance(with->results(0));
  EXPECT_GT(before, 0.3);  // Confounded: search and direct overcredited.
  EXPECT_LT(after, 0.25);
  const auto& checks = with->results(0).incremental_fit().experiments();
  ASSERT_EQ(checks.size(), 2);
  for (const v1::ExperimentCheck& c : checks) {
    EXPECT_TRUE(c.used()) << c.why_not();
    // The model lands inside (or at the edge of) the test's 95% interval.
    EXPECT_LE(std::fabs(c.model_conversions() - c.experiment_conversions()),
              1.96 * c.experiment_standard_error() * 1.01 + 1);
  }
  // tiktok caused nothing.
  double total = 0, tiktok = 0;
  for (const auto& g : with->results(0).groups()) {
    total += g.conversions();
    if (g.channel() == "tiktok") tiktok = g.conversions();
  }
  EXPECT_LT(tiktok / total, 0.02);
  // A test of another goal is not used; one outside the window says why.
  v1::Experiment later = Test(world_.experiments[0]);
  later.set_name("later");
  SetTime(sim::kWindowEndUs + sim::kDayUs, later.mutable_start());
  SetTime(sim::kWindowEndUs + 2 * sim::kDayUs, later.mutable_end());
  ASSERT_TRUE(client_->RecordExperiment(later).ok());
  auto again = client_->Attribute(r);
  ASSERT_TRUE(again.ok());
  bool reported = false;
  for (const auto& c : again->results(0).incremental_fit().experiments()) {
    if (c.name() == "later") {
      reported = true;
      EXPECT_FALSE(c.used());
      EXPECT_THAT(c.why_not(), HasSubstr("does not overlap"));
    }
  }
  EXPECT_TRUE(reported);
}

TEST_F(ExperimentServerTest, BadExperimentsNameTheirFieldAndStoreNothing) {
  v1::Experiment good = Test(world_.experiments[0]);
  struct Case {
    std::function<void(v1::Experiment&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& e) { e.set_name(""); }, "experiment.name"},
      {[](auto& e) { e.set_channel("Not A Slug"); }, "experiment.channel"},
      {[](auto& e) { e.set_goal(v1::GOAL_UNSPECIFIED); }, "experiment.goal"},
      {[](auto& e) { e.clear_start(); }, "experiment.start"},
      {[](auto& e) { *e.mutable_end() = e.start(); }, "experiment.end"},
      {[](auto& e) { e.clear_counts(); }, "experiment.result"},
      {[](auto& e) { e.mutable_counts()->set_holdout_customers(0); },
       "experiment.counts.holdout_customers"},
      {[](auto& e) {
         e.mutable_counts()->set_treated_conversions(
             e.counts().treated_customers() + 1);
       },
       "experiment.counts.treated_conversions"},
      {[](auto& e) {
         e.mutable_estimate()->set_incremental_conversions(5);
         e.mutable_estimate()->set_standard_error(-1);
       },
       "experiment.estimate.standard_error"},
  };
  for (const Case& c : cases) {
    v1::Experiment bad = good;
    c.mutate(bad);
    EXPECT_THAT(
        client_->RecordExperiment(bad),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)));
  }
  auto list = client_->ListExperiments("sim");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->experiments_size(), 0);
  EXPECT_THAT(client_->DeleteExperiment("sim", "nope"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ExperimentServerTest, TheCliSetsListsImportsAndDeletes) {
  const std::string server = "--server=" + server_->address();
  CommandResult set =
      RunCommand({ATTRIBUTIONCTL_PATH, server, "--workspace=sim", "experiment",
                  "set", "search-lift", "--channel=paid_search",
                  "--goal=acquisition", "--from=2025-01-01", "--to=2025-04-01",
                  "--estimate=900", "--standard_error=300"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  const std::string csv = dir_.path() + "/tests.csv";
  {
    std::ofstream out(csv);
    out << "name,channel,goal,start,end,incremental_conversions,"
           "standard_error,treated_customers,treated_conversions,"
           "holdout_customers,holdout_conversions\n"
        << "direct-holdout,direct,acquisition,2025-01-01,2025-04-01,,,"
           "27000,9000,3000,950\n"
        << "broken,direct,acquisition,2025-01-01,2025-04-01,,,10,20,5,1\n";
  }
  CommandResult imported =
      RunCommand({ATTRIBUTIONCTL_PATH, server, "--workspace=sim",
                  "--format=csv", "import", "experiments", csv});
  EXPECT_EQ(imported.exit_code, 1) << imported.err;  // One row rejected.
  EXPECT_THAT(imported.err, HasSubstr("line 3: rejected: "
                                      "experiment.counts.treated_conversions"));
  EXPECT_EQ(imported.out, "recorded,rejected\n1,1\n");
  CommandResult list =
      RunCommand({ATTRIBUTIONCTL_PATH, server, "--workspace=sim", "experiment",
                  "list", "--format=csv"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, HasSubstr("direct-holdout,direct,acquisition,"));
  EXPECT_THAT(list.out, HasSubstr("search-lift,paid_search,acquisition,"));
  CommandResult del =
      RunCommand({ATTRIBUTIONCTL_PATH, server, "--workspace=sim", "experiment",
                  "delete", "search-lift"});
  EXPECT_EQ(del.exit_code, 0) << del.err;
  auto left = client_->ListExperiments("sim");
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->experiments_size(), 1);
  EXPECT_EQ(left->experiments(0).name(), "direct-holdout");
}

}  // namespace
}  // namespace attribution

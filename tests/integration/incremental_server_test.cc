// MODEL_INCREMENTAL against the real server: simulated journeys with a known
// causal truth go in over gRPC; the credits come back close to the truth,
// byte-identical across calls and restarts, with the baseline as the rest.
#include <signal.h>

#include <cmath>
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
  // Every model: the index holds customers in another order after a
  // restart, which must change nothing.
  v1::AttributeRequest every = Request();
  every.clear_models();
  for (int m = v1::MODEL_FIRST_TOUCH; m <= v1::MODEL_INCREMENTAL; ++m) {
    every.add_models()->set_model(static_cast<v1::Model>(m));
  }
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
  report.mutable_period()->mutable_start()->set_seconds(sim::kT0Us / 1'000'000);
  report.mutable_period()->mutable_end()->set_seconds(sim::kT0Us / 1'000'000 +
                                                      86400);
  report.mutable_model()->set_model(v1::MODEL_INCREMENTAL);
  EXPECT_THAT(client_->ChannelReport(report),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not available in reports yet")));
  // A given half-life is used and echoed.
  v1::AttributeRequest given = Request();
  given.mutable_models(0)->mutable_half_life()->set_seconds(3 * 86400);
  auto r = client_->Attribute(given);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->results(0).incremental_fit().half_life().seconds(), 3 * 86400);
  EXPECT_EQ(r->request().models(0).half_life().seconds(), 3 * 86400);
}

TEST_F(IncrementalServerTest, TheCliPrintsTheBaselineRow) {
  CommandResult r = RunCommand(
      {ATTRIBUTIONCTL_PATH, "--server=" + server_->address(), "--workspace=sim",
       "attribute", "--goal=acquisition", "--from=2025-01-01",
       "--to=2025-04-01", "--model=incremental", "--format=csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("incremental,(baseline),"));
  EXPECT_THAT(r.out, HasSubstr("incremental,instagram,"));
}

}  // namespace
}  // namespace attribution

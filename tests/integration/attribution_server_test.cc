// Attribute, ExplainCustomer and TopPaths on the real server.
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"
#include "tests/support/status_matchers.h"

namespace attribution {
namespace {

using ::attribution::testing::ServerProcess;
using ::attribution::testing::StatusIs;
using ::attribution::testing::TempDir;
using ::testing::HasSubstr;

constexpr int64_t kBase = 1'767'225'600;  // 2026-01-01, seconds.
constexpr int64_t kDay = 86400;

v1::Event Touch(const std::string& id, const std::string& customer,
                const std::string& channel, int64_t at) {
  v1::Event e;
  auto* t = e.mutable_touchpoint();
  t->set_event_id(id);
  t->set_customer_id(customer);
  t->mutable_occurred_at()->set_seconds(kBase + at);
  t->set_channel(channel);
  t->set_campaign("spring");
  t->set_interaction(v1::INTERACTION_CLICK);
  return e;
}

v1::Event Buy(const std::string& id, const std::string& customer, int64_t at,
              int64_t revenue_micros) {
  v1::Event e;
  auto* c = e.mutable_conversion();
  c->set_event_id(id);
  c->set_customer_id(customer);
  c->mutable_occurred_at()->set_seconds(kBase + at);
  c->set_kind(v1::CONVERSION_KIND_PURCHASE);
  c->set_revenue_micros(revenue_micros);
  return e;
}

class AttributionServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = ServerProcess::Start(dir_.path() + "/db",
                                       {"--shutdown_grace_seconds=1"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    client_ = server_->NewClient();
    v1::RecordEventsRequest r;
    r.set_workspace("acme");
    const char* channels[] = {"instagram", "facebook", "email", "tiktok"};
    for (int c = 0; c < 40; ++c) {
      const std::string id = absl::StrCat("c", c);
      *r.add_events() = Touch(id + "-t1", id, channels[c % 4], 1 * kDay);
      *r.add_events() = Touch(id + "-t2", id, channels[(c / 4) % 4], 2 * kDay);
      if (c % 3 != 0)
        *r.add_events() = Buy(id + "-p", id, 3 * kDay, 10'000'000);
    }
    ASSERT_TRUE(client_->RecordEvents(r).ok());
  }

  v1::AttributeRequest Request() {
    v1::AttributeRequest r;
    r.set_workspace("acme");
    r.set_goal(v1::GOAL_ACQUISITION);
    r.mutable_window_start()->set_seconds(kBase);
    r.mutable_window_end()->set_seconds(kBase + 30 * kDay);
    for (int m = v1::MODEL_FIRST_TOUCH; m <= v1::MODEL_SHAPLEY; ++m) {
      r.add_models()->set_model(static_cast<v1::Model>(m));
    }
    return r;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<client::AttributionClient> client_;
};

TEST_F(AttributionServerTest, AttributesEveryModelAndEchoesDefaults) {
  auto response = client_->Attribute(Request());
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->totals().conversions(), 26);
  EXPECT_EQ(response->totals().converting_journeys(), 26);
  EXPECT_EQ(response->totals().non_converting_journeys(), 14);
  EXPECT_DOUBLE_EQ(response->totals().revenue(), 260.0);
  // Defaults are echoed: 30 days of lookback, grouping by channel, order 1.
  EXPECT_EQ(response->request().lookback().seconds(), 30 * kDay);
  EXPECT_EQ(response->request().group_by(), v1::GROUP_BY_CHANNEL);
  EXPECT_EQ(response->request().models(6).order(), 1);
  EXPECT_DOUBLE_EQ(response->request().models(4).first_weight(), 0.4);
  EXPECT_EQ(response->request().models(5).half_life().seconds(), 7 * kDay);
  ASSERT_EQ(response->results_size(), 8);
  for (const v1::ModelResult& r : response->results()) {
    double conversions = 0, revenue = 0, share = 0;
    for (const v1::GroupCredit& g : r.groups()) {
      conversions += g.conversions();
      revenue += g.revenue();
      share += g.share();
    }
    EXPECT_NEAR(conversions, 26, 1e-9) << r.model().model();
    EXPECT_NEAR(revenue, 260, 1e-7);
    EXPECT_NEAR(share, 1, 1e-12);
  }
}

TEST_F(AttributionServerTest, TheSameRequestGivesByteIdenticalResponses) {
  auto a = client_->Attribute(Request());
  auto b = client_->Attribute(Request());
  ASSERT_TRUE(a.ok() && b.ok());
  std::string sa, sb;
  ASSERT_TRUE(a->SerializeToString(&sa));
  ASSERT_TRUE(b->SerializeToString(&sb));
  EXPECT_EQ(sa, sb);
  // Also across a restart, which rebuilds the index in another order.
  server_->SignalAndWait(SIGTERM);
  auto server = ServerProcess::Start(dir_.path() + "/db");
  ASSERT_TRUE(server.ok());
  server_ = std::move(*server);
  client_ = server_->NewClient();
  auto c = client_->Attribute(Request());
  ASSERT_TRUE(c.ok());
  std::string sc;
  ASSERT_TRUE(c->SerializeToString(&sc));
  EXPECT_EQ(sa, sc);
}

TEST_F(AttributionServerTest, ExplainsOneCustomersConversion) {
  v1::ExplainCustomerRequest request;
  *request.mutable_selection() = Request();
  request.set_customer_id("c5");  // Touched on facebook twice, then bought.
  auto response = client_->ExplainCustomer(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->conversions_size(), 1);
  const v1::ConversionExplanation& c = response->conversions(0);
  EXPECT_EQ(c.event_id(), "c5-p");
  EXPECT_DOUBLE_EQ(c.revenue(), 10.0);
  ASSERT_EQ(c.touches_size(), 2);
  EXPECT_EQ(c.touches(0).event_id(), "c5-t1");
  EXPECT_EQ(c.touches(0).channel(), "facebook");
  EXPECT_EQ(c.touches(1).channel(), "facebook");
  for (int m = 0; m < 8; ++m) {
    EXPECT_NEAR(c.touches(0).credits(m) + c.touches(1).credits(m), 1.0, 1e-12);
  }
  EXPECT_DOUBLE_EQ(c.touches(0).credits(0), 1.0);  // First touch.
  EXPECT_DOUBLE_EQ(c.touches(1).credits(1), 1.0);  // Last touch.
  request.set_customer_id("nobody");
  EXPECT_THAT(client_->ExplainCustomer(request),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(AttributionServerTest, CountsTopPaths) {
  v1::TopPathsRequest request;
  *request.mutable_selection() = Request();
  request.mutable_selection()->clear_models();
  request.set_limit(3);
  request.set_collapse_repeats(true);
  auto response = client_->TopPaths(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->journeys(), 40);
  EXPECT_EQ(response->distinct_paths(), 16);
  ASSERT_EQ(response->paths_size(), 3);
  int64_t journeys = 0;
  for (const v1::PathStats& p : response->paths()) {
    EXPECT_EQ(p.conversions() + p.non_conversions(),
              response->paths(0).conversions() +
                  response->paths(0).non_conversions());
    EXPECT_NEAR(p.conversion_rate(),
                static_cast<double>(p.conversions()) /
                    (p.conversions() + p.non_conversions()),
                1e-12);
    journeys += p.conversions() + p.non_conversions();
  }
  EXPECT_GT(journeys, 0);
}

TEST_F(AttributionServerTest, RejectsBadParametersNamingTheField) {
  struct Case {
    std::function<void(v1::AttributeRequest&)> mutate;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.set_goal(v1::GOAL_UNSPECIFIED); }, "goal:"},
      {[](auto& r) { r.clear_window_start(); }, "window_start:"},
      {[](auto& r) { r.mutable_window_end()->set_seconds(kBase); },
       "window_end:"},
      {[](auto& r) { r.mutable_lookback()->set_seconds(-5); }, "lookback:"},
      {[](auto& r) { r.clear_models(); }, "models:"},
      {[](auto& r) { r.mutable_models(6)->set_order(5); }, "models[6].order:"},
      {[](auto& r) { r.mutable_models(4)->set_first_weight(0.8); },
       "models[4].last_weight:"},
      {[](auto& r) {
         r.mutable_models(5)->mutable_half_life()->set_seconds(0);
       },
       "models[5].half_life:"},
      {[](auto& r) { r.add_include_channels("Not A Slug"); },
       "include_channels[0]:"},
      {[](auto& r) { r.set_workspace(""); }, "workspace:"},
  };
  for (const Case& c : cases) {
    v1::AttributeRequest r = Request();
    c.mutate(r);
    EXPECT_THAT(
        client_->Attribute(r),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)));
  }
  v1::TopPathsRequest paths;
  *paths.mutable_selection() = Request();
  paths.mutable_selection()->set_goal(v1::GOAL_UNSPECIFIED);
  EXPECT_THAT(client_->TopPaths(paths),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("selection.goal:")));
}

TEST_F(AttributionServerTest, FiltersChannelsAndGroupsByCampaign) {
  v1::AttributeRequest r = Request();
  r.add_exclude_channels("email");
  r.set_group_by(v1::GROUP_BY_CHANNEL_CAMPAIGN);
  auto response = client_->Attribute(r);
  ASSERT_TRUE(response.ok()) << response.status();
  for (const v1::GroupCredit& g : response->results(0).groups()) {
    EXPECT_NE(g.channel(), "email");
    EXPECT_EQ(g.campaign(), "spring");
  }
}

}  // namespace
}  // namespace attribution

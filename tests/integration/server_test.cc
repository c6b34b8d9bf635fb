// The real attributiond binary on 127.0.0.1 with a real RocksDB in a temp
// folder, over real gRPC.
#include <signal.h>
#include <sys/wait.h>

#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/bad_events.h"
#include "tests/support/server_process.h"
#include "tests/support/status_matchers.h"

namespace attribution {
namespace {

using ::attribution::testing::BadCase;
using ::attribution::testing::GoodPurchase;
using ::attribution::testing::GoodTouch;
using ::attribution::testing::ServerProcess;
using ::attribution::testing::StatusIs;
using ::attribution::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

v1::Event At(v1::Event e, int64_t seconds) {
  auto* ts = e.has_touchpoint() ? e.mutable_touchpoint()->mutable_occurred_at()
                                : e.mutable_conversion()->mutable_occurred_at();
  ts->set_seconds(seconds);
  ts->set_nanos(0);
  return e;
}

v1::RecordEventsRequest Batch(const std::string& ws,
                              std::vector<v1::Event> events) {
  v1::RecordEventsRequest r;
  r.set_workspace(ws);
  for (auto& e : events) *r.add_events() = std::move(e);
  return r;
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> flags = {}) {
    auto server = ServerProcess::Start(dir_.path() + "/db", std::move(flags));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    client_ = server_->NewClient();
  }

  int64_t StoredEvents(const std::string& ws) {
    auto d = client_->DescribeWorkspace(ws);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? d->touchpoints() + d->conversions() : -1;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<client::AttributionClient> client_;
};

TEST_F(ServerTest, RecordsEventsAndServesTheJourneyWithStages) {
  StartServer();
  const int64_t t0 = testing::kGoodSeconds;
  auto r = client_->RecordEvents(Batch(
      "acme", {At(GoodTouch("t1"), t0), At(GoodPurchase("p1"), t0 + 100),
               At(GoodTouch("t2"), t0 + 200), At(GoodTouch("t0"), t0 + 100)}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stored(), 4);
  EXPECT_EQ(r->duplicates(), 0);

  v1::Event tagged = At(GoodTouch("t3"), t0 + 300);
  tagged.mutable_touchpoint()->set_stage(v1::STAGE_LOYALTY);
  ASSERT_TRUE(client_->RecordEvents(Batch("acme", {tagged})).ok());

  auto journey = client_->GetJourney("acme", "c1");
  ASSERT_TRUE(journey.ok()) << journey.status();
  std::vector<std::string> ids;
  std::vector<v1::Stage> stages;
  for (const auto& je : journey->events) {
    ids.push_back(je.event().has_touchpoint()
                      ? je.event().touchpoint().event_id()
                      : je.event().conversion().event_id());
    stages.push_back(je.effective_stage());
  }
  // t0 ties with p1 in time and sorts first by event_id.
  EXPECT_THAT(ids, ElementsAre("t1", "p1", "t0", "t2", "t3"));
  EXPECT_THAT(stages, ElementsAre(v1::STAGE_DISCOVERY, v1::STAGE_UNSPECIFIED,
                                  v1::STAGE_DISCOVERY, v1::STAGE_PURCHASE,
                                  v1::STAGE_LOYALTY));
  EXPECT_TRUE(journey->events[3].stage_derived());
  EXPECT_FALSE(journey->events[4].stage_derived());
  EXPECT_TRUE(journey->has_first_purchase);
  EXPECT_EQ(journey->first_purchase_at.seconds(), t0 + 100);
  EXPECT_EQ(journey->events[1].event().conversion().revenue_micros(),
            19'990'000);
}

TEST_F(ServerTest, RetriedBatchIsCountedAsDuplicates) {
  StartServer();
  auto batch = Batch("acme", {GoodTouch("t1"), GoodPurchase("p1")});
  ASSERT_TRUE(client_->RecordEvents(batch).ok());
  auto again = client_->RecordEvents(batch);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->stored(), 0);
  EXPECT_EQ(again->duplicates(), 2);
  EXPECT_EQ(StoredEvents("acme"), 2);
}

class BadInputTest : public ServerTest,
                     public ::testing::WithParamInterface<BadCase> {};

TEST_P(BadInputTest, RecordEventsRejectsTheWholeBatchNamingFieldAndIndex) {
  StartServer();
  v1::Event bad = GetParam().purchase ? GoodPurchase("bad") : GoodTouch("bad");
  GetParam().mutate(bad);
  auto r = client_->RecordEvents(
      Batch("acme", {GoodTouch("g1"), GoodPurchase("g2"), bad}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument,
                          HasSubstr("events[2]." + GetParam().field + ":")));
  EXPECT_EQ(StoredEvents("acme"), 0);
}

TEST_P(BadInputTest, IngestEventsRejectsTheBatchAndKeepsTheStreamOpen) {
  StartServer();
  v1::Event bad = GetParam().purchase ? GoodPurchase("bad") : GoodTouch("bad");
  GetParam().mutate(bad);
  auto stream = client_->StartIngest();
  v1::IngestEventsRequest first;
  first.set_workspace("acme");
  first.set_sequence(7);
  *first.add_events() = GoodTouch("g1");
  *first.add_events() = bad;
  ASSERT_TRUE(stream->Send(first));
  v1::IngestEventsRequest second;
  second.set_workspace("acme");
  second.set_sequence(8);
  *second.add_events() = GoodTouch("g2");
  ASSERT_TRUE(stream->Send(second));
  stream->CloseSend();

  v1::IngestEventsResponse ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sequence(), 7u);
  ASSERT_TRUE(ack.has_error());
  EXPECT_EQ(ack.error().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ack.error().event_index(), 1);
  EXPECT_THAT(ack.error().message(),
              HasSubstr("events[1]." + GetParam().field + ":"));
  EXPECT_EQ(ack.stored(), 0);
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.sequence(), 8u);
  EXPECT_FALSE(ack.has_error());
  EXPECT_EQ(ack.stored(), 1);
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(StoredEvents("acme"), 1);  // g2 only.
}

INSTANTIATE_TEST_SUITE_P(EveryRule, BadInputTest,
                         ::testing::ValuesIn(testing::BadEventCases(
                             absl::ToUnixSeconds(absl::Now()))),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           return info.param.name;
                         });

TEST_F(ServerTest, RejectsBadWorkspaceAndOversizedBatchesAndMessages) {
  StartServer({"--max_batch_events=3", "--max_message_bytes=4096"});
  EXPECT_THAT(
      client_->RecordEvents(Batch("", {GoodTouch()})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("workspace:")));
  EXPECT_THAT(
      client_->RecordEvents(Batch("a b", {GoodTouch()})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("workspace:")));
  EXPECT_THAT(
      client_->RecordEvents(Batch("acme", {})),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("events:")));
  EXPECT_THAT(
      client_->RecordEvents(Batch("acme", {GoodTouch("1"), GoodTouch("2"),
                                           GoodTouch("3"), GoodTouch("4")})),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("batch limit")));
  v1::Event big = GoodTouch("big");
  big.mutable_touchpoint()->set_campaign(std::string(250, 'x'));
  std::vector<v1::Event> many(20, big);
  EXPECT_THAT(client_->RecordEvents(Batch("acme", many)),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(StoredEvents("acme"), 0);
}

TEST_F(ServerTest, StringLimitsAreFlags) {
  StartServer({"--max_id_bytes=8", "--max_campaign_bytes=4"});
  EXPECT_THAT(client_->RecordEvents(Batch("acme", {GoodTouch("123456789")})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("events[0].touchpoint.event_id: longer than 8 "
                                 "bytes")));
  v1::Event campaign = GoodTouch("e1");
  campaign.mutable_touchpoint()->set_campaign("spring");
  EXPECT_THAT(client_->RecordEvents(Batch("acme", {campaign})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("campaign: longer than 4 bytes")));
  EXPECT_EQ(StoredEvents("acme"), 0);
  EXPECT_TRUE(
      client_->RecordEvents(Batch("acme", {GoodTouch("12345678")})).ok());
}

TEST_F(ServerTest, ValidatesReadRequests) {
  StartServer();
  ASSERT_TRUE(client_->RecordEvents(Batch("acme", {GoodTouch()})).ok());
  v1::GetJourneyRequest req;
  req.set_workspace("acme");
  req.set_customer_id("c1");
  req.set_page_token("!!not-a-token");
  EXPECT_THAT(
      client_->GetJourneyPage(req),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  req.clear_page_token();
  req.set_page_size(-1);
  EXPECT_THAT(
      client_->GetJourneyPage(req),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  EXPECT_THAT(
      client_->GetJourney("acme", ""),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("customer_id")));
  EXPECT_THAT(client_->GetJourney("acme", "nobody"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(
      client_->EraseCustomer("bad/ws", "c1"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("workspace")));
}

TEST_F(ServerTest, PagesThroughALongJourney) {
  StartServer();
  std::vector<v1::Event> events;
  for (int i = 0; i < 2500; ++i) {
    events.push_back(At(GoodTouch("e" + std::to_string(10000 + i)),
                        testing::kGoodSeconds + i / 3));
  }
  ASSERT_TRUE(client_->RecordEvents(Batch("acme", events)).ok());
  v1::GetJourneyRequest req;
  req.set_workspace("acme");
  req.set_customer_id("c1");
  req.set_page_size(1000);
  auto page = client_->GetJourneyPage(req);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events_size(), 1000);
  EXPECT_FALSE(page->next_page_token().empty());
  auto all = client_->GetJourney("acme", "c1");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->events.size(), 2500u);
  for (int i = 0; i < 2500; ++i) {
    EXPECT_EQ(all->events[i].event().touchpoint().event_id(),
              "e" + std::to_string(10000 + i));
  }
}

TEST_F(ServerTest, TwoWorkspacesWithTheSameCustomerStayApart) {
  StartServer();
  v1::Event a = GoodTouch("e1", "shared");
  v1::Event b = GoodTouch("e1", "shared");
  b.mutable_touchpoint()->set_channel("tiktok");
  ASSERT_EQ(client_->RecordEvents(Batch("brand_a", {a}))->stored(), 1);
  ASSERT_EQ(client_->RecordEvents(Batch("brand_b", {b}))->stored(), 1);
  auto ja = client_->GetJourney("brand_a", "shared");
  auto jb = client_->GetJourney("brand_b", "shared");
  ASSERT_TRUE(ja.ok() && jb.ok());
  ASSERT_EQ(ja->events.size(), 1u);
  ASSERT_EQ(jb->events.size(), 1u);
  EXPECT_EQ(ja->events[0].event().touchpoint().channel(), "instagram");
  EXPECT_EQ(jb->events[0].event().touchpoint().channel(), "tiktok");
  ASSERT_TRUE(client_->EraseCustomer("brand_a", "shared").ok());
  EXPECT_THAT(client_->GetJourney("brand_a", "shared"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(client_->GetJourney("brand_b", "shared").ok());
}

TEST_F(ServerTest, ErasedCustomerStaysGoneAfterRestart) {
  StartServer();
  ASSERT_TRUE(client_
                  ->RecordEvents(Batch(
                      "acme", {GoodTouch("t1", "c1"), GoodPurchase("p1", "c1"),
                               GoodTouch("t2", "c2")}))
                  .ok());
  auto erased = client_->EraseCustomer("acme", "c1");
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_EQ(erased->touchpoints_removed(), 1);
  EXPECT_EQ(erased->conversions_removed(), 1);
  EXPECT_THAT(client_->GetJourney("acme", "c1"),
              StatusIs(absl::StatusCode::kNotFound));

  const int status = server_->SignalAndWait(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  StartServer();
  EXPECT_THAT(client_->GetJourney("acme", "c1"),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(client_->GetJourney("acme", "c2").ok());
  auto d = client_->DescribeWorkspace("acme");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->customers(), 1);
  EXPECT_EQ(d->touchpoints(), 1);
  EXPECT_EQ(d->conversions(), 0);
}

TEST_F(ServerTest, MachineDurabilityKeepsWhatItAcknowledgedThroughSigkill) {
  StartServer({"--durability=machine"});
  auto r = client_->RecordEvents(
      Batch("acme", {GoodTouch("t1"), GoodPurchase("p1")}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->stored(), 2);
  server_->SignalAndWait(SIGKILL);
  StartServer({"--durability=machine"});
  auto journey = client_->GetJourney("acme", "c1");
  ASSERT_TRUE(journey.ok()) << journey.status();
  EXPECT_EQ(journey->events.size(), 2u);
}

TEST_F(ServerTest, RefusesToStartWithABadFlag) {
  testing::CommandResult r = testing::RunCommand(
      {ATTRIBUTIOND_PATH, "--admin_listen=", "--auth=off",
       "--listen=127.0.0.1:0", "--data_dir=" + dir_.path() + "/db",
       "--durability=sometimes"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--durability must be 'process' or 'machine'"));
}

TEST_F(ServerTest, RefusesStreamsPastTheLimit) {
  StartServer({"--max_concurrent_streams=1"});
  auto first = client_->StartIngest();
  v1::IngestEventsRequest req;
  req.set_workspace("acme");
  req.set_sequence(1);
  *req.add_events() = GoodTouch("t1");
  ASSERT_TRUE(first->Send(req));
  v1::IngestEventsResponse ack;
  ASSERT_TRUE(first->Read(&ack));  // Open and served.

  auto second = client_->StartIngest();
  second->Send(req);
  EXPECT_FALSE(second->Read(&ack));
  EXPECT_THAT(second->Finish(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("--max_concurrent_streams")));

  first->CloseSend();
  EXPECT_FALSE(first->Read(&ack));
  ASSERT_TRUE(first->Finish().ok());
  // The slot is free again.
  auto third = client_->StartIngest();
  req.set_sequence(3);
  *req.mutable_events(0) = GoodTouch("t3");
  ASSERT_TRUE(third->Send(req));
  ASSERT_TRUE(third->Read(&ack));
  EXPECT_EQ(ack.stored(), 1);
  third->CloseSend();
  EXPECT_FALSE(third->Read(&ack));
  EXPECT_TRUE(third->Finish().ok());
}

TEST_F(ServerTest, ServesHealthChecks) {
  StartServer();
  auto channel = grpc::CreateChannel(server_->address(),
                                     grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(health->Check(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(ServerTest, ListsItsServicesThroughReflection) {
  StartServer();
  auto channel = grpc::CreateChannel(server_->address(),
                                     grpc::InsecureChannelCredentials());
  auto reflection =
      grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = reflection->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::vector<std::string> names;
  for (const auto& s : resp.list_services_response().service()) {
    names.push_back(s.name());
  }
  EXPECT_THAT(names, ::testing::Contains("attribution.v1.AttributionService"));
  EXPECT_THAT(names, ::testing::Contains("grpc.health.v1.Health"));
  while (stream->Read(&resp)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ServerTest, SigtermDrainsAnOpenStreamAndExitsCleanly) {
  StartServer({"--shutdown_grace_seconds=1"});
  auto stream = client_->StartIngest();
  v1::IngestEventsRequest req;
  req.set_workspace("acme");
  req.set_sequence(1);
  *req.add_events() = GoodTouch("t1");
  ASSERT_TRUE(stream->Send(req));
  v1::IngestEventsResponse ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_EQ(ack.stored(), 1);
  // The stream is still open; the server gives it the grace period, then
  // cancels it and exits 0.
  std::unique_ptr<ServerProcess> server = std::move(server_);
  const int status = server->SignalAndWait(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_FALSE(stream->Finish().ok());
  StartServer();
  EXPECT_TRUE(client_->GetJourney("acme", "c1").ok());
}

}  // namespace
}  // namespace attribution

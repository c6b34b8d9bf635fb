// Regression tests for the holes an adversarial run found, each against the
// real server on 127.0.0.1 with a real RocksDB: backup names, the channel cap,
// stream slots, unparseable messages, key reloads, loopback, and the small
// ones (truncated varints, double oneofs, two authorization headers).
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "attribution/v1/attribution_service.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "service/api/api_keys.h"
#include "tests/bench/bench_data.h"
#include "tests/support/bad_events.h"
#include "tests/support/raw_calls.h"
#include "tests/support/server_process.h"
#include "tests/support/status_matchers.h"

namespace attribution {
namespace {

using ::attribution::api::HashKeyForFile;
using ::attribution::testing::CommandResult;
using ::attribution::testing::GoodPurchase;
using ::attribution::testing::GoodTouch;
using ::attribution::testing::RawStream;
using ::attribution::testing::RawUnary;
using ::attribution::testing::RunCommand;
using ::attribution::testing::ServerProcess;
using ::attribution::testing::StatusIs;
using ::attribution::testing::TempDir;
using ::attribution::testing::WireBytes;
using ::attribution::testing::WireVarint;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kRecordEvents[] =
    "/attribution.v1.AttributionService/RecordEvents";
constexpr char kIngestEvents[] =
    "/attribution.v1.AttributionService/IngestEvents";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits up to 10 s for `needle` to appear in the file.
bool WaitForText(const std::string& path, const std::string& needle) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (ReadAll(path).find(needle) != std::string::npos) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

v1::RecordEventsRequest Batch(const std::string& ws,
                              std::vector<v1::Event> events) {
  v1::RecordEventsRequest r;
  r.set_workspace(ws);
  for (auto& e : events) *r.add_events() = std::move(e);
  return r;
}

// RecordEventsRequest bytes around hand-made Event bytes.
std::string RecordEventsBytes(const std::string& ws,
                              const std::vector<std::string>& events) {
  std::string out =
      WireBytes(v1::RecordEventsRequest::kWorkspaceFieldNumber, ws);
  for (const auto& e : events) {
    out += WireBytes(v1::RecordEventsRequest::kEventsFieldNumber, e);
  }
  return out;
}

std::string TouchBytes(const std::string& id, const std::string& extra = "") {
  return WireBytes(v1::Event::kTouchpointFieldNumber,
                   GoodTouch(id).touchpoint().SerializeAsString() + extra);
}

class TrustTest : public ::testing::Test {
 protected:
  void StartServer(std::vector<std::string> flags = {}) {
    auto server = ServerProcess::Start(dir_.path() + "/db", std::move(flags),
                                       dir_.path() + "/stderr.log");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    client_ = server_->NewClient();
  }

  int64_t Stored(const std::string& ws) {
    auto d = client_->DescribeWorkspace(ws);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? d->touchpoints() + d->conversions() : -1;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<client::AttributionClient> client_;
};

// 1. A backup named X never touches a backup named X.tmp, and none
//    replaces another.
TEST_F(TrustTest, BackupsNeverClobberOneAnother) {
  const std::string root = dir_.path() + "/backups";
  StartServer({"--backup_root=" + root});
  ASSERT_TRUE(client_->RecordEvents(Batch("acme", {GoodTouch("t1")})).ok());
  ASSERT_TRUE(client_->CreateBackup("nightly.tmp").ok());
  ASSERT_TRUE(std::filesystem::exists(root + "/nightly.tmp/CURRENT"));
  ASSERT_TRUE(client_->RecordEvents(Batch("acme", {GoodTouch("t2")})).ok());
  auto nightly = client_->CreateBackup("nightly");
  ASSERT_TRUE(nightly.ok()) << nightly.status();
  EXPECT_TRUE(std::filesystem::exists(root + "/nightly.tmp/CURRENT"));
  EXPECT_TRUE(std::filesystem::exists(root + "/nightly/CURRENT"));

  // A second "nightly" is refused, naming the backup, not the server's path.
  auto again = client_->CreateBackup("nightly");
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kAlreadyExists,
                              HasSubstr("\"nightly\"")));
  EXPECT_THAT(std::string(again.status().message()), Not(HasSubstr(root)));
  // Nothing is left of the staging folders.
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    EXPECT_THAT(entry.path().filename().string(), Not(HasSubstr("~staging")));
  }

  // Each backup restores what it held.
  server_.reset();
  for (const auto& [name, events] :
       std::vector<std::pair<std::string, int64_t>>{{"nightly.tmp", 1},
                                                    {"nightly", 2}}) {
    const std::string data = dir_.path() + "/restored-" + name;
    auto restored =
        ServerProcess::Start(data, {"--restore_from=" + root + "/" + name});
    ASSERT_TRUE(restored.ok()) << restored.status();
    auto d = (*restored)->NewClient()->DescribeWorkspace("acme");
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_EQ(d->touchpoints(), events) << name;
  }
}

TEST_F(TrustTest, RestoringOntoAFileIsAFailedPrecondition) {
  const std::string root = dir_.path() + "/backups";
  StartServer({"--backup_root=" + root});
  ASSERT_TRUE(client_->CreateBackup("b").ok());
  std::ofstream(dir_.path() + "/a-file") << "x";
  CommandResult r =
      RunCommand({ATTRIBUTIOND_PATH, "--admin_listen=", "--listen=127.0.0.1:0",
                  "--auth=off", "--data_dir=" + dir_.path() + "/a-file",
                  "--restore_from=" + root + "/b"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(r.err, HasSubstr("is a file"));
}

// 2. The channel cap holds on a new workspace's first batch too.
TEST_F(TrustTest, ChannelCapHoldsOnANewWorkspacesFirstBatch) {
  StartServer({"--max_batch_events=70000", "--max_message_bytes=67108864"});
  v1::RecordEventsRequest r;
  r.set_workspace("fresh");
  for (int i = 0; i < 70000; ++i) {
    v1::Event e = GoodTouch(absl::StrCat("t", i), absl::StrCat("c", i % 10));
    e.mutable_touchpoint()->set_channel(absl::StrCat("ch", i));
    *r.add_events() = std::move(e);
  }
  EXPECT_THAT(client_->RecordEvents(r),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("65535 distinct channels")));
  EXPECT_EQ(Stored("fresh"), 0);
}

// 3. Stream slots: per key, per workspace, only once a batch is authorised,
//    and idle streams end.
class StreamSlotTest : public TrustTest {
 protected:
  void SetUp() override {
    keys_ = dir_.path() + "/keys.txt";
    std::ofstream(keys_) << HashKeyForFile("w-acme") << " acme writer\n"
                         << HashKeyForFile("w2-acme") << " acme writer\n"
                         << HashKeyForFile("r-beta") << " beta reader\n";
  }
  std::unique_ptr<client::AttributionClient> As(const std::string& key) {
    auto c = server_->NewClient();
    c->set_api_key(key);
    return c;
  }
  static v1::IngestEventsRequest Req(uint64_t seq, const std::string& id) {
    v1::IngestEventsRequest req;
    req.set_workspace("acme");
    req.set_sequence(seq);
    *req.add_events() = GoodTouch(id);
    return req;
  }
  std::string keys_;
};

TEST_F(StreamSlotTest, AReaderOfAnotherWorkspaceHoldsNoSlot) {
  StartServer({"--api_keys_file=" + keys_, "--max_concurrent_streams=2"});
  // The reader's streams stay open, their batches denied: no slot taken.
  std::vector<std::unique_ptr<client::AttributionClient>> readers;
  std::vector<std::unique_ptr<client::IngestStream>> idle;
  for (int i = 0; i < 4; ++i) {
    readers.push_back(As("r-beta"));
    idle.push_back(readers.back()->StartIngest());
    ASSERT_TRUE(idle.back()->Send(Req(i + 1, absl::StrCat("x", i))));
    v1::IngestEventsResponse ack;
    ASSERT_TRUE(idle.back()->Read(&ack));
    EXPECT_EQ(ack.error().code(), 7) << ack.error().message();  // DENIED
  }
  auto writer = As("w-acme");
  auto stream = writer->StartIngest();
  ASSERT_TRUE(stream->Send(Req(1, "w1")));
  v1::IngestEventsResponse ack;
  ASSERT_TRUE(stream->Read(&ack));
  EXPECT_FALSE(ack.has_error()) << ack.error().message();
  EXPECT_EQ(ack.stored(), 1);
  stream->CloseSend();
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(StreamSlotTest, SlotsAreLimitedPerKeyAndPerWorkspace) {
  StartServer({"--api_keys_file=" + keys_, "--max_streams_per_key=1",
               "--max_streams_per_workspace=2"});
  auto w = As("w-acme");
  auto first = w->StartIngest();
  ASSERT_TRUE(first->Send(Req(1, "a1")));
  v1::IngestEventsResponse ack;
  ASSERT_TRUE(first->Read(&ack));
  ASSERT_EQ(ack.stored(), 1);

  auto second = w->StartIngest();  // Same key: over its limit.
  second->Send(Req(1, "a2"));
  EXPECT_FALSE(second->Read(&ack));
  EXPECT_THAT(second->Finish(), StatusIs(absl::StatusCode::kResourceExhausted,
                                         HasSubstr("--max_streams_per_key")));

  auto w2 = As("w2-acme");  // Another key: the workspace has room for one.
  auto third = w2->StartIngest();
  ASSERT_TRUE(third->Send(Req(1, "a3")));
  ASSERT_TRUE(third->Read(&ack));
  EXPECT_EQ(ack.stored(), 1);
  auto fourth = w2->StartIngest();
  fourth->Send(Req(1, "a4"));
  EXPECT_FALSE(fourth->Read(&ack));
  EXPECT_THAT(fourth->Finish(), StatusIs(absl::StatusCode::kResourceExhausted,
                                         HasSubstr("--max_stream")));
  for (auto* s : {first.get(), third.get()}) {
    s->CloseSend();
    EXPECT_FALSE(s->Read(&ack));
    EXPECT_TRUE(s->Finish().ok());
  }
}

TEST_F(StreamSlotTest, IdleStreamsEndWithAClearStatus) {
  StartServer({"--api_keys_file=" + keys_, "--stream_idle_timeout=1s",
               "--max_concurrent_streams=1"});
  auto w = As("w-acme");
  auto stream = w->StartIngest();
  ASSERT_TRUE(stream->Send(Req(1, "i1")));
  v1::IngestEventsResponse ack;
  ASSERT_TRUE(stream->Read(&ack));
  ASSERT_EQ(ack.stored(), 1);
  // Then nothing: the server ends it and frees the slot.
  EXPECT_FALSE(stream->Read(&ack));
  EXPECT_THAT(stream->Finish(), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                         HasSubstr("--stream_idle_timeout")));
  auto next = w->StartIngest();
  ASSERT_TRUE(next->Send(Req(2, "i2")));
  ASSERT_TRUE(next->Read(&ack));
  EXPECT_EQ(ack.stored(), 1);
  next->CloseSend();
  EXPECT_FALSE(next->Read(&ack));
  EXPECT_TRUE(next->Finish().ok());
}

// 4. Unparseable messages are INVALID_ARGUMENT, and a stream goes on.
TEST_F(TrustTest, UnparseableUnaryRequestsAreInvalidArgument) {
  StartServer();
  grpc::Status garbage =
      RawUnary(server_->address(), kRecordEvents, "\xff\xff\xff\xff garbage");
  EXPECT_EQ(garbage.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(garbage.error_message(),
              HasSubstr("could not parse the request as "
                        "attribution.v1.RecordEventsRequest"));

  v1::Event bad_utf8 = GoodTouch("u1");
  bad_utf8.mutable_touchpoint()->set_campaign("caf\xc3");
  EXPECT_THAT(client_->RecordEvents(Batch("acme", {bad_utf8})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("events[0].touchpoint.campaign: is not "
                                 "valid UTF-8")));
  // The same for a query.
  grpc::Status query = RawUnary(
      server_->address(), "/attribution.v1.ReportService/ChannelReport",
      std::string("\x0a\x05", 2) + "ac");  // Length past the end.
  EXPECT_EQ(query.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Stored("acme"), 0);
}

TEST_F(TrustTest, AnUnparseableStreamBatchIsRejectedInItsAckAndTheRestGoesOn) {
  StartServer();
  RawStream stream(server_->address(), kIngestEvents);
  auto request = [](uint64_t seq, const std::string& events) {
    return WireBytes(v1::IngestEventsRequest::kWorkspaceFieldNumber, "acme") +
           WireVarint(v1::IngestEventsRequest::kSequenceFieldNumber, seq) +
           events;
  };
  auto event = [](const std::string& e) {
    return WireBytes(v1::IngestEventsRequest::kEventsFieldNumber, e);
  };
  v1::Event bad = GoodTouch("b1");
  bad.mutable_touchpoint()->set_campaign("\xff\xfe");
  ASSERT_TRUE(stream.Write(request(1, event(TouchBytes("g1")))));
  ASSERT_TRUE(stream.Write(
      request(2, event(TouchBytes("g2")) + event(bad.SerializeAsString()))));
  ASSERT_TRUE(stream.Write(std::string("\x08\xff", 2)));  // Garbage.
  ASSERT_TRUE(stream.Write(request(4, event(TouchBytes("g4")))));
  std::vector<v1::IngestEventsResponse> acks(4);
  for (auto& ack : acks) {
    std::string bytes;
    ASSERT_TRUE(stream.Read(&bytes));
    ASSERT_TRUE(ack.ParseFromString(bytes));
  }
  EXPECT_EQ(acks[0].stored(), 1);
  EXPECT_EQ(acks[1].sequence(), 2u);
  EXPECT_EQ(acks[1].error().code(), 3);
  EXPECT_EQ(acks[1].error().event_index(), 1);
  EXPECT_THAT(acks[1].error().message(),
              HasSubstr("events[1].touchpoint.campaign: is not valid UTF-8"));
  EXPECT_EQ(acks[2].error().code(), 3);
  EXPECT_THAT(acks[2].error().message(), HasSubstr("could not parse"));
  EXPECT_EQ(acks[3].sequence(), 4u);
  EXPECT_EQ(acks[3].stored(), 1);
  EXPECT_TRUE(stream.CloseAndFinish().ok());
  EXPECT_EQ(Stored("acme"), 2);  // g1 and g4; nothing of batch 2.
}

TEST_F(TrustTest, TheCliReportsTheLineOfAnUnparseableRowAndImportsTheRest) {
  StartServer();
  const std::string csv = dir_.path() + "/events.csv";
  {
    std::ofstream out(csv);
    out << "type,event_id,customer_id,occurred_at,channel,campaign,"
           "interaction,conversion\n";
    out << "touchpoint,c1,k1,2026-05-01T00:00:00Z,instagram,spring,click,\n";
    out << "touchpoint,c2,k1,2026-05-01T00:00:01Z,instagram,caf\xc3,click,\n";
    out << "touchpoint,c3,k2,2026-05-01T00:00:02Z,facebook,,like,\n";
  }
  CommandResult r =
      RunCommand({ATTRIBUTIONCTL_PATH, "--server=" + server_->address(),
                  "--workspace=acme", "import", "events", csv});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("line 3"));
  EXPECT_THAT(r.err, HasSubstr("UTF-8"));
  EXPECT_THAT(r.err, Not(HasSubstr("stream ended before every ack")));
  EXPECT_EQ(Stored("acme"), 2);
}

// 6. A long query blocks neither writes nor journey reads: while one runs,
//    RecordEvents and GetJourney calls complete (an ordering, not a timing:
//    before the snapshots they waited for the query's end).
TEST_F(TrustTest, WritesAndJourneyReadsCompleteWhileALongQueryRuns) {
  StartServer({"--query_threads=1"});
  auto loader = server_->NewClient();
  bench::Load(*loader, 60000);
  v1::ExplainCustomerRequest explain;
  v1::AttributeRequest* sel = explain.mutable_selection();
  sel->set_workspace("bench");
  sel->set_goal(v1::GOAL_ACQUISITION);
  sel->set_group_by(v1::GROUP_BY_CHANNEL_CAMPAIGN);
  sel->mutable_window_start()->set_seconds(bench::kStart);
  sel->mutable_window_end()->set_seconds(bench::kEnd);
  for (int order = 1; order <= 4; ++order) {
    auto* m = sel->add_models();
    m->set_model(v1::MODEL_MARKOV);
    m->set_order(order);
  }
  sel->add_models()->set_model(v1::MODEL_SHAPLEY);
  explain.set_customer_id("c3");
  std::atomic<bool> query_done{false};
  std::thread query([&] {
    auto c = server_->NewClient();
    auto r = c->ExplainCustomer(explain);
    EXPECT_TRUE(r.ok()) << r.status();
    query_done = true;
  });
  absl::SleepFor(absl::Milliseconds(100));  // Let the query start.
  int completed_during_query = 0;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        client_
            ->RecordEvents(Batch("bench", {GoodTouch(absl::StrCat("during-", i),
                                                     absl::StrCat("d", i))}))
            .ok());
    ASSERT_TRUE(client_->GetJourney("bench", absl::StrCat("d", i)).ok());
    if (!query_done) ++completed_during_query;
  }
  query.join();
  EXPECT_EQ(completed_during_query, 20)
      << "writes waited for the query (or the query was too short)";
}

// 6b. A query covers exactly the events acknowledged before it started:
//     converting customers written and acknowledged while it runs are not
//     in its result (it equals the same query run before them), and a
//     query started after them counts every one.
TEST_F(TrustTest, AQueryIsUnchangedByWritesCommittedWhileItRuns) {
  StartServer({"--query_threads=1"});
  auto loader = server_->NewClient();
  bench::Load(*loader, 30000);
  v1::AttributeRequest req;
  req.set_workspace("bench");
  req.set_goal(v1::GOAL_ACQUISITION);
  req.set_group_by(v1::GROUP_BY_CHANNEL_CAMPAIGN);
  req.mutable_window_start()->set_seconds(bench::kStart);
  req.mutable_window_end()->set_seconds(bench::kEnd);
  req.add_models()->set_model(v1::MODEL_LAST_TOUCH);
  auto* markov = req.add_models();
  markov->set_model(v1::MODEL_MARKOV);
  markov->set_order(3);
  req.add_models()->set_model(v1::MODEL_SHAPLEY);
  auto before = client_->Attribute(req);
  ASSERT_TRUE(before.ok()) << before.status();

  std::atomic<bool> query_done{false};
  absl::StatusOr<v1::AttributeResponse> during;
  std::thread query([&] {
    auto c = server_->NewClient();
    during = c->Attribute(req);
    query_done = true;
  });
  absl::SleepFor(absl::Milliseconds(100));  // Let the query start.
  constexpr int kWritten = 20;
  int acked_during_query = 0;
  for (int i = 0; i < kWritten; ++i) {
    const std::string customer = absl::StrCat("during", i);
    v1::Event touch = GoodTouch(absl::StrCat("dt", i), customer);
    touch.mutable_touchpoint()->mutable_occurred_at()->set_seconds(
        bench::kStart + 86400);
    touch.mutable_touchpoint()->set_campaign("written-during-the-query");
    v1::Event buy = GoodPurchase(absl::StrCat("dp", i), customer);
    buy.mutable_conversion()->mutable_occurred_at()->set_seconds(bench::kStart +
                                                                 2 * 86400);
    ASSERT_TRUE(client_->RecordEvents(Batch("bench", {touch, buy})).ok());
    if (!query_done) ++acked_during_query;
  }
  query.join();
  ASSERT_EQ(acked_during_query, kWritten)
      << "the query ended before the writes (too short to show anything)";
  ASSERT_TRUE(during.ok()) << during.status();
  EXPECT_EQ(during->SerializeAsString(), before->SerializeAsString());

  auto after = client_->Attribute(req);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->totals().conversions(),
            before->totals().conversions() + kWritten);
}

// 7. An empty key file on SIGHUP keeps the old keys, unless allowed.
TEST_F(TrustTest, AnEmptyKeyFileOnSighupKeepsTheOldKeys) {
  const std::string keys = dir_.path() + "/keys.txt";
  std::ofstream(keys) << HashKeyForFile("k1") << " acme admin\n";
  StartServer({"--api_keys_file=" + keys});
  client_->set_api_key("k1");
  ASSERT_TRUE(client_->DescribeWorkspace("acme").ok());
  std::ofstream(keys, std::ios::trunc).close();
  kill(server_->pid(), SIGHUP);
  EXPECT_TRUE(WaitForText(dir_.path() + "/stderr.log", "keeping the old keys"));
  EXPECT_TRUE(client_->DescribeWorkspace("acme").ok());
}

TEST_F(TrustTest, AnEmptyKeyFileIsTakenOnlyWhenAllowed) {
  const std::string keys = dir_.path() + "/keys.txt";
  std::ofstream(keys).close();
  CommandResult refused = RunCommand(
      {ATTRIBUTIOND_PATH, "--admin_listen=", "--listen=127.0.0.1:0",
       "--data_dir=" + dir_.path() + "/x", "--api_keys_file=" + keys});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("--allow_empty_key_file"));

  std::ofstream(keys) << HashKeyForFile("k1") << " acme admin\n";
  StartServer({"--api_keys_file=" + keys, "--allow_empty_key_file"});
  client_->set_api_key("k1");
  ASSERT_TRUE(client_->DescribeWorkspace("acme").ok());
  std::ofstream(keys, std::ios::trunc).close();
  kill(server_->pid(), SIGHUP);
  ASSERT_TRUE(WaitForText(dir_.path() + "/stderr.log", "loaded 0 API keys"));
  EXPECT_THAT(client_->DescribeWorkspace("acme"),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

// 8. Loopback is what a name resolves to, not how it is spelled.
TEST_F(TrustTest, PlaintextNeedsAnAddressThatResolvesToLoopback) {
  CommandResult spoof = RunCommand(
      {ATTRIBUTIOND_PATH, "--admin_listen=", "--listen=127.attacker.invalid:0",
       "--auth=off", "--data_dir=" + dir_.path() + "/x"});
  EXPECT_EQ(spoof.exit_code, 2);
  EXPECT_THAT(spoof.err, HasSubstr("refusing plaintext"));
  auto local =
      ServerProcess::Start(dir_.path() + "/y", {"--listen=localhost:0"});
  EXPECT_TRUE(local.ok()) << local.status();
}

// 9. The small ones.
TEST_F(TrustTest, AnEnumVarintPast32BitsIsNamedNotTruncated) {
  StartServer();
  const std::string interaction_2_40 =
      WireVarint(v1::Touchpoint::kInteractionFieldNumber, uint64_t{1} << 40);
  std::string response;
  grpc::Status s =
      RawUnary(server_->address(), kRecordEvents,
               RecordEventsBytes("acme", {TouchBytes("v1", interaction_2_40)}),
               &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("events[0].touchpoint.interaction: value "
                        "1099511627776 does not fit"));
  EXPECT_EQ(Stored("acme"), 0);
}

TEST_F(TrustTest, AnEventWithBothOneofMembersIsRefused) {
  StartServer();
  const std::string both =
      TouchBytes("o1") +
      WireBytes(v1::Event::kConversionFieldNumber,
                GoodPurchase("o2").conversion().SerializeAsString());
  grpc::Status s = RawUnary(server_->address(), kRecordEvents,
                            RecordEventsBytes("acme", {both}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("events[0]"));
  EXPECT_THAT(s.error_message(),
              HasSubstr("both touchpoint and conversion are set"));
  EXPECT_EQ(Stored("acme"), 0);
}

TEST_F(TrustTest, TwoAuthorizationHeadersAreRefused) {
  const std::string keys = dir_.path() + "/keys.txt";
  std::ofstream(keys) << HashKeyForFile("good") << " acme admin\n";
  StartServer({"--api_keys_file=" + keys});
  auto stub = v1::AttributionService::NewStub(grpc::CreateChannel(
      server_->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer good");
  context.AddMetadata("authorization", "Bearer other");
  v1::DescribeWorkspaceRequest req;
  req.set_workspace("acme");
  v1::DescribeWorkspaceResponse resp;
  grpc::Status s = stub->DescribeWorkspace(&context, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("more than once"));
}

TEST_F(TrustTest, AZeroHalfLifeSaysWhatIsAllowed) {
  StartServer();
  v1::AttributeRequest req;
  req.set_workspace("acme");
  req.set_goal(v1::GOAL_ACQUISITION);
  req.mutable_window_start()->set_seconds(testing::kGoodSeconds - 86400);
  req.mutable_window_end()->set_seconds(testing::kGoodSeconds);
  v1::ModelSpec* m = req.add_models();
  m->set_model(v1::MODEL_TIME_DECAY);
  m->mutable_half_life()->set_seconds(0);
  EXPECT_THAT(client_->Attribute(req),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("half_life: must be more than 0 s")));
}

}  // namespace
}  // namespace attribution

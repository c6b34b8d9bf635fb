// The admin endpoint of the real server: /metrics after an import and a
// query, /healthz, and /readyz turning ready once the index has loaded.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/bad_events.h"
#include "tests/support/server_process.h"

namespace attribution {
namespace {

using ::attribution::testing::AdminPortFromLog;
using ::attribution::testing::HttpGet;
using ::attribution::testing::ServerProcess;
using ::attribution::testing::TempDir;
using ::testing::HasSubstr;

// The value of the sample line that starts with `series` ("name{labels}"),
// or -1.
double Sample(const std::string& metrics, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(metrics, '\n')) {
    if (absl::StartsWith(line, series + " ")) {
      return std::stod(std::string(line.substr(series.size() + 1)));
    }
  }
  return -1;
}

v1::RecordEventsRequest Batch(const std::string& workspace, int from, int n) {
  v1::RecordEventsRequest r;
  r.set_workspace(workspace);
  for (int i = from; i < from + n; ++i) {
    *r.add_events() =
        testing::GoodTouch(absl::StrCat("e", i), absl::StrCat("c", i % 50));
  }
  return r;
}

TEST(MetricsTest, CountsCallsEventsAndLatenciesAfterAnImportAndAQuery) {
  TempDir dir;
  auto server =
      ServerProcess::Start(dir.path() + "/db", {}, dir.path() + "/stderr.log");
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = AdminPortFromLog(dir.path() + "/stderr.log");
  ASSERT_GT(port, 0);
  auto client = (*server)->NewClient();
  ASSERT_TRUE(client->RecordEvents(Batch("acme", 0, 300)).ok());
  ASSERT_TRUE(client->RecordEvents(Batch("acme", 0, 300)).ok());  // Retry.
  ASSERT_TRUE(client->RecordEvents(Batch("beta", 0, 20)).ok());
  v1::RecordEventsRequest bad = Batch("acme", 1000, 1);
  bad.mutable_events(0)->mutable_touchpoint()->set_channel("Bad Channel");
  EXPECT_FALSE(client->RecordEvents(bad).ok());
  v1::AttributeRequest query;
  query.set_workspace("acme");
  query.set_goal(v1::GOAL_ACQUISITION);
  query.mutable_window_start()->set_seconds(1700000000);
  query.mutable_window_end()->set_seconds(1900000000);
  query.add_models()->set_model(v1::MODEL_LINEAR);
  ASSERT_TRUE(client->Attribute(query).ok());

  auto metrics = HttpGet(port, "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  ASSERT_EQ(metrics->first, 200);
  const std::string& m = metrics->second;
  const std::string record = "attribution.v1.AttributionService/RecordEvents";
  EXPECT_EQ(Sample(m, "attributiond_requests_total{code=\"OK\",method=\"" +
                          record + "\"}"),
            3);
  EXPECT_EQ(Sample(m,
                   "attributiond_requests_total{code=\"INVALID_ARGUMENT\","
                   "method=\"" +
                       record + "\"}"),
            1);
  EXPECT_EQ(Sample(m, "attributiond_request_duration_seconds_count{method=\"" +
                          record + "\"}"),
            4);
  EXPECT_EQ(Sample(m,
                   "attributiond_query_duration_seconds_count{kind="
                   "\"Attribute\"}"),
            1);
  EXPECT_EQ(Sample(m, "attributiond_events_total{result=\"stored\"}"), 320);
  EXPECT_EQ(Sample(m, "attributiond_events_total{result=\"duplicate\"}"), 300);
  EXPECT_EQ(Sample(m, "attributiond_batches_rejected_total"), 1);
  EXPECT_EQ(Sample(m, "attributiond_index_events{workspace=\"acme\"}"), 300);
  EXPECT_EQ(Sample(m, "attributiond_index_customers{workspace=\"beta\"}"), 20);
  EXPECT_EQ(Sample(m, "attributiond_ready"), 1);
  EXPECT_GT(Sample(m, "attributiond_resident_memory_bytes"), 1e6);
  EXPECT_GT(Sample(m, "attributiond_open_fds"), 3);
  EXPECT_GE(Sample(m, "attributiond_rocksdb_memtable_bytes"), 0);
  EXPECT_GE(Sample(m, "attributiond_rocksdb_write_stops"), 0);
  EXPECT_GE(Sample(m, "attributiond_rocksdb_compactions_running"), 0);
  EXPECT_GE(Sample(m, "attributiond_rocksdb_flushes_running"), 0);
  EXPECT_THAT(m, HasSubstr("attributiond_build_info{version=\""));
  // Figures only: no event id or customer id of the data.
  EXPECT_FALSE(absl::StrContains(m, "\"c1\"")) << m;
  EXPECT_FALSE(absl::StrContains(m, "e299"));

  auto health = HttpGet(port, "/healthz");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->first, 200);
  auto ready = HttpGet(port, "/readyz");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->first, 200);
}

// The endpoint comes up before the index loads: /readyz says 503 until the
// server serves, then 200.
TEST(MetricsTest, ReadyzTurnsReadyOnceTheIndexHasLoaded) {
  TempDir dir;
  {
    auto server = ServerProcess::Start(dir.path() + "/db");
    ASSERT_TRUE(server.ok()) << server.status();
    // Enough events that loading the index takes a while (~0.2 s).
    const std::string csv = dir.path() + "/events.csv";
    ASSERT_EQ(
        testing::RunCommand({PYTHON3_PATH, GEN_EVENTS_PY, "--events", "300000",
                             "--customers", "30000", "--out", csv})
            .exit_code,
        0);
    testing::CommandResult imported = testing::RunCommand(
        {ATTRIBUTIONCTL_PATH, "--server=" + (*server)->address(), "import",
         "events", csv});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    EXPECT_EQ((*server)->SignalAndWait(SIGTERM), 0);
  }
  const std::string log = dir.path() + "/stderr.log";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int err = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null = open("/dev/null", O_WRONLY);
    dup2(err, 2);
    dup2(null, 1);
    const std::string data = "--data_dir=" + dir.path() + "/db";
    execl(ATTRIBUTIOND_PATH, ATTRIBUTIOND_PATH, "--auth=off",
          "--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0", data.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  const int port = AdminPortFromLog(log);
  ASSERT_GT(port, 0);
  std::vector<int> codes;
  for (int i = 0; i < 2000; ++i) {
    auto r = HttpGet(port, "/readyz");
    if (r.ok()) {
      if (codes.empty() || codes.back() != r->first) codes.push_back(r->first);
      if (r->first == 200) break;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_THAT(codes, ::testing::ElementsAre(503, 200));
}

}  // namespace
}  // namespace attribution

// The request log of the real server: one line per call, for ok and denied
// calls, with the key's id and never the key, denied calls rate-limited,
// text or JSON.
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "service/api/api_keys.h"
#include "tests/support/server_process.h"
#include "tests/support/status_matchers.h"

namespace attribution {
namespace {

using ::attribution::api::HashKeyForFile;
using ::attribution::api::KeyRing;
using ::attribution::testing::ServerProcess;
using ::attribution::testing::StatusIs;
using ::attribution::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kReader[] = "reader-key-acme-secret";

class RequestLogTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags) {
    keys_ = dir_.path() + "/keys.txt";
    std::ofstream(keys_) << HashKeyForFile(kReader) << " acme reader\n";
    flags.push_back("--api_keys_file=" + keys_);
    log_ = dir_.path() + "/stderr.log";
    auto server = ServerProcess::Start(dir_.path() + "/db", flags, log_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }

  std::unique_ptr<client::AttributionClient> As(const std::string& key) {
    auto c = server_->NewClient();
    c->set_api_key(key);
    return c;
  }

  // The log's call lines, once `n` of them are there (the line is written
  // as the status is sent, so it may trail the client's answer a little).
  std::vector<std::string> CallLines(size_t n) {
    std::vector<std::string> lines;
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(log_);
      std::stringstream ss;
      ss << in.rdbuf();
      text_ = ss.str();
      lines.clear();
      for (absl::string_view l : absl::StrSplit(text_, '\n')) {
        if (absl::StrContains(l, "call method=") ||
            absl::StrContains(l, "\"method\":")) {
          lines.emplace_back(l);
        }
      }
      if (lines.size() >= n) break;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return lines;
  }

  TempDir dir_;
  std::string keys_, log_, text_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(RequestLogTest, OneLinePerCallOkAndDeniedWithTheKeysIdNeverTheKey) {
  Start({});
  ASSERT_TRUE(As(kReader)->DescribeWorkspace("acme").ok());
  v1::RecordEventsRequest write;
  write.set_workspace("acme");
  EXPECT_THAT(As(kReader)->RecordEvents(write),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(As("")->GetJourney("beta", "c1"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  const std::vector<std::string> lines = CallLines(3);
  ASSERT_EQ(lines.size(), 3u) << text_;
  const std::string id = KeyRing::KeyId(absl::StrCat("Bearer ", kReader));
  EXPECT_THAT(lines[0],
              ::testing::ContainsRegex(
                  "^20[0-9-]+T[0-9:.]+Z call "
                  "method=attribution.v1.AttributionService/DescribeWorkspace "
                  "workspace=acme code=OK duration_ms=[0-9.]+ "
                  "peer=ipv[46]:.+ key=" +
                  id + "$"));
  EXPECT_THAT(lines[1], HasSubstr("method=attribution.v1.AttributionService/"
                                  "RecordEvents workspace=acme "
                                  "code=PERMISSION_DENIED"));
  EXPECT_THAT(lines[1], HasSubstr("key=" + id));
  EXPECT_THAT(lines[2], HasSubstr("GetJourney workspace=beta "
                                  "code=UNAUTHENTICATED"));
  EXPECT_THAT(lines[2], HasSubstr(" key=-"));
  // The key itself is nowhere in the log.
  EXPECT_FALSE(absl::StrContains(text_, kReader)) << text_;
}

TEST_F(RequestLogTest, DeniedCallsAreRateLimitedAndCounted) {
  Start({});
  auto anonymous = As("");
  for (int i = 0; i < 40; ++i) {
    EXPECT_THAT(anonymous->DescribeWorkspace("acme"),
                StatusIs(absl::StatusCode::kUnauthenticated));
  }
  absl::SleepFor(absl::Milliseconds(1100));
  EXPECT_FALSE(anonymous->DescribeWorkspace("acme").ok());
  const std::vector<std::string> lines = CallLines(11);
  // At most 10 a second were written, then one says how many were left out.
  ASSERT_GE(lines.size(), 11u);
  ASSERT_LE(lines.size(), 21u);
  EXPECT_THAT(lines.back(),
              ::testing::ContainsRegex("denied_not_logged=[0-9]+$"));
  // Every call is either a line or counted in one (the burst may straddle a
  // second).
  int left_out = 0;
  for (const std::string& l : lines) {
    if (const size_t at = l.find("denied_not_logged="); at != l.npos) {
      left_out += std::stoi(l.substr(at + strlen("denied_not_logged=")));
    }
  }
  EXPECT_EQ(static_cast<int>(lines.size()) + left_out, 41);
}

TEST_F(RequestLogTest, JsonLinesParse) {
  Start({"--log_format=json"});
  ASSERT_TRUE(As(kReader)->DescribeWorkspace("acme").ok());
  const std::vector<std::string> lines = CallLines(1);
  ASSERT_EQ(lines.size(), 1u) << text_;
  google::protobuf::Struct line;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[0], &line).ok())
      << lines[0];
  const auto& f = line.fields();
  EXPECT_EQ(f.at("method").string_value(),
            "attribution.v1.AttributionService/DescribeWorkspace");
  EXPECT_EQ(f.at("workspace").string_value(), "acme");
  EXPECT_EQ(f.at("code").string_value(), "OK");
  EXPECT_GE(f.at("duration_ms").number_value(), 0);
  EXPECT_EQ(f.at("key").string_value(),
            KeyRing::KeyId(absl::StrCat("Bearer ", kReader)));
  EXPECT_THAT(f.at("time").string_value(), ::testing::EndsWith("Z"));
  // A bad format is refused at start.
  testing::CommandResult bad = testing::RunCommand(
      {ATTRIBUTIOND_PATH, "--admin_listen=", "--auth=off", "--log_format=xml",
       "--data_dir=" + dir_.path() + "/other"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--log_format must be 'text' or 'json'"));
}

}  // namespace
}  // namespace attribution

#include "storage/key_codec.h"

#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/status_matchers.h"

namespace attribution::storage {
namespace {

using ::attribution::testing::StatusIs;

TEST(KeyCodecTest, RoundTripsKeysWithAwkwardBytes) {
  const std::string ws("w\0s", 3);
  const std::string customer("c\0\xff\x01", 4);
  const std::string key = EventKey(ws, customer, -5, std::string("e\0", 2));
  DecodedKey d;
  ASSERT_TRUE(DecodeEventKey(key, &d).ok());
  EXPECT_EQ(d.workspace, ws);
  EXPECT_EQ(d.customer_id, customer);
  EXPECT_EQ(d.at_us, -5);
  EXPECT_EQ(d.event_id, std::string("e\0", 2));
}

TEST(KeyCodecTest, ByteOrderIsWorkspaceCustomerTimeEventIdOrder) {
  std::mt19937 rng(42);
  const std::vector<std::string> parts = {
      "", "a", "a\0", "a\0b", "ab", "b", std::string("\0", 1), "\xff"};
  using Tuple = std::tuple<std::string, std::string, int64_t, std::string>;
  std::vector<Tuple> tuples;
  for (int i = 0; i < 400; ++i) {
    tuples.emplace_back(
        parts[rng() % parts.size()] + "w", parts[rng() % parts.size()],
        static_cast<int64_t>(rng() % 5) - 2, parts[rng() % parts.size()]);
  }
  for (const Tuple& a : tuples) {
    for (const Tuple& b : tuples) {
      const std::string ka = EventKey(std::get<0>(a), std::get<1>(a),
                                      std::get<2>(a), std::get<3>(a));
      const std::string kb = EventKey(std::get<0>(b), std::get<1>(b),
                                      std::get<2>(b), std::get<3>(b));
      ASSERT_EQ(ka < kb, a < b) << ::testing::PrintToString(a) << " vs "
                                << ::testing::PrintToString(b);
    }
  }
}

TEST(KeyCodecTest, OneCustomersPrefixDoesNotCoverAnother) {
  // "a" must not be a prefix of "a\0b" once escaped.
  const std::string a = CustomerPrefix("w", "a");
  const std::string ab = EventKey("w", std::string("a\0b", 3), 1, "e");
  EXPECT_NE(ab.compare(0, a.size(), a), 0);
  const std::string w = WorkspacePrefix("w");
  EXPECT_NE(EventKey("w2", "a", 1, "e").compare(0, w.size(), w), 0);
}

TEST(KeyCodecTest, RejectsMalformedKeys) {
  DecodedKey d;
  EXPECT_THAT(DecodeEventKey("", &d), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeEventKey("x", &d), StatusIs(absl::StatusCode::kDataLoss));
  std::string key = EventKey("w", "c", 1, "e");
  EXPECT_THAT(DecodeEventKey(key.substr(0, key.size() - 3), &d),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeEventKey(std::string("e\0\x07", 3), &d),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(KeyCodecTest, RoundTripsValues) {
  Event t;
  t.type = EventType::kTouchpoint;
  t.channel = "instagram";
  t.campaign = "launch \xc3\xa9";
  t.interaction = Interaction::kVisit;
  t.stage = Stage::kPurchase;
  t.sentiment = Sentiment::kPositive;
  Event c;
  c.type = EventType::kConversion;
  c.kind = ConversionKind::kPurchase;
  c.revenue_micros = 1'000'000'000'000'000;
  c.currency = "EUR";
  for (const Event& e : {t, c}) {
    std::string bytes;
    EncodeEventValue(e, &bytes);
    Event back;
    ASSERT_TRUE(DecodeEventValue(bytes, &back).ok());
    EXPECT_EQ(back, e);
  }
}

TEST(KeyCodecTest, RejectsMalformedValues) {
  Event e;
  EXPECT_THAT(DecodeEventValue("", &e), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeEventValue(std::string("\x02\x00", 2), &e),
              StatusIs(absl::StatusCode::kDataLoss));  // Unknown version.
  std::string bytes;
  Event c;
  c.type = EventType::kConversion;
  c.kind = ConversionKind::kLead;
  EncodeEventValue(c, &bytes);
  EXPECT_THAT(DecodeEventValue(bytes + "x", &e),
              StatusIs(absl::StatusCode::kDataLoss));  // Trailing bytes.
  bytes[2] = 9;                                        // Unknown kind.
  EXPECT_THAT(DecodeEventValue(bytes, &e),
              StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace attribution::storage

#include "clients/cli/csv.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace attribution::cli {
namespace {

using ::testing::ElementsAre;

TEST(CsvReaderTest, ReadsQuotedFieldsAcrossLines) {
  std::istringstream in(
      "a,b,c\r\n"
      "1,\"x, y\",\"say \"\"hi\"\"\"\n"
      "2,\"two\nlines\",\n"
      "3,,z\n");
  CsvReader reader(in);
  std::vector<std::string> f;
  int64_t line;
  std::string error;
  ASSERT_TRUE(reader.Next(&f, &line, &error));
  EXPECT_THAT(f, ElementsAre("a", "b", "c"));
  ASSERT_TRUE(reader.Next(&f, &line, &error));
  EXPECT_EQ(line, 2);
  EXPECT_THAT(f, ElementsAre("1", "x, y", "say \"hi\""));
  ASSERT_TRUE(reader.Next(&f, &line, &error));
  EXPECT_EQ(line, 3);
  EXPECT_THAT(f, ElementsAre("2", "two\nlines", ""));
  ASSERT_TRUE(reader.Next(&f, &line, &error));
  EXPECT_EQ(line, 5);  // The record above took two lines.
  EXPECT_THAT(f, ElementsAre("3", "", "z"));
  EXPECT_TRUE(error.empty());
  EXPECT_FALSE(reader.Next(&f, &line, &error));
}

TEST(CsvReaderTest, ReportsAnUnterminatedQuote) {
  std::istringstream in("1,\"open\n");
  CsvReader reader(in);
  std::vector<std::string> f;
  int64_t line;
  std::string error;
  ASSERT_TRUE(reader.Next(&f, &line, &error));
  EXPECT_EQ(error, "unterminated quoted field");
}

TEST(CsvEscapeTest, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(CsvEscape("plain"), "plain");
  EXPECT_EQ(CsvEscape("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvEscape("q\"q"), "\"q\"\"q\"");
}

}  // namespace
}  // namespace attribution::cli

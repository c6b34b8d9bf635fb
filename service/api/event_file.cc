#include "service/api/event_file.h"

#include <array>
#include <deque>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "service/core/limits.h"

namespace attribution::api {
namespace {

enum Column {
  kEventId,
  kCustomerId,
  kOccurredAt,
  kType,
  kChannel,
  kCampaign,
  kInteraction,
  kStage,
  kSentiment,
  kConversion,
  kRevenue,
  kCurrency,
  kColumnCount,
};
constexpr std::array<const char*, kColumnCount> kColumnNames = {
    "event_id",  "customer_id", "occurred_at", "type",
    "channel",   "campaign",    "interaction", "stage",
    "sentiment", "conversion",  "revenue",     "currency",
};
constexpr std::array<Column, 7> kRequired = {
    kEventId, kCustomerId,  kOccurredAt, kType,
    kChannel, kInteraction, kConversion};

// Enum words by value (index 0, "unspecified", is never accepted).
constexpr std::array<const char*, kMaxInteraction + 1> kInteractions = {
    "",        "impression", "click",  "like",   "comment", "share",
    "mention", "message",    "follow", "review", "visit"};
constexpr std::array<const char*, kMaxStage + 1> kStages = {
    "", "discovery", "purchase", "loyalty"};
constexpr std::array<const char*, kMaxSentiment + 1> kSentiments = {
    "", "positive", "neutral", "negative"};
constexpr std::array<const char*, kMaxConversionKind + 1> kKinds = {
    "", "lead", "purchase", "churn"};

// The value whose word equals `s` ignoring case; 0 if none.
template <size_t N>
int WordValue(const std::array<const char*, N>& words, absl::string_view s) {
  for (size_t v = 1; v < N; ++v) {
    if (absl::EqualsIgnoreCase(s, words[v])) return static_cast<int>(v);
  }
  return 0;
}

// Splits one CSV record out of the text; the fields stay valid until the
// next call. Reads as the CLI's CsvReader does (RFC 4180, quotes anywhere
// in a field, a CR before a line break dropped outside quotes).
class CsvSplitter {
 public:
  explicit CsvSplitter(absl::string_view text) : text_(text) {}

  // False at the end. `line` is where the record starts (1-based).
  bool Next(std::vector<absl::string_view>* fields, int64_t* line,
            const char** error) {
    fields->clear();
    *error = "";
    if (pos_ >= text_.size()) return false;
    *line = ++line_;
    used_ = 0;
    const size_t n = text_.size();
    size_t i = pos_;
    while (true) {
      const size_t start = i;
      while (i < n && text_[i] != ',' && text_[i] != '\n' && text_[i] != '"') {
        ++i;
      }
      if (i < n && text_[i] == '"') {
        i = Quoted(start, fields, error);
      } else {
        size_t end = i;
        if ((i == n || text_[i] == '\n') && end > start &&
            text_[end - 1] == '\r') {
          --end;
        }
        fields->push_back(text_.substr(start, end - start));
      }
      if (i < n && text_[i] == ',') {
        ++i;
        continue;
      }
      pos_ = i < n ? i + 1 : n;  // Past the line break.
      return true;
    }
  }

 private:
  // Reads a field holding quotes from `start`; returns where it stopped (at
  // a separator, a line break or the end).
  size_t Quoted(size_t start, std::vector<absl::string_view>* fields,
                const char** error) {
    if (used_ == storage_.size()) storage_.emplace_back();
    std::string& s = storage_[used_++];
    s.clear();
    const size_t n = text_.size();
    bool quoted = false;
    size_t i = start;
    while (i < n) {
      const char c = text_[i];
      if (quoted) {
        ++i;
        if (c != '"') {
          if (c == '\n') ++line_;
          s.push_back(c);
        } else if (i < n && text_[i] == '"') {
          s.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
        continue;
      }
      if (c == ',' || c == '\n') break;
      ++i;
      if (c == '"') {
        quoted = true;
      } else if (c == '\r' && (i == n || text_[i] == '\n')) {
        // CRLF line ending.
      } else {
        s.push_back(c);
      }
    }
    if (quoted) *error = "unterminated quoted field";
    fields->push_back(s);
    return i;
  }

  const absl::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 0;
  // Quoted fields' text; a deque, so that earlier fields stay put.
  std::deque<std::string> storage_;
  size_t used_ = 0;
};

absl::Status Bad(Column c, absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat(kColumnNames[c], ": ", reason));
}

absl::Status Check(Column c, const char* reason) {
  if (*reason == '\0') return absl::OkStatus();
  return Bad(c, reason);
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool Digits(absl::string_view s, size_t at, size_t count, int* out) {
  int v = 0;
  for (size_t k = at; k < at + count; ++k) {
    if (!absl::ascii_isdigit(s[k])) return false;
    v = v * 10 + (s[k] - '0');
  }
  *out = v;
  return true;
}

// The common RFC 3339 shape, "2026-03-01T12:00:00[.frac](Z|+hh:mm)", with
// every field in range; false for anything else, which ParseTime decides.
bool FastRfc3339(absl::string_view s, int64_t* us) {
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
      s[13] != ':' || s[16] != ':') {
    return false;
  }
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || !Digits(s, 5, 2, &month) ||
      !Digits(s, 8, 2, &day) || !Digits(s, 11, 2, &hour) ||
      !Digits(s, 14, 2, &minute) || !Digits(s, 17, 2, &second)) {
    return false;
  }
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12 || day < 1 ||
      day > kDaysIn[month - 1] + (month == 2 && leap) || hour > 23 ||
      minute > 59 || second > 59) {
    return false;
  }
  size_t i = 19;
  int64_t frac_us = 0;
  if (s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && absl::ascii_isdigit(s[i])) {
      if (digits < 6) frac_us = frac_us * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return false;
    for (int k = digits; k < 6; ++k) frac_us *= 10;
  }
  int64_t offset_s = 0;
  if (i + 1 == s.size() && s[i] == 'Z') {
    // UTC.
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') &&
             s[i + 3] == ':') {
    int oh, om;
    if (!Digits(s, i + 1, 2, &oh) || !Digits(s, i + 4, 2, &om) || oh > 23 ||
        om > 59) {
      return false;
    }
    offset_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
  } else {
    return false;
  }
  const int64_t seconds = DaysFromCivil(year, static_cast<unsigned>(month),
                                        static_cast<unsigned>(day)) *
                              86400 +
                          hour * 3600 + minute * 60 + second - offset_s;
  *us = seconds * 1'000'000 + frac_us;
  return true;
}

absl::Status ParseTime(absl::string_view value, int64_t* us) {
  const absl::string_view when = absl::StripAsciiWhitespace(value);
  if (when.empty()) return Bad(kOccurredAt, "is required");
  if (FastRfc3339(when, us)) return absl::OkStatus();
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, when, &t, &err)) {
    return Bad(kOccurredAt,
               absl::StrCat("\"", when,
                            "\" is not RFC 3339 (e.g. 2026-03-01T12:00:00Z)"));
  }
  *us = absl::ToUnixMicros(t);
  return absl::OkStatus();
}

// Exact decimal ("19.99") -> micros, as the CLI reads revenue.
absl::Status ParseMicros(absl::string_view s, int64_t* out) {
  *out = 0;
  if (s.empty()) return absl::OkStatus();
  int64_t units = 0, frac = 0;
  int int_digits = 0, frac_digits = 0;
  bool dot = false;
  for (char c : s) {
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') {
      return Bad(kRevenue, absl::StrCat("\"", s,
                                        "\" is not a non-negative decimal "
                                        "such as 19.99"));
    }
    if (dot) {
      if (++frac_digits > 6) {
        return Bad(kRevenue,
                   absl::StrCat("\"", s, "\" has more than 6 decimal places"));
      }
      frac = frac * 10 + (c - '0');
    } else {
      if (++int_digits > 12) {
        return Bad(kRevenue, absl::StrCat("\"", s, "\" is too large"));
      }
      units = units * 10 + (c - '0');
    }
  }
  if (int_digits == 0 && frac_digits == 0) {
    return Bad(kRevenue, absl::StrCat("\"", s, "\" is not a decimal"));
  }
  for (int k = frac_digits; k < 6; ++k) frac *= 10;
  *out = units * 1'000'000 + frac;
  return absl::OkStatus();
}

using Values = std::array<absl::string_view, kColumnCount>;

// One row's event, read and checked. `max_us` is the latest accepted time.
absl::Status RowEvent(const Values& v, int64_t max_us,
                      absl::string_view reporting_currency, Event* out) {
  Event& e = *out;
  e.type = EventType::kTouchpoint;
  e.channel.clear();
  e.campaign.clear();
  e.interaction = Interaction::kUnspecified;
  e.stage = Stage::kUnspecified;
  e.sentiment = Sentiment::kUnspecified;
  e.kind = ConversionKind::kUnspecified;
  e.revenue_micros = 0;
  e.currency.clear();
  int64_t us;
  if (absl::Status s = ParseTime(v[kOccurredAt], &us); !s.ok()) return s;
  if (absl::EqualsIgnoreCase(v[kType], "touchpoint")) {
    e.type = EventType::kTouchpoint;
    const int interaction = WordValue(kInteractions, v[kInteraction]);
    if (interaction == 0) {
      return Bad(kInteraction,
                 absl::StrCat("\"", v[kInteraction],
                              "\" is not one of impression, click, like, "
                              "comment, share, mention, message, follow, "
                              "review, visit"));
    }
    e.interaction = static_cast<Interaction>(interaction);
    if (!v[kStage].empty()) {
      const int stage = WordValue(kStages, v[kStage]);
      if (stage == 0) {
        return Bad(kStage, absl::StrCat("\"", v[kStage],
                                        "\" is not discovery, purchase, "
                                        "loyalty or empty"));
      }
      e.stage = static_cast<Stage>(stage);
    }
    if (!v[kSentiment].empty()) {
      const int sentiment = WordValue(kSentiments, v[kSentiment]);
      if (sentiment == 0) {
        return Bad(kSentiment, absl::StrCat("\"", v[kSentiment],
                                            "\" is not positive, neutral, "
                                            "negative or empty"));
      }
      e.sentiment = static_cast<Sentiment>(sentiment);
    }
  } else if (absl::EqualsIgnoreCase(v[kType], "conversion")) {
    e.type = EventType::kConversion;
    const int kind = WordValue(kKinds, v[kConversion]);
    if (kind == 0) {
      return Bad(kConversion, absl::StrCat("\"", v[kConversion],
                                           "\" is not lead, purchase or "
                                           "churn"));
    }
    e.kind = static_cast<ConversionKind>(kind);
    if (absl::Status s = ParseMicros(v[kRevenue], &e.revenue_micros); !s.ok()) {
      return s;
    }
  } else {
    return Bad(kType, absl::StrCat("\"", v[kType],
                                   "\" is not touchpoint or conversion"));
  }
  // The checks RecordEvents makes, in its order.
  if (absl::Status s = Check(kEventId, CheckId(v[kEventId])); !s.ok()) {
    return s;
  }
  if (absl::Status s = Check(kCustomerId, CheckId(v[kCustomerId])); !s.ok()) {
    return s;
  }
  if (us < kMinOccurredAtUs || us > max_us) {
    return Bad(kOccurredAt, us > max_us
                                ? "is more than 24h after the server's time"
                                : "is before 2000-01-01T00:00:00Z");
  }
  e.event_id.assign(v[kEventId].data(), v[kEventId].size());
  e.customer_id.assign(v[kCustomerId].data(), v[kCustomerId].size());
  e.occurred_at_us = us;
  if (e.type == EventType::kTouchpoint) {
    if (absl::Status s = Check(kChannel, CheckChannel(v[kChannel])); !s.ok()) {
      return s;
    }
    if (absl::Status s = Check(kCampaign, CheckCampaign(v[kCampaign]));
        !s.ok()) {
      return s;
    }
    e.channel.assign(v[kChannel].data(), v[kChannel].size());
    e.campaign.assign(v[kCampaign].data(), v[kCampaign].size());
    return absl::OkStatus();
  }
  const bool purchase = e.kind == ConversionKind::kPurchase;
  if (e.revenue_micros > kMaxRevenueMicros) {
    return Bad(kRevenue, "exceeds one billion currency units");
  }
  if (!purchase && e.revenue_micros != 0) {
    return Bad(kRevenue, "is only allowed on purchases");
  }
  e.currency = absl::AsciiStrToUpper(v[kCurrency]);
  if (!e.currency.empty()) {
    if (!purchase) return Bad(kCurrency, "is only allowed on purchases");
    if (!IsKnownCurrency(e.currency)) {
      return Bad(kCurrency, absl::StrCat("unknown ISO 4217 code \"",
                                         absl::CHexEscape(e.currency), "\""));
    }
    if (!reporting_currency.empty() && e.currency != reporting_currency) {
      return Bad(kCurrency,
                 absl::StrCat("\"", e.currency,
                              "\" is not the workspace's reporting currency \"",
                              reporting_currency, "\""));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ParsedEventFile> ParseCsvEvents(
    absl::string_view text, const EventFileOptions& options) {
  CsvSplitter splitter(text);
  std::vector<absl::string_view> fields;
  int64_t line = 0;
  const char* error;
  if (!splitter.Next(&fields, &line, &error) || *error != '\0') {
    return absl::InvalidArgumentError("header: the file has no header row");
  }
  std::array<int, kColumnCount> position;
  position.fill(-1);
  for (size_t i = 0; i < fields.size(); ++i) {
    absl::string_view name = absl::StripAsciiWhitespace(fields[i]);
    if (i == 0) absl::ConsumePrefix(&name, "\xEF\xBB\xBF");  // UTF-8 BOM.
    for (int c = 0; c < kColumnCount; ++c) {
      if (absl::EqualsIgnoreCase(name, kColumnNames[c]) && position[c] < 0) {
        position[c] = static_cast<int>(i);
      }
    }
  }
  std::vector<std::string> missing;
  for (Column c : kRequired) {
    if (position[c] < 0) missing.push_back(kColumnNames[c]);
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "header: missing required column(s): ", absl::StrJoin(missing, ", ")));
  }

  const int64_t max_us = absl::ToUnixMicros(options.now) + kMaxFutureSkewUs;
  ParsedEventFile out;
  // About 90 bytes a row in a typical file: reserve once.
  out.events.reserve(text.size() / 80 + 1);
  Values values;
  Event event;
  while (splitter.Next(&fields, &line, &error)) {
    if (*error == '\0' && fields.size() == 1 && fields[0].empty()) continue;
    ++out.rows;
    absl::Status s;
    if (*error != '\0') {
      s = absl::InvalidArgumentError(error);
    } else {
      for (int c = 0; c < kColumnCount; ++c) {
        const int p = position[c];
        values[c] = p >= 0 && static_cast<size_t>(p) < fields.size()
                        ? fields[p]
                        : absl::string_view();
      }
      s = RowEvent(values, max_us, options.reporting_currency, &event);
    }
    if (s.ok()) {
      out.events.push_back(std::move(event));
      event = Event{};
      continue;
    }
    ++out.rejected;
    if (out.rejected_rows.size() < kMaxRejectedRowsShown) {
      out.rejected_rows.push_back(
          {line + options.line_offset, out.rows, std::string(s.message())});
    }
  }
  return out;
}

}  // namespace attribution::api

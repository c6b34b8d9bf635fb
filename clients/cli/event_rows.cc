#include "clients/cli/event_rows.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"

namespace attribution::cli {

const std::array<const char*, kColumnCount> kColumnNames = {
    "event_id",  "customer_id", "occurred_at", "type",
    "channel",   "campaign",    "interaction", "stage",
    "sentiment", "conversion",  "revenue",     "currency",
};

namespace {

constexpr std::array<Column, 7> kRequired = {
    kEventId, kCustomerId,  kOccurredAt, kType,
    kChannel, kInteraction, kConversion};

absl::Status Bad(Column c, absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat(kColumnNames[c], ": ", reason));
}

// "click" -> INTERACTION_CLICK etc., through the proto enum's own names.
template <typename Enum, typename ParseFn>
bool ParseEnum(absl::string_view prefix, absl::string_view value, ParseFn parse,
               Enum* out) {
  return parse(absl::StrCat(prefix, absl::AsciiStrToUpper(value)), out) &&
         static_cast<int>(*out) != 0;
}

std::string EnumToName(absl::string_view prefix, const std::string& full) {
  absl::string_view s(full);
  if (s.size() > prefix.size()) s.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(s);
}

}  // namespace

absl::StatusOr<std::array<int, kColumnCount>> MapHeader(
    const std::vector<std::string>& header) {
  std::array<int, kColumnCount> pos;
  pos.fill(-1);
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string name =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(header[i]));
    for (int c = 0; c < kColumnCount; ++c) {
      if (name == kColumnNames[c] && pos[c] < 0) pos[c] = static_cast<int>(i);
    }
  }
  std::vector<std::string> missing;
  for (Column c : kRequired) {
    if (pos[c] < 0) missing.push_back(kColumnNames[c]);
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "header: missing required column(s): ", absl::StrJoin(missing, ", ")));
  }
  return pos;
}

RowValues PickValues(const std::vector<std::string>& fields,
                     const std::array<int, kColumnCount>& positions) {
  RowValues row;
  for (int c = 0; c < kColumnCount; ++c) {
    const int p = positions[c];
    if (p >= 0 && static_cast<size_t>(p) < fields.size()) row[c] = fields[p];
  }
  return row;
}

namespace {

// A reader of one JSON object per line whose values are strings, numbers or
// null (other keys may hold anything, and are skipped). Written for speed:
// protobuf's JSON parser into a Struct took most of a JSONL import's time.
class JsonLine {
 public:
  explicit JsonLine(absl::string_view s) : s_(s) {}

  absl::Status Read(RowValues* row) {
    Space();
    if (!Eat('{')) return Broken("expected {");
    Space();
    if (Eat('}')) return End();
    std::string key, text;
    while (true) {
      Space();
      if (!Peek('"') || !String(&key)) return Broken("expected a key");
      Space();
      if (!Eat(':')) return Broken("expected :");
      Space();
      int column = -1;
      for (int c = 0; c < kColumnCount; ++c) {
        if (key == kColumnNames[c]) column = c;
      }
      if (column < 0) {
        if (!Skip(0)) return Broken("bad value");
      } else if (Peek('"')) {
        if (!String(&text)) return Broken("bad string");
        (*row)[column] = std::move(text);
      } else if (Peek('n')) {
        if (!Word("null")) return Broken("bad value");
        (*row)[column].clear();
      } else if (Peek('-') || (i_ < s_.size() && absl::ascii_isdigit(s_[i_]))) {
        double v;
        if (!Number(&v)) return Broken("bad number");
        // Shortest text that reads back as the same double.
        char buf[64];
        auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
        (*row)[column].assign(buf, end);
      } else {
        return Bad(static_cast<Column>(column), "must be a string or a number");
      }
      Space();
      if (Eat(',')) continue;
      if (Eat('}')) return End();
      return Broken("expected , or }");
    }
  }

 private:
  absl::Status End() {
    Space();
    return i_ == s_.size() ? absl::OkStatus() : Broken("text after the object");
  }
  absl::Status Broken(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("not a JSON object: ", what, " at character ", i_ + 1));
  }
  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' ||
                              s_[i_] == '\r' || s_[i_] == '\n')) {
      ++i_;
    }
  }
  bool Peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
  bool Eat(char c) {
    if (!Peek(c)) return false;
    ++i_;
    return true;
  }
  bool Word(absl::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  bool Hex4(uint32_t* out) {
    if (i_ + 4 > s_.size()) return false;
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    *out = v;
    return true;
  }
  // At '"': the string's value, escapes decoded.
  bool String(std::string* out) {
    out->clear();
    ++i_;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      switch (s_[i_++]) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {  // A surrogate pair.
            uint32_t low;
            if (!Word("\\u") || !Hex4(&low) || low < 0xDC00 || low >= 0xE000) {
              return false;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            return false;
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  bool Number(double* out) {
    const size_t start = i_;
    auto digits = [&] {
      const size_t from = i_;
      while (i_ < s_.size() && absl::ascii_isdigit(s_[i_])) ++i_;
      return i_ > from;
    };
    Eat('-');
    if (Eat('0')) {
      if (i_ < s_.size() && absl::ascii_isdigit(s_[i_])) return false;
    } else if (!digits()) {
      return false;
    }
    if (Eat('.') && !digits()) return false;
    if (Peek('e') || Peek('E')) {
      ++i_;
      if (!Eat('+')) Eat('-');
      if (!digits()) return false;
    }
    const char* begin = s_.data() + start;
    const auto [end, ec] = std::from_chars(begin, s_.data() + i_, *out);
    return ec == std::errc() && end == s_.data() + i_;
  }
  // Any value, nested ones included (to a depth of 64).
  bool Skip(int depth) {
    if (depth > 64) return false;
    Space();
    std::string ignored;
    if (Peek('"')) return String(&ignored);
    if (Peek('{') || Peek('[')) {
      const char close = s_[i_] == '{' ? '}' : ']';
      ++i_;
      Space();
      if (Eat(close)) return true;
      while (true) {
        if (close == '}') {
          Space();
          if (!Peek('"') || !String(&ignored)) return false;
          Space();
          if (!Eat(':')) return false;
        }
        if (!Skip(depth + 1)) return false;
        Space();
        if (Eat(',')) continue;
        return Eat(close);
      }
    }
    if (Peek('t')) return Word("true");
    if (Peek('f')) return Word("false");
    if (Peek('n')) return Word("null");
    double unused;
    return Number(&unused);
  }

  absl::string_view s_;
  size_t i_ = 0;
};

}  // namespace

absl::StatusOr<RowValues> ParseJsonLine(absl::string_view line) {
  RowValues row;
  JsonLine reader(line);
  if (absl::Status s = reader.Read(&row); !s.ok()) return s;
  return row;
}

absl::StatusOr<int64_t> ParseDecimalMicros(absl::string_view s) {
  if (s.empty()) return 0;
  int64_t units = 0;
  int64_t frac = 0;
  int int_digits = 0, frac_digits = 0;
  bool dot = false;
  for (char c : s) {
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", s, "\" is not a non-negative decimal such as 19.99"));
    }
    if (dot) {
      if (++frac_digits > 6) {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", s, "\" has more than 6 decimal places"));
      }
      frac = frac * 10 + (c - '0');
    } else {
      if (++int_digits > 12) {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", s, "\" is too large"));
      }
      units = units * 10 + (c - '0');
    }
  }
  if (int_digits == 0 && frac_digits == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", s, "\" is not a decimal"));
  }
  for (int i = frac_digits; i < 6; ++i) frac *= 10;
  return units * 1'000'000 + frac;
}

std::string FormatMicros(int64_t micros) {
  std::string out = absl::StrCat(micros / 1'000'000);
  int64_t frac = micros % 1'000'000;
  if (frac == 0) return out;
  std::string digits = absl::StrCat(frac + 1'000'000).substr(1);
  // Money reads with at least two decimals: 51.70, not 51.7.
  while (digits.size() > 2 && digits.back() == '0') digits.pop_back();
  return absl::StrCat(out, ".", digits);
}

std::string FormatTimestamp(const google::protobuf::Timestamp& ts) {
  const absl::Time t =
      absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

std::string StageName(v1::Stage stage) {
  if (stage == v1::STAGE_UNSPECIFIED) return "";
  return EnumToName("STAGE_", v1::Stage_Name(stage));
}

absl::StatusOr<v1::Event> RowToEvent(const RowValues& row) {
  v1::Event event;
  absl::Time t;
  std::string err;
  const std::string when(absl::StripAsciiWhitespace(row[kOccurredAt]));
  if (when.empty()) return Bad(kOccurredAt, "is required");
  if (!absl::ParseTime(absl::RFC3339_full, when, &t, &err)) {
    return Bad(kOccurredAt,
               absl::StrCat("\"", when,
                            "\" is not RFC 3339 (e.g. 2026-03-01T12:00:00Z)"));
  }
  const int64_t us = absl::ToUnixMicros(t);
  google::protobuf::Timestamp ts;
  ts.set_seconds(us / 1'000'000 - (us % 1'000'000 < 0 ? 1 : 0));
  ts.set_nanos(
      static_cast<int32_t>(((us % 1'000'000) + 1'000'000) % 1'000'000) * 1000);

  const std::string type = absl::AsciiStrToLower(row[kType]);
  if (type == "touchpoint") {
    v1::Touchpoint* tp = event.mutable_touchpoint();
    tp->set_event_id(row[kEventId]);
    tp->set_customer_id(row[kCustomerId]);
    *tp->mutable_occurred_at() = ts;
    tp->set_channel(row[kChannel]);
    tp->set_campaign(row[kCampaign]);
    v1::Interaction interaction;
    if (!ParseEnum("INTERACTION_", row[kInteraction], v1::Interaction_Parse,
                   &interaction)) {
      return Bad(kInteraction,
                 absl::StrCat("\"", row[kInteraction],
                              "\" is not one of impression, click, like, "
                              "comment, share, mention, message, follow, "
                              "review, visit"));
    }
    tp->set_interaction(interaction);
    if (!row[kStage].empty()) {
      v1::Stage stage;
      if (!ParseEnum("STAGE_", row[kStage], v1::Stage_Parse, &stage)) {
        return Bad(kStage, absl::StrCat("\"", row[kStage],
                                        "\" is not discovery, purchase, "
                                        "loyalty or empty"));
      }
      tp->set_stage(stage);
    }
    if (!row[kSentiment].empty()) {
      v1::Sentiment sentiment;
      if (!ParseEnum("SENTIMENT_", row[kSentiment], v1::Sentiment_Parse,
                     &sentiment)) {
        return Bad(kSentiment, absl::StrCat("\"", row[kSentiment],
                                            "\" is not positive, neutral, "
                                            "negative or empty"));
      }
      tp->set_sentiment(sentiment);
    }
    return event;
  }
  if (type == "conversion") {
    v1::Conversion* cv = event.mutable_conversion();
    cv->set_event_id(row[kEventId]);
    cv->set_customer_id(row[kCustomerId]);
    *cv->mutable_occurred_at() = ts;
    v1::ConversionKind kind;
    if (!ParseEnum("CONVERSION_KIND_", row[kConversion],
                   v1::ConversionKind_Parse, &kind)) {
      return Bad(kConversion,
                 absl::StrCat("\"", row[kConversion],
                              "\" is not lead, purchase or churn"));
    }
    cv->set_kind(kind);
    absl::StatusOr<int64_t> revenue = ParseDecimalMicros(row[kRevenue]);
    if (!revenue.ok()) return Bad(kRevenue, revenue.status().message());
    cv->set_revenue_micros(*revenue);
    cv->set_currency(absl::AsciiStrToUpper(row[kCurrency]));
    return event;
  }
  return Bad(kType, absl::StrCat("\"", row[kType],
                                 "\" is not touchpoint or conversion"));
}

RowValues EventToRow(const v1::Event& event) {
  RowValues row;
  if (event.has_touchpoint()) {
    const v1::Touchpoint& t = event.touchpoint();
    row[kEventId] = t.event_id();
    row[kCustomerId] = t.customer_id();
    row[kOccurredAt] = FormatTimestamp(t.occurred_at());
    row[kType] = "touchpoint";
    row[kChannel] = t.channel();
    row[kCampaign] = t.campaign();
    row[kInteraction] =
        EnumToName("INTERACTION_", v1::Interaction_Name(t.interaction()));
    row[kStage] = StageName(t.stage());
    if (t.sentiment() != v1::SENTIMENT_UNSPECIFIED) {
      row[kSentiment] =
          EnumToName("SENTIMENT_", v1::Sentiment_Name(t.sentiment()));
    }
  } else {
    const v1::Conversion& c = event.conversion();
    row[kEventId] = c.event_id();
    row[kCustomerId] = c.customer_id();
    row[kOccurredAt] = FormatTimestamp(c.occurred_at());
    row[kType] = "conversion";
    row[kConversion] =
        EnumToName("CONVERSION_KIND_", v1::ConversionKind_Name(c.kind()));
    if (c.kind() == v1::CONVERSION_KIND_PURCHASE) {
      row[kRevenue] = FormatMicros(c.revenue_micros());
    }
    row[kCurrency] = c.currency();
  }
  return row;
}

}  // namespace attribution::cli

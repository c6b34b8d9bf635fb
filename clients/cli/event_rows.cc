#include "clients/cli/event_rows.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

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

absl::StatusOr<RowValues> ParseJsonLine(absl::string_view line) {
  google::protobuf::Struct object;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(line.data(), line.size()), &object);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a JSON object: ", status.message().as_string()));
  }
  RowValues row;
  for (int c = 0; c < kColumnCount; ++c) {
    auto it = object.fields().find(kColumnNames[c]);
    if (it == object.fields().end()) continue;
    const google::protobuf::Value& v = it->second;
    switch (v.kind_case()) {
      case google::protobuf::Value::kStringValue:
        row[c] = v.string_value();
        break;
      case google::protobuf::Value::kNullValue:
        break;
      case google::protobuf::Value::kNumberValue: {
        // Shortest text that reads back as the same double.
        char buf[64];
        auto [end, ec] =
            std::to_chars(buf, buf + sizeof(buf), v.number_value());
        row[c].assign(buf, end);
        break;
      }
      default:
        return Bad(static_cast<Column>(c), "must be a string or a number");
    }
  }
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

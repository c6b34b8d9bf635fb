#include "clients/cli/vocabulary.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/json_util.h"

namespace attribution::cli {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// "GoalStatus" -> "GOAL_STATUS_".
void AppendString(absl::string_view s, std::string* out) {
  page::AppendJsonString(s, out);
}

void AppendDouble(double v, std::string* out) {
  if (std::isfinite(v) && v == std::trunc(v) && std::abs(v) < 1e17) {
    // A count reads as one: 900000, not the shorter 9e+05.
    char buf[32];
    const auto [end, ec] =
        std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
    out->append(buf, end);
  } else if (std::isfinite(v)) {
    out->append(Shortest(v));
  } else {
    AppendString(Shortest(v), out);  // proto3 JSON: "NaN", "Infinity".
  }
}

void AppendMessage(const Message& m, std::string* out);

void AppendValue(const google::protobuf::Value& v, std::string* out) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kNumberValue:
      AppendDouble(v.number_value(), out);
      return;
    case google::protobuf::Value::kStringValue:
      AppendString(v.string_value(), out);
      return;
    case google::protobuf::Value::kBoolValue:
      out->append(v.bool_value() ? "true" : "false");
      return;
    case google::protobuf::Value::kStructValue: {
      // Keys sorted, so that the output does not depend on a hash order.
      std::vector<const std::string*> keys;
      for (const auto& [k, unused] : v.struct_value().fields()) {
        keys.push_back(&k);
      }
      std::sort(keys.begin(), keys.end(),
                [](const auto* a, const auto* b) { return *a < *b; });
      out->push_back('{');
      for (size_t i = 0; i < keys.size(); ++i) {
        if (i) out->push_back(',');
        AppendString(*keys[i], out);
        out->push_back(':');
        AppendValue(v.struct_value().fields().at(*keys[i]), out);
      }
      out->push_back('}');
      return;
    }
    case google::protobuf::Value::kListValue: {
      out->push_back('[');
      for (int i = 0; i < v.list_value().values_size(); ++i) {
        if (i) out->push_back(',');
        AppendValue(v.list_value().values(i), out);
      }
      out->push_back(']');
      return;
    }
    default:
      out->append("null");
  }
}

void AppendField(const Message& m, const FieldDescriptor* f, int index,
                 std::string* out) {
  const Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(
          out, rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      return;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(
          out, rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      return;
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(
          out, "\"", rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f),
          "\"");
      return;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(
          out, "\"",
          rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f), "\"");
      return;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      AppendDouble(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f),
                   out);
      return;
    case FieldDescriptor::CPPTYPE_FLOAT:
      AppendDouble(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f),
                   out);
      return;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f))
                      ? "true"
                      : "false");
      return;
    case FieldDescriptor::CPPTYPE_ENUM:
      AppendString(
          EnumWord(f->enum_type(), rep ? r->GetRepeatedEnumValue(m, f, index)
                                       : r->GetEnumValue(m, f)),
          out);
      return;
    case FieldDescriptor::CPPTYPE_STRING: {
      const std::string s =
          rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      if (f->type() == FieldDescriptor::TYPE_BYTES) {
        AppendString(absl::Base64Escape(s), out);
      } else {
        AppendString(s, out);
      }
      return;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      AppendMessage(
          rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f), out);
      return;
  }
}

void AppendMessage(const Message& m, std::string* out) {
  const Descriptor* d = m.GetDescriptor();
  if (d->full_name() == "google.protobuf.Timestamp") {
    const auto& ts = static_cast<const google::protobuf::Timestamp&>(m);
    AppendString(absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ",
                                  absl::FromUnixSeconds(ts.seconds()) +
                                      absl::Nanoseconds(ts.nanos()),
                                  absl::UTCTimeZone()),
                 out);
    return;
  }
  if (d->full_name() == "google.protobuf.Duration") {
    const auto& du = static_cast<const google::protobuf::Duration&>(m);
    std::string s = absl::StrCat(du.seconds());
    if (du.nanos() != 0) {
      std::string frac = absl::StrCat(std::abs(du.nanos()) + 1000000000);
      frac = frac.substr(1);
      while (frac.back() == '0') frac.pop_back();
      if (du.seconds() == 0 && du.nanos() < 0) s = "-0";
      absl::StrAppend(&s, ".", frac);
    }
    AppendString(absl::StrCat(s, "s"), out);
    return;
  }
  if (d->full_name() == "google.protobuf.Value") {
    AppendValue(static_cast<const google::protobuf::Value&>(m), out);
    return;
  }
  const Reflection* r = m.GetReflection();
  out->push_back('{');
  bool first = true;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (!f->is_repeated() && f->has_presence() && !r->HasField(m, f)) continue;
    if (!f->is_repeated() && f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM &&
        r->GetEnumValue(m, f) == 0) {
      continue;
    }
    if (!first) out->push_back(',');
    first = false;
    AppendString(f->name(), out);
    out->push_back(':');
    if (f->is_repeated()) {
      out->push_back('[');
      for (int k = 0; k < r->FieldSize(m, f); ++k) {
        if (k) out->push_back(',');
        AppendField(m, f, k, out);
      }
      out->push_back(']');
    } else {
      AppendField(m, f, -1, out);
    }
  }
  out->push_back('}');
}

// Enum words back to proto names, in place, by `d`'s fields.
void WordsToEnumNames(const Descriptor* d, google::protobuf::Value* v) {
  if (d->full_name() == "google.protobuf.Timestamp" ||
      d->full_name() == "google.protobuf.Duration" ||
      d->full_name() == "google.protobuf.Value" || !v->has_struct_value()) {
    return;
  }
  for (auto& [key, value] : *v->mutable_struct_value()->mutable_fields()) {
    const FieldDescriptor* f = d->FindFieldByName(key);
    if (f == nullptr) continue;
    std::vector<google::protobuf::Value*> items;
    if (value.has_list_value()) {
      for (auto& item : *value.mutable_list_value()->mutable_values()) {
        items.push_back(&item);
      }
    } else {
      items.push_back(&value);
    }
    for (google::protobuf::Value* item : items) {
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        WordsToEnumNames(f->message_type(), item);
      } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM &&
                 item->has_string_value()) {
        const EnumDescriptor* e = f->enum_type();
        if (e->FindValueByName(item->string_value()) == nullptr) {
          item->set_string_value(
              absl::StrCat(page::EnumPrefix(e),
                           absl::AsciiStrToUpper(item->string_value())));
        }
      }
    }
  }
}

}  // namespace

absl::Status ParseMessageJson(absl::string_view json,
                              google::protobuf::Message* out) {
  google::protobuf::Value v;
  auto s = google::protobuf::util::JsonStringToMessage(std::string(json), &v);
  if (!s.ok()) return absl::InvalidArgumentError(s.ToString());
  WordsToEnumNames(out->GetDescriptor(), &v);
  std::string text;
  s = google::protobuf::util::MessageToJsonString(v, &text);
  if (!s.ok()) return absl::InvalidArgumentError(s.ToString());
  s = google::protobuf::util::JsonStringToMessage(text, out);
  if (!s.ok()) return absl::InvalidArgumentError(s.ToString());
  return absl::OkStatus();
}

std::string NormaliseName(absl::string_view name) {
  std::string out(absl::StripAsciiWhitespace(name));
  absl::AsciiStrToLower(&out);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

std::string DidYouMean(absl::string_view given,
                       const std::vector<std::string>& known) {
  const std::string g = NormaliseName(given);
  const std::string* best = nullptr;
  size_t best_distance = SIZE_MAX;
  for (const std::string& k : known) {
    const size_t d = EditDistance(g, k);
    if (d < best_distance) {
      best_distance = d;
      best = &k;
    }
  }
  if (best == nullptr || best_distance == 0 ||
      best_distance > std::max<size_t>(2, best->size() / 3)) {
    return "";
  }
  return absl::StrCat(" (did you mean \"", *best, "\"?)");
}

std::vector<std::string> EnumWords(const EnumDescriptor* type) {
  std::vector<std::string> out;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() != 0) {
      out.push_back(EnumWord(type, type->value(i)->number()));
    }
  }
  return out;
}

absl::StatusOr<int> ParseEnumWord(const EnumDescriptor* type,
                                  absl::string_view flag,
                                  absl::string_view given) {
  const std::string word = NormaliseName(given);
  const std::vector<std::string> words = EnumWords(type);
  for (int i = 0; i < type->value_count(); ++i) {
    const int number = type->value(i)->number();
    if (number != 0 && EnumWord(type, number) == word) return number;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": \"", given, "\" is not one of ",
                   absl::StrJoin(words, ", "), DidYouMean(given, words)));
}

std::string JsonQuote(absl::string_view s) {
  std::string out;
  AppendString(s, &out);
  return out;
}

std::string MessageJson(const google::protobuf::Message& message) {
  std::string out;
  AppendMessage(message, &out);
  return out;
}

}  // namespace attribution::cli

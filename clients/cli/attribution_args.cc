#include "clients/cli/attribution_args.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "clients/cli/vocabulary.h"

namespace attribution::cli {
namespace {

absl::Status Bad(absl::string_view flag, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", reason));
}

}  // namespace

std::vector<std::string> SplitList(absl::string_view list) {
  std::vector<std::string> out;
  for (absl::string_view item : absl::StrSplit(list, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

absl::StatusOr<v1::GroupBy> ParseGroupBy(absl::string_view value) {
  const std::string v = NormaliseName(value);
  if (v.empty() || v == "channel") return v1::GROUP_BY_CHANNEL;
  if (v == "campaign" || v == "channel_campaign") {
    return v1::GROUP_BY_CHANNEL_CAMPAIGN;
  }
  if (v == "group" || v == "channel_group") return v1::GROUP_BY_CHANNEL_GROUP;
  return Bad("group_by",
             absl::StrCat("\"", value, "\" is not channel, campaign or group",
                          DidYouMean(value, {"channel", "campaign", "group"})));
}

absl::StatusOr<google::protobuf::Timestamp> ParseWhen(absl::string_view flag,
                                                      absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, value, &t, &err) &&
      !absl::ParseTime("%Y-%m-%d", value, absl::UTCTimeZone(), &t, &err)) {
    return Bad(flag, absl::StrCat("\"", value,
                                  "\" is not a date (2026-03-01) or RFC 3339 "
                                  "time"));
  }
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

absl::StatusOr<google::protobuf::Duration> ParseDurationFlag(
    absl::string_view flag, absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  absl::Duration d;
  int64_t days;
  if (absl::EndsWith(value, "d") &&
      absl::SimpleAtoi(value.substr(0, value.size() - 1), &days)) {
    d = absl::Hours(24 * days);
  } else if (!absl::ParseDuration(value, &d)) {
    return Bad(flag, absl::StrCat("\"", value,
                                  "\" is not a duration such as 30d or 12h"));
  }
  google::protobuf::Duration out;
  out.set_seconds(absl::ToInt64Seconds(d));
  return out;
}

std::string ModelName(const v1::ModelSpec& spec) {
  std::string name = absl::AsciiStrToLower(
      absl::string_view(v1::Model_Name(spec.model())).substr(6));  // MODEL_
  if (spec.model() == v1::MODEL_MARKOV) {
    absl::StrAppend(&name, ":", spec.order());
  } else if (spec.model() == v1::MODEL_POSITION_BASED) {
    absl::StrAppend(&name, ":", spec.first_weight(), ":", spec.last_weight());
  } else if (spec.model() == v1::MODEL_TIME_DECAY ||
             (spec.model() == v1::MODEL_INCREMENTAL && spec.has_half_life())) {
    absl::StrAppend(
        &name, ":",
        absl::FormatDuration(absl::Seconds(spec.half_life().seconds())));
  }
  return name;
}

absl::StatusOr<v1::ModelSpec> ParseModelFlag(absl::string_view m) {
  std::vector<std::string> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(m), ':');
  v1::ModelSpec out;
  v1::ModelSpec* spec = &out;
  absl::StatusOr<int> number =
      ParseEnumWord(v1::Model_descriptor(), "model", parts[0]);
  if (!number.ok()) return number.status();
  const auto model = static_cast<v1::Model>(*number);
  spec->set_model(model);
  if (model == v1::MODEL_MARKOV && parts.size() > 1) {
    int order;
    if (!absl::SimpleAtoi(parts[1], &order)) {
      return Bad("model", "markov:ORDER takes a whole number");
    }
    spec->set_order(order);
  } else if (model == v1::MODEL_POSITION_BASED && parts.size() > 1) {
    double first, last;
    if (parts.size() != 3 || !absl::SimpleAtod(parts[1], &first) ||
        !absl::SimpleAtod(parts[2], &last)) {
      return Bad("model", "position_based:FIRST:LAST takes two numbers");
    }
    spec->set_first_weight(first);
    spec->set_last_weight(last);
  } else if ((model == v1::MODEL_TIME_DECAY ||
              model == v1::MODEL_INCREMENTAL) &&
             parts.size() > 1) {
    auto d = ParseDurationFlag("model", parts[1]);
    if (!d.ok()) return d.status();
    *spec->mutable_half_life() = *d;
  }
  return out;
}

absl::StatusOr<v1::AttributeRequest> BuildAttributeRequest(
    const AttributionArgs& args, bool models_required) {
  v1::AttributeRequest r;
  r.set_workspace(args.workspace);
  absl::StatusOr<int> goal =
      ParseEnumWord(v1::Goal_descriptor(), "goal", args.goal);
  if (!goal.ok()) return goal.status();
  r.set_goal(static_cast<v1::Goal>(*goal));
  if (args.from.empty() || args.to.empty()) {
    return Bad(args.from.empty() ? "start" : "end",
               "is required (a date, 2026-03-01, or an RFC 3339 time)");
  }
  auto from = ParseWhen("start", args.from);
  if (!from.ok()) return from.status();
  auto to = ParseWhen("end", args.to);
  if (!to.ok()) return to.status();
  *r.mutable_window_start() = *from;
  *r.mutable_window_end() = *to;
  if (!args.lookback.empty()) {
    auto d = ParseDurationFlag("lookback", args.lookback);
    if (!d.ok()) return d.status();
    *r.mutable_lookback() = *d;
  }
  if (!args.horizon.empty()) {
    auto d = ParseDurationFlag("horizon", args.horizon);
    if (!d.ok()) return d.status();
    *r.mutable_retention_horizon() = *d;
  }
  absl::StatusOr<v1::GroupBy> group_by = ParseGroupBy(args.group_by);
  if (!group_by.ok()) return group_by.status();
  r.set_group_by(*group_by);
  r.set_honour_stages(args.honour_stages);
  if (args.intervals) {
    r.mutable_intervals()->set_level(args.level);
    r.mutable_intervals()->set_replicates(args.replicates);
  }
  for (const std::string& c : SplitList(args.include)) {
    r.add_include_channels(c);
  }
  for (const std::string& c : SplitList(args.exclude)) {
    r.add_exclude_channels(c);
  }
  for (const std::string& m : SplitList(args.models)) {
    absl::StatusOr<v1::ModelSpec> spec = ParseModelFlag(m);
    if (!spec.ok()) return spec.status();
    *r.add_models() = *std::move(spec);
  }
  if (models_required && r.models_size() == 0) {
    return Bad("model", "name at least one model");
  }
  return r;
}

}  // namespace attribution::cli

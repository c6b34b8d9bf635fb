#include "clients/cli/attribution_args.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace attribution::cli {
namespace {

absl::Status Bad(absl::string_view flag, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", reason));
}

}  // namespace

absl::StatusOr<google::protobuf::Timestamp> ParseWhen(absl::string_view flag,
                                                      absl::string_view value) {
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
  std::vector<std::string> parts = absl::StrSplit(m, ':');
  v1::ModelSpec out;
  v1::ModelSpec* spec = &out;
  v1::Model model;
  if (!v1::Model_Parse(absl::StrCat("MODEL_", absl::AsciiStrToUpper(parts[0])),
                       &model) ||
      model == v1::MODEL_UNSPECIFIED) {
    return Bad("model", absl::StrCat("\"", parts[0],
                                     "\" is not first_touch, last_touch, "
                                     "last_non_direct, linear, "
                                     "position_based, time_decay, markov, "
                                     "shapley or incremental"));
  }
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
  v1::Goal goal;
  if (!v1::Goal_Parse(absl::StrCat("GOAL_", absl::AsciiStrToUpper(args.goal)),
                      &goal) ||
      goal == v1::GOAL_UNSPECIFIED) {
    return Bad("goal", "must be acquisition, repeat_purchase or retention");
  }
  r.set_goal(goal);
  if (args.from.empty() || args.to.empty()) {
    return Bad(args.from.empty() ? "from" : "to", "is required");
  }
  auto from = ParseWhen("from", args.from);
  if (!from.ok()) return from.status();
  auto to = ParseWhen("to", args.to);
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
  if (args.group_by == "campaign") {
    r.set_group_by(v1::GROUP_BY_CHANNEL_CAMPAIGN);
  } else if (args.group_by.empty() || args.group_by == "channel") {
    r.set_group_by(v1::GROUP_BY_CHANNEL);
  } else {
    return Bad("group_by", "must be channel or campaign");
  }
  r.set_honour_stages(args.honour_stages);
  if (args.intervals) {
    r.mutable_intervals()->set_level(args.level);
    r.mutable_intervals()->set_replicates(args.replicates);
  }
  for (absl::string_view c :
       absl::StrSplit(args.include, ',', absl::SkipEmpty())) {
    r.add_include_channels(std::string(c));
  }
  for (absl::string_view c :
       absl::StrSplit(args.exclude, ',', absl::SkipEmpty())) {
    r.add_exclude_channels(std::string(c));
  }
  for (absl::string_view m :
       absl::StrSplit(args.models, ',', absl::SkipEmpty())) {
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

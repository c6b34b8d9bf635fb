#include "service/api/attribute_request.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "service/api/event_conversion.h"
#include "service/core/limits.h"
#include "service/core/status_macros.h"

namespace attribution::api {
namespace {

constexpr int64_t kSecondUs = 1'000'000;
constexpr int64_t kDayUs = 86400 * kSecondUs;
constexpr int64_t kMaxSpanUs = 3650 * kDayUs;
constexpr int kMaxModels = 16;

absl::Status Bad(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", reason));
}

}  // namespace

absl::Status ParseIntervals(const v1::IntervalOptions& in,
                            absl::string_view field,
                            v1::IntervalOptions* applied,
                            BootstrapOptions* out) {
  *out = BootstrapOptions();
  const double level = in.level();
  if (level != 0) {
    if (!(level > 0 && level < 1)) {
      return Bad(absl::StrCat(field, ".level"),
                 "must be between 0 and 1 (e.g. 0.95)");
    }
    out->level = level;
  }
  const int reps = in.replicates();
  if (reps != 0) {
    if (reps < 10 || reps > 2000) {
      return Bad(absl::StrCat(field, ".replicates"), "must be 10 to 2000");
    }
    out->replicates = reps;
  }
  applied->set_level(out->level);
  applied->set_replicates(out->replicates);
  return absl::OkStatus();
}

absl::Status DurationUs(const google::protobuf::Duration& d,
                        absl::string_view field, int64_t min_us, int64_t max_us,
                        int64_t* out) {
  if (d.seconds() < 0 || d.nanos() < 0 || d.nanos() > 999'999'999 ||
      d.seconds() > max_us / kSecondUs) {
    return Bad(field, "out of range");
  }
  *out = d.seconds() * kSecondUs + d.nanos() / 1000;
  if (*out < min_us || *out > max_us) {
    if (min_us > 0 && min_us < kSecondUs) {
      return Bad(field, absl::StrCat("must be more than 0 s and at most ",
                                     max_us / kDayUs, " days"));
    }
    return Bad(field, absl::StrCat("must be ", min_us / kSecondUs, " s to ",
                                   max_us / kDayUs, " days"));
  }
  return absl::OkStatus();
}

void SetDuration(int64_t us, google::protobuf::Duration* d) {
  d->set_seconds(us / kSecondUs);
  d->set_nanos(static_cast<int32_t>(us % kSecondUs) * 1000);
}

int64_t TimeUs(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * kSecondUs + ts.nanos() / 1000;
}

absl::Status ParseModel(const v1::ModelSpec& in, const std::string& field,
                        ModelParams* out, v1::ModelSpec* applied) {
  *applied = in;
  switch (in.model()) {
    case v1::MODEL_FIRST_TOUCH:
      out->kind = ModelKind::kFirstTouch;
      break;
    case v1::MODEL_LAST_TOUCH:
      out->kind = ModelKind::kLastTouch;
      break;
    case v1::MODEL_LAST_NON_DIRECT:
      out->kind = ModelKind::kLastNonDirect;
      break;
    case v1::MODEL_LINEAR:
      out->kind = ModelKind::kLinear;
      break;
    case v1::MODEL_POSITION_BASED: {
      out->kind = ModelKind::kPositionBased;
      if (in.has_first_weight()) out->first_weight = in.first_weight();
      if (in.has_last_weight()) out->last_weight = in.last_weight();
      const double f = out->first_weight, l = out->last_weight;
      if (!(f >= 0 && f <= 1))
        return Bad(field + ".first_weight", "must be 0 to 1");
      if (!(l >= 0 && l <= 1))
        return Bad(field + ".last_weight", "must be 0 to 1");
      if (f + l > 1 + 1e-12) {
        return Bad(field + ".last_weight",
                   "first_weight + last_weight must be <= 1");
      }
      applied->set_first_weight(f);
      applied->set_last_weight(l);
      break;
    }
    case v1::MODEL_TIME_DECAY:
      out->kind = ModelKind::kTimeDecay;
      if (in.has_half_life()) {
        RETURN_IF_ERROR(DurationUs(in.half_life(), field + ".half_life", 1,
                                   kMaxSpanUs, &out->half_life_us));
      }
      SetDuration(out->half_life_us, applied->mutable_half_life());
      break;
    case v1::MODEL_MARKOV:
      out->kind = ModelKind::kMarkov;
      if (in.has_order()) out->order = in.order();
      if (out->order < 1 || out->order > 4) {
        return Bad(field + ".order", "must be 1 to 4");
      }
      applied->set_order(out->order);
      break;
    case v1::MODEL_SHAPLEY:
      out->kind = ModelKind::kShapley;
      break;
    case v1::MODEL_INCREMENTAL:
      out->kind = ModelKind::kIncremental;
      if (in.has_half_life()) {
        RETURN_IF_ERROR(DurationUs(in.half_life(), field + ".half_life", 1,
                                   kMaxSpanUs, &out->incremental_half_life_us));
      }
      break;
    default:
      return Bad(field + ".model",
                 in.model() == 0 ? "is required (MODEL_UNSPECIFIED)"
                                 : absl::StrCat("unknown value ", in.model()));
  }
  // Parameters of other models are not echoed: they were not applied.
  if (out->kind != ModelKind::kPositionBased) {
    applied->clear_first_weight();
    applied->clear_last_weight();
  }
  if (out->kind != ModelKind::kTimeDecay &&
      !(out->kind == ModelKind::kIncremental && in.has_half_life())) {
    applied->clear_half_life();
  }
  if (out->kind != ModelKind::kMarkov) applied->clear_order();
  return absl::OkStatus();
}

// Defined after its caller, which only adds the field prefix.
absl::Status ParseSelection(const v1::AttributeRequest& in, absl::Time now,
                            bool models_optional, AttributeQuery* out,
                            v1::AttributeRequest* applied);

absl::Status ParseAttributeRequest(const v1::AttributeRequest& in,
                                   absl::Time now, AttributeQuery* out,
                                   v1::AttributeRequest* applied,
                                   absl::string_view field_prefix,
                                   bool models_optional) {
  absl::Status s = ParseSelection(in, now, models_optional, out, applied);
  if (s.ok() || field_prefix.empty()) return s;
  return absl::InvalidArgumentError(absl::StrCat(field_prefix, s.message()));
}

absl::Status ParseSelection(const v1::AttributeRequest& in, absl::Time now,
                            bool models_optional, AttributeQuery* out,
                            v1::AttributeRequest* applied) {
  *applied = in;
  RETURN_IF_ERROR(ValidateWorkspace(in.workspace()));
  PathQuery& q = out->paths;
  switch (in.goal()) {
    case v1::GOAL_ACQUISITION:
      q.goal = Goal::kAcquisition;
      break;
    case v1::GOAL_REPEAT_PURCHASE:
      q.goal = Goal::kRepeatPurchase;
      break;
    case v1::GOAL_RETENTION:
      q.goal = Goal::kRetention;
      break;
    default:
      return Bad("goal", in.goal() == 0
                             ? "is required (GOAL_UNSPECIFIED)"
                             : absl::StrCat("unknown value ", in.goal()));
  }
  if (!in.has_window_start()) return Bad("window_start", "is required");
  if (!in.has_window_end()) return Bad("window_end", "is required");
  for (const auto* ts : {&in.window_start(), &in.window_end()}) {
    if (ts->nanos() < 0 || ts->nanos() > 999'999'999 ||
        ts->seconds() < kMinOccurredAtUs / kSecondUs ||
        ts->seconds() > 4'102'444'800) {  // 2100-01-01
      return Bad(ts == &in.window_start() ? "window_start" : "window_end",
                 "must be between 2000-01-01 and 2100-01-01");
    }
  }
  q.start_us = TimeUs(in.window_start());
  q.end_us = TimeUs(in.window_end());
  if (q.start_us >= q.end_us) {
    return Bad("window_end", "must be after window_start");
  }
  q.lookback_us = (q.goal == Goal::kAcquisition ? 30 : 90) * kDayUs;
  if (in.has_lookback()) {
    RETURN_IF_ERROR(DurationUs(in.lookback(), "lookback", kSecondUs, kMaxSpanUs,
                               &q.lookback_us));
  }
  SetDuration(q.lookback_us, applied->mutable_lookback());
  q.horizon_us = 90 * kDayUs;
  if (in.has_retention_horizon()) {
    RETURN_IF_ERROR(DurationUs(in.retention_horizon(), "retention_horizon",
                               kDayUs, kMaxSpanUs, &q.horizon_us));
  }
  if (q.goal == Goal::kRetention) {
    SetDuration(q.horizon_us, applied->mutable_retention_horizon());
  } else {
    applied->clear_retention_horizon();
  }
  q.now_us = absl::ToUnixMicros(now);
  q.honour_stages = in.honour_stages();
  switch (in.group_by()) {
    case v1::GROUP_BY_UNSPECIFIED:
    case v1::GROUP_BY_CHANNEL:
      q.by_campaign = false;
      applied->set_group_by(v1::GROUP_BY_CHANNEL);
      break;
    case v1::GROUP_BY_CHANNEL_CAMPAIGN:
      q.by_campaign = true;
      break;
    case v1::GROUP_BY_CHANNEL_GROUP:
      out->by_channel_group = true;
      break;
    default:
      return Bad("group_by", absl::StrCat("unknown value ", in.group_by()));
  }
  for (int i = 0; i < in.include_channels_size(); ++i) {
    const char* reason = CheckChannel(in.include_channels(i));
    if (*reason) return Bad(absl::StrCat("include_channels[", i, "]"), reason);
    out->include_channels.push_back(in.include_channels(i));
  }
  for (int i = 0; i < in.exclude_channels_size(); ++i) {
    const char* reason = CheckChannel(in.exclude_channels(i));
    if (*reason) return Bad(absl::StrCat("exclude_channels[", i, "]"), reason);
    out->exclude_channels.push_back(in.exclude_channels(i));
  }
  if (in.models_size() == 0 && !models_optional) {
    return Bad("models", "at least one is required");
  }
  if (in.models_size() > kMaxModels) {
    return Bad("models", absl::StrCat("at most ", kMaxModels));
  }
  for (int i = 0; i < in.models_size(); ++i) {
    ModelParams& m = out->models.emplace_back();
    RETURN_IF_ERROR(ParseModel(in.models(i), absl::StrCat("models[", i, "]"),
                               &m, applied->mutable_models(i)));
  }
  if (in.has_intervals()) {
    RETURN_IF_ERROR(ParseIntervals(in.intervals(), "intervals",
                                   applied->mutable_intervals(),
                                   &out->intervals.emplace()));
  }
  return absl::OkStatus();
}

std::vector<std::string> UnknownChannels(const IndexSnapshot* index,
                                         const AttributeQuery& query) {
  std::vector<std::string> out;
  for (const auto* list : {&query.include_channels, &query.exclude_channels}) {
    for (const std::string& c : *list) {
      if ((index == nullptr || index->ChannelId(c) < 0) &&
          std::find(out.begin(), out.end(), c) == out.end()) {
        out.push_back(c);
      }
    }
  }
  return out;
}

std::vector<bool> ChannelFilter(const IndexSnapshot& index,
                                const AttributeQuery& query) {
  if (query.include_channels.empty() && query.exclude_channels.empty()) {
    return {};
  }
  std::vector<bool> allowed(index.channels().size(),
                            query.include_channels.empty());
  for (const std::string& c : query.include_channels) {
    if (int id = index.ChannelId(c); id >= 0) allowed[id] = true;
  }
  for (const std::string& c : query.exclude_channels) {
    if (int id = index.ChannelId(c); id >= 0) allowed[id] = false;
  }
  return allowed;
}

}  // namespace attribution::api

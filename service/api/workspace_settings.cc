#include "service/api/workspace_settings.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "service/api/attribute_request.h"
#include "service/core/limits.h"
#include "service/core/spend.h"
#include "service/core/status_macros.h"

namespace attribution::api {
namespace {

constexpr int kMaxLapseDays = 3650;

constexpr char kSettingsName[] = "settings";
constexpr int64_t kSecondUs = 1'000'000;

absl::Status Bad(absl::string_view field, absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("settings.", field, ": ", reason));
}

}  // namespace

absl::StatusOr<v1::WorkspaceSettings> ApplySettingsDefaults(
    const v1::WorkspaceSettings& in) {
  v1::WorkspaceSettings out = in;
  if (!in.reporting_currency().empty() &&
      !IsKnownCurrency(in.reporting_currency())) {
    return Bad("reporting_currency",
               absl::StrCat("unknown ISO 4217 code \"", in.reporting_currency(),
                            "\""));
  }
  if (in.has_gross_margin()) {
    if (!(in.gross_margin() >= 0 && in.gross_margin() <= 1)) {
      return Bad("gross_margin", "must be 0 to 1");
    }
  } else {
    out.set_gross_margin(1.0);
  }
  ModelParams unused;
  v1::ModelSpec model = in.model();
  if (model.model() == v1::MODEL_UNSPECIFIED) model.set_model(v1::MODEL_LINEAR);
  RETURN_IF_ERROR(
      ParseModel(model, "settings.model", &unused, out.mutable_model()));
  int64_t us = 30 * kDayUs;
  if (in.has_lookback()) {
    RETURN_IF_ERROR(DurationUs(in.lookback(), "settings.lookback", kSecondUs,
                               3650 * kDayUs, &us));
  }
  SetDuration(us, out.mutable_lookback());
  us = 90 * kDayUs;
  if (in.has_retention_horizon()) {
    RETURN_IF_ERROR(DurationUs(in.retention_horizon(),
                               "settings.retention_horizon", kSecondUs,
                               3650 * kDayUs, &us));
  }
  SetDuration(us, out.mutable_retention_horizon());
  if (in.has_lapse_days() &&
      (in.lapse_days() < 1 || in.lapse_days() > kMaxLapseDays)) {
    return Bad("lapse_days", absl::StrCat("must be 1 to ", kMaxLapseDays,
                                          " days (unset: no lapse rule)"));
  }
  return out;
}

absl::StatusOr<v1::WorkspaceSettings> WorkspaceSettingsStore::Get(
    absl::string_view workspace) {
  {
    absl::MutexLock lock(&mu_);
    if (auto it = cache_.find(workspace); it != cache_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(auto stored, store_.ReadMeta(workspace, kSettingsName));
  v1::WorkspaceSettings settings;
  for (const auto& [name, value] : stored) {
    if (name == kSettingsName && !settings.ParseFromString(value)) {
      return absl::DataLossError("corrupt stored workspace settings");
    }
  }
  settings.set_workspace(std::string(workspace));
  ASSIGN_OR_RETURN(settings, ApplySettingsDefaults(settings));
  absl::MutexLock lock(&mu_);
  cache_[workspace] = settings;
  return settings;
}

absl::Status WorkspaceSettingsStore::Put(
    const v1::WorkspaceSettings& settings) {
  // Under the lock, so that the cache never holds older settings than the
  // store.
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(store_.PutMeta(settings.workspace(), kSettingsName,
                                 settings.SerializeAsString()));
  cache_[settings.workspace()] = settings;
  return absl::OkStatus();
}

}  // namespace attribution::api

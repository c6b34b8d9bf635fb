// Workspace settings (reporting currency, gross margin, report defaults),
// stored as store metadata and cached. Shared by both services: ingest
// checks the reporting currency, reports read the rest.
#ifndef ATTRIBUTION_SERVICE_API_WORKSPACE_SETTINGS_H_
#define ATTRIBUTION_SERVICE_API_WORKSPACE_SETTINGS_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "attribution/v1/report_service.pb.h"
#include "storage/event_store.h"

namespace attribution::api {

// Validates `in` (InvalidArgument naming "settings.<field>") and returns it
// with defaults filled in.
absl::StatusOr<v1::WorkspaceSettings> ApplySettingsDefaults(
    const v1::WorkspaceSettings& in);

class WorkspaceSettingsStore {
 public:
  explicit WorkspaceSettingsStore(EventStore& store) : store_(store) {}

  // The workspace's settings, defaults filled in.
  absl::StatusOr<v1::WorkspaceSettings> Get(absl::string_view workspace);
  // Stores settings already validated by ApplySettingsDefaults.
  absl::Status Put(const v1::WorkspaceSettings& settings);

 private:
  EventStore& store_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, v1::WorkspaceSettings> cache_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_WORKSPACE_SETTINGS_H_

// API keys: who may do what in which workspace.
//
// Key file: one key per line, `#` starts a comment:
//   sha256:<64 hex digits>  <workspaces>  <roles>
// <workspaces> is a comma-separated list or `*` (every workspace, and
// server-wide operations such as backups); <roles> is a comma-separated list
// of reader (journeys, attribution, reports), writer (ingest) and admin
// (erasure, backups; implies reader and writer). Keys are stored as SHA-256
// hashes only: `attributionctl new-key` makes a key and its line.
#ifndef ATTRIBUTION_SERVICE_API_API_KEYS_H_
#define ATTRIBUTION_SERVICE_API_API_KEYS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace attribution::api {

enum class Role { kReader, kWriter, kAdmin };

class KeyRing {
 public:
  // Parses a key file's text. InvalidArgument naming the line on an error.
  static absl::StatusOr<KeyRing> Parse(absl::string_view text);

  // OK if `authorization` (the metadata value, "Bearer KEY") names a key
  // that may act as `role` in `workspace` ("*": server-wide).
  // Unauthenticated for a missing or unknown key; PermissionDenied
  // otherwise, with a message that does not tell whether the workspace
  // exists. Every stored hash is compared, in constant time.
  absl::Status Check(absl::string_view authorization,
                     absl::string_view workspace, Role role) const;

  // Unauthenticated unless `authorization` names a known key.
  absl::Status Authenticate(absl::string_view authorization) const;

  size_t size() const { return keys_.size(); }

  // A short, stable name of the key `authorization` presents, for logs and
  // per-key limits: "key:" and the first 12 hex digits of its SHA-256 (the
  // key file's hash, so an operator can find the line). "" if no key is
  // presented. Never the key itself.
  static std::string KeyId(absl::string_view authorization);

 private:
  struct Key {
    std::array<uint8_t, 32> hash;
    std::vector<std::string> workspaces;  // Empty: every workspace.
    bool reader = false, writer = false, admin = false;
  };
  // The key the value names, or null.
  const Key* Find(absl::string_view authorization) const;

  std::vector<Key> keys_;
};

// "sha256:<hex>" of a key, as the key file holds it.
std::string HashKeyForFile(absl::string_view key);

}  // namespace attribution::api

#endif  // ATTRIBUTION_SERVICE_API_API_KEYS_H_

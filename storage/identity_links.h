// A workspace's identity links (see EventStore::LinkIdentities) as a forest:
// each identity points at the customer it is linked to, and the root of a
// tree is the customer whose journey holds every event of the tree.
#ifndef ATTRIBUTION_STORAGE_IDENTITY_LINKS_H_
#define ATTRIBUTION_STORAGE_IDENTITY_LINKS_H_

#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace attribution {

class LinkTable {
 public:
  bool empty() const { return parent_.empty(); }
  size_t size() const { return parent_.size(); }
  // The customer `id` is linked to directly; null if none.
  const std::string* ParentOf(absl::string_view id) const;
  // Whether `id` is linked or has identities linked to it.
  bool InAGroup(absl::string_view id) const;
  // The end of `id`'s chain of links (`id` itself if it has no link).
  std::string RootOf(absl::string_view id) const;
  // Whether `ancestor` is on `id`'s chain, `id` included.
  bool Reaches(absl::string_view id, absl::string_view ancestor) const;
  // Every identity linked to `id`, directly or through others, by id.
  std::vector<std::string> MembersOf(absl::string_view id) const;
  // The roots of every tree, by id.
  std::vector<std::string> Roots() const;
  // Links `id` to `parent`, replacing its link if any. No cycle check.
  void Set(const std::string& id, const std::string& parent);
  // Removes `id`'s link, if any.
  void Remove(absl::string_view id);

 private:
  absl::flat_hash_map<std::string, std::string> parent_;
  absl::flat_hash_map<std::string, absl::btree_set<std::string>> children_;
};

}  // namespace attribution

#endif  // ATTRIBUTION_STORAGE_IDENTITY_LINKS_H_

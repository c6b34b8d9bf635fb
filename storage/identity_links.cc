#include "storage/identity_links.h"

#include <algorithm>

namespace attribution {

const std::string* LinkTable::ParentOf(absl::string_view id) const {
  auto it = parent_.find(id);
  return it == parent_.end() ? nullptr : &it->second;
}

bool LinkTable::InAGroup(absl::string_view id) const {
  return parent_.contains(id) || children_.contains(id);
}

std::string LinkTable::RootOf(absl::string_view id) const {
  std::string at(id);
  // Cycles are refused when links are made, so the chain ends.
  while (const std::string* p = ParentOf(at)) at = *p;
  return at;
}

bool LinkTable::Reaches(absl::string_view id,
                        absl::string_view ancestor) const {
  std::string at(id);
  while (true) {
    if (at == ancestor) return true;
    const std::string* p = ParentOf(at);
    if (p == nullptr) return false;
    at = *p;
  }
}

std::vector<std::string> LinkTable::MembersOf(absl::string_view id) const {
  std::vector<std::string> out;
  std::vector<std::string> stack{std::string(id)};
  while (!stack.empty()) {
    const std::string at = std::move(stack.back());
    stack.pop_back();
    auto it = children_.find(at);
    if (it == children_.end()) continue;
    for (const std::string& c : it->second) {
      out.push_back(c);
      stack.push_back(c);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> LinkTable::Roots() const {
  std::vector<std::string> out;
  for (const auto& [id, children] : children_) {
    if (!parent_.contains(id)) out.push_back(id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void LinkTable::Set(const std::string& id, const std::string& parent) {
  Remove(id);
  parent_[id] = parent;
  children_[parent].insert(id);
}

void LinkTable::Remove(absl::string_view id) {
  auto it = parent_.find(id);
  if (it == parent_.end()) return;
  auto c = children_.find(it->second);
  if (c != children_.end()) {
    c->second.erase(std::string(id));
    if (c->second.empty()) children_.erase(c);
  }
  parent_.erase(it);
}

}  // namespace attribution

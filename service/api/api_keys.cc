#include "service/api/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace attribution::api {
namespace {

std::array<uint8_t, 32> Sha256(absl::string_view data) {
  std::array<uint8_t, 32> out;
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         out.data());
  return out;
}

}  // namespace

std::string HashKeyForFile(absl::string_view key) {
  const std::array<uint8_t, 32> h = Sha256(key);
  return absl::StrCat("sha256:",
                      absl::BytesToHexString(absl::string_view(
                          reinterpret_cast<const char*>(h.data()), h.size())));
}

absl::StatusOr<KeyRing> KeyRing::Parse(absl::string_view text) {
  KeyRing ring;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    const std::vector<absl::string_view> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("key file line ", line_no, ": ", why));
    };
    if (f.size() != 3) return bad("want: sha256:<hex> <workspaces|*> <roles>");
    absl::string_view hex = f[0];
    if (!absl::ConsumePrefix(&hex, "sha256:") || hex.size() != 64 ||
        !std::all_of(hex.begin(), hex.end(), absl::ascii_isxdigit)) {
      return bad("the key must be sha256: and 64 hex digits");
    }
    Key key;
    const std::string bytes = absl::HexStringToBytes(hex);
    std::copy(bytes.begin(), bytes.end(), key.hash.begin());
    if (f[1] != "*") {
      for (absl::string_view w : absl::StrSplit(f[1], ',', absl::SkipEmpty())) {
        key.workspaces.emplace_back(w);
      }
      if (key.workspaces.empty()) return bad("no workspace");
    }
    for (absl::string_view r : absl::StrSplit(f[2], ',', absl::SkipEmpty())) {
      if (r == "reader") {
        key.reader = true;
      } else if (r == "writer") {
        key.writer = true;
      } else if (r == "admin") {
        key.admin = true;
      } else {
        return bad(
            absl::StrCat("unknown role \"", r, "\" (reader, writer, admin)"));
      }
    }
    ring.keys_.push_back(std::move(key));
  }
  return ring;
}

const KeyRing::Key* KeyRing::Find(absl::string_view authorization) const {
  absl::string_view presented = authorization;
  if (!absl::ConsumePrefix(&presented, "Bearer ") || presented.empty()) {
    return nullptr;
  }
  const std::array<uint8_t, 32> hash = Sha256(presented);
  const Key* found = nullptr;
  // Every entry is compared, in constant time, whatever matches.
  for (const Key& k : keys_) {
    if (CRYPTO_memcmp(k.hash.data(), hash.data(), hash.size()) == 0) {
      found = &k;
    }
  }
  return found;
}

std::string KeyRing::KeyId(absl::string_view authorization) {
  absl::string_view presented = authorization;
  if (!absl::ConsumePrefix(&presented, "Bearer ") || presented.empty()) {
    return "";
  }
  const std::array<uint8_t, 32> hash = Sha256(presented);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "key:";
  for (int i = 0; i < 6; ++i) {
    id.push_back(kHex[hash[i] >> 4]);
    id.push_back(kHex[hash[i] & 15]);
  }
  return id;
}

absl::Status KeyRing::Authenticate(absl::string_view authorization) const {
  if (Find(authorization) == nullptr) {
    return absl::UnauthenticatedError(
        "missing or unknown API key: send `authorization: Bearer KEY`");
  }
  return absl::OkStatus();
}

absl::Status KeyRing::Check(absl::string_view authorization,
                            absl::string_view workspace, Role role) const {
  const Key* key = Find(authorization);
  if (key == nullptr) {
    return absl::UnauthenticatedError(
        "missing or unknown API key: send `authorization: Bearer KEY`");
  }
  const bool role_ok = key->admin || (role == Role::kReader && key->reader) ||
                       (role == Role::kWriter && key->writer);
  const bool workspace_ok =
      key->workspaces.empty() ||
      (workspace != "*" &&
       std::find(key->workspaces.begin(), key->workspaces.end(), workspace) !=
           key->workspaces.end());
  if (!role_ok || !workspace_ok) {
    static constexpr const char* kNames[] = {"read", "write", "administer"};
    return absl::PermissionDeniedError(
        absl::StrCat("this API key may not ", kNames[static_cast<int>(role)],
                     " workspace \"", workspace, "\""));
  }
  return absl::OkStatus();
}

}  // namespace attribution::api

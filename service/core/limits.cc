#include "service/core/limits.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace attribution {
namespace {

// True if `s` is well-formed UTF-8 and, unless `controls_ok`, holds no C0
// or C1 control characters.
bool CheckUtf8(absl::string_view s, bool controls_ok) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (!controls_ok && (c < 0x20 || c == 0x7f)) return false;
      ++i;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates, out of range, C1 controls.
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
        (!controls_ok && cp >= 0x80 && cp <= 0x9f)) {
      return false;
    }
    i += len;
  }
  return true;
}

bool IsCleanUtf8(absl::string_view s) { return CheckUtf8(s, false); }

// Active ISO 4217 alphabetic codes, sorted. XXX (no currency) and XTS
// (testing) are left out on purpose.
constexpr absl::string_view kCurrencies[] = {
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM",
    "BBD", "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD",
    "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP",
    "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP",
    "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP",
    "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
    "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW",
    "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD",
    "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN",
    "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB",
    "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF",
    "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD",
    "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY",
    "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS",
    "VED", "VES", "VND", "VUV", "WST", "XAF", "XAG", "XAU", "XBA", "XBB", "XBC",
    "XBD", "XCD", "XCG", "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XUA", "YER",
    "ZAR", "ZMW",
};

StringLimits& MutableLimits() {
  static StringLimits limits;
  return limits;
}

// "longer than N bytes" for each limit, built when the limits are set so that
// the checks can return them without allocating.
struct TooLong {
  std::string id, workspace, channel, campaign;
};
TooLong& Messages() {
  static TooLong* messages = [] {
    auto* m = new TooLong;
    const StringLimits d;
    m->id = absl::StrCat("longer than ", d.id, " bytes");
    m->workspace = absl::StrCat("longer than ", d.workspace, " characters");
    m->channel = absl::StrCat("longer than ", d.channel, " characters");
    m->campaign = absl::StrCat("longer than ", d.campaign, " bytes");
    return m;
  }();
  return *messages;
}

}  // namespace

bool IsUtf8(absl::string_view s) { return CheckUtf8(s, true); }

const StringLimits& CurrentStringLimits() { return MutableLimits(); }

void SetStringLimits(const StringLimits& limits) {
  MutableLimits() = limits;
  TooLong& m = Messages();
  m.id = absl::StrCat("longer than ", limits.id, " bytes");
  m.workspace = absl::StrCat("longer than ", limits.workspace, " characters");
  m.channel = absl::StrCat("longer than ", limits.channel, " characters");
  m.campaign = absl::StrCat("longer than ", limits.campaign, " bytes");
}

const char* CheckId(absl::string_view s) {
  if (s.empty()) return "is required";
  if (s.size() > MutableLimits().id) return Messages().id.c_str();
  if (!IsCleanUtf8(s)) return "must be UTF-8 without control characters";
  return "";
}

const char* CheckWorkspace(absl::string_view s) {
  if (s.empty()) return "is required";
  if (s.size() > MutableLimits().workspace) return Messages().workspace.c_str();
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return "must be characters of [A-Za-z0-9_.-]";
  }
  return "";
}

const char* CheckChannel(absl::string_view s) {
  if (s.empty()) return "is required";
  if (s.size() > MutableLimits().channel) return Messages().channel.c_str();
  for (char c : s) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return "must be a lower-case slug of [a-z0-9_]";
  }
  return "";
}

const char* CheckCampaign(absl::string_view s) {
  if (s.size() > MutableLimits().campaign) return Messages().campaign.c_str();
  if (!IsCleanUtf8(s)) return "must be UTF-8 without control characters";
  return "";
}

bool IsKnownCurrency(absl::string_view code) {
  return std::binary_search(std::begin(kCurrencies), std::end(kCurrencies),
                            code);
}

}  // namespace attribution

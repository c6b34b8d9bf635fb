#include "storage/key_codec.h"

#include "absl/strings/str_cat.h"

namespace attribution::storage {
namespace {

constexpr char kValueVersion = 1;

void AppendEscaped(std::string* out, absl::string_view s) {
  for (char c : s) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  out->push_back('\0');
  out->push_back('\x01');
}

// Reads an escaped string from the front of `in`, advancing it.
bool ReadEscaped(absl::string_view* in, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < in->size()) {
    const char c = (*in)[i];
    if (c != '\0') {
      out->push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= in->size()) return false;
    const char next = (*in)[i + 1];
    if (next == '\xff') {
      out->push_back('\0');
      i += 2;
    } else if (next == '\x01') {
      in->remove_prefix(i + 2);
      return true;
    } else {
      return false;
    }
  }
  return false;
}

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(absl::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

void PutString(std::string* out, absl::string_view s) {
  PutVarint(out, s.size());
  out->append(s.data(), s.size());
}

bool GetString(absl::string_view* in, std::string* s) {
  uint64_t n;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  s->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("corrupt stored ", what));
}

}  // namespace

std::string WorkspacePrefix(absl::string_view workspace) {
  std::string key(1, kEventKeyTag);
  AppendEscaped(&key, workspace);
  return key;
}

std::string CustomerPrefix(absl::string_view workspace,
                           absl::string_view customer_id) {
  std::string key = WorkspacePrefix(workspace);
  AppendEscaped(&key, customer_id);
  return key;
}

void AppendTime(std::string* out, int64_t at_us) {
  const uint64_t u = static_cast<uint64_t>(at_us) ^ (uint64_t{1} << 63);
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((u >> shift) & 0xff));
  }
}

void EncodeEventKey(absl::string_view workspace, absl::string_view customer_id,
                    int64_t at_us, absl::string_view event_id,
                    std::string* out) {
  out->assign(1, kEventKeyTag);
  AppendEscaped(out, workspace);
  AppendEscaped(out, customer_id);
  AppendTime(out, at_us);
  out->append(event_id.data(), event_id.size());
}

std::string EventKey(absl::string_view workspace, absl::string_view customer_id,
                     int64_t at_us, absl::string_view event_id) {
  std::string key;
  EncodeEventKey(workspace, customer_id, at_us, event_id, &key);
  return key;
}

absl::Status DecodeEventKey(absl::string_view key, DecodedKey* out) {
  if (key.empty() || key.front() != kEventKeyTag) return Corrupt("key tag");
  key.remove_prefix(1);
  if (!ReadEscaped(&key, &out->workspace) ||
      !ReadEscaped(&key, &out->customer_id) || key.size() < 9) {
    return Corrupt("event key");
  }
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) {
    u = (u << 8) | static_cast<unsigned char>(key[i]);
  }
  out->at_us = static_cast<int64_t>(u ^ (uint64_t{1} << 63));
  out->event_id = std::string(key.substr(8));
  return absl::OkStatus();
}

void EncodeEventValue(const Event& event, std::string* out) {
  out->clear();
  out->push_back(kValueVersion);
  out->push_back(static_cast<char>(event.type));
  if (event.type == EventType::kTouchpoint) {
    PutString(out, event.channel);
    PutString(out, event.campaign);
    out->push_back(static_cast<char>(event.interaction));
    out->push_back(static_cast<char>(event.stage));
    out->push_back(static_cast<char>(event.sentiment));
  } else {
    out->push_back(static_cast<char>(event.kind));
    PutVarint(out, static_cast<uint64_t>(event.revenue_micros));
    PutString(out, event.currency);
  }
}

absl::Status DecodeEventValue(absl::string_view in, Event* event) {
  if (in.size() < 2 || in[0] != kValueVersion) return Corrupt("value version");
  const auto type = static_cast<unsigned char>(in[1]);
  in.remove_prefix(2);
  if (type == static_cast<unsigned char>(EventType::kTouchpoint)) {
    event->type = EventType::kTouchpoint;
    if (!GetString(&in, &event->channel) || !GetString(&in, &event->campaign) ||
        in.size() != 3) {
      return Corrupt("touchpoint");
    }
    const auto interaction = static_cast<unsigned char>(in[0]);
    const auto stage = static_cast<unsigned char>(in[1]);
    const auto sentiment = static_cast<unsigned char>(in[2]);
    if (interaction == 0 || interaction > kMaxInteraction ||
        stage > kMaxStage || sentiment > kMaxSentiment) {
      return Corrupt("touchpoint enum");
    }
    event->interaction = static_cast<Interaction>(interaction);
    event->stage = static_cast<Stage>(stage);
    event->sentiment = static_cast<Sentiment>(sentiment);
    return absl::OkStatus();
  }
  if (type == static_cast<unsigned char>(EventType::kConversion)) {
    event->type = EventType::kConversion;
    if (in.empty()) return Corrupt("conversion");
    const auto kind = static_cast<unsigned char>(in[0]);
    in.remove_prefix(1);
    uint64_t revenue;
    if (kind == 0 || kind > kMaxConversionKind || !GetVarint(&in, &revenue) ||
        revenue > static_cast<uint64_t>(INT64_MAX) ||
        !GetString(&in, &event->currency) || !in.empty()) {
      return Corrupt("conversion");
    }
    event->kind = static_cast<ConversionKind>(kind);
    event->revenue_micros = static_cast<int64_t>(revenue);
    return absl::OkStatus();
  }
  return Corrupt("event type");
}

namespace {

void AppendDay(std::string* out, int32_t day) {
  const uint32_t u = static_cast<uint32_t>(day) ^ (uint32_t{1} << 31);
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((u >> shift) & 0xff));
  }
}

uint64_t ReadBigEndian(absl::string_view in, int bytes) {
  uint64_t u = 0;
  for (int i = 0; i < bytes; ++i) {
    u = (u << 8) | static_cast<unsigned char>(in[i]);
  }
  return u;
}

std::string TaggedPrefix(char tag, absl::string_view workspace) {
  std::string key(1, tag);
  AppendEscaped(&key, workspace);
  return key;
}

}  // namespace

std::string SpendPrefix(absl::string_view workspace) {
  return TaggedPrefix(kSpendKeyTag, workspace);
}

std::string SpendDayKey(absl::string_view workspace, int32_t day) {
  std::string key = SpendPrefix(workspace);
  AppendDay(&key, day);
  return key;
}

std::string SpendKey(const SpendRow& row, absl::string_view workspace) {
  std::string key = SpendDayKey(workspace, row.day);
  AppendEscaped(&key, row.channel);
  AppendEscaped(&key, row.campaign);
  return key;
}

void EncodeSpendValue(const SpendRow& row, std::string* out) {
  out->clear();
  out->push_back(kValueVersion);
  const auto u = static_cast<uint64_t>(row.amount_micros);
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((u >> shift) & 0xff));
  }
  out->append(row.currency);
}

absl::Status DecodeSpend(absl::string_view key, absl::string_view value,
                         SpendRow* row) {
  std::string workspace;
  if (key.empty() || key.front() != kSpendKeyTag) return Corrupt("spend key");
  key.remove_prefix(1);
  if (!ReadEscaped(&key, &workspace) || key.size() < 4) {
    return Corrupt("spend key");
  }
  row->day = static_cast<int32_t>(static_cast<uint32_t>(ReadBigEndian(key, 4)) ^
                                  (uint32_t{1} << 31));
  key.remove_prefix(4);
  if (!ReadEscaped(&key, &row->channel) || !ReadEscaped(&key, &row->campaign) ||
      !key.empty()) {
    return Corrupt("spend key");
  }
  if (value.size() < 9 || value[0] != kValueVersion) {
    return Corrupt("spend value");
  }
  row->amount_micros = static_cast<int64_t>(ReadBigEndian(value.substr(1), 8));
  row->currency = std::string(value.substr(9));
  return absl::OkStatus();
}

std::string TaggedWorkspacePrefix(char tag, absl::string_view workspace) {
  return TaggedPrefix(tag, workspace);
}

bool DecodeWorkspace(absl::string_view key, std::string* workspace) {
  if (key.empty()) return false;
  key.remove_prefix(1);
  return ReadEscaped(&key, workspace);
}

std::string MetaPrefix(absl::string_view workspace) {
  return TaggedPrefix(kMetaKeyTag, workspace);
}

std::string LinkKey(absl::string_view workspace,
                    absl::string_view identity_id) {
  std::string key = TaggedPrefix(kLinkKeyTag, workspace);
  AppendEscaped(&key, identity_id);
  return key;
}

std::string EncodeLinkValue(absl::string_view customer_id) {
  std::string value(1, '\x01');
  value.append(customer_id.data(), customer_id.size());
  return value;
}

absl::Status DecodeLink(absl::string_view key, absl::string_view value,
                        std::string* workspace, std::string* identity_id,
                        std::string* customer_id) {
  if (key.empty() || key[0] != kLinkKeyTag) {
    return absl::DataLossError("not an identity link key");
  }
  key.remove_prefix(1);
  if (!ReadEscaped(&key, workspace) || !ReadEscaped(&key, identity_id) ||
      !key.empty()) {
    return absl::DataLossError("malformed identity link key");
  }
  if (value.empty() || value[0] != '\x01') {
    return absl::DataLossError("identity link value of an unknown version");
  }
  *customer_id = std::string(value.substr(1));
  return absl::OkStatus();
}

}  // namespace attribution::storage

#include "service/api/raw_calls.h"

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/support/slice.h"
#include "service/core/limits.h"

namespace attribution::api {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;

// Nested messages deeper than this are refused (protobuf's own default).
constexpr int kMaxDepth = 100;

absl::Status Bad(absl::string_view path, absl::string_view reason) {
  return absl::InvalidArgumentError(path.empty()
                                        ? absl::StrCat("request: ", reason)
                                        : absl::StrCat(path, ": ", reason));
}

// Does the 64-bit varint `v` survive as the field's 32-bit type?
bool FitsField(const FieldDescriptor& f, uint64_t v) {
  switch (f.type()) {
    case FieldDescriptor::TYPE_ENUM:
    case FieldDescriptor::TYPE_INT32: {
      // Negative int32 values are sign-extended to 64 bits on the wire.
      const auto s = static_cast<int64_t>(v);
      return s >= INT32_MIN && s <= INT32_MAX;
    }
    case FieldDescriptor::TYPE_UINT32:
      return v <= UINT32_MAX;
    default:
      return true;
  }
}

bool Checks32Bits(const FieldDescriptor& f) {
  return f.type() == FieldDescriptor::TYPE_ENUM ||
         f.type() == FieldDescriptor::TYPE_INT32 ||
         f.type() == FieldDescriptor::TYPE_UINT32;
}

class WireChecker {
 public:
  absl::Status Message(absl::string_view bytes, const Descriptor& d,
                       const std::string& path, int depth) {
    if (depth > kMaxDepth) return Bad(path, "messages nest too deeply");
    google::protobuf::io::CodedInputStream in(
        reinterpret_cast<const uint8_t*>(bytes.data()),
        static_cast<int>(bytes.size()));
    absl::flat_hash_map<int, int> oneof_member;  // oneof index -> field
    absl::flat_hash_map<int, int> occurrences;   // repeated field -> count
    while (true) {
      const uint32_t tag = in.ReadTag();
      if (tag == 0) {
        if (in.CurrentPosition() != static_cast<int>(bytes.size())) {
          return Bad(path,
                     absl::StrCat("malformed bytes at offset ",
                                  in.CurrentPosition(), " of ", d.full_name()));
        }
        return absl::OkStatus();
      }
      const int number =
          static_cast<int>(WireFormatLite::GetTagFieldNumber(tag));
      const auto wire = WireFormatLite::GetTagWireType(tag);
      const FieldDescriptor* f = d.FindFieldByNumber(number);
      if (f == nullptr || !WireTypeMatches(*f, wire)) {
        // Unknown (or of another wire type, which protobuf also keeps as
        // unknown): skipped, but it must still be well formed.
        if (!WireFormatLite::SkipField(&in, tag)) {
          return Bad(path, absl::StrCat("malformed bytes in field ", number,
                                        " of ", d.full_name()));
        }
        continue;
      }
      std::string field_path =
          path.empty() ? f->name() : absl::StrCat(path, ".", f->name());
      if (f->is_repeated()) {
        absl::StrAppend(&field_path, "[", occurrences[number]++, "]");
      }
      if (const auto* oneof = f->real_containing_oneof()) {
        auto [it, inserted] = oneof_member.try_emplace(oneof->index(), number);
        if (!inserted && it->second != number) {
          return Bad(
              path.empty() ? std::string(oneof->name())
                           : absl::StrCat(path, ".", oneof->name()),
              absl::StrCat("both ", d.FindFieldByNumber(it->second)->name(),
                           " and ", f->name(), " are set; a oneof takes one"));
        }
      }
      if (wire == WireFormatLite::WIRETYPE_VARINT) {
        uint64_t v = 0;
        if (!in.ReadVarint64(&v)) {
          return Bad(field_path, "malformed varint");
        }
        if (!FitsField(*f, v)) {
          return Bad(field_path,
                     absl::StrCat("value ", v, " does not fit a 32-bit ",
                                  f->type_name(), " field"));
        }
        continue;
      }
      if (wire != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
        if (!WireFormatLite::SkipField(&in, tag)) {
          return Bad(field_path, "malformed value");
        }
        continue;
      }
      uint32_t length = 0;
      if (!in.ReadVarint32(&length)) return Bad(field_path, "truncated value");
      const int at = in.CurrentPosition();
      if (!in.Skip(static_cast<int>(length))) {
        return Bad(field_path, "truncated value");
      }
      const absl::string_view value = bytes.substr(at, length);
      if (f->type() == FieldDescriptor::TYPE_MESSAGE) {
        if (absl::Status s =
                Message(value, *f->message_type(), field_path, depth + 1);
            !s.ok()) {
          return s;
        }
      } else if (f->type() == FieldDescriptor::TYPE_STRING) {
        if (!IsUtf8(value)) return Bad(field_path, "is not valid UTF-8");
      } else if (Checks32Bits(*f)) {  // Packed repeated 32-bit values.
        google::protobuf::io::CodedInputStream packed(
            reinterpret_cast<const uint8_t*>(value.data()),
            static_cast<int>(value.size()));
        while (packed.BytesUntilLimit() > 0 &&
               packed.CurrentPosition() < static_cast<int>(value.size())) {
          uint64_t v = 0;
          if (!packed.ReadVarint64(&v)) {
            return Bad(field_path, "malformed packed varint");
          }
          if (!FitsField(*f, v)) {
            return Bad(field_path,
                       absl::StrCat("value ", v, " does not fit a 32-bit ",
                                    f->type_name(), " field"));
          }
        }
      }
    }
  }

 private:
  static bool WireTypeMatches(const FieldDescriptor& f,
                              WireFormatLite::WireType wire) {
    const auto expected = WireFormatLite::WireTypeForFieldType(
        static_cast<WireFormatLite::FieldType>(f.type()));
    if (wire == expected) return true;
    // Repeated scalars may come packed.
    return f.is_repeated() && f.is_packable() &&
           wire == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
  }
};

}  // namespace

std::string BytesOf(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  size_t total = 0;
  for (const grpc::Slice& s : slices) total += s.size();
  out.reserve(total);
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

void ToByteBuffer(const google::protobuf::Message& message,
                  grpc::ByteBuffer* out) {
  std::string bytes = message.SerializeAsString();
  grpc::Slice slice(std::move(bytes));
  *out = grpc::ByteBuffer(&slice, 1);
}

absl::Status ParseStrict(absl::string_view bytes,
                         google::protobuf::Message* out) {
  const Descriptor& d = *out->GetDescriptor();
  WireChecker checker;
  if (absl::Status s = checker.Message(bytes, d, "", 0); !s.ok()) {
    // The field path leads, as in every validation message, so that
    // "events[3]...." names the event.
    return absl::InvalidArgumentError(absl::StrCat(
        s.message(), " (could not parse the request as ", d.full_name(), ")"));
  }
  if (!out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("could not parse the request as ", d.full_name()));
  }
  return absl::OkStatus();
}

int EventIndexOf(absl::string_view message) {
  if (!absl::ConsumePrefix(&message, "events[")) return -1;
  int index = 0;
  size_t i = 0;
  for (; i < message.size() && i < 9 && absl::ascii_isdigit(message[i]); ++i) {
    index = index * 10 + (message[i] - '0');
  }
  return i > 0 && i < message.size() && message[i] == ']' ? index : -1;
}

uint64_t TopLevelVarint(absl::string_view bytes, int field_number) {
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  uint64_t found = 0;
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return found;
    if (static_cast<int>(WireFormatLite::GetTagFieldNumber(tag)) ==
            field_number &&
        WireFormatLite::GetTagWireType(tag) ==
            WireFormatLite::WIRETYPE_VARINT) {
      if (!in.ReadVarint64(&found)) return found;
      continue;
    }
    if (!WireFormatLite::SkipField(&in, tag)) return found;
  }
}

}  // namespace attribution::api

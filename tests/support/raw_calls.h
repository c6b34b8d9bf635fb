// gRPC calls with hand-made bytes, for what a typed stub cannot send:
// garbage, truncated varints, two members of one oneof. Header-only; for
// tests.
#ifndef ATTRIBUTION_TESTS_SUPPORT_RAW_CALLS_H_
#define ATTRIBUTION_TESTS_SUPPORT_RAW_CALLS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace attribution::testing {

// Wire-format pieces: a varint field and a length-delimited one.
inline std::string WireVarint(int field, uint64_t value) {
  std::string out;
  auto put = [&out](uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  };
  put(static_cast<uint64_t>(field) << 3);
  put(value);
  return out;
}

inline std::string WireBytes(int field, const std::string& bytes) {
  std::string out = WireVarint(field, bytes.size());
  out[0] = static_cast<char>((field << 3) | 2);  // Fields < 16 only.
  return out + bytes;
}

inline grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

inline std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const auto& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

// One unary call of `method` ("/attribution.v1.AttributionService/X").
inline grpc::Status RawUnary(const std::string& address,
                             const std::string& method,
                             const std::string& request,
                             std::string* response = nullptr) {
  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  grpc::CompletionQueue cq;
  const grpc::ByteBuffer in = ToBuffer(request);
  auto call = stub.PrepareUnaryCall(&context, method, in, &cq);
  call->StartCall();
  grpc::ByteBuffer out;
  grpc::Status status;
  call->Finish(&out, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  cq.Next(&tag, &ok);
  if (response != nullptr) *response = FromBuffer(out);
  return status;
}

// A bidirectional stream of raw messages, driven one step at a time.
class RawStream {
 public:
  RawStream(const std::string& address, const std::string& method)
      : channel_(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
        stub_(channel_) {
    context_.set_deadline(std::chrono::system_clock::now() +
                          std::chrono::seconds(60));
    call_ = stub_.PrepareCall(&context_, method, &cq_);
    call_->StartCall(Tag());
    Wait();
  }
  ~RawStream() {
    context_.TryCancel();
    cq_.Shutdown();
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
    }
  }

  bool Write(const std::string& bytes) {
    const grpc::ByteBuffer b = ToBuffer(bytes);
    call_->Write(b, Tag());
    return Wait();
  }
  bool Read(std::string* bytes) {
    grpc::ByteBuffer b;
    call_->Read(&b, Tag());
    if (!Wait()) return false;
    *bytes = FromBuffer(b);
    return true;
  }
  grpc::Status CloseAndFinish() {
    call_->WritesDone(Tag());
    Wait();
    grpc::Status status;
    call_->Finish(&status, Tag());
    Wait();
    return status;
  }

 private:
  void* Tag() { return reinterpret_cast<void*>(++next_tag_); }
  bool Wait() {
    void* tag = nullptr;
    bool ok = false;
    cq_.Next(&tag, &ok);
    return ok;
  }

  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
  grpc::ClientContext context_;
  grpc::CompletionQueue cq_;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
  intptr_t next_tag_ = 0;
};

}  // namespace attribution::testing

#endif  // ATTRIBUTION_TESTS_SUPPORT_RAW_CALLS_H_

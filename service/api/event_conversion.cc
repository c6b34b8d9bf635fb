#include "service/api/event_conversion.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "service/core/limits.h"
#include "service/core/status_macros.h"

namespace attribution::api {
namespace {

// Field names in errors are built only when there is an error: valid events
// are the hot path.
absl::Status FieldError(absl::string_view prefix, absl::string_view field,
                        absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat(prefix, prefix.empty() ? "" : ".", field, ": ", reason));
}

absl::Status Check(const char* reason, absl::string_view prefix,
                   absl::string_view field) {
  if (*reason == '\0') return absl::OkStatus();
  return FieldError(prefix, field, reason);
}

// "events[3]" + ".touchpoint" etc., for messages.
struct Prefix {
  absl::string_view base;
  absl::string_view kind;
  std::string str() const { return absl::StrCat(base, kind); }
};

absl::Status Check(const char* reason, const Prefix& prefix,
                   absl::string_view field) {
  if (*reason == '\0') return absl::OkStatus();
  return FieldError(prefix.str(), field, reason);
}

absl::Status FieldError(const Prefix& prefix, absl::string_view field,
                        absl::string_view reason) {
  return FieldError(prefix.str(), field, reason);
}

absl::Status TimeFromProto(const google::protobuf::Timestamp& ts, bool present,
                           const Prefix& prefix, absl::Time now,
                           int64_t* at_us) {
  if (!present) return FieldError(prefix, "occurred_at", "is required");
  if (ts.nanos() < 0 || ts.nanos() > 999'999'999) {
    return FieldError(prefix, "occurred_at.nanos", "must be 0 to 999999999");
  }
  const int64_t max_us = absl::ToUnixMicros(now) + kMaxFutureSkewUs;
  // Compare seconds first so that absurd values cannot overflow.
  if (ts.seconds() < kMinOccurredAtUs / 1'000'000 ||
      ts.seconds() > max_us / 1'000'000) {
    return FieldError(
        prefix, "occurred_at",
        absl::StrFormat("%d s is outside the accepted range "
                        "[2000-01-01T00:00:00Z, server time + 24h]",
                        ts.seconds()));
  }
  *at_us = ts.seconds() * 1'000'000 + ts.nanos() / 1000;
  if (*at_us > max_us) {
    return FieldError(prefix, "occurred_at",
                      "is more than 24h after the server's time");
  }
  return absl::OkStatus();
}

// The fields touchpoints and conversions share: event_id, customer_id,
// occurred_at.
template <typename Message>
absl::Status CommonFromProto(const Message& m, const Prefix& p, absl::Time now,
                             Event* out) {
  RETURN_IF_ERROR(Check(CheckId(m.event_id()), p, "event_id"));
  RETURN_IF_ERROR(Check(CheckId(m.customer_id()), p, "customer_id"));
  RETURN_IF_ERROR(TimeFromProto(m.occurred_at(), m.has_occurred_at(), p, now,
                                &out->occurred_at_us));
  out->event_id = m.event_id();
  out->customer_id = m.customer_id();
  return absl::OkStatus();
}

}  // namespace

void TimeToProto(int64_t at_us, google::protobuf::Timestamp* ts) {
  // Floor division, so that times before the epoch keep nanos >= 0.
  int64_t seconds = at_us / 1'000'000;
  int64_t micros = at_us % 1'000'000;
  if (micros < 0) {
    --seconds;
    micros += 1'000'000;
  }
  ts->set_seconds(seconds);
  ts->set_nanos(static_cast<int32_t>(micros * 1000));
}

absl::Status ValidateWorkspace(absl::string_view workspace,
                               absl::string_view field) {
  return Check(CheckWorkspace(workspace), "", field);
}

absl::Status ValidateId(absl::string_view id, absl::string_view field) {
  return Check(CheckId(id), "", field);
}

absl::Status EventFromProto(const v1::Event& in, absl::string_view prefix,
                            absl::Time now, Event* out) {
  *out = Event{};
  if (in.has_touchpoint()) {
    const v1::Touchpoint& t = in.touchpoint();
    const Prefix p{prefix, ".touchpoint"};
    out->type = EventType::kTouchpoint;
    RETURN_IF_ERROR(CommonFromProto(t, p, now, out));
    if (auto s = Check(CheckChannel(t.channel()), p, "channel"); !s.ok()) {
      return s;
    }
    if (auto s = Check(CheckCampaign(t.campaign()), p, "campaign"); !s.ok()) {
      return s;
    }
    if (t.interaction() <= 0 || t.interaction() > kMaxInteraction) {
      return FieldError(p, "interaction",
                        t.interaction() == 0
                            ? "is required (INTERACTION_UNSPECIFIED)"
                            : absl::StrCat("unknown value ", t.interaction()));
    }
    if (t.stage() < 0 || t.stage() > kMaxStage) {
      return FieldError(p, "stage", absl::StrCat("unknown value ", t.stage()));
    }
    if (t.sentiment() < 0 || t.sentiment() > kMaxSentiment) {
      return FieldError(p, "sentiment",
                        absl::StrCat("unknown value ", t.sentiment()));
    }
    out->channel = t.channel();
    out->campaign = t.campaign();
    out->interaction = static_cast<Interaction>(t.interaction());
    out->stage = static_cast<Stage>(t.stage());
    out->sentiment = static_cast<Sentiment>(t.sentiment());
    return absl::OkStatus();
  }
  if (in.has_conversion()) {
    const v1::Conversion& c = in.conversion();
    const Prefix p{prefix, ".conversion"};
    out->type = EventType::kConversion;
    RETURN_IF_ERROR(CommonFromProto(c, p, now, out));
    if (c.kind() <= 0 || c.kind() > kMaxConversionKind) {
      return FieldError(p, "kind",
                        c.kind() == 0
                            ? "is required (CONVERSION_KIND_UNSPECIFIED)"
                            : absl::StrCat("unknown value ", c.kind()));
    }
    const bool purchase = c.kind() == v1::CONVERSION_KIND_PURCHASE;
    if (c.revenue_micros() < 0) {
      return FieldError(p, "revenue_micros", "must not be negative");
    }
    if (c.revenue_micros() > kMaxRevenueMicros) {
      return FieldError(p, "revenue_micros",
                        "exceeds 10^15 (one billion currency units)");
    }
    if (!purchase && c.revenue_micros() != 0) {
      return FieldError(p, "revenue_micros", "is only allowed on purchases");
    }
    if (!c.currency().empty()) {
      if (!purchase) {
        return FieldError(p, "currency", "is only allowed on purchases");
      }
      if (!IsKnownCurrency(c.currency())) {
        return FieldError(p, "currency",
                          absl::StrCat("unknown ISO 4217 code \"",
                                       absl::CHexEscape(c.currency()), "\""));
      }
    }
    out->kind = static_cast<ConversionKind>(c.kind());
    out->revenue_micros = c.revenue_micros();
    out->currency = c.currency();
    return absl::OkStatus();
  }
  return FieldError(prefix, "kind", "must hold a touchpoint or a conversion");
}

BatchError EventsFromProto(
    const google::protobuf::RepeatedPtrField<v1::Event>& in, absl::Time now,
    size_t max_events, std::vector<Event>* out) {
  if (in.empty()) {
    return {absl::InvalidArgumentError("events: must hold at least one event"),
            -1};
  }
  if (static_cast<size_t>(in.size()) > max_events) {
    return {absl::ResourceExhaustedError(absl::StrCat(
                "events: ", in.size(), " events exceed the batch limit of ",
                max_events, " (--max_batch_events)")),
            -1};
  }
  out->resize(in.size());
  for (int i = 0; i < in.size(); ++i) {
    absl::Status s = EventFromProto(in[i], "", now, &(*out)[i]);
    if (!s.ok()) {
      // Name the event: re-run the check with its index in the prefix.
      return {EventFromProto(in[i], absl::StrCat("events[", i, "]"), now,
                             &(*out)[i]),
              i};
    }
  }
  return {};
}

void EventToProto(const Event& in, v1::Event* out) {
  if (in.type == EventType::kTouchpoint) {
    v1::Touchpoint* t = out->mutable_touchpoint();
    t->set_event_id(in.event_id);
    t->set_customer_id(in.customer_id);
    TimeToProto(in.occurred_at_us, t->mutable_occurred_at());
    t->set_channel(in.channel);
    t->set_campaign(in.campaign);
    t->set_interaction(static_cast<v1::Interaction>(in.interaction));
    t->set_stage(static_cast<v1::Stage>(in.stage));
    t->set_sentiment(static_cast<v1::Sentiment>(in.sentiment));
  } else {
    v1::Conversion* c = out->mutable_conversion();
    c->set_event_id(in.event_id);
    c->set_customer_id(in.customer_id);
    TimeToProto(in.occurred_at_us, c->mutable_occurred_at());
    c->set_kind(static_cast<v1::ConversionKind>(in.kind));
    c->set_revenue_micros(in.revenue_micros);
    c->set_currency(in.currency);
  }
}

}  // namespace attribution::api

"""Client over the generated gRPC stubs: record, import and export events,
read a journey, erase a customer, attribute, report. Rows use the
interchange format of README.md ("Event files"): dicts keyed by event_id,
customer_id, occurred_at, type, channel, campaign, interaction, stage,
sentiment, conversion, revenue, currency.

Vocabulary: the names of rows and arguments are the proto's field names (as
the CLI's CSV columns), enum values are lower-case words ("up",
"first_touch", "on_track"; "" where unspecified), undefined figures are
None. Times and dates may be RFC 3339 strings, plain dates ("2026-03-01",
midnight UTC), datetime.date or datetime.datetime (naive ones are UTC).

Every call takes ``timeout=`` (seconds); without it the client's default
deadline applies (``Client(timeout=60.0)``; imports and exports have none by
default). A failed call raises an AttributionError subclass (InvalidArgument,
NotFound, PermissionDenied, Unauthenticated, Unavailable, ...) carrying the
server's message; they are grpc.RpcError too, with .code() and .details()."""
import csv
import dataclasses
import datetime
import decimal
import json
import os
import queue
import threading

import grpc
from google.protobuf import timestamp_pb2

from attribution_client import _wire
from attribution_client._wire import COLUMNS, REQUIRED_COLUMNS


from attribution.v1 import attribution_pb2 as apb
from attribution.v1 import attribution_service_pb2 as pb
from attribution.v1 import attribution_service_pb2_grpc as pb_grpc
from attribution.v1 import events_pb2 as events
from attribution.v1 import report_service_pb2 as rpb
from attribution.v1 import report_service_pb2_grpc as rpb_grpc



@dataclasses.dataclass
class RejectedRow:
    line: int
    reason: str


@dataclasses.dataclass
class ImportResult:
    rows: int = 0
    stored: int = 0
    # Already stored with the same content (retries).
    duplicates: int = 0
    # Already stored with other content: not stored, the first write wins.
    conflicts: int = 0
    conflict_event_ids: list = dataclasses.field(default_factory=list)
    rejected: list = dataclasses.field(default_factory=list)


class AttributionError(grpc.RpcError):
    """A call the server (or the transport) failed. ``code`` is the
    grpc.StatusCode, ``message`` the server's message (naming the field)."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code.name, message))
        self._code = code
        self.message = message

    def code(self):
        return self._code

    def details(self):
        return self.message

    @property
    def status_code(self):
        return self._code


class InvalidArgument(AttributionError):
    pass


class NotFound(AttributionError):
    pass


class PermissionDenied(AttributionError):
    pass


class Unauthenticated(AttributionError):
    pass


class Unavailable(AttributionError):
    pass


class FailedPrecondition(AttributionError):
    pass


class ResourceExhausted(AttributionError):
    pass


class AlreadyExists(AttributionError):
    pass


class DeadlineExceeded(AttributionError):
    pass


_ERRORS = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
}


def _typed(error):
    """A grpc.RpcError as the AttributionError of its code."""
    if isinstance(error, AttributionError):
        return error
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    return _ERRORS.get(code, AttributionError)(code, message or "")


class _Stub:
    """A generated stub whose calls carry the client's default deadline and
    raise typed errors."""

    def __init__(self, stub, client):
        self._stub = stub
        self._client = client

    def __getattr__(self, name):
        method = getattr(self._stub, name)

        def call(request, timeout=None, **kwargs):
            try:
                return method(request, timeout=self._client._deadline(timeout), **kwargs)
            except grpc.RpcError as e:
                raise _typed(e) from None
        return call


def _enum(enum_type, prefix, value, column):
    name = prefix + (value or "").strip().upper()
    try:
        number = enum_type.Value(name)
    except ValueError:
        number = 0
    if number == 0:
        raise ValueError("%s: %r is not a known value" % (column, value))
    return number


def _timestamp(value, field="occurred_at"):
    """A Timestamp from an RFC 3339 string, a plain date ("2026-03-01",
    midnight UTC), a datetime.date or a datetime.datetime (naive: UTC)."""
    if isinstance(value, datetime.datetime):
        t = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    elif isinstance(value, datetime.date):
        t = datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.timezone.utc)
    else:
        seconds, nanos = _wire.parse_time(value or "", field)
        return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(t.astimezone(datetime.timezone.utc))
    return ts


def _interval_columns(credit):
    return {"conversions_interval.low": credit.conversions_interval.low,
            "conversions_interval.high": credit.conversions_interval.high,
            "revenue_interval.low": credit.revenue_interval.low,
            "revenue_interval.high": credit.revenue_interval.high}


def _experiment_row(e):
    row = {"name": e.name, "channel": e.channel,
           "goal": apb.Goal.Name(e.goal)[len("GOAL_"):].lower(),
           "start": e.start.ToDatetime(), "end": e.end.ToDatetime()}
    if e.HasField("estimate"):
        row["incremental_conversions"] = e.estimate.incremental_conversions
        row["standard_error"] = e.estimate.standard_error
    else:
        for f in ("treated_customers", "treated_conversions", "holdout_customers",
                  "holdout_conversions"):
            row[f] = getattr(e.counts, f)
    return row


_ENUM_CACHE = {}


def _enum_fast(enum_type, prefix, value, column):
    key = (prefix, value)
    number = _ENUM_CACHE.get(key)
    if number is None:
        number = _enum(enum_type, prefix, value, column)
        _ENUM_CACHE[key] = number
    return number


def row_to_event(row):
    """A dict in the interchange format -> attribution.v1.Event. Raises
    ValueError naming the column of a malformed value."""
    kind = (row.get("type") or "").strip().lower()
    ts = _timestamp(row.get("occurred_at"))
    if kind == "touchpoint":
        tp = events.Touchpoint(
            event_id=row.get("event_id") or "",
            customer_id=row.get("customer_id") or "",
            channel=row.get("channel") or "",
            campaign=row.get("campaign") or "",
            interaction=_enum_fast(events.Interaction, "INTERACTION_", row.get("interaction"),
                                   "interaction"),
            occurred_at=ts)
        if row.get("stage"):
            tp.stage = _enum_fast(events.Stage, "STAGE_", row["stage"], "stage")
        if row.get("sentiment"):
            tp.sentiment = _enum_fast(events.Sentiment, "SENTIMENT_", row["sentiment"], "sentiment")
        return events.Event(touchpoint=tp)
    if kind == "conversion":
        cv = events.Conversion(
            event_id=row.get("event_id") or "",
            customer_id=row.get("customer_id") or "",
            kind=_enum_fast(events.ConversionKind, "CONVERSION_KIND_", row.get("conversion"),
                            "conversion"),
            revenue_micros=_wire.micros(str(row.get("revenue") or "")),
            currency=(row.get("currency") or "").upper(),
            occurred_at=ts)
        return events.Event(conversion=cv)
    raise ValueError("type: %r is not touchpoint or conversion" % row.get("type"))


# --- Fast wire encoding for imports -----------------------------------------
# import_csv and import_jsonl encode each row straight to the bytes of an
# attribution.v1.Event (what row_to_event(row).SerializeToString() gives,
# byte for byte: fields in number order, defaults left out), and a batch to
# the bytes of an IngestEventsRequest, which is 3-4x faster than building
# messages in Python.

def _enum_numbers():
    """Enum words -> numbers, for the encoder (which imports no protobuf)."""
    def words(enum_type, prefix):
        return {v.name[len(prefix):].lower(): v.number for v in enum_type.DESCRIPTOR.values
                if v.number}
    return {"interaction": words(events.Interaction, "INTERACTION_"),
            "stage": words(events.Stage, "STAGE_"),
            "sentiment": words(events.Sentiment, "SENTIMENT_"),
            "conversion": words(events.ConversionKind, "CONVERSION_KIND_")}


_ENUM_NUMBERS = _enum_numbers()


def _row_encoder(columns):
    return _wire.row_encoder(columns, _ENUM_NUMBERS)


def _encode_row(row):
    """row_to_event(row).SerializeToString() for a dict row."""
    framed = _row_encoder(list(row))(list(row.values()))
    # Drop the IngestEventsRequest framing: tag, then the length varint.
    i = 1
    while framed[i] & 0x80:
        i += 1
    return framed[i + 1:]


def _name(enum_type, prefix, number):
    return enum_type.Name(number)[len(prefix):].lower() if number else ""


def _iso(ts):
    return ts.ToDatetime().strftime("%Y-%m-%dT%H:%M:%S.%fZ").replace(".000000Z", "Z")


def event_to_row(event):
    """attribution.v1.Event -> dict in the interchange format."""
    row = dict.fromkeys(COLUMNS, "")
    if event.HasField("touchpoint"):
        t = event.touchpoint
        row.update(event_id=t.event_id, customer_id=t.customer_id,
                   occurred_at=_iso(t.occurred_at), type="touchpoint",
                   channel=t.channel, campaign=t.campaign,
                   interaction=_name(events.Interaction, "INTERACTION_", t.interaction),
                   stage=_name(events.Stage, "STAGE_", t.stage),
                   sentiment=_name(events.Sentiment, "SENTIMENT_", t.sentiment))
    else:
        c = event.conversion
        row.update(event_id=c.event_id, customer_id=c.customer_id,
                   occurred_at=_iso(c.occurred_at), type="conversion",
                   conversion=_name(events.ConversionKind, "CONVERSION_KIND_", c.kind),
                   revenue=str(decimal.Decimal(c.revenue_micros) / 1000000)
                   if c.kind == events.CONVERSION_KIND_PURCHASE else "",
                   currency=c.currency)
    return row


def _word(value):
    """" First-Touch " -> "first_touch"."""
    return (value or "").strip().lower().replace("-", "_")


def _enum_word(enum_type, prefix, value, argument):
    """The enum value a word names ("first-touch", any case); ValueError
    naming the argument and the words otherwise."""
    words = [v.name[len(prefix):].lower() for v in enum_type.DESCRIPTOR.values if v.number]
    word = _word(value)
    if word not in words:
        raise ValueError("%s: %r is not one of %s" % (argument, value, ", ".join(words)))
    return enum_type.Value(prefix + word.upper())


def _group_by(value):
    word = _word(value)
    if word in ("", "channel"):
        return apb.GROUP_BY_CHANNEL
    if word in ("campaign", "channel_campaign"):
        return apb.GROUP_BY_CHANNEL_CAMPAIGN
    if word in ("group", "channel_group"):
        return apb.GROUP_BY_CHANNEL_GROUP
    raise ValueError("group_by: %r is not channel, campaign or group" % value)


def _model_name(spec):
    """A ModelSpec as the CLI spells it: "linear", "markov:3"."""
    name = _name(apb.Model, "MODEL_", spec.model)
    if spec.model == apb.MODEL_MARKOV:
        name += ":%d" % spec.order
    elif spec.model == apb.MODEL_POSITION_BASED:
        name += ":%s:%s" % (_shortest(spec.first_weight), _shortest(spec.last_weight))
    elif spec.model == apb.MODEL_TIME_DECAY or (spec.model == apb.MODEL_INCREMENTAL
                                                 and spec.HasField("half_life")):
        name += ":" + _duration_text(spec.half_life.seconds)
    return name


def _duration_text(seconds):
    """As the CLI writes durations: 168h, 1h30m, 1h0m30s, 45s."""
    h, rest = divmod(int(seconds), 3600)
    m, sec = divmod(rest, 60)
    out = ("%dh" % h) if h else ""
    if m or (sec and h):
        out += "%dm" % m
    if sec:
        out += "%ds" % sec
    return out or "0"


def _shortest(v):
    return repr(v)[:-2] if repr(v).endswith(".0") else repr(v)


def _model_spec(m):
    """A ModelSpec from a name such as "linear", "markov:3",
    "position_based:0.3:0.3", "time_decay:14d", "incremental" or
    "incremental:7d" (any case, dashes or underscores)."""
    name, *params = m.strip().split(":")
    name = _word(name)
    spec = apb.ModelSpec(model=_enum_word(apb.Model, "MODEL_", name, "models"))
    if name == "markov" and params:
        spec.order = int(params[0])
    elif name == "position_based" and params:
        spec.first_weight, spec.last_weight = float(params[0]), float(params[1])
    elif name in ("time_decay", "incremental") and params:
        days = params[0][:-1] if params[0].endswith("d") else params[0]
        spec.half_life.FromTimedelta(datetime.timedelta(days=float(days)))
    return spec


def _comparison_model_lookback(request, compare, model, lookback):
    """A ChannelReport or ReportPage request's compare ("none" or a (start,
    end) pair; None: the default), model and lookback (timedelta)."""
    if compare == "none":
        request.no_comparison = True
    elif compare is not None:
        request.compare.CopyFrom(_period(*compare))
    if model is not None:
        request.model.CopyFrom(_model_spec(model))
    if lookback is not None:
        request.lookback.FromTimedelta(lookback)


def _period(start, end):
    """A ReportPeriod from dates ("2026-07-01"), RFC 3339 times or
    datetime.date(time)s."""
    p = rpb.ReportPeriod()
    p.start.CopyFrom(_timestamp(start, "start"))
    p.end.CopyFrom(_timestamp(end, "end"))
    return p


def _opt(message, field):
    return getattr(message, field) if message.HasField(field) else None


class _Dict(dict):
    """A dict that can carry attributes."""


class _Rows(list):
    """A list of row dicts with a ``totals`` dict."""
    totals = None


def _frame(rows, columns=None):
    try:
        import pandas
    except ImportError as e:
        raise ImportError("as_frame=True needs pandas; without it, use the rows") from e
    frame = pandas.DataFrame(list(rows), columns=columns if not rows else None)
    frame.attrs["totals"] = rows.totals
    return frame


class Client:
    """Client for one workspace. ``address`` is host:port (default: the
    ATTRIBUTION_SERVER environment variable, else 127.0.0.1:50051);
    ``workspace`` defaults to ATTRIBUTION_WORKSPACE, else "default". With
    ``tls_ca`` (a PEM file path; default ATTRIBUTION_TLS_CA) the channel is
    TLS, trusting that CA; ``tls_cert`` and ``tls_key`` add a client
    certificate for mutual TLS. ``api_key`` (default: the ATTRIBUTION_API_KEY
    environment variable) is sent on every call. ``timeout`` is the default
    deadline of every call but imports and exports, in seconds (None: no
    deadline)."""

    def __init__(self, address=None, workspace=None, channel=None,
                 tls_ca=None, tls_cert=None, tls_key=None, api_key=None, timeout=60.0):
        address = address or os.environ.get("ATTRIBUTION_SERVER") or "127.0.0.1:50051"
        workspace = workspace or os.environ.get("ATTRIBUTION_WORKSPACE") or "default"
        tls_ca = tls_ca or os.environ.get("ATTRIBUTION_TLS_CA") or None
        tls_cert = tls_cert or os.environ.get("ATTRIBUTION_TLS_CERT") or None
        tls_key = tls_key or os.environ.get("ATTRIBUTION_TLS_KEY") or None
        self.address = address
        self.timeout = timeout
        if channel is None and tls_ca:
            def read(path):
                with open(path, "rb") as f:
                    return f.read()
            credentials = grpc.ssl_channel_credentials(
                root_certificates=read(tls_ca),
                private_key=read(tls_key) if tls_key else None,
                certificate_chain=read(tls_cert) if tls_cert else None)
            channel = grpc.secure_channel(address, credentials)
        self._channel = channel or grpc.insecure_channel(address)
        if api_key is None:
            api_key = os.environ.get("ATTRIBUTION_API_KEY") or None
        if api_key:
            # Every call carries `authorization: Bearer KEY`.
            class _Key(grpc.UnaryUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
                def _with_key(self, details):
                    metadata = list(details.metadata or []) + [("authorization", "Bearer " + api_key)]
                    return details._replace(metadata=metadata)

                def intercept_unary_unary(self, continuation, details, request):
                    return continuation(self._with_key(details), request)

                def intercept_stream_stream(self, continuation, details, requests):
                    return continuation(self._with_key(details), requests)
            self._channel = grpc.intercept_channel(self._channel, _Key())
        self.stub = _Stub(pb_grpc.AttributionServiceStub(self._channel), self)
        self.reports = _Stub(rpb_grpc.ReportServiceStub(self._channel), self)
        # The raw generated stubs, for streams.
        self._raw = pb_grpc.AttributionServiceStub(self._channel)
        self.workspace = workspace

    _NO_DEADLINE = object()

    def _deadline(self, timeout):
        if timeout is Client._NO_DEADLINE:
            return None
        return self.timeout if timeout is None else timeout

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def record_events(self, rows_or_events, timeout=None):
        """Stores one batch atomically. Accepts interchange dicts or
        attribution.v1.Event messages. Returns (stored, duplicates); raises
        grpc.RpcError (INVALID_ARGUMENT naming the field) on a bad event."""
        batch = [e if isinstance(e, events.Event) else row_to_event(e)
                 for e in rows_or_events]
        r = self.stub.RecordEvents(pb.RecordEventsRequest(workspace=self.workspace, events=batch), timeout=timeout)
        return r.stored, r.duplicates

    def get_journey(self, customer_id, timeout=None):
        """The customer's events in time order as interchange dicts, each
        with effective_stage and stage_derived. Raises grpc.RpcError
        (NOT_FOUND) for an unknown customer."""
        rows = []
        token = ""
        while True:
            page = self.stub.GetJourney(pb.GetJourneyRequest(
                workspace=self.workspace, customer_id=customer_id,
                page_size=10000, page_token=token), timeout=timeout)
            for je in page.events:
                row = event_to_row(je.event)
                row["effective_stage"] = _name(events.Stage, "STAGE_", je.effective_stage)
                row["stage_derived"] = je.stage_derived
                rows.append(row)
            token = page.next_page_token
            if not token:
                return rows

    def erase_customer(self, customer_id, timeout=None):
        """Erases the customer's events and those of every identity linked to
        it (admin). Returns the counts removed."""
        r = self.stub.EraseCustomer(pb.EraseCustomerRequest(
            workspace=self.workspace, customer_id=customer_id), timeout=timeout)
        return {"touchpoints_removed": r.touchpoints_removed,
                "conversions_removed": r.conversions_removed,
                "linked_identities_removed": r.linked_identities_removed}

    def link_identities(self, links, batch_size=10000, timeout=None):
        """Identity stitching: `links` is an iterable of (identity_id,
        customer_id) pairs or dicts with those keys; every event recorded
        under identity_id then belongs to customer_id's journey. Sent in
        order, batch_size (at most 10000) a call; each call is all or
        nothing. Returns {"linked", "unchanged", "moved"} summed over the
        calls; raises grpc.RpcError (INVALID_ARGUMENT naming links[i] of
        the failing call, e.g. a cycle)."""
        if not 1 <= batch_size <= 10000:
            raise ValueError("batch_size: must be 1 to 10000")
        totals = {"linked": 0, "unchanged": 0, "moved": 0}

        def send(batch):
            r = self.stub.LinkIdentities(pb.LinkIdentitiesRequest(
                workspace=self.workspace, links=batch), timeout=timeout)
            totals["linked"] += r.linked
            totals["unchanged"] += r.unchanged
            totals["moved"] += r.moved

        batch = []
        for link in links:
            if isinstance(link, dict):
                identity, customer = link["identity_id"], link["customer_id"]
            else:
                identity, customer = link
            batch.append(pb.IdentityLink(identity_id=identity, customer_id=customer))
            if len(batch) == batch_size:
                send(batch)
                batch = []
        if batch:
            send(batch)
        return totals

    def link_identity(self, identity_id, customer_id, timeout=None):
        """One link; see link_identities."""
        return self.link_identities([(identity_id, customer_id)], timeout=timeout)

    def unlink_identity(self, identity_id, timeout=None):
        """Undoes the identity's link. Returns the customer it was linked to,
        or "" if it had none."""
        r = self.stub.UnlinkIdentity(pb.UnlinkIdentityRequest(
            workspace=self.workspace, identity_id=identity_id), timeout=timeout)
        return r.was_linked_to

    def import_links_csv(self, path, batch_size=10000, timeout=None):
        """Links from a CSV file with the columns identity_id and
        customer_id (as attributionctl import links)."""
        import csv
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = {"identity_id", "customer_id"} - set(reader.fieldnames or ())
            if missing:
                raise ValueError("header: missing required column " + ", ".join(sorted(missing)))
            return self.link_identities(
                ((row["identity_id"].strip(), row["customer_id"].strip()) for row in reader),
                batch_size=batch_size, timeout=timeout)

    def journey_owner(self, customer_id, timeout=None):
        """Whose journey customer_id's events belong to, and the identities
        linked into it: {"customer_id", "linked_identities"}."""
        page = self.stub.GetJourney(pb.GetJourneyRequest(
            workspace=self.workspace, customer_id=customer_id, page_size=1), timeout=timeout)
        return {"customer_id": page.customer_id,
                "linked_identities": list(page.linked_identities)}

    def describe(self, timeout=None):
        r = self.stub.DescribeWorkspace(pb.DescribeWorkspaceRequest(workspace=self.workspace), timeout=timeout)
        return {"customers": r.customers, "touchpoints": r.touchpoints,
                "conversions": r.conversions, "channels": list(r.channels),
                "linked_identities": r.linked_identities}

    def _selection(self, goal, start, end, models=(), lookback=None, horizon=None,
                   group_by="channel", include=(), exclude=(), honour_stages=False,
                   include_channels=None, exclude_channels=None, retention_horizon=None):
        """An AttributeRequest. goal: "acquisition", "repeat_purchase" or
        "retention" (any case, dashes); start/end: dates, RFC 3339 strings or
        datetimes; models: names such as "linear", "markov:3",
        "position_based:0.3:0.3", "time_decay:14d" (see attributionctl
        --model), or one comma-separated string; include_channels /
        exclude_channels (aliases include / exclude): channels;
        lookback/retention_horizon (alias horizon): datetime.timedelta."""
        if isinstance(models, str):
            models = [m for m in models.split(",") if m.strip()]
        r = apb.AttributeRequest(
            workspace=self.workspace,
            goal=_enum_word(apb.Goal, "GOAL_", goal, "goal"),
            group_by=_group_by(group_by),
            include_channels=[c.strip() for c in (include_channels or include)],
            exclude_channels=[c.strip() for c in (exclude_channels or exclude)],
            honour_stages=honour_stages)
        r.window_start.CopyFrom(_timestamp(start, "start"))
        r.window_end.CopyFrom(_timestamp(end, "end"))
        if lookback is not None:
            r.lookback.FromTimedelta(lookback)
        horizon = retention_horizon if retention_horizon is not None else horizon
        if horizon is not None:
            r.retention_horizon.FromTimedelta(horizon)
        for m in models:
            r.models.add().CopyFrom(_model_spec(m))
        return r

    def attribute(self, goal, start, end, models=("linear",), as_frame=False,
                  intervals=False, level=0.0, replicates=0, timeout=None, **selection):
        """Which channels drove the goal in [start, end): one row per model and
        group (model, channel, campaign, conversions, revenue, share), or a
        pandas DataFrame of them with as_frame=True (needs pandas). The
        totals are in the ``totals`` attribute of the returned list."""
        request = self._selection(goal, start, end, models, **selection)
        if intervals:
            # Rows gain conversions_low/high and revenue_low/high.
            request.intervals.level = level
            request.intervals.replicates = replicates
        response = self.stub.Attribute(request, timeout=timeout)
        rows = _Rows()
        rows.totals = {f.name: getattr(response.totals, f.name)
                       for f in response.totals.DESCRIPTOR.fields}
        rows.unknown_channels = list(response.unknown_channels)
        for result in response.results:
            name = _model_name(result.model)
            for g in result.groups:
                row = {"model": name, "channel": g.channel, "campaign": g.campaign,
                       "conversions": g.conversions, "revenue": g.revenue,
                       "share": g.share}
                if intervals:
                    row.update(_interval_columns(g))
                rows.append(row)
            if result.HasField("baseline"):
                # incremental: what no channel caused; its share is of all
                # the goal's conversions.
                row = {"model": name, "channel": "(baseline)", "campaign": "",
                       "conversions": result.baseline.conversions,
                       "revenue": result.baseline.revenue,
                       "share": result.baseline.share_of_conversions}
                if intervals:
                    row.update(_interval_columns(result.baseline))
                rows.append(row)
        columns = ["model", "channel", "campaign", "conversions", "revenue", "share"]
        if intervals:
            columns += list(_interval_columns(apb.GroupCredit()))
        return _frame(rows, columns) if as_frame else rows

    def record_experiment(self, name, channel, goal, start, end, estimate=None,
                          standard_error=None, treated_customers=None,
                          treated_conversions=None, holdout_customers=None,
                          holdout_conversions=None, timeout=None):
        """Stores (or replaces) a lift or holdout test of `channel` for `goal`
        over [start, end): either `estimate` incremental conversions with
        their `standard_error`, or the four holdout counts. The incremental
        model calibrates on it. Returns the stored experiment as a dict."""
        e = pb.Experiment(workspace=self.workspace, name=name, channel=channel,
                          goal=_enum_word(apb.Goal, "GOAL_", goal, "goal"))
        for field, value in (("start", start), ("end", end)):
            getattr(e, field).CopyFrom(_timestamp(value, field))
        if estimate is not None or standard_error is not None:
            e.estimate.incremental_conversions = estimate
            e.estimate.standard_error = standard_error
        else:
            e.counts.treated_customers = treated_customers
            e.counts.treated_conversions = treated_conversions
            e.counts.holdout_customers = holdout_customers
            e.counts.holdout_conversions = holdout_conversions
        return _experiment_row(self.stub.RecordExperiment(
            pb.RecordExperimentRequest(experiment=e), timeout=timeout))

    def list_experiments(self, timeout=None):
        """The workspace's experiments as dicts, by name."""
        r = self.stub.ListExperiments(pb.ListExperimentsRequest(workspace=self.workspace), timeout=timeout)
        return [_experiment_row(e) for e in r.experiments]

    def delete_experiment(self, name, timeout=None):
        """Deletes an experiment; grpc NOT_FOUND if there is none of that name."""
        self.stub.DeleteExperiment(pb.DeleteExperimentRequest(
            workspace=self.workspace, name=name), timeout=timeout)

    def top_paths(self, goal, start, end, limit=20, collapse_repeats=False, timeout=None, **selection):
        """The most frequent paths: rows of path (list of steps), journeys,
        conversions, non_conversions, conversion_rate, revenue."""
        response = self.stub.TopPaths(apb.TopPathsRequest(
            selection=self._selection(goal, start, end, (), **selection),
            limit=limit, collapse_repeats=collapse_repeats), timeout=timeout)
        return [{"steps": list(p.steps), "conversions": p.conversions,
                 "non_conversions": p.non_conversions,
                 "conversion_rate": p.conversion_rate, "revenue": p.revenue}
                for p in response.paths]

    def explain_customer(self, customer_id, goal, start, end, models=("linear",), timeout=None, **selection):
        """For CRM write-back: per conversion of the customer, its touches
        with their credit under each model (dict model -> credit)."""
        request = apb.ExplainCustomerRequest(
            selection=self._selection(goal, start, end, models, **selection),
            customer_id=customer_id)
        response = self.stub.ExplainCustomer(request, timeout=timeout)
        names = [_model_name(m) for m in response.selection.models]
        return [{"event_id": c.event_id, "occurred_at": _iso(c.occurred_at),
                 "revenue": c.revenue,
                 "touches": [{"event_id": t.event_id, "occurred_at": _iso(t.occurred_at),
                              "channel": t.channel, "campaign": t.campaign,
                              "credits": dict(zip(names, t.credits))}
                             for t in c.touches]}
                for c in response.conversions]

    def _ingest(self, batches, window, timeout):
        """Streams batches (rows read, framed events, their lines, rejected
        (line, reason) pairs) through IngestEvents with `window`
        batches in flight. A row that cannot be parsed or that the server
        rejects is returned in ``rejected`` with its line; the rest goes in."""
        result = ImportResult()
        outbox = queue.Queue()
        in_flight = {}
        lock = threading.Condition()
        state = {"next": 1, "reading_done": False, "error": None}

        workspace = _wire.field(b"\x0a", self.workspace)

        def register(batch, lines):
            # Caller holds `lock`: the batch counts as in flight from here on.
            # The request as bytes: workspace, sequence, then the events.
            seq = state["next"]
            state["next"] += 1
            in_flight[seq] = (batch, lines)
            return b"".join([workspace, b"\x10", _wire.varint(seq)] + batch)

        def requests():
            while True:
                item = outbox.get()
                if item is None:
                    return
                yield item

        ingest = self._channel.stream_stream(
            "/attribution.v1.AttributionService/IngestEvents",
            request_serializer=lambda b: b,
            response_deserializer=pb.IngestEventsResponse.FromString)
        responses = ingest(requests(), timeout=self._deadline(
            Client._NO_DEADLINE if timeout is None else timeout))

        def produce():
            try:
                for rows_read, batch, lines, rejected in batches:
                    with lock:
                        result.rows += rows_read
                        result.rejected.extend(RejectedRow(n, r) for n, r in rejected)
                        if not batch:
                            continue
                        lock.wait_for(lambda: len(in_flight) < window or state["error"])
                        if state["error"]:
                            return
                        request = register(batch, lines)
                    outbox.put(request)
            except Exception as e:  # A broken file: stop the stream.
                with lock:
                    state["error"] = state["error"] or e
            finally:
                with lock:
                    state["reading_done"] = True
                    if not in_flight or state["error"]:
                        outbox.put(None)

        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        try:
            for ack in responses:
                retry = None
                with lock:
                    batch, lines = in_flight.pop(ack.sequence)
                    if ack.HasField("error"):
                        i = ack.error.event_index
                        reason = ack.error.message
                        if reason.startswith("events[") and "]." in reason:
                            reason = reason.split("].", 1)[1]
                        if 0 <= i < len(batch):
                            result.rejected.append(RejectedRow(lines[i], reason))
                            rest = batch[:i] + batch[i + 1:]
                            if rest:
                                # Registered under the same lock, so the
                                # stream is never seen idle before it.
                                retry = register(rest, lines[:i] + lines[i + 1:])
                        else:
                            result.rejected.extend(RejectedRow(n, reason) for n in lines)
                    else:
                        result.stored += ack.stored
                        result.duplicates += ack.duplicates
                        result.conflicts += ack.conflicts
                        room = 10 - len(result.conflict_event_ids)
                        result.conflict_event_ids.extend(list(ack.conflict_event_ids)[:max(room, 0)])
                    lock.notify_all()
                if retry:
                    outbox.put(retry)
                with lock:
                    if state["reading_done"] and not in_flight:
                        outbox.put(None)
        except grpc.RpcError as e:
            with lock:
                state["error"] = state["error"] or _typed(e)
                lock.notify_all()
            outbox.put(None)
        finally:
            producer.join()
        if state["error"]:
            raise state["error"]
        result.rejected.sort(key=lambda r: r.line)
        return result

    def _import(self, path, fmt, batch_size, window, timeout):
        # Files of more than a few MB are parsed by worker processes (one per
        # core), chunk by chunk in turn, so that parsing and encoding (the
        # Python side's cost) run in parallel and overlap with the stream;
        # batches still go in file order, so the first of two rows with one
        # id is the one stored. Smaller files are parsed in this process.
        workers = min(2, os.cpu_count() or 1)
        if os.path.getsize(path) < _wire.PARALLEL_IMPORT_BYTES or workers < 2:
            return self._ingest(_wire.parse_batches(path, fmt, batch_size, _ENUM_NUMBERS), window, timeout)
        import multiprocessing
        context = multiprocessing.get_context("spawn")  # No fork of gRPC.
        chunks = _wire.chunks(path, fmt, _wire.CHUNK_BYTES)
        header = _wire.csv_header(path) if fmt == "csv" else None
        queues = [context.Queue(maxsize=32) for _ in range(workers)]
        procs = [context.Process(target=_wire.parse_worker, daemon=True,
                                 args=(path, fmt, batch_size, _ENUM_NUMBERS,
                                       chunks[k::workers], header, queues[k]))
                 for k in range(workers)]
        for proc in procs:
            proc.start()

        def received():
            for k in range(len(chunks)):
                q = queues[k % workers]
                while True:
                    item = q.get()
                    if item is None:
                        break
                    if isinstance(item, str):
                        raise ValueError(item)
                    yield item
        try:
            return self._ingest(received(), window, timeout)
        finally:
            for proc in procs:
                proc.terminate()
                proc.join()

    def import_csv(self, path, batch_size=1000, window=16, timeout=None, bulk=False,
                   bulk_part_bytes=8 << 20):
        """Streams a CSV event file through IngestEvents. Rows that cannot be
        parsed or that the server rejects are returned in ``rejected`` with
        their line number; the rest is imported. Raises ValueError before
        sending anything if a required column is missing. No deadline unless
        ``timeout`` is given.

        ``bulk=True`` is for history files (as ``attributionctl import events
        --bulk``): the file goes to BulkImportEvents in parts of about
        ``bulk_part_bytes`` split at record boundaries, parsed by the server
        and stored as table files, two parts in flight. Same rules and result;
        each part is atomic, and a failed part raises after the parts before
        it were stored (importing again counts them as duplicates)."""
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = [h.strip() for h in next(csv.reader(f), None) or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ValueError("header: missing required column(s): " + ", ".join(missing))
        if bulk:
            return self._bulk_csv(path, bulk_part_bytes, timeout)
        return self._import(path, "csv", batch_size, window, timeout)

    def _bulk_csv(self, path, part_bytes, timeout):
        import concurrent.futures

        def record_end(buf, limit=None):
            # The end of the last whole record in buf[:limit] (buf starts at
            # a record boundary, so an even count of quotes before a line
            # break puts it outside quotes), or 0.
            cut = buf.rfind(b"\n", 0, len(buf) if limit is None else limit)
            while cut >= 0 and buf.count(b'"', 0, cut) % 2:
                cut = buf.rfind(b"\n", 0, cut)
            return cut + 1

        result = ImportResult()
        deadline = self._deadline(Client._NO_DEADLINE if timeout is None else timeout)

        def send(csv_bytes, line_offset):
            return self.stub.BulkImportEvents(pb.BulkImportEventsRequest(
                workspace=self.workspace, csv=csv_bytes, line_offset=line_offset),
                timeout=deadline)

        def add(response):
            result.rows += response.rows
            result.stored += response.stored
            result.duplicates += response.duplicates
            result.conflicts += response.conflicts
            for i in response.conflict_event_ids:
                if len(result.conflict_event_ids) < 10:
                    result.conflict_event_ids.append(i)
            for r in response.rejected_rows:
                result.rejected.append(RejectedRow(r.line, r.reason))

        block = min(1 << 20, part_bytes)
        with open(path, "rb") as f, concurrent.futures.ThreadPoolExecutor(2) as pool:
            buf = f.read(block)
            at_end = not buf
            while b"\n" not in buf and not at_end:  # The header's line break.
                more = f.read(block)
                at_end = not more
                buf += more
            first = buf.find(b"\n")
            header_end = first + 1 if first >= 0 else len(buf)
            header = buf[:header_end]
            if not header.endswith(b"\n"):
                header += b"\n"
            header_lines = header.count(b"\n")
            buf = buf[header_end:]
            line = header_lines + 1  # The file line buf starts on.
            pending = []
            while not (at_end and not buf):
                if not at_end and len(buf) < part_bytes:
                    more = f.read(block)
                    at_end = not more
                    buf += more
                    continue
                # At most part_bytes, unless one record is longer.
                cut = record_end(buf, part_bytes) or (
                    len(buf) if at_end else record_end(buf))
                if at_end and len(buf) <= part_bytes:
                    cut = len(buf)
                if cut == 0:  # A record longer than a part: read on.
                    more = f.read(block)
                    at_end = not more
                    buf += more
                    continue
                part, buf = buf[:cut], buf[cut:]
                if part.strip():
                    pending.append(pool.submit(send, header + part, line - header_lines - 1))
                line += part.count(b"\n")
                while len(pending) >= 2:
                    add(pending.pop(0).result())
            for future in pending:
                add(future.result())
        result.rejected.sort(key=lambda r: r.line)
        return result

    def import_jsonl(self, path, batch_size=1000, window=16, timeout=None):
        """Streams a JSONL event file (one object per line, the CSV's column
        names as keys) through IngestEvents, as import_csv."""
        return self._import(path, "jsonl", batch_size, window, timeout)

    def export_events(self, path=None, format=None, customer_id="", start=None, end=None,
                      timeout=None):
        """ExportEvents: the workspace's events (one customer's, and a time
        range, when given) in key order. With ``path``, writes an event file
        that import_csv / import_jsonl (or the CLI) re-imports into identical
        journeys ("csv" or "jsonl", by ``format`` or the file name) and
        returns the number of events; without, returns the rows as dicts."""
        request = pb.ExportEventsRequest(workspace=self.workspace, customer_id=customer_id)
        if start is not None:
            request.start.CopyFrom(_timestamp(start, "start"))
        if end is not None:
            request.end.CopyFrom(_timestamp(end, "end"))
        stream = self._raw.ExportEvents(request, timeout=self._deadline(
            Client._NO_DEADLINE if timeout is None else timeout))
        if format is None:
            format = "jsonl" if path and str(path).endswith((".jsonl", ".ndjson", ".json")) else "csv"
        out = [] if path is None else None
        n = 0
        f = open(path, "w", newline="", encoding="utf-8") if path is not None else None
        try:
            writer = csv.writer(f, lineterminator="\n") if f and format == "csv" else None
            if writer:
                writer.writerow(COLUMNS)
            for message in stream:
                for event in message.events:
                    row = event_to_row(event)
                    n += 1
                    if out is not None:
                        out.append(row)
                    elif writer:
                        writer.writerow([row[c] for c in COLUMNS])
                    else:
                        f.write(json.dumps({c: row[c] for c in COLUMNS if row[c]},
                                           separators=(",", ":")) + "\n")
        except grpc.RpcError as e:
            raise _typed(e) from None
        finally:
            if f:
                f.close()
        return out if out is not None else n

    def server_info(self, timeout=None):
        """GetServerInfo: dict of version, build_type, started_at, uptime
        (seconds), durability, auth and tls."""
        r = self.stub.GetServerInfo(pb.GetServerInfoRequest(), timeout=timeout)
        return {"version": r.version, "build_type": r.build_type,
                "started_at": _iso(r.started_at), "uptime": r.uptime.ToTimedelta().total_seconds(),
                "durability": r.durability, "auth": r.auth, "tls": r.tls}

    def list_workspaces(self, timeout=None):
        """The workspaces this key may read that hold anything, by name."""
        return list(self.stub.ListWorkspaces(pb.ListWorkspacesRequest(), timeout=timeout).workspaces)

    def create_backup(self, name, timeout=None):
        """An online backup under the server's --backup_root (admin key on
        *): dict of path, sequence_number, taken_at."""
        r = self.stub.CreateBackup(pb.CreateBackupRequest(name=name), timeout=timeout)
        return {"path": r.path, "sequence_number": r.sequence_number, "taken_at": _iso(r.taken_at)}

    # --- Reports (ReportService) -------------------------------------------

    def record_spend(self, rows, timeout=None):
        """Stores spend rows: dicts with date ("YYYY-MM-DD"), channel,
        campaign (optional), amount (decimal string or number) and currency.
        Writing a day again replaces it. Returns (rows, changed)."""
        request = rpb.RecordSpendRequest(workspace=self.workspace)
        for row in rows:
            request.spend.add(date=row["date"], channel=row["channel"],
                              campaign=row.get("campaign", ""),
                              amount_micros=_wire.micros(str(row["amount"])),
                              currency=row["currency"])
        r = self.reports.RecordSpend(request, timeout=timeout)
        return r.rows, r.changed

    def import_spend_csv(self, path, batch_size=1000, timeout=None):
        """Sends a spend CSV (date,channel,campaign,amount,currency) in
        batches. Returns (rows, changed)."""
        total = changed = 0
        with open(path, newline="") as f:
            batch = []
            for row in csv.DictReader(f):
                batch.append(row)
                if len(batch) >= batch_size:
                    n, c = self.record_spend(batch)
                    total, changed, batch = total + n, changed + c, []
            if batch:
                n, c = self.record_spend(batch)
                total, changed = total + n, changed + c
        return total, changed

    def get_settings(self, timeout=None):
        return self.reports.GetSettings(rpb.GetSettingsRequest(workspace=self.workspace), timeout=timeout)

    def update_settings(self, reporting_currency=None, gross_margin=None, model=None,
                        lookback=None, retention_horizon=None, lapse_days=None,
                        timeout=None):
        """Changes the given settings and keeps the others. model: a name as
        in attribute(); lookback/retention_horizon: datetime.timedelta;
        lapse_days: days without a purchase after which a customer counts as
        lost (0 removes the rule: only churn events count)."""
        s = self.get_settings()
        if reporting_currency is not None:
            s.reporting_currency = reporting_currency
        if gross_margin is not None:
            s.gross_margin = gross_margin
        if model is not None:
            s.model.CopyFrom(_model_spec(model))
        if lookback is not None:
            s.lookback.FromTimedelta(lookback)
        if retention_horizon is not None:
            s.retention_horizon.FromTimedelta(retention_horizon)
        if lapse_days == 0:
            s.ClearField("lapse_days")
        elif lapse_days is not None:
            s.lapse_days = lapse_days
        return self.reports.UpdateSettings(rpb.UpdateSettingsRequest(settings=s), timeout=timeout)

    def set_goal(self, name, metric, target, start, end, channel="", channel_group="",
                 owner="", business_figure="", timeout=None):
        """A goal on a ChannelFigures metric ("new_customers", "cac", ...) for
        a channel, or a channel group (channel_group=), or "" for the total,
        over [start, end); or, with business_figure= (and metric=""), on a
        business figure series. owner: the department that owns it
        ("marketing", "sales", "customer_service", "hr", ...)."""
        goal = rpb.BusinessGoal(name=name, channel=channel, channel_group=channel_group,
                                metric=metric, target=target, period=_period(start, end),
                                owner=owner, business_figure=business_figure)
        return self.reports.SetGoal(rpb.SetGoalRequest(workspace=self.workspace, goal=goal), timeout=timeout)

    def record_business_figures(self, name, values, unit="", good_when="down",
                                aggregation="sum", granularity="day", timeout=None):
        """A business figure series (employee_turnover, hiring_cost, rent,
        ...): `values` maps dates (or is a list of (date, value) pairs; a
        monthly series takes the first day of each month) to numbers.
        good_when: "up" or "down"; aggregation: "sum", "mean" or "last";
        granularity: "day" or "month". Re-sending a date replaces it.
        Returns (values, changed)."""
        pairs = values.items() if isinstance(values, dict) else values
        series = rpb.BusinessFigureSeries(
            name=name, unit=unit,
            good_when=_enum_word(rpb.GoodWhen, "GOOD_WHEN_", good_when, "good_when"),
            aggregation=_enum_word(rpb.FigureAggregation, "FIGURE_AGGREGATION_", aggregation,
                                   "aggregation"),
            granularity=_enum_word(rpb.Granularity, "GRANULARITY_", granularity, "granularity"),
            values=[rpb.BusinessFigureValue(date=str(d), value=float(v)) for d, v in pairs])
        r = self.reports.RecordBusinessFigures(rpb.RecordBusinessFiguresRequest(
            workspace=self.workspace, series=[series]), timeout=timeout)
        return r.values, r.changed

    def record_mentions(self, mentions, timeout=None):
        """The public conversation: dicts with mention_id, channel,
        occurred_at, and optionally brand ("" for your own), sentiment,
        author, is_question and answered_at (dates or RFC 3339 strings).
        Returns {"stored", "duplicates", "answered", "conflicts"}; raises
        grpc.RpcError (INVALID_ARGUMENT naming mentions[i].field)."""
        batch = []
        for m in mentions:
            pb_m = rpb.Mention(
                mention_id=m["mention_id"], brand=m.get("brand", ""),
                channel=m["channel"], author=m.get("author", ""),
                is_question=bool(m.get("is_question", False)))
            pb_m.occurred_at.CopyFrom(_timestamp(m["occurred_at"], "occurred_at"))
            if m.get("sentiment"):
                pb_m.sentiment = _enum_word(events.Sentiment, "SENTIMENT_", m["sentiment"],
                                            "sentiment")
            if m.get("answered_at"):
                pb_m.answered_at.CopyFrom(_timestamp(m["answered_at"], "answered_at"))
            batch.append(pb_m)
        r = self.reports.RecordMentions(rpb.RecordMentionsRequest(
            workspace=self.workspace, mentions=batch), timeout=timeout)
        return {"stored": r.stored, "duplicates": r.duplicates, "answered": r.answered,
                "conflicts": r.conflicts}

    def conversation_report(self, start, end, compare=None, timeout=None):
        """ConversationReport: rows of brand ("" for your own), channel (""
        for all), metric (mentions, share_of_voice, positive_share,
        neutral_share, negative_share, questions, answered_share,
        median_seconds_to_answer), value, previous, change, change_ratio,
        direction, assessment, as `report conversation --format=csv`. The
        largest competitor and the count of unanswered questions are in the
        ``totals`` attribute. compare: as channel_report."""
        request = rpb.ConversationReportRequest(workspace=self.workspace,
                                                period=_period(start, end))
        if compare == "none":
            request.no_comparison = True
        elif compare is not None:
            request.compare.CopyFrom(_period(*compare))
        r = self.reports.ConversationReport(request, timeout=timeout)
        rows = _Rows()
        rows.totals = {"largest_competitor": r.largest_competitor,
                       "unanswered_questions": r.unanswered_questions}
        for row in r.rows:
            for field in row.DESCRIPTOR.fields:
                if field.message_type is None:
                    continue
                m = getattr(row, field.name)
                rows.append({"brand": row.brand, "channel": row.channel, "metric": field.name,
                             "value": _opt(m, "value"), "previous": _opt(m, "previous"),
                             "change": _opt(m, "change"),
                             "change_ratio": _opt(m, "change_ratio"),
                             "direction": _name(rpb.Direction, "DIRECTION_", m.direction),
                             "assessment": _name(rpb.Assessment, "ASSESSMENT_", m.assessment)})
        return rows

    def unanswered_questions(self, brand="", page_size=100, timeout=None):
        """The questions without an answer yet, oldest first: dicts of
        mention_id, brand, channel, occurred_at, author."""
        out, token = [], ""
        while True:
            r = self.reports.ListUnansweredQuestions(rpb.ListUnansweredQuestionsRequest(
                workspace=self.workspace, brand=brand, page_size=page_size,
                page_token=token), timeout=timeout)
            for m in r.questions:
                out.append({"mention_id": m.mention_id, "brand": m.brand, "channel": m.channel,
                            "occurred_at": _iso(m.occurred_at), "author": m.author})
            token = r.next_page_token
            if not token:
                return out

    def set_channel_group(self, name, channels, timeout=None):
        """Puts `channels` in the workspace's channel group `name` (they
        leave whichever group held them). Returns the group's channels."""
        g = self.reports.SetChannelGroup(rpb.SetChannelGroupRequest(
            workspace=self.workspace,
            group=rpb.ChannelGroup(name=name, channels=list(channels))), timeout=timeout)
        return list(g.channels)

    def delete_channel_group(self, name, timeout=None):
        """Gives the group's channels back to their default groups."""
        self.reports.DeleteChannelGroup(rpb.DeleteChannelGroupRequest(
            workspace=self.workspace, name=name), timeout=timeout)

    def channel_groups(self, timeout=None):
        """Every group in force: {name: [channels]}, with the names of the
        workspace's own groups in the ``assigned`` attribute."""
        r = self.reports.ListChannelGroups(
            rpb.ListChannelGroupsRequest(workspace=self.workspace), timeout=timeout)
        out = _Dict({g.name: list(g.channels) for g in r.groups})
        out.assigned = [g.name for g in r.groups if g.assigned]
        return out

    def delete_goal(self, name, timeout=None):
        return self.reports.DeleteGoal(
            rpb.DeleteGoalRequest(workspace=self.workspace, name=name), timeout=timeout).deleted

    def list_goals(self, owner="", timeout=None):
        """Goals with progress (only `owner`'s when given): dicts of name,
        owner, channel, channel_group, metric, business_figure, target,
        actual (None if undefined), expected_to_date, elapsed, status."""
        out = []
        for g in self.reports.ListGoals(rpb.ListGoalsRequest(workspace=self.workspace, owner=owner),
                                        timeout=timeout).goals:
            out.append({"name": g.goal.name, "owner": g.goal.owner, "channel": g.goal.channel,
                        "channel_group": g.goal.channel_group,
                        "business_figure": g.goal.business_figure,
                        "metric": g.goal.metric, "target": g.goal.target,
                        "actual": _opt(g, "actual"),
                        "expected_to_date": _opt(g, "expected_to_date"),
                        "elapsed": g.elapsed,
                        "status": _name(rpb.GoalStatus, "GOAL_STATUS_", g.status)})
        return out

    def channel_report(self, start, end, compare=None, model=None, lookback=None,
                       group_by="channel", intervals=False, level=0.0, replicates=0,
                       as_frame=False, response=False, timeout=None):
        """ChannelReport for [start, end) (dates). compare: None (the period
        of equal length before), "none", or a (start, end) pair. Rows: one per
        channel ("" for the total, "(baseline)" for what would have happened
        anyway under the incremental model), campaign and metric, with value,
        previous, change, change_ratio (None where undefined), direction and
        assessment; with intervals=True also low and high (new customers,
        revenue, CAC and ROAS of the channels). response=True returns the
        ChannelReportResponse."""
        request = rpb.ChannelReportRequest(
            workspace=self.workspace, period=_period(start, end),
            group_by=_group_by(group_by))
        if intervals:
            request.intervals.level = level
            request.intervals.replicates = replicates
        _comparison_model_lookback(request, compare, model, lookback)
        r = self.reports.ChannelReport(request, timeout=timeout)
        if response:
            return r
        rows = _Rows()
        rows.totals = {"currency": r.currency, "gross_margin": r.gross_margin,
                       "comparison_empty": r.comparison_empty,
                       "compare": None if r.request.no_comparison else
                       (_iso(r.request.compare.start)[:10], _iso(r.request.compare.end)[:10])}

        def add(channel, campaign, figures, only_set=False):
            for field in figures.DESCRIPTOR.fields:
                m = getattr(figures, field.name)
                if only_set and not m.HasField("value"):
                    continue
                row = {"channel": channel, "campaign": campaign, "metric": field.name,
                       "value": _opt(m, "value")}
                if intervals:
                    row["low"] = _opt(m, "low")
                    row["high"] = _opt(m, "high")
                row.update({"previous": _opt(m, "previous"),
                            "change": _opt(m, "change"),
                            "change_ratio": _opt(m, "change_ratio"),
                            "direction": _name(rpb.Direction, "DIRECTION_", m.direction),
                            "assessment": _name(rpb.Assessment, "ASSESSMENT_", m.assessment)})
                rows.append(row)
        add("", "", r.total)
        for row in r.channels:
            add(row.channel, row.campaign, row.figures)
        if r.HasField("baseline"):
            add("(baseline)", "", r.baseline, only_set=True)
        # Business figures: channel "(business)", the series as metric.
        for f in r.business_figures:
            m = f.figure
            row = {"channel": "(business)", "campaign": "", "metric": f.name,
                   "value": _opt(m, "value")}
            if intervals:
                row["low"] = row["high"] = None
            row.update({"previous": _opt(m, "previous"), "change": _opt(m, "change"),
                        "change_ratio": _opt(m, "change_ratio"),
                        "direction": _name(rpb.Direction, "DIRECTION_", m.direction),
                        "assessment": _name(rpb.Assessment, "ASSESSMENT_", m.assessment)})
            rows.append(row)
        return _frame(rows) if as_frame else rows

    def cash_flow(self, start, end, granularity="day", model=None, as_frame=False,
                  weekly=False, group_by="channel", timeout=None):
        """Rows of channel ("" for the total), start (date), revenue_in,
        spend_out, net, running_net. granularity: "day" or "week" (weekly=True
        is the old spelling)."""
        granularity = "week" if weekly else _word(granularity)
        if granularity not in ("day", "week"):
            raise ValueError("granularity: %r is not day or week" % granularity)
        request = rpb.CashFlowRequest(
            workspace=self.workspace, period=_period(start, end),
            granularity=rpb.GRANULARITY_WEEK if granularity == "week" else rpb.GRANULARITY_DAY,
            group_by=_group_by(group_by))
        if model is not None:
            request.model.CopyFrom(_model_spec(model))
        r = self.reports.CashFlow(request, timeout=timeout)
        rows = _Rows()
        rows.totals = {"currency": r.currency}
        for series in [r.total] + list(r.channels):
            for p in series.points:
                rows.append({"channel": series.channel, "start": _iso(p.start)[:10],
                             "revenue_in": p.revenue_in, "spend_out": p.spend_out,
                             "net": p.net, "running_net": p.running_net})
        return _frame(rows) if as_frame else rows

    def retention_cohorts(self, start, end, granularity="month", horizon_days=(), model=None,
                          weekly=False, horizons=(), group_by="channel",
                          as_frame=False, timeout=None):
        """Rows of start (the cohort's first day), channel ("" for all),
        customers, spend, cac, payback_days, and per horizon H:
        retention_rate_Hd, revenue_per_customer_Hd, ltv_to_cac_Hd (None where
        undefined). granularity: "month" or "week" (weekly=True, and
        horizons= for horizon_days=, are the old spellings)."""
        granularity = "week" if weekly else _word(granularity)
        if granularity not in ("month", "week"):
            raise ValueError("granularity: %r is not month or week" % granularity)
        request = rpb.RetentionCohortsRequest(
            workspace=self.workspace, period=_period(start, end),
            granularity=(rpb.GRANULARITY_WEEK if granularity == "week"
                         else rpb.GRANULARITY_MONTH),
            horizon_days=list(horizon_days or horizons),
            group_by=_group_by(group_by))
        if model is not None:
            request.model.CopyFrom(_model_spec(model))
        r = self.reports.RetentionCohorts(request, timeout=timeout)
        rows = _Rows()
        rows.totals = {"currency": r.currency, "gross_margin": r.gross_margin}
        for c in r.cohorts:
            row = {"start": _iso(c.start)[:10], "channel": c.channel,
                   "customers": c.customers, "spend": c.spend, "cac": _opt(c, "cac"),
                   "payback_days": _opt(c, "payback_days")}
            for h in c.horizons:
                row["retention_rate_%dd" % h.days] = _opt(h, "retention_rate")
                row["revenue_per_customer_%dd" % h.days] = _opt(h, "revenue_per_customer")
                row["ltv_to_cac_%dd" % h.days] = _opt(h, "ltv_to_cac")
            rows.append(row)
        return _frame(rows) if as_frame else rows

    def report_page(self, start, end, compare=None, model=None, lookback=None,
                    group_by="channel", granularity="day", credit_models=(), intervals=True,
                    level=0.0, replicates=0, paper="a4", title="", path=None, timeout=None):
        """ReportPage for [start, end) (dates): the executive page, one
        self-contained HTML document (tiles, summary, charts, goals; offline).
        compare, model, lookback, group_by as channel_report; granularity of
        the cash flow: "day" or "week"; credit_models: 1 to 3 models for the
        credit chart (default last touch, the report's model, incremental);
        intervals=False leaves their intervals out; paper "a4" or "letter".
        Returns the HTML, or with path= writes it there and returns the path."""
        granularity = _word(granularity)
        if granularity not in ("day", "week"):
            raise ValueError("granularity: %r is not day or week" % granularity)
        paper = _word(paper)
        if paper not in ("a4", "letter"):
            raise ValueError("paper: %r is not a4 or letter" % paper)
        request = rpb.ReportPageRequest(
            workspace=self.workspace, period=_period(start, end),
            group_by=_group_by(group_by),
            granularity=rpb.GRANULARITY_WEEK if granularity == "week" else rpb.GRANULARITY_DAY,
            paper=rpb.PAPER_SIZE_LETTER if paper == "letter" else rpb.PAPER_SIZE_A4,
            title=title, no_intervals=not intervals)
        if intervals:
            request.intervals.level = level
            request.intervals.replicates = replicates
        _comparison_model_lookback(request, compare, model, lookback)
        for m in ([credit_models] if isinstance(credit_models, str) else credit_models):
            request.credit_models.add().CopyFrom(_model_spec(m))
        html = self.reports.ReportPage(request, timeout=timeout).html
        if path is None:
            return html
        with open(path, "w", encoding="utf-8") as f:
            f.write(html)
        return str(path)


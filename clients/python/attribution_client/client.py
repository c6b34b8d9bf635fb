"""Client over the generated gRPC stubs: record events, import a CSV, read a
journey, erase a customer. Rows use the interchange format of README.md
("Event files"): dicts keyed by event_id, customer_id, occurred_at, type,
channel, campaign, interaction, stage, sentiment, conversion, revenue,
currency."""
import csv
import dataclasses
import os
import datetime
import decimal
import queue
import threading

import grpc
from google.protobuf import timestamp_pb2

from google.protobuf import duration_pb2

from attribution.v1 import attribution_pb2 as apb
from attribution.v1 import attribution_service_pb2 as pb
from attribution.v1 import attribution_service_pb2_grpc as pb_grpc
from attribution.v1 import events_pb2 as events
from attribution.v1 import report_service_pb2 as rpb
from attribution.v1 import report_service_pb2_grpc as rpb_grpc

COLUMNS = ["event_id", "customer_id", "occurred_at", "type", "channel",
           "campaign", "interaction", "stage", "sentiment", "conversion",
           "revenue", "currency"]
REQUIRED_COLUMNS = ["event_id", "customer_id", "occurred_at", "type",
                    "channel", "interaction", "conversion"]


@dataclasses.dataclass
class RejectedRow:
    line: int
    reason: str


@dataclasses.dataclass
class ImportResult:
    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: list = dataclasses.field(default_factory=list)


def _enum(enum_type, prefix, value, column):
    name = prefix + (value or "").strip().upper()
    try:
        number = enum_type.Value(name)
    except ValueError:
        number = 0
    if number == 0:
        raise ValueError("%s: %r is not a known value" % (column, value))
    return number


def _timestamp(value):
    try:
        t = datetime.datetime.fromisoformat((value or "").strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("occurred_at: %r is not RFC 3339 (e.g. 2026-03-01T12:00:00Z)" % value)
    if t.tzinfo is None:
        raise ValueError("occurred_at: %r has no time zone" % value)
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(t.astimezone(datetime.timezone.utc))
    return ts


def _interval_columns(credit):
    return {"conversions_low": credit.conversions_interval.low,
            "conversions_high": credit.conversions_interval.high,
            "revenue_low": credit.revenue_interval.low,
            "revenue_high": credit.revenue_interval.high}


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


def _micros(value):
    if not value:
        return 0
    try:
        d = decimal.Decimal(value)
    except decimal.InvalidOperation:
        raise ValueError("revenue: %r is not a decimal such as 19.99" % value)
    if not d.is_finite() or d < 0 or d != d.quantize(decimal.Decimal("0.000001")):
        raise ValueError("revenue: %r must be a non-negative decimal with at most 6 places" % value)
    return int(d * 1000000)


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
            interaction=_enum(events.Interaction, "INTERACTION_", row.get("interaction"), "interaction"))
        tp.occurred_at.CopyFrom(ts)
        if row.get("stage"):
            tp.stage = _enum(events.Stage, "STAGE_", row["stage"], "stage")
        if row.get("sentiment"):
            tp.sentiment = _enum(events.Sentiment, "SENTIMENT_", row["sentiment"], "sentiment")
        return events.Event(touchpoint=tp)
    if kind == "conversion":
        cv = events.Conversion(
            event_id=row.get("event_id") or "",
            customer_id=row.get("customer_id") or "",
            kind=_enum(events.ConversionKind, "CONVERSION_KIND_", row.get("conversion"), "conversion"),
            revenue_micros=_micros(row.get("revenue")),
            currency=(row.get("currency") or "").upper())
        cv.occurred_at.CopyFrom(ts)
        return events.Event(conversion=cv)
    raise ValueError("type: %r is not touchpoint or conversion" % row.get("type"))


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


def _model_spec(m):
    """A ModelSpec from a name such as "linear", "markov:3",
    "position_based:0.3:0.3", "time_decay:14d", "incremental" or
    "incremental:7d"."""
    name, *params = m.split(":")
    spec = apb.ModelSpec(model=apb.Model.Value("MODEL_" + name.upper()))
    if name == "markov" and params:
        spec.order = int(params[0])
    elif name == "position_based" and params:
        spec.first_weight, spec.last_weight = float(params[0]), float(params[1])
    elif name in ("time_decay", "incremental") and params:
        days = params[0][:-1] if params[0].endswith("d") else params[0]
        spec.half_life.FromTimedelta(datetime.timedelta(days=float(days)))
    return spec


def _period(start, end):
    """A ReportPeriod from dates ("2026-07-01") or datetime.date(time)s."""
    def ts(v):
        if isinstance(v, datetime.datetime):
            v = v.date()
        if isinstance(v, datetime.date):
            v = v.isoformat()
        return _timestamp(v + "T00:00:00Z" if len(v) == 10 else v)
    p = rpb.ReportPeriod()
    p.start.CopyFrom(ts(start))
    p.end.CopyFrom(ts(end))
    return p


def _opt(message, field):
    return getattr(message, field) if message.HasField(field) else None


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
    """Client for one workspace. ``address`` is host:port. With ``tls_ca`` (a
    PEM file path) the channel is TLS, trusting that CA; ``tls_cert`` and
    ``tls_key`` add a client certificate for mutual TLS. ``api_key`` (default:
    the ATTRIBUTION_API_KEY environment variable) is sent on every call."""

    def __init__(self, address="127.0.0.1:50051", workspace="default", channel=None,
                 tls_ca=None, tls_cert=None, tls_key=None, api_key=None):
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
        self.stub = pb_grpc.AttributionServiceStub(self._channel)
        self.reports = rpb_grpc.ReportServiceStub(self._channel)
        self.workspace = workspace

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def record_events(self, rows_or_events):
        """Stores one batch atomically. Accepts interchange dicts or
        attribution.v1.Event messages. Returns (stored, duplicates); raises
        grpc.RpcError (INVALID_ARGUMENT naming the field) on a bad event."""
        batch = [e if isinstance(e, events.Event) else row_to_event(e)
                 for e in rows_or_events]
        r = self.stub.RecordEvents(pb.RecordEventsRequest(workspace=self.workspace, events=batch))
        return r.stored, r.duplicates

    def get_journey(self, customer_id):
        """The customer's events in time order as interchange dicts, each
        with effective_stage and stage_derived. Raises grpc.RpcError
        (NOT_FOUND) for an unknown customer."""
        rows = []
        token = ""
        while True:
            page = self.stub.GetJourney(pb.GetJourneyRequest(
                workspace=self.workspace, customer_id=customer_id,
                page_size=10000, page_token=token))
            for je in page.events:
                row = event_to_row(je.event)
                row["effective_stage"] = _name(events.Stage, "STAGE_", je.effective_stage)
                row["stage_derived"] = je.stage_derived
                rows.append(row)
            token = page.next_page_token
            if not token:
                return rows

    def erase_customer(self, customer_id):
        r = self.stub.EraseCustomer(pb.EraseCustomerRequest(
            workspace=self.workspace, customer_id=customer_id))
        return {"touchpoints_removed": r.touchpoints_removed,
                "conversions_removed": r.conversions_removed}

    def describe(self):
        r = self.stub.DescribeWorkspace(pb.DescribeWorkspaceRequest(workspace=self.workspace))
        return {"customers": r.customers, "touchpoints": r.touchpoints,
                "conversions": r.conversions, "channels": list(r.channels)}

    def _selection(self, goal, start, end, models=(), lookback=None, horizon=None,
                   group_by="channel", include=(), exclude=(), honour_stages=False):
        """An AttributeRequest. goal: "acquisition", "repeat_purchase" or
        "retention"; start/end: datetime or RFC 3339 strings; models: names
        such as "linear", "markov:3", "position_based:0.3:0.3",
        "time_decay:14d" (see attributionctl --model); lookback/horizon:
        datetime.timedelta."""
        r = apb.AttributeRequest(
            workspace=self.workspace,
            goal=apb.Goal.Value("GOAL_" + goal.upper()),
            group_by=(apb.GROUP_BY_CHANNEL_CAMPAIGN if group_by == "campaign"
                      else apb.GROUP_BY_CHANNEL),
            include_channels=list(include), exclude_channels=list(exclude),
            honour_stages=honour_stages)
        r.window_start.CopyFrom(_timestamp(start) if isinstance(start, str)
                                else _timestamp(start.isoformat()))
        r.window_end.CopyFrom(_timestamp(end) if isinstance(end, str)
                              else _timestamp(end.isoformat()))
        if lookback is not None:
            r.lookback.FromTimedelta(lookback)
        if horizon is not None:
            r.retention_horizon.FromTimedelta(horizon)
        for m in models:
            r.models.add().CopyFrom(_model_spec(m))
        return r

    def attribute(self, goal, start, end, models=("linear",), as_frame=False,
                  intervals=False, level=0.0, replicates=0, **selection):
        """Which channels drove the goal in [start, end): one row per model and
        group (model, channel, campaign, conversions, revenue, share), or a
        pandas DataFrame of them with as_frame=True (needs pandas). The
        totals are in the ``totals`` attribute of the returned list."""
        request = self._selection(goal, start, end, models, **selection)
        if intervals:
            # Rows gain conversions_low/high and revenue_low/high.
            request.intervals.level = level
            request.intervals.replicates = replicates
        response = self.stub.Attribute(request)
        rows = _Rows()
        rows.totals = {f.name: getattr(response.totals, f.name)
                       for f in response.totals.DESCRIPTOR.fields}
        for result in response.results:
            name = apb.Model.Name(result.model.model)[len("MODEL_"):].lower()
            if result.model.HasField("order"):
                name += ":%d" % result.model.order
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
                          holdout_conversions=None):
        """Stores (or replaces) a lift or holdout test of `channel` for `goal`
        over [start, end): either `estimate` incremental conversions with
        their `standard_error`, or the four holdout counts. The incremental
        model calibrates on it. Returns the stored experiment as a dict."""
        e = pb.Experiment(workspace=self.workspace, name=name, channel=channel,
                          goal=apb.Goal.Value("GOAL_" + goal.upper()))
        for field, value in (("start", start), ("end", end)):
            getattr(e, field).CopyFrom(_timestamp(value) if isinstance(value, str)
                                       else _timestamp(value.isoformat()))
        if estimate is not None or standard_error is not None:
            e.estimate.incremental_conversions = estimate
            e.estimate.standard_error = standard_error
        else:
            e.counts.treated_customers = treated_customers
            e.counts.treated_conversions = treated_conversions
            e.counts.holdout_customers = holdout_customers
            e.counts.holdout_conversions = holdout_conversions
        return _experiment_row(self.stub.RecordExperiment(
            pb.RecordExperimentRequest(experiment=e)))

    def list_experiments(self):
        """The workspace's experiments as dicts, by name."""
        r = self.stub.ListExperiments(pb.ListExperimentsRequest(workspace=self.workspace))
        return [_experiment_row(e) for e in r.experiments]

    def delete_experiment(self, name):
        """Deletes an experiment; grpc NOT_FOUND if there is none of that name."""
        self.stub.DeleteExperiment(pb.DeleteExperimentRequest(
            workspace=self.workspace, name=name))

    def top_paths(self, goal, start, end, limit=20, collapse_repeats=False, **selection):
        """The most frequent paths: rows of path (list of steps), journeys,
        conversions, non_conversions, conversion_rate, revenue."""
        response = self.stub.TopPaths(apb.TopPathsRequest(
            selection=self._selection(goal, start, end, (), **selection),
            limit=limit, collapse_repeats=collapse_repeats))
        return [{"path": list(p.steps), "journeys": p.conversions + p.non_conversions,
                 "conversions": p.conversions, "non_conversions": p.non_conversions,
                 "conversion_rate": p.conversion_rate, "revenue": p.revenue}
                for p in response.paths]

    def explain_customer(self, customer_id, goal, start, end, models=("linear",), **selection):
        """For CRM write-back: per conversion of the customer, its touches
        with their credit under each model (dict model -> credit)."""
        request = apb.ExplainCustomerRequest(
            selection=self._selection(goal, start, end, models, **selection),
            customer_id=customer_id)
        response = self.stub.ExplainCustomer(request)
        names = [apb.Model.Name(m.model)[len("MODEL_"):].lower()
                 for m in response.selection.models]
        return [{"event_id": c.event_id, "occurred_at": _iso(c.occurred_at),
                 "revenue": c.revenue,
                 "touches": [{"event_id": t.event_id, "occurred_at": _iso(t.occurred_at),
                              "channel": t.channel, "campaign": t.campaign,
                              "credits": dict(zip(names, t.credits))}
                             for t in c.touches]}
                for c in response.conversions]

    def import_csv(self, path, batch_size=1000, window=16):
        """Streams a CSV file through IngestEvents. Rows that cannot be parsed
        or that the server rejects are returned in ``rejected`` with their
        line number; the rest is imported. Raises ValueError before sending
        anything if a required column is missing."""
        result = ImportResult()
        outbox = queue.Queue()
        in_flight = {}
        lock = threading.Condition()
        state = {"next": 1, "reading_done": False}

        def register(batch, lines):
            # Caller holds `lock`: the batch counts as in flight from here on.
            seq = state["next"]
            state["next"] += 1
            in_flight[seq] = (batch, lines)
            return pb.IngestEventsRequest(workspace=self.workspace, sequence=seq, events=batch)

        def send(batch, lines):
            with lock:
                request = register(batch, lines)
            outbox.put(request)

        def requests():
            while True:
                item = outbox.get()
                if item is None:
                    return
                yield item

        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ValueError("header: missing required column(s): " + ", ".join(missing))
            responses = self.stub.IngestEvents(requests())

            def produce():
                batch, lines = [], []
                for row in reader:
                    line = reader.line_num
                    result.rows += 1
                    try:
                        batch.append(row_to_event(row))
                        lines.append(line)
                    except ValueError as e:
                        with lock:
                            result.rejected.append(RejectedRow(line, str(e)))
                    if len(batch) >= batch_size:
                        with lock:
                            lock.wait_for(lambda: len(in_flight) < window)
                        send(batch, lines)
                        batch, lines = [], []
                if batch:
                    send(batch, lines)
                with lock:
                    state["reading_done"] = True
                    if not in_flight:
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
                        lock.notify_all()
                    if retry:
                        outbox.put(retry)
                    with lock:
                        if state["reading_done"] and not in_flight:
                            outbox.put(None)
            finally:
                producer.join()
        result.rejected.sort(key=lambda r: r.line)
        return result

    # --- Reports (ReportService) -------------------------------------------

    def record_spend(self, rows):
        """Stores spend rows: dicts with date ("YYYY-MM-DD"), channel,
        campaign (optional), amount (decimal string or number) and currency.
        Writing a day again replaces it. Returns (rows, changed)."""
        request = rpb.RecordSpendRequest(workspace=self.workspace)
        for row in rows:
            request.spend.add(date=row["date"], channel=row["channel"],
                              campaign=row.get("campaign", ""),
                              amount_micros=_micros(str(row["amount"])),
                              currency=row["currency"])
        r = self.reports.RecordSpend(request)
        return r.rows, r.changed

    def import_spend_csv(self, path, batch_size=1000):
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

    def get_settings(self):
        return self.reports.GetSettings(rpb.GetSettingsRequest(workspace=self.workspace))

    def update_settings(self, reporting_currency=None, gross_margin=None, model=None,
                        lookback=None, retention_horizon=None):
        """Changes the given settings and keeps the others. model: a name as
        in attribute(); lookback/retention_horizon: datetime.timedelta."""
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
        return self.reports.UpdateSettings(rpb.UpdateSettingsRequest(settings=s))

    def set_goal(self, name, metric, target, start, end, channel=""):
        """A goal on a ChannelFigures metric ("new_customers", "cac", ...) for
        a channel (or "" for the total) over [start, end)."""
        goal = rpb.BusinessGoal(name=name, channel=channel, metric=metric, target=target,
                                period=_period(start, end))
        return self.reports.SetGoal(rpb.SetGoalRequest(workspace=self.workspace, goal=goal))

    def delete_goal(self, name):
        return self.reports.DeleteGoal(
            rpb.DeleteGoalRequest(workspace=self.workspace, name=name)).deleted

    def list_goals(self):
        """Goals with progress: dicts of name, channel, metric, target,
        actual (None if undefined), expected_to_date, elapsed, status."""
        out = []
        for g in self.reports.ListGoals(rpb.ListGoalsRequest(workspace=self.workspace)).goals:
            out.append({"name": g.goal.name, "channel": g.goal.channel,
                        "metric": g.goal.metric, "target": g.goal.target,
                        "actual": _opt(g, "actual"),
                        "expected_to_date": _opt(g, "expected_to_date"),
                        "elapsed": g.elapsed,
                        "status": _name(rpb.GoalStatus, "GOAL_STATUS_", g.status)})
        return out

    def channel_report(self, start, end, compare=None, model=None, lookback=None,
                       group_by="channel", intervals=False, level=0.0, replicates=0,
                       as_frame=False, response=False):
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
            group_by=(apb.GROUP_BY_CHANNEL_CAMPAIGN if group_by == "campaign"
                      else apb.GROUP_BY_CHANNEL))
        if intervals:
            request.intervals.level = level
            request.intervals.replicates = replicates
        if compare == "none":
            request.no_comparison = True
        elif compare is not None:
            request.compare.CopyFrom(_period(*compare))
        if model is not None:
            request.model.CopyFrom(_model_spec(model))
        if lookback is not None:
            request.lookback.FromTimedelta(lookback)
        r = self.reports.ChannelReport(request)
        if response:
            return r
        rows = _Rows()
        rows.totals = {"currency": r.currency, "gross_margin": r.gross_margin,
                       "comparison_empty": r.comparison_empty}

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
        return _frame(rows) if as_frame else rows

    def cash_flow(self, start, end, weekly=False, model=None, as_frame=False):
        """Rows of channel ("" for the total), start (date), revenue_in,
        spend_out, net, running_net."""
        request = rpb.CashFlowRequest(
            workspace=self.workspace, period=_period(start, end),
            granularity=rpb.GRANULARITY_WEEK if weekly else rpb.GRANULARITY_DAY)
        if model is not None:
            request.model.CopyFrom(_model_spec(model))
        r = self.reports.CashFlow(request)
        rows = _Rows()
        rows.totals = {"currency": r.currency}
        for series in [r.total] + list(r.channels):
            for p in series.points:
                rows.append({"channel": series.channel, "start": _iso(p.start)[:10],
                             "revenue_in": p.revenue_in, "spend_out": p.spend_out,
                             "net": p.net, "running_net": p.running_net})
        return _frame(rows) if as_frame else rows

    def retention_cohorts(self, start, end, weekly=False, horizons=(), model=None,
                          as_frame=False):
        """Rows of cohort (date), channel ("" for all), customers, spend, cac,
        payback_days, and per horizon H: retained_Hd, revenue_per_customer_Hd,
        ltv_to_cac_Hd (None where undefined)."""
        request = rpb.RetentionCohortsRequest(
            workspace=self.workspace, period=_period(start, end),
            granularity=rpb.GRANULARITY_WEEK if weekly else rpb.GRANULARITY_MONTH,
            horizon_days=list(horizons))
        if model is not None:
            request.model.CopyFrom(_model_spec(model))
        r = self.reports.RetentionCohorts(request)
        rows = _Rows()
        rows.totals = {"currency": r.currency, "gross_margin": r.gross_margin}
        for c in r.cohorts:
            row = {"cohort": _iso(c.start)[:10], "channel": c.channel,
                   "customers": c.customers, "spend": c.spend, "cac": _opt(c, "cac"),
                   "payback_days": _opt(c, "payback_days")}
            for h in c.horizons:
                row["retained_%dd" % h.days] = _opt(h, "retention_rate")
                row["revenue_per_customer_%dd" % h.days] = _opt(h, "revenue_per_customer")
                row["ltv_to_cac_%dd" % h.days] = _opt(h, "ltv_to_cac")
            rows.append(row)
        return _frame(rows) if as_frame else rows


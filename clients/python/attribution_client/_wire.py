"""The import path's wire encoding and file parsing, free of grpc and
protobuf imports so that the worker processes of a large import start
fast. Rows are encoded straight to the bytes of an attribution.v1.Event
(what row_to_event(row).SerializeToString() gives, byte for byte: fields in
number order, defaults left out), framed as field 3 of an
IngestEventsRequest; a batch is joined into the request's bytes."""
import csv
import datetime
import decimal
import io
import json

COLUMNS = ["event_id", "customer_id", "occurred_at", "type", "channel",
           "campaign", "interaction", "stage", "sentiment", "conversion",
           "revenue", "currency"]
REQUIRED_COLUMNS = ["event_id", "customer_id", "occurred_at", "type",
                    "channel", "interaction", "conversion"]
# Tag byte of each enum field -> its column.
_ENUM_TAGS = {b"\x30": "interaction", b"\x38": "stage", b"\x40": "sentiment",
              b"\x20": "conversion"}
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_EMPTY = [""] * len(COLUMNS)


_EPOCH_DAYS = {}


def fast_seconds(s):
    """Seconds of "YYYY-MM-DDTHH:MM:SSZ", the common case, or None."""
    if len(s) != 20 or s[19] != "Z" or s[10] != "T" or s[13] != ":" or s[16] != ":":
        return None
    day = _EPOCH_DAYS.get(s[:10])
    if day is None:
        try:
            day = (datetime.date.fromisoformat(s[:10]) - datetime.date(1970, 1, 1)).days
        except ValueError:
            return None
        _EPOCH_DAYS[s[:10]] = day
    try:
        h, m, sec = int(s[11:13]), int(s[14:16]), int(s[17:19])
    except ValueError:
        return None
    if h > 23 or m > 59 or sec > 59 or not (s[11:13] + s[14:16] + s[17:19]).isdigit():
        return None
    return day * 86400 + h * 3600 + m * 60 + sec


def parse_time(value, field):
    """(seconds, nanos) since the epoch of an RFC 3339 time or a plain date
    (midnight UTC). ValueError naming `field` otherwise."""
    text = value.strip()
    seconds = fast_seconds(text)
    if seconds is not None:
        return seconds, 0
    try:
        if len(text) == 10:
            t = datetime.datetime.combine(datetime.date.fromisoformat(text), datetime.time(),
                                          tzinfo=datetime.timezone.utc)
        else:
            t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("%s: %r is not a date (2026-03-01) or RFC 3339 time "
                         "(2026-03-01T12:00:00Z)" % (field, value)) from None
    if t.tzinfo is None:
        raise ValueError("%s: %r has no time zone" % (field, value))
    d = t - _EPOCH
    return d.days * 86400 + d.seconds, d.microseconds * 1000


def timestamp_bytes(seconds, nanos):
    """A google.protobuf.Timestamp's bytes."""
    return ((b"\x08" + _varint(seconds)) if seconds else b"") + \
        ((b"\x10" + _varint(nanos)) if nanos else b"")


def micros(value):
    if not value:
        return 0
    if value.isascii() and value.isdigit():
        return int(value) * 1000000
    whole, dot, frac = value.partition(".")
    if dot and value.isascii() and whole.isdigit() and frac.isdigit() and len(frac) <= 6:
        return int(whole) * 1000000 + int(frac.ljust(6, "0"))
    try:
        d = decimal.Decimal(value)
    except decimal.InvalidOperation:
        raise ValueError("revenue: %r is not a decimal such as 19.99" % value)
    if not d.is_finite() or d < 0 or d != d.quantize(decimal.Decimal("0.000001")):
        raise ValueError("revenue: %r must be a non-negative decimal with at most 6 places" % value)
    return int(d * 1000000)


_SMALL_VARINTS = [bytes((n,)) if n < 0x80 else bytes(((n & 0x7F) | 0x80, n >> 7))
                  for n in range(1 << 14)]


def _varint(n):
    if n < 16384:
        return _SMALL_VARINTS[n]
    n &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(tag, text):
    """A length-delimited field: tag byte, length, UTF-8 bytes."""
    b = text.encode("utf-8")
    return tag + _varint(len(b)) + b


def row_encoder(columns, enums):
    """A function from a row's values (in `columns` order) to the bytes of
    row_to_event(row).SerializeToString() framed as field 3 of an
    IngestEventsRequest (tag, length, event); ValueError naming the column of
    a malformed value. Repeated values (customers, channels, campaigns, enum
    words, currencies) are encoded once."""
    n = len(COLUMNS)
    at = None
    if list(columns) != COLUMNS:
        at = [list(columns).index(c) if c in columns else None for c in COLUMNS]

    def order(values):
        if at is None:
            return (list(values) + [""] * n)[:n]
        return [values[i] if i is not None and i < len(values) else "" for i in at]
    # One cache per field: value -> its encoded field.
    caches = {tag: {} for tag in (b"\x12", b"\x22", b"\x2a", b"\x30", b"\x38", b"\x40",
                                  b"\x20", b"\x32")}

    def slow(tag, value):
        # The first time a value is seen: encode it, check enum words.
        if tag in _ENUM_TAGS:
            column = _ENUM_TAGS[tag]
            number = enums[column].get((value or "").strip().lower())
            if not number:
                raise ValueError("%s: %r is not a known value" % (column, value))
            p = tag + _varint(number)
        elif tag == b"\x32":
            p = _field(tag, value.upper())
        else:
            p = _field(tag, value)
        if len(caches[tag]) < 100000:
            caches[tag][value] = p
        return p

    customers = caches[b"\x12"].get
    channels = caches[b"\x22"].get
    campaigns = caches[b"\x2a"].get
    interactions = caches[b"\x30"].get
    stages = caches[b"\x38"].get
    sentiments = caches[b"\x40"].get
    kinds = caches[b"\x20"].get
    currencies = caches[b"\x32"].get
    days = _EPOCH_DAYS
    V = _SMALL_VARINTS
    tail_cache = {}
    tails = tail_cache.get

    def encode(values):
        if len(values) != n or at is not None:
            values = order(values)
        (eid, cid, when, kind, channel, campaign, interaction, stage, sentiment, conversion,
         revenue, currency) = values
        day = days.get(when[:10]) if len(when) == 20 and when[19] == "Z" else None
        seconds = None
        if day is not None and when[10] == "T" and when[13] == ":" and when[16] == ":":
            hh, mm, ss = when[11:13], when[14:16], when[17:19]
            if (hh + mm + ss).isdigit() and hh <= "23" and mm <= "59" and ss <= "59":
                seconds = day * 86400 + int(hh) * 3600 + int(mm) * 60 + int(ss)
        if seconds is None:
            seconds = fast_seconds(when)
        if seconds:
            sv = _varint(seconds)
            ts = b"\x1a" + V[len(sv) + 1] + b"\x08" + sv
        elif seconds == 0:
            ts = b"\x1a\x00"
        else:
            body = timestamp_bytes(*parse_time(when, "occurred_at"))
            ts = b"\x1a" + _varint(len(body)) + body
        e = eid.encode("utf-8")
        head = (b"\x0a" + V[len(e)] + e if 0 < len(e) < 16384 else
                (b"\x0a" + _varint(len(e)) + e if e else b"")) + \
            ((customers(cid) or slow(b"\x12", cid)) if cid else b"") + ts
        if kind == "touchpoint" or (kind != "conversion" and kind.strip().lower() == "touchpoint"):
            # The fields after the time repeat from touch to touch: one
            # lookup for all five.
            key = (channel, campaign, interaction, stage, sentiment)
            tail = tails(key)
            if tail is None:
                tail = b"".join((
                    (channels(channel) or slow(b"\x22", channel)) if channel else b"",
                    (campaigns(campaign) or slow(b"\x2a", campaign)) if campaign else b"",
                    interactions(interaction) or slow(b"\x30", interaction),
                    (stages(stage) or slow(b"\x38", stage)) if stage else b"",
                    (sentiments(sentiment) or slow(b"\x40", sentiment)) if sentiment else b""))
                if len(tail_cache) < 100000:
                    tail_cache[key] = tail
            inner = head + tail
            k = len(inner)
            inner = b"\x0a" + (V[k] if k < 16384 else _varint(k)) + inner
            k = len(inner)
            return b"\x1a" + (V[k] if k < 16384 else _varint(k)) + inner
        if kind == "conversion" or kind.strip().lower() == "conversion":
            amount = micros(revenue)
            inner = b"".join((
                head,
                kinds(conversion) or slow(b"\x20", conversion),
                b"\x28" + _varint(amount) if amount else b"",
                (currencies(currency) or slow(b"\x32", currency)) if currency else b""))
            k = len(inner)
            inner = b"\x12" + (V[k] if k < 16384 else _varint(k)) + inner
            k = len(inner)
            return b"\x1a" + (V[k] if k < 16384 else _varint(k)) + inner
        raise ValueError("type: %r is not touchpoint or conversion" % kind)
    return encode


# Files from this size on are parsed in worker processes, in chunks of
# about this size, handed out in turn so that batches still go in file order.
PARALLEL_IMPORT_BYTES = 4 << 20
CHUNK_BYTES = 2 << 20


def chunks(path, fmt, chunk_bytes):
    """[(start, end, lines before start)] covering the file after a CSV's
    header, cut at record boundaries: after a newline, and for CSV outside
    quotes (an even number of quote characters before the cut)."""
    with open(path, "rb") as f:
        data = f.read()
    start = 0
    if fmt == "csv":
        # Past the header record.
        quotes = 0
        while True:
            nl = data.find(b"\n", start)
            if nl < 0:
                return []
            quotes += data.count(b'"', start, nl + 1)
            start = nl + 1
            if quotes % 2 == 0:
                break
    out = []
    lines = data.count(b"\n", 0, start)
    while start < len(data):
        end = min(len(data), start + chunk_bytes)
        if end < len(data):
            nl = data.find(b"\n", end)
            end = len(data) if nl < 0 else nl + 1
            if fmt == "csv":
                while data.count(b'"', start, end) % 2 and end < len(data):
                    nl = data.find(b"\n", end)
                    end = len(data) if nl < 0 else nl + 1
        out.append((start, end, lines))
        lines += data.count(b"\n", start, end)
        start = end
    return out


def csv_header(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return [h.strip() for h in next(csv.reader(f), None) or []]


def parse_batches(path, fmt, batch_size, enums, start=None, end=None, lines_before=0,
                  header=None):
    """The event file (or its bytes [start, end), which hold whole records
    and come after `lines_before` lines) as batches: (rows read, framed
    events, their line numbers, rejected (line, reason) pairs)."""
    if start is None:
        f = open(path, newline="", encoding="utf-8-sig")
    else:
        with open(path, "rb") as raw:
            raw.seek(start)
            text = raw.read(end - start).decode("utf-8")
        if start == 0:
            text = text.lstrip("\ufeff")
        f = io.StringIO(text, newline=None if fmt != "csv" else "")
    if fmt == "csv":
        reader = csv.reader(f)
        if header is None:
            header = [h.strip() for h in next(reader, None) or []]
        encode = row_encoder(header, enums)

        def rows_of():
            for values in reader:
                if values == [] or values == [""]:
                    continue
                yield lines_before + reader.line_num, values
    else:
        encode = row_encoder(COLUMNS, enums)

        def objects(group):
            """(line, object or why not) of a group of (line, text): parsed
            as one JSON array (twice as fast as line by line), or line by
            line when that fails or a line held more than one value."""
            try:
                parsed = json.loads("[" + ",".join(text for _, text in group) + "]")
                if len(parsed) == len(group):
                    return [(n, row) for (n, _), row in zip(group, parsed)]
            except ValueError:
                pass
            out = []
            for n, text in group:
                try:
                    out.append((n, json.loads(text)))
                except ValueError as e:
                    out.append((n, "line: %s" % e))
            return out

        def rows_of():
            # A line that is not a JSON object comes as a string: why.
            group = []
            for n, text in enumerate(f, lines_before + 1):
                if text.strip():
                    group.append((n, text))
                if len(group) == 1000:
                    yield from values_of(group)
                    group = []
            yield from values_of(group)

        def values_of(group):
            for n, row in objects(group):
                if row.__class__ is not dict:
                    yield n, row if isinstance(row, str) else \
                        "line: a line must hold one JSON object"
                    continue
                values = list(map(row.get, COLUMNS, _EMPTY))
                for v in values:
                    if v.__class__ is not str:  # A number or null.
                        values = [v if v.__class__ is str else ("" if v is None else str(v))
                                  for v in values]
                        break
                yield n, values
    batch, lines, rejected, rows = [], [], [], 0
    with f:
        for line, values in rows_of():
            rows += 1
            if isinstance(values, str):
                rejected.append((line, values))
                continue
            try:
                batch.append(encode(values))
                lines.append(line)
            except ValueError as e:
                rejected.append((line, str(e)))
            if len(batch) >= batch_size:
                yield rows, batch, lines, rejected
                batch, lines, rejected, rows = [], [], [], 0
    yield rows, batch, lines, rejected


def parse_worker(path, fmt, batch_size, enums, chunks, header, out):
    """parse_batches over `chunks` in a worker process: each chunk's batches
    on `out`, then None after each chunk; a string for an error."""
    try:
        for start, end, lines_before in chunks:
            for b in parse_batches(path, fmt, batch_size, enums, start, end, lines_before,
                                   header):
                out.put(b)
            out.put(None)
    except Exception as e:  # Reported by the importing process.
        out.put("%s: %s" % (path, e))




# For the importing process.
varint = _varint
field = _field

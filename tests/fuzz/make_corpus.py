#!/usr/bin/python3
"""Writes the fuzzers' seed corpus into tests/fuzz/corpus/<target>/.

Run from the repository root after a build (it imports the generated Python
stubs from build/gen/python):  /usr/bin/python3 tests/fuzz/make_corpus.py
The seeds are valid requests of every kind, so that the fuzzers start from
the shapes the server really receives.
"""
import base64
import os
import sys

sys.path.insert(0, os.path.join(os.getcwd(), "build", "gen", "python"))
from attribution.v1 import attribution_pb2 as a  # noqa: E402
from attribution.v1 import attribution_service_pb2 as s  # noqa: E402
from attribution.v1 import events_pb2 as e  # noqa: E402
from attribution.v1 import report_service_pb2 as r  # noqa: E402

T0 = 1_780_000_000
OUT = os.path.join("tests", "fuzz", "corpus")


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def events():
    out = []
    for i, ch in enumerate(["instagram", "email", "direct"]):
        ev = e.Event()
        t = ev.touchpoint
        t.event_id = f"t{i}"
        t.customer_id = "c1"
        t.occurred_at.seconds = T0 + i * 3600
        t.channel = ch
        t.campaign = "spring"
        t.interaction = e.INTERACTION_CLICK
        t.sentiment = e.SENTIMENT_POSITIVE
        out.append(ev)
    ev = e.Event()
    c = ev.conversion
    c.event_id = "p1"
    c.customer_id = "c1"
    c.occurred_at.seconds = T0 + 4 * 3600
    c.kind = e.CONVERSION_KIND_PURCHASE
    c.revenue_micros = 25_000_000
    c.currency = "EUR"
    out.append(ev)
    return out


record = s.RecordEventsRequest(workspace="acme", events=events())
ingest = s.IngestEventsRequest(workspace="acme", sequence=7, events=events())
attr = a.AttributeRequest(workspace="acme", goal=a.GOAL_ACQUISITION,
                          group_by=a.GROUP_BY_CHANNEL_CAMPAIGN)
attr.window_start.seconds = T0 - 86400
attr.window_end.seconds = T0 + 86400
for m in range(1, 9):
    spec = attr.models.add()
    spec.model = m
report = r.ChannelReportRequest(workspace="acme")
report.period.start.seconds = 1_779_926_400
report.period.end.seconds = 1_779_926_400 + 7 * 86400
report.model.model = a.MODEL_MARKOV
report.model.order = 2
journey = s.GetJourneyRequest(workspace="acme", customer_id="c1", page_size=2)

for i, msg in enumerate([record, ingest, attr, report, journey]):
    write("grpc_handlers", f"seed-{i}", bytes([i]) + msg.SerializeToString())
write("validation", "seed-0", record.SerializeToString())
write("key_file", "seed-0",
      b"Bearer secret\n"
      b"sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
      b"  acme,beta  reader,writer  # a comment\n"
      b"sha256:" + b"0" * 64 + b"  *  admin\n")
write("page_token", "seed-0", base64.urlsafe_b64encode(
    b"j" + (T0 * 1_000_000).to_bytes(8, "big") + b"t1").rstrip(b"="))
write("csv", "seed-0",
      b"type,event_id,customer_id,occurred_at,channel,campaign,interaction,"
      b"conversion,revenue,currency\n"
      b"touchpoint,t1,c1,2026-05-01T00:00:00Z,instagram,spring,click,,,\n"
      b"conversion,p1,c1,2026-05-02T00:00:00Z,,,,purchase,25.00,EUR\n")
write("event_file", "seed-0",
      b"type,event_id,customer_id,occurred_at,channel,campaign,interaction,"
      b"stage,sentiment,conversion,revenue,currency\r\n"
      b"touchpoint,t1,c1,2026-05-01T00:00:00Z,instagram,\"a, \"\"b\"\"\",click,"
      b"discovery,positive,,,\r\n"
      b"conversion,p1,c1,2026-05-02T00:00:00.5+02:00,,,,,,purchase,25.00,eur\n"
      b"touchpoint,t2,c1,yesterday,x,,like,,,,,\n")
write("jsonl", "seed-0",
      b'{"type":"touchpoint","event_id":"t1","customer_id":"c1",'
      b'"occurred_at":"2026-05-01T00:00:00Z","channel":"instagram",'
      b'"interaction":"click"}\n')

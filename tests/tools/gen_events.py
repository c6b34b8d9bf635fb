#!/usr/bin/env python3
"""Writes a deterministic event file in the interchange format (CSV or JSONL).

Customers get a few social touches over days, some buy (first purchase is the
acquisition), some buy again, a few churn. Channel mix is skewed the way
social-first brands see it (instagram and facebook heavy, long tail).

  gen_events.py --events 1000000 --customers 100000 --out events.csv

--lead_rate P turns that share of touches before a first purchase into lead
conversions (0 by default, which keeps older files byte-identical), and
--spend_out FILE writes daily spend per channel and campaign for the year
(date,channel,campaign,amount,currency).

Event ids are "e" + a tag of the arguments that shape the events (seed,
events, customers, lead rate) + "-" + a serial number: running the same
command twice gives the same ids (a re-import is all duplicates), and two
different commands never share an id (nothing of the second file is lost as
a conflict when both go into one workspace).
"""
import argparse
import datetime
import json
import random
import sys
import zlib

CHANNELS = [("instagram", 24), ("facebook", 20), ("tiktok", 12), ("youtube", 8),
            ("x", 5), ("linkedin", 4), ("pinterest", 3), ("reddit", 2),
            ("email", 10), ("organic_search", 5), ("paid_search", 4),
            ("display", 1), ("referral", 1), ("direct", 1)]
INTERACTIONS = [("impression", 30), ("click", 20), ("like", 15), ("comment", 6),
                ("share", 4), ("mention", 2), ("message", 5), ("follow", 5),
                ("review", 2), ("visit", 11)]
COLUMNS = ["event_id", "customer_id", "occurred_at", "type", "channel",
           "campaign", "interaction", "stage", "sentiment", "conversion",
           "revenue", "currency"]
START = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
# Journeys never run past this, so every event is in the past.
END = datetime.datetime(2025, 12, 31, tzinfo=datetime.timezone.utc)


def weighted(rng, pairs):
    names = [p[0] for p in pairs]
    weights = [p[1] for p in pairs]
    return lambda: rng.choices(names, weights)[0]


def rows(events, customers, seed, lead_rate=0.0):
    rng = random.Random(seed)
    lead_rng = random.Random(seed + 1)
    channel = weighted(rng, CHANNELS)
    interaction = weighted(rng, INTERACTIONS)
    per_customer = max(1, events // customers)
    tag = "%06x" % (zlib.crc32(("%d|%d|%d|%r" % (seed, events, customers, lead_rate))
                               .encode()) & 0xFFFFFF)
    n = 0
    c = 0
    while n < events:
        cid = "c%07d" % (c % customers)
        c += 1
        t = START + datetime.timedelta(seconds=rng.randrange(0, 180 * 86400))
        k = max(1, min(events - n, int(rng.expovariate(1 / per_customer)) + 1))
        bought = 0
        for i in range(k):
            t = min(END, t + datetime.timedelta(seconds=rng.randrange(60, 3 * 86400)))
            eid = "e%s-%09d" % (tag, n)
            n += 1
            ts = t.strftime("%Y-%m-%dT%H:%M:%SZ")
            last = i == k - 1
            if i > 0 and rng.random() < 0.12 or (last and rng.random() < 0.3):
                kind = "purchase" if bought == 0 or rng.random() < 0.8 else "churn"
                rev = "%d.%02d" % (rng.randrange(5, 300), rng.randrange(100)) \
                    if kind == "purchase" else ""
                bought += kind == "purchase"
                yield [eid, cid, ts, "conversion", "", "", "", "", "", kind,
                       rev, "EUR" if rev else ""]
            elif (lead_rate > 0 and not bought
                  and lead_rng.random() < lead_rate):
                yield [eid, cid, ts, "conversion", "", "", "", "", "", "lead",
                       "", ""]
            else:
                stage = ""
                if bought and rng.random() < 0.3:
                    stage = rng.choice(["purchase", "loyalty"])
                yield [eid, cid, ts, "touchpoint", channel(),
                       "spring_%d" % rng.randrange(4), interaction(), stage,
                       rng.choice(["", "", "positive", "neutral", "negative"]),
                       "", "", ""]


def write_spend(path, seed):
    rng = random.Random(seed + 2)
    with open(path, "w", newline="") as out:
        out.write("date,channel,campaign,amount,currency\n")
        day = START
        while day <= END:
            for name, weight in CHANNELS:
                if name in ("direct", "organic_search", "referral"):
                    continue  # Free channels.
                for k in range(4):
                    amount = weight * rng.randrange(50, 150)
                    out.write("%s,%s,spring_%d,%d.%02d,EUR\n" % (
                        day.strftime("%Y-%m-%d"), name, k, amount,
                        rng.randrange(100)))
            day += datetime.timedelta(days=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=1000)
    ap.add_argument("--customers", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    ap.add_argument("--out", default="-")
    ap.add_argument("--lead_rate", type=float, default=0.0)
    ap.add_argument("--spend_out", default="")
    a = ap.parse_args()
    if a.spend_out:
        write_spend(a.spend_out, a.seed)
    out = sys.stdout if a.out == "-" else open(a.out, "w", newline="")
    if a.format == "csv":
        out.write(",".join(COLUMNS) + "\n")
        for r in rows(a.events, a.customers, a.seed, a.lead_rate):
            out.write(",".join(r) + "\n")
    else:
        for r in rows(a.events, a.customers, a.seed, a.lead_rate):
            out.write(json.dumps({k: v for k, v in zip(COLUMNS, r) if v}) + "\n")
    out.close()


if __name__ == "__main__":
    main()

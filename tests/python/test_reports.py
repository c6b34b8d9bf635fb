"""The report calls of the thin client against the real server, on the hand-
computed workspace of tests/core/report_test.cc."""
import datetime

import grpc
import pytest

from attribution_client import Client

EVENTS = [
    {"event_id": "a1", "customer_id": "A", "occurred_at": "2026-01-12T00:00:00Z",
     "type": "touchpoint", "channel": "instagram", "sentiment": "positive"},
    {"event_id": "a2", "customer_id": "A", "occurred_at": "2026-01-13T00:00:00Z",
     "type": "touchpoint", "channel": "email", "sentiment": "neutral"},
    {"event_id": "a4", "customer_id": "A", "occurred_at": "2026-01-14T00:00:00Z",
     "type": "conversion", "conversion": "purchase", "revenue": "100", "currency": "USD"},
    {"event_id": "a5", "customer_id": "A", "occurred_at": "2026-01-15T00:00:00Z",
     "type": "touchpoint", "channel": "instagram", "sentiment": "negative"},
    {"event_id": "a6", "customer_id": "A", "occurred_at": "2026-01-16T00:00:00Z",
     "type": "conversion", "conversion": "purchase", "revenue": "50", "currency": "USD"},
    {"event_id": "b2", "customer_id": "B", "occurred_at": "2026-01-12T00:00:00Z",
     "type": "touchpoint", "channel": "facebook"},
    {"event_id": "b3", "customer_id": "B", "occurred_at": "2026-01-12T02:00:00Z",
     "type": "conversion", "conversion": "purchase", "revenue": "30", "currency": "USD"},
]
for e in EVENTS:
    if e["type"] == "touchpoint":
        e["interaction"] = "click"

SPEND = [
    {"date": "2026-01-11", "channel": "instagram", "amount": "40", "currency": "USD"},
    {"date": "2026-01-20", "channel": "instagram", "amount": "20", "currency": "USD"},
    {"date": "2026-01-13", "channel": "tiktok", "amount": "25", "currency": "USD"},
]


@pytest.fixture
def client(server):
    with Client(server, workspace="py") as c:
        c.update_settings(reporting_currency="USD", gross_margin=0.5,
                          retention_horizon=datetime.timedelta(days=5))
        c.record_events(EVENTS)
        assert c.record_spend(SPEND) == (3, 3)
        assert c.record_spend(SPEND) == (3, 0)  # Re-sending changes nothing.
        yield c


def value(rows, channel, metric):
    [row] = [r for r in rows if r["channel"] == channel and r["metric"] == metric]
    return row


def test_channel_report_rows(client):
    rows = client.channel_report("2026-01-11", "2026-01-21")
    assert rows.totals["currency"] == "USD"
    assert value(rows, "", "new_customers")["value"] == 2  # A and B.
    assert value(rows, "", "revenue")["value"] == 180
    assert value(rows, "", "spend")["value"] == 85
    # The 10 days before hold no data: nothing is compared with zeros.
    assert rows.totals["comparison_empty"] is True
    assert value(rows, "", "spend")["previous"] is None
    assert value(rows, "", "spend")["assessment"] == ""
    # A's first purchase is split between instagram and email (linear).
    assert value(rows, "instagram", "new_customers")["value"] == 0.5
    assert value(rows, "instagram", "cac")["value"] == 120
    assert value(rows, "tiktok", "cac")["value"] is None  # Undefined.
    assert value(rows, "facebook", "roas")["value"] is None


def test_cash_flow_cohorts_and_goals(client):
    flow = client.cash_flow("2026-01-11", "2026-01-21")
    total = [r for r in flow if r["channel"] == ""]
    assert len(total) == 10
    assert total[-1]["running_net"] == pytest.approx(180 - 85)
    cohorts = client.retention_cohorts("2026-01-01", "2026-02-01", horizons=(1, 5))
    assert cohorts[0]["channel"] == "" and cohorts[0]["customers"] == 2
    assert cohorts[0]["retention_rate_5d"] == 0.5  # A bought again on day 2.
    client.set_goal("jan", "new_customers", 5, "2026-01-01", "2026-02-01")
    [goal] = client.list_goals()
    assert goal["actual"] == 2 and goal["status"] == "missed"
    assert client.delete_goal("jan") and client.list_goals() == []


def test_report_errors_name_the_field(client):
    with pytest.raises(grpc.RpcError) as e:
        client.record_spend([{"date": "2026-01-01", "channel": "x", "amount": "1",
                              "currency": "EUR"}])
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "spend[0].currency" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        client.set_goal("g", "likes", 1, "2026-01-01", "2026-02-01")
    assert "goal.metric" in e.value.details()


def test_churn_without_churn_events_is_not_measured_until_a_lapse_rule(client, server):
    import subprocess, os
    from attribution_client import InvalidArgument
    from attribution.v1 import report_service_pb2 as rpb
    # This workspace has no churn event: churn is absent, never 0%.
    r = client.channel_report("2026-01-11", "2026-01-21", response=True)
    assert r.churn_rule == rpb.CHURN_RULE_NOT_MEASURED
    assert not r.total.churn_rate.HasField("value")
    summary = subprocess.run(
        [os.environ["ATTRIBUTIONCTL"], "--server", server, "--workspace", "py", "report",
         "summary", "--start", "2026-01-11", "--end", "2026-01-21"],
        capture_output=True, text=True, check=True).stdout
    assert "Customers lost (churn): n/a: no churn events and no lapse rule" in summary
    # Lost after 3 days without a purchase: A (bought on the 14th and 16th)
    # lapses on the 19th, B (the 12th) on the 15th; both within the period.
    client.update_settings(lapse_days=3)
    r = client.channel_report("2026-01-11", "2026-01-21", response=True)
    assert r.churn_rule == rpb.CHURN_RULE_LAPSE and r.lapse_days == 3
    assert r.total.churn_rate.value == 1.0
    cohorts = client.reports.RetentionCohorts(rpb.RetentionCohortsRequest(
        workspace="py", period=r.request.period))
    assert cohorts.churn_rule == rpb.CHURN_RULE_LAPSE
    with pytest.raises(InvalidArgument) as e:
        client.update_settings(lapse_days=5000)
    assert "lapse_days: must be 1 to 3650" in e.value.message
    client.update_settings(lapse_days=0)  # Removes the rule.
    assert not client.get_settings().HasField("lapse_days")
    assert client.channel_report("2026-01-11", "2026-01-21",
                                 response=True).churn_rule == rpb.CHURN_RULE_NOT_MEASURED

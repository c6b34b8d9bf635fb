"""Business figures and goal owners against the real server:
RecordBusinessFigures, their rows and sentences in ChannelReport, goals on
them, ListGoals by owner; through Python and the CLI."""
import json
import math
import os
import subprocess

import grpc
import pytest

from attribution_client import Client

MARCH = ("2026-03-01", "2026-04-01")  # Compared with February by default.


@pytest.fixture
def client(server):
    with Client(server, workspace="biz") as c:
        c.record_events([{"event_id": "p1", "customer_id": "c1", "type": "conversion",
                          "occurred_at": "2026-03-05T10:00:00Z", "conversion": "purchase",
                          "revenue": "10", "currency": "EUR"}])
        assert c.record_business_figures(
            "hiring_cost", {"2026-02-10": 1000, "2026-03-02": 300, "2026-03-20": 200,
                            "2026-04-01": 999}, unit="EUR") == (4, 4)
        assert c.record_business_figures(
            "employee_turnover", [("2026-02-01", 0.04), ("2026-03-01", 0.05)],
            unit="%", aggregation="mean", granularity="month") == (2, 2)
        assert c.record_business_figures(
            "headcount", {"2026-02-27": 40, "2026-03-03": 41, "2026-03-30": 44},
            unit="people", good_when="up", aggregation="last") == (3, 3)
        yield c


def figures(rows):
    return {r["metric"]: r for r in rows if r["channel"] == "(business)"}


def test_directions_against_the_comparison_period(client):
    got = figures(client.channel_report(*MARCH))
    cost = got["hiring_cost"]
    # March: 300 + 200 (April 1 is outside); February: 1000. Down is good.
    assert (cost["value"], cost["previous"], cost["change"]) == (500, 1000, -500)
    assert cost["change_ratio"] == -0.5
    assert (cost["direction"], cost["assessment"]) == ("down", "good")
    turnover = got["employee_turnover"]
    assert turnover["value"] == 0.05 and turnover["previous"] == 0.04
    assert (turnover["direction"], turnover["assessment"]) == ("up", "bad")
    heads = got["headcount"]  # The latest value of each period.
    assert (heads["value"], heads["previous"]) == (44, 40)
    assert (heads["direction"], heads["assessment"]) == ("up", "good")
    # Re-sending a day replaces it; the same value again changes nothing.
    assert client.record_business_figures("hiring_cost", {"2026-03-02": 300}, unit="EUR") == (1, 0)
    assert client.record_business_figures("hiring_cost", {"2026-03-02": 100}, unit="EUR") == (1, 1)
    assert figures(client.channel_report(*MARCH))["hiring_cost"]["value"] == 300
    # A period without values has none (absent, not 0).
    empty = figures(client.channel_report("2025-01-01", "2025-02-01"))
    assert empty["hiring_cost"]["value"] is None


def test_the_summary_tells_them(client, server):
    r = subprocess.run([os.environ["ATTRIBUTIONCTL"], "--server=" + server, "--workspace=biz",
                        "report", "summary", "--start", MARCH[0], "--end", MARCH[1]],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "Hiring cost: 500 EUR, down 50.0% from 1000 EUR (better)." in r.stdout
    assert "Employee turnover: 0.05 %, up 25.0% from 0.04 % (worse)." in r.stdout
    assert "Headcount: 44 people, up 10.0% from 40 people (better)." in r.stdout


def test_goals_on_figures_and_owners(client):
    client.set_goal("hire-cheaper", "", 600, *MARCH, business_figure="hiring_cost", owner="hr")
    client.set_goal("keep-people", "", 0.045, *MARCH, business_figure="employee_turnover",
                    owner="hr")
    client.set_goal("customers", "new_customers", 1, *MARCH, owner="marketing")
    hr = {g["name"]: g for g in client.list_goals(owner="hr")}
    assert set(hr) == {"hire-cheaper", "keep-people"}
    assert hr["hire-cheaper"]["actual"] == 500 and hr["hire-cheaper"]["status"] == "achieved"
    assert hr["keep-people"]["actual"] == 0.05 and hr["keep-people"]["status"] == "missed"
    assert {g["name"] for g in client.list_goals()} == {"hire-cheaper", "keep-people",
                                                        "customers"}
    assert [g["owner"] for g in client.list_goals(owner="marketing")] == ["marketing"]
    with pytest.raises(grpc.RpcError) as e:
        client.set_goal("x", "", 1, *MARCH, business_figure="rent")
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.details().startswith('goal.business_figure: no series "rent"')
    with pytest.raises(grpc.RpcError) as e:
        client.set_goal("x", "cac", 1, *MARCH, business_figure="hiring_cost")
    assert e.value.details().startswith("goal.business_figure: a goal on a business figure")
    with pytest.raises(grpc.RpcError) as e:
        client.set_goal("x", "cac", 1, *MARCH, owner="Human Resources")
    assert e.value.details().startswith("goal.owner: ")


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "Rent", "values": {"2026-03-01": 1}}, "series[0].name: "),
    ({"name": "rent", "values": {}}, "series[0].values: at least one value"),
    ({"name": "rent", "values": {"2026-03-01": 1, "2026-13-01": 2}},
     'series[0].values[1].date: "2026-13-01" is not a date'),
    ({"name": "rent", "values": {"2026-03-01": math.nan}}, "series[0].values[0].value: must be finite"),
    ({"name": "rent", "values": {"2026-03-02": 1}, "granularity": "month"},
     "series[0].values[0].date: a monthly series takes the first day of the month"),
    ({"name": "headcount", "values": {"2026-03-01": 1}, "granularity": "month"},
     'series[0].granularity: the series "headcount" is daily'),
])
def test_bad_figures_name_the_field_and_store_nothing(client, kwargs, message):
    before = figures(client.channel_report(*MARCH))
    with pytest.raises(grpc.RpcError) as e:
        client.record_business_figures(**kwargs)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert e.value.details().startswith(message), e.value.details()
    assert figures(client.channel_report(*MARCH)) == before


def test_good_when_is_required(client):
    from attribution.v1 import report_service_pb2 as rpb
    with pytest.raises(grpc.RpcError) as e:
        client.reports.RecordBusinessFigures(rpb.RecordBusinessFiguresRequest(
            workspace="biz", series=[rpb.BusinessFigureSeries(
                name="rent", values=[rpb.BusinessFigureValue(date="2026-03-01", value=1)])]))
    assert e.value.details().startswith("series[0].good_when: is required")


def test_cli_import_figures_and_goals_by_owner(server, tmp_path):
    path = tmp_path / "figures.csv"
    path.write_text("series,date,value,unit,good_when,aggregation,granularity\n"
                    "support_cost,2026-03-01,120,EUR,down,sum,day\n"
                    "support_cost,2026-03-02,abc,EUR,down,sum,day\n"
                    "support_cost,2026-03-40,5,EUR,down,sum,day\n"
                    "support_cost,2026-02-01,200,EUR,down,sum,day\n"
                    "nps,2026-03-01,41,points,up,mean,month\n")
    ctl = [os.environ["ATTRIBUTIONCTL"], "--server=" + server, "--workspace=cli"]
    r = subprocess.run(ctl + ["import", "figures", str(path), "--format=json"],
                       capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout) == {"values": 3, "changed": 3, "rejected": 2}
    assert 'line 3: rejected: value: "abc" is not a number' in r.stderr
    assert 'line 4: rejected: date: "2026-03-40" is not a date' in r.stderr
    r = subprocess.run(ctl + ["report", "channels", "--start", MARCH[0], "--end", MARCH[1],
                              "--format=csv"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "(business),,support_cost,120,200,-80,-0.4,down,good" in r.stdout.splitlines()
    r = subprocess.run(ctl + ["goal", "set", "support", "--business_figure", "support_cost",
                              "--target", "150", "--owner", "customer_service",
                              "--start", MARCH[0], "--end", MARCH[1]],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(ctl + ["report", "goals", "--owner", "customer_service", "--format=csv"],
                       capture_output=True, text=True)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("goal,owner,channel,channel_group,metric,business_figure,target")
    assert lines[1].startswith("support,customer_service,,,,support_cost,150,")
    assert lines[1].endswith(",achieved")
    r = subprocess.run(ctl + ["report", "goals", "--owner", "hr", "--format=csv"],
                       capture_output=True, text=True)
    assert len(r.stdout.splitlines()) == 1

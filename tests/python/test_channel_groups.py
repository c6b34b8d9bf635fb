"""Channel groups against the real server: the default groups, the
workspace's own (SetChannelGroup), and GROUP_BY_CHANNEL_GROUP in Attribute,
TopPaths, ExplainCustomer and the reports; through Python and the CLI."""
import json
import os
import subprocess
import sys

import grpc
import pytest

from attribution_client import Client

KNOWN = ["facebook", "instagram", "x", "linkedin", "youtube", "tiktok", "pinterest",
         "reddit", "email", "organic_search", "paid_search", "display", "referral", "direct"]
RULE_BASED = ["first_touch", "last_touch", "last_non_direct", "linear", "position_based",
              "time_decay"]


def touch(event_id, customer, day, channel):
    return {"event_id": event_id, "customer_id": customer, "type": "touchpoint",
            "occurred_at": "2026-03-%02dT10:00:00Z" % day, "channel": channel,
            "interaction": "click"}


def purchase(event_id, customer, day):
    return {"event_id": event_id, "customer_id": customer, "type": "conversion",
            "occurred_at": "2026-03-%02dT12:00:00Z" % day, "conversion": "purchase",
            "revenue": "60", "currency": "USD"}


# Group paths (S: social_networks, E: email): A S S +, B E +, C E -, D S -,
# F E S +.
SMALL = [
    touch("a1", "A", 1, "facebook"), touch("a2", "A", 2, "instagram"), purchase("a3", "A", 3),
    touch("b1", "B", 1, "email"), purchase("b2", "B", 2),
    touch("c1", "C", 1, "email"),
    touch("d1", "D", 1, "facebook"),
    touch("f1", "F", 1, "email"), touch("f2", "F", 2, "tiktok"), purchase("f3", "F", 3),
]


def by_channel(rows):
    out = {}
    for r in rows:
        out.setdefault(r["model"], {})[r["channel"]] = r["conversions"]
    return out


def test_every_known_channel_is_in_exactly_one_default_group(server):
    with Client(server, workspace="empty") as c:
        groups = c.channel_groups()
    assert c.channel_groups is not None
    seen = [ch for channels in groups.values() for ch in channels]
    assert sorted(seen) == sorted(KNOWN)
    assert groups["social_networks"] == sorted(
        ["facebook", "instagram", "x", "linkedin", "youtube", "tiktok", "pinterest"])
    assert groups["communities"] == ["reddit"]
    assert groups["search"] == ["organic_search", "paid_search"]
    assert groups.assigned == []


def test_markov_and_shapley_by_group_by_hand(server):
    with Client(server, workspace="small") as c:
        c.record_events(SMALL)
        rows = c.attribute("acquisition", "2026-03-01", "2026-04-01",
                           models=["markov:1", "shapley", "linear"], group_by="channel_group")
        credit = by_channel(rows)
        # Markov order 1 on the group chain: P(conversion) = 3/5; without
        # social 1/5 (RE 2/3), without email 4/15 (RE 5/9); 3 conversions.
        assert credit["markov:1"]["social_networks"] == pytest.approx(18 / 11)
        assert credit["markov:1"]["email"] == pytest.approx(15 / 11)
        # Shapley: v({S}) = v({E}) = 1/2, v({E,S}) = 1; F splits 1/2, 1/2.
        assert credit["shapley"]["social_networks"] == pytest.approx(1.5)
        assert credit["shapley"]["email"] == pytest.approx(1.5)
        assert credit["linear"] == {"email": 1.5, "social_networks": 1.5}
        # TopPaths and ExplainCustomer speak groups too.
        paths = c.top_paths("acquisition", "2026-03-01", "2026-04-01", group_by="channel_group")
        assert sorted(tuple(p["steps"]) for p in paths) == [
            ("email",), ("email", "social_networks"), ("social_networks",),
            ("social_networks", "social_networks")]
        explained = c.explain_customer("F", "acquisition", "2026-03-01", "2026-04-01",
                                       models=["linear"], group_by="channel_group")
        assert "social_networks" in json.dumps(explained, default=str)


def test_rule_based_credit_of_a_group_is_the_sum_of_its_channels(server, tmp_path):
    events = tmp_path / "events.csv"
    spend = tmp_path / "spend.csv"
    subprocess.run([sys.executable, os.environ["GEN_EVENTS_PY"], "--events", "20000",
                    "--customers", "3000", "--out", str(events), "--spend_out", str(spend)],
                   check=True)
    with Client(server, workspace="gen") as c:
        c.import_csv(str(events))
        c.import_spend_csv(str(spend))
        # A custom assignment: reddit and a custom channel join a new group.
        assert c.set_channel_group("forums", ["reddit", "linkedin"]) == ["linkedin", "reddit"]
        groups = c.channel_groups()
        assert groups["forums"] == ["linkedin", "reddit"] and groups.assigned == ["forums"]
        assert "reddit" not in groups.get("communities", [])
        group_of = {ch: g for g, chs in groups.items() for ch in chs}
        for goal in ("acquisition", "repeat_purchase", "retention"):
            ch = by_channel(c.attribute(goal, "2025-01-01", "2026-01-01", models=RULE_BASED))
            gr = by_channel(c.attribute(goal, "2025-01-01", "2026-01-01", models=RULE_BASED,
                                        group_by="channel_group"))
            assert set(ch) == set(gr)
            for model in ch:
                summed = {}
                for channel, v in ch[model].items():
                    summed[group_of[channel]] = summed.get(group_of[channel], 0) + v
                assert set(summed) == set(gr[model]), (goal, model)
                for g, v in summed.items():
                    assert gr[model][g] == pytest.approx(v, abs=1e-9), (goal, model, g)
        # ChannelReport: new customers and spend add up per group.
        rep = c.channel_report("2025-03-01", "2025-06-01", model="linear")
        grp = c.channel_report("2025-03-01", "2025-06-01", model="linear",
                               group_by="channel_group")
        for metric in ("new_customers", "spend", "revenue"):
            summed = {}
            for r in rep:
                if r["metric"] == metric and r["channel"] not in ("", "(baseline)"):
                    g = group_of[r["channel"]]
                    summed[g] = summed.get(g, 0) + (r["value"] or 0)
            got = {r["channel"]: r["value"] or 0 for r in grp
                   if r["metric"] == metric and r["channel"] not in ("", "(baseline)")}
            for g, v in summed.items():
                assert got.get(g, 0) == pytest.approx(v, rel=1e-9, abs=1e-6), (metric, g)
        flow = c.cash_flow("2025-03-01", "2025-04-01", group_by="channel_group")
        assert {r["channel"] for r in flow} <= set(groups) | {""}
        assert "forums" in {r["channel"] for r in flow}
        cohorts = c.retention_cohorts("2025-01-01", "2025-07-01", group_by="channel_group")
        assert {r["channel"] for r in cohorts} <= set(groups) | {""}
        # A goal on a group tracks the group's figures.
        c.set_goal("social", "new_customers", 10, "2025-03-01", "2025-06-01",
                   channel_group="social_networks")
        [goal] = c.list_goals()
        social = [r for r in grp if r["channel"] == "social_networks"
                  and r["metric"] == "new_customers"][0]["value"]
        assert goal["channel_group"] == "social_networks"
        assert goal["actual"] == pytest.approx(social)
        # Deleting the group gives reddit back to communities.
        c.delete_channel_group("forums")
        assert c.channel_groups()["communities"] == ["reddit"]
        with pytest.raises(grpc.RpcError) as e:
            c.delete_channel_group("forums")
        assert e.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("name, channels, message", [
    ("Bad Name", ["reddit"], "group.name: "),
    ("forums", [], "group.channels: at least one channel"),
    ("forums", ["reddit", "reddit"], 'group.channels[1]: "reddit" is listed twice'),
    ("forums", ["reddit", "No!"], "group.channels[1]: "),
])
def test_bad_groups_name_the_field_and_store_nothing(server, name, channels, message):
    with Client(server, workspace="bad") as c:
        with pytest.raises(grpc.RpcError) as e:
            c.set_channel_group(name, channels)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert e.value.details().startswith(message), e.value.details()
        assert c.channel_groups().assigned == []


def test_the_latest_assignment_wins_and_cli_groups(server):
    with Client(server, workspace="cli") as c:
        c.record_events(SMALL)
        c.set_channel_group("paid", ["facebook", "email"])
        c.set_channel_group("mail", ["email"])
        assert c.channel_groups()["paid"] == ["facebook"]
        assert c.channel_groups()["mail"] == ["email"]
    ctl = [os.environ["ATTRIBUTIONCTL"], "--server=" + server, "--workspace=cli"]
    r = subprocess.run(ctl + ["groups", "set", "social", "--channels", "facebook, instagram",
                              "--format=csv"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1] == "social,facebook;instagram"
    r = subprocess.run(ctl + ["groups", "list", "--format=csv"], capture_output=True, text=True)
    lines = r.stdout.splitlines()
    assert lines[0] == "name,channels,assigned"
    assert "social,facebook;instagram,true" in lines
    assert not any(l.startswith("paid,") for l in lines)  # Emptied, so removed.
    r = subprocess.run(ctl + ["attribute", "--goal", "acquisition", "--start", "2026-03-01",
                              "--end", "2026-04-01", "--model", "linear", "--group_by", "group",
                              "--format=csv"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert {line.split(",")[1] for line in r.stdout.splitlines()[1:]} == \
        {"mail", "social", "social_networks"}
    r = subprocess.run(ctl + ["groups", "delete", "social"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(ctl + ["attribute", "--start", "2026-03-01", "--end", "2026-04-01",
                              "--group_by", "grup"], capture_output=True, text=True)
    assert r.returncode == 2 and 'did you mean "group"' in r.stderr, r.stderr

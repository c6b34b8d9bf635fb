"""The public conversation against the real server: RecordMentions,
ConversationReport, ListUnansweredQuestions and the summary's share of
voice; through Python and the CLI."""
import json
import os
import subprocess

import grpc
import pytest

from attribution_client import Client

MARCH = ("2026-03-01", "2026-04-01")


def mention(mid, day, channel="instagram", brand="", sentiment=None, question=False,
            answered=None, hour=10):
    m = {"mention_id": mid, "brand": brand, "channel": channel, "is_question": question,
         "occurred_at": "2026-%s T%02d:00:00Z".replace(" ", "") % (day, hour)}
    if sentiment:
        m["sentiment"] = sentiment
    if answered:
        m["answered_at"] = answered
    return m


# March: ours 6 (instagram 4, x 2), Acme 3 (instagram), Zed 1 (x).
# February: ours 2, Acme 2.
MENTIONS = [
    mention("o1", "03-02", sentiment="positive"),
    mention("o2", "03-03", sentiment="positive", question=True,
            answered="2026-03-03T12:00:00Z"),          # answered in 2 h
    mention("o3", "03-04", sentiment="negative", question=True,
            answered="2026-03-05T10:00:00Z"),          # in 24 h
    mention("o4", "03-05", question=True),             # not answered
    mention("o5", "03-06", channel="x", sentiment="neutral", question=True,
            answered="2026-03-06T16:00:00Z"),          # in 6 h
    mention("o6", "03-07", channel="x", sentiment="positive"),
    mention("a1", "03-02", brand="Acme", sentiment="negative"),
    mention("a2", "03-03", brand="Acme", sentiment="negative", question=True),
    mention("a3", "03-04", brand="Acme", sentiment="positive"),
    mention("z1", "03-05", channel="x", brand="Zed"),
    mention("f1", "02-10", sentiment="positive"),
    mention("f2", "02-11", question=True),             # Oldest unanswered.
    mention("f3", "02-12", brand="Acme"),
    mention("f4", "02-13", brand="Acme"),
]


@pytest.fixture
def client(server):
    with Client(server, workspace="talk") as c:
        assert c.record_mentions(MENTIONS) == {"stored": 14, "duplicates": 0, "answered": 0,
                                               "conflicts": 0}
        yield c


def value(rows, brand, channel, metric):
    [row] = [r for r in rows if (r["brand"], r["channel"], r["metric"]) ==
             (brand, channel, metric)]
    return row


def test_share_of_voice_sentiment_and_answer_times_by_hand(client):
    rows = client.conversation_report(*MARCH)  # Compared with February.
    assert rows.totals == {"largest_competitor": "Acme", "unanswered_questions": 2}
    sov = value(rows, "", "", "share_of_voice")
    assert sov["value"] == pytest.approx(6 / 10) and sov["previous"] == pytest.approx(2 / 4)
    assert (sov["direction"], sov["assessment"]) == ("up", "good")
    assert value(rows, "", "instagram", "share_of_voice")["value"] == pytest.approx(4 / 7)
    assert value(rows, "", "x", "share_of_voice")["value"] == pytest.approx(2 / 3)
    assert value(rows, "Acme", "", "share_of_voice")["value"] == pytest.approx(3 / 10)
    assert value(rows, "Acme", "", "share_of_voice")["assessment"] == "neutral"
    # Of our five mentions with a sentiment: 3 positive, 1 neutral, 1 negative.
    assert value(rows, "", "", "positive_share")["value"] == pytest.approx(3 / 5)
    assert value(rows, "", "", "neutral_share")["value"] == pytest.approx(1 / 5)
    assert value(rows, "", "", "negative_share")["value"] == pytest.approx(1 / 5)
    assert value(rows, "", "", "questions")["value"] == 4
    assert value(rows, "", "", "answered_share")["value"] == pytest.approx(3 / 4)
    assert value(rows, "", "", "median_seconds_to_answer")["value"] == 6 * 3600
    assert value(rows, "", "instagram", "median_seconds_to_answer")["value"] == 13 * 3600
    assert value(rows, "Acme", "", "negative_share")["value"] == pytest.approx(2 / 3)
    assert value(rows, "Zed", "", "positive_share")["value"] is None  # No sentiment.


def test_resending_changes_nothing_and_answers_are_recorded(client):
    before = client.conversation_report(*MARCH)
    assert client.record_mentions(MENTIONS) == {"stored": 0, "duplicates": 14,
                                                "answered": 0, "conflicts": 0}
    assert client.conversation_report(*MARCH) == before
    # o4 answered later: an update, not a conflict.
    answered = dict(MENTIONS[3], answered_at="2026-03-05T11:00:00Z")
    other = dict(MENTIONS[0], channel="x")
    assert client.record_mentions([answered, other]) == {
        "stored": 0, "duplicates": 0, "answered": 1, "conflicts": 1}
    rows = client.conversation_report(*MARCH)
    assert value(rows, "", "", "answered_share")["value"] == 1
    assert value(rows, "", "instagram", "mentions")["value"] == 4  # o1 not moved.
    assert [q["mention_id"] for q in client.unanswered_questions()] == ["f2"]


def test_unanswered_questions_oldest_first_and_paged(client):
    assert [q["mention_id"] for q in client.unanswered_questions(page_size=1)] == ["f2", "o4"]
    assert [q["mention_id"] for q in client.unanswered_questions(brand="Acme")] == ["a2"]


@pytest.mark.parametrize("bad, message", [
    ({"mention_id": ""}, "mentions[1].mention_id: "),
    ({"channel": "Insta Gram"}, "mentions[1].channel: "),
    ({"occurred_at": "1999-12-31T00:00:00Z"}, "mentions[1].occurred_at: "),
    ({"answered_at": "2026-03-01T00:00:00Z", "is_question": True},
     "mentions[1].answered_at: is before occurred_at"),
    ({"answered_at": "2026-03-09T00:00:00Z"}, "mentions[1].answered_at: only a question"),
    ({"brand": "a" * 65}, "mentions[1].brand: "),
])
def test_bad_mentions_name_the_field_and_store_nothing(server, bad, message):
    with Client(server, workspace="bad") as c:
        good = mention("g1", "03-02")
        with pytest.raises(grpc.RpcError) as e:
            c.record_mentions([good, dict(mention("b1", "03-03"), **bad)])
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert e.value.details().startswith(message), e.value.details()
        assert c.conversation_report(*MARCH) == []


def test_summary_and_cli(client, server, tmp_path):
    ctl = [os.environ["ATTRIBUTIONCTL"], "--server=" + server, "--workspace=talk"]
    r = subprocess.run(ctl + ["report", "summary", "--start", MARCH[0], "--end", MARCH[1]],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert ("Share of voice: 60.0% (up 10.0 pts), against 30.0% for Acme, the largest "
            "competitor; 60.0% positive and 20.0% negative.") in r.stdout
    path = tmp_path / "mentions.csv"
    path.write_text("mention_id,brand,channel,occurred_at,sentiment,author,is_question,answered_at\n"
                    "n1,,reddit,2026-03-20T09:00:00Z,positive,@ann,false,\n"
                    "n2,,reddit,2026-03-21,angry,@bob,false,\n"
                    "n3,Acme,reddit,2026-03-22,negative,@cy,true,\n"
                    "o1,,instagram,2026-03-02T10:00:00Z,positive,,false,\n")
    r = subprocess.run(ctl + ["import", "mentions", str(path), "--format=json"],
                       capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    assert json.loads(r.stdout) == {"stored": 2, "duplicates": 1, "answered": 0,
                                    "conflicts": 0, "rejected": 1}
    assert 'line 3: rejected: sentiment: "angry" is not positive' in r.stderr
    r = subprocess.run(ctl + ["report", "conversation", "--start", MARCH[0], "--end", MARCH[1],
                              "--format=csv"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "brand,channel,metric,value,previous,change,change_ratio,direction,assessment"
    assert ",reddit,mentions,1,0,1,,up,good" in lines  # None in February.
    r = subprocess.run(ctl + ["report", "questions", "--format=csv"], capture_output=True,
                       text=True)
    assert [l.split(",")[0] for l in r.stdout.splitlines()[1:]] == ["f2", "o4"]

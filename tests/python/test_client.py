"""The Python client and the generated stubs against the real server."""
import grpc
import pytest
from google.protobuf import timestamp_pb2

from attribution.v1 import attribution_service_pb2 as pb
from attribution.v1 import attribution_service_pb2_grpc as pb_grpc
from attribution.v1 import events_pb2 as events
from attribution_client import Client

HEADER = ("event_id,customer_id,occurred_at,type,channel,campaign,interaction,"
          "stage,sentiment,conversion,revenue,currency\n")


def test_generated_stubs_record_and_read_a_journey(server):
    stub = pb_grpc.AttributionServiceStub(grpc.insecure_channel(server))
    when = timestamp_pb2.Timestamp(seconds=1780000000)
    touch = events.Event(touchpoint=events.Touchpoint(
        event_id="t1", customer_id="c1", occurred_at=when, channel="instagram",
        interaction=events.INTERACTION_LIKE))
    later = timestamp_pb2.Timestamp(seconds=1780003600)
    buy = events.Event(conversion=events.Conversion(
        event_id="p1", customer_id="c1", occurred_at=later,
        kind=events.CONVERSION_KIND_PURCHASE, revenue_micros=25_500_000, currency="EUR"))
    r = stub.RecordEvents(pb.RecordEventsRequest(workspace="py", events=[buy, touch]))
    assert (r.stored, r.duplicates) == (2, 0)

    j = stub.GetJourney(pb.GetJourneyRequest(workspace="py", customer_id="c1"))
    assert [e.event.WhichOneof("kind") for e in j.events] == ["touchpoint", "conversion"]
    assert j.events[0].effective_stage == events.STAGE_DISCOVERY
    assert j.events[0].stage_derived
    assert j.events[1].event.conversion.revenue_micros == 25_500_000
    assert j.first_purchase_at.seconds == 1780003600


def test_bad_event_is_rejected_naming_field_and_index(server):
    with Client(server, workspace="py") as client:
        with pytest.raises(grpc.RpcError) as err:
            client.record_events([
                {"event_id": "ok", "customer_id": "c1", "occurred_at": "2026-03-01T12:00:00Z",
                 "type": "touchpoint", "channel": "x", "interaction": "click"},
                {"event_id": "bad", "customer_id": "c1", "occurred_at": "2026-03-01T12:00:00Z",
                 "type": "touchpoint", "channel": "Not A Slug", "interaction": "click"},
            ])
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "events[1].touchpoint.channel" in err.value.details()
        assert client.describe()["touchpoints"] == 0


def test_thin_client_imports_a_csv_and_reads_the_journey(server, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        HEADER
        + "t1,c1,2026-03-01T12:00:00Z,touchpoint,tiktok,launch,share,,positive,,,\n"
        + "p1,c1,2026-03-02T12:00:00Z,conversion,,,,,,purchase,19.99,EUR\n"
        + "t2,c1,2026-03-03T12:00:00Z,touchpoint,email,,click,loyalty,,,,\n"
        + "t3,c1,2026-03-04T12:00:00Z,touchpoint,facebook,,click,,,,,\n"
        + "bad,c1,2026-03-05T12:00:00Z,touchpoint,facebook,,poke,,,,,\n"
        + "p2,c2,2026-03-05T12:00:00Z,conversion,,,,,,purchase,5,EURO\n")
    with Client(server, workspace="py") as client:
        result = client.import_csv(str(path), batch_size=2)
        assert result.rows == 6
        assert result.stored == 4
        assert [r.line for r in result.rejected] == [6, 7]
        assert "interaction" in result.rejected[0].reason
        assert "conversion.currency" in result.rejected[1].reason

        journey = client.get_journey("c1")
        assert [r["event_id"] for r in journey] == ["t1", "p1", "t2", "t3"]
        assert [r["effective_stage"] for r in journey] == ["discovery", "", "loyalty", "purchase"]
        assert journey[1]["revenue"] == "19.99"
        assert journey[0]["sentiment"] == "positive"

        again = client.import_csv(str(path))
        assert (again.stored, again.duplicates) == (0, 4)

        assert client.erase_customer("c1") == {"touchpoints_removed": 3, "conversions_removed": 1}
        with pytest.raises(grpc.RpcError) as err:
            client.get_journey("c1")
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_import_refuses_a_file_missing_a_required_column(server, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("event_id,customer_id,occurred_at,type\nt1,c1,2026-03-01T12:00:00Z,touchpoint\n")
    with Client(server, workspace="py") as client:
        with pytest.raises(ValueError, match="channel, interaction, conversion"):
            client.import_csv(str(path))
        assert client.describe()["touchpoints"] == 0

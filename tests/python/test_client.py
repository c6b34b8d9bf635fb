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

        assert client.erase_customer("c1") == {"touchpoints_removed": 3, "conversions_removed": 1,
                                               "linked_identities_removed": 0}
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


def test_attribution_rows_paths_and_explanations(server, tmp_path):
    path = tmp_path / "journeys.csv"
    rows = []
    for c in range(30):
        first = ["instagram", "facebook", "tiktok"][c % 3]
        rows.append("c%d-1,c%d,2026-03-01T10:00:00Z,touchpoint,%s,,click,,,,," % (c, c, first))
        rows.append("c%d-2,c%d,2026-03-02T10:00:00Z,touchpoint,email,,click,,,,," % (c, c))
        if c % 2:
            rows.append("c%d-3,c%d,2026-03-03T10:00:00Z,conversion,,,,,,purchase,20,EUR" % (c, c))
    path.write_text(HEADER + "\n".join(rows) + "\n")
    with Client(server, workspace="attr") as client:
        assert client.import_csv(str(path)).stored == 75
        result = client.attribute("acquisition", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z",
                                  models=("first_touch", "markov:2", "shapley"))
        assert result.totals["conversions"] == 15
        assert result.totals["non_converting_journeys"] == 15
        for model in ("first_touch", "markov:2", "shapley"):
            credited = [r for r in result if r["model"] == model]
            assert abs(sum(r["conversions"] for r in credited) - 15) < 1e-9
            assert abs(sum(r["revenue"] for r in credited) - 300) < 1e-6
        first = {r["channel"]: r["conversions"] for r in result if r["model"] == "first_touch"}
        assert first["email"] == 0 and first["instagram"] == 5

        paths = client.top_paths("acquisition", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")
        assert sum(p["conversions"] + p["non_conversions"] for p in paths) == 30
        assert paths[0]["steps"][1] == "email"

        explained = client.explain_customer("c1", "acquisition", "2026-03-01T00:00:00Z",
                                            "2026-04-01T00:00:00Z", models=("linear",))
        assert explained[0]["event_id"] == "c1-3"
        assert [t["credits"]["linear"] for t in explained[0]["touches"]] == [0.5, 0.5]


def test_attribute_as_frame_needs_pandas(server):
    with Client(server, workspace="attr") as client:
        try:
            import pandas  # noqa: F401
        except ImportError:
            with pytest.raises(ImportError, match="needs pandas"):
                client.attribute("acquisition", "2026-03-01T00:00:00Z",
                                 "2026-04-01T00:00:00Z", as_frame=True)
        else:
            frame = client.attribute("acquisition", "2026-03-01T00:00:00Z",
                                     "2026-04-01T00:00:00Z", as_frame=True)
            assert list(frame.columns) == ["model", "channel", "campaign",
                                           "conversions", "revenue", "share"]


def test_tls_client_talks_to_a_tls_server(tmp_path):
    import os
    import subprocess

    def openssl(*args):
        subprocess.run(["/usr/bin/openssl", *args], check=True, capture_output=True)

    d = str(tmp_path)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/ca.key",
            "-out", d + "/ca.pem", "-days", "2", "-subj", "/CN=test-ca")
    (tmp_path / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/server.key",
            "-out", d + "/server.csr", "-subj", "/CN=server")
    openssl("x509", "-req", "-in", d + "/server.csr", "-CA", d + "/ca.pem", "-CAkey",
            d + "/ca.key", "-CAcreateserial", "-out", d + "/server.pem", "-days", "2",
            "-extfile", d + "/san.ext")
    proc = subprocess.Popen(
        [os.environ["ATTRIBUTIOND"], "--listen=127.0.0.1:0", "--data_dir=" + d + "/db",
         "--tls_cert_file=" + d + "/server.pem", "--tls_key_file=" + d + "/server.key",
         "--auth=off"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        address = proc.stdout.readline().split()[-1]
        with Client(address, workspace="tls", tls_ca=d + "/ca.pem") as client:
            assert client.record_events([
                {"event_id": "t1", "customer_id": "c1", "occurred_at": "2026-03-01T12:00:00Z",
                 "type": "touchpoint", "channel": "x", "interaction": "click"}]) == (1, 0)
        with Client(address, workspace="tls") as plaintext:
            with pytest.raises(grpc.RpcError) as err:
                plaintext.describe()
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_api_key_is_sent_on_every_call(tmp_path):
    import hashlib
    import os
    import subprocess

    key = "py-writer-and-reader"
    keys = tmp_path / "keys.txt"
    keys.write_text("sha256:%s acme reader,writer\n" % hashlib.sha256(key.encode()).hexdigest())
    proc = subprocess.Popen(
        [os.environ["ATTRIBUTIOND"], "--listen=127.0.0.1:0", "--data_dir=%s" % (tmp_path / "db"),
         "--api_keys_file=%s" % keys],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        address = proc.stdout.readline().split()[-1]
        path = tmp_path / "e.csv"
        path.write_text(HEADER + "t1,c1,2026-03-01T12:00:00Z,touchpoint,x,,click,,,,,\n")
        with Client(address, workspace="acme", api_key=key) as client:
            assert client.import_csv(str(path)).stored == 1       # a stream
            assert len(client.get_journey("c1")) == 1            # a unary call
        os.environ["ATTRIBUTION_API_KEY"] = key
        try:
            with Client(address, workspace="acme") as from_env:
                assert len(from_env.get_journey("c1")) == 1
        finally:
            del os.environ["ATTRIBUTION_API_KEY"]
        with Client(address, workspace="acme") as anonymous:
            with pytest.raises(grpc.RpcError) as err:
                anonymous.get_journey("c1")
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with Client(address, workspace="other", api_key=key) as elsewhere:
            with pytest.raises(grpc.RpcError) as err:
                elsewhere.describe()
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_incremental_rows_and_experiments(server, tmp_path):
    path = tmp_path / "journeys.csv"
    rows = []
    for c in range(400):
        rows.append("c%d-1,c%d,2026-03-01T10:00:00Z,touchpoint,%s,,click,,,,," %
                    (c, c, ["instagram", "facebook"][c % 2]))
        if c % 3 == 0:
            rows.append("c%d-2,c%d,2026-03-02T10:00:00Z,touchpoint,email,,click,,,,," % (c, c))
        if c % 4 == 0 or (c % 3 == 0 and c % 2 == 0):
            rows.append("c%d-3,c%d,2026-03-03T10:00:00Z,conversion,,,,,,purchase,20,EUR" % (c, c))
    path.write_text(HEADER + "\n".join(rows) + "\n")
    with Client(server, workspace="inc") as client:
        client.import_csv(str(path))
        window = ("2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")
        result = client.attribute("acquisition", *window, models=("incremental",))
        baseline = [r for r in result if r["channel"] == "(baseline)"]
        assert len(baseline) == 1
        credited = sum(r["conversions"] for r in result if r["channel"] != "(baseline)")
        assert abs(credited + baseline[0]["conversions"] - result.totals["conversions"]) < 1e-6

        with_intervals = client.attribute("acquisition", *window, models=("incremental", "linear"),
                                          intervals=True, replicates=50)
        for r in with_intervals:
            assert r["conversions_interval.low"] <= r["conversions_interval.high"]
        linear = [r for r in with_intervals if r["model"] == "linear"]
        assert all(r["conversions_interval.low"] <= r["conversions"] <= r["conversions_interval.high"]
                   for r in linear)

        # The report under the incremental model: what channels caused, with
        # intervals, and the baseline's credited figures.
        report = client.channel_report("2026-03-01", "2026-04-01", compare="none",
                                       model="incremental", intervals=True, replicates=50)
        new = {r["channel"]: r for r in report if r["metric"] == "new_customers"}
        inc = {r["channel"]: r for r in result}
        for channel in ("instagram", "facebook", "email"):
            assert abs(new[channel]["value"] - inc[channel]["conversions"]) < 1e-6
            assert new[channel]["low"] <= new[channel]["high"]
        assert abs(new["(baseline)"]["value"] - inc["(baseline)"]["conversions"]) < 1e-6
        assert {r["metric"] for r in report if r["channel"] == "(baseline)"} == {
            "leads", "new_customers", "revenue"}

        stored = client.record_experiment("email-holdout", "email", "acquisition", *window,
                                          treated_customers=1000, treated_conversions=120,
                                          holdout_customers=100, holdout_conversions=10)
        assert stored["treated_customers"] == 1000
        client.record_experiment("ig-lift", "instagram", "acquisition", *window,
                                 estimate=12.5, standard_error=3.0)
        assert [e["name"] for e in client.list_experiments()] == ["email-holdout", "ig-lift"]
        with pytest.raises(grpc.RpcError) as bad:
            client.record_experiment("bad", "email", "acquisition", *window,
                                     estimate=1.0, standard_error=0.0)
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "experiment.estimate.standard_error" in bad.value.details()
        client.delete_experiment("ig-lift")
        assert [e["name"] for e in client.list_experiments()] == ["email-holdout"]
        with pytest.raises(grpc.RpcError) as missing:
            client.delete_experiment("ig-lift")
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND

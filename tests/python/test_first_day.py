"""A data team's first day with the Python client, against the real server
and the real CLI: environment, deadlines, dates, typed errors, imports and
exports, workspaces, backups, frames with and without pandas, one vocabulary
across CLI JSON, CLI CSV and Python, and the installable package."""
import csv
import datetime
import io
import json
import os
import shutil
import subprocess
import sys

import pytest

import attribution_client
from attribution_client import Client
from conftest import start_server

MODELS = ["first_touch", "last_touch", "last_non_direct", "linear", "position_based",
          "time_decay", "markov:2", "shapley", "incremental"]


def generate(tmp_path, events=6000, customers=600, fmt="csv", seed=7):
    path = tmp_path / ("events." + fmt)
    subprocess.run([sys.executable, os.environ["GEN_EVENTS_PY"], "--events", str(events),
                    "--customers", str(customers), "--seed", str(seed), "--format", fmt,
                    "--out", str(path)], check=True)
    return path


def ctl(server, *args, workspace="py"):
    r = subprocess.run([os.environ["ATTRIBUTIONCTL"], "--server=" + server,
                        "--workspace=" + workspace, *args],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_address_and_workspace_come_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("ATTRIBUTION_SERVER", server)
    monkeypatch.setenv("ATTRIBUTION_WORKSPACE", "from-env")
    with Client() as c:
        assert c.address == server
        assert c.workspace == "from-env"
        assert c.record_events([{"event_id": "t1", "customer_id": "c1",
                                 "occurred_at": "2026-03-01", "type": "touchpoint",
                                 "channel": "email", "interaction": "click"}]) == (1, 0)
    with Client(server, workspace="other") as c:
        assert c.list_workspaces() == ["from-env"]


def test_every_call_has_a_deadline_and_typed_errors(server, tmp_path):
    with Client(server, workspace="py") as c:
        with pytest.raises(attribution_client.DeadlineExceeded):
            c.describe(timeout=1e-6)
        with pytest.raises(attribution_client.NotFound) as err:
            c.get_journey("nobody")
        assert "customer_id" in err.value.message
        assert err.value.code().name == "NOT_FOUND"
        with pytest.raises(attribution_client.InvalidArgument) as err:
            c.record_events([{"event_id": "x", "customer_id": "c1",
                              "occurred_at": "2026-03-01T00:00:00Z", "type": "touchpoint",
                              "channel": "Not A Slug", "interaction": "click"}])
        assert "events[0].touchpoint.channel" in err.value.details()
        with pytest.raises(attribution_client.FailedPrecondition):
            c.create_backup("b1")  # The server runs without --backup_root.
    with Client("127.0.0.1:1", timeout=5) as dead:
        with pytest.raises(attribution_client.Unavailable):
            dead.describe()
    # Any error is a grpc.RpcError too, for code written against the stubs.
    import grpc
    assert issubclass(attribution_client.AttributionError, grpc.RpcError)


def test_plain_dates_are_accepted_everywhere(server, tmp_path):
    path = generate(tmp_path)
    with Client(server, workspace="py") as c:
        c.import_csv(str(path))
        a = c.attribute("acquisition", "2025-01-01", "2026-01-01", models=["linear"])
        b = c.attribute("Acquisition", datetime.date(2025, 1, 1),
                        datetime.datetime(2026, 1, 1), models="Linear")
        assert a == b and len(a) > 0
        assert c.top_paths("acquisition", "2025-01-01", datetime.date(2026, 1, 1))
        assert c.explain_customer("c0000000", "repeat-purchase", "2025-01-01", "2026-01-01")
        e = c.record_experiment("t", "email", "acquisition", "2025-01-01",
                                datetime.date(2025, 2, 1), estimate=10, standard_error=2)
        assert e["start"] == datetime.datetime(2025, 1, 1)
        assert c.cash_flow("2025-03-01", datetime.date(2025, 4, 1), granularity="week")
        assert c.retention_cohorts(datetime.date(2025, 1, 1), "2025-07-01",
                                   horizon_days=(30,))
        with pytest.raises(ValueError, match="start: 'March' is not a date"):
            c.attribute("acquisition", "March", "2026-01-01")


def test_import_csv_and_jsonl_export_and_reimport(server, tmp_path):
    csv_path = generate(tmp_path)
    jsonl_path = generate(tmp_path, fmt="jsonl")
    with Client(server, workspace="csv") as c:
        r = c.import_csv(str(csv_path))
        assert (r.rows, r.stored, r.duplicates, r.conflicts, r.rejected) == (6000, 6000, 0, 0, [])
        again = c.import_csv(str(csv_path))
        assert (again.stored, again.duplicates) == (0, 6000)
    with Client(server, workspace="jsonl") as c:
        assert c.import_jsonl(str(jsonl_path)).stored == 6000
    with Client(server, workspace="csv") as c:
        exported = tmp_path / "export.jsonl"
        assert c.export_events(str(exported)) == 6000
        rows = c.export_events(customer_id="c0000003", start="2025-01-01")
        assert rows and all(r["customer_id"] == "c0000003" for r in rows)
        before = c.attribute("acquisition", "2025-01-01", "2026-01-01", models=MODELS)
    with Client(server, workspace="copy") as c:
        assert c.import_jsonl(str(exported)).stored == 6000
        assert c.attribute("acquisition", "2025-01-01", "2026-01-01", models=MODELS) == before
        assert c.get_journey("c0000003") == Client(server, workspace="csv").get_journey("c0000003")
    # A conflicting id is counted apart, with the ids shown.
    other = tmp_path / "other.csv"
    text = csv_path.read_text().splitlines()
    other.write_text("\n".join([text[0], text[1].replace(",x,", ",tiktok,")]) + "\n")
    with Client(server, workspace="csv") as c:
        r = c.import_csv(str(other))
        assert (r.stored, r.duplicates, r.conflicts) == (0, 0, 1)
        assert r.conflict_event_ids == [text[1].split(",")[0]]


def test_bulk_import_csv_matches_the_stream_and_names_bad_lines(server, tmp_path):
    csv_path = generate(tmp_path, events=6000, customers=600, seed=9)
    lines = csv_path.read_text().splitlines(keepends=True)
    # Two bad rows, one quoted field holding a comma, and parts of 4 KB.
    lines[10] = lines[10].replace(lines[10].split(",")[2], "yesterday", 1)
    lines[5000] = lines[5000].split(",", 1)[0] + ",c9,2025-03-01T00:00:00Z,touchpoint,Bad,,like,,,,,\n"
    lines[20] = lines[20].replace(lines[20].split(",")[5], '"a, b"', 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("".join(lines))
    with Client(server, workspace="streamed") as c:
        streamed = c.import_csv(str(bad))
    with Client(server, workspace="bulk") as c:
        r = c.import_csv(str(bad), bulk=True, bulk_part_bytes=4096)
        assert (r.rows, r.stored, r.duplicates, r.conflicts) == (6000, 5998, 0, 0)
        assert [x.line for x in r.rejected] == [11, 5001]
        assert [x.line for x in streamed.rejected] == [11, 5001]
        assert r.rejected[0].reason.startswith("occurred_at: \"yesterday\"")
        assert r.rejected[1].reason == "channel: must be a lower-case slug of [a-z0-9_]"
        again = c.import_csv(str(bad), bulk=True)
        assert (again.stored, again.duplicates, len(again.rejected)) == (0, 5998, 2)
        assert c.describe() == Client(server, workspace="streamed").describe()
        assert (c.attribute("acquisition", "2025-01-01", "2026-01-01", models=MODELS) ==
                Client(server, workspace="streamed").attribute(
                    "acquisition", "2025-01-01", "2026-01-01", models=MODELS))


def test_backups_through_the_client(tmp_path):
    proc, address = start_server(tmp_path, "--backup_root=%s" % (tmp_path / "backups"))
    try:
        with Client(address, workspace="py") as c:
            b = c.create_backup("nightly")
            assert b["path"].endswith("/nightly") and b["taken_at"].endswith("Z")
            with pytest.raises(attribution_client.AlreadyExists):
                c.create_backup("nightly")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_frames_with_pandas(server, tmp_path):
    pandas = pytest.importorskip("pandas", reason="the set-up installs python3-pandas")
    with Client(server, workspace="py") as c:
        c.import_csv(str(generate(tmp_path)))
        frame = c.attribute("acquisition", "2025-01-01", "2026-01-01",
                            models=["linear", "shapley"], as_frame=True)
        assert isinstance(frame, pandas.DataFrame)
        assert list(frame.columns) == ["model", "channel", "campaign", "conversions",
                                       "revenue", "share"]
        assert frame.groupby("model")["share"].sum().round(9).tolist() == [1.0, 1.0]
        empty = Client(server, workspace="empty").attribute(
            "acquisition", "2025-01-01", "2026-01-01", as_frame=True)
        assert list(empty.columns)[:3] == ["model", "channel", "campaign"]
        assert len(c.channel_report("2025-01-01", "2025-07-01", as_frame=True)) > 0


def test_frames_without_pandas(server, monkeypatch):
    # Hidden, whether or not the machine has it.
    monkeypatch.setitem(sys.modules, "pandas", None)
    with Client(server, workspace="py") as c:
        with pytest.raises(ImportError, match="needs pandas"):
            c.attribute("acquisition", "2025-01-01", "2026-01-01", as_frame=True)
        assert c.attribute("acquisition", "2025-01-01", "2026-01-01") == []


def _numbers(row):
    """CSV text back to numbers where it is one."""
    out = {}
    for k, v in row.items():
        try:
            out[k] = float(v) if v != "" else None
        except ValueError:
            out[k] = v
    return out


# The same request through CLI JSON, CLI CSV and Python: the same names and
# values, exactly.
def test_one_vocabulary_across_cli_json_cli_csv_and_python(server, tmp_path):
    ctl(server, "import", "events", str(generate(tmp_path)))
    window = ["--start=2025-01-01", "--end=2026-01-01"]
    with Client(server, workspace="py") as c:
        py = c.attribute("acquisition", "2025-01-01", "2026-01-01", models=MODELS)
        text = ctl(server, "--format=csv", "attribute", "--model=" + ",".join(MODELS), *window)
        rows = [_numbers(r) for r in csv.DictReader(io.StringIO(text))]
        assert list(rows[0]) == list(py[0])  # The same names, in order.
        for a, b in zip(rows, py):
            assert a == {k: (None if v == "" else v) for k, v in b.items()}
        doc = json.loads(ctl(server, "--format=json", "attribute",
                             "--model=" + ",".join(MODELS), *window))
        flat = []
        for result in doc["results"]:
            for g in result["groups"]:
                flat.append((g["channel"], g["conversions"], g["revenue"], g["share"]))
            if "baseline" in result:
                b = result["baseline"]
                flat.append(("(baseline)", b["conversions"], b["revenue"],
                             b["share_of_conversions"]))
        assert flat == [(r["channel"], r["conversions"], r["revenue"], r["share"]) for r in py]
        assert doc["results"][0]["model"]["model"] == "first_touch"
        assert doc["request"]["goal"] == "acquisition"

        report = c.channel_report("2025-04-01", "2025-07-01")
        text = ctl(server, "--format=csv", "report", "channels",
                   "--start=2025-04-01", "--end=2025-07-01")
        rows = [_numbers(r) for r in csv.DictReader(io.StringIO(text))]
        assert set(rows[0]) == set(report[0])
        for a, b in zip(rows, report):
            assert a == {k: (None if v == "" else v) for k, v in b.items()}
        assert {r["direction"] for r in report} <= {"", "up", "down", "flat"}
        doc = json.loads(ctl(server, "--format=json", "report", "channels",
                             "--start=2025-04-01", "--end=2025-07-01"))
        new = doc["total"]["new_customers"]
        [py_new] = [r for r in report if r["channel"] == "" and r["metric"] == "new_customers"]
        assert (new["value"], new.get("direction", "")) == (py_new["value"], py_new["direction"])
        # A whole calendar quarter is compared with the previous quarter.
        assert doc["request"]["compare"] == {"start": "2025-01-01T00:00:00Z",
                                             "end": "2025-04-01T00:00:00Z"}
        assert report.totals["compare"] == ("2025-01-01", "2025-04-01")

        flow = c.cash_flow("2025-04-01", "2025-05-01", granularity="week")
        text = ctl(server, "--format=csv", "report", "cashflow", "--start=2025-04-01",
                   "--end=2025-05-01", "--granularity=week")
        rows = [_numbers(r) for r in csv.DictReader(io.StringIO(text))]
        assert list(rows[0]) == list(flow[0])
        assert [r["running_net"] for r in rows] == [r["running_net"] for r in flow]
        cohorts = c.retention_cohorts("2025-01-01", "2025-07-01", horizon_days=(30, 90))
        text = ctl(server, "--format=csv", "report", "cohorts", "--start=2025-01-01",
                   "--end=2025-07-01", "--horizon_days=30,90")
        rows = list(csv.DictReader(io.StringIO(text)))
        assert list(rows[0]) == list(cohorts[0])


def test_the_package_installs_with_its_stubs(server, tmp_path):
    if shutil.which("pip3") is None and not os.path.exists("/usr/lib/python3/dist-packages/pip"):
        pytest.fail("pip is missing: deploy/install-deps.sh installs python3-pip")
    source = tmp_path / "src"
    shutil.copytree(os.environ["CLIENT_PACKAGE_DIR"], source,
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    r = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-build-isolation",
                        "--no-index", "--no-deps", "--quiet", str(source)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["ATTRIBUTION_SERVER"] = server
    probe = ("import attribution_client, attribution.v1.attribution_service_pb2 as pb;"
             "print(attribution_client.__file__);"
             "print(attribution_client.Client(workspace='pkg').describe()['customers'])")
    r = subprocess.run([str(venv / "bin" / "python"), "-c", probe], cwd=str(tmp_path),
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    where, customers = r.stdout.split()
    assert where.startswith(str(venv)) and customers == "0"
    r = subprocess.run([str(venv / "bin" / "pip"), "show", "attribution-client"],
                       capture_output=True, text=True, env=env)
    assert "Version: %s" % attribution_client.__version__ in r.stdout, r.stdout


def test_the_client_and_the_server_are_one_version(server):
    with Client(server) as c:
        info = c.server_info()
    assert info["version"] == attribution_client.__version__
    assert (info["auth"], info["durability"], info["tls"]) == ("off", "process", False)
    assert info["uptime"] >= 0 and info["started_at"].endswith("Z")


def test_the_fast_import_encoding_equals_the_messages(tmp_path):
    """import_csv sends the bytes row_to_event(row).SerializeToString() gives,
    for every kind of row, in either column order."""
    from attribution_client import client as impl
    path = generate(tmp_path, events=3000, customers=300)
    rows = list(csv.DictReader(open(path)))
    rows.append(dict(rows[0], occurred_at="2026-03-01T12:00:00.250+02:00", stage="",
                     campaign="naïve ☃"))
    rows.append(dict(rows[0], type=" Touchpoint ", interaction="LIKE", occurred_at="1970-01-01T00:00:00Z"))
    for row in rows:
        assert impl._encode_row(row) == impl.row_to_event(row).SerializeToString(), row
        reordered = dict(reversed(list(row.items())))
        assert impl._encode_row(reordered) == impl.row_to_event(row).SerializeToString()
    for bad, column in ((dict(rows[0], interaction="poke"), "interaction"),
                        (dict(rows[0], occurred_at="yesterday"), "occurred_at"),
                        (dict(rows[0], type="click"), "type")):
        with pytest.raises(ValueError, match=column):
            impl._encode_row(bad)


def test_a_large_import_parses_in_a_second_process(server, tmp_path):
    from attribution_client import client as impl
    path = generate(tmp_path, events=60000, customers=6000)
    assert os.path.getsize(path) > impl._wire.PARALLEL_IMPORT_BYTES
    text = path.read_text().splitlines()
    text.insert(30001, "bad,c1,2026-03-01T00:00:00Z,touchpoint,x,,poke,,,,,")
    path.write_text("\n".join(text) + "\n")
    with Client(server, workspace="big") as c:
        r = c.import_csv(str(path), batch_size=700)
        assert (r.rows, r.stored) == (60001, 60000)
        assert [(x.line, x.reason.split(":")[0]) for x in r.rejected] == [(30002, "interaction")]


def test_import_jsonl_reports_bad_lines_by_number(server, tmp_path):
    good = ('{"event_id":"%s","customer_id":"c1","occurred_at":"2026-03-01T12:00:00Z",'
            '"type":"touchpoint","channel":"email","interaction":"click"}')
    lines = [good % "a", "", "not json", good % "b" + "," + good % "c", "[1]",
             '{"event_id":"p","customer_id":"c1","occurred_at":"2026-03-02T00:00:00Z",'
             '"type":"conversion","conversion":"purchase","revenue":19.99,"currency":null}',
             good % "d"]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with Client(server, workspace="jsonl") as c:
        r = c.import_jsonl(str(path))
        assert (r.rows, r.stored) == (6, 3)
        assert [x.line for x in r.rejected] == [3, 4, 5]
        assert all(x.reason.startswith("line:") for x in r.rejected)
        [purchase] = [e for e in c.get_journey("c1") if e["type"] == "conversion"]
        assert purchase["revenue"] == "19.99"

"""The executive page in a real browser: the real server on 127.0.0.1, 14
channels of generated events with spend and goals, the page written by
`attributionctl report page` (HTML and PDF) and by the Python client, and
Debian's Chromium, headless, reading it (tests/page/check_page.mjs).

Run by ctest as report_page_test (the build installs playwright-core and the
set-up installs Chromium); the screenshot is kept in $ARTIFACT_DIR."""
import json
import os
import re
import shutil
import subprocess

import pytest

from attribution_client import Client

CTL = os.environ.get("ATTRIBUTIONCTL", "")
START, END = "2025-07-01", "2025-10-01"
CHANNELS = 14


def ctl(address, *args, check=True):
    r = subprocess.run([CTL, "--server", address, "--workspace", "page", *args],
                       capture_output=True, text=True, timeout=300)
    if check:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A server holding 14 channels' journeys, a year of spend and 3 goals."""
    from conftest import start_server
    tmp = tmp_path_factory.mktemp("page")
    proc, address = start_server(tmp)
    events, spend = tmp / "events.csv", tmp / "spend.csv"
    subprocess.run(["/usr/bin/python3", os.environ["GEN_EVENTS_PY"], "--events", "40000",
                    "--customers", "4000", "--lead_rate", "0.05", "--out", str(events),
                    "--spend_out", str(spend)], check=True)
    ctl(address, "settings", "set", "--gross_margin", "0.6")
    ctl(address, "import", "events", str(events))
    ctl(address, "import", "spend", str(spend))
    ctl(address, "goal", "set", "q3-customers", "--metric", "new_customers", "--target", "900",
        "--start", START, "--end", END)
    ctl(address, "goal", "set", "ig-cac", "--channel", "instagram", "--metric", "cac",
        "--target", "20", "--start", START, "--end", END)
    ctl(address, "goal", "set", "year-revenue", "--metric", "revenue", "--target", "100",
        "--start", "2025-01-01", "--end", "2026-01-01")
    yield address, tmp
    proc.terminate()
    assert proc.wait(timeout=30) == 0


@pytest.fixture(scope="module")
def page(workspace):
    """The CLI's page and PDF, and what the browser read off the page."""
    address, tmp = workspace
    html, pdf = tmp / "page.html", tmp / "page.pdf"
    r = ctl(address, "report", "page", "--start", START, "--end", END, "--out", str(html),
            "--pdf", str(pdf), "--format", "json")
    files = {row["file"]: row for row in json.loads(r.stdout)}
    artifacts = os.environ.get("ARTIFACT_DIR", str(tmp))
    os.makedirs(artifacts, exist_ok=True)
    shot = os.path.join(artifacts, "report_page.png")
    seen = subprocess.run(["node", os.environ["CHECK_PAGE_MJS"], str(html), shot],
                          capture_output=True, text=True, timeout=300)
    assert seen.returncode == 0, seen.stderr
    shutil.copy(pdf, os.path.join(artifacts, "report_page.pdf"))
    report = json.loads(ctl(address, "report", "channels", "--start", START, "--end", END,
                            "--format", "json").stdout)
    return {"html": html.read_text(), "pdf": pdf, "files": files, "seen": json.loads(seen.stdout),
            "report": report, "shot": shot, "address": address, "tmp": tmp}


def page_data(html):
    return json.loads(re.search(r'<script type="application/json" id="page-data">(.*?)</script>',
                                html, re.S).group(1))


def test_loads_offline_with_no_console_error(page):
    seen = page["seen"]
    assert seen["console_errors"] == [] and seen["page_errors"] == []
    assert seen["requests"] == []  # Nothing fetched: no file, font or script.
    assert "Content-Security-Policy" in page["html"] and "default-src 'none'" in page["html"]
    assert not re.search(r'<(script|link|img)[^>]+(src|href)=', page["html"])
    assert seen["title"] == "Marketing report: page"
    assert os.path.getsize(page["shot"]) > 50_000


def test_every_chart_has_its_marks(page):
    charts, report = page["seen"]["charts"], page["report"]
    rows = report["channels"]
    assert len(rows) == CHANNELS
    fig = lambda r, m: r["figures"][m]
    with_cac = [r for r in rows if "value" in fig(r, "cac")]
    with_sentiment = [r for r in rows if "value" in fig(r, "positive_share")]
    assert len(with_cac) > CHANNELS // 2
    assert charts["chart-new-customers"]["marks"]["bar"] == CHANNELS
    assert charts["chart-cac"]["marks"]["bar"] == len(with_cac)
    assert charts["chart-revenue-spend"]["marks"]["bar"] == 2 * CHANNELS
    assert charts["chart-sentiment"]["marks"]["bar"] == 3 * len(with_sentiment)
    # The credit chart: one bar per channel and model, an interval on each.
    data = page_data(page["html"])
    assert data["credit"]["models"] == ["Last touch", "Linear", "Incremental"]
    credited = len(data["credit"]["rows"])
    assert credited >= 3 * (CHANNELS - 1)
    assert charts["chart-credit"]["marks"]["bar"] == credited
    assert charts["chart-credit"]["marks"]["interval"] == credited
    # Cash flow: a dot of running net, a revenue and a spend bar per day.
    days = 92
    assert charts["chart-cash-flow"]["marks"]["dot"] == days
    assert charts["chart-cash-flow"]["marks"]["rect"] == 2 * days
    assert charts["chart-cash-flow"]["marks"]["line"] == 1
    cells = data["cohorts"]["cells"]
    assert len(cells) > 12 and charts["chart-cohorts"]["marks"]["cell"] == len(cells)
    assert charts["chart-ltv-cac"]["marks"]["bar"] == len(data["ltv"]["rows"]) > 0
    # Plain channel names, and no two labels on top of each other.
    assert "Search (organic)" in charts["chart-new-customers"]["y_labels"]
    assert page["seen"]["overlapping_labels"] == 0


def test_headline_equals_the_channel_report(page):
    tiles, total = page["seen"]["tiles"], page["report"]["total"]
    assert list(tiles) == ["new_customers", "cac", "revenue", "roas", "profit_contribution",
                           "churn_rate"]
    for metric, tile in tiles.items():
        figure = total[metric]
        assert tile["value"] == figure.get("value"), metric
        assert tile["previous"] == figure.get("previous"), metric
        assert tile["direction"] == figure.get("direction", ""), metric
        assert tile["assessment"] == figure.get("assessment", ""), metric
        word = {"up": "Up ", "down": "Down ", "flat": "No real change"}[tile["direction"]]
        assert tile["change"].startswith(word), tile
    # Money in the reporting currency (the generated data is in euros).
    assert tiles["revenue"]["text"].startswith("€")
    summary = subprocess.run([CTL, "--server", page["address"], "--workspace", "page", "report",
                              "summary", "--start", START, "--end", END],
                             capture_output=True, text=True).stdout.splitlines()
    assert page["seen"]["summary"] == summary
    goals = {g["name"]: g for g in page["seen"]["goals"]}
    assert set(goals) == {"q3-customers", "ig-cac", "year-revenue"}
    assert goals["ig-cac"]["status"] == "missed" and goals["year-revenue"]["status"] == "achieved"
    assert goals["year-revenue"]["bar"] == "100%"


def test_pdf_has_three_pages(page):
    pdf = page["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    assert pages == 3
    assert page["files"][str(page["pdf"])]["pages"] == 3
    # A4 (595 x 842 points) by default; --paper letter gives 612 x 792.
    assert re.search(rb"/MediaBox\s*\[\s*0 0 59[45](\.\d+)? 84[12](\.\d+)?", pdf)
    letter = page["tmp"] / "letter.pdf"
    ctl(page["address"], "report", "page", "--start", START, "--end", END, "--paper", "letter",
        "--pdf", str(letter))
    assert re.search(rb"/MediaBox\s*\[\s*0 0 612 792", letter.read_bytes())
    assert len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", letter.read_bytes())) == 3
    # By campaign (20 rows drawn, thinner): still one page a sheet.
    campaigns = page["tmp"] / "campaigns.pdf"
    ctl(page["address"], "report", "page", "--start", START, "--end", END, "--group_by",
        "campaign", "--pdf", str(campaigns))
    assert len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", campaigns.read_bytes())) == 3


def test_python_client_gives_the_same_page(page):
    with Client(page["address"], workspace="page") as c:
        html = c.report_page(START, END)
        assert page_data(html) == page_data(page["html"])
        out = page["tmp"] / "py.html"
        assert c.report_page(START, END, path=out) == str(out)
        assert page_data(out.read_text()) == page_data(page["html"])
        by_campaign = c.report_page(START, END, group_by="campaign", credit_models=("linear", "shapley"),
                                    intervals=False, title="Q3 <board>")
        data = page_data(by_campaign)
        assert data["credit"]["models"] == ["Linear", "Shapley"]
        assert all(r["low"] is None for r in data["credit"]["rows"])
        assert len(data["rows"]) == 20 and data["rows_total"] > 20  # capped, and said so.
        assert "<title>Q3 &lt;board&gt;</title>" in by_campaign


def test_a_period_at_the_first_reportable_month(page):
    # The cohorts' 12 months would start in 1999: they start at 2000-01-01.
    out = page["tmp"] / "y2k.html"
    ctl(page["address"], "report", "page", "--start", "2000-01-01", "--end", "2000-02-01",
        "--out", str(out))
    assert page_data(out.read_text())["rows"] == []


def test_bad_requests_name_the_field(page):
    r = ctl(page["address"], "report", "page", "--start", START, "--end", END, "--out", "-",
            "--credit_models", "linear,markov,shapley,last_touch", check=False)
    assert r.returncode == 2 and "--credit_models: at most 3" in r.stderr
    r = ctl(page["address"], "report", "page", "--start", START, "--end", END, "--paper", "a5",
            "--out", "-", check=False)
    assert r.returncode == 2 and "--paper" in r.stderr
    r = ctl(page["address"], "report", "page", "--start", START, "--end", END, check=False)
    assert r.returncode == 2 and "--out" in r.stderr
    r = ctl(page["address"], "report", "page", "--start", "2025-07-01T03:00:00Z", "--end", END,
            "--out", "-", check=False)
    assert r.returncode == 3 and "period.start" in r.stderr

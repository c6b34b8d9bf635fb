#!/usr/bin/python3
"""First-day speed: the Python client's imports against the CLI's, and the
export, in one run against one real server.

  /usr/bin/python3 tests/bench/first_day_bench.py [--rows 200000] [--build build]

Prints rows per second for: CLI import (CSV), Python import_csv,
Python import_jsonl, CLI export events (CSV and JSONL), Python export_events,
and the Python/CLI import ratio. Each import goes into a fresh workspace.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200000)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    sys.path[:0] = [os.path.join(args.build, "gen", "python"), os.path.join(ROOT, "clients", "python")]
    from attribution_client import Client

    tmp = tempfile.mkdtemp(prefix="first_day_bench.")
    csv_path, jsonl_path = os.path.join(tmp, "e.csv"), os.path.join(tmp, "e.jsonl")
    for path, fmt in ((csv_path, "csv"), (jsonl_path, "jsonl")):
        subprocess.run([sys.executable, os.path.join(ROOT, "tests", "tools", "gen_events.py"),
                        "--events", str(args.rows), "--customers", str(args.rows // 10),
                        "--format", fmt, "--out", path], check=True)
    server = subprocess.Popen(
        [os.path.join(args.build, "service", "server", "attributiond"), "--listen=127.0.0.1:0",
         "--data_dir=" + os.path.join(tmp, "db"), "--auth=off", "--admin_listen=127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = server.stdout.readline().split()[-1]
    ctl = os.path.join(args.build, "clients", "cli", "attributionctl")
    try:
        def timed(label, fn):
            start = time.perf_counter()
            n = fn()
            seconds = time.perf_counter() - start
            print("%-28s %9d rows %7.2f s %10.0f rows/s" % (label, n, seconds, n / seconds))
            return n / seconds

        def cli_import(workspace, path):
            subprocess.run([ctl, "--server=" + address, "--workspace=" + workspace,
                            "import", "events", path], check=True, capture_output=True)
            return args.rows

        cli = timed("CLI import (CSV)", lambda: cli_import("cli", csv_path))
        cli_jsonl = timed("CLI import (JSONL)", lambda: cli_import("cli-jsonl", jsonl_path))
        py_csv = timed("Python import_csv", lambda: Client(address, "py-csv").import_csv(csv_path).stored)
        py_jsonl = timed("Python import_jsonl",
                         lambda: Client(address, "py-jsonl").import_jsonl(jsonl_path).stored)

        def cli_export(path):
            subprocess.run([ctl, "--server=" + address, "--workspace=cli", "export", "events",
                            path], check=True, capture_output=True)
            return args.rows
        timed("CLI export events (CSV)", lambda: cli_export(os.path.join(tmp, "x.csv")))
        timed("CLI export events (JSONL)", lambda: cli_export(os.path.join(tmp, "x.jsonl")))
        timed("Python export_events (CSV)",
              lambda: Client(address, "cli").export_events(os.path.join(tmp, "y.csv")))
        print("Python/CLI import, same file: import_csv %.2f of CLI CSV, import_jsonl %.2f of "
              "CLI JSONL" % (py_csv / cli, py_jsonl / cli_jsonl))
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()

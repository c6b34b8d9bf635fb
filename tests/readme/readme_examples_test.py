#!/usr/bin/python3
"""README.md's examples run as written: every ```sh and ```python block, in
order, against a fresh server, except blocks whose info string says
"no-test" (the set-up commands that start the server or the suite, and the
restore that needs a stopped server).

  readme_examples_test.py README ATTRIBUTIOND BUILD_DIR

The blocks run in a temporary folder that holds links to the build and the
tests, so that the README's relative paths (build/..., tests/...) work and
its files (events.csv, ...) are written there. ATTRIBUTION_SERVER points the
CLI and the Python client at the fresh server; PYTHONPATH holds the stubs
and the client. A block that fails stops the test with its output.
"""
import os
import re
import subprocess
import sys
import tempfile
import time


def blocks(readme):
    """(line, language, text) of every runnable fenced block."""
    out = []
    lines = open(readme, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w+)(.*)$", lines[i])
        if not m:
            i += 1
            continue
        start, language, info = i + 1, m.group(1), m.group(2)
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        if language in ("sh", "python") and "no-test" not in info:
            out.append((start, language, "\n".join(lines[i + 1:j])))
        i = j + 1
    return out


def main():
    readme, attributiond, build = sys.argv[1:4]
    root = os.path.dirname(os.path.abspath(readme))
    work = tempfile.mkdtemp(prefix="readme.")
    os.symlink(os.path.abspath(build), os.path.join(work, "build"))
    os.symlink(os.path.join(root, "tests"), os.path.join(work, "tests"))
    os.symlink(os.path.join(root, "clients"), os.path.join(work, "clients"))
    server = subprocess.Popen(
        [attributiond, "--listen=127.0.0.1:0", "--auth=off", "--admin_listen=127.0.0.1:0",
         "--data_dir=" + os.path.join(work, "db"),
         "--backup_root=" + os.path.join(work, "backups")],
        stdout=subprocess.PIPE, stderr=open(os.path.join(work, "server.log"), "w"), text=True)
    address = server.stdout.readline().split()[-1]
    env = dict(os.environ, ATTRIBUTION_SERVER=address,
               PYTHONPATH=os.path.join(os.path.abspath(build), "gen", "python") + ":" +
               os.path.join(root, "clients", "python"))
    env.pop("ATTRIBUTION_WORKSPACE", None)
    failed = 0
    try:
        found = blocks(readme)
        if not found:
            print("no runnable block in", readme)
            return 1
        for line, language, text in found:
            started = time.time()
            command = (["bash", "-euo", "pipefail", "-c", text] if language == "sh"
                       else ["/usr/bin/python3", "-c", text])
            r = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
            print("README.md:%d %s block: exit %d in %.1f s" % (line, language, r.returncode,
                                                               time.time() - started))
            if r.returncode != 0:
                print("---- block ----\n%s\n---- stdout ----\n%s\n---- stderr ----\n%s" %
                      (text, r.stdout[-4000:], r.stderr[-4000:]))
                failed = 1
                break
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", work])
    if not failed:
        print("%d README blocks ran" % len(found))
    return failed


if __name__ == "__main__":
    sys.exit(main())

import os
import subprocess
import sys

import pytest

# The suite runs the frame tests a second time with pandas hidden, as on a
# machine without it (the set-up installs it): ATTRIBUTION_TEST_HIDE_PANDAS=1.
if os.environ.get("ATTRIBUTION_TEST_HIDE_PANDAS") == "1":
    sys.modules["pandas"] = None


def start_server(tmp_path, *args):
    """The real attributiond on 127.0.0.1 with a RocksDB in a temp folder:
    (process, address)."""
    binary = os.environ["ATTRIBUTIOND"]
    proc = subprocess.Popen(
        [binary, "--listen=127.0.0.1:0", "--data_dir=%s" % (tmp_path / "db"), "--auth=off",
         "--admin_listen=127.0.0.1:0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert line.startswith("attributiond listening on "), line
    return proc, line.split()[-1]


@pytest.fixture
def server(tmp_path):
    """Yields the address of a fresh server."""
    proc, address = start_server(tmp_path)
    yield address
    proc.terminate()
    assert proc.wait(timeout=30) == 0

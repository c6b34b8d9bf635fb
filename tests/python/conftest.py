import os
import subprocess

import pytest


@pytest.fixture
def server(tmp_path):
    """The real attributiond on 127.0.0.1 with a RocksDB in a temp folder.
    Yields its address."""
    binary = os.environ["ATTRIBUTIOND"]
    proc = subprocess.Popen(
        [binary, "--listen=127.0.0.1:0", "--data_dir=%s" % (tmp_path / "db"), "--auth=off"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    assert line.startswith("attributiond listening on "), line
    yield line.split()[-1]
    proc.terminate()
    assert proc.wait(timeout=30) == 0

"""The tests' throwaway PostgreSQL cluster (tests/postgres.py) never outlives a killed run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.postgres import find_binaries, start_cluster, unavailable


def test_a_cluster_left_by_a_killed_test_process_is_stopped_by_the_next() -> None:
    if find_binaries() is None:
        unavailable("initdb et pg_ctl introuvables (apt-get install postgresql)")
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from tests.postgres import start_cluster;"
            " print(start_cluster().folder, flush=True); time.sleep(600)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    orphan = Path(child.stdout.readline().strip())
    child.send_signal(signal.SIGKILL)
    child.wait()
    server_pid = int((orphan / "data" / "postmaster.pid").read_text().split()[0])
    os.kill(server_pid, 0)  # its server runs on after the kill

    cluster = start_cluster()
    try:
        assert not orphan.exists()
        try:
            os.kill(server_pid, 0)
            alive = Path(f"/proc/{server_pid}").exists() and "postgres" in Path(
                f"/proc/{server_pid}/cmdline"
            ).read_text(errors="replace")
        except ProcessLookupError:
            alive = False
        assert not alive, "the orphan's server still runs"
    finally:
        cluster.stop()

"""The suite passes whatever the date it runs: a guard kept in the suite itself.

The tests made their data on a fixed clock (`START`, 26 November 2026) while bots started as
child processes used to run on the machine's: once the machine passed the invitations'
expiry, every crash test failed. Those children now run on the tests' clock
(tests/clocked_bot.py). This file runs the tests that start children, under libfaketime
(Debian's `faketime`), at moments where a date bug would show: a year's last half hour, the
two nights the clocks change in Paris, a 28 February before a leap year, years from now.

The whole suite passes at each of these moments too (README, « Lancer les tests à une autre
date »); running all of it five times over is for a person to do, not for every CI run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys

import pytest

from tests.conftest import ROOT

# Three in every run (10 s each), the other two with --soak.
MOMENTS = [
    "2026-12-31 23:30:00",  # the year ends during the run
    pytest.param("2027-03-28 01:30:00", marks=pytest.mark.soak),  # summer time starts at 2:00
    "2027-10-31 02:30:00",  # and ends at 3:00: 2:30 comes twice
    pytest.param("2029-02-28 12:00:00", marks=pytest.mark.soak),
    "2031-06-15 08:00:00",
]
CHILD_TESTS = [
    "tests/e2e/test_crash.py",
    "tests/test_deploy.py::test_the_backup_service_s_commands_write_a_dated_copy_and_keep_fourteen_days",
]
FAKETIME = shutil.which("faketime")


@pytest.fixture(scope="module")
def faketime() -> str:
    if FAKETIME is None:
        if os.environ.get("CI"):
            pytest.fail("faketime is missing: .ci/run installs it (apt-get install faketime)")
        pytest.skip("faketime is not installed (apt-get install faketime)")
    return FAKETIME


@pytest.mark.parametrize("moment", MOMENTS)
async def test_the_tests_that_start_a_bot_process_pass_at(faketime: str, moment: str) -> None:
    # Not the environment of a faketime the suite itself may run under: no nesting.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST_", "FAKETIME"))
        and k not in ("LD_PRELOAD", "DONT_FAKE_MONOTONIC")
    }
    env["TZ"] = "Europe/Paris"  # the moments are Paris time, like the Cafs' own

    async def under_faketime(*argv: str) -> str:
        process = await asyncio.create_subprocess_exec(
            faketime,
            moment,
            sys.executable,
            *argv,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=240)
        text = output.decode(errors="replace")
        assert process.returncode == 0, text
        return text

    # The machine's clock really is at that moment for what runs under faketime.
    seen = await under_faketime("-c", "import datetime; print(datetime.datetime.now())")
    assert seen.startswith(moment[:15]), seen
    outcome = await under_faketime("-m", "pytest", "-p", "no:xdist", *CHILD_TESTS)
    assert "5 passed" in outcome, outcome

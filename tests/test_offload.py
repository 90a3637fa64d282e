"""bot/offload.py: a job runs in a child process of its own, and whatever happens to the
child, the bot gets a result or a `RenderFailed`, its log hears what the child logged, and
no process is left behind."""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
from pathlib import Path

import pytest

from bot import offload
from bot.domain.opening_hours import WeeklySchedule, parse_periods
from bot.offload import RenderFailed
from tests import render_jobs


def peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


async def test_the_job_runs_in_another_process_and_its_result_comes_back() -> None:
    schedule = WeeklySchedule({0: parse_periods("9h-12h")})
    pid, value = await offload.run(render_jobs.echo, {"schedule": schedule, "bytes": b"\x89PNG"})
    assert pid != os.getpid()
    assert value == {"schedule": schedule, "bytes": b"\x89PNG"}
    assert not render_jobs.exists(pid)


async def test_the_child_is_given_neither_the_token_nor_any_other_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = "123456789:AAE-not-a-real-token-but-shaped-like-one"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)
    monkeypatch.setenv("WEBHOOK_SECRET", "hush")
    monkeypatch.setenv("MPLCONFIGDIR", "/tmp/pnc-matplotlib-test")
    environment, command_line = await offload.run(render_jobs.what_it_was_given)
    assert "TELEGRAM_BOT_TOKEN" not in environment and "WEBHOOK_SECRET" not in environment
    assert token not in "".join(environment.values()) and b"123456789" not in command_line
    assert environment["MPLCONFIGDIR"] == "/tmp/pnc-matplotlib-test"  # the font cache's


async def test_a_print_in_the_child_does_not_spoil_the_result_and_its_warnings_reach_our_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        _, value = await offload.run(render_jobs.echo, "ok", noise=True)
    assert value == "ok"
    [warning] = [r for r in caplog.records if r.name == "tests.render_jobs"]
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == "logo ignoré, caf.png illisible"
    [done] = [r for r in caplog.records if r.name == "bot.offload"]
    assert "tests.render_jobs.echo" in done.getMessage()
    assert "pic de mémoire" in done.getMessage()


async def test_an_error_in_the_job_is_raised_here_with_the_childs_traceback() -> None:
    with pytest.raises(RenderFailed) as failed:
        await offload.run(render_jobs.fail, 1, 2)
    assert "tests.render_jobs.fail" in str(failed.value)
    assert "ValueError: a renderer's own error" in str(failed.value)


async def test_a_killed_child_is_a_failure_and_is_reaped(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    with pytest.raises(RenderFailed, match=r"code -9"):
        await offload.run(render_jobs.killed, pid_file=pid_file)
    assert not render_jobs.noted_exists(pid_file)


async def test_a_stuck_child_is_killed_after_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(offload, "TIMEOUT_SECONDS", 2.0)
    pid_file = tmp_path / "pid"
    with pytest.raises(RenderFailed, match="pas de résultat après 2 s"):
        await offload.run(render_jobs.stuck, pid_file=pid_file)
    assert not render_jobs.noted_exists(pid_file)


async def test_a_cancelled_render_kills_its_child(tmp_path: Path) -> None:
    """What happens to a handler still waiting when the bot stops."""
    pid_file = tmp_path / "pid"
    task = asyncio.create_task(offload.run(render_jobs.stuck, pid_file=pid_file))
    for _ in range(600):
        if pid_file.exists() and pid_file.read_text():
            break
        await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not render_jobs.noted_exists(pid_file)


async def test_what_cannot_cross_to_the_child_fails_here() -> None:
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        await offload.run(render_jobs.echo, lambda: None)


async def test_the_childs_memory_is_not_ours() -> None:
    before = peak_kib()
    assert await offload.run(render_jobs.allocate, 300) == 300 * 1024 * 1024
    assert peak_kib() - before < 50 * 1024

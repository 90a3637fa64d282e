"""Charts, workbooks and certificates are made in a child process (bot/offload.py), so the
bot's own memory never holds matplotlib, openpyxl or reportlab; when that child fails, the
person gets the usual French error, nothing is recorded half-way, and trying again works."""

from __future__ import annotations

import builtins
import functools
import io
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot import charts, offload
from bot.exports import certificate
from bot.exports import indicators as export
from bot.offload import RenderFailed
from bot.sandbox.bot_api import FakeUser
from tests import render_jobs
from tests.conftest import ROOT, Network, RunningBot
from tests.e2e.test_network import open_site
from tests.e2e.test_visit import TYPICAL, log_visit

LIBRARIES = ("matplotlib", "numpy", "openpyxl", "reportlab", "PIL")
# Our modules that import one of them at their top.
HEAVY_MODULES = ("bot.exports.indicators_xlsx", "bot.exports.events", "bot.exports.broadcasts")
ERROR = "Un incident technique est survenu"


def heavy(name: str) -> bool:
    return name.split(".")[0] in LIBRARIES or name in HEAVY_MODULES


@contextmanager
def imports_watched() -> Iterator[list[str]]:
    """Every import statement run in this process meanwhile that names a heavy module.

    Watching the statements rather than `sys.modules` still works when an earlier test of
    this process has loaded the libraries: the bot's lazy imports run at every call.
    """
    seen: list[str] = []
    original = builtins.__import__

    def watching(
        name: str,
        globals: Mapping[str, Any] | None = None,
        locals: Mapping[str, Any] | None = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> Any:
        if level == 0:
            names = [name, *(f"{name}.{item}" for item in fromlist or ())]
            seen.extend(n for n in names if heavy(n))
        return original(name, globals, locals, fromlist, level)

    builtins.__import__ = watching
    try:
        yield seen
    finally:
        builtins.__import__ = original


def sent(user: FakeUser, kind: str) -> list[Any]:
    return [m for m in user.bot_messages if m.kind == kind]


async def exports_recorded(network: Network) -> int:
    return int(
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM audit_log"
            " WHERE action IN ('indicators.exported', 'certificate.generated')"
        )
    )


def test_the_bot_starts_without_the_drawing_libraries() -> None:
    script = (
        "import sys\n"
        "import bot.cli, bot.app\n"
        f"print(sorted({{m for m in sys.modules if m.split('.')[0] in {LIBRARIES!r}"
        f" or m in {HEAVY_MODULES!r}}}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.usefixtures("bot")
async def test_charts_a_workbook_and_a_certificate_are_made_outside_the_bot_process(
    network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    await log_visit(agent, TYPICAL)
    loaded_before = {m for m in sys.modules if heavy(m)}
    with imports_watched() as seen:
        await coordinator.tap("📈 Indicateurs")
        screen = coordinator.last_message
        await coordinator.tap("📊 Graphiques", screen)
        await coordinator.tap("📥 Excel", screen)
        await coordinator.tap("📄 CSV", screen)
        await open_site(coordinator, "Mairie de Ham")
        await coordinator.tap("📜 Certificat")
    assert not seen, sorted({name.split(".")[0] for name in seen})
    assert {m for m in sys.modules if heavy(m)} <= loaded_before

    photos = sent(coordinator, "photo")
    assert [p.document_name for p in photos] == ["semaines.png", "demandes.png", "heures.png"]
    assert all((p.document_bytes or b"").startswith(b"\x89PNG\r\n\x1a\n") for p in photos)
    workbook, table, pdf = sent(coordinator, "document")
    with zipfile.ZipFile(io.BytesIO(workbook.document_bytes or b"")) as xlsx:
        assert "xl/workbook.xml" in xlsx.namelist()
    assert (table.document_name or "").endswith(".csv")
    assert (pdf.document_bytes or b"").startswith(b"%PDF-")
    assert await exports_recorded(network) == 3  # the two files and the certificate


async def test_charts_whose_process_is_killed_get_the_usual_error_and_the_next_try_works(
    bot: RunningBot,
    agent: FakeUser,
    manager: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    await log_visit(agent, TYPICAL)
    await manager.tap("📈 Indicateurs")
    screen = manager.last_message
    pid_file = tmp_path / "pid"
    monkeypatch.setattr(
        charts, "indicator_charts", functools.partial(render_jobs.killed, pid_file=pid_file)
    )
    await manager.tap("📊 Graphiques", screen)

    assert ERROR in (manager.last_message.text or "")
    assert sent(manager, "photo") == []
    assert [type(e) for e in bot.errors] == [RenderFailed]
    assert "code -9" in str(bot.errors[0])
    bot.errors.clear()
    assert not render_jobs.noted_exists(pid_file)  # killed and reaped: not even a zombie

    monkeypatch.undo()
    await manager.tap("📊 Graphiques", screen)
    assert len(sent(manager, "photo")) == 3


async def test_a_workbook_that_fails_is_neither_sent_nor_recorded(
    bot: RunningBot, network: Network, manager: FakeUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    await manager.tap("📈 Indicateurs")
    screen = manager.last_message
    monkeypatch.setattr(export, "to_xlsx", render_jobs.fail)
    await manager.tap("📥 Excel", screen)

    assert ERROR in (manager.last_message.text or "")
    assert sent(manager, "document") == []
    assert await exports_recorded(network) == 0
    assert [type(e) for e in bot.errors] == [RenderFailed]
    assert "ValueError: a renderer's own error" in str(bot.errors[0])
    bot.errors.clear()

    monkeypatch.undo()
    await manager.tap("📥 Excel", screen)
    assert [(d.document_name or "")[-5:] for d in sent(manager, "document")] == [".xlsx"]
    assert await exports_recorded(network) == 1


async def test_a_stuck_certificate_is_given_up_after_the_timeout(
    bot: RunningBot,
    network: Network,
    coordinator: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "pid"
    monkeypatch.setattr(offload, "TIMEOUT_SECONDS", 1.0)
    monkeypatch.setattr(
        certificate, "certificate_pdf", functools.partial(render_jobs.stuck, pid_file=pid_file)
    )
    await open_site(coordinator, "Mairie de Ham")
    card = coordinator.last_message
    await coordinator.tap("📜 Certificat", card)

    assert ERROR in (coordinator.last_message.text or "")
    assert sent(coordinator, "document") == []
    assert await exports_recorded(network) == 0
    assert [type(e) for e in bot.errors] == [RenderFailed]
    bot.errors.clear()
    assert not render_jobs.noted_exists(pid_file)
    assert "📜 Certificat" in card.labels  # the card stays, ready for another try

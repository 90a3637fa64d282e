"""The public directory written to DIRECTORY_DIR (issue #17), as the web server serves it: at
start-up, then a few seconds after a manager changes the hours or declares a closure; one
write for a burst, each file replaced at once, readable by the web server."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from bot.jobs import directory_publish
from bot.sandbox.bot_api import FakeUser
from storage import partners
from tests.conftest import Network, RunningBot
from tests.e2e.test_hours import declare_week_of_full_days
from tests.test_export_directory import assert_valid_national, national_rows

FULL_DAY = [["09:00", "12:00"], ["14:00", "17:00"]]
FILES = (
    "annuaire-caf-de-la-somme.ics",
    "annuaire-caf-de-la-somme.json",
    "lieux-mediation-numerique-caf-de-la-somme.csv",
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "www" / "annuaire"


@pytest.fixture
def settings_overrides(folder: Path) -> dict[str, Any]:
    return {"directory_dir": folder}


async def run_due(bot: RunningBot) -> None:
    await bot.app.bot_data["scheduler"].run_due()


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def listing(folder: Path) -> list[tuple[str, int]]:
    """The folder's files and their permissions."""
    return sorted((path.name, mode(path)) for path in folder.iterdir())


def ham(folder: Path) -> dict[str, Any]:
    document = json.loads((folder / FILES[1]).read_text(encoding="utf-8"))
    [site] = [site for site in document["sites"] if site["name"] == "Mairie de Ham"]
    return dict(site)


def national_ham(folder: Path) -> dict[str, str]:
    path = folder / FILES[2]
    assert_valid_national(path)
    [row] = national_rows(path.read_text(encoding="utf-8"))
    return row


async def test_a_change_of_hours_then_a_closure_rewrite_the_public_folder(
    bot: RunningBot, network: Network, manager: FakeUser, folder: Path
) -> None:
    async with network.db.transaction() as tx:
        for field, value in (
            ("address", "Place de l'Hôtel de Ville"),
            ("siret", "21800409400015"),
            ("postcode", "80400"),
        ):
            await partners.update_field(tx, network.site.id, field, value)
    # As at a start-up (the network is built after the bot's own start).
    await directory_publish.ensure_scheduled(network.db, network.clock, folder)
    await run_due(bot)
    assert listing(folder) == [(name, 0o644) for name in FILES]
    assert mode(folder) == 0o755  # created by the job, for the web server
    assert ham(folder)["hours"] is None
    assert national_ham(folder)["horaires"] == ""

    await declare_week_of_full_days(manager)
    before = (folder / FILES[1]).read_bytes()
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    assert "Horaires enregistrés" in manager.last_message.text
    await run_due(bot)
    assert (folder / FILES[1]).read_bytes() == before  # not yet: a burst makes one write
    network.clock.advance(timedelta(seconds=6))
    await run_due(bot)
    change = ham(folder)["next_change"]
    if change is not None:  # hours for a later day: the Caf's midnight write on that day
        assert change["hours"]["lundi"] == FULL_DAY
        first_day = date.fromisoformat(change["from"])
        network.clock.set(datetime.combine(first_day, time(0, 5), network.caf.zone))
        await run_due(bot)
    assert ham(folder)["hours"]["lundi"] == FULL_DAY
    assert national_ham(folder)["horaires"] == "Mo-Fr 09:00-12:00,14:00-17:00"

    await manager.tap("⬅️ Horaires et fermetures")
    await manager.tap("➕ Fermeture exceptionnelle")
    await manager.tap("▶️")
    await manager.tap("24")
    await manager.tap("▶️")
    await manager.tap("2")
    await manager.tap("Congés, pont")
    await manager.send("Mairie fermée pour les fêtes.")
    assert "Fermeture enregistrée" in manager.last_message.text
    network.clock.advance(timedelta(seconds=6))
    await run_due(bot)
    assert ham(folder)["closures"] == [
        {"start": "2026-12-24", "end": "2027-01-02", "reason": "Congés, pont"}
    ]
    assert national_ham(folder)["horaires"] == (
        "Mo-Fr 09:00-12:00,14:00-17:00; 2026 Dec 24-2027 Jan 02 off"
    )
    calendar = Calendar.from_ical((folder / FILES[0]).read_bytes())
    summaries = [str(event["summary"]) for event in calendar.walk("VEVENT")]
    assert "Fermeture exceptionnelle — Mairie de Ham (Ham)" in summaries
    # Only the three files: no temporary file left behind.
    assert listing(folder) == [(name, 0o644) for name in FILES]

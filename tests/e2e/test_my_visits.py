"""Visits logged late (any of the last 7 days) and 🗂 Mes visites, driven as an agent would.

The clock is set to a Monday: Monday 7 December 2026 (the picker reaches back to Tuesday
1 December), or Monday 4 January 2027, when the fourth quarter has just been validated and
its last days are still in the picker. The fixtures' Caf reports quarterly, in Paris.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.permissions import Role
from bot.domain.visit_log import calendar_bounds
from bot.sandbox.bot_api import FakeBotApi, FakeMessage, FakeUser
from bot.ui import callbacks
from bot.ui.screens.visit import EARLIER
from storage import period_reports
from storage import visits as store
from tests.conftest import Network, RunningBot
from tests.e2e.test_visit import TYPICAL, log_visit, visit_rows

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")
MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=PARIS)
MY_VISITS = "🗂 Mes visites"


def data_of(message: FakeMessage, label: str) -> str:
    [data] = [data for row in message.inline_buttons for text, data in row if text == label]
    return data


def toast(user: FakeUser) -> str:
    return str((user.last_callback_answer or {}).get("text", ""))


async def log_late(user: FakeUser, day: str, hour: str, taps: list[str] = TYPICAL) -> None:
    """📝 Nouvelle visite, then 🕘, the day, the hour and the answers."""
    await user.tap("📝 Nouvelle visite")
    await user.tap(EARLIER)
    await user.tap(day)
    await user.tap(hour)
    for label in taps:
        await user.tap(label)
    assert "Visite enregistrée" in user.last_message.text, user.last_message.text


async def audited(network: Network, action: str) -> int:
    return int(
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM audit_log WHERE action = :a", {"a": action}
        )
    )


async def visits_on(network: Network, day: date) -> int:
    """The site's visits of a day of the Caf (Paris), as the figures count them."""
    start, end = calendar_bounds(day, PARIS)["today"]
    count, _, _ = await store.count_visits(
        network.db, start=start, end=end, partner_id=network.site.id
    )
    return count


# ------------------------------------------------------------------------------ the day picker
async def test_fridays_visit_is_logged_on_monday_then_modified_and_cancelled_from_my_visits(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    network.clock.set(MONDAY)
    await agent.tap("📝 Nouvelle visite")
    await agent.tap(EARLIER)
    picker = agent.last_message
    assert picker.labels[:8] == [
        "⏱ Maintenant",
        "Aujourd'hui",
        "Hier",
        "sam. 5 déc.",
        "ven. 4 déc.",
        "jeu. 3 déc.",
        "mer. 2 déc.",
        "mar. 1er déc.",
    ]
    assert "lun. 30 nov." not in picker.labels
    await agent.tap("ven. 4 déc.")
    assert "Nouvelle visite</b> · ven. 4 déc." in picker.text or "ven. 4 déc." in picker.text
    assert "21 h" in picker.labels  # Friday is over: its whole opening day is offered
    await agent.tap("14 h")
    for label in TYPICAL:
        await agent.tap(label)
    assert "Visite enregistrée" in picker.text and "ven. 4 déc. à 14 h" in picker.text
    [row] = await visit_rows(network)
    visit_id = int(str(row["id"]))
    assert datetime.fromisoformat(str(row["visited_at"])) == datetime(2026, 12, 4, 14, tzinfo=PARIS)
    # Counted in Friday's figures, not in Monday's.
    assert await visits_on(network, date(2026, 12, 4)) == 1
    assert await visits_on(network, date(2026, 12, 7)) == 0

    await agent.tap(MY_VISITS)
    listing = agent.last_message
    assert "ven. 4 déc. à 14 h · Demande de prestation · résolue" in listing.text
    await agent.tap("ven. 4 déc. · 14 h · Demande de prestation", listing)
    assert "Visite du vendredi 4 décembre à 14 h" in listing.text
    assert listing.labels == ["✏️ Modifier", "🗑 Annuler la visite", "⬅️ Mes visites"]

    # ✏️ Modifier: the confirmation's own modification, in the card's message.
    await agent.tap("✏️ Modifier", listing)
    assert "Que voulez-vous modifier" in listing.text
    for label in ("📋 Demandes", "Simulation", "Orientation", "💾 Enregistrer les modifications"):
        await agent.tap(label, listing)
    assert "Visite modifiée" in listing.text and "ven. 4 déc. à 14 h" in listing.text
    assert await audited(network, "visit.modified") == 1
    await agent.tap(MY_VISITS, listing)
    assert "ven. 4 déc. à 14 h · Simulation · résolue" in listing.text
    assert "Demande de prestation" not in listing.text

    # 🗑 Annuler la visite, from its card, asks first; then the list shows it gone at once.
    await agent.tap("ven. 4 déc. · 14 h · Simulation", listing)
    await agent.tap("🗑 Annuler la visite", listing)
    assert "Annuler définitivement cette visite ?" in listing.text
    assert "Visite du vendredi 4 décembre à 14 h" in listing.text
    assert listing.labels == ["🗑 Oui, l'annuler", "⬅️ Non"]
    assert len(await visit_rows(network)) == 1
    await agent.tap("🗑 Oui, l'annuler", listing)
    assert toast(agent) == "Visite annulée."
    assert "Aucune visite enregistrée ces 7 derniers jours" in listing.text
    assert await visit_rows(network) == []
    assert await visits_on(network, date(2026, 12, 4)) == 0
    entries = await network.db.fetch_all(
        "SELECT action, target_type, target_id FROM audit_log WHERE action LIKE 'visit.%'"
        " ORDER BY id"
    )
    assert [tuple(e) for e in entries] == [
        ("visit.modified", "visit", visit_id),
        ("visit.cancelled", "visit", visit_id),
    ]


async def test_a_day_before_the_last_seven_is_refused_even_forged_or_left_open_past_midnight(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    network.clock.set(MONDAY)
    await agent.tap("📝 Nouvelle visite")
    await agent.tap(EARLIER)
    picker = agent.last_message
    oldest = data_of(picker, "mar. 1er déc.")
    assert oldest.endswith(":20261201")
    for forged in ("20261130", "20261129"):  # 7 and 8 days ago
        await agent.tap_data(oldest.replace("20261201", forged), picker)
        answer = agent.last_callback_answer or {}
        assert "que pour les 7 derniers jours" in str(answer.get("text")), answer
        assert answer.get("show_alert")
        assert "Quand a eu lieu la visite" in picker.text
    draft = await store.open_draft(network.db, 1)
    assert draft is not None and draft.draft.answers.day is None
    await agent.tap("✖️ Abandonner", picker)

    # A picker opened on Sunday night, tapped after midnight: its last day is too old now.
    network.clock.set(datetime(2026, 12, 6, 23, 50, tzinfo=PARIS))
    await agent.tap("📝 Nouvelle visite")
    await agent.tap(EARLIER)
    sunday = agent.last_message
    assert sunday.labels[7] == "lun. 30 nov."
    network.clock.set(datetime(2026, 12, 7, 0, 10, tzinfo=PARIS))
    await agent.tap("lun. 30 nov.", sunday)
    assert "7 derniers jours" in toast(agent)
    await agent.tap("mar. 1er déc.", sunday)
    assert "À quelle heure" in sunday.text
    assert await visit_rows(network) == []


async def test_the_days_and_hours_are_the_cafs_own_in_reunion(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    caf = await network.add_caf("Caf de La Réunion", timezone="Indian/Reunion")
    site = await network.add_site("Mairie de Saint-Denis", caf=caf)
    ravi = await network.join(Role.AGENT, partner=site, first_name="Ravi")
    # Monday 0 h 30 in Saint-Denis is still Sunday 21 h 30 in Paris.
    network.clock.set(datetime(2026, 12, 7, 0, 30, tzinfo=REUNION))
    for user in (ravi, agent):
        await user.tap("📝 Nouvelle visite")
        await user.tap(EARLIER)
    assert ravi.last_message.labels[3] == "sam. 5 déc."
    assert ravi.last_message.labels[7] == "mar. 1er déc."
    assert agent.last_message.labels[3] == "ven. 4 déc."
    assert agent.last_message.labels[7] == "lun. 30 nov."
    await ravi.tap("Aujourd'hui")
    hours = [label for label in ravi.last_message.labels if label.endswith(" h")]
    assert hours == ["0 h"]  # only the night so far
    await ravi.tap("⬅️ Retour")  # back where the picker was opened
    await ravi.tap(EARLIER)
    await ravi.tap("ven. 4 déc.")
    await ravi.tap("14 h")
    for label in TYPICAL:
        await ravi.tap(label)
    assert "ven. 4 déc. à 14 h" in ravi.last_message.text
    [row] = [r for r in await visit_rows(network) if r["partner_id"] == site.id]
    assert datetime.fromisoformat(str(row["visited_at"])) == datetime(
        2026, 12, 4, 14, tzinfo=REUNION
    )
    await ravi.send("/mesvisites")
    assert "ven. 4 déc. à 14 h · Demande de prestation" in ravi.last_message.text


# ------------------------------------------------------------------------------ periods
async def test_a_validated_quarter_is_reopened_by_a_late_visit_and_by_changes_from_my_visits(
    bot: RunningBot, network: Network, agent: FakeUser, fake: FakeBotApi
) -> None:
    manager = await network.join(Role.MANAGER, first_name="Marc")
    scheduler = bot.app.bot_data["scheduler"]
    # Monday 4 January 2027: the fourth quarter ended on Thursday; its manager validates it.
    network.clock.set(datetime(2027, 1, 4, 10, 0, tzinfo=PARIS))
    await scheduler.run_due()
    asked = "Indicateurs à valider"
    await fake.wait_for(lambda: any(asked in (m.text or "") for m in manager.bot_messages))
    [ask] = [m for m in manager.bot_messages if asked in (m.text or "")]
    validate = data_of(ask, "✅ Je valide et transmets")
    await manager.tap_data(validate, ask)

    async def status() -> str:
        report = await period_reports.of_partner(network.db, network.site.id, "2026-Q4")
        assert report is not None
        return str(report.status)

    assert await status() == "validated"

    # Friday 1 January belongs to the new quarter: the validated one is left alone.
    await log_late(agent, "ven. 1er janv.", "11 h")
    assert await status() == "validated"
    assert await visits_on(network, date(2027, 1, 1)) == 1
    # Thursday 31 December belongs to it: logged late, it asks for a new validation.
    await log_late(agent, "jeu. 31 déc.", "15 h")
    assert await status() == "modified"
    await manager.tap_data(validate, ask)
    assert await status() == "validated"

    # Modified from 🗂 Mes visites: asked again.
    await agent.tap(MY_VISITS)
    listing = agent.last_message
    assert listing.labels[:2] == [
        "ven. 1er janv. · 11 h · Demande de prestation",
        "jeu. 31 déc. · 15 h · Demande de prestation",
    ]
    await agent.tap("jeu. 31 déc. · 15 h · Demande de prestation", listing)
    for label in ("✏️ Modifier", "✅ Résolution", "Non", "💾 Enregistrer les modifications"):
        await agent.tap(label, listing)
    assert "Visite modifiée" in listing.text
    assert await status() == "modified"
    await manager.tap_data(validate, ask)
    assert await status() == "validated"

    # Cancelled from 🗂 Mes visites: asked again.
    await agent.tap(MY_VISITS, listing)
    assert "jeu. 31 déc. à 15 h · Demande de prestation · non résolue" in listing.text
    await agent.tap("jeu. 31 déc. · 15 h · Demande de prestation", listing)
    await agent.tap("🗑 Annuler la visite", listing)
    assert await status() == "validated"  # only asked so far
    await agent.tap("🗑 Oui, l'annuler", listing)
    assert await status() == "modified"
    assert listing.labels == ["ven. 1er janv. · 11 h · Demande de prestation"]
    assert await audited(network, "visit.modified") == 1
    assert await audited(network, "visit.cancelled") == 1


# ------------------------------------------------------------------------------ the list
async def test_the_list_is_the_last_seven_days_newest_first_eight_to_a_page(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    network.clock.set(MONDAY - timedelta(days=7))  # Monday 30 November: out of the list
    await log_visit(agent, TYPICAL)
    network.clock.set(MONDAY)
    await log_late(agent, "Hier", "9 h")
    for _ in range(8):
        await log_visit(agent, [*TYPICAL[:-1], "Partiellement"])
    await agent.send("/mesvisites")
    listing = agent.last_message
    assert "9 visites, la plus récente d'abord · page 1 sur 2" in listing.text
    assert listing.labels[-1] == "Suivants ▶️"
    assert listing.labels[0] == "lun. 7 déc. · 10 h · Demande de prestation"
    assert "aujourd'hui à 10 h · Demande de prestation · résolue en partie" in listing.text
    await agent.tap("Suivants ▶️", listing)
    assert listing.labels == ["dim. 6 déc. · 9 h · Demande de prestation", "◀️ Précédents"]
    assert "hier à 9 h · Demande de prestation · résolue" in listing.text
    assert "30 nov." not in listing.text
    # From a card, back to the page it was opened from.
    await agent.tap("dim. 6 déc. · 9 h · Demande de prestation", listing)
    await agent.tap("⬅️ Mes visites", listing)
    assert "page 2 sur 2" in listing.text


async def test_training_visits_are_marked_and_can_only_be_cancelled(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("🎓 Mode formation")
    await log_visit(agent, TYPICAL)
    await agent.tap("🎓 Mode formation")
    await log_visit(agent, TYPICAL)
    network.clock.advance(hours=5)  # long past the undo window: a listed visit still goes
    await agent.tap(MY_VISITS)
    listing = agent.last_message
    trainings = [label for label in listing.labels if label.startswith("🎓 ")]
    assert trainings == ["🎓 jeu. 26 nov. · 10 h · Demande de prestation"]
    assert "🎓 entraînement" in listing.text
    await agent.tap(trainings[0], listing)
    assert "Visite d'entraînement" in listing.text
    assert listing.labels == ["🗑 Annuler la visite", "⬅️ Mes visites"]
    await agent.tap("🗑 Annuler la visite", listing)
    assert "Annuler définitivement cette visite ?" in listing.text
    assert "🎓 Visite d'entraînement" in listing.text
    await agent.tap("🗑 Oui, l'annuler", listing)
    assert toast(agent) == "Visite annulée."
    assert await network.db.fetch_value("SELECT COUNT(*) FROM training_visits") == 0
    assert len(await visit_rows(network)) == 1
    assert not [label for label in listing.labels if label.startswith("🎓")]


async def test_past_the_undo_window_a_listed_visit_is_cancelled_after_a_question(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await log_visit(agent, TYPICAL)
    confirmation = agent.last_message
    [row] = await visit_rows(network)
    visit_id = int(str(row["id"]))
    network.clock.advance(days=2, hours=3)  # Saturday 28 November, 13 h
    # The confirmation's quick ↩️ keeps its window.
    await agent.tap("↩️ Annuler cette visite", confirmation)
    assert "Trop tard pour annuler" in toast(agent)
    await agent.tap(MY_VISITS)
    listing = agent.last_message
    await agent.tap("jeu. 26 nov. · 10 h · Demande de prestation", listing)
    assert listing.labels == ["✏️ Modifier", "🗑 Annuler la visite", "⬅️ Mes visites"]
    assert "délai" not in listing.text
    await agent.tap("🗑 Annuler la visite", listing)
    assert "Annuler définitivement cette visite ?" in listing.text
    # ⬅️ Non: back to the card, nothing changed.
    await agent.tap("⬅️ Non", listing)
    assert "Visite du jeudi 26 novembre à 10 h" in listing.text
    assert listing.labels == ["✏️ Modifier", "🗑 Annuler la visite", "⬅️ Mes visites"]
    assert len(await visit_rows(network)) == 1
    await agent.tap("🗑 Annuler la visite", listing)
    await agent.tap("🗑 Oui, l'annuler", listing)
    assert toast(agent) == "Visite annulée."
    assert "Aucune visite enregistrée" in listing.text
    assert await visit_rows(network) == []
    entries = await network.db.fetch_all(
        "SELECT target_id FROM audit_log WHERE action = 'visit.cancelled'"
    )
    assert [int(str(e["target_id"])) for e in entries] == [visit_id]
    # The question's button tapped again (a double tap): already done, said so.
    await agent.tap_data(callbacks.encode(callbacks.MyVisitsTap("delok", visit_id, 0)), listing)
    assert toast(agent) == "Cette visite a déjà été annulée."
    assert await audited(network, "visit.cancelled") == 1


async def test_a_visit_older_than_the_list_is_refused_from_a_stale_card_or_a_forged_tap(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("🎓 Mode formation")
    await log_visit(agent, TYPICAL)  # Thursday 26 November, 10 h
    await agent.tap("🎓 Mode formation")
    await log_visit(agent, TYPICAL)
    [row] = await visit_rows(network)
    visit_id = int(str(row["id"]))
    [training_id] = [
        int(str(r["id"])) for r in await network.db.fetch_all("SELECT id FROM training_visits")
    ]
    # Wednesday 2 December, 23 h 50: Thursday 26 November is the list's first day.
    network.clock.set(datetime(2026, 12, 2, 23, 50, tzinfo=PARIS))
    await agent.tap(MY_VISITS)
    listing = agent.last_message
    await agent.tap("jeu. 26 nov. · 10 h · Demande de prestation", listing)
    await agent.tap("🗑 Annuler la visite", listing)
    assert listing.labels == ["🗑 Oui, l'annuler", "⬅️ Non"]
    # Past midnight, the question left open: the visit is out of the list, refused.
    network.clock.set(datetime(2026, 12, 3, 0, 10, tzinfo=PARIS))
    await agent.tap("🗑 Oui, l'annuler", listing)
    assert "plus de 7 jours" in toast(agent)
    assert (agent.last_callback_answer or {}).get("show_alert")
    assert "Aucune visite enregistrée ces 7 derniers jours" in listing.text
    # Forged or stale buttons, for the visit and the training one: refused the same way.
    for payload in (
        callbacks.MyVisitsTap("delok", visit_id, 0),
        callbacks.MyVisitsTap("del", visit_id, 0),
        callbacks.MyVisitsTap("open", visit_id, 0),
        callbacks.MyVisitsTap("tdelok", training_id, 0),
        callbacks.MyVisitsTap("tdel", training_id, 0),
    ):
        await agent.tap_data(callbacks.encode(payload), listing)
        assert "plus de 7 jours" in toast(agent), payload
    assert len(await visit_rows(network)) == 1
    assert await network.db.fetch_value("SELECT COUNT(*) FROM training_visits") == 1
    assert await audited(network, "visit.cancelled") == 0


async def test_only_ones_own_visits_are_listed_and_opened(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    colleague = await network.join(Role.AGENT, first_name="Chloé")
    await log_visit(agent, TYPICAL)
    [row] = await visit_rows(network)
    visit_id = int(str(row["id"]))
    await colleague.tap(MY_VISITS)
    theirs = colleague.last_message
    assert "Aucune visite enregistrée" in theirs.text
    for payload in (
        callbacks.MyVisitsTap("open", visit_id, 0),
        callbacks.MyVisitsTap("del", visit_id, 0),
        callbacks.MyVisitsTap("delok", visit_id, 0),
        callbacks.SavedVisit(visit_id, "edit"),
    ):
        await colleague.tap_data(callbacks.encode(payload), theirs)
        assert toast(colleague) == "Ce menu a expiré."
        assert "Aucune visite enregistrée" in theirs.text
    assert len(await visit_rows(network)) == 1
    assert await store.open_draft(network.db, 2) is None
    assert await audited(network, "visit.cancelled") == 0

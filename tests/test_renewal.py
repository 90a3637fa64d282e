"""Article 11: the convention's terms, notice deadlines and the coordinators' reminders.

Dates first (29 February, month ends), then the daily check with the clock moved, through
the real morning run (bot/jobs/morning.py) and the outbox to the coordinators' chats; then
how a convention's start is set (typed by a coordinator, or the fourth column of `partners import`).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import CliError, read_partner_csv
from bot.domain import renewal
from bot.domain.permissions import LabelStatus, Role
from bot.domain.renewal import ConventionDateError, Term, parse_convention_start
from bot.jobs import renewal as nightly
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from storage import compliance as store
from storage import outbox, partners
from tests.conftest import Network, RunningBot
from tests.e2e.test_network import open_site
from tests.e2e.test_notifications import outbox_settled

TODAY = date(2026, 11, 26)


# ------------------------------------------------------------------------------ dates
@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 5, 31), -3, date(2026, 2, 28)),
        (date(2026, 12, 31), -3, date(2026, 9, 30)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
    ],
)
def test_months_are_counted_the_french_legal_way(day: date, months: int, expected: date) -> None:
    assert renewal.add_months(day, months) == expected


def test_a_convention_signed_on_29_february_does_not_drift() -> None:
    start = date(2024, 2, 29)
    terms = [Term.of(start, n) for n in range(1, 5)]
    assert [t.anniversary for t in terms] == [
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
    ]
    assert [t.notice_deadline for t in terms] == [
        date(2024, 11, 28),
        date(2025, 11, 28),
        date(2026, 11, 28),
        date(2027, 11, 29),
    ]
    assert terms[2].reminder_on == date(2026, 10, 28)


@pytest.mark.parametrize(
    ("start", "anniversary", "deadline", "reminder"),
    [
        # Notice on the last day of February, reminded on 28 January.
        (date(2025, 5, 31), date(2026, 5, 31), date(2026, 2, 28), date(2026, 1, 28)),
        # A 31st whose reminder month has 30 days.
        (date(2025, 8, 31), date(2026, 8, 31), date(2026, 5, 31), date(2026, 4, 30)),
        (date(2025, 12, 31), date(2026, 12, 31), date(2026, 9, 30), date(2026, 8, 30)),
        (date(2025, 11, 30), date(2026, 11, 30), date(2026, 8, 30), date(2026, 7, 30)),
    ],
)
def test_month_ends(start: date, anniversary: date, deadline: date, reminder: date) -> None:
    assert Term.of(start, 1) == Term(1, anniversary, deadline, reminder)


def test_the_current_term_ends_on_the_next_anniversary_on_or_after_today() -> None:
    start = date(2024, 3, 15)
    assert renewal.current_term(start, date(2026, 3, 15)).anniversary == date(2026, 3, 15)
    assert renewal.current_term(start, date(2026, 3, 16)).anniversary == date(2027, 3, 15)
    # A convention entered before it takes effect: its first term ends a year after it.
    assert renewal.current_term(date(2027, 1, 15), TODAY) == Term.of(date(2027, 1, 15), 1)


def test_after_a_notice_deadline_the_next_decision_is_the_following_terms() -> None:
    start = date(2025, 3, 15)  # anniversary 15 March 2027, notice by 15 December 2026
    assert renewal.next_notice(start, date(2026, 12, 15)).anniversary == date(2027, 3, 15)
    assert renewal.next_notice(start, date(2026, 12, 16)).anniversary == date(2028, 3, 15)


def test_a_reminder_is_due_from_its_date_until_the_deadline_included() -> None:
    start = date(2025, 3, 15)  # reminder 15 November 2026, notice by 15 December 2026
    assert renewal.reminder_due(start, date(2026, 11, 14)) is None
    assert renewal.reminder_due(start, date(2026, 11, 15)) == Term.of(start, 2)
    assert renewal.reminder_due(start, date(2026, 12, 15)) == Term.of(start, 2)
    assert renewal.reminder_due(start, date(2026, 12, 16)) is None


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    offset=st.integers(min_value=-400, max_value=20 * 366),
)
def test_the_next_notice_is_the_first_deadline_not_yet_past(start: date, offset: int) -> None:
    today = start + timedelta(days=offset)
    term = renewal.next_notice(start, today)
    assert term.notice_deadline >= today
    assert term.anniversary == renewal.anniversary(start, term.number)
    assert renewal.add_months(term.notice_deadline, 3) <= term.anniversary
    assert term.anniversary - term.notice_deadline <= timedelta(days=92)
    assert term.reminder_on < term.notice_deadline
    if term.number > 1:
        assert Term.of(start, term.number - 1).notice_deadline < today
    running = renewal.current_term(start, today)
    assert running.anniversary >= today
    assert running.number == 1 or renewal.anniversary(start, running.number - 1) < today


# ------------------------------------------------------------------------------ typed dates
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("15/03/2025", date(2025, 3, 15)),
        ("1er mars 2025", date(2025, 3, 1)),
        ("2025-03-15", date(2025, 3, 15)),
        ("15/03", date(2026, 3, 15)),  # no year, would be future: the latest past one
        ("20/11", date(2026, 11, 20)),
        ("aujourd'hui", TODAY),
        ("15/01/2027", date(2027, 1, 15)),  # ahead of the signature, within a year
    ],
)
def test_a_typed_convention_start(typed: str, expected: date) -> None:
    assert parse_convention_start(typed, TODAY) == expected


@pytest.mark.parametrize(
    ("typed", "today", "message"),
    [
        ("bientôt", TODAY, "Écrivez par exemple"),
        ("15/03/2030", TODAY, "plus d'un an après aujourd'hui"),
        ("15/03/1950", TODAY, "trop ancienne"),
        ("29/02", date(2027, 11, 26), "29 février 2027 n'existe pas"),
    ],
)
def test_a_typed_convention_start_that_cannot_be_used(
    typed: str, today: date, message: str
) -> None:
    with pytest.raises(ConventionDateError, match=message):
        parse_convention_start(typed, today)


# ------------------------------------------------------------------------------ the nightly check
async def set_start(network: Network, partner_id: int, start: date) -> None:
    async with network.db.transaction() as tx:
        await partners.set_convention_start(tx, partner_id, start)


def reminders(user: FakeUser) -> list[str]:
    return [m.text for m in user.bot_messages if "Convention à reconduire" in (m.text or "")]


async def test_each_deadline_is_reminded_once_catching_up_a_missed_night(
    bot: RunningBot, network: Network, fake: FakeBotApi, coordinator: FakeUser
) -> None:
    group = fake.group(-100777, "Caf — suivi")
    async with network.db.transaction() as tx:
        await tx.execute(
            "UPDATE cafs SET notify_chat_id = :g WHERE id = :id",
            {"g": group.chat_id, "id": network.caf.id},
        )
    colleague = await network.join(Role.COORDINATOR, first_name="Claire")
    # Mairie de Ham: notice by 10 January 2027, reminded from 10 December 2026.
    await set_start(network, network.site.id, date(2026, 4, 10))
    # Albert: notice by 5 January 2027, reminded from 5 December 2026.
    await set_start(network, network.other_site.id, date(2026, 4, 5))
    # A withdrawn site with the same dates as Ham: never reminded.
    withdrawn = await network.add_site("Ancien point")
    await set_start(network, withdrawn.id, date(2026, 4, 10))
    await network.set_label(withdrawn, LabelStatus.WITHDRAWN)
    # A suspended one is still followed (the label may come back).
    suspended = await network.add_site("Point en examen")
    await set_start(network, suspended.id, date(2026, 4, 10))
    await network.set_label(suspended, LabelStatus.SUSPENDED)
    # A convention whose notice deadline passed already (20 November): nothing until 2027.
    past = await network.add_site("Préavis passé")
    await set_start(network, past.id, date(2026, 2, 20))
    scheduler = bot.app.bot_data["scheduler"]

    network.clock.advance(days=3, hours=20)  # Monday 30 November, 6 h: nothing due yet
    assert await scheduler.run_due() >= 1
    assert reminders(coordinator) == []

    # The bot is down from 1 to 7 December: Albert's reminder (due on the 5th) comes on the 8th.
    network.clock.advance(days=8)  # Tuesday 8 December, 6 h
    assert await scheduler.run_due() >= 1
    await fake.wait_for(lambda: len(reminders(coordinator)) == 1)
    [text] = reminders(coordinator)
    assert "France Services Albert (Albert)" in text
    assert "échéance le 5 avril 2027" in text
    assert "au plus tard le 5 janvier 2027" in text
    [notice] = [m for m in coordinator.bot_messages if "Convention à reconduire" in (m.text or "")]
    assert notice.labels == ["✅ Voir la conformité du site"]

    for _ in range(3):  # 9, 10 and 11 December: Ham and the suspended site on the 10th only
        network.clock.advance(days=1)
        assert await scheduler.run_due() >= 1
    await fake.wait_for(lambda: len(reminders(coordinator)) == 3)
    await outbox_settled(network)
    sites = sorted(text.split("\n")[0] for text in reminders(coordinator))
    assert sites == [
        "📅 Convention à reconduire ou dénoncer : France Services Albert (Albert)",
        "📅 Convention à reconduire ou dénoncer : Mairie de Ham (Ham)",
        "📅 Convention à reconduire ou dénoncer : Point en examen (Amiens)",
    ]
    assert len(reminders(colleague)) == 3
    assert len([m for m in group.bot_messages if "Convention à reconduire" in m.text]) == 3
    assert not group.last_message.labels  # the group's copy is read-only
    assert await store.reminders_sent(network.db, network.site.id) == [date(2027, 1, 10)]
    assert await store.reminders_sent(network.db, withdrawn.id) == []
    assert await store.reminders_sent(network.db, past.id) == []

    # Run again by hand (a redelivered job): nothing new.
    assert await nightly.send_reminders(network.db, network.clock.now()) == 0
    counts = await outbox.counts(network.db, kind=nightly.KIND)
    assert counts[outbox.OutboxStatus.SENT] == 9  # 3 sites × (2 coordinators + the group)

    # The reminder's button opens the site's compliance card.
    reminder = next(m for m in coordinator.bot_messages if "Mairie de Ham" in (m.text or ""))
    await coordinator.tap("✅ Voir la conformité du site", reminder)
    assert "Préavis de dénonciation au plus tard le 10 janvier 2027" in reminder.text


async def test_a_deadline_passed_while_the_bot_was_down_is_not_announced_late(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await set_start(network, network.site.id, date(2026, 3, 10))  # notice by 10 December
    await set_start(network, network.other_site.id, date(2026, 11, 26))
    network.clock.advance(days=20)  # 16 December: the reminder window is over
    assert await nightly.send_reminders(network.db, network.clock.now()) == 0
    assert await store.reminders_sent(network.db, network.site.id) == []


async def test_with_nobody_to_tell_the_reminder_waits_for_a_coordinator(
    bot: RunningBot, network: Network
) -> None:
    await set_start(network, network.site.id, date(2025, 3, 15))  # reminded from 15 November
    assert await nightly.send_reminders(network.db, network.clock.now()) == 0
    assert await store.reminders_sent(network.db, network.site.id) == []
    newcomer = await network.join(Role.COORDINATOR, first_name="Noé")
    assert await nightly.send_reminders(network.db, network.clock.now()) == 1
    await network.fake.wait_for(lambda: bool(reminders(newcomer)))
    assert "au plus tard le 15 décembre 2026" in reminders(newcomer)[0]


async def test_the_sites_managers_get_their_own_reminder_once_per_term(
    bot: RunningBot,
    network: Network,
    fake: FakeBotApi,
    coordinator: FakeUser,
    manager: FakeUser,
    agent: FakeUser,
) -> None:
    await set_start(network, network.site.id, date(2025, 3, 15))  # reminded from 15 November
    assert await nightly.send_reminders(network.db, network.clock.now()) == 1

    def site_reminders() -> list[str]:
        return [m.text for m in manager.bot_messages if "Votre convention" in (m.text or "")]

    await fake.wait_for(lambda: len(site_reminders()) == 1)
    [text] = site_reminders()
    assert "Mairie de Ham (Ham)" in text
    assert "échéance le 15 mars 2027" in text
    assert "au plus tard le 15 décembre 2026" in text
    [notice] = [m for m in manager.bot_messages if "Votre convention" in (m.text or "")]
    assert notice.labels == ["📄 Dénoncer la convention"]
    assert not any("Votre convention" in (m.text or "") for m in agent.bot_messages)
    assert reminders(coordinator)  # the Caf's, as before

    # The next nights, and a run repeated by hand: nothing new for the manager.
    for _ in range(2):
        network.clock.advance(days=1)
        await nightly.send_reminders(network.db, network.clock.now())
    await outbox_settled(network)
    assert len(site_reminders()) == 1

    # Its button opens the site's convention, where notice can be given.
    await manager.tap("📄 Dénoncer la convention", notice)
    assert "Aucune dénonciation en cours" in notice.text


# ------------------------------------------------------------------------------ setting the start
async def test_a_coordinator_types_the_convention_date_of_a_site(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await open_site(coordinator, "Mairie de Ham")
    await coordinator.tap("✏️ Modifier")
    await coordinator.tap("📅 Date de la convention")
    assert "la convention a pris effet" in coordinator.last_message.text
    await coordinator.send("le 31 juin 2025")
    assert "Écrivez par exemple" in coordinator.last_message.text  # the question stands
    await coordinator.send("31/05/2025")
    text = coordinator.last_message.text
    assert "Convention du 31 mai 2025 enregistrée" in text
    assert "préavis de dénonciation : au plus tard le 28 février 2027" in text
    assert "pour l'échéance du 31 mai 2027" in text
    assert "rappel vous sera envoyé le 28 janvier 2027" in text
    assert "Convention depuis le 31 mai 2025" in text  # the site's card, updated
    partner = await partners.get(network.db, network.site.id)
    assert partner is not None and partner.convention_start == date(2025, 5, 31)
    row = await network.db.fetch_one(
        "SELECT actor_id, details FROM audit_log WHERE action = 'partner.updated'"
        " AND target_id = :id",
        {"id": network.site.id},
    )
    assert row is not None and '"field": "convention_start"' in row["details"]
    assert '"from": "2026-11-26", "to": "2025-05-31"' in row["details"]
    assert await network.db.fetch_value("SELECT COUNT(*) FROM pending_inputs") == 0


async def test_an_agent_cannot_set_a_convention_date(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    from bot.ui import callbacks

    await agent.tap_data(callbacks.encode(callbacks.NetworkTap("edit", network.site.id, 3)))
    assert await network.db.fetch_value("SELECT COUNT(*) FROM pending_inputs") == 0


# ------------------------------------------------------------------------------ partners import
def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_import_reads_an_optional_convention_start(tmp_path: Path) -> None:
    rows = read_partner_csv(
        write(
            tmp_path,
            "name;city;address;convention_start\n"
            "Mairie de Ham;Ham;1 place de l'Hôtel de Ville;2025-03-15\n"
            "Centre social;Péronne;;\n",
        )
    )
    assert rows == [
        ("Mairie de Ham", "Ham", "1 place de l'Hôtel de Ville", date(2025, 3, 15)),
        ("Centre social", "Péronne", "", None),
    ]
    three = read_partner_csv(write(tmp_path, "name,city,address\nMairie,Ham,\n"))
    assert three == [("Mairie", "Ham", "", None)]
    with pytest.raises(CliError, match="ligne 2 : convention_start « 15/03/2025 »"):
        read_partner_csv(
            write(tmp_path, "name,city,address,convention_start\nMairie,Ham,,15/03/2025\n")
        )


async def test_imported_sites_keep_their_convention_start(network: Network) -> None:
    async with network.db.transaction() as tx:
        added, _ = await partners.add_many(
            tx,
            caf_id=network.caf.id,
            rows=[("Signée", "Ham", "", date(2025, 3, 15)), ("Du jour", "Ham", "", None)],
            now=network.clock.now(),
        )
    assert [p.convention_start for p in added] == [date(2025, 3, 15), TODAY]

"""🏛 Visite annuelle, driven as a coordinator would, with the site's manager on the other side:
a visit and its action plan recorded, followed until done, and everything that must not work."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.domain.opening_hours import WeeklySchedule, parse_periods
from bot.domain.permissions import Role
from bot.domain.site_reviews import CHECK_KEYS, CHECKS, DraftState, Owner
from bot.jobs import action_reminders
from bot.sandbox.bot_api import FakeBotApi, FakeMessage, FakeUser
from storage import hours, site_reviews
from storage import site_reviews as store
from tests.conftest import Network, RunningBot
from tests.e2e.conftest import Restart
from tests.e2e.test_network import open_site
from tests.e2e.test_notifications import outbox_settled
from tests.fuzz.harness import _DATE, FAST_OUTBOX, build_world, go, outbox_clean, say, tap

IBAN = "FR14 2004 1010 0505 0001 3M02 606"
NIR = "1 84 12 76 451 089 46"
REMARKS = "Affichage des horaires absent à l'entrée."
FIRST = "Afficher les horaires à l'entrée"
SECOND = "Former le nouvel agent à Mon Compte"
POINTS = len(CHECKS)  # the checklist's points, one « ✅ Oui » / « ❌ Non » each


class Taps:
    """Counts the coordinator's button presses; typing is counted apart."""

    def __init__(self, user: FakeUser) -> None:
        self.user = user
        self.taps = 0
        self.typed = 0

    async def __call__(self, *labels: str) -> None:
        for label in labels:
            await self.user.tap(label)
            self.taps += 1

    async def type(self, text: str) -> None:
        await self.user.send(text)
        self.typed += 1


async def open_review(coordinator: FakeUser, site: str = "Mairie de Ham") -> None:
    await open_site(coordinator, site)
    await coordinator.tap("🏛 Visite annuelle")


async def record_visit(coordinator: FakeUser, *items: tuple[str, str, str]) -> None:
    """A visit today, all conforming, no remarks, with `items` (description, owner, delay)."""
    await open_review(coordinator)
    await coordinator.tap("➕ Enregistrer une visite")
    await coordinator.tap("Aujourd'hui (26/11)")
    for _ in range(POINTS):
        await coordinator.tap("✅ Oui")
    await coordinator.tap("Passer ▶️")
    for description, owner, delay in items:
        await coordinator.tap("➕ Ajouter une action")
        await coordinator.send(description)
        await coordinator.tap(owner)
        await coordinator.tap(delay)
    await coordinator.tap("✅ Enregistrer la visite")
    assert "enregistrée" in coordinator.last_message.text


def data_of(message: FakeMessage, label: str) -> str:
    [data] = [data for row in message.inline_buttons for text, data in row if text == label]
    return data


async def count(network: Network, table: str) -> int:
    return int(await network.db.fetch_value(f"SELECT COUNT(*) FROM {table}"))


async def open_draft_count(network: Network) -> int:
    return int(
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM review_drafts WHERE json_extract(state, '$.step') IS NOT NULL"
        )
    )


async def declare_weekday_hours(network: Network) -> None:
    schedule = WeeklySchedule.closed()
    for weekday in range(5):
        schedule = schedule.with_day(weekday, parse_periods("9h-12h / 14h-17h"))
    async with network.db.transaction() as tx:
        await hours.declare(
            tx,
            partner_id=network.site.id,
            schedule=schedule,
            effective_from=date(2026, 9, 1),
            by=None,
            now=network.clock.now(),
        )


@pytest.mark.usefixtures("bot")
async def test_a_visit_with_two_action_items_and_a_proposed_one_reaches_the_site_manager(
    network: Network, fake: FakeBotApi, manager: FakeUser, agent: FakeUser, coordinator: FakeUser
) -> None:
    await declare_weekday_hours(network)
    await open_review(coordinator)
    assert "Aucune visite n'est encore enregistrée" in coordinator.last_message.text
    wizard = coordinator.last_message
    tap = Taps(coordinator)
    await tap("➕ Enregistrer une visite", "Aujourd'hui (26/11)")
    assert "Visite du jeudi 26 novembre 2026" in coordinator.last_message.text
    await tap("✅ Oui")  # premises
    await tap("✅ Oui")  # equipment
    hint = coordinator.last_message.text
    assert "Les horaires sont-ils respectés ?" in hint
    assert "Lundi : 9 h – 12 h, 14 h – 17 h" in hint and "Horaires conformes" in hint
    await tap("❌ Non")
    for _ in range(POINTS - 3):
        await tap("✅ Oui")
    assert coordinator.last_message is wizard  # one message, edited in place so far
    await tap.type(REMARKS)
    await tap("➕ Ajouter une action")
    await tap.type(FIRST)
    await tap("Partenaire", "Dans 1 mois (26/12)")
    await tap("➕ Ajouter une action")
    await tap.type(SECOND)
    await tap("Les deux")
    await tap.type("15/03")
    plan = coordinator.last_message.text
    proposed = "Respecter les horaires déclarés"  # proposed for the hours found wanting
    assert f"1. {proposed} — Partenaire, avant le vendredi 26 février 2027 (proposée)" in plan
    assert f"2. {FIRST} — Partenaire, avant le samedi 26 décembre 2026" in plan
    assert f"3. {SECOND} — Les deux, avant le lundi 15 mars 2027" in plan
    assert "❌ À revoir : Horaires" in plan and f"« {REMARKS} »" in plan
    await tap("✅ Enregistrer la visite")
    assert (tap.taps, tap.typed) == (11 + POINTS - 3, 4)

    saved = coordinator.last_message.text
    assert "Visite du jeudi 26 novembre 2026 enregistrée, avec 3 actions au plan" in saved
    assert "Le responsable du site est prévenu." in saved
    assert "Plan d'action : 3 actions en cours" in saved and "🔴" not in saved
    assert "jeudi 26 novembre 2026 — ❌ à revoir : Horaires" in saved
    assert "➕ Enregistrer une visite" in coordinator.last_message.labels

    review = await store.last_review(network.db, network.site.id)
    assert review is not None and review.visited_on == date(2026, 11, 26)
    assert (review.premises_ok, review.equipment_ok, review.hours_ok) == (True, True, False)
    assert review.remarks == REMARKS
    items = await store.open_items(network.db, network.site.id)
    assert [(i.description, i.owner.value, i.point) for i in items] == [
        (FIRST, "partner", None),
        (proposed, "partner", "hours"),
        (SECOND, "both", None),
    ]
    assert await open_draft_count(network) == 0
    assert (
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'review.recorded'"
        )
        == 1
    )

    await fake.wait_for(lambda: "Visite annuelle de la Caf" in (manager.last_message.text or ""))
    notice = manager.last_message
    assert "Vos actions" in notice.text
    assert f"{FIRST} — avant le samedi 26 décembre 2026" in notice.text
    assert f"{SECOND} — avant le lundi 15 mars 2027 (avec la Caf)" in notice.text
    assert "❌ Horaires non respectés" in notice.text
    assert "✅ Accessibilité garantie" in notice.text
    assert f"{proposed} — avant le vendredi 26 février 2027" in notice.text
    assert notice.inline_buttons == []  # managers never get this flow's buttons
    assert not any("Visite annuelle" in (m.text or "") for m in agent.bot_messages)
    await outbox_settled(network)


async def open_compliance_card(coordinator: FakeUser, site: str = "Mairie de Ham") -> str:
    """✅ Conformité, then the site's card: its every finding."""
    await coordinator.tap("✅ Conformité")
    [label] = [label for label in coordinator.last_message.labels if site in label]
    await coordinator.tap(label)
    return coordinator.last_message.text


async def test_the_full_checklist_walked_a_missing_accessibility_creates_an_action_and_a_finding(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser, coordinator: FakeUser
) -> None:
    await declare_weekday_hours(network)
    await open_review(coordinator)
    await coordinator.tap("➕ Enregistrer une visite")
    await coordinator.tap("Aujourd'hui (26/11)")
    for number, check in enumerate(CHECKS, start=1):
        step = coordinator.last_message.text
        assert f"Point {number} sur {POINTS}" in step and check.question in step, check.key
        assert check.hint is None or check.hint in step, check.key  # Article 8's list, …
        await coordinator.tap("❌ Non" if check.key == "accessibility" else "✅ Oui")
    remarks = coordinator.last_message.text
    assert "Remarques" in remarks
    for expected in (
        "✅ Confidentialité des entretiens assurée",
        "❌ Accessibilité non garantie",
        "✅ Signalétique et logo visibles",
        "✅ Sécurité du personnel et des locaux garantie",
        "✅ Mise en situation de l'agent satisfaisante",
    ):
        assert expected in remarks, expected
    await coordinator.tap("Passer ▶️")
    plan = coordinator.last_message.text
    proposal = "Garantir l'accès des personnes en situation de handicap"
    assert f"1. {proposal} — Partenaire, avant le vendredi 26 février 2027 (proposée)" in plan
    assert "Une action est proposée pour chaque point à revoir" in plan
    await coordinator.tap("✅ Enregistrer la visite")
    saved = coordinator.last_message.text
    assert "avec 1 action au plan" in saved and "❌ à revoir : Accessibilité" in saved

    checks = await network.db.fetch_all("SELECT item, ok FROM site_review_checks")
    assert {row[0]: bool(row[1]) for row in checks} == {
        key: key != "accessibility" for key in CHECK_KEYS
    }
    [item] = await store.open_items(network.db, network.site.id)
    assert (item.description, item.point, item.owner) == (proposal, "accessibility", Owner.PARTNER)
    details = await network.db.fetch_value(
        "SELECT details FROM audit_log WHERE action = 'review.recorded'"
    )
    assert '"missing": ["accessibility"]' in details

    card = await open_compliance_card(coordinator)
    assert "À revoir depuis la visite du 26 novembre : Accessibilité." in card
    await fake.wait_for(lambda: "Visite annuelle de la Caf" in (manager.last_message.text or ""))
    assert "❌ Accessibilité non garantie" in manager.last_message.text

    # Its action done, the point is no longer open.
    await open_review(coordinator)
    [done] = [label for label in coordinator.last_message.labels if label.startswith("✅ 1. ")]
    await coordinator.tap(done)
    await coordinator.tap("✅ Oui, c'est fait")
    card = await open_compliance_card(coordinator)
    assert "Aucun point de la visite à revoir." in card and "Accessibilité" not in card
    await outbox_settled(network)


async def test_an_item_marked_done_and_an_item_overdue_once_the_clock_moves(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await record_visit(
        coordinator,
        (FIRST, "Partenaire", "Dans 1 mois (26/12)"),
        (SECOND, "Caf", "Dans 3 mois (26/02)"),
    )
    network.clock.advance(timedelta(days=40))  # Tuesday 5 January 2027
    await open_review(coordinator)
    screen = coordinator.last_message.text
    assert f"1. 🔴 {FIRST} — Partenaire, en retard (échéance le samedi 26 décembre 2026)" in screen
    assert f"2. {SECOND} — Caf, avant le vendredi 26 février 2027" in screen
    summary = await store.summary_by_partner(network.db, network.caf.id, date(2027, 1, 5))
    assert summary == {
        network.site.id: (date(2026, 11, 26), 2, 1),
        network.other_site.id: (None, 0, 0),
    }

    await coordinator.tap(f"✅ 1. {FIRST}")
    confirm = coordinator.last_message
    assert "Cette action est-elle faite ?" in confirm.text
    yes = data_of(confirm, "✅ Oui, c'est fait")
    await coordinator.tap("✅ Oui, c'est fait")
    assert coordinator.last_callback_answer["text"] == "Action notée comme faite."
    screen = coordinator.last_message.text
    assert f"Action faite : « {FIRST} »" in screen and "🔴" not in screen
    assert "Plan d'action : 1 action en cours" in screen
    coordinator_id = await network.db.fetch_value(
        "SELECT id FROM people WHERE role = 'coordinator'"
    )
    done = await network.db.fetch_one(
        "SELECT done_at, done_by FROM action_items WHERE description = :d", {"d": FIRST}
    )
    assert done is not None and done[0] is not None and done[1] == coordinator_id
    # A second tap on the same confirmation changes nothing.
    await coordinator.tap_data(yes, confirm)
    assert "déjà notée comme faite" in coordinator.last_callback_answer["text"]
    assert (
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'review.item_done'"
        )
        == 1
    )
    assert await store.summary_by_partner(network.db, network.caf.id, date(2027, 1, 5)) == {
        network.site.id: (date(2026, 11, 26), 1, 0),
        network.other_site.id: (None, 0, 0),
    }
    # Back to the site's card.
    await coordinator.tap("⬅️ Retour au site")
    assert "🏢 Mairie de Ham" in coordinator.last_message.text


async def test_a_restart_in_the_middle_of_the_wizard_keeps_the_draft(
    restart: Restart, network: Network, coordinator: FakeUser
) -> None:
    await open_review(coordinator)
    await coordinator.tap("➕ Enregistrer une visite")
    await coordinator.tap("Hier (25/11)")
    await coordinator.tap("❌ Non")
    await coordinator.tap("✅ Oui")
    before = coordinator.last_message
    await restart()
    await coordinator.tap("✅ Oui", before)  # hours: the button made before the restart
    for _ in range(POINTS - 3):
        await coordinator.tap("✅ Oui")
    assert "Remarques" in coordinator.last_message.text
    await coordinator.send(REMARKS)  # the typed step survived too
    await coordinator.tap("✅ Enregistrer la visite")
    assert "Visite du mercredi 25 novembre 2026 enregistrée" in coordinator.last_message.text
    review = await store.last_review(network.db, network.site.id)
    assert review is not None and not review.premises_ok and review.remarks == REMARKS


async def test_identifiers_in_remarks_or_an_action_are_refused_and_never_stored(
    bot: RunningBot, network: Network, coordinator: FakeUser, db_path: Path
) -> None:
    await open_review(coordinator)
    await coordinator.tap("➕ Enregistrer une visite")
    await coordinator.tap("Aujourd'hui (26/11)")
    for _ in range(POINTS):
        await coordinator.tap("✅ Oui")
    typed = await coordinator.send(f"Usager a laissé son RIB {IBAN} sur le poste")
    assert typed.deleted and "IBAN" in coordinator.last_message.text
    await coordinator.send("Poste en libre accès propre et à jour.")
    await coordinator.tap("➕ Ajouter une action")
    typed = await coordinator.send(f"Rappeler l'usager {NIR}")
    assert typed.deleted and "sécurité sociale" in coordinator.last_message.text
    await coordinator.send("Changer le mot de passe du poste")
    await coordinator.tap("Caf")
    await coordinator.tap("Dans 6 mois (26/05)")
    await coordinator.tap("✅ Enregistrer la visite")
    review = await store.last_review(network.db, network.site.id)
    assert review is not None and review.remarks == "Poste en libre accès propre et à jour."
    [item] = await store.open_items(network.db, network.site.id)
    assert item.description == "Changer le mot de passe du poste"
    for secret in (IBAN, IBAN.replace(" ", ""), NIR, NIR.replace(" ", "")):
        for path in db_path.parent.glob(db_path.name + "*"):
            assert secret.encode() not in path.read_bytes(), secret


async def test_forged_buttons_from_a_manager_or_another_caf_change_nothing(
    bot: RunningBot, network: Network, manager: FakeUser, coordinator: FakeUser
) -> None:
    await record_visit(coordinator, (FIRST, "Partenaire", "Dans 1 mois (26/12)"))
    item_id = await network.db.fetch_value("SELECT id FROM action_items")
    await open_review(coordinator)
    await coordinator.tap("➕ Enregistrer une visite")
    revision = await network.db.fetch_value("SELECT revision FROM review_drafts")
    site = network.site.id

    for data in (f"yv:home:{site}:0", f"yv:new:{site}:0", f"yv:done:{item_id}:1"):
        await manager.tap_data(data)
        answer = manager.last_callback_answer
        assert answer is not None and "pas ouverte à votre rôle" in answer["text"]

    other_caf = await network.add_caf("Caf de l'Oise")
    outsider = await network.join(Role.COORDINATOR, caf=other_caf, first_name="Oscar")
    for data in (
        f"yv:home:{site}:0",
        f"yv:new:{site}:0",
        f"yv:done:{item_id}:1",
        f"yv:day:{revision}:0",
        f"yv:save:{revision}:0",
    ):
        await outsider.tap_data(data)
        answer = outsider.last_callback_answer
        assert answer is not None and "expiré" in answer["text"], data
    assert not any("Visite annuelle" in (m.text or "") for m in outsider.bot_messages)

    assert await count(network, "site_reviews") == 1
    assert await network.db.fetch_value("SELECT done_at FROM action_items") is None
    assert await count(network, "review_drafts") == 1  # the coordinator's own, untouched
    assert await network.db.fetch_value("SELECT revision FROM review_drafts") == revision
    # And a coordinator's forged values are refused too.
    await coordinator.tap_data(f"yv:day:{revision}:7")
    assert "expiré" in coordinator.last_callback_answer["text"]


async def test_stale_buttons_after_saving_and_double_taps_answer_clearly(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await open_review(coordinator)
    await coordinator.tap("➕ Enregistrer une visite")
    await coordinator.tap("Aujourd'hui (26/11)")
    premises = coordinator.last_message
    yes = data_of(premises, "✅ Oui")
    await coordinator.tap("✅ Oui")
    await coordinator.tap_data(yes, premises)  # a double tap
    assert "plus à jour" in coordinator.last_callback_answer["text"]
    assert "L'équipement est-il conforme ?" in coordinator.last_message.text
    for _ in range(POINTS - 1):
        await coordinator.tap("✅ Oui")
    remarks_step = coordinator.last_message
    skip = data_of(remarks_step, "Passer ▶️")
    await coordinator.send("Rien à signaler.")
    plan = coordinator.last_message
    save = data_of(plan, "✅ Enregistrer la visite")
    await coordinator.tap("✅ Enregistrer la visite")
    await coordinator.tap_data(save, plan)
    assert "déjà enregistrée" in coordinator.last_callback_answer["text"]
    await coordinator.tap_data(skip, remarks_step)
    assert "déjà enregistrée" in coordinator.last_callback_answer["text"]
    assert "🏛 Visite annuelle" in remarks_step.text  # the old step shows the site's screen
    assert await count(network, "site_reviews") == 1
    assert (
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'review.recorded'"
        )
        == 1
    )


async def test_typing_where_a_button_is_expected_and_going_back_and_cancelling(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await open_review(coordinator)
    await coordinator.tap("➕ Enregistrer une visite")
    for typed, answer in [
        ("bientôt", "Je n'ai pas compris"),
        ("15/12", "à venir"),
        ("demain", "à venir"),
    ]:
        await coordinator.send(typed)
        assert answer in coordinator.last_message.text, typed
    await coordinator.send("hier")
    assert "Visite du mercredi 25 novembre 2026" in coordinator.last_message.text
    await coordinator.send("oui")
    reply = coordinator.last_message
    assert "touchez un des boutons" in reply.text
    assert "Les locaux sont-ils conformes ?" in reply.text and "✅ Oui" in reply.labels
    await coordinator.tap("✅ Oui", reply)
    await coordinator.tap("⬅️ Retour")
    await coordinator.tap("⬅️ Retour")
    assert "Quel jour a eu lieu la visite ?" in coordinator.last_message.text
    await coordinator.tap("Aujourd'hui (26/11)")
    for _ in range(POINTS):
        await coordinator.tap("✅ Oui")
    await coordinator.send("Très bon accueil.")
    await coordinator.tap("➕ Ajouter une action")
    await coordinator.send("Mettre à jour l'affiche")
    await coordinator.tap("Caf")
    wizard = coordinator.last_message
    await coordinator.send("20/11")
    assert "passée" in coordinator.last_message.text
    await coordinator.send("x" * 61)
    assert "trop long" in coordinator.last_message.text
    # Back, step by step, on the wizard's message: the due date, owner, description, plan.
    await coordinator.tap("⬅️ Retour", wizard)
    assert "Qui s'en charge ?" in wizard.text
    await coordinator.tap("⬅️ Retour", wizard)
    assert "Nouvelle action" in wizard.text
    await coordinator.tap("⬅️ Retour", wizard)
    assert "Aucune action pour l'instant." in wizard.text
    await coordinator.tap("⬅️ Retour", wizard)
    assert "Garder la remarque ▶️" in wizard.labels
    await coordinator.tap("Garder la remarque ▶️", wizard)
    assert "« Très bon accueil. »" in wizard.text and "Plan d'action" in wizard.text

    # Leaving for the site's screen keeps the visit; /annuler drops it.
    await open_review(coordinator)
    assert "✏️ Reprendre la visite en cours" in coordinator.last_message.labels
    await coordinator.send("/annuler")
    assert "Action annulée" in coordinator.last_message.text
    assert await open_draft_count(network) == 0
    await open_review(coordinator)
    assert "➕ Enregistrer une visite" in coordinator.last_message.labels
    assert await count(network, "site_reviews") == 0


async def test_those_who_carry_an_item_are_reminded_a_week_before_and_once_it_is_late(
    bot: RunningBot, network: Network, manager: FakeUser, agent: FakeUser, coordinator: FakeUser
) -> None:
    await record_visit(
        coordinator,
        (FIRST, "Partenaire", "Dans 1 mois (26/12)"),
        (SECOND, "Les deux", "Dans 1 mois (26/12)"),
    )
    scheduler = bot.app.bot_data["scheduler"]

    def reminders(user: FakeUser, words: str) -> list[str]:
        return [m.text or "" for m in user.bot_messages if words in (m.text or "")]

    network.clock.advance(timedelta(days=22))  # Friday 18 December: 8 days before
    await scheduler.run_due()
    await outbox_settled(network)
    assert not reminders(manager, "Action à faire") and not reminders(coordinator, "Action")

    network.clock.advance(timedelta(days=1))  # Saturday 19: a week before
    await scheduler.run_due()
    await outbox_settled(network)
    soon = reminders(manager, "Action à faire d'ici le samedi 26 décembre 2026")
    assert len(soon) == 2 and any(FIRST in t for t in soon) and any(SECOND in t for t in soon)
    [caf_soon] = reminders(coordinator, "Action à faire")  # only the shared one is the Caf's
    assert SECOND in caf_soon and "Responsable : Les deux" in caf_soon
    assert "notez-la comme faite" in caf_soon
    assert "🏛 Voir la visite annuelle" in coordinator.last_message.labels
    assert not reminders(agent, "Action")  # the plan is the managers' business
    # The same run again (a crash after it) sends nothing twice.
    await action_reminders.send_reminders(network.db, network.clock.now())
    await outbox_settled(network)
    assert len(reminders(manager, "Action à faire")) == 2

    # The coordinator follows the button to the site's plan and marks the shared item done.
    await coordinator.tap("🏛 Voir la visite annuelle")
    await coordinator.tap(f"✅ 2. {SECOND}")
    await coordinator.tap("✅ Oui, c'est fait")
    await outbox_settled(network)
    [done] = reminders(manager, "Action faite")
    assert SECOND in done and "notée comme faite par la Caf" in done

    network.clock.advance(timedelta(days=8))  # Sunday 27: the first one is late
    await scheduler.run_due()
    await outbox_settled(network)
    [late] = reminders(manager, "Action en retard")
    assert FIRST in late and "Échéance passée : samedi 26 décembre 2026" in late
    assert not reminders(coordinator, "Action en retard")  # the partner's item only
    network.clock.advance(timedelta(days=1))
    await scheduler.run_due()
    await outbox_settled(network)
    assert len(reminders(manager, "Action en retard")) == 1  # once


# Found by the fuzzing (tests/fuzz/), pinned down.
@pytest.mark.parametrize("settings_overrides", [FAST_OUTBOX], ids=["fast_outbox"])
async def test_a_yearly_visit_at_every_limit_still_fits_in_telegrams_messages(
    bot: RunningBot, network: Network, fake: FakeBotApi
) -> None:
    """Found by the fuzzing: 1,000 characters of remarks and 12 actions of 300 characters are
    allowed, but the plan, the site's screen and the managers' notice then passed Telegram's
    4,096 characters and were refused (« incident technique », a notice never delivered)."""
    w = await build_world(bot, network, fake)
    coordinator, site = w.users["coordinator"], network.site
    async with network.db.transaction() as tx:
        await tx.execute(
            "UPDATE partners SET name = :name, city = :city WHERE id = :id",
            {"name": "N" * 200, "city": "V" * 100, "id": site.id},
        )
        for days in (40, 30):
            state = DraftState(
                visited_on=date(2026, 11, 26) - timedelta(days=days),
                answers=dict.fromkeys(CHECK_KEYS, False),
            ).with_remarks("R" * 1000)
            for number in range(12):
                state = (
                    state.adding_item()
                    .with_description(f"{number:02d}" + "d" * 298)
                    .with_owner(Owner.BOTH)
                    .with_due(date(2026, 11, 1))
                )
            await site_reviews.record(
                tx,
                caf_id=network.caf.id,
                partner_id=site.id,
                state=state,
                by=w.person_ids["coordinator"],
                now=w.now(),
            )
    await go(coordinator, w, *_DATE, tap("Aujourd'hui", prefix=True))
    await go(coordinator, w, *[tap("❌ Non")] * POINTS, say("r" * 1000))
    # Every point wanting proposes its action: removed, to make room for 12 of the longest.
    for _ in range(POINTS):
        await go(coordinator, w, tap("🗑 Retirer 1.", prefix=True))
    for number in range(12):
        await go(coordinator, w, tap("➕ Ajouter une action"), say(f"{number:02d}" + "a" * 298))
        await go(coordinator, w, tap("Les deux"), tap("Dans 1 mois", prefix=True))
        assert not bot.errors, bot.errors
    assert "12." in coordinator.last_message.text
    await go(coordinator, w, tap("✅ Enregistrer la visite"))
    assert not bot.errors, bot.errors
    assert "enregistrée, avec 12 actions" in coordinator.last_message.text
    await go(coordinator, w, tap("✅ 1.", prefix=True), tap("✅ Oui, c'est fait"))
    assert not bot.errors, bot.errors
    await outbox_settled(network)
    await outbox_clean(w)
    texts = [m.text or "" for m in w.users["manager"].bot_messages]
    notice = next(t for t in reversed(texts) if "Visite annuelle de la Caf" in t)
    assert "Vos actions" in notice
    # The item marked done is told to the manager too, with its (longest) description.
    assert "Action faite" in texts[-1] and "d" * 250 in texts[-1]


async def test_the_equipment_list_kept_by_a_manager_is_confirmed_at_the_visit(
    bot: RunningBot, network: Network, manager: FakeUser, coordinator: FakeUser
) -> None:
    await manager.tap("👥 Mon équipe")
    await manager.tap("💻 Équipement du site")
    card = manager.last_message
    assert "article 8" in card.text and "▫️ non renseigné : Scanner" in card.text
    for label in ("▫️ Poste informatique pour le public", "▫️ Accès à Internet", "▫️ Scanner"):
        await manager.tap(label, card)
    await manager.tap("✅ Scanner", card)  # no scanner after all
    assert manager.last_callback_answer["text"] == "Équipement mis à jour."
    assert "❌ manquant : Scanner" in card.text and "✅ Accès à Internet" in card.text
    assert "❌ Scanner" in card.labels
    audited = await network.db.fetch_value(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'equipment.changed'"
    )
    assert audited == 4
    await manager.tap("⬅️ Mon équipe", card)
    assert "💻 Équipement du site" in manager.last_message.labels

    # The coordinator's compliance view knows it before any visit.
    card_text = await open_compliance_card(coordinator)
    assert "Équipement manquant selon le site : Scanner." in card_text

    # At the visit, the list shows at the equipment point; the coordinator confirms it wanting.
    await open_review(coordinator)
    await coordinator.tap("➕ Enregistrer une visite")
    await coordinator.tap("Aujourd'hui (26/11)")
    await coordinator.tap("✅ Oui")
    step = coordinator.last_message.text
    assert "L'équipement est-il conforme ?" in step
    assert "Liste tenue par le site" in step and "❌ manquant : Scanner" in step
    assert "✅ Accès à Internet" in step and "Imprimante" not in step  # not told: not shown
    await coordinator.tap("❌ Non")
    for _ in range(POINTS - 2):
        await coordinator.tap("✅ Oui")
    await coordinator.tap("Passer ▶️")
    plan = coordinator.last_message.text
    assert "1. Compléter l'équipement : Scanner — Partenaire" in plan
    await coordinator.tap("✅ Enregistrer la visite")
    [item] = await store.open_items(network.db, network.site.id)
    assert (item.description, item.point) == ("Compléter l'équipement : Scanner", "equipment")
    card_text = await open_compliance_card(coordinator)
    assert "À revoir depuis la visite du 26 novembre : Équipement." in card_text

    # The scanner arrives: the manager ticks it, and the compliance view no longer lists it.
    await manager.tap("👥 Mon équipe")
    await manager.tap("💻 Équipement du site")
    await manager.tap("❌ Scanner")
    card_text = await open_compliance_card(coordinator)
    assert "Équipement manquant" not in card_text

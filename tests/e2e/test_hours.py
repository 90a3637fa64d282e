"""🕘 Horaires et fermetures, driven as a new manager would, with the Caf on the other side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.permissions import Role
from bot.sandbox.bot_api import ApiCall, FakeBotApi, FakeMessage, FakeUser
from storage import cafs
from tests.conftest import Network, RunningBot
from tests.e2e.conftest import Restart
from tests.e2e.test_network import open_site
from tests.e2e.test_notifications import outbox_settled

FULL_DAY = "Journée 9 h – 12 h / 14 h – 17 h"


async def set_day(manager: FakeUser, day: str, slot_or_text: str) -> None:
    [label] = [label for label in manager.last_message.labels if label.startswith(f"{day} :")]
    await manager.tap(label)
    if slot_or_text in manager.last_message.labels:
        await manager.tap(slot_or_text)
    else:
        await manager.send(slot_or_text)


async def declare_week_of_full_days(manager: FakeUser) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    await set_day(manager, "Lundi", FULL_DAY)
    await manager.tap("📋 Copier le lundi sur mardi → vendredi")
    await manager.tap("Suivant ▶️")


async def signals_of(network: Network, kind: str) -> list[tuple[int, str]]:
    rows = await network.db.fetch_all(
        "SELECT id, status FROM signals WHERE kind = :k ORDER BY id", {"k": kind}
    )
    return [(int(r[0]), str(r[1])) for r in rows]


async def active_closures(network: Network) -> int:
    return int(
        await network.db.fetch_value("SELECT COUNT(*) FROM closures WHERE cancelled_at IS NULL")
    )


async def test_a_new_manager_declares_compliant_hours_and_the_caf_gets_them(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser, coordinator: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    assert "Aucun horaire n'est encore déclaré" in manager.last_message.text
    await manager.tap("✏️ Modifier les horaires")
    assert "Lundi : Fermé" in manager.last_message.labels
    await set_day(manager, "Lundi", FULL_DAY)
    assert "Lundi : 9 h – 12 h, 14 h – 17 h" in manager.last_message.labels
    await manager.tap("📋 Copier le lundi sur mardi → vendredi")
    assert "Vendredi : 9 h – 12 h, 14 h – 17 h" in manager.last_message.labels
    assert "Samedi : Fermé" in manager.last_message.labels
    assert "Horaires conformes : 10 demi-journées, 30 h par semaine." in manager.last_message.text
    await manager.tap("Suivant ▶️")
    review = manager.last_message
    assert "Applicables dès aujourd'hui" in review.text
    assert "Lundi : 9 h – 12 h, 14 h – 17 h" in review.text
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    assert "Horaires enregistrés" in manager.last_message.text
    assert "jeudi 26 novembre 2026" in manager.last_message.text

    await fake.wait_for(lambda: "🕘" in (coordinator.last_message.text or ""))
    notice = coordinator.last_message.text
    assert "Horaires" in notice and "Mairie de Ham" in notice and "Marc" in notice
    assert "Lundi : 9 h – 12 h, 14 h – 17 h" in notice
    assert "Horaires conformes" in notice
    assert [status for _, status in await signals_of(network, "hours")] == ["open"]
    assert await signals_of(network, "label_risk") == []

    await manager.tap("⬅️ Horaires et fermetures")
    assert "Horaires en vigueur" in manager.last_message.text
    assert "Mercredi : 9 h – 12 h, 14 h – 17 h" in manager.last_message.text
    await manager.tap("📜 Historique des horaires")
    assert "par Marc" in manager.last_message.text
    assert await network.db.fetch_value("SELECT COUNT(*) FROM hours_drafts") == 0
    assert (
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'hours.declared'"
        )
        == 1
    )
    await outbox_settled(network)


async def test_hours_below_the_minimum_say_what_is_missing_and_alert_the_caf(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser, coordinator: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    await set_day(manager, "Lundi", "9h-12h")
    assert "✅ Lundi : 9 h – 12 h" in manager.last_message.text
    await set_day(manager, "Mercredi", "13:30-17:00")
    await manager.tap("Suivant ▶️")
    review = manager.last_message.text
    assert "En dessous du minimum de la convention" in review
    assert "Il manque 2 demi-journées et 5 h 30" in review
    assert "Vous pouvez enregistrer quand même" in review
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    assert "le label est à risque" in manager.last_message.text
    await fake.wait_for(lambda: "Label à risque" in (coordinator.last_message.text or ""))
    assert "Il manque 2 demi-journées" in coordinator.last_message.text
    [(risk_id, status)] = await signals_of(network, "label_risk")
    assert status == "open"

    # Back above the minimum from today (with a reason, Article 7): the alert is closed.
    await declare_week_of_full_days(manager)
    assert "Lundi : ajouté 14 h – 17 h" in manager.last_message.text
    await manager.tap("📅 Changer la date d'effet")
    await manager.tap("Aujourd'hui (raison à indiquer)")
    await manager.tap("✍️ Indiquer la raison puis enregistrer")
    await manager.send("Retour de l'agente : le site rouvre en entier.")
    assert "Horaires enregistrés" in manager.last_message.text
    assert await signals_of(network, "label_risk") == [(risk_id, "resolved")]
    assert len(await signals_of(network, "hours")) == 2


async def test_every_malformed_time_is_answered_with_an_example_and_loses_nothing(
    bot: RunningBot, network: Network, manager: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    await set_day(manager, "Mardi", "9h-12h")
    [label] = [label for label in manager.last_message.labels if label.startswith("Jeudi")]
    await manager.tap(label)
    for typed, answer in [
        ("9h-25h", "n'est pas une heure valide"),
        ("9h70-12h", "les minutes vont de 00 à 59"),
        ("12h-9h", "L'heure de fin doit être après l'heure de début"),
        ("bonjour", "Je n'ai pas compris"),
        ("8h-9h / 10h-11h / 14h-15h", "au plus deux plages"),
        ("9h-12h / 11h-14h", "se chevauchent"),
    ]:
        await manager.send(typed)
        assert answer in manager.last_message.text, typed
        assert "Écrivez par exemple" in manager.last_message.text, typed
    # The draft kept Tuesday; the expected answer is still Thursday's.
    await manager.send("9h30 – 12h / 14h-17h")
    assert "✅ Jeudi : 9 h 30 – 12 h, 14 h – 17 h" in manager.last_message.text
    assert "Mardi : 9 h – 12 h" in manager.last_message.labels
    # Text where a button was expected, once the day is set: the menu hint, nothing lost.
    await manager.send("n'importe quoi")
    assert await network.db.fetch_value("SELECT COUNT(*) FROM hours_drafts") == 1
    # /annuler drops the draft: nothing half-done is kept.
    await manager.send("/annuler")
    assert await network.db.fetch_value("SELECT COUNT(*) FROM hours_drafts") == 0
    assert await network.db.fetch_value("SELECT COUNT(*) FROM opening_hours") == 0


async def test_a_schedule_can_apply_from_a_future_date(
    bot: RunningBot, network: Network, manager: FakeUser
) -> None:
    await declare_week_of_full_days(manager)
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    await manager.tap("⬅️ Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    await set_day(manager, "Samedi", "Matin 9 h – 12 h")
    await manager.tap("Suivant ▶️")
    await manager.tap("📅 Changer la date d'effet")
    await manager.send("20/11")
    assert "passée" in manager.last_message.text
    await manager.send("1/12")
    assert "à partir du mardi 1er décembre 2026" in manager.last_message.text
    assert "Samedi : ajouté 9 h – 12 h" in manager.last_message.text
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    await manager.tap("⬅️ Horaires et fermetures")
    home = manager.last_message.text
    assert "Nouveaux horaires à partir du mardi 1er décembre 2026" in home
    assert "Samedi : Fermé" in home  # still the schedule in force today
    network.clock.advance(timedelta(days=5))
    await manager.tap("🕘 Horaires et fermetures")
    assert "Samedi : 9 h – 12 h" in manager.last_message.text
    assert "Nouveaux horaires" not in manager.last_message.text


@pytest.mark.usefixtures("bot")
async def test_a_closure_over_the_new_year_picked_on_the_calendar_tells_the_caf_and_the_site(
    network: Network, fake: FakeBotApi, manager: FakeUser, agent: FakeUser, coordinator: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("➕ Fermeture exceptionnelle")
    calendar = manager.last_message
    assert "Novembre 2026" in calendar.labels
    assert "25" not in calendar.labels and "26" in calendar.labels  # no past day to pick
    await manager.tap("▶️")
    assert "Décembre 2026" in manager.last_message.labels
    await manager.tap("24")
    assert "Premier jour : jeudi 24 décembre 2026" in manager.last_message.text
    assert "[24]" in manager.last_message.labels
    await manager.tap("▶️")
    await manager.tap("2")
    assert "du jeudi 24 décembre 2026 au samedi 2 janvier 2027" in manager.last_message.text
    await manager.tap("Congés, pont")
    typed = await manager.send("Rappeler Mme Martin au 03 22 11 22 33")
    assert typed.deleted and "téléphone" in manager.last_message.text.lower()
    await manager.send("Mairie fermée pour les fêtes.")
    assert "Fermeture enregistrée" in manager.last_message.text

    await fake.wait_for(lambda: "Fermeture exceptionnelle" in (agent.last_message.text or ""))
    assert "Du jeudi 24 décembre 2026 au samedi 2 janvier 2027" in agent.last_message.text
    assert "Mairie fermée pour les fêtes" in agent.last_message.text
    await fake.wait_for(lambda: "🚪" in (coordinator.last_message.text or ""))
    assert "10 jours" in coordinator.last_message.text
    [(signal_id, status)] = await signals_of(network, "closure")
    assert status == "open"

    # Cancelling it: confirmation, then everyone is told and the Caf's item is closed.
    await manager.tap("⬅️ Horaires et fermetures")
    [cancel] = [label for label in manager.last_message.labels if label.startswith("✖️ Annuler")]
    await manager.tap(cancel)
    assert "Annuler la fermeture" in manager.last_message.text
    await manager.tap("✖️ Oui, annuler la fermeture")
    assert "Fermeture annulée" in manager.last_message.text
    assert "Aucune fermeture exceptionnelle à venir" in manager.last_message.text
    await fake.wait_for(lambda: "Fermeture annulée" in (agent.last_message.text or ""))
    await fake.wait_for(lambda: "Fermeture annulée" in (coordinator.last_message.text or ""))
    assert await signals_of(network, "closure") == [(signal_id, "resolved")]
    assert "03 22 11 22 33" not in str(await network.db.fetch_all("SELECT * FROM closures"))


async def test_typed_closure_dates_are_parsed_or_refused_clearly(
    bot: RunningBot, network: Network, manager: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("➕ Fermeture exceptionnelle")
    for typed, answer in [
        ("20/11", "passé"),
        ("du 5/12 au 2/12", "avant"),
        ("31/02", "n'existe pas"),
        ("bientôt", "Écrivez par exemple"),
    ]:
        await manager.send(typed)
        assert answer in manager.last_message.text, (typed, manager.last_message.text)
    await manager.send("du 24/12 au 2/01")
    assert "du jeudi 24 décembre 2026 au samedi 2 janvier 2027" in manager.last_message.text
    await manager.tap("Travaux, locaux")
    await manager.tap("💾 Enregistrer sans note")
    assert "Fermeture enregistrée" in manager.last_message.text
    # The same dates again: one closure only.
    await manager.tap("⬅️ Horaires et fermetures")
    await manager.tap("➕ Fermeture exceptionnelle")
    await manager.send("du 24/12 au 2/01")
    await manager.tap("Travaux, locaux")
    await manager.tap("💾 Enregistrer sans note")
    assert "déjà déclarée" in manager.last_message.text
    assert await network.db.fetch_value("SELECT COUNT(*) FROM closures") == 1
    assert len(await signals_of(network, "closure")) == 1


@pytest.mark.usefixtures("bot")
async def test_an_agent_declares_the_site_closed_today_and_can_undo_it(
    network: Network, fake: FakeBotApi, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    await agent.tap("📣 Signaler")
    await agent.tap("🚪 Le site est fermé aujourd'hui")
    assert "jeudi 26 novembre 2026" in agent.last_message.text
    await agent.tap("Panne (informatique, réseau)")
    assert "Fermeture enregistrée" in agent.last_message.text
    await fake.wait_for(lambda: "Fermeture exceptionnelle" in (manager.last_message.text or ""))
    assert "Panne" in manager.last_message.text and "Agnès" in manager.last_message.text
    await fake.wait_for(lambda: "🚪" in (coordinator.last_message.text or ""))
    await agent.tap("↩️ Annuler cette fermeture")
    assert "Fermeture annulée" in agent.last_message.text
    await fake.wait_for(lambda: "Fermeture annulée" in (manager.last_message.text or ""))
    assert await active_closures(network) == 0


async def test_hours_and_closures_are_refused_to_agents_and_coordinators(
    bot: RunningBot, network: Network, agent: FakeUser, manager: FakeUser, coordinator: FakeUser
) -> None:
    for person in (agent, coordinator):
        await person.send("/horaires")
        assert "pas ouverte à votre rôle" in person.last_message.text
    await coordinator.send("/signaler")
    assert "pas ouverte à votre rôle" in coordinator.last_message.text
    # People joining (and committing to secrecy) are audited too: only the rest is counted.
    audited = "SELECT COUNT(*) FROM audit_log WHERE action NOT LIKE 'person.%'"
    before = await network.db.fetch_value(audited)
    for forged in ["h:edit:0:0:0", "h:dslot:1:2:0", "h:csave:20261224:20261224:0", "h:ccx:1:1:0"]:
        await agent.tap_data(forged)
        assert "pas ouverte" in (agent.last_callback_answer or {}).get("text", ""), forged
    # Another site's manager cannot cancel this site's closure.
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("➕ Fermeture exceptionnelle")
    await manager.send("24/12")
    await manager.tap("Congés, pont")
    await manager.tap("💾 Enregistrer sans note")
    closure_id = await network.db.fetch_value("SELECT id FROM closures")
    other_manager = await network.join(Role.MANAGER, partner=network.other_site, first_name="Odile")
    await other_manager.tap_data(f"h:ccx:{closure_id}:1:0")
    assert await active_closures(network) == 1
    assert await network.db.fetch_value(audited) == before + 1  # the closure, nothing else


async def test_a_restart_in_the_middle_of_an_edit_loses_nothing(
    restart: Restart, network: Network, manager: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    await set_day(manager, "Lundi", FULL_DAY)
    await set_day(manager, "Mardi", "Matin 9 h – 12 h")
    week = manager.last_message
    [next_data] = [data for row in week.inline_buttons for label, data in row if "Suivant" in label]
    await restart()
    await manager.tap("Suivant ▶️", week)
    assert "Lundi : 9 h – 12 h, 14 h – 17 h" in manager.last_message.text
    assert "Mardi : 9 h – 12 h" in manager.last_message.text
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    assert "Horaires enregistrés" in manager.last_message.text
    # An old "Suivant" finds no edit in progress: a fresh one, with nothing to save.
    await manager.tap_data(next_data, week)
    assert "rien à enregistrer" in manager.last_message.text
    assert await network.db.fetch_value("SELECT COUNT(*) FROM opening_hours") == 1


# ------------------------------------------------------------------------------ in place
@dataclass
class Actions:
    """A person's taps and typed texts, counted: the flow's speed is their number."""

    user: FakeUser
    taps: int = 0
    texts: int = 0

    async def tap(self, *labels: str) -> None:
        for label in labels:
            self.taps += 1
            await self.user.tap(label)

    async def send(self, text: str) -> None:
        self.texts += 1
        await self.user.send(text)


def calls_in(fake: FakeBotApi, method: str, user: FakeUser) -> list[ApiCall]:
    return [call for call in fake.calls_to(method) if call.chat_id == user.chat_id]


def live(user: FakeUser) -> list[FakeMessage]:
    """The person's messages whose buttons still work."""
    return [message for message in user.bot_messages if message.inline_buttons]


async def typed_in_place(fake: FakeBotApi, actions: Actions, text: str, week: FakeMessage) -> None:
    """Types `text` and checks the answer edited the week's message, sending none."""
    user = actions.user
    sent, edited = (
        len(calls_in(fake, "sendMessage", user)),
        len(calls_in(fake, "editMessageText", user)),
    )
    await actions.send(text)
    assert len(calls_in(fake, "sendMessage", user)) == sent, "a new message was sent"
    [edit] = calls_in(fake, "editMessageText", user)[edited:]
    assert edit.params["message_id"] == week.message_id
    assert user.last_message is week and live(user) == [week]


async def declared_week(network: Network) -> str:
    return str(await network.db.fetch_value("SELECT schedule FROM opening_hours ORDER BY id DESC"))


MON_THU = (
    '{"0": [["09:00", "12:00"], ["14:00", "17:00"]], "1": [["09:00", "12:00"], ["14:00", "17:00"]],'
    ' "2": [["09:00", "12:00"], ["14:00", "17:00"]], "3": [["09:00", "12:00"], ["14:00", "17:00"]],'
    ' "4": [], "5": [], "6": []}'
)


async def test_four_days_of_the_same_hours_take_nine_actions_in_one_message(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser
) -> None:
    """Monday to Thursday 9:00–12:00 / 14:00–17:00: 8 taps and 1 text (12 actions one day at a
    time: 8 taps and 4 texts, see below), the week one message edited in place."""
    actions = Actions(manager)
    await actions.tap("🕘 Horaires et fermetures", "✏️ Modifier les horaires", "Lundi : Fermé")
    week = manager.last_message
    assert "🕘 Lundi — actuellement : Fermé" in week.text
    await actions.tap("⬜ Mar", "⬜ Mer", "⬜ Jeu")
    assert "Mêmes horaires pour ces 4 jours" in week.text
    assert week.labels[:4] == ["✅ Lun", "✅ Mar", "✅ Mer", "✅ Jeu"]
    await typed_in_place(fake, actions, "9h-12h / 14h-17h", week)
    assert "✅ Lundi, mardi, mercredi, jeudi : 9 h – 12 h, 14 h – 17 h" in week.text
    assert "Jeudi : 9 h – 12 h, 14 h – 17 h" in week.labels
    assert "Vendredi : Fermé" in week.labels
    await actions.tap("Suivant ▶️", "✅ Enregistrer et prévenir la Caf")
    assert "Horaires enregistrés" in week.text and manager.last_message is week
    assert (actions.taps, actions.texts) == (8, 1)
    assert await declared_week(network) == MON_THU


async def test_each_typed_day_edits_the_week_in_place(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser
) -> None:
    """The same week one day at a time, as before the checklist: 12 actions, no new copy."""
    actions = Actions(manager)
    await actions.tap("🕘 Horaires et fermetures", "✏️ Modifier les horaires")
    week = manager.last_message
    for day in ("Lundi", "Mardi", "Mercredi", "Jeudi"):
        await actions.tap(f"{day} : Fermé")
        await typed_in_place(fake, actions, "9h-12h / 14h-17h", week)
        assert f"✅ {day} : 9 h – 12 h, 14 h – 17 h" in week.text
    await actions.tap("Suivant ▶️", "✅ Enregistrer et prévenir la Caf")
    assert (actions.taps, actions.texts) == (8, 4)
    assert await declared_week(network) == MON_THU


async def test_a_slot_for_several_days_and_wrong_hours_typed_stay_in_the_message(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    week = manager.last_message
    await manager.tap("🗓 Mêmes horaires sur plusieurs jours")
    assert "cochez les jours" in week.text
    await manager.tap(FULL_DAY)  # no day ticked yet: nothing changes
    assert (manager.last_callback_answer or {}).get("text") == "Cochez d'abord au moins un jour."
    await manager.tap("⬜ Ven")
    await manager.tap("⬜ Sam")
    await manager.tap("✅ Ven")  # unticked again
    await typed_in_place(fake, Actions(manager), "9h-25h", week)
    assert "n'est pas une heure valide" in week.text and "✅ Sam" in week.labels
    await manager.tap("Matin 9 h – 12 h")
    assert "Samedi : 9 h – 12 h" in week.labels and "Vendredi : Fermé" in week.labels
    assert live(manager) == [week]


async def test_copying_the_current_week_starts_again_from_the_hours_in_force(
    bot: RunningBot, network: Network, manager: FakeUser
) -> None:
    await declare_week_of_full_days(manager)
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    await manager.tap("⬅️ Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    assert "📄 Copier la semaine actuelle" not in manager.last_message.labels  # the same week
    await set_day(manager, "Lundi", "Fermé")
    await set_day(manager, "Samedi", "Matin 9 h – 12 h")
    assert "Lundi : Fermé" in manager.last_message.labels
    await manager.tap("📄 Copier la semaine actuelle")
    assert (manager.last_callback_answer or {}).get("text") == (
        "Semaine actuelle copiée : changez ce qui change."
    )
    assert "Lundi : 9 h – 12 h, 14 h – 17 h" in manager.last_message.labels
    assert "Samedi : Fermé" in manager.last_message.labels
    assert "📄 Copier la semaine actuelle" not in manager.last_message.labels
    # With new hours to come, an edit starts from those: the week in force is one tap away.
    await set_day(manager, "Samedi", "Matin 9 h – 12 h")
    await manager.tap("Suivant ▶️")
    await manager.tap("📅 Changer la date d'effet")
    await manager.send("1/12")
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    await manager.tap("⬅️ Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    assert "Samedi : 9 h – 12 h" in manager.last_message.labels
    await manager.tap("📄 Copier la semaine actuelle")
    assert "Samedi : Fermé" in manager.last_message.labels


async def test_a_week_that_cannot_be_edited_is_sent_anew_and_the_old_copy_goes_dead(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser
) -> None:
    await manager.tap("🕘 Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    old = manager.last_message
    await manager.tap("Lundi : Fermé")
    fake.fail("editMessageText", status=400, description="Bad Request: message can't be edited")
    await manager.send("9h-12h")
    new = manager.last_message
    assert new is not old and "✅ Lundi : 9 h – 12 h" in new.text
    assert live(manager) == [new] and old.labels == []
    # A message sent below the question (here, a text too long): the answer comes below too.
    await manager.tap("Mardi : Fermé")
    await manager.send("9h-12h " * 30)
    assert "trop long" in manager.last_message.text
    await manager.send("14h-17h")
    newest = manager.last_message
    assert newest is not new and "✅ Mardi : 14 h – 17 h" in newest.text
    assert live(manager) == [newest]


# ------------------------------------------------------------------------------ a coordinator
@pytest.mark.usefixtures("bot")
async def test_a_coordinator_declares_the_hours_and_a_closure_of_a_site_without_manager(
    network: Network, fake: FakeBotApi, manager: FakeUser, coordinator: FakeUser
) -> None:
    claire = await network.join(Role.COORDINATOR, first_name="Claire")
    albert_agent = await network.join(Role.AGENT, partner=network.other_site, first_name="Alain")
    await open_site(coordinator, "Mairie de Ham")  # it has a manager: he declares
    assert "🕘 Horaires du site" not in coordinator.last_message.labels
    await coordinator.tap("⬅️ Tous les sites")
    [albert] = [label for label in coordinator.last_message.labels if "Albert" in label]
    await coordinator.tap(albert)
    await coordinator.tap("🕘 Horaires du site")
    card = coordinator.last_message
    assert "Horaires et fermetures</b> — France Services Albert" in (card.html or "")
    assert "🚪 Fermé aujourd'hui" not in card.labels

    actions = Actions(coordinator)
    await actions.tap("✏️ Modifier les horaires", "Lundi : Fermé", "⬜ Mar", "⬜ Mer", "⬜ Jeu")
    await typed_in_place(fake, actions, "9h-12h / 14h-17h", card)
    await actions.tap("Suivant ▶️", "✅ Enregistrer et prévenir la Caf")
    assert "Horaires enregistrés" in card.text
    corinne = await network.db.fetch_value("SELECT id FROM people WHERE display_name = 'Corinne'")
    row = await network.db.fetch_one("SELECT partner_id, declared_by FROM opening_hours")
    assert row is not None and tuple(row) == (network.other_site.id, corinne)

    await coordinator.tap("⬅️ Horaires et fermetures")
    await coordinator.tap("➕ Fermeture exceptionnelle")
    await coordinator.send("24/12")
    await coordinator.tap("Congés, pont")
    await coordinator.send("Fermé pour les fêtes.")
    assert "Fermeture enregistrée" in card.text and coordinator.last_message is card

    audited = await network.db.fetch_all(
        "SELECT action, actor_id FROM audit_log WHERE action IN"
        " ('hours.declared', 'closure.declared') ORDER BY id"
    )
    assert [tuple(r) for r in audited] == [
        ("hours.declared", corinne),
        ("closure.declared", corinne),
    ]
    # The site's people are told of the closure, the other coordinators of both; not Corinne.
    await fake.wait_for(
        lambda: "Fermeture exceptionnelle" in (albert_agent.last_message.text or "")
    )
    assert "Déclarée par Corinne (Caf de la Somme)" in albert_agent.last_message.text
    await fake.wait_for(lambda: "🚪" in (claire.last_message.text or ""))
    await outbox_settled(network)
    assert not [m for m in coordinator.bot_messages if "Nouveau signalement" in (m.text or "")]
    assert "Fermeture exceptionnelle" not in (manager.last_message.text or "")
    await coordinator.tap("⬅️ Horaires et fermetures")
    await coordinator.tap("⬅️ Le site")
    assert "France Services Albert" in coordinator.last_message.text


async def test_site_hours_buttons_are_for_the_coordinators_of_the_sites_caf(
    bot: RunningBot, network: Network, manager: FakeUser, coordinator: FakeUser
) -> None:
    albert = network.other_site.id
    await manager.tap_data(f"hs:home:{albert}:0:0:0")
    assert "pas ouverte" in (manager.last_callback_answer or {}).get("text", "")
    oise = await network.add_caf("Caf de l'Oise")
    beauvais = await network.add_site("Mairie de Beauvais", caf=oise)
    await coordinator.tap_data(f"hs:home:{beauvais.id}:0:0:0")
    assert (coordinator.last_callback_answer or {}).get("text") == "Ce menu a expiré."
    await coordinator.tap_data(f"hs:edit:{albert}:0:0:0")
    assert "Modifier les horaires</b> — France Services Albert" in (
        coordinator.last_message.html or ""
    )


# ------------------------------------------------------------------------------ the Caf's zone
async def test_hours_and_closures_are_dated_in_the_cafs_zone(
    bot: RunningBot, network: Network, manager: FakeUser
) -> None:
    """Thursday 22:30 in Paris is already Friday 1:30 in La Réunion: its site's day."""
    async with network.db.transaction() as tx:
        await cafs.update(tx, network.caf.id, timezone="Indian/Reunion")
    network.clock.set(datetime(2026, 11, 26, 21, 30, tzinfo=UTC))
    await declare_week_of_full_days(manager)
    assert "Applicables dès aujourd'hui" in manager.last_message.text
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    assert "applicables à partir du vendredi 27 novembre 2026" in manager.last_message.text
    await manager.tap("⬅️ Horaires et fermetures")
    await manager.tap("📜 Historique des horaires")
    assert "27 novembre" in manager.last_message.text
    await manager.tap("⬅️ Retour")
    await manager.tap("➕ Fermeture exceptionnelle")
    assert "26" not in manager.last_message.labels and "27" in manager.last_message.labels
    await manager.send("26/11")
    assert "passé" in manager.last_message.text
    await manager.send("27/11")
    assert "le <b>vendredi 27 novembre 2026</b>" in (manager.last_message.html or "")


# ------------------------------------------------------------------------------ Article 7
async def in_effect_notices(user: FakeUser) -> list[str]:
    return [m.text for m in user.bot_messages if "s'appliquent à partir d'aujourd'hui" in m.text]


async def test_a_change_on_thursday_applies_from_monday_in_one_tap_and_reaches_the_caf_twice(
    bot: RunningBot,
    network: Network,
    fake: FakeBotApi,
    manager: FakeUser,
    agent: FakeUser,
    coordinator: FakeUser,
) -> None:
    """Thursday 26 November: a site's first hours apply at once; a change applies from the
    coming Monday by default, one tap away, and the Caf and the site hear of it on the day
    it is declared and again on Monday at 9:00 (NOTIFY_HOUR) in the Caf's zone, once."""
    await declare_week_of_full_days(manager)  # the first hours: from today, no reason
    assert "Applicables dès aujourd'hui" in manager.last_message.text
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    assert (
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM scheduled_jobs WHERE kind = 'hours_in_effect'"
        )
        == 0
    )
    await manager.tap("⬅️ Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    await set_day(manager, "Samedi", "Matin 9 h – 12 h")
    await manager.tap("Suivant ▶️")
    review = manager.last_message
    assert "Applicables à partir du lundi 30 novembre 2026" in review.text
    assert "puis à nouveau ce jour-là" in review.text
    taps = len(fake.calls_to("answerCallbackQuery"))
    await manager.tap("✅ Enregistrer et prévenir la Caf")  # one tap
    assert len(fake.calls_to("answerCallbackQuery")) == taps + 1
    saved = manager.last_message.text
    assert "applicables à partir du lundi 30 novembre 2026" in saved
    assert "prévenue à nouveau" in saved
    row = await network.db.fetch_one(
        "SELECT effective_from, reason FROM opening_hours ORDER BY id DESC"
    )
    assert row is not None and tuple(row) == ("2026-11-30", None)

    # Told when declared, with the day it applies from.
    await fake.wait_for(
        lambda: "Samedi : ajouté 9 h – 12 h" in (coordinator.last_message.text or "")
    )
    assert (
        "Horaires applicables à partir du lundi 30 novembre 2026" in coordinator.last_message.text
    )
    [(key, due)] = await network.db.fetch_all(
        "SELECT key, due_at FROM scheduled_jobs WHERE kind = 'hours_in_effect'"
    )
    assert due == "2026-11-30T08:00:00+00:00"  # 9:00 in Paris

    # And again on Monday at 9:00 in Paris, once.
    scheduler = bot.app.bot_data["scheduler"]
    network.clock.set(datetime(2026, 11, 30, 7, 59, tzinfo=UTC))
    await scheduler.run_due()
    await outbox_settled(network)
    assert await in_effect_notices(coordinator) == []
    network.clock.set(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    await scheduler.run_due()
    expected = "Les nouveaux horaires de Mairie de Ham (Ham) s'appliquent à partir d'aujourd'hui"
    for person in (coordinator, agent, manager):
        await fake.wait_for(lambda person=person: expected in (person.last_message.text or ""))
    assert "Samedi : 9 h – 12 h" in coordinator.last_message.text
    network.clock.advance(timedelta(hours=1))
    await scheduler.run_due()
    await outbox_settled(network)
    for person in (coordinator, agent, manager):
        assert len(await in_effect_notices(person)) == 1
    assert (
        await network.db.fetch_value("SELECT status FROM scheduled_jobs WHERE key = :k", {"k": key})
        == "done"
    )


async def test_a_change_from_today_asks_why_and_the_caf_reads_it(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser, coordinator: FakeUser
) -> None:
    await declare_week_of_full_days(manager)
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    await manager.tap("⬅️ Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    await set_day(manager, "Vendredi", "Fermé")
    await manager.tap("Suivant ▶️")
    await manager.tap("📅 Changer la date d'effet")
    assert manager.last_message.labels[0] == "Lundi prochain (30/11) — conseillé"
    await manager.tap("Aujourd'hui (raison à indiquer)")
    review = manager.last_message
    assert "Applicables dès aujourd'hui" in review.text
    assert "avant lundi prochain" in review.text
    assert "✅ Enregistrer et prévenir la Caf" not in review.labels
    # A forged « Enregistrer » is refused: the reason comes first.
    revision = await network.db.fetch_value("SELECT revision FROM hours_drafts")
    await manager.tap_data(f"h:save:{revision}:0:0", review)
    assert (manager.last_callback_answer or {}).get("text") == (
        "Indiquez d'abord pourquoi ce changement est si proche."
    )
    await manager.tap("✍️ Indiquer la raison puis enregistrer")
    assert "Pourquoi si tôt" in review.text
    # Typed text is screened for identifiers like every other: deleted, asked again.
    typed = await manager.send("Mme Martin malade, joindre au 06 12 34 56 78")
    assert typed.deleted
    assert await network.db.fetch_value("SELECT COUNT(*) FROM opening_hours") == 1
    await manager.send("Agente en arrêt maladie, le vendredi ne peut plus être assuré.")
    saved = manager.last_message.text
    assert "Horaires enregistrés" in saved and "arrêt maladie" in saved
    assert "prévenue à nouveau" not in saved  # it applies today: told once, now
    reason = await network.db.fetch_value("SELECT reason FROM opening_hours ORDER BY id DESC")
    assert reason == "Agente en arrêt maladie, le vendredi ne peut plus être assuré."
    await fake.wait_for(lambda: "arrêt maladie" in (coordinator.last_message.text or ""))
    assert "raison : « Agente en arrêt maladie" in coordinator.last_message.text
    assert (
        await network.db.fetch_value(
            "SELECT COUNT(*) FROM scheduled_jobs WHERE kind = 'hours_in_effect'"
        )
        == 0
    )
    await manager.tap("⬅️ Horaires et fermetures")
    await manager.tap("📜 Historique des horaires")
    assert "Raison : « Agente en arrêt maladie" in manager.last_message.text


async def test_the_reason_screen_offers_monday_instead(
    bot: RunningBot, network: Network, manager: FakeUser
) -> None:
    await declare_week_of_full_days(manager)
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    await manager.tap("⬅️ Horaires et fermetures")
    await manager.tap("✏️ Modifier les horaires")
    await set_day(manager, "Samedi", "Matin 9 h – 12 h")
    await manager.tap("Suivant ▶️")
    await manager.tap("📅 Changer la date d'effet")
    await manager.send("27/11")  # tomorrow: sooner than Monday
    await manager.tap("✍️ Indiquer la raison puis enregistrer")
    await manager.tap("📅 Plutôt à partir du lundi 30/11")
    assert "Applicables à partir du lundi 30 novembre 2026" in manager.last_message.text
    # No typed answer is expected any more: text goes to the usual hint, nothing declared.
    await manager.send("Une raison après coup")
    assert await network.db.fetch_value("SELECT COUNT(*) FROM opening_hours") == 1
    await manager.tap("✅ Enregistrer et prévenir la Caf")
    assert await network.db.fetch_value("SELECT reason FROM opening_hours ORDER BY id DESC") is None

"""The visit log, driven as an agent would: taps counted, saved once, never lost."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.permissions import LabelStatus, Role
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from storage import people
from storage import visits as store
from tests.conftest import Network, RunningBot

PARIS = ZoneInfo("Europe/Paris")
TYPICAL = [
    "Femme",
    "25 – 60 ans",
    "Allocataire",
    "Débutant",
    "Demande de prestation",
    "Accomp. démarche en ligne",
    "Logement et cadre de vie",
    "Oui",
]


async def log_visit(user: FakeUser, taps: list[str]) -> int:
    """Taps "📝 Nouvelle visite", then each label; returns the taps after the menu entry."""
    await user.tap("📝 Nouvelle visite")
    for label in taps:
        await user.tap(label)
    return len(taps)


async def visit_rows(network: Network) -> list[dict[str, object]]:
    rows = await network.db.fetch_all("SELECT * FROM visits ORDER BY id")
    return [dict(row) for row in rows]


async def stored(network: Network, visit_id: int) -> store.VisitRecord:
    record = await store.get_visit(network.db, visit_id)
    assert record is not None
    return record


# ------------------------------------------------------------------------------ taps
REFERENCE_VISITS = {
    "typique": (TYPICAL, 8),
    "personne morale, sans thématique": (
        [
            "Personne morale",
            "Non allocataire",
            "Autonome",
            "Attestations",
            "Orientation",
            "Aucune thématique",
            "Partiellement",
        ],
        7,
    ),
    "deux actions, deux demandes, deux thématiques": (
        [
            "Homme",
            "< 25 ans",
            "Allocataire",
            "Intermédiaire",
            "Paiements",
            "Info / conseil",
            "➕ Autre action",
            "Explication courrier",
            "➕ Autre demande",
            "Situation pro",
            "Accomp. démarche",
            "Solidarité et insertion",
            "➕ Autre thématique",
            "Enfance et jeunesse",
            "Oui",
        ],
        15,
    ),
    "saisie tardive (hier à 14 h)": (
        ["🕘 Plus tôt ou un autre jour", "Hier", "14 h", *TYPICAL],
        11,
    ),
}


@pytest.mark.parametrize("shape", list(REFERENCE_VISITS))
async def test_reference_visits_tap_counts(
    bot: RunningBot, network: Network, agent: FakeUser, shape: str
) -> None:
    taps, expected = REFERENCE_VISITS[shape]
    assert await log_visit(agent, taps) == expected
    assert "Visite enregistrée" in agent.last_message.text
    assert len(await visit_rows(network)) == 1


async def test_typical_visit_takes_eight_taps_and_is_stored_as_answered(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    assert await log_visit(agent, TYPICAL) == 8
    message = agent.last_message
    assert "Visite enregistrée" in message.text
    assert "Demande de prestation : Accomp. démarche en ligne" in message.text
    assert message.labels == ["✏️ Modifier", "↩️ Annuler cette visite", "📝 Visite suivante"]
    [row] = await visit_rows(network)
    assert (row["sexe"], row["age"], row["statut"], row["autonomie"], row["resolution"]) == (
        "femme",
        "25_60",
        "allocataire",
        "debutant",
        "oui",
    )
    assert row["partner_id"] == network.site.id
    assert row["visited_at"] == network.clock.now().isoformat(timespec="seconds")
    visit = await stored(network, int(row["id"]))
    assert [(r.demande, r.actions) for r in visit.answers.requests] == [
        ("demande_prestation", ["accompagnement_en_ligne"])
    ]
    assert visit.answers.themes == ["logement_cadre_de_vie"]
    # The whole visit happened in one message, edited in place.
    assert len([m for m in agent.bot_messages if m.labels]) == 1


async def test_same_profile_takes_five_taps(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await log_visit(agent, TYPICAL)
    taps = await log_visit(
        agent,
        [
            "🔁 Même profil que la précédente",
            "Simulation",
            "Info / conseil",
            "Petite enfance",
            "Non",
        ],
    )
    assert taps == 5
    first, second = await visit_rows(network)
    assert [second[k] for k in ("sexe", "age", "statut", "autonomie")] == [
        first[k] for k in ("sexe", "age", "statut", "autonomie")
    ]
    assert second["resolution"] == "non"


async def test_same_profile_is_not_offered_before_a_first_visit(
    bot: RunningBot, agent: FakeUser
) -> None:
    await agent.tap("📝 Nouvelle visite")
    assert "🔁 Même profil que la précédente" not in agent.last_message.labels


async def test_visit_several_requests_and_actions_is_stored_whole(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    taps, _ = REFERENCE_VISITS["deux actions, deux demandes, deux thématiques"]
    await log_visit(agent, taps)
    [row] = await visit_rows(network)
    visit = await stored(network, int(row["id"]))
    assert [(r.demande, r.actions) for r in visit.answers.requests] == [
        ("paiements", ["info_conseil", "explication_courrier"]),
        ("situation_pro", ["accompagnement_demarche"]),
    ]
    assert sorted(visit.answers.themes) == ["enfance_jeunesse", "solidarite_insertion"]


async def test_legal_person_is_not_asked_an_age(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📝 Nouvelle visite")
    await agent.tap("Personne morale")
    assert "Statut" in agent.last_message.text
    assert "25 – 60 ans" not in agent.last_message.labels
    for label in ["Allocataire", "Autonome", "Agenda", "Orientation", "Aucune thématique", "Oui"]:
        await agent.tap(label)
    [row] = await visit_rows(network)
    assert row["sexe"] == "personne_morale" and row["age"] is None


async def test_late_logging_earlier_today(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📝 Nouvelle visite")
    await agent.tap("🕘 Plus tôt ou un autre jour")
    await agent.tap("Aujourd'hui")
    # It is 10 h in Paris: later hours are not offered.
    assert "11 h" not in agent.last_message.labels
    await agent.tap("8 h")
    assert "aujourd'hui à 8 h" in agent.last_message.text
    for label in TYPICAL:
        await agent.tap(label)
    [row] = await visit_rows(network)
    expected = datetime(2026, 11, 26, 8, 0, tzinfo=PARIS)
    assert datetime.fromisoformat(str(row["visited_at"])) == expected


async def test_back_changes_an_answer(bot: RunningBot, network: Network, agent: FakeUser) -> None:
    await agent.tap("📝 Nouvelle visite")
    await agent.tap("Femme")
    await agent.tap("25 – 60 ans")
    await agent.tap("⬅️ Retour")
    assert "Âge" in agent.last_message.text
    await agent.tap("> 60 ans")
    await agent.tap("⬅️ Retour")
    await agent.tap("⬅️ Retour")
    await agent.tap("Homme")
    for label in ["< 25 ans", *TYPICAL[2:]]:
        await agent.tap(label)
    [row] = await visit_rows(network)
    assert (row["sexe"], row["age"]) == ("homme", "moins_25")


async def test_every_step_has_a_back_button(bot: RunningBot, agent: FakeUser) -> None:
    await agent.tap("📝 Nouvelle visite")
    assert "✖️ Abandonner" in agent.last_message.labels
    for label in TYPICAL[:-1]:
        await agent.tap(label)
        assert "⬅️ Retour" in agent.last_message.labels, agent.last_message.text


async def test_abandon_and_cancel_store_nothing(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📝 Nouvelle visite")
    await agent.tap("Femme")
    await agent.tap("✖️ Abandonner")
    assert "rien n'a été enregistré" in agent.last_message.text
    await agent.tap("📝 Nouvelle visite")
    await agent.tap("Homme")
    await agent.send("/annuler")
    assert "Action annulée" in agent.last_message.text
    assert await visit_rows(network) == []
    assert await store.open_draft(network.db, 1) is None


# ------------------------------------------------------------------------------ never twice
async def test_double_tap_on_the_last_answer_stores_one_visit(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📝 Nouvelle visite")
    for label in TYPICAL[:-1]:
        await agent.tap(label)
    step_message = agent.last_message
    # The client still shows the old buttons: the second tap carries the same data.
    [oui] = [data for row in step_message.inline_buttons for label, data in row if label == "Oui"]
    await agent.tap("Oui", step_message)
    await agent.tap_data(oui, step_message)
    assert len(await visit_rows(network)) == 1
    assert "déjà enregistrée" in (agent.last_callback_answer or {}).get("text", "")
    assert "Visite enregistrée" in agent.last_message.text


async def test_double_tap_mid_flow_changes_once(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📝 Nouvelle visite")
    message = agent.last_message
    [femme] = [data for label, data in message.inline_buttons[0] if label == "Femme"]
    await agent.tap_data(femme, message)
    await agent.tap_data(femme, message)  # same revision again
    assert "Déjà pris en compte" in (agent.last_callback_answer or {}).get("text", "")
    assert "Âge" in agent.last_message.text
    draft = await store.open_draft(network.db, 1)
    assert draft is not None and len(draft.draft.history) == 1


async def test_button_from_a_finished_visit_has_expired(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📝 Nouvelle visite")
    first = agent.last_message
    [femme] = [data for label, data in first.inline_buttons[0] if label == "Femme"]
    await agent.tap("✖️ Abandonner")
    await agent.tap_data(femme, first)
    assert "expiré" in (agent.last_callback_answer or {}).get("text", "")
    assert "📝 Nouvelle visite" in agent.last_message.labels
    await agent.tap("📝 Nouvelle visite", agent.last_message)
    assert "Qui est accueilli" in agent.last_message.text


async def test_another_persons_draft_cannot_be_touched(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📝 Nouvelle visite")
    [femme] = [d for label, d in agent.last_message.inline_buttons[0] if label == "Femme"]
    intruder = await network.join(Role.AGENT, first_name="Ivan")
    await intruder.tap_data(femme, intruder.last_message)
    assert "expiré" in (intruder.last_callback_answer or {}).get("text", "")
    draft = await store.open_draft(network.db, 1)
    assert draft is not None and draft.draft.answers.sexe is None


async def test_text_typed_instead_of_a_button_repeats_the_step(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📝 Nouvelle visite")
    await agent.tap("Femme")
    await agent.send("25 ans, Mme Durand")
    assert "répondez avec les boutons" in agent.last_message.text
    assert "Âge" in agent.last_message.text
    # Only the newest message keeps live buttons; the draft goes on from it.
    live = [m for m in agent.bot_messages if "25 – 60 ans" in m.labels]
    assert len(live) == 1
    for label in TYPICAL[1:]:
        await agent.tap(label)
    assert len(await visit_rows(network)) == 1
    draft_json = await network.db.fetch_value("SELECT state FROM visit_drafts")
    assert "Durand" not in draft_json


async def test_a_suspension_mid_visit_does_not_stop_it_a_withdrawal_does(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    """Issue #16: only withdrawal stops the service; a label under review is in force."""
    await agent.tap("📝 Nouvelle visite")
    for label in TYPICAL[:-1]:
        await agent.tap(label)
    await network.set_label(network.site, LabelStatus.SUSPENDED)
    await agent.tap("Oui")
    assert len(await visit_rows(network)) == 1
    await agent.tap("📝 Nouvelle visite")
    for label in TYPICAL[:-1]:
        await agent.tap(label)
    await network.set_label(network.site, LabelStatus.WITHDRAWN)
    await agent.tap("Oui")
    assert "retiré" in (agent.last_callback_answer or {}).get("text", "")
    assert len(await visit_rows(network)) == 1


async def test_resume_offered_when_starting_again(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📝 Nouvelle visite")
    await agent.tap("Femme")
    await agent.tap("25 – 60 ans")
    await agent.send("📝 Nouvelle visite")
    assert "Une visite est en cours" in agent.last_message.text
    await agent.tap("▶️ Reprendre")
    assert "Statut" in agent.last_message.text
    for label in TYPICAL[2:]:
        await agent.tap(label)
    [row] = await visit_rows(network)
    assert row["age"] == "25_60"


async def test_restart_abandons_the_open_draft(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📝 Nouvelle visite")
    await agent.tap("Femme")
    await agent.send("📝 Nouvelle visite")
    await agent.tap("📝 Recommencer à zéro")
    assert "Qui est accueilli" in agent.last_message.text
    assert await log_visit_from_current(agent, TYPICAL) == 8


async def log_visit_from_current(user: FakeUser, taps: list[str]) -> int:
    for label in taps:
        await user.tap(label)
    return len(taps)


# ------------------------------------------------------------------------------ undo, modify
async def test_undo_within_the_window(bot: RunningBot, network: Network, agent: FakeUser) -> None:
    await log_visit(agent, TYPICAL)
    network.clock.advance(minutes=9)
    await agent.tap("↩️ Annuler cette visite")
    assert "Visite annulée" in agent.last_message.text
    assert await visit_rows(network) == []
    audit = await network.db.fetch_value(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'visit.cancelled'"
    )
    assert audit == 1


async def test_undo_after_the_window_is_too_late(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await log_visit(agent, TYPICAL)
    confirmation = agent.last_message
    network.clock.advance(minutes=11)
    await agent.tap("↩️ Annuler cette visite")
    assert "Trop tard" in (agent.last_callback_answer or {}).get("text", "")
    assert len(await visit_rows(network)) == 1
    assert "↩️ Annuler cette visite" not in confirmation.labels
    assert "✏️ Modifier" in confirmation.labels


async def test_modify_saves_in_place_and_is_audited(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await log_visit(agent, TYPICAL)
    [before] = await visit_rows(network)
    network.clock.advance(hours=2)
    await agent.tap("✏️ Modifier")
    assert "Que voulez-vous modifier" in agent.last_message.text
    await agent.tap("✅ Résolution")
    await agent.tap("Partiellement")
    assert "Que voulez-vous modifier" in agent.last_message.text
    await agent.tap("📋 Demandes")
    await agent.tap("Simulation")
    await agent.tap("Orientation")
    await agent.tap("💾 Enregistrer les modifications")
    assert "Visite modifiée" in agent.last_message.text
    [after] = await visit_rows(network)
    assert after["id"] == before["id"]
    assert after["resolution"] == "partiellement"
    assert after["visited_at"] == before["visited_at"]
    visit = await stored(network, int(after["id"]))
    assert [(r.demande, r.actions) for r in visit.answers.requests] == [
        ("simulation", ["orientation"])
    ]
    audit = await network.db.fetch_value(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'visit.modified'"
    )
    assert audit == 1


# ------------------------------------------------------------------------------ training
async def test_training_mode_is_marked_and_never_counted(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("🎓 Mode formation")
    assert "Mode formation activé" in agent.last_message.text
    await agent.tap("📝 Nouvelle visite")
    for label in TYPICAL:
        assert "MODE FORMATION" in agent.last_message.text
        await agent.tap(label)
    assert "entraînement" in agent.last_message.text
    assert await visit_rows(network) == []
    assert await network.db.fetch_value("SELECT COUNT(*) FROM training_visits") == 1
    await agent.tap("🎓 Mode formation")
    assert "désactivé" in agent.last_message.text
    await log_visit(agent, TYPICAL)
    await agent.tap("📊 Mes chiffres")
    text = agent.last_message.text
    assert "Aujourd'hui : 1" in text
    assert "visite d'entraînement ne sont pas comptées" in text or "1 visite d'entraînement" in text


# ------------------------------------------------------------------------------ figures
async def test_my_figures_counts_mine_and_the_sites(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    colleague = await network.join(Role.AGENT, first_name="Chloé")
    await log_visit(agent, TYPICAL)
    await log_visit(colleague, [*TYPICAL[:-1], "Non"])
    network.clock.advance(days=-3)  # Monday of the same week
    await log_visit(agent, TYPICAL)
    network.clock.advance(days=3)
    await agent.tap("📊 Mes chiffres")
    text = agent.last_message.text
    assert "Vos visites\n• Aujourd'hui : 1\n• Cette semaine : 2\n• Ce mois-ci : 2" in text
    assert "Le site\n• Aujourd'hui : 2\n• Cette semaine : 3\n• Ce mois-ci : 3" in text
    assert "Demandes résolues ce mois-ci : 67\u202f%" in text


async def test_two_agents_of_one_site_log_at_the_same_time(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    colleague = await network.join(Role.AGENT, first_name="Chloé")
    await agent.tap("📝 Nouvelle visite")
    await colleague.tap("📝 Nouvelle visite")
    for mine, theirs in zip(TYPICAL, ["Homme", "< 25 ans", *TYPICAL[2:]], strict=True):
        await agent.tap(mine)
        await colleague.tap(theirs)
    rows = await visit_rows(network)
    assert sorted(str(r["sexe"]) for r in rows) == ["femme", "homme"]
    a = await people.member_by_telegram_id(network.db, agent.user_id)
    assert a is not None
    assert sum(1 for r in rows if r["person_id"] == a.person.id) == 1


async def test_no_free_text_reaches_a_visit(bot: RunningBot, network: Network) -> None:
    """Nothing about the visitor: every visit column is a code, a time or an id."""
    columns = await network.db.fetch_all("PRAGMA table_info(visits)")
    names = {row["name"] for row in columns}
    assert names == {
        "id",
        "draft_id",
        "caf_id",
        "partner_id",
        "person_id",
        "visited_at",
        "sexe",
        "age",
        "statut",
        "autonomie",
        "resolution",
        "created_at",
        "updated_at",
    }


async def test_fake_sends_are_valid_html(
    bot: RunningBot, agent: FakeUser, fake: FakeBotApi
) -> None:
    await log_visit(agent, REFERENCE_VISITS["deux actions, deux demandes, deux thématiques"][0])
    assert all(
        call.method != "editMessageText" or call.params.get("parse_mode") == "HTML"
        for call in fake.calls
    )


async def test_visit_time_yesterday_crosses_into_previous_day(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    network.clock.set(datetime(2026, 12, 1, 8, 0, tzinfo=PARIS))  # Tuesday 1 December
    await log_visit(agent, ["🕘 Plus tôt ou un autre jour", "Hier", "17 h", *TYPICAL])
    [row] = await visit_rows(network)
    assert datetime.fromisoformat(str(row["visited_at"])) == datetime(
        2026, 11, 30, 17, 0, tzinfo=PARIS
    )
    assert datetime.fromisoformat(str(row["created_at"])) - datetime.fromisoformat(
        str(row["visited_at"])
    ) == timedelta(hours=15)


async def test_abandoning_a_modification_keeps_the_visit_as_saved(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await log_visit(agent, TYPICAL)
    await agent.tap("✏️ Modifier")
    await agent.tap("✅ Résolution")
    await agent.tap("Non")
    await agent.tap("✖️ Annuler la modification")
    assert "Modification abandonnée" in agent.last_message.text
    assert "Résolue : oui" in agent.last_message.text
    [row] = await visit_rows(network)
    assert row["resolution"] == "oui"


async def test_frequent_requests_get_their_own_row_without_reordering(
    bot: RunningBot, network: Network, agent: FakeUser
) -> None:
    await agent.tap("📝 Nouvelle visite")
    for label in TYPICAL[:4]:
        await agent.tap(label)
    plain_order = agent.last_message.labels
    assert not plain_order[0].startswith("⭐")
    await agent.tap("✖️ Abandonner")
    for _ in range(5):
        await log_visit(
            agent, [*TYPICAL[:4], "Paiements", "Info / conseil", "Aucune thématique", "Oui"]
        )
    await agent.tap("📝 Nouvelle visite")
    await agent.tap("🔁 Même profil que la précédente")
    labels = agent.last_message.labels
    assert labels[0] == "⭐ Paiements"
    assert labels[1:] == plain_order  # Annexe 2's order below, unchanged
    await agent.tap("⭐ Paiements")
    assert "Qu'avez-vous fait ? (Paiements)" in agent.last_message.text

"""Markup in every field people type is shown escaped, to everyone, everywhere (issue #8)."""

from __future__ import annotations

import contextlib
import html
import json
import re
from typing import Any

from bot.domain.models import Partner
from bot.domain.permissions import Role
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from bot.ui import callbacks
from bot.ui.callbacks import (
    ComplianceTap,
    IndicatorTap,
    NetworkTap,
)
from tests.conftest import Network, RunningBot
from tests.e2e.test_notifications import outbox_settled
from tests.fuzz.harness import (
    _DATE,
    _DESCRIPTION,
    _NEW,
    _REVIEW_HOME,
    Q3_2026,
    Move,
    World,
    _first_id,
    build_world,
    go,
    outbox_clean,
    press,
    say,
    tap,
)

# ---------------------------------------------------------------------------------------------
# Markup in every field people type is shown escaped, to everyone, everywhere.


def marked(field: str) -> str:
    """What a person types in `field`: markup Telegram would apply if it were not escaped."""
    return f"<b>{field}</b> & <script>"


def escaped(field: str) -> str:
    return html.escape(marked(field), quote=False)


TEXT_METHODS = {
    "sendMessage",
    "editMessageText",
    "editMessageCaption",
    "sendPhoto",
    "sendDocument",
    "copyMessage",
}
ENTITY_LIKE = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-f]+);", re.IGNORECASE)


def _labels(markup: Any) -> list[str]:
    if isinstance(markup, str):
        with contextlib.suppress(ValueError):
            markup = json.loads(markup)
    if not isinstance(markup, dict):
        return []
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [
        str(button.get("text", "")) if isinstance(button, dict) else str(button)
        for row in rows
        for button in row
    ]


async def join_named(w: World, role: Role, partner: Partner, first: str, last: str) -> FakeUser:
    code = await w.network.invitation(role, partner=partner)
    w.network.next_user_id += 1
    user = w.fake.user(w.network.next_user_id, first, last_name=last)
    await user.send(f"/start {code}")
    assert "Bienvenue" in user.last_message.text, user.last_message.text
    await user.tap("✅ Je m'engage")  # Article 5 first (tests/e2e/test_secrecy.py)
    return user


async def test_markup_typed_anywhere_is_shown_escaped_everywhere(
    bot: RunningBot, network: Network, fake: FakeBotApi
) -> None:
    """`<b>field</b> & <script>` typed in every field, through the real flows, then every
    screen that shows them: every HTML message the bot sent anyone (direct replies, the
    outbox, the Caf's group) carries it escaped, and no plain text (a toast, a button, a
    caption without parse mode) carries an escaped entity instead of the character."""
    w = await build_world(bot, network, fake)
    coordinator, ham, albert = w.users["coordinator"], network.site, network.other_site
    fields: list[str] = []

    def typed(field: str) -> Move:
        fields.append(field)
        return say(marked(field))

    # People whose Telegram names carry markup join; the Caf's group gets the new agent's need.
    fields += ["prenom", "nom"]
    agent = await join_named(w, Role.AGENT, ham, f"Anaïs {marked('prenom')}", marked("nom"))
    fields.append("responsable")
    manager = await join_named(w, Role.MANAGER, ham, marked("responsable"), "")
    await agent.send("/start")
    # The coordinator renames the site, its city and address, adds a site, changes a label.
    site = [say("/reseau"), press(lambda w: NetworkTap("site", ham.id, 0))]
    await go(coordinator, w, *site, press(lambda w: NetworkTap("edit", ham.id, 0)), typed("site"))
    await go(coordinator, w, *site, press(lambda w: NetworkTap("edit", ham.id, 1)), typed("ville"))
    await go(coordinator, w, *site, press(lambda w: NetworkTap("edit", ham.id, 2)), typed("rue"))
    await go(coordinator, w, say("/reseau"), tap("➕ Ajouter un site"), typed("nouveau"))
    await go(coordinator, w, typed("commune"), typed("adresse"))
    await go(
        coordinator,
        w,
        say("/reseau"),
        press(lambda w: NetworkTap("label", albert.id, 1)),
        typed("motif"),
    )
    # The agent: a difficulty, a training need with a note, closed today; then answers the Caf.
    await go(agent, w, *_DESCRIPTION, typed("difficulte"))
    await go(agent, w, say("/signaler"), tap("🎓 Un besoin de formation"))
    await go(agent, w, tap("Téléprocédures"), typed("besoin"))
    await go(agent, w, say("/signaler"), tap("🚪 Le site est fermé aujourd'hui"))
    await go(agent, w, tap("Panne (informatique, réseau)"))
    # The manager: a closure with a note.
    await go(manager, w, say("/horaires"), tap("➕ Fermeture exceptionnelle"), say("23/12"))
    await go(manager, w, tap("Congés, pont"), typed("fermeture"))
    # The coordinator works the inbox: a reply, the agent answers, the signal is closed.
    signal_id = await _first_id(
        w,
        "SELECT id FROM signals WHERE description = :d",
        d=marked("difficulte"),
    )
    inbox_item = [
        say("/signalements"),
        press(lambda w: callbacks.InboxTap("item", signal_id, "all", 0, 0)),
    ]
    await go(coordinator, w, *inbox_item, tap("↩️ Répondre"), typed("reponse"))
    await go(
        agent,
        w,
        say("/signaler"),
        press(lambda w: callbacks.SignalTap("one", signal_id, "0", "0")),
        tap("↩️ Répondre à la Caf"),
        typed("retour"),
    )
    await go(coordinator, w, *inbox_item, tap("✔️ Clore"), typed("cloture"))
    # News with the coordinator's own bold word, sent to everyone.
    fields.append("nouvelle")
    await go(coordinator, w, say("/diffuser"), tap("✍️ Nouvelle information"))
    await coordinator.send(
        "Info " + marked("nouvelle"), entities=[{"type": "bold", "offset": 0, "length": 4}]
    )
    await go(coordinator, w, tap("📨 Envoyer maintenant"), tap("✅ Oui, envoyer", prefix=True))
    # An event with a marked title and place, published.
    await go(coordinator, w, *_NEW, tap("Journée annuelle de formation"), typed("titre"))
    await go(coordinator, w, say("15/12 à 9h30"), say("17h"), typed("lieu"))
    await go(coordinator, w, tap("Sans limite"), tap("2 jours avant"))
    await go(coordinator, w, tap("📨 Publier", prefix=True), tap("👥 Réponses"))
    # Documentation: a link and a file with marked titles.
    await go(coordinator, w, say("/documentation"), tap("➕ Ajouter un lien"), typed("lien"))
    await coordinator.send("https://www.caf.fr/fiches?theme=rsa&page=2")
    await go(coordinator, w, say("/documentation"), tap("➕ Ajouter un fichier"), typed("fichier"))
    await coordinator.send_document("guide.pdf")
    # A yearly visit with marked remarks and an action item; the site's managers are told.
    await go(coordinator, w, *_DATE, tap("Aujourd'hui", prefix=True), tap("✅ Oui"))
    await go(coordinator, w, tap("✅ Oui"), tap("❌ Non"), *[tap("✅ Oui")] * 5)  # Article 9
    await go(coordinator, w, typed("remarque"))
    await go(coordinator, w, tap("➕ Ajouter une action"), typed("action"))
    await go(coordinator, w, tap("Partenaire"), tap("Dans 1 mois", prefix=True))
    await go(coordinator, w, tap("✅ Enregistrer la visite"))
    # Every screen that lists these things, for every role.
    for user, screens in (
        (coordinator, ["/reseau", "/signalements", "/diffuser", "/evenements", "/documentation"]),
        (coordinator, ["/conformite", "/indicateurs"]),
        (agent, ["/signaler", "/documentation", "/aide", "/chiffres"]),
        (manager, ["/equipe", "/horaires", "/indicateurs"]),
    ):
        for command in screens:
            await user.send(command)
    await go(coordinator, w, *site, press(lambda w: NetworkTap("people", ham.id, 0)))
    await go(coordinator, w, press(lambda w: NetworkTap("audit", 0, 0)))
    await go(coordinator, w, say("/conformite"), press(lambda w: ComplianceTap("site", ham.id, 0)))
    await go(coordinator, w, say("/indicateurs"), tap("🏢 Un site"))
    await go(coordinator, w, say("/indicateurs"), press(lambda w: IndicatorTap("tr", 0, Q3_2026)))
    await go(
        coordinator, w, say("/indicateurs"), press(lambda w: IndicatorTap("view", ham.id, Q3_2026))
    )
    await go(coordinator, w, press(lambda w: IndicatorTap("csv", ham.id, Q3_2026)))
    await go(agent, w, say("/signaler"), tap("📋 Mes signalements"))
    await go(coordinator, w, say("/documentation"), tap("🔗", prefix=True))
    await go(coordinator, w, *_REVIEW_HOME)
    await go(coordinator, w, say("/signalements"), tap("🏢 Par site"))
    await outbox_settled(network)
    assert not bot.errors
    await outbox_clean(w)

    shown_escaped: dict[str, set[int]] = {field: set() for field in fields}
    problems = []
    for call in fake.calls:
        params = call.params
        if call.method == "answerCallbackQuery":
            if ENTITY_LIKE.search(str(params.get("text") or "")):
                problems.append(f"a toast shows entities: {params.get('text')!r}")
            continue
        for label in _labels(params.get("reply_markup")):
            if ENTITY_LIKE.search(label):
                problems.append(f"a button shows entities: {label!r}")
        if call.method not in TEXT_METHODS:
            continue
        raw = params.get("text") if call.method in ("sendMessage", "editMessageText") else None
        raw = str(raw if raw is not None else params.get("caption") or "")
        html_mode = str(params.get("parse_mode") or "").upper() == "HTML"
        for typed_in in fields:
            if html_mode and marked(typed_in) in raw:
                problems.append(f"{typed_in} sent unescaped to {call.chat_id}: {raw[:200]!r}")
            if escaped(typed_in) in raw:
                if html_mode:
                    shown_escaped[typed_in].add(int(call.chat_id or 0))
                else:
                    problems.append(f"{typed_in} escaped in plain text to {call.chat_id}: {raw!r}")
    assert not problems, "\n".join(problems)
    never = [field for field, chats in shown_escaped.items() if not chats]
    assert not never, f"never shown (so never checked): {never}"
    # Everyone concerned saw the values as typed, markup and all.
    seen = {
        name: "\n".join(m.text or "" for m in user.bot_messages)
        for name, user in (
            ("agent", agent),
            ("manager", manager),
            ("coordinator", coordinator),
            ("group", w.group),
            ("other site", w.users["other_agent"]),
        )
    }
    assert marked("reponse") in seen["agent"] and marked("cloture") in seen["agent"]
    assert marked("fermeture") in seen["agent"] and marked("action") in seen["manager"]
    assert marked("difficulte") in seen["coordinator"] and marked("retour") in seen["group"]
    assert marked("nouvelle") in seen["other site"] and marked("titre") in seen["other site"]
    assert marked("prenom") in seen["group"] and marked("motif") in seen["coordinator"]
    # News keep the coordinator's own formatting (an entity) and escape what was typed.
    [news] = [
        m for m in w.users["other_agent"].bot_messages if marked("nouvelle") in (m.text or "")
    ]
    assert "<b>Info</b> " + escaped("nouvelle") in (news.html or "")

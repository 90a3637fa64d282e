"""📚 Documentation (Article 3): the Caf's coordinators keep links and files in order, and the
agents of its sites open them — driven through the fake Bot API, with real SQLite."""

from __future__ import annotations

from bot.domain.permissions import Role
from bot.sandbox.bot_api import FakeBotApi, FakeUser
from bot.ui import callbacks
from bot.ui.callbacks import DocTap
from storage import documents
from storage.documents import Document, FileKind
from tests.conftest import Network, RunningBot

MENU = "📚 Documentation"
PARTNERS_URL = "https://www.caf.fr/partenaires/caf-de-la-somme"
NIR = "1 84 12 76 451 089 46"


def tap(op: str, item: int = 0, page: int = 0) -> str:
    return callbacks.encode(DocTap(op, item, page))


def answer(user: FakeUser) -> str:
    return str((user.last_callback_answer or {}).get("text", ""))


async def titles(network: Network, caf_id: int | None = None) -> list[str]:
    items = await documents.list_for_caf(network.db, caf_id or network.caf.id)
    assert [d.position for d in items] == list(range(1, len(items) + 1))  # no gap, no tie
    return [d.title for d in items]


async def add_link(network: Network, title: str, url: str, caf_id: int | None = None) -> Document:
    async with network.db.transaction() as tx:
        return await documents.add(
            tx,
            caf_id=caf_id or network.caf.id,
            title=title,
            url=url,
            created_by=None,
            now=network.clock.now(),
        )


async def audit_actions(network: Network) -> list[str]:
    rows = await network.db.fetch_all(
        "SELECT action FROM audit_log WHERE action LIKE 'document.%' AND caf_id = :caf ORDER BY id",
        {"caf": network.caf.id},
    )
    return [str(row[0]) for row in rows]


async def test_a_coordinator_keeps_the_list_and_an_agent_opens_it(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    await agent.tap(MENU)
    assert "n'a encore rien publié" in agent.last_message.text
    assert agent.last_message.labels == []

    await coordinator.tap(MENU)
    assert "Rien n'est encore publié" in coordinator.last_message.text
    await coordinator.tap("➕ Ajouter un lien")
    assert "écrivez son titre" in coordinator.last_message.text
    await coordinator.send("Page partenaires de la Caf")
    assert "envoyez maintenant le lien" in coordinator.last_message.text
    await coordinator.send(PARTNERS_URL)
    assert "Page partenaires de la Caf</b> est ajouté" in coordinator.last_message.html

    await coordinator.tap("➕ Ajouter un fichier")
    await coordinator.send("Guide de l'agent d'accueil")
    assert "envoyez maintenant le fichier" in coordinator.last_message.text
    await coordinator.send("le voici")
    assert "J'attends le fichier" in coordinator.last_message.text
    sent = await coordinator.send_document("guide-agent.pdf")
    assert not sent.deleted  # the coordinator's own document, kept by its id only
    assert "est ajouté" in coordinator.last_message.text
    stored = await documents.list_for_caf(network.db, network.caf.id)
    assert stored[1].file_id == sent.file_id and stored[1].file_name == "guide-agent.pdf"

    await coordinator.tap("➕ Ajouter un lien")
    await coordinator.send("Fiches <RSA> & prime")
    await coordinator.send("https://www.caf.fr/fiches?theme=rsa&page=2")
    assert "Fiches <RSA> & prime" in coordinator.last_message.text  # escaped, shown as typed
    assert await titles(network) == [
        "Page partenaires de la Caf",
        "Guide de l'agent d'accueil",
        "Fiches <RSA> & prime",
    ]

    # Reorder: the guide goes first; a double tap on « Monter » changes nothing more.
    await coordinator.tap("📎 Guide de l'agent d'accueil")
    assert coordinator.last_message.file_id == sent.file_id  # the file comes with its card
    card = coordinator.bot_messages[-2]
    assert "Position 2 sur 3" in card.text
    await coordinator.tap("⬆️ Monter", card)
    assert answer(coordinator) == "Déplacé."
    assert "Position 1 sur 3" in card.text
    await coordinator.tap("⬆️ Monter", card)
    assert answer(coordinator) == "Déjà en tête de liste."
    await coordinator.tap("⬅️ La liste", card)
    await coordinator.tap("🔗 Fiches <RSA> & prime", card)
    await coordinator.tap("⬇️ Descendre", card)
    assert answer(coordinator) == "Déjà en fin de liste."
    await coordinator.tap("⬆️ Monter", card)
    await coordinator.tap("⬇️ Descendre", card)
    assert await titles(network) == [
        "Guide de l'agent d'accueil",
        "Page partenaires de la Caf",
        "Fiches <RSA> & prime",
    ]

    # Remove, with a confirmation; a second « Oui » says it is already done.
    await coordinator.tap("🗑 Retirer", card)
    assert "Retirer Fiches <RSA> & prime de la documentation ?" in card.text
    confirm = card.inline_buttons[0][0][1]
    await coordinator.tap("🗑 Oui, retirer", card)
    assert answer(coordinator) == "Document retiré."
    assert "2 documents" in card.text
    await coordinator.tap_data(confirm, card)
    assert answer(coordinator) == "Ce document est déjà retiré."
    assert await titles(network) == ["Guide de l'agent d'accueil", "Page partenaires de la Caf"]
    assert await audit_actions(network) == [
        "document.added",
        "document.added",
        "document.added",
        "document.moved",
        "document.moved",
        "document.moved",
        "document.removed",
    ]

    # The agent sees the list in the Caf's order, opens the link and gets the file back.
    await agent.tap(MENU)
    assert agent.last_message.labels == [
        "📎 Guide de l'agent d'accueil",
        "🔗 Page partenaires de la Caf",
    ]
    assert "⬆️ Monter" not in agent.last_message.labels
    await agent.tap("🔗 Page partenaires de la Caf")
    assert ("🔗 Ouvrir", PARTNERS_URL) in agent.last_message.inline_buttons[0]
    assert "🗑 Retirer" not in agent.last_message.labels
    await agent.tap("⬅️ La liste")
    await agent.tap("📎 Guide de l'agent d'accueil")
    assert answer(agent) == "📎 Fichier envoyé ci-dessous."
    delivered = agent.last_message
    assert delivered.kind == "document" and delivered.file_id == sent.file_id
    assert "Guide de l'agent d'accueil" in (delivered.text or "")
    call = fake.calls_to("sendDocument")[-1]
    assert call.chat_id == agent.chat_id and call.params["document"] == sent.file_id
    assert fake.calls_to("getFile") == []


async def test_a_photo_is_kept_by_id_and_sent_back_as_a_photo(
    bot: RunningBot, network: Network, fake: FakeBotApi, manager: FakeUser, coordinator: FakeUser
) -> None:
    await coordinator.tap(MENU)
    await coordinator.tap("➕ Ajouter un fichier")
    await coordinator.send("Affiche du Point numérique")
    photo = await coordinator.send_photo(caption="pour la vitrine")
    assert "est ajouté" in coordinator.last_message.text
    [stored] = await documents.list_for_caf(network.db, network.caf.id)
    assert stored.file_kind is FileKind.PHOTO and stored.file_id == photo.file_id

    # The coordinator's card sends the photo once; « Non » to a removal does not resend it.
    await coordinator.tap(MENU)
    await coordinator.tap("📎 Affiche du Point numérique")
    card = coordinator.bot_messages[-2]
    assert "Photo" in card.text and "⬆️ Monter" not in card.labels  # alone in the list
    await coordinator.tap("🗑 Retirer", card)
    await coordinator.tap("✖️ Non", card)
    assert "📎 Recevoir le fichier" in card.labels
    assert len(fake.calls_to("sendPhoto")) == 1

    await manager.tap(MENU)
    await manager.tap("📎 Affiche du Point numérique")
    assert manager.last_message.kind == "photo"
    assert fake.calls_to("sendPhoto")[-1].params["photo"] == photo.file_id
    assert fake.calls_to("getFile") == []


async def test_bad_urls_and_identifiers_are_refused(
    bot: RunningBot, network: Network, coordinator: FakeUser
) -> None:
    await coordinator.tap(MENU)
    await coordinator.tap("➕ Ajouter un lien")
    await coordinator.send("x" * 121)
    assert "trop long" in coordinator.last_message.text
    await coordinator.send("Prise de rendez-vous")
    for url, says in [
        ("www.caf.fr/rendez-vous", "doit commencer par https://"),
        ("ftp://fichiers.caf.fr/guide.pdf", "doit commencer par https://"),
        ("https://", "nom de site valable"),
        ("https://localhost/rdv", "nom de site valable"),
        ("https://www.caf.fr/un lien", "pas d'espace"),
        ("https://agent:secret@intranet.caf.fr/", "mot de passe"),
    ]:
        await coordinator.send(url)
        assert says in coordinator.last_message.text, url
        assert "/annuler" in coordinator.last_message.text
    # A NIR is never let through, even inside a web address; the message is deleted.
    typed = await coordinator.send(f"https://www.caf.fr/?n={NIR.replace(' ', '')}")
    assert typed.deleted
    assert "sécurité sociale" in coordinator.last_message.text
    assert await titles(network) == []
    # An id that merely looks like a phone number is a web address's own business.
    await coordinator.send("https://rdv.caf.fr/agenda?id=0612345678")
    assert "est ajouté" in coordinator.last_message.text
    assert await titles(network) == ["Prise de rendez-vous"]
    assert await network.db.fetch_value("SELECT COUNT(*) FROM pending_inputs") == 0


async def test_agents_and_managers_cannot_change_the_list(
    bot: RunningBot, network: Network, agent: FakeUser, manager: FakeUser
) -> None:
    first = await add_link(network, "Page partenaires", PARTNERS_URL)
    second = await add_link(network, "Guide", "https://www.caf.fr/guide")
    before = await network.db.fetch_value("SELECT COUNT(*) FROM audit_log")
    for person in (agent, manager):
        await person.tap(MENU)
        assert "➕ Ajouter un lien" not in person.last_message.labels
        for forged in [
            tap("addl"),
            tap("addf"),
            tap("up", second.id),
            tap("down", first.id),
            tap("rm", first.id),
            tap("rmok", first.id),
        ]:
            await person.tap_data(forged)
            assert "pas ouverte à votre rôle" in answer(person), forged
    assert await titles(network) == ["Page partenaires", "Guide"]
    assert await network.db.fetch_value("SELECT COUNT(*) FROM audit_log") == before
    assert await network.db.fetch_value("SELECT COUNT(*) FROM pending_inputs") == 0


async def test_each_caf_sees_and_touches_only_its_own_list(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    first = await add_link(network, "Page partenaires", PARTNERS_URL)
    await add_link(network, "Guide", "https://www.caf.fr/guide")
    other_caf = await network.add_caf("Caf de l'Oise")
    outsider = await network.join(Role.COORDINATOR, caf=other_caf, first_name="Octave")
    await outsider.tap(MENU)
    assert "Rien n'est encore publié" in outsider.last_message.text
    before = await network.db.fetch_value("SELECT COUNT(*) FROM audit_log")
    for forged in [
        tap("open", first.id),
        tap("down", first.id),
        tap("rm", first.id),
        tap("rmok", first.id),
        tap("open", 999),
        tap("rmok", 999),
    ]:
        await outsider.tap_data(forged)
        assert answer(outsider) == "Ce menu a expiré.", forged
        assert "Page partenaires" not in (outsider.last_message.text or "")
    assert await titles(network) == ["Page partenaires", "Guide"]
    assert await network.db.fetch_value("SELECT COUNT(*) FROM audit_log") == before

    # The other Caf's own item stays theirs; removing it does not free its id for reuse.
    await outsider.tap("➕ Ajouter un lien")
    await outsider.send("Guide de l'Oise")
    await outsider.send("https://www.caf.fr/oise")
    await outsider.tap("🔗 Guide de l'Oise")
    await outsider.tap("🗑 Retirer")
    await outsider.tap("🗑 Oui, retirer")
    [removed_id] = [
        row[0]
        for row in await network.db.fetch_all(
            "SELECT target_id FROM audit_log WHERE action = 'document.removed'"
        )
    ]
    await agent.tap_data(tap("rmok", removed_id))  # not the agent's Caf: stale, whatever
    assert "pas ouverte" in answer(agent)
    await agent.tap_data(tap("open", removed_id))
    assert answer(agent) == "Ce menu a expiré."
    newer = await add_link(network, "Nouveau", "https://www.caf.fr/nouveau")
    assert newer.id > removed_id
    await agent.tap(MENU)
    assert "🔗 Guide de l'Oise" not in agent.last_message.labels
    assert len(agent.last_message.labels) == 3


async def test_a_stale_button_to_a_removed_item_says_so(
    bot: RunningBot, network: Network, agent: FakeUser, coordinator: FakeUser
) -> None:
    await add_link(network, "Ancienne fiche", "https://www.caf.fr/ancienne")
    await add_link(network, "Guide", "https://www.caf.fr/guide")
    await agent.tap(MENU)
    stale_list = agent.last_message
    await coordinator.tap(MENU)
    await coordinator.tap("🔗 Ancienne fiche")
    await coordinator.tap("🗑 Retirer")
    await coordinator.tap("🗑 Oui, retirer")
    await agent.tap("🔗 Ancienne fiche", stale_list)
    assert answer(agent) == "Ce document a été retiré de la documentation."
    assert stale_list.labels == ["🔗 Guide"]


async def test_a_long_list_is_paged(bot: RunningBot, network: Network, agent: FakeUser) -> None:
    for number in range(10):
        await add_link(network, f"Fiche {number:02d}", f"https://www.caf.fr/fiche-{number}")
    await agent.tap(MENU)
    assert "10 documents · page 1 sur 2" in agent.last_message.text
    assert agent.last_message.labels[:8] == [f"🔗 Fiche {n:02d}" for n in range(8)]
    await agent.tap("Suivants ▶️")
    assert agent.last_message.labels == ["🔗 Fiche 08", "🔗 Fiche 09", "◀️ Précédents"]
    await agent.tap("🔗 Fiche 09")
    await agent.tap("⬅️ La liste")
    assert "page 2 sur 2" in agent.last_message.text


async def test_documents_outside_the_flow_are_still_deleted(
    bot: RunningBot, network: Network, fake: FakeBotApi, agent: FakeUser, coordinator: FakeUser
) -> None:
    sent = await agent.send_document("attestation.pdf")
    assert sent.deleted
    assert "article 5" in agent.last_message.text
    # A coordinator asked for a title, not a file: the file is not kept either.
    await coordinator.tap(MENU)
    await coordinator.tap("➕ Ajouter un fichier")
    early = await coordinator.send_document("guide.pdf")
    assert early.deleted
    assert "article 5" in coordinator.last_message.text
    assert await titles(network) == []
    assert fake.calls_to("getFile") == []

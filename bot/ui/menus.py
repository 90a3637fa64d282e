"""The main menu and the bot's command list, both derived from the permission table.

An entry appears only for the people allowed to use it, and only once its feature exists:
a later feature adds its line here.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import BotCommand, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.domain.permissions import Action, Actor, allowed_actions


@dataclass(frozen=True)
class MenuEntry:
    key: str
    label: str  # the reply-keyboard button
    action: Action
    command: str  # the slash command doing the same
    description: str  # shown in Telegram's command list
    help: str  # one line in /aide


ENTRIES: tuple[MenuEntry, ...] = (
    MenuEntry(
        "visit",
        "📝 Nouvelle visite",
        Action.LOG_VISIT,
        "visite",
        "Enregistrer une visite",
        "enregistrer une visite (indicateurs de l'annexe 2), en quelques touches.",
    ),
    MenuEntry(
        "figures",
        "📊 Mes chiffres",
        Action.MY_FIGURES,
        "chiffres",
        "Mes chiffres et ceux du site",
        "vos visites et celles du site : aujourd'hui, cette semaine, ce mois.",
    ),
    MenuEntry(
        "training",
        "🎓 Mode formation",
        Action.LOG_VISIT,
        "formation",
        "Activer ou couper le mode formation",
        "s'entraîner : les visites en mode formation ne comptent dans aucun chiffre.",
    ),
    MenuEntry(
        "signal",
        "📣 Signaler",
        Action.REPORT_DIFFICULTY,
        "signaler",
        "Difficulté, besoin de formation, fermeture",
        "signaler à la Caf une difficulté, un besoin de formation ou une fermeture du jour ;"
        " suivre vos signalements.",
    ),
    MenuEntry(
        "hours",
        "🕘 Horaires et fermetures",
        Action.MANAGE_HOURS,
        "horaires",
        "Horaires d'ouverture et fermetures",
        "déclarer les horaires du site et ses fermetures exceptionnelles (article 4).",
    ),
    MenuEntry(
        "inbox",
        "📥 Signalements",
        Action.INBOX,
        "signalements",
        "Les signalements des sites",
        "les signalements des sites : prendre en charge, répondre, clore.",
    ),
    MenuEntry(
        "broadcast",
        "📢 Diffuser",
        Action.BROADCAST,
        "diffuser",
        "Envoyer une information au réseau",
        "envoyer une information, un document, une consigne « à lire » ; suivre les envois.",
    ),
    MenuEntry(
        "events",
        "📅 Événements",
        Action.EVENTS,
        "evenements",
        "Journées de formation, comités, visites",
        "inviter à une journée de formation, un comité de pilotage, une visite ; réponses,"
        " rappels, présences.",
    ),
    MenuEntry(
        "indicators",
        "📈 Indicateurs",
        Action.INDICATORS,
        "indicateurs",
        "Indicateurs de l'annexe 2, graphiques, Excel",
        "les indicateurs de l'annexe 2 par période : graphiques, fichier Excel, transmission"
        " à la Caf.",
    ),
    MenuEntry(
        "network",
        "🏢 Réseau",
        Action.MANAGE_NETWORK,
        "reseau",
        "Sites, labels, personnes, invitations",
        "les sites de votre Caf : labels, personnes, liens d'invitation, journal.",
    ),
    MenuEntry(
        "compliance",
        "✅ Conformité",
        Action.COMPLIANCE,
        "conformite",
        "Conformité des sites à la convention",
        "les sites à risque d'abord : horaires, transmission, visite annuelle, renouvellement.",
    ),
    MenuEntry(
        "team",
        "👥 Mon équipe",
        Action.MANAGE_SITE_AGENTS,
        "equipe",
        "Les personnes de mon site",
        "les personnes de votre site : inviter un agent, retirer un accès.",
    ),
    MenuEntry(
        "docs",
        "📚 Documentation",
        Action.DOCUMENTATION,
        "documentation",
        "Guides et liens de la Caf",
        "les guides, fiches et liens que la Caf met à disposition.",
    ),
    MenuEntry("help", "❓ Aide", Action.HELP, "aide", "Aide", "cette aide."),
)
BY_LABEL = {entry.label: entry for entry in ENTRIES}
BY_KEY = {entry.key: entry for entry in ENTRIES}
CANCEL_COMMAND = BotCommand("annuler", "Annuler l'action en cours")
START_COMMAND = BotCommand("start", "Afficher le menu")
# Everyone may see what the bot holds about them (RGPD), whatever their rights.
MY_DATA_COMMAND = BotCommand("mesdonnees", "Voir et télécharger mes données")


def entries_for(actor: Actor) -> list[MenuEntry]:
    allowed = allowed_actions(actor)
    return [entry for entry in ENTRIES if entry.action in allowed]


def main_menu(actor: Actor) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """Two big buttons a row; the first entry (the most used) alone on the first row."""
    labels = [entry.label for entry in entries_for(actor)]
    if not labels:
        return ReplyKeyboardRemove()
    rows = [labels[:1]] + [labels[i : i + 2] for i in range(1, len(labels), 2)]
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label) for label in row] for row in rows if row],
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder="Choisissez dans le menu",
    )


def commands_for(actor: Actor) -> list[BotCommand]:
    commands = [START_COMMAND]
    commands += [BotCommand(e.command, e.description) for e in entries_for(actor)]
    commands += [MY_DATA_COMMAND, CANCEL_COMMAND]
    return commands

"""The main menu and the bot's command list, both derived from the permission table.

An entry appears only for the people allowed to use it, and only once its feature exists:
a later feature adds its line here.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import BotCommand, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bot.domain.permissions import Action, Actor, LabelStatus, Role, allowed_actions


@dataclass(frozen=True)
class MenuEntry:
    key: str
    label: str  # the reply-keyboard button
    action: Action
    command: str  # the slash command doing the same
    description: str  # shown in Telegram's command list
    help: str  # one line in /aide
    # Shown only to these roles (None: to everyone its action is allowed); the command
    # still answers whoever the action is allowed to.
    roles: frozenset[Role] | None = None

    def offered_to(self, actor: Actor) -> bool:
        return self.roles is None or actor.role in self.roles


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
        "myvisits",
        "🗂 Mes visites",
        Action.LOG_VISIT,
        "mesvisites",
        "Mes visites des 7 derniers jours",
        "vos visites des 7 derniers jours : les revoir, les modifier, les annuler.",
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
        "news",
        "📰 Actualités",
        Action.READ_NEWS,
        "actualites",
        "Informations, consignes à lire, événements",
        "les informations de la Caf, les consignes à lire (« J'ai lu »), les événements à"
        " venir et votre réponse.",
        # Coordinators write the news (📢 Diffuser) and hold the events (📅 Événements).
        roles=frozenset({Role.AGENT, Role.MANAGER}),
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
        "caf",
        "⚙️ Ma Caf",
        Action.MANAGE_NETWORK,
        "macaf",
        "Import de sites, réglages, annuaire",
        "importer des sites d'un fichier CSV ou Excel, la période de transmission, le groupe"
        " de notification, l'annuaire public (JSON, CSV, ICS).",
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
    MenuEntry(
        "site",
        "📍 Changer de site",
        Action.CHOOSE_SITE,
        "site",
        "Choisir le site où je travaille",
        "vous travaillez sur plusieurs sites : dire où vous êtes maintenant (l'assistant vous"
        " le demande aussi chaque jour).",
    ),
    MenuEntry("help", "❓ Aide", Action.HELP, "aide", "Ce que chaque bouton permet", "cette aide."),
)
MENU_PLACEHOLDER = "Choisissez dans le menu"
SUSPENDED_PLACEHOLDER = "🟠 Label suspendu (examen en cours) · choisissez"
BY_LABEL = {entry.label: entry for entry in ENTRIES}
BY_KEY = {entry.key: entry for entry in ENTRIES}
CANCEL_COMMAND = BotCommand("annuler", "Annuler l'action en cours")
START_COMMAND = BotCommand("start", "Afficher le menu")
# Everyone may see what the bot holds about them (RGPD), whatever their rights.
MY_DATA_COMMAND = BotCommand("mesdonnees", "Voir et télécharger mes données")


def entries_for(actor: Actor) -> list[MenuEntry]:
    allowed = allowed_actions(actor)
    return [entry for entry in ENTRIES if entry.action in allowed and entry.offered_to(actor)]


def main_menu(actor: Actor) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """Two big buttons a row; the first entry (the most used) alone on the first row."""
    labels = [entry.label for entry in entries_for(actor)]
    if not labels:
        return ReplyKeyboardRemove()
    rows = [labels[:1]] + [labels[i : i + 2] for i in range(1, len(labels), 2)]
    suspended = actor.label is LabelStatus.SUSPENDED
    return ReplyKeyboardMarkup(
        [[KeyboardButton(label) for label in row] for row in rows if row],
        resize_keyboard=True,
        is_persistent=True,
        # The flag stays in sight under every message while the label is under review.
        input_field_placeholder=SUSPENDED_PLACEHOLDER if suspended else MENU_PLACEHOLDER,
    )


def commands_for(actor: Actor) -> list[BotCommand]:
    commands = [START_COMMAND]
    commands += [BotCommand(e.command, e.description) for e in entries_for(actor)]
    commands += [MY_DATA_COMMAND, CANCEL_COMMAND]
    return commands

"""`python -m bot …`: run the bot and administer it from the server's command line.

Every bad argument ends with one French line on stderr and a non-zero exit; a missing or
malformed setting too (never a traceback). Output meant for scripts is stable: `invite`
prints the bare code alone on its last line, `partners list` one partner a line, id first.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import secrets
import shlex
import socket
import sqlite3
import sys
import urllib.parse
import zoneinfo
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bot.clock import Clock, SystemClock
from bot.config import Settings, SettingsError, load_settings
from bot.domain.invitations import parse_duration
from bot.domain.models import Caf, ReportingPeriod
from bot.domain.permissions import LabelStatus, Role
from bot.logs import configure_logging
from storage import cafs, kv, partners
from storage.db import Database, DatabaseTooNew, create_owner_only
from storage.setup import storage

# Only for the types: the rules of an import load the privacy screen, and the update
# processor python-telegram-bot (0.2 s at each command's start).
if TYPE_CHECKING:
    from bot.domain.site_import import SiteTable
    from bot.processing import TimedUpdateProcessor

EXIT_USAGE = 2
EXIT_FAILURE = 1


class CliError(Exception):
    """A problem to report to the operator in one line."""


# argparse's own messages, for an operator who reads French everywhere else. Only this
# command line's parser translates them (argparse's global `_` is left alone).
_ARGPARSE_FR: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(english), french)
    for english, french in (
        (r"^argument (.+?): ", r"argument \1 : "),
        (r"invalid choice: (.+) \(choose from (.+)\)$", r"choix invalide : \1 (choisir parmi \2)"),
        (r"^the following arguments are required: ", "arguments obligatoires manquants : "),
        (r"^unrecognized arguments: ", "arguments non reconnus : "),
        (r"^one of the arguments (.+) is required$", r"l'un des arguments \1 est obligatoire"),
        (r"not allowed with argument ", "incompatible avec l'argument "),
        (r"^ambiguous option: (.+) could match ", r"option ambiguë : \1 peut désigner "),
        (r"expected one argument$", "une valeur est attendue"),
        (r"expected at least one argument$", "au moins une valeur est attendue"),
        (r"expected at most one argument$", "au plus une valeur est attendue"),
        (r"invalid (\w+) value: ", r"valeur invalide (\1) : "),
    )
)


def french(message: str) -> str:
    for english, replacement in _ARGPARSE_FR:
        message = english.sub(replacement, message)
    return message


class _HelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(
            usage, actions, groups, prefix="utilisation : " if prefix is None else prefix
        )


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument(
            "-h", "--help", action="help", default=argparse.SUPPRESS, help="afficher cette aide"
        )

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"Erreur : {french(message)} (voir {self.prog} --help)\n")


def build_parser() -> Parser:
    parser = Parser(
        prog="python -m bot", description="Point numérique Caf — l'assistant (bot Telegram)."
    )
    commands = parser.add_subparsers(
        dest="command", required=True, parser_class=Parser, metavar="COMMANDE"
    )

    run = commands.add_parser("run", help="lancer le bot (long polling par défaut)")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="recevoir les mises à jour par webhook (WEBHOOK_URL, WEBHOOK_SECRET)",
    )

    demo = commands.add_parser(
        "demo",
        help="essayer le bot dans un navigateur, sans Telegram ni jeton (données fictives)",
        description=(
            "Le bot entier dans un navigateur : un réseau de démonstration (une Caf, ses sites, "
            "ses personnes, trois mois de visites) et la conversation Telegram de chacune. "
            "Ni jeton, ni .env, ni Telegram : tout reste sur cette machine, dans une base à part "
            "(--data-dir). Ctrl-C arrête la démo."
        ),
    )
    demo.add_argument("--port", type=int, default=8080, help="port de la page (défaut 8080)")
    demo.add_argument(
        "--host",
        default="127.0.0.1",
        help="adresse d'écoute (défaut 127.0.0.1 : cette machine seulement)",
    )
    demo.add_argument(
        "--reset", action="store_true", help="repartir d'un réseau de démonstration neuf"
    )
    demo.add_argument(
        "--data-dir",
        type=Path,
        default=Path("demo-data"),
        help="dossier de la base de la démo (défaut : demo-data)",
    )

    commands.add_parser("migrate", help="créer ou mettre à jour la base de données")

    backup = commands.add_parser("backup", help="copie cohérente de la base, même en service")
    backup.add_argument("path", type=Path, help="fichier de destination (ne doit pas exister)")

    copy = commands.add_parser(
        "copy-database",
        help="copier la base SQLite dans une base PostgreSQL vide (ou l'inverse)",
        description=(
            "Copie toute la base, dans l'état d'un seul instant même si le bot tourne, "
            "vers une base PostgreSQL vide (schéma créé s'il manque), identifiants gardés ; "
            "vérifie le nombre de lignes de chaque table. Refusée si la cible contient déjà "
            "des données ou un autre schéma. Avec --from postgresql://… et --to FICHIER, "
            "copie une base PostgreSQL dans un nouveau fichier SQLite."
        ),
    )
    copy.add_argument(
        "--to",
        required=True,
        metavar="CIBLE",
        help="postgresql://… (base vide) ou un nouveau fichier SQLite",
    )
    copy.add_argument(
        "--from",
        dest="source",
        default=None,
        metavar="SOURCE",
        help="base à copier (défaut : DATABASE_URL, sinon DATABASE_PATH)",
    )

    cafs_cmd = commands.add_parser("cafs", help="gérer les Caf")
    cafs_sub = cafs_cmd.add_subparsers(
        dest="action", required=True, parser_class=Parser, metavar="ACTION"
    )
    add = cafs_sub.add_parser("add", help="ajouter une Caf")
    add.add_argument("name", help="nom de la Caf, p. ex. « Caf de la Somme »")
    add.add_argument(
        "--period",
        choices=["monthly", "quarterly"],
        default="monthly",
        help="transmission des indicateurs (article 9) : mensuelle ou trimestrielle",
    )
    add.add_argument("--timezone", default=None, help="fuseau horaire (défaut : TIMEZONE)")
    add.add_argument(
        "--notify-chat",
        type=int,
        default=None,
        help="identifiant d'un groupe Telegram qui reçoit copie des signalements",
    )
    cafs_sub.add_parser("list", help="lister les Caf")
    set_cmd = cafs_sub.add_parser("set", help="modifier les réglages d'une Caf")
    set_cmd.add_argument("name")
    set_cmd.add_argument("--period", choices=["monthly", "quarterly"])
    set_cmd.add_argument("--timezone")
    set_cmd.add_argument("--notify-chat", help="identifiant du groupe, ou « none » pour retirer")
    set_cmd.add_argument("--rename", help="nouveau nom")
    set_cmd.add_argument(
        "--logo", help="image PNG ou JPEG imprimée sur les certificats, ou « none » pour retirer"
    )
    set_cmd.add_argument(
        "--city",
        help="ville de la Caf, « Fait à » des certificats, ou « none » (ligne laissée en blanc)",
    )

    invite = commands.add_parser("invite", help="créer un lien d'invitation")
    invite.add_argument("--role", required=True, choices=[r.value for r in Role])
    scope = invite.add_mutually_exclusive_group(required=True)
    scope.add_argument("--caf", help="nom de la Caf (rôle coordinator)")
    scope.add_argument("--partner", type=int, help="identifiant du site (rôles manager, agent)")
    invite.add_argument("--uses", type=int, default=1, help="nombre d'utilisations (défaut 1)")
    invite.add_argument(
        "--expires",
        default=None,
        help="validité : 7d, 12h, 30m, 2w (défaut : DEFAULT_INVITE_EXPIRY_DAYS)",
    )

    links_cmd = commands.add_parser(
        "invitations", help="voir et annuler les liens d'invitation en cours"
    )
    links_sub = links_cmd.add_subparsers(
        dest="action", required=True, parser_class=Parser, metavar="ACTION"
    )
    links_list = links_sub.add_parser(
        "list",
        help="les liens en cours d'une Caf ou d'un site (numéro en premier)",
        description=(
            "Les liens d'invitation qui peuvent encore faire entrer quelqu'un, un par ligne : "
            "numéro, rôle, site (- pour un lien de coordination), utilisations restantes, "
            "expiration à l'heure de la Caf, auteur (- : la ligne de commande)."
        ),
    )
    links_list.add_argument("--caf", required=True, help="nom ou numéro de la Caf")
    links_list.add_argument(
        "--site", "--partner", dest="site", type=int, help="identifiant du site (partners list)"
    )
    links_cancel = links_sub.add_parser(
        "cancel", help="annuler un lien : son code sera refusé (les inscrits restent)"
    )
    links_cancel.add_argument("id", type=int, help="numéro du lien (invitations list)")

    partners_cmd = commands.add_parser("partners", help="gérer les sites partenaires")
    partners_sub = partners_cmd.add_subparsers(
        dest="action", required=True, parser_class=Parser, metavar="ACTION"
    )
    imp = partners_sub.add_parser(
        "import",
        help="importer des sites d'un CSV ou d'un classeur Excel (.xlsx) :"
        " name,city,address[,convention_start]",
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--caf", required=True)
    lst = partners_sub.add_parser("list", help="lister les sites (identifiant en premier)")
    lst.add_argument("--caf")
    partner_set = partners_sub.add_parser("set", help="modifier un site (son logo)")
    partner_set.add_argument("id", type=int, help="identifiant du site (partners list)")
    partner_set.add_argument(
        "--logo",
        required=True,
        help="image PNG ou JPEG imprimée sur son certificat, à côté du logo de la Caf,"
        " ou « none » pour retirer",
    )

    export = commands.add_parser("export", help="exporter des données d'une Caf")
    export_sub = export.add_subparsers(
        dest="export", required=True, parser_class=Parser, metavar="EXPORT"
    )
    directory = export_sub.add_parser(
        "directory",
        help="annuaire des sites : horaires et fermetures exceptionnelles à venir",
        description=(
            "Annuaire public des sites labellisés actifs de la Caf : horaires en vigueur, "
            "prochain changement d'horaires, fermetures exceptionnelles à venir "
            "(ICS : un événement par fermeture). Dates au fuseau horaire de la Caf. "
            "national : CSV du standard national des lieux de médiation numérique (1.0.2), "
            "sans les sites auxquels manque le SIRET ou RNA, le code postal ou l'adresse."
        ),
    )
    _export_arguments(directory, formats=DIRECTORY_FORMATS)
    indicators = export_sub.add_parser(
        "indicators",
        help="indicateurs de l'annexe 2 d'une période, par site et pour la Caf",
        description=(
            "Les indicateurs de suivi de l'annexe 2 sur une période (jours au fuseau horaire "
            "de la Caf), pour toute la Caf et chacun de ses sites, ou pour un site (--partner). "
            "xlsx : une feuille « Caf », une par site, comparées à la période précédente ; "
            "csv : une ligne par chiffre. Les visites en mode formation ne comptent pas. "
            "--all-cafs : une ligne par Caf, chacune comptée à son fuseau horaire."
        ),
    )
    _export_arguments(indicators, formats=INDICATOR_FORMATS, caf_required=False)
    indicators.add_argument(
        "--all-cafs",
        action="store_true",
        help="toutes les Caf, une ligne chacune (au lieu de --caf)",
    )
    indicators.add_argument(
        "--period",
        required=True,
        help="2026-10 (mois), 2026-Q3 (trimestre), 2026 (année) ou 2026-01-01..2026-03-31",
    )
    indicators.add_argument(
        "--partner", type=int, help="un seul site : son identifiant (voir partners list)"
    )
    events = export_sub.add_parser(
        "events",
        help="événements de la Caf et réponses des personnes invitées",
        description=(
            "Tous les événements de la Caf (brouillons et annulés compris) et, pour chacun, "
            "chaque personne invitée avec sa réponse et sa présence. Dates au fuseau horaire "
            "de la Caf. Le format xlsx ajoute une feuille de comptes par événement."
        ),
    )
    _export_arguments(events, formats=EVENTS_FORMATS)
    receipts = export_sub.add_parser(
        "broadcasts",
        help="diffusions de la Caf : destinataires, remise et accusés de lecture",
        description=(
            "Une ligne par destinataire de chaque diffusion : remise par Telegram et, pour une "
            "consigne « à lire », la date de lecture. Dates au fuseau horaire de la Caf."
        ),
    )
    _export_arguments(receipts, formats=EVENTS_FORMATS)
    training = export_sub.add_parser(
        "trainings",
        help="formations des agents et responsables : présences et formations saisies",
        description=(
            "Une ligne par formation de chaque personne de la Caf : journées de formation "
            "(présence notée par la Caf) et formations saisies à la main. Dates au fuseau "
            "horaire de la Caf ; les textes ne deviennent jamais des formules dans Excel."
        ),
    )
    _export_arguments(training, formats=TRAINING_FORMATS)
    certificate = export_sub.add_parser(
        "certificate",
        help="certificat « Point numérique Caf » d'un site (annexe 1), en PDF",
        description=(
            "Le certificat de labellisation d'un site (annexe 1 de la convention), une page "
            "A4 en PDF : noms de la Caf et du site, ville, date, logo de la Caf s'il est "
            "réglé (cafs set --logo). Texte modifiable dans "
            "bot/ui/templates/certificate_text.txt.j2. Pas de certificat pour un label retiré."
        ),
    )
    _export_arguments(certificate, formats=CERTIFICATE_FORMATS)
    certificate.add_argument(
        "--partner", type=int, required=True, help="identifiant du site (voir partners list)"
    )
    certificate.add_argument(
        "--date", help="date du certificat, AAAA-MM-JJ (défaut : aujourd'hui, heure de la Caf)"
    )
    return parser


DIRECTORY_FORMATS = ("json", "csv", "ics", "national")
EVENTS_FORMATS = ("csv", "xlsx")
INDICATOR_FORMATS = ("xlsx", "csv")
CERTIFICATE_FORMATS = ("pdf",)
TRAINING_FORMATS = ("csv",)


def _export_arguments(
    parser: argparse.ArgumentParser, *, formats: Sequence[str], caf_required: bool = True
) -> None:
    """The options every `export …` shares (DESIGN.md §7)."""
    parser.add_argument("--caf", required=caf_required, help="nom de la Caf")
    parser.add_argument(
        "--format", choices=formats, default=formats[0], help=f"format (défaut : {formats[0]})"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help="fichier à écrire, remplacé d'un coup s'il existe (défaut : sortie standard)",
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    clock: Clock | None = None,
    processor: TimedUpdateProcessor | None = None,
) -> int:
    """`python -m bot …`. `clock` and `processor` are for the tests' entry point
    (tests/clocked_bot.py) only: `python -m bot` always runs on the system clock, whatever
    its environment holds."""
    clock = clock or SystemClock()
    args = build_parser().parse_args(argv)
    if args.command == "demo":  # its own settings: no token, no .env, never DATABASE_PATH
        from bot.sandbox import demo

        return demo.run(host=args.host, port=args.port, reset=args.reset, data_dir=args.data_dir)
    settings: Settings | None = None
    try:
        settings = load_settings()
        secrets = (
            [settings.telegram_bot_token.get_secret_value()]
            if (settings.telegram_bot_token)
            else []
        )
        configure_logging(settings.log_level, secrets + database_secrets(settings))
        if args.command == "run":
            return run_bot(settings, webhook=args.webhook, clock=clock, processor=processor)
        return asyncio.run(dispatch(args, settings, clock))
    except (SettingsError, CliError, DatabaseTooNew) as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except sqlite3.DatabaseError as exc:
        if settings is not None and settings.database_url is not None:
            print(f"Erreur : {postgres_problem(exc, settings)}", file=sys.stderr)
            return EXIT_FAILURE
        print(
            f"Erreur : la base {os.environ.get('DATABASE_PATH', 'DATABASE_PATH')} est "
            f"illisible ({exc}) : vérifiez DATABASE_PATH.",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    except Exception as exc:  # PostgreSQL lost mid-command: still one line, no password
        if settings is None or settings.database_url is None or not from_postgres(exc):
            raise
        print(f"Erreur : {postgres_problem(exc, settings)}", file=sys.stderr)
        return EXIT_FAILURE


def database_secrets(settings: Settings) -> list[str]:
    """DATABASE_URL's password, for the logs' filter (bot/logs.py masks such an address's
    password wherever it appears; this catches it alone too). A password shorter than
    8 characters is left to that: masking it alone would blank ordinary words."""
    if settings.database_url is None:
        return []
    password = urllib.parse.urlsplit(settings.database_url.get_secret_value()).password
    return [password] if password and len(password) >= 8 else []


def from_postgres(exc: BaseException) -> bool:
    """asyncpg's errors, or the network's under it (a file's are not)."""
    network = (ConnectionError, TimeoutError, socket.gaierror)
    return isinstance(exc, network) or type(exc).__module__.startswith("asyncpg")


def postgres_problem(exc: BaseException, settings: Settings) -> str:
    """One line on a PostgreSQL failure, naming the address without its password."""
    text = str(exc) or type(exc).__name__
    for secret in database_secrets(settings):
        text = text.replace(secret, "***")
    if not text.startswith("PostgreSQL"):  # storage/postgres.py's own line names the address
        text = f"PostgreSQL ({settings.database_shown}) : {text}"
    return f"{text.rstrip('.')} : vérifiez DATABASE_URL."


def run_bot(
    settings: Settings,
    *,
    webhook: bool,
    clock: Clock,
    processor: TimedUpdateProcessor | None = None,
) -> int:
    from bot.app import ALLOWED_UPDATES, build_application
    from bot.jobs.leadership import AnotherInstance

    settings.token()  # fail early, in one line, without a token
    app = build_application(settings, clock=clock, processor=processor)
    # Long polling refuses to start beside another live instance (bot/jobs/leadership.py).
    app.bot_data["mode"] = "webhook" if webhook else "polling"
    logging.getLogger(__name__).info("Démarrage du bot (%s)", "webhook" if webhook else "polling")
    try:
        if webhook:
            if not settings.webhook_url or settings.webhook_secret is None:
                raise SettingsError(
                    "WEBHOOK_URL et WEBHOOK_SECRET sont nécessaires en mode webhook "
                    "(voir .env.example)."
                )
            app.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path="telegram",
                webhook_url=settings.webhook_url.rstrip("/") + "/telegram",
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
            )
        else:
            app.run_polling(
                allowed_updates=ALLOWED_UPDATES,
                poll_interval=0.0,
                timeout=settings.polling_timeout_seconds,
            )
    except AnotherInstance as exc:
        raise CliError(f"démarrage refusé : {exc}") from None
    return 0


async def dispatch(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    if args.command == "backup":
        if settings.database_url is not None:
            raise CliError(
                "backup ne copie qu'une base SQLite : sur PostgreSQL (DATABASE_URL), "
                'sauvegardez avec pg_dump -Fc -f pnc.dump "$DATABASE_URL" ou les sauvegardes '
                "de votre hébergeur (voir deploy/README.md)"
            )
        return backup(settings.database_path, args.path)
    if args.command == "copy-database":
        return await copy_database(args, settings)
    async with storage(settings.database) as db:
        if args.command == "migrate":
            print(f"Base à jour (schéma {await db.schema_version()}) : {settings.database_shown}")
        elif args.command == "cafs":
            await cafs_command(args, settings, db, clock)
        elif args.command == "invite":
            await invite_command(args, settings, db, clock)
        elif args.command == "invitations":
            await invitations_command(args, db, clock)
        elif args.command == "partners":
            await partners_command(args, db, clock)
        elif args.command == "export":
            await export_command(args, db, clock)
    return 0


async def copy_database(args: argparse.Namespace, settings: Settings) -> int:
    """`copy-database`: storage/copy.py does and checks the copy; here, the arguments and
    the table of rows copied."""
    from storage import copy
    from storage.db import redacted

    source: str | Path = args.source if args.source is not None else settings.database
    target: str | Path = args.to if copy.is_postgres(args.to) else Path(args.to)
    try:
        done = await copy.copy_database(source, target)
    except (copy.CopyRefused, copy.CopyFailed) as exc:
        raise CliError(str(exc)) from None
    except Exception as exc:  # the connection lost halfway: the transaction rolled back
        if not from_postgres(exc):
            raise
        where = redacted(args.to) if copy.is_postgres(args.to) else redacted(str(source))
        raise CliError(f"PostgreSQL ({where}) : {exc} : copie annulée") from None
    print(f"Copie de {done.source} vers {done.target} (schéma {done.schema}) :")
    width = max(len(table) for table in done.counts)
    for table, rows in done.counts.items():
        print(f"  {table:<{width}}  {rows:>9}")
    print(f"  {'total':<{width}}  {done.rows:>9}")
    seconds = f"{done.seconds:.1f}".replace(".", ",")
    print(
        f"Copie vérifiée : {len(done.counts)} tables, {done.rows} lignes, chaque table "
        f"comptée des deux côtés, en {seconds} s."
    )
    return 0


def backup(source: Path, target: Path) -> int:
    """SQLite's online backup API: a consistent copy even while the bot writes."""
    if not source.exists():
        raise CliError(f"base introuvable : {source}")
    if target.exists():
        raise CliError(f"{target} existe déjà : choisissez un autre fichier")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"dossier impossible à créer pour {target} : {exc.strerror}") from None
    try:  # 0600 before a byte is copied (storage/db.py): the copy holds what the base holds
        if not create_owner_only(target):
            raise CliError(f"{target} existe déjà : choisissez un autre fichier")
    except OSError as exc:
        raise CliError(f"écriture impossible de {target} : {exc.strerror}") from None
    uri = f"file:{urllib.parse.quote(str(source.resolve()))}?mode=ro"
    src = sqlite3.connect(uri, uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if check != "ok":
        raise CliError(f"la copie {target} est incohérente : {check}")
    print(f"Sauvegarde écrite : {target}")
    return 0


async def _caf_by_name(db: Database, name: str) -> Caf:
    caf = await cafs.get_by_name(db, name)
    if caf is None:
        raise CliError(f"Caf inconnue : « {name} » (voir python -m bot cafs list)")
    return caf


def _timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CliError(f"fuseau horaire inconnu : {name} (exemple : Europe/Paris)") from None
    return name


async def cafs_command(
    args: argparse.Namespace, settings: Settings, db: Database, clock: Clock
) -> None:
    # The bot's own use cases, imported here: every other command starts without them.
    from bot.services import cafs as caf_service

    if args.action == "add":
        name = args.name.strip()
        if not name:
            raise CliError("le nom de la Caf est vide")
        try:
            caf = await caf_service.add(
                db,
                name=name,
                period=ReportingPeriod(args.period),
                timezone=_timezone(args.timezone or settings.timezone),
                notify_chat_id=args.notify_chat,
                now=clock.now(),
            )
        except caf_service.DuplicateCaf:
            raise CliError(f"une Caf nommée « {name} » existe déjà") from None
        print(f"Caf créée : {caf.name} (n° {caf.id}, transmission {caf.reporting_period.label})")
    elif args.action == "list":
        for caf in await cafs.list_all(db):
            chat = caf.notify_chat_id if caf.notify_chat_id is not None else "-"
            print(f"{caf.id}\t{caf.name}\t{caf.reporting_period.value}\t{caf.timezone}\t{chat}")
    elif args.action == "set":
        caf = await _caf_by_name(db, args.name)
        notify: int | None = None
        clear = False
        if args.notify_chat is not None:
            try:  # as a coordinator types it in the bot
                notify = caf_service.parse_notify_chat(args.notify_chat)
            except caf_service.NotAChatId:
                wanted = "--notify-chat attend un identifiant numérique ou « none »"
                raise CliError(wanted) from None
            clear = notify is None
        if not any(
            [args.period, args.timezone, args.notify_chat, args.rename, args.logo, args.city]
        ):
            raise CliError(
                "rien à modifier : --period, --timezone, --notify-chat, --rename, --logo ou --city"
            )
        logo = _logo_argument(args.logo) if args.logo else None
        city = _city_argument(args.city) if args.city is not None else None
        new_name = args.rename.strip() if args.rename is not None else None
        if new_name == "":
            raise CliError("--rename : le nouveau nom est vide")
        changes = caf_service.CafChanges(
            period=ReportingPeriod(args.period) if args.period else None,
            timezone=_timezone(args.timezone) if args.timezone else None,
            notify_chat_id=notify,
            clear_notify_chat=clear,
            name=new_name,
            logo_path=logo,
            clear_logo=bool(args.logo) and logo is None,
            city=city,
            clear_city=args.city is not None and city is None,
        )
        try:
            await caf_service.update(db, caf, changes, clock.now())
        except caf_service.DuplicateCaf:
            raise CliError(f"une Caf nommée « {new_name} » existe déjà") from None
        print(f"Caf modifiée : {new_name or caf.name}")


def _city_argument(value: str) -> str | None:
    """`--city VILLE`, as a coordinator types it in « ⚙️ Ma Caf »; `none` removes it."""
    from bot.services.cafs import CITY_MAX, NotACity, parse_city

    try:
        return parse_city(value)
    except NotACity:
        wanted = f"--city attend un nom de ville (au plus {CITY_MAX} caractères) ou « none »"
        raise CliError(wanted) from None


def _logo_argument(value: str) -> str | None:
    """`--logo PATH` checked now (not when a certificate is made), stored absolute; `none`."""
    from bot.exports.certificate import LogoError, check_logo

    if value.lower() == "none":
        return None
    try:
        return str(check_logo(Path(value)))
    except LogoError as exc:
        raise CliError(f"--logo : {exc}") from None


async def invite_command(
    args: argparse.Namespace, settings: Settings, db: Database, clock: Clock
) -> None:
    from bot.services import invitations as invitation_service

    role = Role(args.role)
    if args.uses < 1 or args.uses > 1000:
        raise CliError("--uses doit être compris entre 1 et 1000")
    try:
        validity = (
            parse_duration(args.expires)
            if args.expires
            else timedelta(days=settings.default_invite_expiry_days)
        )
    except ValueError as exc:
        raise CliError(f"--expires : {exc}") from None
    if role is Role.COORDINATOR:
        if args.caf is None:
            raise CliError("un coordinateur s'invite avec --caf NOM")
        caf = await _caf_by_name(db, args.caf)
        scope = caf.name
    else:
        if args.partner is None:
            raise CliError(f"le rôle {role.value} s'invite avec --partner ID (voir partners list)")
        partner = await partners.get(db, args.partner)
        if partner is None:
            raise CliError(f"site inconnu : {args.partner} (voir python -m bot partners list)")
        owner = await cafs.get(db, partner.caf_id)
        assert owner is not None
        caf = owner
        scope = f"{partner.title}, {caf.name}"
    new = await invitation_service.create(
        db,
        role=role,
        caf=caf,
        partner_id=None if role is Role.COORDINATOR else args.partner,
        uses=args.uses,
        valid_for=validity,
        now=clock.now(),
    )
    username = await bot_username(settings, db)
    print(
        f"Invitation {role.label} — {scope} — {args.uses} utilisation(s), "
        f"valable jusqu'au {new.invitation.expires_at:%d/%m/%Y %H:%M} UTC"
    )
    if username:
        print(f"Lien : {new.link(username)}")
    else:
        print(
            "Lien : indisponible (nom du bot inconnu : lancez le bot une fois, ou vérifiez "
            "TELEGRAM_BOT_TOKEN) — la personne peut écrire au bot : /start CODE"
        )
    print(new.code)


async def bot_username(settings: Settings, db: Database) -> str | None:
    """The bot's username, from the cache the running bot keeps, else from getMe."""
    cached = await kv.get(db, "bot_username")
    if cached:
        return cached
    if settings.telegram_bot_token is None:
        return None
    from telegram import Bot
    from telegram.error import TelegramError

    try:
        async with Bot(settings.token(), base_url=settings.telegram_api_base_url) as bot:
            username = bot.username
    except (TelegramError, OSError):
        return None
    await kv.put(db, "bot_username", username)
    return username


async def invitations_command(args: argparse.Namespace, db: Database, clock: Clock) -> None:
    """`invitations list` and `invitations cancel`: the operator's view of the bot's own
    🔗 Liens d'invitation (the same use cases, audited as the command line's)."""
    from bot.services import links
    from bot.services.network import NotTheirs

    if args.action == "list":
        caf = await links.caf_named(db, args.caf)
        if caf is None:
            raise CliError(f"Caf inconnue : « {args.caf} » (voir python -m bot cafs list)")
        try:
            found = await links.listing(db, None, args.site, clock.now(), caf=caf)
        except NotTheirs:
            raise CliError(
                f"site inconnu dans {caf.name} : {args.site} (voir partners list)"
            ) from None
        for link in found.links:
            expires = link.expires_at.astimezone(caf.zone)
            cells = [str(link.id), link.role.value, link.site or "-", str(link.uses_left)]
            cells += [f"{expires:%Y-%m-%d %H:%M} {caf.timezone}", link.maker_name or "-"]
            print("\t".join(cells))
        if not found.links:
            where = found.partner.title if found.partner else caf.name
            print(f"Aucun lien d'invitation en cours pour {where}.")
    elif args.action == "cancel":
        try:
            link = await links.cancel(db, None, args.id, clock.now())
        except links.UnknownLink:
            raise CliError(f"lien inconnu : {args.id} (voir invitations list)") from None
        except links.NotLive:
            raise CliError(
                f"le lien {args.id} n'est plus actif (annulé, expiré ou épuisé)"
            ) from None
        where = link.site or "coordination"
        print(f"Lien {link.id} annulé ({link.role.label}, {where}) : son code est refusé.")


async def partners_command(args: argparse.Namespace, db: Database, clock: Clock) -> None:
    from bot.services import site_import

    if args.action == "import":
        caf = await _caf_by_name(db, args.caf)
        table = await read_sites_file(args.file)
        # The operator re-imports at will: a site the Caf has already is skipped and named.
        imported = await site_import.import_sites(
            db, caf, table.rows, clock.now(), skip_existing=True
        )
        added, skipped = imported.added, imported.skipped
        for partner in added:
            print(f"{partner.id}\t{partner.name}\t{partner.city}")
        print(
            f"{len(added)} site(s) importé(s) pour {caf.name}"
            + (
                f", {len(skipped)} déjà présent(s) ignoré(s) : {', '.join(skipped)}"
                if skipped
                else ""
            )
        )
    elif args.action == "list":
        caf_filter = await _caf_by_name(db, args.caf) if args.caf else None
        items = (
            await partners.list_for_caf(db, caf_filter.id)
            if caf_filter
            else await partners.list_all(db)
        )
        for partner in items:
            print(f"{partner.id}\t{partner.name}\t{partner.city}\t{partner.label_status.label}")
    elif args.action == "set":
        from bot.services import partners as partner_service

        logo = _logo_argument(args.logo)
        changed = await partner_service.set_logo(db, args.id, logo, clock.now())
        if changed is None:
            raise CliError(f"site inconnu : {args.id} (voir python -m bot partners list)")
        print(f"Site modifié : {changed.title} (logo {'ajouté' if logo else 'retiré'})")


async def read_sites_file(path: Path) -> SiteTable:
    """The sites of a CSV or an Excel workbook (.xlsx), read and checked as the bot reads a
    coordinator's file (bot/services/site_import.py); the first problem is the error."""
    from bot.services import site_import

    xlsx = path.suffix.lower() == ".xlsx"
    kind = site_import.FileKind.XLSX if xlsx else site_import.FileKind.CSV
    return _sites_or_error(path, await site_import.read(_file_bytes(path), kind))


def read_partner_csv(path: Path) -> list[partners.PartnerRow]:
    """Reads `name,city,address[,convention_start]` (comma or semicolon, as Excel writes it
    in France); `convention_start` is an ISO date (2025-03-15), empty for the import's day."""
    from bot.domain import site_import as rules

    table = rules.parse(rules.csv_lines(_file_bytes(path)))
    return [row.values() for row in _sites_or_error(path, table).rows]


def _file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"lecture impossible de {path} : {exc.strerror}") from None


def _sites_or_error(path: Path, table: SiteTable) -> SiteTable:
    if table.errors:
        error, others = table.errors[0], len(table.errors) - 1
        where = f"{path}, ligne {error.line}" if error.line is not None else str(path)
        more = f" (et {others} autre(s) erreur(s))" if others else ""
        raise CliError(f"{where} : {error.text}{more}")
    return table


# ------------------------------------------------------------------------------ export
async def export_command(args: argparse.Namespace, db: Database, clock: Clock) -> None:
    """Every `export …` computes its dates in the Caf's time zone, from the bot's clock."""
    if getattr(args, "all_cafs", False) or args.caf is None:
        content, summary = await export_all_cafs_indicators(args, db)
    else:
        caf = await _caf_by_name(db, args.caf)
        now = clock.now().astimezone(zoneinfo.ZoneInfo(caf.timezone))
        content, summary = await EXPORTS[args.export](args, db, caf, now)
    if args.output is None:
        try:
            sys.stdout.flush()
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # `… | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    else:
        write_atomically(args.output, content)
        print(f"Export écrit : {args.output} ({summary})", file=sys.stderr)


async def export_directory(
    args: argparse.Namespace, db: Database, caf: Caf, now: datetime
) -> tuple[bytes, str]:
    from bot.services.directory import DirectoryFormat, directory_file

    made = await directory_file(db, caf, DirectoryFormat(args.format), now)
    summary = f"{made.sites} site(s), {made.closures} fermeture(s)"
    if made.left_out:  # national standard: what the coordinator must complete
        summary += f" ; sans SIRET, code postal ou adresse : {', '.join(made.left_out)}"
    return made.content, f"annuaire de {caf.name}, {summary}"


async def export_indicators(
    args: argparse.Namespace, db: Database, caf: Caf, now: datetime
) -> tuple[bytes, str]:
    from bot.domain.periods import PeriodError, parse_period
    from bot.exports import indicators

    try:
        period = parse_period(args.period)
    except PeriodError as exc:
        raise CliError(f"--period : {exc}") from None
    if args.partner is not None:
        partner = await partners.get(db, args.partner)
        if partner is None:
            raise CliError(f"site inconnu : {args.partner} (voir python -m bot partners list)")
        if partner.caf_id != caf.id:
            raise CliError(f"le site {args.partner} n'est pas un site de {caf.name}")
    if args.format == "xlsx" and args.output is None and sys.stdout.isatty():
        raise CliError("un classeur xlsx ne s'affiche pas : ajoutez --output FICHIER.xlsx")
    async with db.read() as snapshot:  # one consistent view, even while the bot writes
        report = await indicators.collect(snapshot, caf, period, partner_id=args.partner)
    if args.format == "csv":
        content = indicators.to_csv(report).encode("utf-8")
    else:
        command = ["python", "-m", "bot", "export", "indicators", "--caf", caf.name]
        command += ["--period", period.key]
        if args.partner is not None:
            command += ["--partner", str(args.partner)]
        command += ["--format", args.format]
        if args.output is not None:
            command += ["--output", str(args.output)]
        content = indicators.to_xlsx(
            report,
            exported_at=now,
            exported_by="ligne de commande (opérateur du serveur)",
            command=shlex.join(command),
        )
    return content, (
        f"indicateurs de {caf.name}, {period.label}, {len(report.sites)} site(s), "
        f"{report.total.visits} visite(s)"
    )


async def export_all_cafs_indicators(args: argparse.Namespace, db: Database) -> tuple[bytes, str]:
    """`export indicators --all-cafs`: one line per Caf (bot/services/national_indicators.py)."""
    from bot.domain.periods import PeriodError, parse_period
    from bot.services import national_indicators

    if not args.all_cafs:
        raise CliError("indiquez la Caf (--caf NOM) ou toutes les Caf (--all-cafs)")
    if args.caf is not None or args.partner is not None:
        raise CliError("--all-cafs compte toutes les Caf : sans --caf ni --partner")
    try:
        period = parse_period(args.period)
    except PeriodError as exc:
        raise CliError(f"--period : {exc}") from None
    if args.format == "xlsx" and args.output is None and sys.stdout.isatty():
        raise CliError("un classeur xlsx ne s'affiche pas : ajoutez --output FICHIER.xlsx")
    report = await national_indicators.collect(db, period)
    if args.format == "csv":
        content = national_indicators.to_csv(report).encode("utf-8")
    else:
        content = national_indicators.to_xlsx(report)
    return content, (
        f"indicateurs de {len(report.cafs)} Caf, {period.label}, {report.total.visits} visite(s)"
    )


async def export_events(
    args: argparse.Namespace, db: Database, caf: Caf, now: datetime
) -> tuple[bytes, str]:
    from bot.exports import events

    if args.format == "xlsx" and args.output is None and sys.stdout.isatty():
        raise CliError("un classeur xlsx ne s'affiche pas : ajoutez --output FICHIER.xlsx")
    async with db.read() as snapshot:  # one consistent view, even while the bot writes
        export = await events.collect(snapshot, caf)
    if args.format == "csv":
        content = events.to_csv(export).encode("utf-8")
    else:
        command = ["python", "-m", "bot", "export", "events", "--caf", caf.name]
        command += ["--format", args.format]
        if args.output is not None:
            command += ["--output", str(args.output)]
        content = events.to_xlsx(export, now, shlex.join(command))
    return content, (
        f"événements de {caf.name}, {len(export.events)} événement(s), "
        f"{len(export.answers)} invitation(s)"
    )


async def export_broadcasts(
    args: argparse.Namespace, db: Database, caf: Caf, now: datetime
) -> tuple[bytes, str]:
    from bot.exports import broadcasts

    async with db.read() as snapshot:
        rows = await broadcasts.collect(snapshot, caf)
    if args.format == "csv":
        content = broadcasts.to_csv(rows).encode("utf-8")
    else:
        content = broadcasts.to_xlsx(rows, caf, now)
    sent = len({row.announcement_id for row in rows})
    return content, f"diffusions de {caf.name}, {sent} diffusion(s), {len(rows)} destinataire(s)"


async def export_certificate(
    args: argparse.Namespace, db: Database, caf: Caf, now: datetime
) -> tuple[bytes, str]:
    from bot.exports import certificate

    if args.output is None and sys.stdout.isatty():
        raise CliError("un PDF ne s'affiche pas : ajoutez --output FICHIER.pdf")
    partner = await partners.get(db, args.partner)
    if partner is None:
        raise CliError(f"site inconnu : {args.partner} (voir python -m bot partners list)")
    if partner.caf_id != caf.id:
        raise CliError(f"le site {args.partner} n'est pas un site de {caf.name}")
    if partner.label_status is LabelStatus.WITHDRAWN:
        raise CliError(f"le label de {partner.title} est retiré : pas de certificat")
    try:
        day = date.fromisoformat(args.date) if args.date else now.date()
    except ValueError:
        raise CliError(f"--date attend une date AAAA-MM-JJ (reçu : {args.date})") from None
    content = certificate.certificate_pdf(
        caf_name=caf.name,
        partner_name=partner.name,
        town=certificate.town_of(partner),
        day=day,
        logo_path=Path(caf.logo_path) if caf.logo_path else None,
        caf_town=caf.city,
        partner_logo_path=Path(partner.logo_path) if partner.logo_path else None,
    )
    return content, f"certificat de {partner.title}, daté du {day:%d/%m/%Y}"


async def export_trainings(
    args: argparse.Namespace, db: Database, caf: Caf, now: datetime
) -> tuple[bytes, str]:
    from bot.services.trainings import export_csv

    content, rows = await export_csv(db, caf)
    return content, f"formations de {caf.name}, {rows} ligne(s)"


Exporter = Callable[[argparse.Namespace, Database, Caf, datetime], Awaitable[tuple[bytes, str]]]
EXPORTS: dict[str, Exporter] = {
    "directory": export_directory,
    "indicators": export_indicators,
    "events": export_events,
    "broadcasts": export_broadcasts,
    "certificate": export_certificate,
    "trainings": export_trainings,
}
"""`export KIND`: the file's bytes and a few words for the confirmation line."""


def write_atomically(target: Path, content: bytes) -> None:
    """Readers of `target` (a web server) see the old file or the new one, never half of it."""
    if target.is_dir():
        raise CliError(f"{target} est un dossier : indiquez un fichier")
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # 0o666 less the umask, like any new file; an existing file keeps its permissions.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            if target.exists():
                temporary.chmod(target.stat().st_mode & 0o7777)
            temporary.replace(target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CliError(f"écriture impossible de {target} : {exc.strerror}") from None

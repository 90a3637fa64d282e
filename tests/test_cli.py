"""`python -m bot …` as an operator uses it: the real command line, in a child process.

Every command runs as `python -m bot` with its working directory in a temporary folder (so no
`.env` is read) and an environment cleaned of the bot's settings. To keep the file fast,
independent commands run concurrently (a few child processes at a time) and the results are
shared by the tests that read them; the databases the tests start from are copies of one
seeded by the command line itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.sandbox.bot_api import TOKEN, FakeBotApi
from storage.db import available_migrations

ROOT = Path(__file__).resolve().parent.parent
CAF = "Caf de la Somme"
OTHER_CAF = "Caf de l'Aisne"
CODE_LINE = re.compile(r"^[A-Za-z0-9_-]{24}$")
TIMEOUT = 30.0
PARALLEL = 3
LATEST_SCHEMA = max(available_migrations())

# Variables the child must not inherit from the developer's or the CI's shell.
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def clean_environment() -> dict[str, str]:
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "PNC_"))
        and key != "DATABASE_PATH"
        and key.upper() not in SETTING_NAMES
    }


@dataclass(frozen=True)
class Outcome:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    hung: bool = False

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    def ok(self) -> Outcome:
        assert self.returncode == 0 and not self.hung, self.describe()
        assert "Traceback" not in self.stderr, self.describe()
        return self

    def single_error(self) -> str:
        """The operator's view of a refusal: one French line, a failure code, no traceback."""
        assert not self.hung, f"still running after the error:\n{self.describe()}"
        assert self.returncode != 0, self.describe()
        assert "Traceback" not in self.stderr, self.describe()
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.describe()
        assert lines[0].startswith("Erreur"), self.describe()
        return lines[0]

    def describe(self) -> str:
        return (
            f"$ python -m bot {' '.join(self.argv)}\n→ exit {self.returncode}"
            f"{' (hung, killed)' if self.hung else ''}\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


@dataclass
class Operator:
    """Someone at the server's shell, in a folder of their own, with one database."""

    workdir: Path
    env_extra: dict[str, str] = field(default_factory=dict)

    @property
    def db_path(self) -> Path:
        return self.workdir / "db.sqlite3"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = clean_environment()
        env.update(DATABASE_PATH=str(self.db_path), PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
        env.update(self.env_extra)
        env.update(extra or {})
        return env

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> Outcome:
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=self.workdir,
            env=self.env(env),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=TIMEOUT,
            check=False,
        )
        return Outcome(tuple(args), done.returncode, done.stdout, done.stderr)

    async def arun(self, *args: str, env: Mapping[str, str] | None = None) -> Outcome:
        """For tests whose fake Bot API lives in the test's own event loop."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            cwd=self.workdir,
            env=self.env(env),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=TIMEOUT)
        assert process.returncode is not None
        return Outcome(tuple(args), process.returncode, out.decode(), err.decode())

    def run_all(self, commands: Sequence[tuple[Sequence[str], Mapping[str, str]]]) -> list[Outcome]:
        """Independent commands, a few at a time, in the order given."""
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            return list(pool.map(lambda command: self.run(*command[0], env=command[1]), commands))

    def run_until_stuck(
        self, commands: Sequence[tuple[Sequence[str], Mapping[str, str]]], deadline: float
    ) -> list[Outcome]:
        """Runs commands side by side; one still running after `deadline` s is killed."""
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "bot", *args],
                cwd=self.workdir,
                env=self.env(env),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            )
            for args, env in commands
        ]
        end = time.monotonic() + deadline
        outcomes = []
        for (args, _), process in zip(commands, processes, strict=True):
            try:
                out, err = process.communicate(timeout=max(0.1, end - time.monotonic()))
                hung = False
            except subprocess.TimeoutExpired:
                process.kill()
                out, err = process.communicate()
                hung = True
            outcomes.append(Outcome(tuple(args), process.returncode, out, err, hung=hung))
        return outcomes

    def write(self, name: str, content: str | bytes) -> Path:
        path = self.workdir / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def sql(self, query: str, params: Sequence[Any] = (), *, db: Path | None = None) -> list[Any]:
        with closing(sqlite3.connect(db or self.db_path)) as conn:
            return conn.execute(query, params).fetchall()

    def value(self, query: str, params: Sequence[Any] = (), *, db: Path | None = None) -> Any:
        rows = self.sql(query, params, db=db)
        return rows[0][0] if rows else None

    def database_bytes(self) -> bytes:
        """The database file and its journal files, as a thief would copy them."""
        return b"".join(path.read_bytes() for path in sorted(self.workdir.glob("db.sqlite3*")))

    def table_sizes(self) -> dict[str, int]:
        tables = ("cafs", "partners", "label_history", "invitations", "audit_log", "kv", "people")
        return {table: self.value(f"SELECT COUNT(*) FROM {table}") for table in tables}


def partner_ids(outcome: Outcome) -> dict[str, int]:
    """`partners import` and `partners list` print `id<TAB>name<TAB>city…` for each site."""
    ids = {}
    for line in outcome.lines:
        cells = line.split("\t")
        if len(cells) >= 3 and cells[0].isdigit():
            ids[cells[1]] = int(cells[0])
    return ids


def caf_rows(outcome: Outcome) -> dict[str, list[str]]:
    """`cafs list`: `id<TAB>name<TAB>period<TAB>timezone<TAB>notify chat or -`, by name."""
    rows = {}
    for line in outcome.lines:
        cells = line.split("\t")
        assert len(cells) == 5 and cells[0].isdigit(), outcome.describe()
        rows[cells[1]] = cells
    return rows


def invitation_code(outcome: Outcome) -> str:
    code = outcome.ok().lines[-1]
    assert CODE_LINE.match(code), f"last line is not a bare code:\n{outcome.describe()}"
    return code


def sha256(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def parse_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# ------------------------------------------------------------------------------ fixtures
SITES_CSV = (
    "name,city,address\n"
    "Mairie de Ham,Ham,1 place de l'Hôtel de Ville\n"
    'France Services Albert,Albert,"3 rue Jeanne d\'Arc, 80300 Albert"\n'
)


@dataclass(frozen=True)
class Seed:
    """A database prepared once through the command line: two Cafs, two sites."""

    db_path: Path
    sites: dict[str, int]

    @property
    def ham(self) -> int:
        return self.sites["Mairie de Ham"]


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    operator = Operator(tmp_path_factory.mktemp("seed"))
    operator.run("migrate").ok()
    operator.run("cafs", "add", CAF, "--period", "quarterly").ok()
    operator.run("cafs", "add", OTHER_CAF).ok()
    operator.write("sites.csv", SITES_CSV)
    imported = operator.run("partners", "import", "sites.csv", "--caf", CAF).ok()
    return Seed(db_path=operator.db_path, sites=partner_ids(imported))


def copy_database(seed: Seed, workdir: Path) -> Operator:
    operator = Operator(workdir)
    for path in seed.db_path.parent.glob(seed.db_path.name + "*"):
        shutil.copy(path, workdir / path.name.replace(seed.db_path.name, "db.sqlite3"))
    return operator


@pytest.fixture
def operator(seed: Seed, tmp_path: Path) -> Operator:
    """A fresh copy of the seeded database, for a test that changes it."""
    return copy_database(seed, tmp_path)


# ------------------------------------------------------------------------------ --help
HELP_COMMANDS = [
    (),
    ("run",),
    ("migrate",),
    ("backup",),
    ("cafs",),
    ("cafs", "add"),
    ("cafs", "list"),
    ("cafs", "set"),
    ("invite",),
    ("invitations",),
    ("invitations", "list"),
    ("invitations", "cancel"),
    ("partners",),
    ("partners", "import"),
    ("partners", "list"),
]


@pytest.fixture(scope="module")
def help_outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Outcome]:
    operator = Operator(tmp_path_factory.mktemp("help"))
    outcomes = operator.run_all([((*command, "--help"), {}) for command in HELP_COMMANDS])
    # Asking for help never creates a database.
    assert not operator.db_path.exists()
    return dict(zip(HELP_COMMANDS, outcomes, strict=True))


@pytest.mark.parametrize(
    "command", HELP_COMMANDS, ids=[" ".join(c) or "top-level" for c in HELP_COMMANDS]
)
def test_help_explains_usage_of(
    command: tuple[str, ...], help_outcomes: dict[tuple[str, ...], Outcome]
) -> None:
    outcome = help_outcomes[command].ok()
    usage = f"utilisation : {' '.join(('python -m bot', *command))}"
    assert outcome.stdout.startswith(usage), outcome.describe()
    assert outcome.stderr == ""
    # argparse's own words are in French too.
    for english in ("usage:", "positional arguments", "show this help message"):
        assert english not in outcome.stdout, outcome.describe()
    assert "-h, --help" in outcome.stdout and "afficher cette aide" in outcome.stdout


def test_argparse_refusals_are_explained_in_french(tmp_path: Path) -> None:
    operator = Operator(tmp_path)
    outcomes = operator.run_all(
        [
            (("fly",), {}),
            (("export",), {}),
            (("backup", "a", "b"), {}),
            (("invite", "--role", "chef"), {}),
        ]
    )
    errors = [outcome.stderr for outcome in outcomes]
    assert "choix invalide : 'fly' (choisir parmi 'run'" in errors[0]
    assert "arguments obligatoires manquants : EXPORT" in errors[1]
    assert "arguments non reconnus : b" in errors[2]
    assert "argument --role : choix invalide : 'chef'" in errors[3]
    for outcome in outcomes:
        assert outcome.returncode == 2, outcome.describe()
        assert outcome.stderr.startswith("Erreur : "), outcome.describe()
        for english in ("invalid choice", "required", "unrecognized", "choose from"):
            assert english not in outcome.stderr, outcome.describe()


def test_top_level_help_lists_every_command(
    help_outcomes: dict[tuple[str, ...], Outcome],
) -> None:
    text = help_outcomes[()].stdout
    for command in ("run", "migrate", "backup", "cafs", "invite", "invitations", "partners"):
        assert re.search(rf"^\s+{command}\s", text, re.MULTILINE), text


# ------------------------------------------------------------------------------ bootstrap
def test_an_operator_bootstraps_a_caf_its_sites_and_first_invitations(tmp_path: Path) -> None:
    op = Operator(tmp_path)

    migrated = op.run("migrate").ok()
    assert migrated.lines == [f"Base à jour (schéma {LATEST_SCHEMA}) : {op.db_path}"]
    assert op.value("PRAGMA user_version") == LATEST_SCHEMA

    created = op.run("cafs", "add", CAF, "--period", "quarterly").ok()
    assert created.lines == ["Caf créée : Caf de la Somme (n° 1, transmission trimestrielle)"]
    assert caf_rows(op.run("cafs", "list").ok()) == {
        CAF: ["1", CAF, "quarterly", "Europe/Paris", "-"]
    }

    # A plain CSV, then one saved by Excel ("CSV UTF-8": BOM, semicolons, CRLF) that
    # repeats a site already imported, then one in Windows-1252 (Excel's plain "CSV").
    op.write("sites.csv", SITES_CSV)
    first = op.run("partners", "import", "sites.csv", "--caf", CAF).ok()
    assert first.lines[-1] == "2 site(s) importé(s) pour Caf de la Somme", first.describe()
    excel = (
        "name;city;address\r\n"
        "Centre social Étouvie;Amiens;12, rue du Général-Leclerc\r\n"
        "Mairie de Ham;Ham;1 place de l'Hôtel de Ville\r\n"
        "Médiathèque Léopold-Sédar-Senghor;Abbeville;Place de l'Amiral-Courbet\r\n"
    )
    op.write("excel.csv", b"\xef\xbb\xbf" + excel.encode("utf-8"))
    second = op.run("partners", "import", "excel.csv", "--caf", "caf de la somme").ok()
    assert second.lines[-1] == (
        "2 site(s) importé(s) pour Caf de la Somme, "
        "1 déjà présent(s) ignoré(s) : Mairie de Ham (Ham)"
    ), second.describe()
    op.write(
        "ansi.csv",
        "name;city;address\r\nPôle Enfance Famille;Péronne;2 rue Saint-Fursy\r\n".encode("cp1252"),
    )
    third = op.run("partners", "import", "ansi.csv", "--caf", CAF).ok()

    listed = op.run("partners", "list").ok()
    rows = [line.split("\t") for line in listed.lines]
    assert all(len(row) == 4 and row[0].isdigit() for row in rows), listed.describe()
    assert {(name, city, status) for _, name, city, status in rows} == {
        ("Mairie de Ham", "Ham", "actif"),
        ("France Services Albert", "Albert", "actif"),
        ("Centre social Étouvie", "Amiens", "actif"),
        ("Médiathèque Léopold-Sédar-Senghor", "Abbeville", "actif"),
        ("Pôle Enfance Famille", "Péronne", "actif"),
    }
    sites = partner_ids(listed)
    assert sites == partner_ids(first) | partner_ids(second) | partner_ids(third)
    addresses = dict(op.sql("SELECT name, address FROM partners"))
    assert addresses["Centre social Étouvie"] == "12, rue du Général-Leclerc"
    assert addresses["France Services Albert"] == "3 rue Jeanne d'Arc, 80300 Albert"

    # Invitations: the clear code is shown once, on its own last line, and only its hash
    # is stored. Without a token the bot's name is unknown, and the operator is told so.
    before = datetime.now(UTC)
    manager = op.run("invite", "--role", "manager", "--partner", str(sites["Mairie de Ham"]))
    manager_code = invitation_code(manager)
    assert manager.lines[0].startswith(
        "Invitation responsable de site — Mairie de Ham (Ham), Caf de la Somme — "
        "1 utilisation(s), valable jusqu'au "
    ), manager.describe()
    assert manager.lines[1].startswith("Lien : indisponible"), manager.describe()
    coordinator = op.run(
        "invite", "--role", "coordinator", "--caf", CAF, "--uses", "3", "--expires", "2w"
    )
    coordinator_code = invitation_code(coordinator)
    after = datetime.now(UTC)
    assert coordinator.lines[0].startswith(
        "Invitation coordinateur·rice Caf — Caf de la Somme — 3 utilisation(s)"
    ), coordinator.describe()

    stored = {
        row[0]: row[1:]
        for row in op.sql(
            "SELECT code_hash, role, caf_id, partner_id, uses_left, expires_at, revoked_at"
            " FROM invitations"
        )
    }
    assert set(stored) == {sha256(manager_code), sha256(coordinator_code)}
    role, caf_id, partner_id, uses, expires, revoked = stored[sha256(manager_code)]
    assert (role, caf_id, partner_id, uses, revoked) == (
        "manager",
        1,
        sites["Mairie de Ham"],
        1,
        None,
    )
    # DEFAULT_INVITE_EXPIRY_DAYS is 7.
    assert before + timedelta(days=7) - timedelta(seconds=1) <= parse_db_time(expires)
    assert parse_db_time(expires) <= after + timedelta(days=7)
    role, caf_id, partner_id, uses, expires, revoked = stored[sha256(coordinator_code)]
    assert (role, caf_id, partner_id, uses, revoked) == ("coordinator", 1, None, 3, None)
    assert before + timedelta(weeks=2) - timedelta(seconds=1) <= parse_db_time(expires)
    assert parse_db_time(expires) <= after + timedelta(weeks=2)

    everything = op.database_bytes()
    for code in (manager_code, coordinator_code):
        assert code.encode() not in everything
    assert [action for (action,) in op.sql("SELECT action FROM audit_log ORDER BY id")] == [
        "caf.created",
        "partners.imported",
        "partners.imported",
        "partners.imported",
        "invitation.created",
        "invitation.created",
    ]


async def test_invite_links_to_the_bot_named_by_get_me_and_remembers_the_name(
    fake: FakeBotApi, seed: Seed, tmp_path: Path
) -> None:
    op = copy_database(seed, tmp_path)
    online = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_API_FILE_BASE_URL": fake.base_file_url,
        "LOG_LEVEL": "DEBUG",
    }

    outcome = await op.arun("invite", "--role", "agent", "--partner", str(seed.ham), env=online)
    code = invitation_code(outcome)
    assert outcome.lines[-2] == f"Lien : https://t.me/pnc_test_bot?start={code}"
    assert len(fake.calls_to("getMe")) == 1
    assert op.value("SELECT value FROM kv WHERE key = 'bot_username'") == "pnc_test_bot"
    # Even with every logger at DEBUG, the token shows nowhere.
    assert TOKEN not in outcome.stdout + outcome.stderr
    assert TOKEN.split(":")[1] not in outcome.stdout + outcome.stderr

    # Later, even without a token (or with Telegram unreachable), the cached name serves.
    offline = await op.arun("invite", "--role", "coordinator", "--caf", CAF)
    code = invitation_code(offline)
    assert offline.lines[-2] == f"Lien : https://t.me/pnc_test_bot?start={code}"
    assert len(fake.calls_to("getMe")) == 1


# ------------------------------------------------------------------------------ cafs set
def test_cafs_set_changes_period_notification_chat_and_name(operator: Operator) -> None:
    op = operator
    changed = op.run("cafs", "set", CAF, "--period", "monthly", "--notify-chat", "-100123")
    assert changed.ok().lines == ["Caf modifiée : Caf de la Somme"]
    assert caf_rows(op.run("cafs", "list").ok())[CAF] == [
        "1",
        CAF,
        "monthly",
        "Europe/Paris",
        "-100123",
    ]

    op.run("cafs", "set", CAF, "--notify-chat", "none", "--timezone", "America/Cayenne").ok()
    assert caf_rows(op.run("cafs", "list").ok())[CAF] == [
        "1",
        CAF,
        "monthly",
        "America/Cayenne",
        "-",
    ]

    new_name = "Caf de la Somme et du Ponthieu"
    renamed = op.run("cafs", "set", CAF, "--rename", new_name).ok()
    assert renamed.lines == [f"Caf modifiée : {new_name}"]
    after = op.run_all([(("cafs", "list"), {}), (("partners", "list", "--caf", new_name), {})])
    assert caf_rows(after[0].ok()) == {
        new_name: ["1", new_name, "monthly", "America/Cayenne", "-"],
        OTHER_CAF: ["2", OTHER_CAF, "monthly", "Europe/Paris", "-"],
    }
    # The sites follow their Caf under its new name.
    assert set(partner_ids(after[1].ok())) == {"Mairie de Ham", "France Services Albert"}

    details = [
        json.loads(text)
        for (text,) in op.sql(
            "SELECT details FROM audit_log WHERE action = 'caf.updated' ORDER BY id"
        )
    ]
    assert details == [
        {"period": "monthly", "notify_chat": "-100123"},
        {"timezone": "America/Cayenne", "notify_chat": "none"},
        {"rename": new_name},
    ]


def test_cafs_set_refuses_a_blank_new_name(operator: Operator) -> None:
    outcome = operator.run("cafs", "set", CAF, "--rename", "   ")
    try:
        assert "vide" in outcome.single_error()
    finally:
        names = {name for (name,) in operator.sql("SELECT name FROM cafs")}
        assert names == {CAF, OTHER_CAF}


def test_cafs_set_can_fix_the_capitals_of_a_name(operator: Operator) -> None:
    outcome = operator.run("cafs", "set", CAF, "--rename", "CAF de la Somme")
    assert outcome.returncode == 0, outcome.describe()
    assert {name for (name,) in operator.sql("SELECT name FROM cafs")} == {
        "CAF de la Somme",
        OTHER_CAF,
    }


# ------------------------------------------------------------------------------ bad arguments
@dataclass(frozen=True)
class Refusal:
    """A bad command line, and a word the one-line error must contain."""

    argv: tuple[str, ...]
    mentions: str
    env: tuple[tuple[str, str], ...] = ()


# ------------------------------------------------------------------------------ invitation links
def test_an_operator_lists_the_live_links_and_cancels_one(operator: Operator, seed: Seed) -> None:
    """Issue #16: `invitations list --caf N [--site M]` and `invitations cancel ID`, the
    operator's view of the bot's « 🔗 Liens d'invitation »."""
    agents = invitation_code(
        operator.run("invite", "--role", "agent", "--partner", str(seed.ham), "--uses", "5")
    )
    coordinators = invitation_code(operator.run("invite", "--role", "coordinator", "--caf", CAF))
    operator.run("invite", "--role", "coordinator", "--caf", OTHER_CAF).ok()

    def link_id(code: str) -> int:
        return int(
            operator.value("SELECT id FROM invitations WHERE code_hash = ?", (sha256(code),))
        )

    albert_id = seed.sites["France Services Albert"]
    by_name, by_number, ham, albert = operator.run_all(
        [
            (("invitations", "list", "--caf", CAF), {}),
            (("invitations", "list", "--caf", "1"), {}),
            (("invitations", "list", "--caf", CAF, "--site", str(seed.ham)), {}),
            (("invitations", "list", "--caf", CAF, "--site", str(albert_id)), {}),
        ]
    )
    rows = [line.split("\t") for line in by_name.ok().lines]
    assert [row[:4] for row in rows] == [
        [str(link_id(coordinators)), "coordinator", "-", "1"],
        [str(link_id(agents)), "agent", "Mairie de Ham (Ham)", "5"],
    ], by_name.describe()
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d Europe/Paris", row[4]) for row in rows)
    assert all(row[5] == "-" for row in rows)  # made at the command line
    assert by_number.ok().lines == by_name.lines
    assert [line.split("\t")[0] for line in ham.ok().lines] == [str(link_id(agents))]
    assert albert.ok().lines == [
        "Aucun lien d'invitation en cours pour France Services Albert (Albert)."
    ]

    cancelled = operator.run("invitations", "cancel", str(link_id(agents))).ok()
    assert cancelled.lines == [
        f"Lien {link_id(agents)} annulé (agent d'accueil, Mairie de Ham (Ham)) :"
        " son code est refusé."
    ]
    revoked_at = operator.value(
        "SELECT revoked_at FROM invitations WHERE id = ?", (link_id(agents),)
    )
    assert revoked_at is not None
    audit = operator.sql(
        "SELECT actor_id, caf_id, target_id FROM audit_log WHERE action = 'invitation.cancelled'"
    )
    assert audit == [(None, 1, link_id(agents))]
    listed = operator.run("invitations", "list", "--caf", CAF).ok()
    assert [line.split("\t")[0] for line in listed.lines] == [str(link_id(coordinators))]
    again = operator.run("invitations", "cancel", str(link_id(agents)))
    assert "n'est plus actif" in again.single_error()


REFUSALS: dict[str, Refusal] = {
    "unknown command": Refusal(("frobnicate",), "frobnicate"),
    "no command": Refusal((), "COMMANDE"),
    "unknown cafs action": Refusal(("cafs", "remove", CAF), "remove"),
    "cafs add duplicate name": Refusal(("cafs", "add", CAF), "existe déjà"),
    "cafs add duplicate name in capitals": Refusal(("cafs", "add", "CAF DE LA SOMME"), "existe"),
    "cafs add blank name": Refusal(("cafs", "add", "   "), "vide"),
    "cafs add unknown timezone": Refusal(
        ("cafs", "add", "Caf de l'Oise", "--timezone", "Mars/Olympus"), "Mars/Olympus"
    ),
    "cafs set nothing to change": Refusal(("cafs", "set", CAF), "rien à modifier"),
    "cafs set unknown timezone": Refusal(
        ("cafs", "set", CAF, "--timezone", "Mars/Olympus"), "Mars/Olympus"
    ),
    "cafs set notify chat not a number": Refusal(
        ("cafs", "set", CAF, "--notify-chat", "groupe"), "--notify-chat"
    ),
    "cafs set unknown caf": Refusal(
        ("cafs", "set", "Caf du Nord", "--period", "monthly"), "Caf du Nord"
    ),
    "cafs set rename onto another caf": Refusal(
        ("cafs", "set", CAF, "--rename", OTHER_CAF), "existe déjà"
    ),
    "invite without role": Refusal(("invite", "--partner", "{ham}"), "--role"),
    "invite unknown role": Refusal(("invite", "--role", "admin", "--caf", CAF), "admin"),
    "invite without caf or partner": Refusal(("invite", "--role", "agent"), "--partner"),
    "invite with caf and partner": Refusal(
        ("invite", "--role", "agent", "--caf", CAF, "--partner", "{ham}"), "--partner"
    ),
    "invite agent with caf": Refusal(("invite", "--role", "agent", "--caf", CAF), "--partner"),
    "invite coordinator with partner": Refusal(
        ("invite", "--role", "coordinator", "--partner", "{ham}"), "--caf"
    ),
    "invite unknown caf": Refusal(
        ("invite", "--role", "coordinator", "--caf", "Caf du Nord"), "Caf du Nord"
    ),
    "invite unknown partner": Refusal(("invite", "--role", "agent", "--partner", "999"), "999"),
    "invite zero uses": Refusal(
        ("invite", "--role", "agent", "--partner", "{ham}", "--uses", "0"), "--uses"
    ),
    "invite unknown duration": Refusal(
        ("invite", "--role", "agent", "--partner", "{ham}", "--expires", "5x"), "5x"
    ),
    "invitations list without caf": Refusal(("invitations", "list"), "--caf"),
    "invitations list unknown caf": Refusal(
        ("invitations", "list", "--caf", "Caf du Nord"), "Caf du Nord"
    ),
    "invitations list site of another caf": Refusal(
        ("invitations", "list", "--caf", OTHER_CAF, "--site", "{ham}"), "site inconnu"
    ),
    "invitations cancel unknown link": Refusal(("invitations", "cancel", "999"), "999"),
    "invitations cancel not a number": Refusal(("invitations", "cancel", "n1"), "n1"),
    "import missing file": Refusal(
        ("partners", "import", "absent.csv", "--caf", CAF), "absent.csv"
    ),
    "import wrong header": Refusal(
        ("partners", "import", "header.csv", "--caf", CAF), "name,city,address"
    ),
    "import row with two columns": Refusal(
        ("partners", "import", "short.csv", "--caf", CAF), "ligne 3"
    ),
    "import row without name": Refusal(
        ("partners", "import", "noname.csv", "--caf", CAF), "ligne 2"
    ),
    "import empty file": Refusal(("partners", "import", "empty.csv", "--caf", CAF), "empty.csv"),
    "import header only": Refusal(
        ("partners", "import", "header_only.csv", "--caf", CAF), "aucun site"
    ),
    "import unknown caf": Refusal(
        ("partners", "import", "good.csv", "--caf", "Caf du Nord"), "Caf du Nord"
    ),
    "list unknown caf": Refusal(("partners", "list", "--caf", "Caf du Nord"), "Caf du Nord"),
    "backup to an existing file": Refusal(("backup", "existing.sqlite3"), "existe déjà"),
    "backup of a missing database": Refusal(
        ("backup", "copy.sqlite3"), "introuvable", env=(("DATABASE_PATH", "{dir}/none.sqlite3"),)
    ),
}


@pytest.fixture(scope="module")
def refused(seed: Seed, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every bad command line above, run against one copy of the seeded database."""
    op = copy_database(seed, tmp_path_factory.mktemp("refusals"))
    sizes_before = op.table_sizes()
    op.write("header.csv", "nom,ville,adresse\nMairie de Nesle,Nesle,\n")
    op.write("short.csv", "name,city,address\nMairie de Nesle,Nesle,\nMairie de Roye,Roye\n")
    op.write("noname.csv", "name,city,address\n ,Nesle,1 rue Haute\n")
    op.write("empty.csv", "")
    op.write("header_only.csv", "name,city,address\n\n")
    op.write("good.csv", "name,city,address\nMairie de Nesle,Nesle,\n")
    existing = op.write("existing.sqlite3", "keep me")
    names = list(REFUSALS)
    values = {"ham": str(seed.ham), "dir": str(op.workdir)}
    outcomes = op.run_all(
        [
            (
                tuple(arg.format(**values) for arg in REFUSALS[name].argv),
                {key: value.format(**values) for key, value in REFUSALS[name].env},
            )
            for name in names
        ]
    )
    return {
        "outcomes": dict(zip(names, outcomes, strict=True)),
        "sizes_before": sizes_before,
        "sizes_after": op.table_sizes(),
        "existing": existing.read_text(),
        "missing_copy_created": (op.workdir / "copy.sqlite3").exists(),
    }


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_bad_command_line_gets_one_error_line(case: str, refused: dict[str, Any]) -> None:
    line = refused["outcomes"][case].single_error()
    assert REFUSALS[case].mentions in line


def test_refused_commands_change_nothing(refused: dict[str, Any]) -> None:
    # Not even `partners import short.csv`, whose first row was fine.
    assert refused["sizes_after"] == refused["sizes_before"]
    assert refused["existing"] == "keep me"
    assert not refused["missing_copy_created"]


# ------------------------------------------------------------------------------ settings
@dataclass(frozen=True)
class BadSetting:
    argv: tuple[str, ...]
    env: dict[str, str]
    names: str
    secret: str | None = None


BAD_SETTINGS: dict[str, BadSetting] = {
    "malformed token": BadSetting(
        ("run",), {"TELEGRAM_BOT_TOKEN": "abc"}, "TELEGRAM_BOT_TOKEN", secret="abc"
    ),
    "token with a short secret": BadSetting(
        ("run",),
        {"TELEGRAM_BOT_TOKEN": "123456789:sEcReT42"},
        "TELEGRAM_BOT_TOKEN",
        secret="sEcReT42",
    ),
    "missing token": BadSetting(("run",), {}, "TELEGRAM_BOT_TOKEN"),
    "unknown timezone": BadSetting(("migrate",), {"TIMEZONE": "Nowhere/City"}, "TIMEZONE"),
    "unknown log level": BadSetting(("migrate",), {"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    "api url without scheme": BadSetting(
        ("migrate",), {"TELEGRAM_API_BASE_URL": "api.telegram.org/bot"}, "TELEGRAM_API_BASE_URL"
    ),
    "polling timeout out of range": BadSetting(
        ("run",), {"POLLING_TIMEOUT_SECONDS": "3600"}, "POLLING_TIMEOUT_SECONDS"
    ),
}


@pytest.fixture(scope="module")
def bad_settings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Outcome, bool]]:
    op = Operator(tmp_path_factory.mktemp("settings"))
    names = list(BAD_SETTINGS)
    outcomes = op.run_all(
        [
            (
                BAD_SETTINGS[name].argv,
                {**BAD_SETTINGS[name].env, "DATABASE_PATH": str(op.workdir / f"{index}.sqlite3")},
            )
            for index, name in enumerate(names)
        ]
    )
    return {
        name: (outcome, (op.workdir / f"{index}.sqlite3").exists())
        for index, (name, outcome) in enumerate(zip(names, outcomes, strict=True))
    }


@pytest.mark.parametrize("case", list(BAD_SETTINGS))
def test_a_bad_setting_gets_one_line_naming_it(
    case: str, bad_settings: dict[str, tuple[Outcome, bool]]
) -> None:
    outcome, database_created = bad_settings[case]
    line = outcome.single_error()
    assert BAD_SETTINGS[case].names in line
    secret = BAD_SETTINGS[case].secret
    if secret is not None:
        assert secret not in outcome.stderr + outcome.stdout
    # Settings are checked before anything touches the disk.
    assert not database_created


# ------------------------------------------------------------------------------ backup
WRITER = """
import sqlite3, sys, time
from pathlib import Path

database, stop = sys.argv[1], Path(sys.argv[2])
conn = sqlite3.connect(database, isolation_level=None, timeout=30)
started = time.monotonic()
n = 0
while time.monotonic() - started < 1.0 or not stop.exists():
    if time.monotonic() - started > 20:
        break
    # Two rows a transaction: a consistent copy holds both or neither.
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (f"a{n}", "x" * 300))
    conn.execute("INSERT INTO kv (key, value) VALUES (?, ?)", (f"b{n}", "y" * 300))
    conn.execute("COMMIT")
    n += 1
    if n == 20:
        print("writing", flush=True)
print(n, flush=True)
"""


def test_backup_while_another_process_writes_is_a_consistent_copy(operator: Operator) -> None:
    op = operator
    stop = op.workdir / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(op.db_path), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "writing"
        rows_before = op.value("SELECT COUNT(*) FROM kv")
        outcome = op.run("backup", "backups/pnc-copy.sqlite3").ok()
        rows_after = op.value("SELECT COUNT(*) FROM kv")
        assert writer.poll() is None, "the writer stopped before the backup ended"
    finally:
        stop.touch()
        written, _ = writer.communicate(timeout=TIMEOUT)
    assert writer.returncode == 0
    assert int(written) >= 20

    copy = op.workdir / "backups" / "pnc-copy.sqlite3"
    assert outcome.lines == [f"Sauvegarde écrite : {Path('backups/pnc-copy.sqlite3')}"]
    assert op.value("PRAGMA integrity_check", db=copy) == "ok"
    rows_in_copy = op.value("SELECT COUNT(*) FROM kv", db=copy)
    assert rows_after > rows_before
    assert rows_before <= rows_in_copy <= rows_after
    pairs = op.sql("SELECT SUM(key LIKE 'a%'), SUM(key LIKE 'b%') FROM kv", db=copy)[0]
    assert pairs[0] == pairs[1]
    assert op.value("SELECT COUNT(*) FROM cafs", db=copy) == 2
    assert op.value("PRAGMA user_version", db=copy) == LATEST_SCHEMA


def test_backup_to_a_folder_that_cannot_exist_gets_one_error_line(operator: Operator) -> None:
    operator.write("notes.txt", "not a folder")
    operator.run("backup", "notes.txt/copy.sqlite3").single_error()


@pytest.mark.parametrize("folder", ["pnc%41", "pnc?prod"])
def test_backup_copies_the_database_whatever_characters_its_path_holds(
    operator: Operator, tmp_path: Path, folder: str
) -> None:
    (tmp_path / folder).mkdir()
    shutil.copy(operator.db_path, tmp_path / folder / "db.sqlite3")
    outcome = operator.run(
        "backup", "copy.sqlite3", env={"DATABASE_PATH": str(tmp_path / folder / "db.sqlite3")}
    )
    outcome.ok()
    assert operator.value("SELECT COUNT(*) FROM cafs", db=tmp_path / "copy.sqlite3") == 2


# ------------------------------------------------------------------------------ refusing to open
@pytest.fixture(scope="module")
def unopenable(seed: Seed, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`migrate` on a database from the future, and on a file that is no database at all.

    Both are run side by side and killed if they are still running after TIMEOUT: a hung
    command would run forever, while a loaded machine may take seconds to start Python.
    """
    op = copy_database(seed, tmp_path_factory.mktemp("unopenable"))
    with closing(sqlite3.connect(op.db_path)) as conn:
        conn.execute("PRAGMA user_version = 999")
    notes = op.write("notes.txt", "Réunion du réseau le 3 décembre à Amiens. " * 20)
    newer, not_sqlite = op.run_until_stuck(
        [(("migrate",), {}), (("migrate",), {"DATABASE_PATH": str(notes)})], deadline=TIMEOUT
    )
    return {
        "newer": newer,
        "not_sqlite": not_sqlite,
        "version_after": op.value("PRAGMA user_version"),
        "notes_after": notes.read_text(encoding="utf-8"),
    }


def test_a_database_newer_than_the_code_is_refused_in_one_line(
    unopenable: dict[str, Any],
) -> None:
    outcome: Outcome = unopenable["newer"]
    assert "Traceback" not in outcome.stderr, outcome.describe()
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Erreur"), outcome.describe()
    assert "999" in lines[0]
    assert outcome.stdout == ""
    assert unopenable["version_after"] == 999


def test_a_database_newer_than_the_code_makes_the_command_exit(
    unopenable: dict[str, Any],
) -> None:
    outcome: Outcome = unopenable["newer"]
    assert not outcome.hung, outcome.describe()
    assert outcome.returncode != 0


def test_a_database_path_that_is_no_database_gets_one_error_line(
    unopenable: dict[str, Any],
) -> None:
    outcome: Outcome = unopenable["not_sqlite"]
    try:
        outcome.single_error()
    finally:
        assert unopenable["notes_after"].startswith("Réunion du réseau")


def test_the_example_settings_copied_as_they_are_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """README's first step is `cp .env.example .env`: its blank webhook lines mean polling."""
    from bot.config import load_settings

    example = Path(__file__).resolve().parent.parent / ".env.example"
    (tmp_path / ".env").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("WEBHOOK_", "TELEGRAM_", "DATABASE_")):
            monkeypatch.delenv(name)
    settings = load_settings()
    assert settings.webhook_url is None and settings.webhook_secret is None

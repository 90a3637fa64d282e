"""deploy/: the systemd units, the container file and the deployment guide, checked here
without systemd or a container engine: the files say what the bot needs, agree with each
other and with the README, every setting they name exists, every command they show is one
`python -m bot` understands, and the nightly backup's own command lines do their job.
`systemd-analyze verify` runs too when the machine has it; nothing is built or pulled."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config import Settings, load_settings
from storage.db import Database

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
GUIDE = DEPLOY / "README.md"
UNITS = ("pnc-bot.service", "pnc-bot-backup.service", "pnc-bot-backup.timer")
VENV_PYTHON = "/opt/pnc-bot/.venv/bin/python"
BACKUP_DIR = "/var/backups/pnc-bot"
# Variables of the process, not of the bot: Python's and matplotlib's own.
NOT_SETTINGS = {"PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "MPLCONFIGDIR"}

Unit = dict[str, dict[str, list[str]]]


def parse_unit(path: Path) -> Unit:
    """A systemd unit file: sections of keys, each with its values in order (a key may repeat;
    an empty assignment resets it, as systemd does). Anything else is a syntax error."""
    unit: Unit = {}
    section: dict[str, list[str]] | None = None
    logical = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    for number, line in enumerate(logical.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if header := re.fullmatch(r"\[([A-Za-z]+)\]", line):
            assert header[1] not in unit, f"{path.name}:{number}: section [{header[1]}] twice"
            section = unit.setdefault(header[1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep and section is not None, f"{path.name}:{number}: not key=value: {line!r}"
        assert re.fullmatch(r"[A-Za-z]+", key.strip()), f"{path.name}:{number}: key {key!r}"
        values = section.setdefault(key.strip(), [])
        if value.strip():
            values.append(value.strip())
        else:
            values.clear()
    return unit


def unit(name: str) -> Unit:
    return parse_unit(DEPLOY / name)


def one(unit: Unit, section: str, key: str) -> str:
    values = unit.get(section, {}).get(key, [])
    assert len(values) == 1, f"[{section}] {key}: {values}"
    return values[0]


def systemd_unescaped(value: str) -> str:
    """What systemd runs for an Exec line: `%%` is `%` and `$$` is `$`."""
    return value.replace("%%", "%").replace("$$", "$")


def containerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Containerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Containerfile").read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """(language, text) of every fenced block, indented ones included."""
    return [
        (lang, re.sub(r"(?m)^" + re.escape(indent), "", body))
        for indent, lang, body in re.findall(r"(?ms)^([ \t]*)```(\w*)\n(.*?)^[ \t]*```", markdown)
    ]


def env_blocks() -> list[dict[str, str]]:
    """The guide's blocks made only of NAME=value lines: pieces of /etc/pnc-bot/env."""
    blocks = []
    for _, body in code_blocks(GUIDE.read_text(encoding="utf-8")):
        lines = [line for line in body.splitlines() if line.strip() and not line.startswith("#")]
        if lines and all(re.fullmatch(r"[A-Z][A-Z0-9_]*=\S*", line) for line in lines):
            blocks.append(dict(line.split("=", 1) for line in lines))
    return blocks


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


# ------------------------------------------------------------------------------ the service
def test_the_service_runs_python_m_bot_run_as_its_own_user_with_its_settings_file() -> None:
    service = unit("pnc-bot.service")
    run = service["Service"]
    assert shlex.split(one(service, "Service", "ExecStart")) == [VENV_PYTHON, "-m", "bot", "run"]
    assert one(service, "Service", "User") not in {"root", "0"}
    assert one(service, "Service", "Group") == one(service, "Service", "User")
    assert one(service, "Service", "EnvironmentFile") == "/etc/pnc-bot/env"
    assert one(service, "Service", "Restart") == "on-failure"
    assert "network-online.target" in " ".join(service["Unit"]["After"])
    assert one(service, "Install", "WantedBy") == "multi-user.target"
    # Hardened: read-only system but for the data directory, no home, no privileges.
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "PrivateDevices": "yes",
        "RestrictSUIDSGID": "yes",
        "CapabilityBoundingSet": None,
    }.items():
        assert key in run, key
        if value is not None:
            assert one(service, "Service", key) == value, key
    assert run["CapabilityBoundingSet"] == []  # an empty set: no capability at all
    writable = " ".join(run["ReadWritePaths"]).split()
    data_dir = one(service, "Service", "WorkingDirectory")
    assert writable == [data_dir]
    assert data_dir == "/var/lib/" + one(service, "Service", "StateDirectory")
    # The database the guide sets lies in that directory, the only one the bot may write.
    [database] = {block["DATABASE_PATH"] for block in env_blocks() if "DATABASE_PATH" in block}
    assert Path(database).parent == Path(data_dir)


def test_the_admin_wrapper_runs_the_same_python_as_the_service_user_with_its_settings() -> None:
    script = (DEPLOY / "pnc-bot-cli").read_text(encoding="utf-8")
    service = unit("pnc-bot.service")
    assert os.access(DEPLOY / "pnc-bot-cli", os.X_OK)
    assert subprocess.run(["sh", "-n", str(DEPLOY / "pnc-bot-cli")], check=False).returncode == 0
    assert f'exec {VENV_PYTHON} -m bot "$@"' in script
    assert f"sudo -u {one(service, 'Service', 'User')} " in script
    assert f". {one(service, 'Service', 'EnvironmentFile')}" in script
    assert f"cd {one(service, 'Service', 'WorkingDirectory')}" in script


# ------------------------------------------------------------------------------ backups
def test_the_nightly_timer_starts_the_backup_service() -> None:
    timer = unit("pnc-bot-backup.timer")
    assert one(timer, "Timer", "Unit") == "pnc-bot-backup.service"
    assert (DEPLOY / one(timer, "Timer", "Unit")).exists()
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d(:\d\d)?", one(timer, "Timer", "OnCalendar"))
    assert one(timer, "Timer", "Persistent") == "true"
    assert one(timer, "Install", "WantedBy") == "timers.target"


def test_the_backup_service_runs_as_the_bot_with_the_same_settings() -> None:
    backup, service = unit("pnc-bot-backup.service"), unit("pnc-bot.service")
    assert one(backup, "Service", "Type") == "oneshot"
    for key in ("User", "Group", "EnvironmentFile", "WorkingDirectory"):
        assert one(backup, "Service", key) == one(service, "Service", key), key
    assert one(backup, "Service", "NoNewPrivileges") == "yes"
    assert one(backup, "Service", "ProtectSystem") == "strict"
    # Reading a WAL database writes its -shm file: the data directory too.
    writable = " ".join(backup["Service"]["ReadWritePaths"]).split()
    assert sorted(writable) == sorted([one(service, "Service", "WorkingDirectory"), BACKUP_DIR])


async def test_the_backup_service_s_commands_write_a_dated_copy_and_keep_fourteen_days(
    db: Database, db_path: Path, tmp_path: Path
) -> None:
    """The unit's own ExecStart and ExecStartPost, run by sh against a live database, with
    the paths of this machine in place of the server's."""
    backup = unit("pnc-bot-backup.service")
    backups = tmp_path / "backups"
    backups.mkdir()

    def here(command: str) -> str:
        return (
            systemd_unescaped(command)
            .replace(VENV_PYTHON, sys.executable)
            .replace(BACKUP_DIR, str(backups))
        )

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "PNC_"))}
    env |= {"DATABASE_PATH": str(db_path), "PYTHONPATH": str(ROOT)}
    [start] = backup["Service"]["ExecStart"]
    argv = shlex.split(here(start))
    assert argv[:2] == ["/bin/sh", "-c"] and " -m bot backup " in argv[2]
    done = await asyncio.to_thread(
        subprocess.run,
        argv,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [copy] = backups.iterdir()
    named = re.fullmatch(r"pnc-(\d{4}-\d\d-\d\d)-\d{4}\.sqlite3", copy.name)
    assert named, copy.name
    # The shell's date, not ours: under faketime a child's clock restarts at the faked
    # moment, and at midnight the two may straddle a day.
    today = date.fromtimestamp(time.time())
    assert abs(date.fromisoformat(named[1]) - today) <= timedelta(days=1), copy.name
    copied = Database(copy)
    await copied.open(migrate=False)
    try:
        assert await copied.schema_version() == await db.schema_version()
    finally:
        await copied.close()

    # Then the clean-up: copies older than 14 days go, the new one and other files stay.
    old = backups / "pnc-2026-01-01-0230.sqlite3"
    kept_by_hand = backups / "avant-mise-a-jour-2026-01-01.sqlite3"
    for path in (old, kept_by_hand):
        path.write_bytes(b"")
        twenty_days_ago = time.time() - 20 * 86400
        os.utime(path, (twenty_days_ago, twenty_days_ago))
    # The file system stamps files with the machine's real time, `find` compares with its
    # own clock: under faketime those differ by years. Stamp the new copy with our clock.
    os.utime(copy, (time.time(), time.time()))
    [post] = backup["Service"]["ExecStartPost"]
    await asyncio.to_thread(subprocess.run, shlex.split(here(post)), check=True, timeout=30)
    assert sorted(p.name for p in backups.iterdir()) == sorted([copy.name, kept_by_hand.name])
    assert "-mtime +14" in post and "14 jours" in GUIDE.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ the container
def test_the_container_runs_the_readme_s_command_as_a_user_without_privileges() -> None:
    steps = containerfile()
    instructions = [name for name, _ in steps]
    assert steps[0] == ("FROM", "python:3.11-slim")
    [cmd] = [json.loads(args) for name, args in steps if name == "CMD"]
    assert cmd == ["python", "-m", "bot", "run"]
    # The README's « Les deux commandes » runs the bot the same way, after the demo's block.
    blocks = [block for _, block in code_blocks(readme_section("Les deux commandes"))]
    [block] = [b for b in blocks if b.rstrip().endswith("-m bot run")]
    run = shlex.split(block.split("&&")[-1])
    assert Path(run[0]).name == "python" and run[1:] == cmd[1:]
    assert blocks[0].rstrip().endswith("python -m bot demo")  # the first command, the demo
    # Installed with pip, then run by a user that is not root, who owns the data volume.
    assert any(name == "RUN" and "pip install" in args for name, args in steps)
    [user] = [args for name, args in steps if name == "USER"]
    assert user not in {"root", "0"} and instructions.index("USER") < instructions.index("CMD")
    env = {
        key: value
        for name, args in steps
        if name == "ENV"
        for key, value in (pair.split("=", 1) for pair in shlex.split(args))
    }
    [volume] = [json.loads(args) for name, args in steps if name == "VOLUME"]
    assert str(Path(env["DATABASE_PATH"]).parent) in volume
    assert any(name == "RUN" and f"chown {user}:{user} {volume[0]}" in args for name, args in steps)
    # A HEALTHCHECK would only say the process is alive, which the engine already knows.
    assert "HEALTHCHECK" not in instructions


def test_the_build_context_holds_only_what_the_container_file_copies() -> None:
    copied = {
        source for name, args in containerfile() if name == "COPY" for source in args.split()[:-1]
    }
    patterns = [
        line.strip()
        for line in (DEPLOY / "Containerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "**"  # everything out (.env, .venv, data, .git), then back in:
    assert {p[1:] for p in patterns if p.startswith("!")} == copied
    for needed in ("pyproject.toml", "README.md", "bot", "conversations", "storage"):
        assert needed in copied  # README.md: pyproject.toml names it as the readme


# ------------------------------------------------------------------------------ the guide
def names_in_deploy_files() -> set[str]:
    """Every environment variable the deploy files name: NAME=…, `NAME`, and ALL_CAPS_NAMES."""
    names: set[str] = set()
    for path in [GUIDE, DEPLOY / "Containerfile", DEPLOY / "pnc-bot-cli"]:
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"(?m)^\s*([A-Z][A-Z0-9_]*)=", text))
        names |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", text))
        names |= set(re.findall(r"\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b", text))
    for name, args in containerfile():
        if name == "ENV":
            names |= {pair.split("=", 1)[0] for pair in shlex.split(args)}
    for name in UNITS:
        for value in unit(name).get("Service", {}).get("Environment", []):
            names |= {pair.split("=", 1)[0] for pair in shlex.split(value)}
    return names


def test_every_setting_the_deploy_files_name_is_a_setting_of_the_bot() -> None:
    named = names_in_deploy_files()
    assert {"TELEGRAM_BOT_TOKEN", "DATABASE_PATH", "WEBHOOK_SECRET", "LOG_LEVEL"} <= named
    assert {"TELEGRAM_API_BASE_URL", "TELEGRAM_API_FILE_BASE_URL"} <= named
    example = set(
        re.findall(r"(?m)^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text("utf-8"))
    )
    settings = {field.upper() for field in Settings.model_fields}
    assert named - NOT_SETTINGS - example == set(), "missing from .env.example"
    assert named - NOT_SETTINGS - settings == set(), "not a setting of bot/config.py"


def test_the_settings_the_guide_shows_are_accepted_by_the_bot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocks = env_blocks()
    assert len(blocks) >= 3  # the settings file, the webhook, the self-hosted Bot API
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    merged: dict[str, str] = {}
    for block in blocks:
        merged |= block
    # The guide's webhook secret is an instruction; one of the allowed shape stands in.
    merged["WEBHOOK_SECRET"] = "0123456789abcdef0123456789abcdef"
    for name, value in merged.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(_env_file=None)
    assert settings.token().startswith("123456789:")
    assert settings.database_path == Path(blocks[0]["DATABASE_PATH"])
    assert settings.webhook_url == "https://bot.example.org"
    assert settings.telegram_api_base_url.startswith("http://127.0.0.1:8081/")


def commands_shown() -> list[list[str]]:
    """The arguments after `python -m bot` / `pnc-bot-cli` in the guide's code blocks, the
    README's « Déploiement » and the units' Exec lines, up to the end of the shell command."""
    guide = GUIDE.read_text(encoding="utf-8")
    texts = [body for _, body in code_blocks(guide)]
    texts += re.findall(r"`([^`\n]+)`", re.sub(r"(?ms)^[ \t]*```.*?^[ \t]*```", "", guide))
    texts.append(readme_section("Déploiement").replace("\n", " ").replace("`", "\n"))
    texts += [
        systemd_unescaped(line).replace("'", "\n")  # sh -c '…': the quoted script
        for name in UNITS
        for key, values in unit(name).get("Service", {}).items()
        if key.startswith("Exec")
        for line in values
    ]
    found = []
    for text in texts:
        text = re.sub(r"\$\(date [^)]*\)", "2026-11-26", re.sub(r"\\\n", " ", text))
        for line in text.splitlines():
            match = re.search(r"(?:-m bot|(?:^|\s)pnc-bot-cli) (.*)", line)
            if match is None:
                continue
            lexer = shlex.shlex(match[1], posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            words = []
            for word in lexer:
                if word in {"|", "||", "&&", ";", ">", ">>", "&"}:
                    break
                words.append(word)
            if "…" not in words:  # « python -m bot … »: any command
                found.append(words)
    return found


def test_every_command_the_guide_shows_is_one_the_bot_understands() -> None:
    commands = commands_shown()
    assert ["run"] in commands and ["run", "--webhook"] in commands
    assert ["invite", "--role", "coordinator", "--caf", "Caf de la Somme"] in commands
    assert sum(command[0] == "backup" for command in commands) >= 3
    parser = build_parser()
    for command in commands:
        try:
            parser.parse_args(command)
        except SystemExit:
            pytest.fail(f"python -m bot {shlex.join(command)}: not a command of the bot")


def test_the_proxy_passes_the_secret_header_over_tls_to_the_local_webhook() -> None:
    [nginx] = [body for lang, body in code_blocks(GUIDE.read_text("utf-8")) if lang == "nginx"]
    port = Settings.model_fields["webhook_port"].default
    listen = Settings.model_fields["webhook_listen"].default
    assert "listen 443 ssl;" in nginx and "ssl_certificate " in nginx
    assert "location = /telegram" in nginx  # bot/cli.py serves url_path "telegram"
    assert f"proxy_pass http://{listen}:{port}/telegram;" in nginx
    assert (
        "proxy_set_header X-Telegram-Bot-Api-Secret-Token $http_x_telegram_bot_api_secret_token;"
        in nginx
    )


def test_the_readme_links_the_guide() -> None:
    assert "(deploy/README.md)" in readme_section("Déploiement")


# ------------------------------------------------------------------------------ systemd itself
def test_systemd_analyze_verify_accepts_the_units(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed here")

    def verify(directory: Path) -> str:
        done = subprocess.run(
            ["systemd-analyze", "verify", *(f"./{name}" for name in UNITS)],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return (done.stdout + done.stderr).strip()

    # The venv's python exists only on the server: this machine's stands in for it.
    good, bad = tmp_path / "good", tmp_path / "bad"
    for directory in (good, bad):
        directory.mkdir()
        for name in UNITS:
            text = (DEPLOY / name).read_text(encoding="utf-8").replace(VENV_PYTHON, sys.executable)
            if directory is bad:
                text = text.replace("Restart=on-failure", "Restart=sometimes")
            (directory / name).write_text(text, encoding="utf-8")
    if not verify(bad):
        pytest.skip("systemd-analyze here does not report a bad value")
    assert verify(good) == ""


def test_the_lines_the_guide_quotes_are_the_ones_the_bot_prints() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    sources = {
        "Sauvegarde écrite : ": ROOT / "bot" / "cli.py",
        "Migration NNNN appliquée": ROOT / "storage" / "db.py",
        "plus récent que celui de ce programme": ROOT / "storage" / "db.py",
    }
    for quoted, source in sources.items():
        assert quoted in guide, quoted
        code = source.read_text(encoding="utf-8").replace("%04d", "NNNN")
        code = re.sub(r'"\s*\n\s*f?"', "", code)  # implicitly joined string literals
        assert quoted in code, (quoted, source.name)

"""The package layering, read from the import graph of the code (DESIGN.md §4).

Every `import` and `from … import` of `bot/`, `conversations/` and `storage/` counts, at any
depth: inside functions and under `if TYPE_CHECKING:` too, since a lazy import is still a
dependency. A forbidden edge fails the test with its file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "conversations", "storage")
# The product never reaches into these (the tests' clock, their fake Bot API…).
OUTSIDE = ("tests", "benchmarks")
WIRING = "bot.app"


@dataclass(frozen=True)
class Edge:
    path: Path
    line: int
    importer: str
    imported: str

    def describe(self, root: Path) -> str:
        return f"{self.path.relative_to(root)}:{self.line}: {self.importer} imports {self.imported}"


def layer(module: str) -> str:
    """The layer a module of ours belongs to."""
    for prefix, name in (
        ("bot.domain", "domain"),
        ("bot.ui", "ui"),
        ("bot.services", "services"),
        ("bot.jobs", "jobs"),
        ("conversations", "conversations"),
        ("storage", "storage"),
    ):
        if module == prefix or module.startswith(prefix + "."):
            return name
    return "wiring" if module == WIRING else "bot"


def forbidden(importer: str, imported: str) -> str | None:
    """Why `importer` may not import `imported`, or None when the edge is allowed."""
    if imported.split(".")[0] in OUTSIDE:
        return "the product imports nothing of tests/ or benchmarks/"
    source, target = layer(importer), layer(imported)
    if source == target and source != "bot":
        return None
    if source == "domain":
        return "bot/domain imports nothing of the project"
    if source == "storage" and target != "domain":
        return "storage imports only bot.domain"
    if source == "ui" and target in {"storage", "conversations", "jobs"}:
        return "bot/ui imports no storage, no conversations and no job"
    if target == "conversations" and source != "wiring":
        return f"only the wiring module ({WIRING}) imports conversations"
    if source == "conversations" and target in {"storage", "jobs"}:
        return "conversations reach the database through bot.services, never storage"
    if source == "services" and target == "jobs":
        return "bot/services imports no job (jobs call services)"
    return None


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(root, path)] = path
    return found


def edges(root: Path) -> Iterator[Edge]:
    """Each import of one of our modules by another, with where it is written."""
    known = modules(root)

    def ours(name: str) -> bool:
        return name.split(".")[0] in PACKAGES + OUTSIDE

    for importer, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if ours(alias.name):
                        yield Edge(path, node.lineno, importer, alias.name)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                if not ours(base):
                    continue
                for alias in node.names:
                    target = f"{base}.{alias.name}"
                    yield Edge(path, node.lineno, importer, target if target in known else base)


def violations(root: Path) -> list[str]:
    found = {
        f"{edge.describe(root)} — {reason}"
        for edge in edges(root)
        if (reason := forbidden(edge.importer, edge.imported)) is not None
    }
    return sorted(found)


def test_every_import_goes_in_an_allowed_direction() -> None:
    found = violations(ROOT)
    assert not found, "imports against the layering:\n" + "\n".join(found)


def test_the_graph_is_read_from_the_whole_code() -> None:
    """Not vacuous: the known edges of each layer are there."""
    seen = {(layer(e.importer), layer(e.imported)) for e in edges(ROOT)}
    for pair in [
        ("wiring", "conversations"),
        ("conversations", "services"),
        ("conversations", "ui"),
        ("services", "storage"),
        ("services", "ui"),
        ("jobs", "services"),
        ("storage", "domain"),
        ("ui", "domain"),
    ]:
        assert pair in seen, pair
    assert len(modules(ROOT)) > 80


def test_a_backwards_import_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    files = {
        "bot/__init__.py": "",
        "bot/app.py": "import conversations.visit\n",
        "bot/domain/__init__.py": "",
        "bot/domain/rules.py": "from storage import db\n",
        "bot/ui/__init__.py": "",
        "bot/ui/screen.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from storage.db import Database\n"
            "from bot.domain import rules\n"
        ),
        "bot/jobs/later.py": "def later():\n    from conversations import visit\n",
        "conversations/__init__.py": "",
        "conversations/visit.py": "from . import other\nfrom ..storage import db\n",
        "conversations/other.py": "",
        "storage/__init__.py": "",
        "storage/db.py": "from bot.ui import screen\nfrom bot.domain.rules import x\n",
        "bot/services/__init__.py": "",
        "bot/services/visits.py": "from bot.jobs import morning\nfrom storage import db\n",
        "bot/jobs/__init__.py": "",
        "bot/jobs/morning.py": "from bot.services import visits\n",
        "bot/cli.py": "import logging\nfrom tests.clocked_bot import FileClock\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)

    assert sorted(violations(tmp_path)) == sorted(
        [
            "bot/domain/rules.py:1: bot.domain.rules imports storage.db — "
            "bot/domain imports nothing of the project",
            "bot/ui/screen.py:3: bot.ui.screen imports storage.db — "
            "bot/ui imports no storage, no conversations and no job",
            "bot/jobs/later.py:2: bot.jobs.later imports conversations.visit — "
            "only the wiring module (bot.app) imports conversations",
            "storage/db.py:1: storage.db imports bot.ui.screen — storage imports only bot.domain",
            "conversations/visit.py:2: conversations.visit imports storage.db — "
            "conversations reach the database through bot.services, never storage",
            "bot/services/visits.py:1: bot.services.visits imports bot.jobs.morning — "
            "bot/services imports no job (jobs call services)",
            "bot/cli.py:2: bot.cli imports tests.clocked_bot — "
            "the product imports nothing of tests/ or benchmarks/",
        ]
    )

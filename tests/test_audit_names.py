"""Every action the code audits has its French name in the journal (🏢 Réseau → 📜 Journal)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.ui.screens.network import ACTION_NAMES

ROOT = Path(__file__).resolve().parents[1]
# `audit.record(tx, by, "person.moved", …)` and the CLI's `record_cli(…, "caf.created", …)`.
RECORDED = re.compile(
    r"""(?:audit\.record|record_cli|_audited)\([^"]*?"([a-z_]+\.[a-z_]+)\"""", re.S
)


def test_every_audited_action_has_a_french_name_in_the_journal() -> None:
    found: set[str] = set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("conversations/*.py")]:
        found |= set(RECORDED.findall(path.read_text(encoding="utf-8")))
    assert len(found) >= 40  # the pattern still finds the calls
    assert sorted(found - set(ACTION_NAMES)) == []

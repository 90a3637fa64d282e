"""Handlers only translate (issue #15): decode, authorise, one service, one screen.

Read from the code: every async function of a flow module in conversations/ that takes the
update or the context first (entry points, tap handlers, typed steps and what is left of
their helpers) is measured in lines, its docstring left out. Nine in ten fit in 25 lines and
none passes 40: a longer one is doing a service's or a screen's work.
"""

from __future__ import annotations

import ast
import statistics
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The machinery every flow shares, not flows.
INFRASTRUCTURE = {"__init__.py", "common.py", "taps.py", "text_input.py"}
P90_MAX = 25
MAX = 40


@dataclass(frozen=True)
class Handler:
    where: str
    lines: int


def handlers(folder: Path) -> list[Handler]:
    found = []
    for path in sorted(folder.glob("*.py")):
        if path.name in INFRASTRUCTURE:
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.AsyncFunctionDef):
                continue
            first = [a.arg for a in node.args.args[:2]]
            if first != ["update", "ctx"] and first[:1] != ["ctx"]:
                continue
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            body = node.body[0]
            if isinstance(body, ast.Expr) and isinstance(body.value, ast.Constant):
                lines -= (body.end_lineno or body.lineno) - body.lineno + 1
            found.append(Handler(f"{path.name}:{node.lineno} {node.name}", lines))
    return found


def test_handlers_are_short() -> None:
    found = handlers(ROOT / "conversations")
    assert len(found) > 100, "the handlers were not found"
    sizes = [h.lines for h in found]
    p90 = statistics.quantiles(sizes, n=10)[8]
    too_long = [f"{h.where}: {h.lines} lines" for h in found if h.lines > MAX]
    assert not too_long, f"handlers over {MAX} lines:\n" + "\n".join(too_long)
    assert p90 <= P90_MAX, f"p90 {p90:.0f} lines, over {P90_MAX}"


def test_the_measure_counts_what_it_says(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(
        "async def entry(update, ctx):\n"
        '    """Docstring, not counted."""\n'
        "    a = 1\n"
        "    return a\n"
        "async def tap(ctx, member, tap, message):\n"
        "    pass\n"
        "async def helper(db, x):\n"
        "    pass\n"
        "def sync(update, ctx):\n"
        "    pass\n"
    )
    (tmp_path / "common.py").write_text("async def send(update, ctx):\n    pass\n")
    assert handlers(tmp_path) == [Handler("flow.py:1 entry", 3), Handler("flow.py:5 tap", 2)]

"""The privacy screen on long and hostile texts: no catastrophic backtracking.

    python -m benchmarks.privacy [--runs 9] [--readme]

Each case is a text of the length Telegram allows (4,096 characters) made of what one of
the screen's patterns hunts for, repeated (« mot de passe » 300 times, « FR 76 » 650
times…): where a regular expression could backtrack, the time would explode. Each is
timed against the same screen on an ordinary text of the same length, measured in the same
run and interleaved with it; then each case at twice the length, to show the work grows
linearly (× 2, not × 4). These figures were a timed unit test once; speed is measured here.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from benchmarks import common
from bot.domain.privacy import screen

SIZE = 4000
#: How much slower than an ordinary text a hostile one may be, and the growth when doubled.
MAX_RATIO = 10.0
MAX_GROWTH = 3.0

ORDINARY = (
    "Madame venue pour sa demande de prime d'activité, accompagnée sur le simulateur. "
    "Réunion de l'équipe le 12/03/2026 à 10 h, salle 2. Imprimante en panne depuis lundi. "
)
CASES: dict[str, Callable[[int], str]] = {
    "ones": lambda n: ("1 " * n)[:n],
    "letters": lambda n: ("a " * n)[:n],
    "civilities": lambda n: ("Mme " * n)[:n],
    "passwords": lambda n: ("mot de passe " * n)[:n],
    "zeros": lambda n: "0" * n,
    "iban-heads": lambda n: ("FR 76 " * n)[:n],
    "births": lambda n: ("né le " * n)[:n],
    "dwellings": lambda n: ("bât B appt " * n)[:n],
    "spoken-mails": lambda n: (("x" * 60 + " sur ") * n)[:n],
}


def ordinary(n: int) -> str:
    return (ORDINARY * (n // len(ORDINARY) + 1))[:n]


def median_seconds(text: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        screen(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(runs: int) -> list[tuple[str, float, float, float, float]]:
    """(case, median at SIZE, baseline median, ratio, growth when doubled) per case."""
    rows = []
    for name, make in CASES.items():
        text, double, base = make(SIZE), make(2 * SIZE), ordinary(SIZE)
        case_times, base_times = [], []
        for _ in range(3):  # interleaved: the baseline meets the same load as the case
            case_times.append(median_seconds(text, runs))
            base_times.append(median_seconds(base, runs))
        case, baseline = statistics.median(case_times), statistics.median(base_times)
        growth = median_seconds(double, runs) / case
        rows.append((name, case, baseline, case / baseline, growth))
    return rows


def report(rows: list[tuple[str, float, float, float, float]], runs: int) -> str:
    lines = [
        "## The privacy screen on hostile texts (issue #17)",
        "",
        f"Command, from the repository's root: `.venv/bin/python -m benchmarks.privacy "
        f"--runs {runs} --readme`",
        "",
        f"- When: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {common.commit()}",
        f"- Machine: {common.machine()}",
        f"- `uptime`: `{common.uptime()}`",
        f"- Each case: {SIZE:,} characters; median of {runs} screenings, three times, "
        "interleaved with the baseline (the same screen on an ordinary text of the same "
        "length); « × 2 length »: the case at twice the length ÷ the case.",
        "",
        "| case | median | baseline | ÷ baseline | × 2 length | target | |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for name, case, baseline, ratio, growth in rows:
        ok = ratio <= MAX_RATIO and growth <= MAX_GROWTH
        lines.append(
            f"| {name} | {common.ms(case, 2)} | {common.ms(baseline, 2)} | × {ratio:.1f} "
            f"| × {growth:.1f} | ≤ × {MAX_RATIO:.0f}, ≤ × {MAX_GROWTH:.0f} "
            f"| {'pass' if ok else 'FAIL'} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="screenings per median")
    parser.add_argument("--readme", action="store_true", help="rewrite the README section")
    args = parser.parse_args(argv)
    section = report(measure(args.runs), args.runs)
    print(section)
    if args.readme:
        common.write_section("privacy", section)


if __name__ == "__main__":
    main()

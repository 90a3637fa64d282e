"""What differs between SQLite's SQL and PostgreSQL's, kept in one place.

The repositories write one statement for both engines: standard SQL that both accept, with
SQLite's placeholders (`:name` or `?`). The PostgreSQL engine (storage/postgres.py) hands
each statement text to `translate` once (the result is cached) and gets:

- `$1, $2, …` for the placeholders (a name used twice is one number), and the order in
  which the call's parameters are passed;
- SQLite's planner hints (`INDEXED BY index`) taken out: PostgreSQL's planner has no such
  thing and finds the same indexes by itself;
- `RETURNING id` added to an `INSERT INTO` a table with an `id` column, so that `execute`
  answers the new row's id as SQLite's `lastrowid` does (the tables that have one are read
  from the database when it opens);
- `x IN (SELECT value FROM json_each(:list))`, SQLite's way of passing a list as one JSON
  parameter, as PostgreSQL's `json_array_elements_text` (compared as text: the list may
  hold numbers or codes);
- SQLite's scalar `MAX(a, b)` and `MIN(a, b)` (two arguments or more) as `GREATEST` and
  `LEAST`; the aggregate `MAX(x)` stays;
- SQLite's comparison of a column with a parameter that may be NULL, `x IS :p` and
  `x IS NOT :p`, as `IS NOT DISTINCT FROM` and `IS DISTINCT FROM` (PostgreSQL's `IS` takes
  only NULL, TRUE or FALSE).

The rest of SQLite's functions the statements use (`SUM` of a comparison, `julianday`,
`instr`, `json_extract`, `strftime`) exist in PostgreSQL's schema under the same names,
made by storage/migrations/postgresql/0001_foundation.sql.

Anything else a repository needs is written portably (`CASE WHEN … THEN 1 ELSE 0 END`
rather than a boolean summed, `ON CONFLICT … DO NOTHING` rather than `INSERT OR IGNORE`,
`NULLS FIRST` where an order meets NULLs), never as a branch on the engine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INDEXED_BY = re.compile(r"\s+INDEXED\s+BY\s+[A-Za-z_][A-Za-z0-9_]*", re.IGNORECASE)
_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)
_JSON_LIST = re.compile(
    r"([A-Za-z_][A-Za-z0-9_.]*)(\s+(?:NOT\s+)?IN\s*)\(\s*SELECT\s+value\s+FROM\s+"
    r"json_each\(\s*(:[A-Za-z_][A-Za-z0-9_]*|\?)\s*\)\s*\)",
    re.IGNORECASE,
)
_MIN_MAX = re.compile(r"\b(MAX|MIN)\s*\(", re.IGNORECASE)
_IS_PARAMETER = re.compile(r"\bIS(\s+NOT)?\s+(?=:[A-Za-z_]|\?)", re.IGNORECASE)
_LITERAL = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement as PostgreSQL takes it."""

    sql: str
    # The parameters' names in `$n` order (named style), or None (`?` style: as given).
    names: tuple[str, ...] | None
    # True when `RETURNING id` was added: the statement's rows are the new ids.
    returns_id: bool

    def arguments(self, params: Mapping[str, Any] | Sequence[Any]) -> list[Any]:
        """The call's parameters in `$n` order."""
        if self.names is None:
            if isinstance(params, Mapping):
                raise TypeError("paramètres nommés pour une requête à « ? »")
            return list(params)
        if not isinstance(params, Mapping):
            if not self.names:
                return []
            raise TypeError("paramètres positionnels pour une requête à « :nom »")
        return [params[name] for name in self.names]


def placeholders(sql: str) -> tuple[str, tuple[str, ...] | None]:
    """`:name` and `?` turned into `$n`, outside string literals, quoted names, comments
    and PostgreSQL's own `::type` casts; the names in `$n` order (None for `?` style)."""
    out: list[str] = []
    names: dict[str, int] = {}
    positional = 0
    i, size = 0, len(sql)
    while i < size:
        char = sql[i]
        if char in "'\"":  # a literal or a quoted name: copied whole ('' and "" escape)
            end = i + 1
            while end < size:
                if sql[end] == char:
                    if end + 1 < size and sql[end + 1] == char:
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1])
            i = end + 1
        elif char == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = size if end < 0 else end
            out.append(sql[i:end])
            i = end
        elif char == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
        elif char == ":" and (match := _NAME.match(sql, i + 1)):
            name = match.group(0)
            number = names.setdefault(name, len(names) + 1)
            out.append(f"${number}")
            i = match.end()
        elif char == "?":
            positional += 1
            out.append(f"${positional}")
            i += 1
        else:
            out.append(char)
            i += 1
    if names and positional:
        raise ValueError("une requête mêle « :nom » et « ? »")
    return "".join(out), (tuple(names) if names or not positional else None)


def _json_lists(sql: str) -> str:
    return _JSON_LIST.sub(r"\1::text\2(SELECT json_array_elements_text(CAST(\3 AS json)))", sql)


def _scalar_min_max(sql: str) -> str:
    """`MAX(a, b)` → `GREATEST(a, b)` (and MIN → LEAST) where the call has a comma at its
    own level; an aggregate `MAX(x)` is left alone."""
    out, last = [], 0
    for match in _MIN_MAX.finditer(sql):
        depth, position, comma = 1, match.end(), False
        quote = ""
        while position < len(sql) and depth:
            char = sql[position]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            elif char == "," and depth == 1:
                comma = True
            position += 1
        if comma:
            name = "GREATEST" if match.group(1).upper() == "MAX" else "LEAST"
            out.append(sql[last : match.start()] + name + "(")
            last = match.end()
    out.append(sql[last:])
    return "".join(out)


def _null_safe_comparisons(sql: str) -> str:
    """`IS :p` → `IS NOT DISTINCT FROM :p`, `IS NOT :p` → `IS DISTINCT FROM :p`, outside
    string literals and quoted names."""

    def swap(match: re.Match[str]) -> str:
        return "IS DISTINCT FROM " if match.group(1) else "IS NOT DISTINCT FROM "

    out, last = [], 0
    for literal in _LITERAL.finditer(sql):
        out.append(_IS_PARAMETER.sub(swap, sql[last : literal.start()]) + literal.group(0))
        last = literal.end()
    out.append(_IS_PARAMETER.sub(swap, sql[last:]))
    return "".join(out)


def translate(sql: str, tables_with_id: frozenset[str]) -> Statement:
    """SQLite's statement text as PostgreSQL takes it (see the module's docstring)."""
    text = _null_safe_comparisons(_scalar_min_max(_json_lists(_INDEXED_BY.sub("", sql))))
    text, names = placeholders(text)
    insert = _INSERT_INTO.match(text)
    returns_id = bool(
        insert and insert.group(1).lower() in tables_with_id and not _RETURNING.search(text)
    )
    if returns_id:
        text = text.rstrip().rstrip(";") + " RETURNING id"
    return Statement(text, names, returns_id)

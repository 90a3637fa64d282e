"""Copies the Annexe 2 taxonomy from code into the database, where triggers check codes."""

from __future__ import annotations

from bot.domain import taxonomy
from storage.db import Conn


async def sync(conn: Conn) -> None:
    rows = [
        {
            "question": question.code,
            "code": option.code,
            "label": option.label,
            "position": position,
        }
        for question in taxonomy.QUESTIONS
        for position, option in enumerate(question.options)
    ]
    await conn.executemany(
        "INSERT INTO taxonomy_options (question, code, label, position)"
        " VALUES (:question, :code, :label, :position)"
        " ON CONFLICT (question, code) DO UPDATE SET label = excluded.label,"
        " position = excluded.position",
        rows,
    )

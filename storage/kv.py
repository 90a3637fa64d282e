"""Small cached facts (the bot's username from getMe, …)."""

from __future__ import annotations

from storage.db import Conn


async def get(conn: Conn, key: str) -> str | None:
    value: str | None = await conn.fetch_value(
        "SELECT value FROM kv WHERE key = :key", {"key": key}
    )
    return value


async def put(conn: Conn, key: str, value: str) -> None:
    await conn.execute(
        "INSERT INTO kv (key, value) VALUES (:key, :value)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {"key": key, "value": value},
    )

"""Read receipts of the Caf's broadcasts, for `python -m bot export broadcasts`.

One row per recipient of each sent broadcast: when it left, to whom, whether Telegram
delivered it, and — for a must-read notice — when the person tapped « J'ai lu ». The
message text itself is not repeated per row (it is in the bot); its first words identify it.
"""

from __future__ import annotations

import csv
import io
import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from openpyxl import Workbook

from bot.domain.models import Caf
from bot.exports.csv_format import CSV_BOM, csv_text
from bot.exports.events import Sheet
from storage.db import Conn

DELIVERY = {
    "sent": "reçu",
    "unreachable": "injoignable",
    "failed": "échec",
    "pending": "en attente",
    "sending": "en cours",
}
HEADER = (
    "diffusion n°",
    "envoyée le",
    "début du message",
    "à lire",
    "personne",
    "site",
    "envoi",
    "lu le",
)


@dataclass(frozen=True)
class ReceiptRow:
    announcement_id: int
    sent_at: datetime | None
    excerpt: str
    must_read: bool
    person: str
    site: str
    delivery: str
    read_at: datetime | None

    def cells(self) -> list[object]:
        return [
            self.announcement_id,
            self.sent_at,
            self.excerpt,
            "oui" if self.must_read else "non",
            self.person,
            self.site,
            self.delivery,
            self.read_at if self.must_read else None,
        ]


def _excerpt(body: str) -> str:
    text = re.sub(r"<[^>]+>", "", body).replace("&lt;", "<").replace("&gt;", ">")
    text = " ".join(text.replace("&amp;", "&").split())
    return text if len(text) <= 60 else text[:59] + "…"


def _local(value: str | None, zone: zoneinfo.ZoneInfo) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(zone) if value else None


async def collect(db: Conn, caf: Caf) -> list[ReceiptRow]:
    zone = zoneinfo.ZoneInfo(caf.timezone)
    rows = await db.fetch_all(
        "SELECT a.id, a.sent_at, a.body, a.must_read, p.display_name, p.telegram_user_id,"
        " s.name AS site, o.status AS delivery, r.read_at"
        " FROM announcements a JOIN announcement_recipients r ON r.announcement_id = a.id"
        " JOIN people p ON p.id = r.person_id LEFT JOIN partners s ON s.id = p.partner_id"
        " LEFT JOIN outbox o ON o.dedup_key = 'broadcast:' || a.id || ':p' || r.person_id"
        " WHERE a.caf_id = :caf ORDER BY a.id, s.name, p.display_name",
        {"caf": caf.id},
    )
    return [
        ReceiptRow(
            announcement_id=int(row["id"]),
            sent_at=_local(row["sent_at"], zone),
            excerpt=_excerpt(row["body"]),
            must_read=bool(row["must_read"]),
            person=row["display_name"] if row["telegram_user_id"] else "(personne effacée)",
            site=row["site"] or "",
            delivery=DELIVERY.get(row["delivery"] or "", "—"),
            read_at=_local(row["read_at"], zone),
        )
        for row in rows
    ]


def to_csv(rows: list[ReceiptRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([csv_text(value) for value in row.cells()])
    return CSV_BOM + out.getvalue()


def to_xlsx(rows: list[ReceiptRow], caf: Caf, generated_at: datetime) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = Sheet(workbook, "Lectures", [(title, 18) for title in HEADER])
    sheet.header(HEADER)
    for row in rows:
        sheet.row(row.cells())
    info = Sheet(workbook, "Export", [("", 24), ("", 48)])
    info.pair("Caf", caf.name)
    info.pair("Généré le", generated_at)
    info.pair("Par", "la ligne de commande (python -m bot export broadcasts)")
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

"""The directory in the national standard for places of digital mediation (issue #17): the
« schéma de données des lieux de médiation numérique », version 1.0.2 (La MedNum and ANCT,
tests/data/lieux-mediation-numerique.schema.json), so that a Caf can publish its sites to the
national cartography.

It reads what `bot.exports.directory.collect` reads (the active sites with the hours in force
and the coming closures) and the day each site last changed (`date_maj`).

Decisions:

* The fixed fields: `dispositif_programmes_nationaux` « Point d'accès numérique CAF »,
  `services` « Aide aux démarches administratives », `frais_a_charge` « Gratuit »,
  `itinerance` « Fixe », `source` the Caf's name.
* `horaires`: the hours in force and the coming closures in OpenStreetMap's syntax
  (bot/domain/opening_hours_osm.py); empty while no hours are declared.
* `pivot` is the site's SIRET or RNA; a site without it, its postcode, town or address (all
  required by the standard) is left out and named in `left_out`, for the coordinator to
  complete its card (🏢 Réseau → the site → ✏️ Modifier).
* `modalites_acces`: « Se présenter », and « Téléphoner » / « Contacter par mail » when the
  site gave its public phone / e-mail.
* The file is the standard's CSV: comma-separated, UTF-8 without BOM, every cell quoted. No
  formula escaping: a leading « + » is the phone's international form the schema wants, and
  the consumers are programs; every cell is still a plain quoted string.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import opening_hours_osm
from bot.domain.models import Caf, Partner
from bot.exports.directory import DirectoryEntry

SCHEMA_VERSION = "1.0.2"
PROGRAMME = "Point d'accès numérique CAF"
SERVICES = "Aide aux démarches administratives"
FIELDS: tuple[str, ...] = (
    "id",
    "pivot",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "latitude",
    "longitude",
    "typologie",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "presentation_resume",
    "presentation_detail",
    "source",
    "itinerance",
    "structure_parente",
    "date_maj",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "dispositif_programmes_nationaux",
    "formations_labels",
    "autres_formations_labels",
    "modalites_acces",
    "modalites_accompagnement",
    "fiche_acces_libre",
    "prise_rdv",
)


@dataclass(frozen=True)
class NationalFile:
    text: str
    rows: int
    left_out: tuple[str, ...]  # the titles of the sites missing a required field


def publishable(site: Partner) -> bool:
    """Whether the site has every field the standard requires that the bot may lack."""
    return bool(site.siret and site.postcode and site.city.strip() and site.address.strip())


def site_id(caf: Caf, site: Partner) -> str:
    """Stable from one file to the next, and unique across Cafs."""
    return f"caf{caf.id}-site{site.id}"


def row(entry: DirectoryEntry, caf: Caf, changed: datetime) -> dict[str, str]:
    site = entry.site
    closures = ((c.start_date, c.end_date) for c in entry.closures)
    access = ["Se présenter"]
    if site.phone:
        access.append("Téléphoner")
    if site.email:
        access.append("Contacter par mail")
    values = {
        "id": site_id(caf, site),
        "pivot": site.siret or "",
        "nom": site.name,
        "commune": site.city.strip(),
        "code_postal": site.postcode or "",
        "adresse": site.address.strip(),
        "telephone": site.phone or "",
        "courriels": site.email or "",
        "horaires": opening_hours_osm.opening_hours(entry.hours, closures),
        "source": caf.name,
        "itinerance": "Fixe",
        "date_maj": changed.astimezone(ZoneInfo(caf.timezone)).date().isoformat(),
        "services": SERVICES,
        "frais_a_charge": "Gratuit",
        "dispositif_programmes_nationaux": PROGRAMME,
        "modalites_acces": "|".join(access),
    }
    return {field: values.get(field, "") for field in FIELDS}


def to_national_csv(
    entries: Iterable[DirectoryEntry],
    caf: Caf,
    changes: Mapping[int, datetime],
    generated_at: datetime,
) -> NationalFile:
    """The standard's CSV of the publishable sites; `changes`: each site's last change
    (storage.partners.last_changes), the file's own time for a site not found there."""
    out = io.StringIO()
    writer = csv.DictWriter(out, FIELDS, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writeheader()
    rows, left_out = 0, []
    for entry in entries:
        if not publishable(entry.site):
            left_out.append(entry.site.title)
            continue
        writer.writerow(row(entry, caf, changes.get(entry.site.id, generated_at)))
        rows += 1
    return NationalFile(out.getvalue(), rows, tuple(left_out))

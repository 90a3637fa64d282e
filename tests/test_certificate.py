"""The « Certificat Point numérique Caf » (Annexe 1): the PDF, the Caf's logo, the command line.

The PDF is read back with pypdf, as a person's PDF reader would extract it. The command line
runs as the operator runs it (`python -m bot …` in a subprocess) on a real SQLite file: a
Caf on Paris time with three sites (one with no city, one whose label is withdrawn) and a
site of another Caf; the clock is set on New Year's Eve at 23:30 UTC, already 2027 in Paris.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from bot.domain.models import Partner, ReportingPeriod
from bot.domain.permissions import LabelStatus
from bot.exports import certificate as certificate_module
from bot.exports.certificate import (
    BLANK_TOWN,
    PAGE,
    LogoError,
    certificate_blocks,
    certificate_filename,
    certificate_pdf,
    check_logo,
    town_of,
)
from storage import cafs, partners
from storage.setup import storage
from tests.cli_runner import Run, run_cli

CAF = "Caf de la Somme"
OTHER_CAF = "Caf de l'Aisne"
# 23:30 UTC on 31 December: 00:30 on 1 January 2027 in Paris.
CLI_NOW = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
SEEDED_AT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
DAY = date(2027, 3, 1)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


def image_count(data: bytes) -> int:
    """Image XObjects drawn on the page (the logo is the only image a certificate has)."""
    page = PdfReader(io.BytesIO(data)).pages[0]
    xobjects = page["/Resources"].get_object().get("/XObject")
    if xobjects is None:
        return 0
    objects = xobjects.get_object()
    return sum(1 for name in objects if objects[name].get_object()["/Subtype"] == "/Image")


def make_image(path: Path, kind: str, size: tuple[int, int] = (300, 120)) -> Path:
    Image.new("RGB", size, (11, 79, 138)).save(path, kind)
    return path


def ham_pdf(**overrides: Any) -> bytes:
    values: dict[str, Any] = {
        "caf_name": CAF,
        "partner_name": "Mairie de Ham",
        "town": "Ham",
        "day": DAY,
        "logo_path": None,
        "caf_town": "Amiens",
    }
    values.update(overrides)
    return certificate_pdf(**values)


# ------------------------------------------------------------------------------ the PDF
def test_the_certificate_names_the_caf_the_site_the_town_and_the_date() -> None:
    data = ham_pdf()
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "Certificat « Point numérique Caf »" in text
    assert "La Caf de la Somme a attribué le label « Point numérique Caf » à" in text
    assert "Mairie de Ham" in text
    assert "Ce label reconnaît la compétence de Mairie de Ham pour accompagner" in text
    assert "le partenaire est formé et évalué chaque année" in text
    assert "Fait à Amiens, le 1er mars 2027" in text  # the Caf's town, where it signs
    assert "Le directeur de la Caf de la Somme" in text
    assert "Pour le partenaire, Mairie de Ham" in text


def test_the_site_s_town_is_under_its_name_and_never_where_the_certificate_is_made() -> None:
    text = pdf_text(ham_pdf(town="Ham", caf_town="Amiens"))
    assert "Mairie de Ham Ham" in text  # [nom] then [lieu]
    assert "Fait à Ham" not in text


@pytest.mark.parametrize("unset", [None, "", "  "])
def test_a_caf_without_a_town_gets_a_line_to_fill_by_hand(unset: str | None) -> None:
    text = pdf_text(ham_pdf(caf_town=unset))
    assert f"Fait à {BLANK_TOWN}, le 1er mars 2027" in text
    assert "Fait à Ham" not in text


def test_the_pdf_says_what_it_is_and_who_made_it_in_its_metadata() -> None:
    metadata = PdfReader(io.BytesIO(ham_pdf())).metadata
    assert metadata is not None
    assert metadata.title == "Certificat Point numérique Caf — Mairie de Ham"
    assert metadata.author == CAF


def test_the_same_inputs_give_the_same_bytes() -> None:
    assert ham_pdf() == ham_pdf()
    assert ham_pdf() != ham_pdf(day=date(2027, 3, 2))


@pytest.mark.parametrize(
    "name",
    [
        "Centre social <b>Cœur</b> & Co",
        "Espace « L’Œuvre » d’Étréchy — Sœurs & Frères",
        "Maison <script>alert(1)</script> &amp; &lt;",
    ],
)
def test_names_with_markup_accents_and_ligatures_print_as_typed(name: str) -> None:
    text = pdf_text(ham_pdf(partner_name=name, caf_name="Caf de l'Aisne & <i>co</i>"))
    assert name in text
    assert "La Caf de l'Aisne & <i>co</i> a attribué" in text
    assert "■" not in text


def test_characters_helvetica_lacks_never_print_as_black_boxes() -> None:
    text = pdf_text(ham_pdf(partner_name="🏠 Maison\u202fFrance Services Ő\nSomme", town="Ham"))
    assert "■" not in text
    assert "Maison France Services O Somme" in text  # the newline too: one line


def test_a_very_long_name_still_fits_on_one_page() -> None:
    name = "Espace France Services de la communauté de communes " * 6
    text = pdf_text(ham_pdf(partner_name=name))
    assert "Fait à Amiens" in text and "Le directeur de la Caf de la Somme" in text


def test_the_template_is_cut_into_styled_blocks() -> None:
    blocks = certificate_blocks(caf_name=CAF, partner_name="Mairie de Ham", town="Ham", day=DAY)
    assert [block.style for block in blocks] == [
        "titre", "texte", "nom", "lieu", "texte", "texte", "date", "signatures",
    ]  # fmt: skip
    assert blocks[-1].lines == (
        "Le directeur de la Caf de la Somme",
        "Pour le partenaire, Mairie de Ham",
    )


def test_the_town_is_the_city_else_the_address_else_the_name() -> None:
    base = Partner(
        id=1,
        caf_id=1,
        name="Mairie de Ham",
        city="Ham",
        address="1 place de l'Hôtel de Ville",
        label_status=LabelStatus.ACTIVE,
        label_status_since=SEEDED_AT,
        label_reason=None,
        convention_start=None,
        created_at=SEEDED_AT,
    )
    assert town_of(base) == "Ham"
    assert town_of(base.model_copy(update={"city": " "})) == "1 place de l'Hôtel de Ville"
    assert town_of(base.model_copy(update={"city": "", "address": ""})) == "Mairie de Ham"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Mairie de Ham", "certificat-point-numerique-caf-mairie-de-ham.pdf"),
        ("Cœur d’Étréchy & <b>Co</b>", "certificat-point-numerique-caf-coeur-d-etrechy-b-co-b.pdf"),
        ("🏠", "certificat-point-numerique-caf.pdf"),
    ],
)
def test_the_file_name_is_safe_ascii(name: str, expected: str) -> None:
    assert certificate_filename(name) == expected


# ------------------------------------------------------------------------------ the logo
def test_a_png_or_jpeg_logo_is_drawn(tmp_path: Path) -> None:
    for kind, suffix in (("PNG", "png"), ("JPEG", "jpg")):
        logo = make_image(tmp_path / f"logo.{suffix}", kind)
        data = ham_pdf(logo_path=logo)
        assert image_count(data) == 1, kind
        assert "Mairie de Ham" in pdf_text(data)
    assert image_count(ham_pdf()) == 0


@pytest.mark.parametrize("spoil", ["missing", "garbage", "truncated"])
def test_a_logo_gone_or_spoilt_since_it_was_set_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, spoil: str
) -> None:
    logo = make_image(tmp_path / "logo.png", "PNG")
    if spoil == "missing":
        logo.unlink()
    elif spoil == "garbage":
        logo.write_bytes(b"not an image at all")
    else:
        logo.write_bytes(logo.read_bytes()[:60])
    with caplog.at_level(logging.WARNING, logger="bot.exports.certificate"):
        data = ham_pdf(logo_path=logo)
    assert image_count(data) == 0
    assert "Fait à Amiens, le 1er mars 2027" in pdf_text(data)
    assert "logo ignoré" in caplog.text and str(logo) in caplog.text


def test_check_logo_accepts_png_and_jpeg_and_says_why_it_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_image(tmp_path / "logo.png", "PNG")
    assert check_logo(Path("logo.png")) == tmp_path / "logo.png"  # stored absolute
    make_image(tmp_path / "logo.jpeg", "JPEG")
    assert check_logo(tmp_path / "logo.jpeg") == tmp_path / "logo.jpeg"
    with pytest.raises(LogoError, match="introuvable"):
        check_logo(tmp_path / "absent.png")
    with pytest.raises(LogoError, match="introuvable"):
        check_logo(tmp_path)  # a folder
    (tmp_path / "notes.png").write_text("Logo de la Caf")
    with pytest.raises(LogoError, match="n'est pas une image PNG ou JPEG"):
        check_logo(tmp_path / "notes.png")
    make_image(tmp_path / "logo.gif", "GIF")
    with pytest.raises(LogoError, match="image GIF : le logo doit être en PNG ou en JPEG"):
        check_logo(tmp_path / "logo.gif")


# ------------------------------------------------------------------------------ command line
@dataclass(frozen=True)
class Seeded:
    db_path: Path
    ids: dict[str, int]


async def _seed(db_path: Path) -> Seeded:
    async with storage(db_path) as db, db.transaction() as tx:
        caf_ids = {}
        for name in (CAF, OTHER_CAF):
            caf = await cafs.add(
                tx,
                name=name,
                period=ReportingPeriod.MONTHLY,
                timezone="Europe/Paris",
                notify_chat_id=None,
                now=SEEDED_AT,
            )
            caf_ids[name] = caf.id
        ids = {}
        sites = (
            ("ham", "Mairie de Ham", "Ham", "", CAF),
            ("albert", "Espace & <b>Albert</b>", "", "Place de la République, Albert", CAF),
            ("roye", "Mairie de Roye", "Roye", "", CAF),
            ("laon", "Mairie de Laon", "Laon", "", OTHER_CAF),
        )
        for key, name, city, address, caf_name in sites:
            site = await partners.add(
                tx, caf_id=caf_ids[caf_name], name=name, city=city, address=address, now=SEEDED_AT
            )
            ids[key] = site.id
        await partners.set_label(
            tx, ids["roye"], status=LabelStatus.WITHDRAWN, reason="test", now=SEEDED_AT, by=None
        )
    return Seeded(db_path, ids)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return asyncio.run(_seed(tmp_path_factory.mktemp("certificate") / "db.sqlite3"))


def _copy(seeded: Seeded, workdir: Path) -> None:
    for path in seeded.db_path.parent.glob("db.sqlite3*"):
        shutil.copy(path, workdir / path.name)


def certify(key_or_id: int | str, seeded: Seeded, *more: str) -> tuple[str, ...]:
    partner = seeded.ids[key_or_id] if isinstance(key_or_id, str) else key_or_id
    return ("export", "certificate", "--caf", CAF, "--partner", str(partner), *more)


@pytest.fixture(scope="module")
def cli(seeded: Seeded, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Commands that change nothing, a few at a time, on a copy of the seeded database."""
    workdir = tmp_path_factory.mktemp("cli")
    _copy(seeded, workdir)
    (workdir / "notes.txt").write_text("pas une image")
    make_image(workdir / "logo.gif", "GIF")
    commands = {
        "ham": certify("ham", seeded, "--output", "out/ham.pdf"),
        "albert dated": certify("albert", seeded, "--date", "2027-03-15"),
        "unknown": certify(999, seeded, "--output", "x.pdf"),
        "other caf": certify("laon", seeded, "--output", "x.pdf"),
        "withdrawn": certify("roye", seeded, "--output", "x.pdf"),
        "bad date": certify("ham", seeded, "--date", "15/03/2027", "--output", "x.pdf"),
        "logo missing": ("cafs", "set", CAF, "--logo", "absent.png"),
        "logo text": ("cafs", "set", CAF, "--logo", "notes.txt"),
        "logo gif": ("cafs", "set", CAF, "--logo", "logo.gif"),
    }
    with ThreadPoolExecutor(max_workers=5) as pool:
        runs = dict(
            zip(
                commands,
                pool.map(lambda argv: run_cli(workdir, CLI_NOW, *argv), commands.values()),
                strict=True,
            )
        )
    return {"runs": runs, "workdir": workdir}


def test_the_command_writes_the_certificate_dated_today_in_the_cafs_time_zone(
    cli: dict[str, Any],
) -> None:
    run: Run = cli["runs"]["ham"]
    assert run.returncode == 0, run.describe()
    assert run.stdout == b""
    assert run.stderr.splitlines() == [
        "Export écrit : out/ham.pdf (certificat de Mairie de Ham (Ham), daté du 01/01/2027)"
    ], run.describe()
    text = pdf_text((cli["workdir"] / "out" / "ham.pdf").read_bytes())
    assert "La Caf de la Somme a attribué" in text
    # 23:30 UTC is already 2027 in Paris; the Caf has not given its town: a line to fill.
    assert f"Fait à {BLANK_TOWN}, le 1er janvier 2027" in text


def test_the_command_writes_to_stdout_with_the_date_given_and_the_address_for_town(
    cli: dict[str, Any],
) -> None:
    run: Run = cli["runs"]["albert dated"]
    assert run.returncode == 0, run.describe()
    assert run.stderr == "", run.describe()
    text = pdf_text(run.stdout)
    assert "Espace & <b>Albert</b> Place de la République, Albert" in text
    assert f"Fait à {BLANK_TOWN}, le 15 mars 2027" in text


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("unknown", "Erreur : site inconnu : 999 (voir python -m bot partners list)"),
        ("other caf", "Erreur : le site {laon} n'est pas un site de Caf de la Somme"),
        (
            "withdrawn",
            "Erreur : le label de Mairie de Roye (Roye) est retiré : pas de certificat",
        ),
        ("bad date", "Erreur : --date attend une date AAAA-MM-JJ (reçu : 15/03/2027)"),
    ],
)
def test_no_certificate_for_an_unknown_foreign_or_withdrawn_site_or_a_bad_date(
    cli: dict[str, Any], seeded: Seeded, key: str, message: str
) -> None:
    run: Run = cli["runs"][key]
    assert run.returncode == 1, run.describe()
    assert run.stdout == b""
    assert run.stderr.splitlines() == [message.format(**seeded.ids)], run.describe()
    assert not (cli["workdir"] / "x.pdf").exists()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("logo missing", "fichier introuvable : {workdir}/absent.png"),
        ("logo text", "{workdir}/notes.txt n'est pas une image PNG ou JPEG"),
        ("logo gif", "{workdir}/logo.gif est une image GIF : le logo doit être en PNG ou en JPEG"),
    ],
)
def test_a_logo_that_is_not_a_png_or_jpeg_is_refused_when_it_is_set(
    cli: dict[str, Any], key: str, message: str
) -> None:
    run: Run = cli["runs"][key]
    workdir = Path(cli["workdir"]).resolve()
    assert run.returncode == 1, run.describe()
    assert run.stderr.splitlines() == ["Erreur : --logo : " + message.format(workdir=workdir)], (
        run.describe()
    )


async def _logo_of(db_path: Path) -> str | None:
    async with storage(db_path) as db:
        caf = await cafs.get_by_name(db, CAF)
        assert caf is not None
        return caf.logo_path


def test_a_logo_set_prints_on_certificates_and_none_removes_it(
    seeded: Seeded, tmp_path: Path
) -> None:
    _copy(seeded, tmp_path)
    (tmp_path / "images").mkdir()
    make_image(tmp_path / "images" / "caf.png", "PNG")

    def run(*argv: str) -> Run:
        done = run_cli(tmp_path, CLI_NOW, *argv)
        assert done.returncode == 0, done.describe()
        return done

    assert run("cafs", "set", CAF, "--logo", "images/caf.png").stdout.decode() == (
        f"Caf modifiée : {CAF}\n"
    )
    logo = (tmp_path / "images" / "caf.png").resolve()
    assert asyncio.run(_logo_of(tmp_path / "db.sqlite3")) == str(logo)
    assert image_count(run(*certify("ham", seeded)).stdout) == 1

    logo.write_bytes(b"spoilt")  # the file changed on the server since
    spoilt = run(*certify("ham", seeded))
    assert image_count(spoilt.stdout) == 0
    assert "logo ignoré" in spoilt.stderr and str(logo) in spoilt.stderr
    assert "Mairie de Ham" in pdf_text(spoilt.stdout)

    run("cafs", "set", CAF, "--logo", "none")
    assert asyncio.run(_logo_of(tmp_path / "db.sqlite3")) is None
    assert image_count(run(*certify("ham", seeded)).stdout) == 0


# ------------------------------------------------------------------------------ the site's logo
_DRAWN = re.compile(rb"([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm\s*/(\S+) Do")


def logo_boxes(data: bytes) -> list[tuple[float, float]]:
    """Where each image is drawn on the page: its left and right edges, in points."""
    page = PdfReader(io.BytesIO(data)).pages[0]
    contents = page.get_contents()
    assert contents is not None
    return [
        (float(x), float(x) + float(width))
        for width, _, x, _, _ in _DRAWN.findall(contents.get_data())
    ]


def test_the_site_s_logo_is_drawn_top_right_beside_the_caf_s(tmp_path: Path) -> None:
    caf_logo = make_image(tmp_path / "caf.png", "PNG")
    site_logo = make_image(tmp_path / "site.jpg", "JPEG", (200, 200))
    alone = ham_pdf(partner_logo_path=site_logo)
    assert image_count(alone) == 1
    [(left, right)] = logo_boxes(alone)
    assert PAGE[0] / 2 < left < right < PAGE[0]  # the right half: the Caf's place stays free
    both = ham_pdf(logo_path=caf_logo, partner_logo_path=site_logo)
    assert image_count(both) == 2
    caf_box, site_box = logo_boxes(both)
    assert caf_box[1] < PAGE[0] / 2 < site_box[0]
    assert "Fait à Amiens, le 1er mars 2027" in pdf_text(both)


def test_a_site_logo_gone_since_it_was_set_leaves_the_caf_s(tmp_path: Path) -> None:
    caf_logo = make_image(tmp_path / "caf.png", "PNG")
    data = ham_pdf(logo_path=caf_logo, partner_logo_path=tmp_path / "gone.png")
    assert image_count(data) == 1
    [(left, _)] = logo_boxes(data)
    assert left < PAGE[0] / 2


def test_a_logo_too_heavy_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logo = make_image(tmp_path / "logo.png", "PNG")
    monkeypatch.setattr(certificate_module, "LOGO_MAX_BYTES", logo.stat().st_size - 1)
    with pytest.raises(LogoError, match=r"pèse 0,1 Mo : le logo doit faire au plus 0 Mo"):
        check_logo(logo)


async def _caf_city_and_site_logo(db_path: Path, site: int) -> tuple[str | None, str | None]:
    async with storage(db_path) as db:
        caf = await cafs.get_by_name(db, CAF)
        partner = await partners.get(db, site)
        assert caf is not None and partner is not None
        return caf.city, partner.logo_path


def test_the_caf_s_town_and_the_site_s_logo_set_from_the_command_line(
    seeded: Seeded, tmp_path: Path
) -> None:
    _copy(seeded, tmp_path)
    make_image(tmp_path / "caf.png", "PNG")
    make_image(tmp_path / "mairie.jpg", "JPEG")
    ham = seeded.ids["ham"]

    def run(*argv: str) -> Run:
        done = run_cli(tmp_path, CLI_NOW, *argv)
        assert done.returncode == 0, done.describe()
        return done

    assert run("cafs", "set", CAF, "--city", "  Amiens ").stdout.decode() == (
        f"Caf modifiée : {CAF}\n"
    )
    run("cafs", "set", CAF, "--logo", "caf.png")
    assert run("partners", "set", str(ham), "--logo", "mairie.jpg").stdout.decode() == (
        "Site modifié : Mairie de Ham (Ham) (logo ajouté)\n"
    )
    logo = str((tmp_path / "mairie.jpg").resolve())
    assert asyncio.run(_caf_city_and_site_logo(tmp_path / "db.sqlite3", ham)) == ("Amiens", logo)
    made = run(*certify("ham", seeded)).stdout
    assert "Fait à Amiens, le 1er janvier 2027" in pdf_text(made)
    assert image_count(made) == 2
    # Another site of the Caf has the Caf's logo only.
    assert image_count(run(*certify("albert", seeded)).stdout) == 1

    run("partners", "set", str(ham), "--logo", "none")
    run("cafs", "set", CAF, "--city", "none")
    assert asyncio.run(_caf_city_and_site_logo(tmp_path / "db.sqlite3", ham)) == (None, None)
    made = run(*certify("ham", seeded)).stdout
    assert f"Fait à {BLANK_TOWN}, le 1er janvier 2027" in pdf_text(made)
    assert image_count(made) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("partners", "set", "999", "--logo", "none"), "site inconnu : 999"),
        (("partners", "set", "{ham}", "--logo", "logo.gif"), "le logo doit être en PNG ou en JPEG"),
        (("partners", "set", "{ham}", "--logo", "absent.png"), "--logo : fichier introuvable"),
        (("cafs", "set", CAF, "--city", " "), "--city attend un nom de ville"),
        (("cafs", "set", CAF, "--city", "x" * 81), "(au plus 80 caractères) ou « none »"),
    ],
)
def test_a_bad_site_logo_or_caf_town_is_refused(
    seeded: Seeded, tmp_path: Path, argv: tuple[str, ...], message: str
) -> None:
    _copy(seeded, tmp_path)
    make_image(tmp_path / "logo.gif", "GIF")
    done = run_cli(tmp_path, CLI_NOW, *(arg.format(**seeded.ids) for arg in argv))
    assert done.returncode == 1, done.describe()
    [line] = done.stderr.splitlines()
    assert line.startswith("Erreur : ") and message in line, done.describe()
    assert asyncio.run(_caf_city_and_site_logo(tmp_path / "db.sqlite3", seeded.ids["ham"])) == (
        None,
        None,
    )

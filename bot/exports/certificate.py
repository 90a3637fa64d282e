"""The « Certificat Point numérique Caf » of Annexe 1, as a one-page PDF a site can display.

`certificate_pdf` is a pure function of the names, the towns and the date (and of the logo
files, when set): the command line (`export certificate`) and the coordinator's site card
both call it. `certificate_filename` names the attachment.

Decisions:

* The wording lives in `bot/ui/templates/certificate_text.txt.j2`, plain text rendered with
  autoescaping off, so that a Caf can reword it without touching code. It is cut into blocks
  at blank lines, each with a style (`[titre]`, `[nom]`, …). Every block is escaped for
  reportlab's paragraph markup only after rendering: a name with `&` or `<b>` prints as
  typed, and so does a `&` in the template's own text.
* Annexe 1 only has the director of the Caf sign; the convention itself has both parties
  sign, and the template has a column for each. A Caf that wants Annexe 1's single
  signature deletes a line of the template.
* Fonts are reportlab's standard Helvetica family, in WinAnsi encoding: it covers French
  (accents, œ, ’, « ») and needs no font file. A character it lacks (another alphabet, an
  emoji) is written as its closest Latin form, or dropped, rather than printed as a black
  box; thin and narrow no-break spaces become ordinary no-break spaces.
* « Fait à » is the Caf's town (`cafs set --city`, « ⚙️ Ma Caf »), where its director
  signs, not the site's: the site's town is printed under its name. A Caf without a town
  gets a line to fill by hand, never a guess.
* The Caf's logo (PNG or JPEG, `cafs set --logo`) is drawn top left, the site's (`partners
  set ID --logo`, « LOGO DU PARTENAIRE » in Annexe 1) top right, each scaled to fit the
  same box and keeping its proportions. Each is checked when it is set; a file gone or
  spoilt since is skipped with a warning in the log, never a failed certificate.
* The text is shrunk to fit the page when names are very long: always one page.
* `invariant=1`: no creation date or random id in the file, so the same inputs give the
  same bytes (the date printed is the one given).
* reportlab and Pillow are imported inside the functions that draw or read an image: the
  bot names the file and the town itself and has the PDF drawn in a child process
  (bot/offload.py), so that they never enter its memory. Lengths are in points, as
  reportlab's units give them.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import jinja2

from bot.domain.models import Partner
from bot.ui import formatting

if TYPE_CHECKING:
    from reportlab.lib.colors import Color
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Flowable

log = logging.getLogger(__name__)

TEMPLATE = "certificate_text.txt.j2"
TITLE = "Certificat Point numérique Caf"
FILENAME_PREFIX = "certificat-point-numerique-caf"
FILENAME_MAX = 60
LOGO_FORMATS = {"PNG": "PNG", "JPEG": "JPEG"}
# A logo is printed in a box of a few centimetres: a larger file is a photo sent by mistake,
# and every certificate would carry it.
LOGO_MAX_BYTES = 5_000_000
CM = 72.0 / 2.54  # reportlab.lib.units.cm
MM = CM * 0.1
PAGE = (297 * MM, 210 * MM)  # reportlab's landscape(A4)
BORDER = 1 * CM
LOGO_BOX = (5.5 * CM, 2.8 * CM)  # width, height
MARGIN = 2.5 * CM
# « Fait à ____, le … » when the Caf has not given its town: room to write it by hand.
BLANK_TOWN = "_" * 24
BLUE = "#0B4F8A"
GREY = "#4A4A4A"

# Plain text: the names are escaped for the PDF after rendering, not as HTML.
_TEXTS = jinja2.Environment(
    loader=jinja2.PackageLoader("bot.ui", "templates"),
    autoescape=False,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_TEXTS.filters.update(de=formatting.de)

_BLOCK_STYLE = re.compile(r"^\[(\w+)\]$")
_SPACES = str.maketrans({"\u202f": "\u00a0", "\u2009": "\u00a0", "\u2007": "\u00a0"})
# What NFKD leaves whole but a reader expects spelled out in an ASCII file name.
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "’": "'"})


class LogoError(ValueError):
    """The file given as a Caf's logo cannot be used; the message is French, for the operator."""


@dataclass(frozen=True)
class Block:
    """One paragraph of the certificate and how it looks (a style name of the template)."""

    style: str
    lines: tuple[str, ...]


# Each block style of the template: reportlab ParagraphStyle values, over these defaults
# (centred, black text unless a colour is given).
STYLE_DEFAULTS: dict[str, object] = {
    "fontName": "Helvetica",
    "fontSize": 14,
    "leading": 19,
    "spaceAfter": 10,
}
STYLES: dict[str, dict[str, object]] = {
    "titre": {
        "fontName": "Helvetica-Bold",
        "fontSize": 30,
        "leading": 36,
        "textColor": BLUE,
        "spaceAfter": 20,
    },
    "texte": {},
    "nom": {
        "fontName": "Helvetica-Bold",
        "fontSize": 24,
        "leading": 29,
        "textColor": BLUE,
        "spaceAfter": 2,
    },
    "lieu": {"fontSize": 15, "leading": 19, "textColor": GREY, "spaceAfter": 14},
    "date": {
        "fontName": "Helvetica-Oblique",
        "fontSize": 13,
        "leading": 17,
        "spaceBefore": 6,
        "spaceAfter": 14,
    },
    "signatures": {"fontName": "Helvetica-Bold", "fontSize": 12, "leading": 15},
}
DEFAULT_STYLE = "texte"


def _colour(hex_code: str) -> Color:
    from reportlab.lib.colors import HexColor

    return HexColor(hex_code)


@functools.cache
def _paragraph_style(name: str) -> ParagraphStyle:
    from reportlab.lib.colors import black
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle

    values = {**STYLE_DEFAULTS, **STYLES[name]}
    colour = values.pop("textColor", None)
    return ParagraphStyle(
        name,
        alignment=TA_CENTER,
        textColor=_colour(str(colour)) if colour else black,
        **values,
    )


# ------------------------------------------------------------------------------ inputs
def check_logo(path: Path) -> Path:
    """The absolute path of a readable PNG or JPEG image, else a `LogoError` saying why."""
    from PIL import Image, UnidentifiedImageError

    absolute = path.expanduser().resolve()
    if not absolute.is_file():
        raise LogoError(f"fichier introuvable : {absolute}")
    size = absolute.stat().st_size
    if size > LOGO_MAX_BYTES:
        weight = f"{math.ceil(size / 100_000) / 10:.1f}".replace(".", ",")  # rounded up
        limit = LOGO_MAX_BYTES // 1_000_000
        raise LogoError(f"{absolute} pèse {weight} Mo : le logo doit faire au plus {limit} Mo")
    try:
        with Image.open(absolute) as image:
            kind = image.format
            image.load()  # decodes it all: a truncated file fails here, not in a certificate
    except UnidentifiedImageError:
        raise LogoError(f"{absolute} n'est pas une image PNG ou JPEG") from None
    except OSError as exc:
        raise LogoError(f"{absolute} est illisible ({exc.strerror or exc})") from None
    except Exception as exc:  # Pillow's refusals (decompression bomb, …) are not OSErrors
        raise LogoError(f"{absolute} est illisible ({type(exc).__name__})") from None
    if kind not in LOGO_FORMATS:
        raise LogoError(f"{absolute} est une image {kind} : le logo doit être en PNG ou en JPEG")
    return absolute


def town_of(partner: Partner) -> str:
    """The town printed on the certificate: the site's city, else its address, else its name."""
    return partner.city.strip() or partner.address.strip() or partner.name.strip()


def certificate_filename(partner_name: str) -> str:
    """« Mairie de Ham » → `certificat-point-numerique-caf-mairie-de-ham.pdf` (ASCII only)."""
    ascii_text = (
        unicodedata.normalize("NFKD", partner_name.translate(_LIGATURES))
        .encode("ascii", "ignore")
        .decode("ascii")
        .lower()
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:FILENAME_MAX].rstrip("-")
    return f"{FILENAME_PREFIX}-{slug}.pdf" if slug else f"{FILENAME_PREFIX}.pdf"


# ------------------------------------------------------------------------------ text
def _one_line(value: str) -> str:
    """Names are printed on one line: a newline typed in a name must not start a block."""
    return " ".join(winansi(value).split())


def winansi(text: str) -> str:
    """`text` with only what Helvetica's WinAnsi encoding can print (see the module's notes)."""
    text = text.translate(_SPACES)
    kept = []
    for char in text:
        if _printable(char):
            kept.append(char)
            continue
        if char.isspace():  # a newline or a tab typed in a name: a space
            kept.append(" ")
            continue
        # « Ł » → « L », « ő » → « o »: the letter without what WinAnsi lacks.
        near = "".join(c for c in unicodedata.normalize("NFKD", char) if _printable(c))
        kept.append(near)
    return "".join(kept)


def _printable(char: str) -> bool:
    if unicodedata.category(char) in ("Mn", "Cc", "Cf", "Co", "Cs"):
        return False
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def certificate_blocks(
    *, caf_name: str, partner_name: str, town: str, day: date, caf_town: str | None = None
) -> list[Block]:
    """The template rendered and cut into styled blocks (blank lines separate them).
    `town`: the site's; `caf_town`: where the certificate is made (None or blank: a line)."""
    signed_at = _one_line(caf_town or "")
    text = _TEXTS.get_template(TEMPLATE).render(
        caf=_one_line(caf_name),
        partner=_one_line(partner_name),
        town=_one_line(town),
        caf_town=signed_at or BLANK_TOWN,
        day=formatting.date_fr(day, weekday=False),
    )
    blocks = []
    for chunk in re.split(r"\n\s*\n", text):
        lines = [line.strip() for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        style = DEFAULT_STYLE
        marker = _BLOCK_STYLE.match(lines[0])
        if marker is not None:
            lines = lines[1:]
            style = marker.group(1).lower()
            if style not in STYLES:
                log.warning("Certificat : style [%s] inconnu du modèle, lu comme [texte]", style)
                style = DEFAULT_STYLE
        if lines:
            blocks.append(Block(style, tuple(winansi(line).strip() for line in lines)))
    return blocks


# ------------------------------------------------------------------------------ PDF
def certificate_pdf(
    *,
    caf_name: str,
    partner_name: str,
    town: str,
    day: date,
    logo_path: Path | None,
    caf_town: str | None = None,
    partner_logo_path: Path | None = None,
) -> bytes:
    """The certificate for one site, one A4 landscape page. `logo_path` is the Caf's logo,
    `partner_logo_path` the site's; `caf_town` the Caf's town (« Fait à »)."""
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Frame, KeepInFrame

    blocks = certificate_blocks(
        caf_name=caf_name, partner_name=partner_name, town=town, day=day, caf_town=caf_town
    )
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE, invariant=1, pageCompression=1, lang="fr-FR")
    canvas.setTitle(f"{TITLE} — {_one_line(partner_name)}")
    canvas.setAuthor(_one_line(caf_name))
    canvas.setSubject(f"Label Point numérique Caf de {_one_line(partner_name)}, {_one_line(town)}")
    canvas.setCreator("Point numérique Caf — l'assistant")
    _draw_border(canvas)
    for path, right in ((logo_path, False), (partner_logo_path, True)):
        logo = _load_logo(path) if path is not None else None
        if logo is not None:
            _draw_logo(canvas, logo, right=right)
    width, height = PAGE
    top = height - BORDER - 0.6 * CM - LOGO_BOX[1]  # below the logo's box, logo or not
    bottom = BORDER + 0.8 * CM
    frame = Frame(MARGIN, bottom, width - 2 * MARGIN, top - bottom, showBoundary=0)
    content = [_flowable(block, frame.width) for block in blocks]
    frame.addFromList(
        [KeepInFrame(frame.width, frame.height, content, mode="shrink", vAlign="MIDDLE")], canvas
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _flowable(block: Block, width: float) -> Flowable:
    from reportlab.platypus import Paragraph

    style = _paragraph_style(block.style)
    if block.style == "signatures":
        return _signatures(block.lines, style, width)
    return Paragraph(escape(" ".join(block.lines)), style)


def _signatures(lines: tuple[str, ...], style: ParagraphStyle, width: float) -> Flowable:
    """One column per signatory, each with room to sign and a line under it."""
    from reportlab.platypus import KeepInFrame, Paragraph, Spacer, Table, TableStyle

    gap = 1.5 * CM
    count = len(lines)
    column = (width - gap * (count - 1)) / count
    headings: list[object] = []
    widths: list[float] = []
    for index, line in enumerate(lines):
        if index:
            headings.append("")
            widths.append(gap)
        headings.append(Paragraph(escape(line), style))
        widths.append(column)
    table = Table([headings, [""] * len(headings)], colWidths=widths, rowHeights=[None, 2.2 * CM])
    commands: list[tuple[object, ...]] = [("VALIGN", (0, 0), (-1, -1), "TOP")]
    for index in range(0, len(headings), 2):
        commands.append(("LINEBELOW", (index, 1), (index, 1), 0.6, _colour(GREY)))
    table.setStyle(TableStyle(commands))
    return KeepInFrame(width, 10 * CM, [Spacer(1, 0.2 * CM), table], mode="shrink")


def _draw_border(canvas: Canvas) -> None:
    width, height = PAGE
    canvas.saveState()
    canvas.setStrokeColor(_colour(BLUE))
    canvas.setLineWidth(2.5)
    canvas.rect(BORDER, BORDER, width - 2 * BORDER, height - 2 * BORDER)
    canvas.setLineWidth(0.8)
    inset = BORDER + 0.25 * CM
    canvas.rect(inset, inset, width - 2 * inset, height - 2 * inset)
    canvas.restoreState()


def _load_logo(path: Path) -> ImageReader | None:
    """The logo ready to draw, or None (logged) when the file is gone or spoilt since it was set."""
    from reportlab.lib.utils import ImageReader

    try:
        reader = ImageReader(str(check_logo(path)))
        reader.getSize()
    except LogoError as exc:
        log.warning("Certificat : logo ignoré, %s", exc)
        return None
    except Exception as exc:  # reportlab's own reading; a certificate without logo still helps
        log.warning("Certificat : logo ignoré, %s illisible (%s)", path, type(exc).__name__)
        return None
    return reader


def _draw_logo(canvas: Canvas, logo: ImageReader, *, right: bool) -> None:
    """The Caf's logo in the top left box, the site's (`right`) in the top right one."""
    width, height = PAGE
    box_width, box_height = LOGO_BOX
    inset = BORDER + 0.6 * CM
    left = width - inset - box_width if right else inset
    bottom = height - BORDER - 0.4 * CM - box_height
    canvas.drawImage(
        logo,
        left,
        bottom,
        width=box_width,
        height=box_height,
        mask="auto",
        preserveAspectRatio=True,
        anchor="ne" if right else "nw",
    )

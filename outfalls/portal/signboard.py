"""Outfall sign boards (入河排污口标志牌) as print-ready PDF: a pure drawing library, no models.

The sign follows GB 15562.1-1995 (environmental protection graphic signs, discharge outlets) and the 2003
outfall sign specification as summarised in STANDARDS.md "Signs": an information sign (提示标志), green
ground with a white symbol and white 黑体 text; wall-mounted 480×300 mm, standing 420×420 mm. It carries the
wastewater-outlet symbol (drawn here as vector paths), the outlet's name, code, type, responsible entity,
pollutant types, the supervising bureau, the 举报 phone number and a QR code (segno, vector modules with a
four-module quiet zone) that opens the outfall's public page.

Public interface (the portal codes against it):

- ``SignContent``: the texts of one sign (all ``str``).
- ``SIZES``: ``{"wall": (480, 300), "standing": (420, 420)}``, width × height in millimetres.
- ``render_sign(content, size="wall") -> bytes``: a one-page PDF at true size.
- ``render_batch(contents, size="wall", crop_marks=True) -> bytes``: one sign per page at true size; with
  crop marks the page is enlarged to hold a 3 mm bleed and the marks, and carries TrimBox/BleedBox.
- ``SignFontMissing``: raised when the CJK font is not installed (names the Debian package).

The font is Noto Sans CJK SC Bold from Debian's ``fonts-noto-cjk``. Debian ships it with PostScript (CFF)
outlines, which reportlab cannot embed, so each document embeds a subset of only the characters it uses,
converted to TrueType outlines with fontTools (``_font_for``). Text never overflows its box: it wraps and
shrinks until it fits (``_fit``).
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import shutil
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import segno
from reportlab.lib.colors import Color, black, white
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as ReportlabTTFont
from reportlab.pdfgen.canvas import Canvas

__all__ = ["SIZES", "SignContent", "SignFontMissing", "render_batch", "render_sign"]

# Width × height of each sign in millimetres (STANDARDS.md "Signs").
SIZES: dict[str, tuple[int, int]] = {"wall": (480, 300), "standing": (420, 420)}

# Safety green of an information sign (GB 2893 green), as printed: sRGB #00843D.
GREEN = Color(0x00 / 255, 0x84 / 255, 0x3D / 255)
BLEED_MM = 3.0  # the green ground runs this far past the trim edge in a batch
MARK_OFFSET_MM = 3.0  # crop marks start this far outside the trim edge (at the bleed edge)
MARK_LENGTH_MM = 8.0
MARGIN_MM = MARK_OFFSET_MM + MARK_LENGTH_MM + 2.0  # page margin around the trim box in a batch

ROW_LABELS = (
    ("code", "排污口编号"),
    ("type_label", "排污口类型"),
    ("entity", "责任主体"),
    ("pollutants", "主要污染物"),
    ("supervisor", "监督单位"),
    ("phone", "举报电话"),
)
SYMBOL_NAME = "污水排放口"  # the name GB 15562.1 prints under the wastewater-outlet symbol
QR_CAPTION = "扫码查看排污口信息"
FONT_PACKAGE = "fonts-noto-cjk"
FONT_FAMILY = "Noto Sans CJK SC"
FONT_KNOWN_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
)


@dataclass(frozen=True)
class SignContent:
    """The texts printed on one sign; ``url`` is what the QR code encodes (the outfall's public page)."""

    name: str
    code: str
    type_label: str
    entity: str
    pollutants: str
    supervisor: str
    phone: str
    url: str


class SignFontMissing(RuntimeError):
    """The sign's CJK font is not installed."""


# --- font -------------------------------------------------------------------------------------------------


def _collection_index(path: str, family: str = FONT_FAMILY) -> int | None:
    """The index of ``family`` inside a font file or collection (``None`` when it is not there)."""
    from fontTools.ttLib import TTCollection, TTFont

    try:
        if path.lower().endswith((".ttc", ".otc")):
            fonts = TTCollection(path, lazy=True).fonts
        else:
            fonts = [TTFont(path, lazy=True)]
    except Exception:
        return None
    for index, font in enumerate(fonts):
        if font["name"].getDebugName(1) == family:
            return index
    return None


def find_font(fc_match: str = "fc-match", known_paths: Iterable[str] = FONT_KNOWN_PATHS) -> tuple[str, int]:
    """(path, index in the collection) of Noto Sans CJK SC Bold: asks fontconfig, then tries known paths.

    Raises ``SignFontMissing`` naming the Debian package when neither finds it.
    """
    candidates = []
    if shutil.which(fc_match):
        result = subprocess.run(
            [fc_match, "-f", "%{file}", f"{FONT_FAMILY}:style=Bold"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(result.stdout.strip())
    candidates.extend(known_paths)
    for path in candidates:
        if Path(path).is_file():
            index = _collection_index(path)
            if index is not None:
                return path, index
    raise SignFontMissing(
        f"找不到标识牌字体 {FONT_FAMILY} Bold（黑体）：请安装 Debian 软件包 {FONT_PACKAGE}"
        f"（apt-get install {FONT_PACKAGE}）。"
    )


@functools.lru_cache(maxsize=1)
def _font_file() -> tuple[str, int]:
    return find_font()


def _cff_to_glyf(font) -> None:
    """Replace a font's CFF outlines by quadratic TrueType ones (fontTools' otf2ttf recipe)."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import newTable

    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    font["loca"] = newTable("loca")
    font["glyf"] = glyf = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = glyphs
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf.compile(font)
    hmtx = font["hmtx"]
    for name, glyph in glyf.glyphs.items():
        if hasattr(glyph, "xMin"):
            hmtx[name] = (hmtx[name][0], glyph.xMin)
    font["maxp"] = maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for field in (
        "maxZones",
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    maxp.compile(font)
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = glyph_order
    font.sfntVersion = "\x00\x01\x00\x00"


FONT_CACHE_SIZE = 32  # font subsets kept registered with reportlab; older ones are unregistered
_fonts: OrderedDict[frozenset[str], str] = OrderedDict()
# One document at a time: a subset is registered with reportlab process-wide, and evicting it must not pull
# a font from under a document still being drawn. Drawing is CPU-bound Python, so little is lost.
_lock = threading.RLock()


def _font_for(chars: frozenset[str]) -> str:
    """A TrueType subset of the sign font holding ``chars``, registered with reportlab; returns its name.

    The last ``FONT_CACHE_SIZE`` subsets are kept (a batch, or a sign rendered again, reuses its subset);
    older ones are unregistered, so a long-running worker does not grow with every sign it draws.
    """
    with _lock:
        if chars in _fonts:
            _fonts.move_to_end(chars)
            return _fonts[chars]
        name = _make_font(chars)
        _fonts[chars] = name
        while len(_fonts) > FONT_CACHE_SIZE:
            _, old = _fonts.popitem(last=False)
            # reportlab has no public way to unregister a font: drop it from its two registries
            pdfmetrics._fonts.pop(old, None)
            pdfmetrics._dynFaceNames.pop(old, None)
        return name


def _make_font(chars: frozenset[str]) -> str:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    path, index = _font_file()
    font = TTFont(path, fontNumber=index, lazy=True)  # lazy: only the glyphs kept are decompiled
    options = subset.Options()
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx", "DSIG"]
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in chars])
    subsetter.subset(font)
    _cff_to_glyf(font)
    digest = hashlib.sha1("".join(sorted(chars)).encode()).hexdigest()[:12]
    name = f"NotoSansCJKsc-Bold-{digest}"
    # reportlab keys a font face by its PostScript name: give each subset its own
    for record in font["name"].names:
        if record.nameID == 6:
            record.string = name
    buffer = io.BytesIO()
    font.save(buffer)
    buffer.seek(0)
    pdfmetrics.registerFont(ReportlabTTFont(name, buffer))
    return name


@functools.lru_cache(maxsize=1)
def _covered() -> frozenset[int]:
    """The code points the sign font has a glyph for."""
    from fontTools.ttLib import TTFont

    path, index = _font_file()
    return frozenset(TTFont(path, fontNumber=index, lazy=True).getBestCmap())


def _chars_of(contents: Iterable[SignContent]) -> frozenset[str]:
    """Every character the signs print. A character the font cannot draw is refused, naming the field:
    a sign is made of metal, and a missing-glyph box on it would be a costly misprint."""
    chars = set(SYMBOL_NAME + QR_CAPTION + "：" + "".join(label for _, label in ROW_LABELS))
    chars.update(" 0123456789")
    covered = _covered()
    for content in contents:
        for field, label in (("name", "排污口名称"), *ROW_LABELS):
            value = {c for c in getattr(content, field) if c.isprintable()}
            missing = sorted(c for c in value if ord(c) not in covered and not c.isspace())
            if missing:
                raise ValueError(
                    f"“{content.name}”的{label}含有标识牌字体 {FONT_FAMILY} 无法显示的字符：{''.join(missing)}"
                )
            chars.update(value)
    return frozenset(c for c in chars if not c.isspace() or c == " ")


# --- text fitting -----------------------------------------------------------------------------------------

# a Latin word or number, with a trailing hyphen or slash (a code may break after one); a run of spaces;
# any other single character
_TOKEN = re.compile(r"[A-Za-z0-9._@:+]+[-/]?|[-/]|\s+|.", re.S)
_NO_LINE_START = set("，。、；：？！）》」』】,.;:?!)%")


def _tokens(text: str) -> list[str]:
    """Latin words and numbers stay whole where they fit (codes break after a hyphen); CJK text breaks
    between any two characters."""
    return _TOKEN.findall(text)


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy wrap of ``text`` at ``size`` points into lines no wider than ``width`` points."""

    def w(s):
        return pdfmetrics.stringWidth(s, font, size)

    lines, line = [], ""
    for token in _tokens(text):
        if w(line + token) <= width:
            line += token
            continue
        if token.isspace():
            lines.append(line)
            line = ""
            continue
        if line and w(token) <= width:
            # keep closing punctuation with the character before it
            if token[0] in _NO_LINE_START and len(line) > 1:
                lines.append(line[:-1])
                line = line[-1] + token
            else:
                lines.append(line.rstrip())
                line = token
            continue
        for char in token:  # a token wider than the line: break it between characters
            if line and w(line + char) > width:
                lines.append(line.rstrip())
                line = char
            else:
                line += char
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines


def _fit(
    text: str, font: str, width: float, height: float, start: float, max_lines: int, leading: float = 1.2
) -> tuple[float, list[str]]:
    """The largest size (points, from ``start`` down) at which ``text`` fits ``width``×``height``.

    Wraps into at most ``max_lines`` lines; past that it keeps shrinking, so the text never leaves its box.
    """
    text = " ".join(text.split())  # line breaks and tabs typed into a field print as one space
    size = start
    while True:
        lines = _wrap(text, font, size, width)
        fits_width = all(pdfmetrics.stringWidth(line, font, size) <= width for line in lines)
        if fits_width and len(lines) <= max_lines and size * (1 + leading * (len(lines) - 1)) <= height:
            return size, lines
        if size <= 1:
            return size, lines
        size = max(1, size * 0.96)


def _draw_lines(canvas: Canvas, lines, font, size, x, y_top, height, leading=1.2, align="left", width=0.0):
    """Draw ``lines`` vertically centred in the band from ``y_top`` down ``height`` points."""
    block = size * (1 + leading * (len(lines) - 1))
    # Noto CJK: the ideographic em box runs from -0.12 em to 0.88 em around the baseline.
    baseline = y_top - (height - block) / 2 - 0.88 * size
    canvas.setFont(font, size)
    for line in lines:
        if align == "center":
            canvas.drawCentredString(x + width / 2, baseline, line)
        else:
            canvas.drawString(x, baseline, line)
        baseline -= size * leading


# --- the symbol and the QR code ---------------------------------------------------------------------------


def _draw_symbol(canvas: Canvas, x: float, y: float, side: float) -> None:
    """The GB 15562.1 wastewater outlet (污水排放口) symbol, white on green, in a ``side`` square.

    Drawn after the published graphic, not traced from the standard's artwork: a square frame; a pipe
    coming in from the left through a flange joint and bending down to its mouth above the receiving
    water; drops falling beside it; the water as three waves.
    """
    u = side / 100.0  # the symbol is designed on a 100×100 grid

    def p(px, py):
        return x + px * u, y + py * u

    canvas.saveState()
    canvas.setFillColor(GREEN)
    canvas.rect(x, y, side, side, stroke=0, fill=1)
    canvas.setStrokeColor(white)
    canvas.setFillColor(white)
    canvas.setLineWidth(4 * u)
    canvas.rect(*p(2, 2), 96 * u, 96 * u, stroke=1, fill=0)
    # the pipe: a horizontal body from the frame to the flange
    canvas.rect(*p(4, 62), 36 * u, 14 * u, stroke=0, fill=1)
    canvas.rect(*p(40, 57), 6 * u, 24 * u, stroke=0, fill=1)  # the flange
    # the bend: a band leaving the flange and turning down to the mouth
    path = canvas.beginPath()
    path.moveTo(*p(46, 76))
    path.curveTo(*p(64, 76), *p(74, 62), *p(76, 38))
    path.lineTo(*p(64, 38))
    path.curveTo(*p(63, 54), *p(57, 62), *p(46, 62))
    path.close()
    canvas.drawPath(path, stroke=0, fill=1)
    # drops beside the falling water
    for cx, cy, r in ((82, 52, 2.6), (56, 50, 2.2), (86, 42, 2.0)):
        canvas.circle(*p(cx, cy), r * u, stroke=0, fill=1)
    # the receiving water: three waves across the bottom
    canvas.setLineWidth(4 * u)
    canvas.setLineCap(1)
    for wy in (30, 20, 10):
        path = canvas.beginPath()
        path.moveTo(*p(10, wy))
        for i in range(4):
            x0 = 10 + i * 20
            path.curveTo(*p(x0 + 5, wy + 5), *p(x0 + 15, wy - 5), *p(x0 + 20, wy))
        canvas.drawPath(path, stroke=1, fill=0)
    canvas.restoreState()


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, side: float) -> None:
    """A QR code of ``url`` as vector modules: black on a white square that includes the quiet zone."""
    qr = segno.make(url, error="m", micro=False)
    border = 4
    rows = list(qr.matrix_iter(scale=1, border=border))
    module = side / len(rows)
    canvas.saveState()
    canvas.setFillColor(white)
    canvas.rect(x, y, side, side, stroke=0, fill=1)
    canvas.setFillColor(black)
    path = canvas.beginPath()
    for r, row in enumerate(rows):
        top = y + side - r * module
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                # overlap rows by a hair so no hairline gaps show between modules
                path.rect(x + start * module, top - module - 0.01, (c - start) * module, module + 0.02)
            else:
                c += 1
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


# --- layouts ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    """Boxes of one sign size, in millimetres from the sign's lower-left corner."""

    symbol: tuple[float, float, float]  # x, y, side
    symbol_name: tuple[float, float, float, float]  # x, y, width, height
    name: tuple[float, float, float, float]
    name_lines: int
    rule: tuple[float, float, float]  # x0, x1, y: a white line under the name
    rows: tuple[float, float, float, float]
    qr: tuple[float, float, float]
    qr_caption: tuple[float, float, float, float]
    divider: tuple[float, float, float] | None  # x, y0, y1: a white line between columns


LAYOUTS = {
    "wall": _Layout(
        symbol=(28, 160, 120),
        symbol_name=(20, 134, 136, 20),
        name=(172, 222, 288, 60),
        name_lines=3,
        rule=(172, 460, 214),
        rows=(172, 18, 288, 190),
        qr=(46, 34, 84),
        qr_caption=(20, 18, 136, 12),
        divider=(160, 20, 280),
    ),
    "standing": _Layout(
        symbol=(20, 270, 130),
        symbol_name=(20, 245, 130, 21),
        name=(166, 246, 234, 154),
        name_lines=4,
        rule=(20, 400, 237),
        rows=(20, 20, 380, 210),
        qr=(300, 36, 100),
        qr_caption=(290, 20, 120, 12),
        divider=None,
    ),
}


def _draw_sign(canvas: Canvas, content: SignContent, size: str, font: str, ox: float, oy: float) -> None:
    """Draw one sign with its lower-left trim corner at (``ox``, ``oy``) points."""
    width, height = SIZES[size]
    layout = LAYOUTS[size]

    def box(b):
        return tuple(v * mm for v in b)

    def at(x, y):
        return ox + x * mm, oy + y * mm

    canvas.saveState()
    canvas.setFillColor(GREEN)
    canvas.rect(ox, oy, width * mm, height * mm, stroke=0, fill=1)
    # a white frame inset from the edge
    canvas.setStrokeColor(white)
    canvas.setLineWidth(1.6 * mm)
    canvas.roundRect(*at(7, 7), (width - 14) * mm, (height - 14) * mm, 6 * mm, stroke=1, fill=0)

    sx, sy, side = layout.symbol
    _draw_symbol(canvas, *at(sx, sy), side * mm)

    canvas.setFillColor(white)
    x, y, w, h = box(layout.symbol_name)
    fsize, lines = _fit(SYMBOL_NAME, font, w, h, h, 1)
    _draw_lines(canvas, lines, font, fsize, ox + x, oy + y + h, h, align="center", width=w)

    x, y, w, h = box(layout.name)
    fsize, lines = _fit(content.name, font, w, h, 22 * mm, layout.name_lines, leading=1.15)
    _draw_lines(canvas, lines, font, fsize, ox + x, oy + y + h, h, leading=1.15)

    canvas.setLineWidth(0.8 * mm)
    x0, x1, ry = layout.rule
    canvas.line(*at(x0, ry), *at(x1, ry))
    if layout.divider:
        dx, dy0, dy1 = layout.divider
        canvas.line(*at(dx, dy0), *at(dx, dy1))

    qx, qy, qside = layout.qr
    _draw_qr(canvas, content.url, *at(qx, qy), qside * mm)
    canvas.setFillColor(white)
    x, y, w, h = box(layout.qr_caption)
    fsize, lines = _fit(QR_CAPTION, font, w, h, h, 1)
    _draw_lines(canvas, lines, font, fsize, ox + x, oy + y + h, h, align="center", width=w)

    _draw_rows(canvas, content, layout, font, ox, oy)
    canvas.restoreState()


def _draw_rows(
    canvas: Canvas, content: SignContent, layout: _Layout, font: str, ox: float, oy: float
) -> None:
    """The labelled rows; a row beside the QR code is narrowed to keep clear of it."""
    rx, ry, rw, rh = (v * mm for v in layout.rows)
    qx, qy, qside = (v * mm for v in layout.qr)
    row_h = rh / len(ROW_LABELS)
    label_size = min(13 * mm, row_h * 0.42)
    label_w = max(pdfmetrics.stringWidth(label + "：", font, label_size) for _, label in ROW_LABELS)
    gap = 4 * mm
    for i, (field, label) in enumerate(ROW_LABELS):
        top = ry + rh - i * row_h
        bottom = top - row_h
        right = rx + rw
        if bottom < qy + qside + gap and rx < qx < right:  # the row runs beside the QR code
            right = qx - gap
        value_w = right - (rx + label_w)
        _draw_lines(canvas, [label + "："], font, label_size, ox + rx, oy + top, row_h)
        start = label_size * (1.15 if field == "phone" else 1.0)
        fsize, lines = _fit(getattr(content, field), font, value_w, row_h * 0.92, start, 2, leading=1.15)
        _draw_lines(canvas, lines, font, fsize, ox + rx + label_w, oy + top, row_h, leading=1.15)


def _crop_marks(canvas: Canvas, ox: float, oy: float, width: float, height: float) -> None:
    """Corner crop marks on the trim lines, outside the bleed, in a hairline black."""
    off, length = MARK_OFFSET_MM * mm, MARK_LENGTH_MM * mm
    canvas.saveState()
    canvas.setStrokeColor(black)
    canvas.setLineWidth(0.25)
    for x in (ox, ox + width):
        for y in (oy, oy + height):
            dx = -1 if x == ox else 1
            dy = -1 if y == oy else 1
            canvas.line(x + dx * off, y, x + dx * (off + length), y)  # horizontal mark on the trim line y
            canvas.line(x, y + dy * off, x, y + dy * (off + length))  # vertical mark on the trim line x
    canvas.restoreState()


def _check(size: str) -> None:
    if size not in SIZES:
        raise ValueError(f"未知的标识牌尺寸“{size}”：可选 {', '.join(SIZES)}")


def _canvas(buffer, title: str, font: str) -> Canvas:
    # the sign font as the initial font, so the file names no other (unembedded) font
    canvas = Canvas(buffer, pageCompression=1, invariant=1, initialFontName=font)
    canvas.setTitle(title)
    canvas.setCreator("入河排污口监督管理平台")
    return canvas


def render_sign(content: SignContent, size: str = "wall") -> bytes:
    """A one-page PDF of ``content``'s sign at true size (``SIZES[size]`` millimetres, no bleed)."""
    _check(size)
    with _lock:
        return _render_sign(content, size)


def _render_sign(content: SignContent, size: str) -> bytes:
    font = _font_for(_chars_of([content]))
    width, height = SIZES[size]
    buffer = io.BytesIO()
    canvas = _canvas(buffer, f"{content.name} 标识牌", font)
    canvas.setPageSize((width * mm, height * mm))
    _draw_sign(canvas, content, size, font, 0, 0)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_batch(contents: Iterable[SignContent], size: str = "wall", crop_marks: bool = True) -> bytes:
    """One sign per page at true size. With ``crop_marks`` each page is enlarged by a margin holding a
    3 mm bleed (the green ground runs on) and corner crop marks, and carries TrimBox and BleedBox;
    without, the pages are exactly the sign. An empty ``contents`` is refused (a PDF needs a page)."""
    _check(size)
    contents = list(contents)
    if not contents:
        raise ValueError("没有要生成的标识牌")
    with _lock:
        return _render_batch(contents, size, crop_marks)


def _render_batch(contents: list[SignContent], size: str, crop_marks: bool) -> bytes:
    font = _font_for(_chars_of(contents))
    width, height = (v * mm for v in SIZES[size])
    margin = MARGIN_MM * mm if crop_marks else 0
    bleed = BLEED_MM * mm
    buffer = io.BytesIO()
    canvas = _canvas(buffer, f"入河排污口标识牌（{len(contents)} 块）", font)
    for content in contents:
        canvas.setPageSize((width + 2 * margin, height + 2 * margin))
        if crop_marks:
            canvas.setTrimBox((margin, margin, margin + width, margin + height))
            canvas.setBleedBox(
                (margin - bleed, margin - bleed, margin + width + bleed, margin + height + bleed)
            )
            canvas.saveState()
            canvas.setFillColor(GREEN)
            canvas.rect(
                margin - bleed, margin - bleed, width + 2 * bleed, height + 2 * bleed, stroke=0, fill=1
            )
            canvas.restoreState()
            _crop_marks(canvas, margin, margin, width, height)
        _draw_sign(canvas, content, size, font, margin, margin)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()

"""The sign PDF library (portal/signboard.py): true page size, embedded font, extractable text, a QR code
that decodes to the outfall's public page, long texts kept inside their boxes, and a batch with bleed and
crop marks. Page 1 of each PDF is kept as a PNG in var/test-output/ to look at.

No database: the library is pure drawing.
"""

import io
import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from pypdf.generic import ContentStream

from outfalls.portal import signboard
from outfalls.portal.signboard import (
    SIZES,
    SignContent,
    SignFontMissing,
    find_font,
    render_batch,
    render_sign,
)

PT_PER_MM = 72 / 25.4
OUTPUT = Path(__file__).resolve().parents[3] / "var" / "test-output"

CONTENT = SignContent(
    name="平城区御河山橡集团工业入河排污口",
    code="140213-YH-GY-0001",
    type_label="工业排污口（工矿企业排污口）",
    entity="大同山橡橡胶集团有限公司",
    pollutants="化学需氧量、氨氮、总磷、石油类",
    supervisor="大同市生态环境局平城分局",
    phone="12369",
    url="https://hbj.datong.gov.cn/public/outfalls/140213-YH-GY-0001/",
)
# 40 characters: a name as long as HJ 1235 names get (place names + landmark + type)
LONG_NAME = "大同市云州区西坪镇北辛窑村至吉家庄村段桑干河左岸大同经济技术开发区第二污水处理厂排污口"[:40]
LONG = SignContent(
    name=LONG_NAME,
    code="140215-SH-WS-00000123-LONGSEGMENT",
    type_label="城镇污水处理厂排污口（含工业废水集中处理设施）",
    entity="大同市云州区西坪镇人民政府与大同经济技术开发区管理委员会联合指定的责任主体",
    pollutants="化学需氧量、氨氮、总磷、总氮、石油类、动植物油、悬浮物、五日生化需氧量、粪大肠菌群",
    supervisor="大同市生态环境局云州分局（大同市生态环境综合行政执法队云州大队）",
    phone="0352-12369 / 12345",
    url="https://hbj.datong.gov.cn/public/outfalls/140215-SH-WS-00000123-LONGSEGMENT/?from=sign",
)


def mm(points):
    return points / PT_PER_MM


@pytest.fixture(scope="module")
def pdfs():
    """Each size's PDF of the ordinary sign and the long sign, rendered once for the module."""
    return {
        (size, which): render_sign(content, size)
        for size in SIZES
        for which, content in (("plain", CONTENT), ("long", LONG))
    }


def page_png(data, name, dpi=60, page=0):
    """Page ``page`` as a PIL image, kept in var/test-output/``name``.png."""
    document = pdfium.PdfDocument(data)
    image = document[page].render(scale=dpi / 72).to_pil()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    image.save(OUTPUT / f"{name}.png")
    return image


def chars_with_boxes(data, page=0):
    """Every character of the page with its box in millimetres (left, bottom, right, top)."""
    document = pdfium.PdfDocument(data)
    text_page = document[page].get_textpage()
    out = []
    for i in range(text_page.count_chars()):
        char = text_page.get_text_range(i, 1)
        if char.strip():
            out.append((char, tuple(mm(v) for v in text_page.get_charbox(i))))
    return out


def page_text(data, page=0):
    document = pdfium.PdfDocument(data)
    return re.sub(r"\s+", "", document[page].get_textpage().get_text_range())


@pytest.mark.parametrize("size", ["wall", "standing"])
def test_page_is_the_sign_at_true_size_in_millimetres(pdfs, size):
    assert SIZES == {"wall": (480, 300), "standing": (420, 420)}
    reader = PdfReader(io.BytesIO(pdfs[(size, "plain")]))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(mm(float(box.width)), 2), round(mm(float(box.height)), 2)) == SIZES[size]


@pytest.mark.parametrize("size", ["wall", "standing"])
def test_every_font_is_embedded_noto_sans_cjk(pdfs, size):
    reader = PdfReader(io.BytesIO(pdfs[(size, "plain")]))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        assert "NotoSansCJKsc-Bold" in font["/BaseFont"]
        assert "/FontFile2" in font["/FontDescriptor"]  # the TrueType program is in the file


def test_every_character_has_its_own_glyph_in_a_later_document():
    """Each document embeds a subset of the font; a later document with other characters must not draw
    them with the first document's subset (empty boxes): every character gets an outline."""
    render_sign(CONTENT)  # another subset registered first in this process
    other = SignContent(**{**CONTENT.__dict__, "name": "灵丘县唐河东河南断面上游鑫磊矿业入河排污口"})
    data = render_sign(other)
    reader = PdfReader(io.BytesIO(data))
    outlines = 0
    for ref in reader.pages[0]["/Resources"]["/Font"].values():
        program = ref.get_object()["/FontDescriptor"]["/FontFile2"].get_data()
        font = TTFont(io.BytesIO(program))
        glyf = font["glyf"]
        outlines += sum(1 for name in font.getGlyphOrder() if glyf[name].numberOfContours)
    drawn = set(page_text(data)) - {" "}
    assert outlines >= len(drawn)


@pytest.mark.parametrize("which", ["plain", "long"])
def test_every_text_is_extractable(pdfs, which):
    content = CONTENT if which == "plain" else LONG
    text = page_text(pdfs[("wall", which)])
    for value in (*(getattr(content, f) for f in ("name", "code", "type_label", "entity")),):
        assert re.sub(r"\s+", "", value) in text
    for value in (content.pollutants, content.supervisor, content.phone):
        assert re.sub(r"\s+", "", value) in text
    for label in ("污水排放口", "排污口编号", "排污口类型", "责任主体", "主要污染物", "监督单位", "举报电话"):
        assert label in text


@pytest.mark.parametrize("size", ["wall", "standing"])
@pytest.mark.parametrize("which", ["plain", "long"])
def test_qr_code_decodes_to_the_public_page(pdfs, size, which):
    content = CONTENT if which == "plain" else LONG
    image = page_png(pdfs[(size, which)], f"sign-{size}-{which}")
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert [r.text for r in results] == [content.url]


def test_sign_is_green_with_white_text():
    """The ground is the information sign's green; the text and symbol are white."""
    image = page_png(render_sign(CONTENT), "sign-colours", dpi=20).convert("RGB")
    colours = image.getcolors(maxcolors=1_000_000)
    (count, top), *_ = sorted(colours, reverse=True)
    assert top == (0x00, 0x84, 0x3D)
    assert count > 0.5 * image.width * image.height
    assert any(c == (255, 255, 255) and n > 0.05 * image.width * image.height for n, c in colours)


def inside(box, area, slack=0.5):
    left, bottom, right, top = box
    x, y, w, h = area
    return left >= x - slack and right <= x + w + slack and bottom >= y - slack and top <= y + h + slack


def overlaps(box, area):
    left, bottom, right, top = box
    x, y, w, h = area
    return left < x + w and right > x and bottom < y + h and top > y


@pytest.mark.parametrize("size", ["wall", "standing"])
def test_a_40_character_name_and_long_values_stay_inside_their_boxes(pdfs, size):
    assert len(LONG.name) == 40
    layout = signboard.LAYOUTS[size]
    width, height = SIZES[size]
    chars = chars_with_boxes(pdfs[(size, "long")])
    start = "".join(c for c, _ in chars).index(LONG.name)  # drawn in order, after the symbol's name
    name_chars = chars[start : start + len(LONG.name)]
    for char, box in name_chars:
        assert inside(box, layout.name), (char, box)
        assert box[3] - box[1] >= 8, "the name stays legible from a distance (glyphs at least 8 mm tall)"
    qx, qy, qside = layout.qr
    sx, sy, sside = layout.symbol
    for char, box in chars:
        assert inside(box, (7, 7, width - 14, height - 14)), (char, box)  # inside the white frame
        assert not overlaps(box, (qx, qy, qside, qside)), (char, box)
        assert not overlaps(box, (sx, sy, sside, sside)), (char, box)
    page_png(pdfs[(size, "long")], f"sign-{size}-long-text")


def marks_outside_trim(page, trim):
    """Straight segments (``x y m x y l``) of the page's content that lie wholly outside ``trim``."""
    left, bottom, right, top = trim
    segments, start = [], None
    for operands, operator in ContentStream(page.get_contents(), page.pdf).operations:
        if operator == b"m":
            start = tuple(float(v) for v in operands)
        elif operator == b"l" and start:
            end = tuple(float(v) for v in operands)
            xs, ys = (start[0], end[0]), (start[1], end[1])
            if max(xs) < left or min(xs) > right or max(ys) < bottom or min(ys) > top:
                segments.append((start, end))
    return segments


def test_batch_has_one_true_size_sign_per_page_with_bleed_and_crop_marks():
    contents = [CONTENT, LONG, SignContent(**{**CONTENT.__dict__, "url": CONTENT.url + "?n=3"})]
    data = render_batch(contents, "wall")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 3
    margin = signboard.MARGIN_MM
    for page in reader.pages:
        trim = [mm(float(v)) for v in page.trimbox]
        assert [round(v, 2) for v in trim] == [margin, margin, margin + 480, margin + 300]
        bleed = [round(mm(float(v)), 2) for v in page.bleedbox]
        assert bleed == [margin - 3, margin - 3, margin + 483, margin + 303]
        assert (round(mm(float(page.mediabox.width)), 2), round(mm(float(page.mediabox.height)), 2)) == (
            480 + 2 * margin,
            300 + 2 * margin,
        )
        # two marks at each corner, on the trim lines, outside the bleed
        marks = marks_outside_trim(page, [float(v) for v in page.trimbox])
        assert len(marks) == 8
        trim_pt = [float(v) for v in page.trimbox]
        for (x0, y0), (x1, y1) in marks:
            assert (x0 == x1 and x0 in (trim_pt[0], trim_pt[2])) or (
                y0 == y1 and y0 in (trim_pt[1], trim_pt[3])
            )
    # the green ground runs into the bleed; the margin beyond it is white paper; each page decodes
    image = page_png(data, "sign-batch-page-1", dpi=60).convert("RGB")
    px = 60 / 25.4
    assert image.getpixel((int((margin - 1.5) * px), image.height // 2)) == (0x00, 0x84, 0x3D)
    assert image.getpixel((int((margin - 6) * px), image.height // 2)) == (255, 255, 255)
    for page, content in enumerate(contents):
        image = pdfium.PdfDocument(data)[page].render(scale=60 / 72).to_pil()
        assert [r.text for r in zxingcpp.read_barcodes(image)] == [content.url]
    assert contents[1].name.replace(" ", "") in page_text(data, 1)


def test_batch_without_crop_marks_is_the_bare_sign():
    reader = PdfReader(io.BytesIO(render_batch([CONTENT, LONG], "standing", crop_marks=False)))
    assert len(reader.pages) == 2
    for page in reader.pages:
        assert (round(mm(float(page.mediabox.width)), 2), round(mm(float(page.mediabox.height)), 2)) == (
            420,
            420,
        )
        assert marks_outside_trim(page, [float(v) for v in page.mediabox]) == []


def test_unknown_size_and_empty_batch_are_refused():
    with pytest.raises(ValueError, match="未知的标识牌尺寸"):
        render_sign(CONTENT, "a4")
    with pytest.raises(ValueError, match="没有要生成的标识牌"):
        render_batch([])


def test_missing_font_names_the_debian_package(tmp_path):
    with pytest.raises(SignFontMissing, match="fonts-noto-cjk"):
        find_font(
            fc_match=str(tmp_path / "no-fc-match"), known_paths=[str(tmp_path / "NotoSansCJK-Bold.ttc")]
        )


def test_font_is_found_with_its_index_in_the_collection():
    path, index = find_font()
    assert Path(path).is_file()
    assert TTFont(path, fontNumber=index, lazy=True)["name"].getDebugName(1) == "Noto Sans CJK SC"


FIT_ALPHABET = "排污口大同市河（）、，。ABC-0123 "


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list(FIT_ALPHABET)), min_size=1, max_size=60),
    width_mm=st.integers(min_value=20, max_value=300),
)
def test_fitted_text_keeps_every_character_and_stays_within_the_width(text, width_mm):
    """Wrapping and shrinking never drop or reorder a character and never pass the box."""
    font = signboard._font_for(frozenset(FIT_ALPHABET))
    size, lines = signboard._fit(text, font, width_mm * PT_PER_MM, 40 * PT_PER_MM, 20 * PT_PER_MM, 2)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        assert signboard.pdfmetrics.stringWidth(line, font, size) <= width_mm * PT_PER_MM + 1e-6
    assert size * (1 + 1.2 * (len(lines) - 1)) <= 40 * PT_PER_MM + 1e-6


def test_codes_break_after_a_hyphen_and_closing_punctuation_never_starts_a_line():
    font = signboard._font_for(frozenset("0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ排污口，"))
    size = 10
    code = "140215-SH-WS-00000123-LONGSEGMENT"
    width = signboard.pdfmetrics.stringWidth("140215-SH-WS-00000123-", font, size) + 1
    assert signboard._wrap(code, font, size, width) == ["140215-SH-WS-00000123-", "LONGSEGMENT"]
    text = "排污口排污口，排污口"
    width = signboard.pdfmetrics.stringWidth("排污口排污口", font, size) + 1
    lines = signboard._wrap(text, font, size, width)
    assert "".join(lines) == text
    assert not any(line.startswith("，") for line in lines)


def test_old_font_subsets_are_unregistered_so_a_worker_does_not_grow(monkeypatch):
    monkeypatch.setattr(signboard, "FONT_CACHE_SIZE", 2)
    names = []
    for name in ("新荣区甲排污口", "云冈区乙排污口", "阳高县丙排污口", "天镇县丁排污口"):
        data = render_sign(SignContent(**{**CONTENT.__dict__, "name": name}))
        assert name in page_text(data)
        names.append(
            signboard._font_for(signboard._chars_of([SignContent(**{**CONTENT.__dict__, "name": name})]))
        )
    assert len(signboard._fonts) == 2
    registered = set(signboard.pdfmetrics.getRegisteredFontNames())
    assert names[0] not in registered and names[1] not in registered
    assert names[2] in registered and names[3] in registered
    # an evicted subset is made again when needed
    assert "新荣区甲排污口" in page_text(
        render_sign(SignContent(**{**CONTENT.__dict__, "name": "新荣区甲排污口"}))
    )


def test_empty_fields_and_typed_line_breaks_render_cleanly():
    content = SignContent(
        **{**CONTENT.__dict__, "pollutants": "", "name": "平城区\n御河\t排污口", "entity": "  "}
    )
    data = render_sign(content, "standing")
    text = page_text(data)
    assert "平城区御河排污口" in text
    font = signboard._font_for(signboard._chars_of([content]))
    _, lines = signboard._fit(content.name, font, 1000, 100, 20, 2)
    assert lines == ["平城区 御河 排污口"]  # a typed line break or tab prints as a space, not as a box
    assert "主要污染物：" in text
    assert [r.text for r in zxingcpp.read_barcodes(page_png(data, "sign-empty-fields"))] == [content.url]


def test_a_character_the_font_cannot_draw_is_refused_naming_the_field():
    """A missing-glyph box on a metal sign is a costly misprint: refuse it before drawing."""
    content = SignContent(**{**CONTENT.__dict__, "entity": "大同🐟养殖有限公司"})
    with pytest.raises(ValueError, match="责任主体含有标识牌字体 Noto Sans CJK SC 无法显示的字符：🐟"):
        render_sign(content)
    with pytest.raises(ValueError, match="责任主体"):
        render_batch([CONTENT, content])

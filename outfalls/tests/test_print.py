"""The documents the platform hands out print as the bureau prints them, checked on LibreOffice's own PDF.

One module fixture makes every document from the demo data (the attachment-1 ledger table of one county and
of the whole city, the retained list, the survey progress table, the notice), converts them all with one
run of LibreOffice headless (Debian's libreoffice-calc-nogui and libreoffice-writer-nogui, installed by
scripts/ensure-libreoffice.sh) and reads the PDFs back with poppler-utils: page count, the text of each page
(pdftotext) and the position of each line (pdftotext -bbox-layout). The PNG of each document's first page is
kept for a person to look at in var/print-review/ (the path is printed in the test output).
"""

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import resolve, reverse

from outfalls.registry.models import Outfall
from outfalls.remediation import notice, supervision
from outfalls.survey import progress

REVIEW_DIR = Path(settings.BASE_DIR) / "var" / "print-review"
SOFFICE = os.environ.get("SOFFICE_PATH", "/usr/bin/soffice")
NOTICE_DAY = date(2025, 3, 1)  # after the demo plans' 2024-12-31 deadline: overdue lists over several pages
PROGRESS_DAY = date(2024, 1, 1)
PINGCHENG = "140213"
CONVERT_TIMEOUT = 600

pytestmark = pytest.mark.django_db


class Printed:
    """One converted document: its PDF's pages as text, and the lines of each page with their boxes."""

    def __init__(self, pdf):
        self.pdf = pdf
        text = _run("pdftotext", "-layout", str(pdf), "-")
        self.pages = text.split("\f")[:-1]  # each page ends with a form feed
        info = _run("pdfinfo", str(pdf))
        self.page_count = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
        self._bbox = None

    def words(self):
        """[(page number, text, (x0, y0, x1, y1))] of every word pdftotext finds, pages numbered from 1."""
        if self._bbox is None:
            html = _run("pdftotext", "-bbox-layout", str(self.pdf), "-")
            html = re.sub(r"<!DOCTYPE[^>]*>", "", html).replace('xmlns="http://www.w3.org/1999/xhtml"', "")
            root = ET.fromstring(html)
            self._bbox = []
            for number, page in enumerate(root.iter("page"), 1):
                for word in page.iter("word"):
                    box = tuple(float(word.get(k)) for k in ("xMin", "yMin", "xMax", "yMax"))
                    self._bbox.append((number, word.text or "", box))
        return self._bbox


def _run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=CONVERT_TIMEOUT).stdout


def _tools_or_fail():
    missing = [t for t in ("pdftotext", "pdftoppm", "pdfinfo") if shutil.which(t) is None]
    if not os.access(SOFFICE, os.X_OK) or missing:
        pytest.fail(
            "LibreOffice or poppler-utils is missing: run scripts/ensure-libreoffice.sh as root (it installs "
            "Debian's libreoffice-calc-nogui, libreoffice-writer-nogui and poppler-utils), or set SOFFICE_PATH."
        )


def _get(user, url, params=None):
    request = RequestFactory().get(url, params or {})
    request.user = user
    match = resolve(url)
    response = match.func(request, *match.args, **match.kwargs)
    assert response.status_code == 200, url
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _documents(folder):
    """Write every document into `folder`; returns {name: path}."""
    users = get_user_model().objects
    bureau = users.get(username="bureau")
    files = {
        "ledger-pingcheng.xlsx": _get(bureau, reverse("registry:outfall_export"), {"county": PINGCHENG}),
        "ledger-city.xlsx": _get(bureau, reverse("registry:outfall_export")),
        "retained.xlsx": _get(bureau, reverse("remediation:retained_export")),
        "progress.xlsx": progress.as_xlsx(progress.progress_rows(bureau, PROGRESS_DAY), today=PROGRESS_DAY),
        "notice.docx": notice.build_notice(bureau, NOTICE_DAY),
    }
    paths = {}
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content)
        paths[Path(name).stem] = path
    return paths


@pytest.fixture(scope="module")
def printed(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """{document: Printed}, each converted once; PNGs of their first pages in var/print-review/."""
    _tools_or_fail()
    work = tmp_path_factory.mktemp("print")
    with django_db_blocker.unblock():
        paths = _documents(work)
    profile = work / "lo-profile"  # LibreOffice's own profile, so a concurrent LibreOffice is no obstacle
    _run(
        SOFFICE,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "pdf",
        "--outdir",
        str(work),
        *map(str, paths.values()),
    )
    shutil.rmtree(REVIEW_DIR, ignore_errors=True)
    REVIEW_DIR.mkdir(parents=True)
    result = {}
    for name, path in paths.items():
        pdf = path.with_suffix(".pdf")
        assert pdf.exists(), f"LibreOffice made no PDF of {path.name}"
        shutil.copy(pdf, REVIEW_DIR / pdf.name)
        _run(
            "pdftoppm",
            "-r",
            "70",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            str(REVIEW_DIR / name),
        )
        result[name] = Printed(pdf)
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"\nPrinted documents (PDF and page 1 as PNG) for review: {REVIEW_DIR}")
    return result


def _overlapping(words, share=0.3):
    """Pairs of words on the same page drawn over each other: their boxes overlap by more than `share` of
    the smaller one's width and height (a word's box holds its font's whole ascent and descent, so the
    boxes of single-spaced lines touch)."""
    found = []
    by_page = {}
    for page, text, box in words:
        by_page.setdefault(page, []).append((text, box))
    for page, items in by_page.items():
        items.sort(key=lambda item: item[1][1])
        for i, (text, (x0, y0, x1, y1)) in enumerate(items):
            for other, (u0, v0, u1, v1) in items[i + 1 :]:
                if v0 >= y1:
                    break
                width = min(x1 - x0, u1 - u0)
                height = min(y1 - y0, v1 - v0)
                if min(x1, u1) - max(x0, u0) > share * width and min(y1, v1) - max(y0, v0) > share * height:
                    found.append((page, text, other))
    return found


# The xlsx tables ---------------------------------------------------------------------------------------------
LEDGER_TITLE = "大同市平城区入河排污口信息汇总表"


@pytest.mark.parametrize(
    "document, title, rows",
    [
        (
            "ledger-pingcheng",
            "大同市平城区入河排污口信息汇总表",
            lambda: Outfall.objects.filter(county__code=PINGCHENG),
        ),
        ("ledger-city", "大同市全市入河排污口信息汇总表", lambda: Outfall.objects.all()),
        ("retained", "大同市保留入河排污口信息汇总表", lambda: Outfall.objects.filter(status="kept")),
    ],
)
def test_ledger_tables_print_one_page_wide_with_title_and_headers_on_every_page(
    printed, document, title, rows
):
    doc = printed[document]
    count = rows().count()
    assert count > 0
    # 55 rows of 平城区 printed on 15 pages before (columns split over pages, the title once): now the 21
    # columns fit one page wide and about 15 rows fit a page.
    assert doc.page_count <= count // 10 + 1, (doc.page_count, count)
    for number, page in enumerate(doc.pages, 1):
        squeezed = re.sub(r"\s+", "", page)
        assert title in squeezed, f"page {number}: no title"
        # Headers from the first to the last column on every page: the table is one page wide and its two
        # header rows repeat (words as LibreOffice placed them, so a header is whole in its cell).
        words = {text for page_number, text, _ in doc.words() if page_number == number}
        for header in (
            "序号",
            "区位信息",
            "排污口信息",
            "排污单位信息",
            "平台编码",
            "入河排污口编码",
            "国家统一编码",
        ):
            assert header in words, f"page {number}: no {header}"
        assert f"第{number}页共{doc.page_count}页" in squeezed, f"page {number}: no page number"
    # Every row once, numbered 1..n, and the sign-off line under the last one.
    numbers = [int(m) for page in doc.pages for m in re.findall(r"^\s*(\d+)\s", page, re.M)]
    assert numbers == list(range(1, count + 1))
    last = re.sub(r"\s+", "", doc.pages[-1])
    for item in ("填报单位（盖章）：", "填表人：", "审核人：", "填报日期："):
        assert item in last
    assert all("填表人" not in page for page in doc.pages[:-1])
    # Row heights fit the wrapped text: no line of text is drawn over another.
    assert _overlapping(doc.words()) == []


def test_codes_coordinates_and_dates_stay_whole_in_the_ledger_table(printed):
    text = "\n".join(printed["ledger-pingcheng"].pages)
    for outfall in Outfall.objects.filter(county__code=PINGCHENG).exclude(approval_date=None):
        assert f"{outfall.lon:.6f},{outfall.lat:.6f}" in text  # a coordinate on one line
        assert outfall.approval_date.isoformat() in text  # a date on one line


def test_progress_table_prints_on_one_page(printed):
    doc = printed["progress"]
    assert doc.page_count == 1
    page = re.sub(r"\s+", "", doc.pages[0])
    assert f"大同市入河排污口排查溯源工作进度（截至{PROGRESS_DAY.isoformat()}）" in page
    assert "县区" in page and "台账排口" in page and "合计" in page
    assert "填报单位（盖章）：" in page and "第1页共1页" in page
    assert _overlapping(doc.words()) == []


# The notice --------------------------------------------------------------------------------------------------
def test_notice_prints_as_a_gbt_9704_document(printed, demo_user):
    doc = printed["notice"]
    bureau = demo_user("bureau")
    overdue = list(supervision.overdue_plans(bureau, NOTICE_DAY))
    assert len(overdue) > 10  # enough rows for the lists to run over pages
    assert 3 <= doc.page_count <= 8
    pages = [re.sub(r"\s+", "", page) for page in doc.pages]
    first = pages[0]
    for text in ("大同市生态环境局文件", f"同环发〔{NOTICE_DAY.year}〕号", notice.TITLE, notice.ADDRESSEES):
        assert text in first, text
    assert first.index("大同市生态环境局文件") < first.index(notice.TITLE) < first.index(notice.ADDRESSEES)
    # — N — on every page.
    for number, page in enumerate(pages, 1):
        assert f"—{number}—" in page, f"page {number}: no page number"
    # A page that goes on with a list of overdue outfalls starts it with the header row again.
    code = re.compile(r"[A-Z]+\d{2}-\d{6}-[A-Z]{2}-\d{4}")
    continued = [n for n, page in enumerate(pages[1:], 2) if code.search(page)]
    assert continued
    for number in continued:
        assert "入河排污口名称及编码" in pages[number - 1], (
            f"page {number}: the table's header is not repeated"
        )
    # Each overdue outfall: its code and its deadline on one line each, and its row on one page.
    for plan in overdue:
        holding = [n for n, page in enumerate(pages, 1) if plan.outfall.code in page]
        assert len(holding) == 1, (plan.outfall.code, holding)
        page = doc.pages[holding[0] - 1]
        assert plan.outfall.code in page and plan.deadline.isoformat() in page
        assert plan.outfall.name[:8] in pages[holding[0] - 1], "a row split over two pages"
    # The issuing body's full name, the date, and the 版记 on the last page.
    last = pages[-1]
    assert "大同市生态环境局" in last and notice.chinese_date(NOTICE_DAY) in last
    assert f"大同市生态环境局办公室{notice.chinese_date(NOTICE_DAY)}印发" in last
    assert _overlapping(doc.words()) == []


def test_pages_one_are_kept_as_png_for_review(printed):
    for name in printed:
        png = REVIEW_DIR / f"{name}.png"
        assert png.exists() and png.stat().st_size > 5000, png
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

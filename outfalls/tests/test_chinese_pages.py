"""No English on a page: every page a role reaches from its menu, rendered for every demo role, shows no Latin
word outside an allow-list of codes, units, file types and standard names.

The pages are found as a user finds them: the menu, then the links in each page's content (lists to details,
details to their edit forms, tabs), one page per address pattern (ids replaced) and role, two links deep;
plus a committed ledger import and a refused form (an error message is text too). What is read is what a
person sees or hears: text nodes, option labels, button values, and title, placeholder, alt and aria-label
attributes; not scripts, JSON blocks, templates or hidden inputs. An element marked translate="no" holds data
that is not language (a user name, a browser's user agent, an HTTP header to type) and is skipped, as a
translator would.

A word is flagged when it has a lower-case letter and is not allowed below: upper-case words are codes and
abbreviations (GY, HLH01, HJ, GB, CSV, API, OGC, CGCS2000), so "编码 (descending)", `protected_area`,
"manage.py spatial_check" and "坐标系 cgcs2000" are all caught.
"""

import re
from collections import defaultdict
from urllib.parse import urlparse

import lxml.html
import pytest
from django.urls import reverse

from outfalls.conftest import DEMO_USERS
from outfalls.registry.tests import ledger_files
from outfalls.registry.tests.helpers import import_through_the_pages
from outfalls.registry.tests.test_ledger_import import new_row

pytestmark = pytest.mark.django_db

ALLOWED = {
    # file types people pick and download
    *("csv", "xlsx", "xls", "docx", "doc", "pdf", "zip", "jpg", "jpeg", "png", "webp", "json", "geojson"),
    *("shp", "shx", "dbf", "prj", "cpg", "gpkg", "kml", "kmz"),
    # formats and products known by these names
    *("GeoJSON", "GeoPackage", "Shapefile", "Excel", "Word", "QGIS", "ArcGIS"),
    # units (t/a: tonnes a year; m3 as labs write m³)
    *("km", "m", "mm", "cm", "kg", "mg", "g", "t", "d", "h", "s", "min", "L", "a", "m3"),
    # parameter names as the standards and labs write them
    *("pH", "CODcr", "CODCr", "CODMn"),
}
SKIPPED_TAGS = {"script", "style", "template", "noscript", "head"}
ATTRIBUTES = ("title", "placeholder", "alt", "aria-label")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# Addresses that are not pages: files, exports, API and admin (Django's own pages), logging out.
NOT_PAGES = re.compile(
    r"/(api|admin|ogcapi|static|media)/|export|download|/file/|logout|/sw\.js|\.(csv|xlsx|docx)$"
)
DEPTH = 2


def visible_texts(html):
    """The text a person sees or hears on the page."""
    doc = lxml.html.fromstring(html)
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        if any(
            a.tag in SKIPPED_TAGS or a.get("translate") == "no" or a.get("hidden") is not None
            for a in (element, *element.iterancestors())
        ):
            continue
        if element.text:
            yield element.text
        for attribute in ATTRIBUTES:
            if element.get(attribute):
                yield element.get(attribute)
        if element.tag == "input" and element.get("type") in ("submit", "button") and element.get("value"):
            yield element.get("value")
        for child in element:  # the text after a child is this element's text
            if child.tail:
                yield child.tail


def english_words(html):
    return [
        word
        for text in visible_texts(html)
        for word in WORD.findall(text)
        if any(c.islower() for c in word) and word not in ALLOWED
    ]


def pattern(path):
    return re.sub(r"\d+", "N", path)


def crawl(client, start):
    """{path: html} for the pages reached from `start`, one per address pattern, DEPTH links deep."""
    pages, seen = {}, set()
    frontier = list(start)
    for _depth in range(DEPTH + 1):
        following = []
        for path in frontier:
            if pattern(path) in seen:
                continue
            seen.add(pattern(path))
            response = client.get(path)  # error pages (400, 403, 404) are pages too
            if "text/html" not in response.get("Content-Type", "") or response.status_code not in (
                200,
                400,
                403,
                404,
            ):
                continue
            html = response.content.decode()
            pages[path] = html
            doc = lxml.html.fromstring(html)
            for href in doc.xpath("//main//a/@href"):
                url = urlparse(href)
                if url.netloc or not url.path.startswith("/") or NOT_PAGES.search(url.path):
                    continue
                link = url.path + (f"?{url.query}" if url.query and "page=" not in url.query else "")
                if pattern(link) not in seen:
                    following.append(link)
        frontier = following
    return pages


def menu(client):
    html = client.get(reverse("home"), follow=True).content.decode()
    doc = lxml.html.fromstring(html)
    links = [a.get("href") for a in doc.xpath("//nav//a[@href]")]
    return [href for href in links if href.startswith("/") and not NOT_PAGES.search(href)]


@pytest.fixture
def committed_import(client_for, tmp_path):
    """A ledger import of two new outfalls, committed by the city bureau (its page lists what it did)."""
    built = ledger_files.write_csv(tmp_path / "两个排口.csv", [new_row(1), new_row(2)])
    return import_through_the_pages(client_for("bureau"), built.path)


def test_no_english_on_any_page_for_any_role(client_for, committed_import):
    found = defaultdict(set)
    visited = 0
    for username in DEMO_USERS:
        client = client_for(username)
        start = menu(client) + [
            reverse("registry:import_detail", args=[committed_import.pk]),
            reverse("registry:outfall_create"),
            "/no-such-page/",
        ]
        pages = crawl(client, start)
        # A refused form: its messages are text too.
        pages["refused outfall form"] = client.post(reverse("registry:outfall_create"), {}).content.decode()
        visited += len(pages)
        for path, html in pages.items():
            for word in english_words(html):
                found[word].add(f"{username} {path}")
    assert visited > 250  # the crawl reached the pages (menus, lists, details, forms) of all eight roles
    problems = [f"{word}: {'; '.join(sorted(paths)[:3])}" for word, paths in sorted(found.items())]
    assert not problems, "\n".join(problems)


def test_the_scan_sees_what_a_person_sees():
    html = """<html><head><title>x</title></head><body><main>
      <select><option value="-code">编码 (descending)</option></select>
      <p>运行 manage.py spatial_check</p><code>protected_area</code>
      <input type="submit" value="Save"><img alt="photo" src="/x.png"><a title="Details" href="/">详情</a>
      <span translate="no">bureau Mozilla/5.0</span><script>var English = 1;</script>
      <script type="application/json">{"english": "yes"}</script><input type="hidden" value="hidden">
      <p>HLH01-140213-GY-0001 · GB 3838 · HJ 1312 · 12 km · 导出 Excel、CSV、GeoJSON · CGCS2000</p>
    </main></body></html>"""
    assert english_words(html) == [
        "descending",
        "manage",
        "py",
        "spatial_check",
        "protected_area",
        "Save",
        "photo",
        "Details",
    ]

"""The Content-Security-Policy: sent on every page, no inline script allowed, and no template that needs one."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from outfalls.maps import config as map_config
from outfalls.settings import csp_tile_sources, tile_source

ROOT = Path(settings.BASE_DIR)
TEMPLATE_DIRS = [ROOT / "outfalls"]


def policy(response):
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part}


@pytest.mark.parametrize("username", [None, "bureau"])
def test_every_page_carries_the_policy(client_for, client, username):
    client = client_for(username) if username else client
    for url in ("/accounts/login/", "/ledger/outfalls/", "/maps/", "/ogcapi/?f=html", "/api/v1/"):
        response = client.get(url, HTTP_ACCEPT="text/html")
        if username is None and response.status_code == 302:
            continue
        rules = policy(response)
        assert rules["script-src"] == ["'self'"], url
        assert rules["default-src"] == ["'self'"]
        assert rules["object-src"] == ["'none'"]
        assert rules["style-src-elem"] == ["'self'"]
        assert "'unsafe-inline'" not in rules.get("script-src-attr", []) + rules.get("script-src-elem", [])
        assert rules["img-src"] == ["'self'", "data:"]  # no base layer configured: nothing from outside


def _templates():
    for path in sorted(TEMPLATE_DIRS[0].rglob("*.html")):
        if "static" not in path.parts:
            yield path


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def test_no_template_has_inline_script_handlers_or_javascript_urls():
    found = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        for pattern, what in ((INLINE_SCRIPT, "inline <script>"), (HANDLER, "on*= handler")):
            found += [f"{path.relative_to(ROOT)}: {what}: {m.group(0)[:60]}" for m in pattern.finditer(text)]
        if "javascript:" in text.lower():
            found.append(f"{path.relative_to(ROOT)}: javascript: URL")
    assert not found, "\n".join(found)
    assert sum(1 for _ in _templates()) > 50  # the scan saw the templates


def test_tile_sources_admit_the_configured_base_layer():
    assert tile_source("https://t{s}.tianditu.gov.cn/vec_w/wmts?x=1") == "https://*.tianditu.gov.cn"
    assert tile_source("http://tiles.example.local:8080/{z}/{x}/{y}.png") == "http://tiles.example.local:8080"
    assert tile_source("/tiles/{z}/{x}/{y}.png") is None
    assert csp_tile_sources("none", "key", "https://x.example/{z}") == []
    assert csp_tile_sources("tianditu", "", "") == []  # no key: no base layer, nothing admitted
    assert csp_tile_sources("custom", "", "") == []
    # The sources admit every tile URL the map pages would request.
    cases = [
        ({"MAP_BASE_LAYER": "tianditu", "TIANDITU_KEY": "abc", "MAP_TILE_URL": ""}, "tianditu"),
        (
            {
                "MAP_BASE_LAYER": "custom",
                "TIANDITU_KEY": "",
                "MAP_TILE_URL": "https://{s}.t.example.cn/{z}/{x}/{y}.png",
            },
            "custom",
        ),
    ]
    for options, kind in cases:
        with override_settings(**options):
            urls = [t["url"] for base in map_config.base_layers() for t in base["tiles"]]
        sources = csp_tile_sources(kind, options["TIANDITU_KEY"], options["MAP_TILE_URL"])
        assert urls and sources
        for url in urls:
            host = url.split("/")[2].replace("{s}", "t0")
            assert any(
                re.fullmatch(re.escape(s.split("://")[1]).replace(r"\*", r"[^.]+"), host) for s in sources
            ), (url, sources)


def _settings_with(**env):
    code = (
        "import json, outfalls.settings as s; "
        "print(json.dumps([s.CONTENT_SECURITY_POLICY, s.CONTENT_SECURITY_POLICY_REPORT_ONLY]))"
    )
    environ = {**os.environ, **env}
    out = subprocess.run([sys.executable, "-c", code], env=environ, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_report_only_switch_and_tile_host_from_the_environment():
    enforced, report_only = _settings_with(CSP_REPORT_ONLY="true", CSP_REPORT_URI="/csp-report/")
    assert enforced is None
    assert report_only["DIRECTIVES"]["script-src"] == ["'self'"]
    assert report_only["DIRECTIVES"]["report-uri"] == "/csp-report/"
    enforced, report_only = _settings_with(
        MAP_BASE_LAYER="custom", MAP_TILE_URL="https://tiles.gov.example/{z}/{x}/{y}.png"
    )
    assert report_only is None
    assert enforced["DIRECTIVES"]["img-src"] == ["'self'", "data:", "https://tiles.gov.example"]


def test_the_system_checks_pass():
    """`manage.py migrate` (make run), `check` and the task worker run Django's system checks; django-csp's
    refuses its pre-4.0 setting names (CSP_*), which once stopped all three."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()

"""The public portal is accessible (issue 14: labels, contrast, keyboard), checked in Chromium at 390×844 on
every public page: each form control has an accessible name, every piece of text reaches WCAG 2.1 AA contrast
against what is behind it (4.5:1, 3:1 for large text), and the report form can be filled and sent from the
keyboard alone, with a visible focus on every stop."""

import pytest

from outfalls.registry.disclosure import public_outfalls

from .browser import PHONE, chromium_context

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs in the page: problems as strings (empty when the page passes).
AUDIT = """() => {
  const problems = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '');
  // Names of form controls.
  for (const el of document.querySelectorAll('input, select, textarea, button')) {
    if (el.type === 'hidden' || !visible(el)) continue;
    const labelled = (el.labels && [...el.labels].some((l) => l.textContent.trim()))
      || (el.getAttribute('aria-label') || '').trim()
      || (el.getAttribute('aria-labelledby') && document.getElementById(el.getAttribute('aria-labelledby')))
      || (el.tagName === 'BUTTON' && el.textContent.trim())
      || (['submit', 'button'].includes(el.type) && (el.value || '').trim());
    if (!labelled) problems.push('no name: ' + describe(el));
  }
  // Contrast of text against the first opaque background behind it.
  const rgba = (c) => { const m = c.match(/[\\d.]+/g).map(Number); return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1]; };
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let n = el; n; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.backgroundImage !== 'none') return null;  // text over an image or gradient: not judged here
      const c = rgba(s.backgroundColor);
      if (c[3] > 0.99) return c;
    }
    return [255, 255, 255, 1];
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !el || seen.has(el) || !visible(el)) continue;
    if (el.closest('.leaflet-container, [aria-hidden=true]')) continue;  // map labels sit on the map's own base
    seen.add(el);
    const s = getComputedStyle(el);
    const bg = background(el);
    if (!bg) continue;
    const fg = rgba(s.color);
    const mixed = fg.slice(0, 3).map((v, i) => v * fg[3] + bg[i] * (1 - fg[3]));
    const [a, b] = [lum(mixed), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) problems.push('contrast ' + ratio.toFixed(2) + ' < ' + needed + ': ' + describe(el) + ' "' + el.textContent.trim().slice(0, 20) + '"');
  }
  return problems;
}"""

FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  return {tag: el.tagName.toLowerCase(), type: el.type || '', name: el.name || el.id || el.textContent.trim().slice(0, 10), ring: ring};
}"""


def test_public_pages_are_accessible(demo_db, live_server):
    outfall = public_outfalls().order_by("code").first()
    pages = [
        "/public/",
        f"/public/outfalls/{outfall.code}/",
        "/public/notices/",
        "/public/report/",
        "/public/reports/",
    ]
    with chromium_context(**PHONE) as context:
        page = context.new_page()
        page.set_default_timeout(15000)
        for path in pages:
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            assert page.evaluate(AUDIT) == [], path

        # The audit sees what it should: a pale line and a control without a name, planted on the last page.
        page.evaluate(
            """() => {
              const p = document.createElement('p'); p.id = 'pale'; p.textContent = '浅色文字';
              p.style.color = '#aaaaaa'; p.style.background = '#ffffff'; document.body.prepend(p);
              const i = document.createElement('input'); i.id = 'nameless'; document.body.prepend(i);
            }"""
        )
        planted = page.evaluate(AUDIT)
        assert "no name: input#nameless" in planted
        assert any(p.startswith("contrast 2.") and "p#pale" in p for p in planted), planted

        # The report form from the keyboard: every stop shows where the focus is, and the send button is
        # reached by Tab alone.
        page.goto(live_server.url + "/public/report/")
        stops = []
        for _ in range(80):
            page.keyboard.press("Tab")
            focused = page.evaluate(FOCUS)
            if focused is None:
                continue
            stops.append(focused)
            if focused["tag"] == "button" and focused["type"] == "submit":
                break
        assert stops and stops[-1]["type"] == "submit", stops
        assert [s for s in stops if not s["ring"]] == [], stops
        names = {s["name"] for s in stops}
        assert {"category", "description"} <= names, names

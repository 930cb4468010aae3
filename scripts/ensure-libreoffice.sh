#!/usr/bin/env bash
# The print tests (outfalls/tests/test_print.py) convert every exported document to PDF with Debian's
# LibreOffice headless and read the PDF back with poppler-utils (pdftotext, pdftoppm, pdfinfo). The fonts
# stand in for what an office PC has: Carlito has Calibri's metrics (the spreadsheets' font, whose widths
# the row heights are measured with), Liberation Serif has Times New Roman's (the notice's Latin text), and
# Noto CJK draws the Chinese. Install them when missing (as root, from Debian's packages); otherwise fail
# with what to do.
set -euo pipefail
SOFFICE=${SOFFICE_PATH:-/usr/bin/soffice}
PACKAGES="libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils fonts-crosextra-carlito fonts-liberation fonts-noto-cjk"
have_all() {
  [ -x "$SOFFICE" ] || return 1
  for tool in pdftotext pdftoppm pdfinfo fc-list; do command -v "$tool" >/dev/null 2>&1 || return 1; done
  local fonts chinese
  fonts=$(fc-list) chinese=$(fc-list :lang=zh)  # (read whole: grep -q on a pipe would fail with pipefail)
  grep -qi "carlito" <<<"$fonts" && grep -qi "liberation serif" <<<"$fonts" && [ -n "$chinese" ]
}
if have_all; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "LibreOffice, poppler-utils or their fonts missing: installing Debian's $PACKAGES"
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
  have_all && exit 0
fi
echo "LibreOffice (soffice at $SOFFICE), poppler-utils (pdftotext, pdftoppm, pdfinfo) or the fonts Carlito," \
  "Liberation Serif and Noto CJK were not found. Install them (Debian: sudo apt-get install $PACKAGES)" \
  "or set SOFFICE_PATH." >&2
exit 1

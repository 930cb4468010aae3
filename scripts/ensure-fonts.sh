#!/usr/bin/env bash
# Sign boards (outfalls/portal/signboard.py) embed Noto Sans CJK SC Bold from Debian's fonts-noto-cjk.
# Install it when missing (as root, from Debian's packages); otherwise fail with what to do.
set -euo pipefail
has_font() {
  fc-list ':family=Noto Sans CJK SC:style=Bold' file 2>/dev/null | grep -q . ||
    [ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc ]
}
if has_font; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Noto Sans CJK missing: installing Debian's fonts-noto-cjk package"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk fontconfig >/dev/null
  has_font && exit 0
fi
echo "Noto Sans CJK SC Bold not found. Install it (Debian: sudo apt-get install fonts-noto-cjk)." >&2
exit 1

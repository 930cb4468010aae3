#!/usr/bin/env bash
# The OGC API's QGIS test (outfalls/maps/tests/test_ogc_qgis.py) runs QGIS's own OGC API - Features provider
# in Debian's system Python (python3-qgis with qgis-providers, QGIS 3.22 on bookworm) against a live server.
# Install them when missing (as root, from Debian's packages); otherwise fail with what to do.
set -euo pipefail
PYTHON=${QGIS_PYTHON:-/usr/bin/python3}
PACKAGES="python3-qgis qgis-providers"
have() { "$PYTHON" -c "import qgis.core" >/dev/null 2>&1; }
if have; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "QGIS's Python bindings missing: installing Debian's $PACKAGES"
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
  have && exit 0
fi
echo "QGIS's Python bindings (import qgis.core in $PYTHON) were not found. Install them (Debian: sudo apt-get" \
  "install $PACKAGES) or set QGIS_PYTHON to a Python that has them." >&2
exit 1

#!/usr/bin/env bash
# The OGC API's client tests run GDAL's own command-line tools (ogrinfo, ogr2ogr) against a live server, as a
# GIS user would. Install Debian's gdal-bin when they are missing (as root); otherwise fail with what to do.
set -euo pipefail
if command -v ogrinfo >/dev/null 2>&1 && command -v ogr2ogr >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "GDAL tools missing: installing Debian's gdal-bin package"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gdal-bin >/dev/null
  command -v ogrinfo >/dev/null 2>&1 && exit 0
fi
echo "ogrinfo/ogr2ogr not found. Install them (Debian: sudo apt-get install gdal-bin)." >&2
exit 1

#!/usr/bin/env bash
# Runs the whole test suite on SQLite and on PostgreSQL (a throw-away cluster started here).
# Usage: scripts/run-tests.sh [sqlite|postgres|all] [pytest args...]
# Fails (never skips) when Chromium, LibreOffice or PostgreSQL cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
which_db="${1:-all}"
[ $# -gt 0 ] && shift
PY=.venv/bin/python
# Settings refuse to start without SECRET_KEY when DEBUG is off; tests run with DEBUG off and a throw-away key.
if [ -z "${SECRET_KEY:-}" ] && [ -z "${SECRET_KEY_FILE:-}" ]; then
  export SECRET_KEY="tests-only-not-a-secret"
fi

scripts/ensure-chromium.sh
scripts/ensure-gdal.sh
scripts/ensure-qgis.sh
scripts/ensure-libreoffice.sh
scripts/ensure-fonts.sh

run_sqlite() {
  echo "== tests on SQLite =="
  DATABASE_URL="sqlite:///var/test-db.sqlite3" $PY -m pytest "$@"
}

run_postgres() {
  echo "== tests on PostgreSQL =="
  export DATABASE_CONN_MAX_AGE=0
  source scripts/pg-cluster.sh
  pg_cluster_start
  trap pg_cluster_stop EXIT
  DATABASE_URL="$PG_URL" $PY -m pytest "$@"
  pg_cluster_stop
  trap - EXIT
}

case "$which_db" in
  sqlite) run_sqlite "$@" ;;
  postgres) run_postgres "$@" ;;
  all) run_sqlite "$@"; run_postgres "$@" ;;
  *) echo "unknown database: $which_db (sqlite, postgres or all)" >&2; exit 2 ;;
esac

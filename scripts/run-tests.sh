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

# Each pass keeps its uploads in its own throw-away folder (never the platform's var/media).
fresh_media() {
  rm -rf "var/test-media-$1"
  mkdir -p "var/test-media-$1"
  echo "$PWD/var/test-media-$1"
}

run_sqlite() {
  echo "== tests on SQLite =="
  MEDIA_ROOT="$(fresh_media sqlite)" DATABASE_URL="sqlite:///var/test-db.sqlite3" $PY -m pytest "$@"
}

run_postgres() {
  echo "== tests on PostgreSQL =="
  export DATABASE_CONN_MAX_AGE=0
  source scripts/pg-cluster.sh
  pg_cluster_start
  trap pg_cluster_stop EXIT
  MEDIA_ROOT="$(fresh_media postgres)" DATABASE_URL="$PG_URL" $PY -m pytest "$@"
  pg_cluster_stop
  trap - EXIT
}

# Both passes side by side, one per core (each is one Python process; together they take about as long as the
# longer one instead of their sum). Their output goes to var/test-sqlite.log and var/test-postgres.log, with a
# line of progress from each every minute, and is printed whole at the end.
run_both() {
  mkdir -p var
  echo "== tests on SQLite and on PostgreSQL, side by side: var/test-sqlite.log, var/test-postgres.log =="
  (run_sqlite "$@") > var/test-sqlite.log 2>&1 &
  local sqlite_pid=$!
  (run_postgres "$@") > var/test-postgres.log 2>&1 &
  local postgres_pid=$!
  while kill -0 "$sqlite_pid" 2>/dev/null || kill -0 "$postgres_pid" 2>/dev/null; do
    sleep 60
    echo "[$(date +%H:%M)] SQLite: $(tail -n 1 var/test-sqlite.log | cut -c1-100) | PostgreSQL: $(tail -n 1 var/test-postgres.log | cut -c1-100)"
  done
  local sqlite_rc=0 postgres_rc=0
  wait "$sqlite_pid" || sqlite_rc=$?
  wait "$postgres_pid" || postgres_rc=$?
  cat var/test-sqlite.log var/test-postgres.log
  echo "== SQLite: exit $sqlite_rc; PostgreSQL: exit $postgres_rc =="
  [ "$sqlite_rc" -eq 0 ] && [ "$postgres_rc" -eq 0 ]
}

case "$which_db" in
  sqlite) run_sqlite "$@" ;;
  postgres) run_postgres "$@" ;;
  all) run_both "$@" ;;
  *) echo "unknown database: $which_db (sqlite, postgres or all)" >&2; exit 2 ;;
esac

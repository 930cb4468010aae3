#!/usr/bin/env bash
# A PostgreSQL cluster for the scale benchmark (benchmarks/scale.py) that survives between runs.
#
#   scripts/bench-pg.sh start    initdb on first use, then start it; prints the URL of its `postgres` database
#   scripts/bench-pg.sh stop     stop it (the data stays in var/bench-pg/)
#   scripts/bench-pg.sh url      print that URL
#   scripts/bench-pg.sh status   running or not
#
# The benchmark creates its own database in it, one per size (outfalls_scale_1000000, ...), so a small
# development build and the full one are both kept.
# Data in var/bench-pg/data (git-ignored; delete var/bench-pg/ to start again), socket in var/bench-pg/sock,
# no TCP port (listen_addresses=''). As root the cluster belongs to the `postgres` user, as in
# scripts/pg-cluster.sh (initdb refuses to run as root). Settings: those of the tests' throw-away cluster
# (fsync, synchronous_commit and full_page_writes off: benchmark data, not records) plus memory for a
# database of a million outfalls (shared_buffers 2 GB, maintenance_work_mem 512 MB, max_wal_size 4 GB).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pg-cluster.sh

DIR=${BENCH_PG_DIR:-$PWD/var/bench-pg}
DB=postgres
URL="postgresql://postgres@/$DB?host=$DIR/sock"

running() {
  [ -f "$DIR/data/postmaster.pid" ] && pg_as_owner "$(pg_bin pg_ctl)" -D "$DIR/data" status >/dev/null 2>&1
}

start() {
  local initdb pg_ctl
  initdb=$(pg_bin initdb)
  pg_ctl=$(pg_bin pg_ctl)
  if running; then
    echo "$URL"
    return
  fi
  mkdir -p "$DIR/sock"
  if [ ! -f "$DIR/data/PG_VERSION" ]; then
    mkdir -p "$DIR/data"
    if [ "$(id -u)" = "0" ]; then
      id postgres >/dev/null 2>&1 || { echo "user 'postgres' is missing" >&2; exit 1; }
      chown -R postgres "$DIR"
    fi
    pg_as_owner "$initdb" -D "$DIR/data" -A trust -U postgres -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; exit 1; }
  fi
  [ "$(id -u)" = "0" ] && chown postgres "$DIR" "$DIR/sock"
  pg_as_owner "$pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -o "-k $DIR/sock -c listen_addresses='' \
-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=2GB \
-c maintenance_work_mem=512MB -c max_wal_size=4GB -c work_mem=32MB" start >/dev/null \
    || { tail -n 20 "$DIR/server.log" >&2; exit 1; }
  echo "$URL"
}

stop() {
  if running; then
    pg_as_owner "$(pg_bin pg_ctl)" -D "$DIR/data" -m fast stop >/dev/null
    echo "stopped"
  else
    echo "not running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "$URL" ;;
  status) if running; then echo "running: $URL"; else echo "not running"; fi ;;
  *) echo "usage: $0 start|stop|url|status" >&2; exit 2 ;;
esac

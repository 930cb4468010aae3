#!/usr/bin/env bash
# Source this file, then: pg_cluster_start / pg_cluster_stop.
# Starts a throw-away PostgreSQL cluster on a Unix socket in a temp folder (no TCP port) and sets PG_URL.
# initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.

pg_bin() {
  local name=$1
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$found" ] && [ -x "$found/$name" ]; then echo "$found/$name"; return; fi
  echo "PostgreSQL binary '$name' not found: install PostgreSQL 15+ (Debian: apt-get install postgresql)" >&2
  return 1
}

pg_as_owner() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_cluster_start() {
  local initdb pg_ctl
  initdb=$(pg_bin initdb) || return 1
  pg_ctl=$(pg_bin pg_ctl) || return 1
  PG_TMP=$(mktemp -d /tmp/outfalls-pg.XXXXXX)
  chmod 755 "$PG_TMP"
  mkdir -p "$PG_TMP/data" "$PG_TMP/sock"
  if [ "$(id -u)" = "0" ]; then
    id postgres >/dev/null 2>&1 || { echo "user 'postgres' is missing" >&2; return 1; }
    chown -R postgres "$PG_TMP"
  fi
  pg_as_owner "$initdb" -D "$PG_TMP/data" -A trust -U postgres -E UTF8 --locale=C >"$PG_TMP/initdb.log" 2>&1 \
    || { cat "$PG_TMP/initdb.log" >&2; return 1; }
  pg_as_owner "$pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w \
    -o "-k $PG_TMP/sock -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start \
    >/dev/null || { cat "$PG_TMP/server.log" >&2; return 1; }
  PG_CTL_BIN=$pg_ctl
  export PG_URL="postgresql://postgres@/outfalls?host=$PG_TMP/sock"
  export PG_TMP PG_CTL_BIN
  echo "PostgreSQL cluster running on $PG_TMP/sock"
}

pg_cluster_stop() {
  if [ -n "${PG_TMP:-}" ] && [ -d "$PG_TMP/data" ]; then
    pg_as_owner "$PG_CTL_BIN" -D "$PG_TMP/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
  fi
  PG_TMP=
}

#!/usr/bin/env bash
# `make run`: gunicorn and the task worker (manage.py db_worker) side by side. Ctrl+C stops both, and so
# does either of them exiting. Usage: scripts/serve.sh [HOST] [PORT]
set -uo pipefail
cd "$(dirname "$0")/.."
HOST=${1:-127.0.0.1}
PORT=${2:-8000}

.venv/bin/python manage.py db_worker --no-reload --interval 1 &
worker=$!
.venv/bin/gunicorn outfalls.wsgi --bind "$HOST:$PORT" --workers 3 --access-logfile - &
web=$!

stop() {
  trap - INT TERM EXIT
  kill -TERM "$web" "$worker" 2>/dev/null
  wait "$web" "$worker" 2>/dev/null
}
trap stop INT TERM EXIT
wait -n "$web" "$worker"

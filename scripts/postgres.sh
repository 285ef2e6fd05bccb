#!/usr/bin/env bash
# Start a local PostgreSQL on 127.0.0.1:5432 with role and database "crm" (idempotent).
# Usage: scripts/postgres.sh start|stop. `start` prints the DATABASE_URL to use.
set -euo pipefail
DB=${DB:-crm}; DBUSER=${DBUSER:-crm}; DBPASS=${DBPASS:-crm}; PGPORT=${PGPORT:-5432}
export DEBIAN_FRONTEND=noninteractive

install() {
  if ! command -v pg_lsclusters >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  fi
}

version() { ls /usr/lib/postgresql | sort -V | tail -1; }

start() {
  install
  local v; v=$(version)
  pg_lsclusters -h | awk -v v="$v" '$1==v && $2=="main"' | grep -q . || pg_createcluster "$v" main -p "$PGPORT" >/dev/null
  pg_ctlcluster "$v" main status >/dev/null 2>&1 || pg_ctlcluster "$v" main start
  for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p "$PGPORT" && break; sleep 0.5; done
  psql_pg() { runuser -u postgres -- psql -p "$PGPORT" -v ON_ERROR_STOP=1 -qtA "$@"; }
  psql_pg -c "SELECT 1 FROM pg_roles WHERE rolname='$DBUSER'" | grep -q 1 \
    || psql_pg -c "CREATE ROLE $DBUSER LOGIN CREATEDB PASSWORD '$DBPASS'"
  psql_pg -c "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1 \
    || psql_pg -c "CREATE DATABASE $DB OWNER $DBUSER"
  echo "postgres://$DBUSER:$DBPASS@127.0.0.1:$PGPORT/$DB"
}

stop() {
  local v; v=$(version)
  pg_ctlcluster "$v" main stop || true
}

"${1:-start}"

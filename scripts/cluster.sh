#!/usr/bin/env bash
# The scale-out rehearsal on one machine (design §10), on loopback only:
#   PostgreSQL primary + streaming replica (pg_basebackup), PgBouncer (transaction pooling) in
#   front of the primary, Redis, two gunicorn instances, the background-jobs worker (jobs_worker),
#   HAProxy with /healthz checks.
# Usage: scripts/cluster.sh up | down | status | drain N | ready N | restart N (graceful, one instance)
#        | stop C | start C (C: primary replica pgbouncer redis app1 app2 haproxy) | psql primary|replica | manage ...
# Config files: scripts/cluster/ (rendered into $CLUSTER_DIR/etc). Everything it starts has a pid
# file in $CLUSTER_DIR/run; `down` stops exactly those processes.
# Environment: CLUSTER_DIR (default var/cluster), CLUSTER_PORT (default 56000: balancer; +1
# primary, +2 replica, +3 PgBouncer, +4 Redis, +11/+12 the instances).
set -euo pipefail
shopt -s inherit_errexit
# Folders readable by the postgres user whatever the caller's umask (secrets get 077 one by one).
umask 022
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CONF=$ROOT/scripts/cluster
export CLUSTER_DIR=${CLUSTER_DIR:-$ROOT/var/cluster}
mkdir -p "$CLUSTER_DIR"
CLUSTER_DIR=$(cd "$CLUSTER_DIR" && pwd)
BASE=${CLUSTER_PORT:-56000}
export LB_PORT=$BASE PRIMARY_PORT=$((BASE + 1)) REPLICA_PORT=$((BASE + 2)) PGBOUNCER_PORT=$((BASE + 3))
export REDIS_PORT=$((BASE + 4)) APP1_PORT=$((BASE + 11)) APP2_PORT=$((BASE + 12))
RUN=$CLUSTER_DIR/run LOG=$CLUSTER_DIR/log ETC=$CLUSTER_DIR/etc
VENV=${VENV:-$ROOT/.venv}
export DEBIAN_FRONTEND=noninteractive

log() { printf '[cluster] %s\n' "$*" >&2; }

ensure_packages() {
  local need=()
  ls /usr/lib/postgresql/*/bin/pg_basebackup >/dev/null 2>&1 || need+=(postgresql)
  command -v pgbouncer >/dev/null || need+=(pgbouncer)
  command -v haproxy >/dev/null || need+=(haproxy)
  command -v redis-server >/dev/null || need+=(redis-server)
  command -v envsubst >/dev/null || need+=(gettext-base)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]} (Debian packages)"
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
}

# PostgreSQL and PgBouncer refuse to run as root: as root they run as the postgres user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

render() {  # render scripts/cluster/$1 into $ETC/$1 (only the variables named here are replaced)
  envsubst '${CLUSTER_DIR} ${CONF} ${LB_PORT} ${PRIMARY_PORT} ${REPLICA_PORT} ${PGBOUNCER_PORT} ${REDIS_PORT} ${APP1_PORT} ${APP2_PORT} ${DB_PASSWORD}' \
    <"$CONF/$1" >"$ETC/$1"
}

running() {  # process $1 runs (a killed process whose parent has not reaped it yet does not)
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

alive() { [ -f "$1" ] && running "$(head -1 "$1")"; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq 1 $((seconds * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "$what did not come up within ${seconds}s; logs in $LOG"
  return 1
}

psql_primary() { as_pg "$PG_BIN/psql" -h "$CLUSTER_DIR/pg" -p "$PRIMARY_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

pg_start() {  # pg_start NAME PORT
  local data=$CLUSTER_DIR/pg/$1
  as_pg "$PG_BIN/pg_ctl" status -D "$data" >/dev/null 2>&1 && return 0
  as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$LOG/postgres-$1.log" -w -t 60 \
    -o "-p $2 -c listen_addresses=127.0.0.1 -k $CLUSTER_DIR/pg" start >/dev/null
}

pg_stop() { as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER_DIR/pg/$1" -m fast -w -t 30 stop >/dev/null 2>&1 || true; }

rand() { python3 -c "import secrets; print(secrets.token_hex($1))"; }

secrets() {
  if [ ! -f "$CLUSTER_DIR/secrets.env" ]; then
    (umask 077 && printf 'DB_PASSWORD=%s\nREPLICATION_PASSWORD=%s\nDJANGO_SECRET_KEY=%s\nMETRICS_TOKEN=%s\n' \
      "$(rand 16)" "$(rand 16)" "$(rand 32)" "$(rand 16)" \
      >"$CLUSTER_DIR/secrets.env")
  fi
  set -a && . "$CLUSTER_DIR/secrets.env" && set +a
}

up_postgres() {
  mkdir -p "$CLUSTER_DIR/pg"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$CLUSTER_DIR/pg"
  local primary=$CLUSTER_DIR/pg/primary replica=$CLUSTER_DIR/pg/replica fresh=0
  if [ ! -f "$primary/PG_VERSION" ]; then
    log "initdb primary"
    local pwfile=$CLUSTER_DIR/pg/.pw
    (umask 077 && printf '%s\n' "$REPLICATION_PASSWORD" >"$pwfile")
    [ "$(id -u)" = 0 ] && chown postgres "$pwfile"
    # Passwords on every TCP connection, replication included (initdb's pg_hba has the lines).
    as_pg "$PG_BIN/initdb" -D "$primary" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --pwfile="$pwfile" >"$LOG/initdb.log"
    rm -f "$pwfile"
    echo "include '$CONF/primary.conf'" | as_pg tee -a "$primary/postgresql.conf" >/dev/null
    fresh=1
  fi
  pg_start primary "$PRIMARY_PORT"
  if [ $fresh = 1 ]; then
    psql_primary -c "CREATE ROLE replicator REPLICATION LOGIN PASSWORD '$REPLICATION_PASSWORD'" \
      -c "CREATE ROLE crm LOGIN CREATEDB PASSWORD '$DB_PASSWORD'" -c "CREATE DATABASE crm OWNER crm" \
      -c "SELECT pg_create_physical_replication_slot('replica1')" >/dev/null
  fi
  if [ ! -f "$replica/PG_VERSION" ]; then
    log "pg_basebackup replica"
    as_pg env PGPASSWORD="$REPLICATION_PASSWORD" "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" \
      -U replicator -D "$replica" -R -X stream -c fast
    echo "include '$CONF/replica.conf'" | as_pg tee -a "$replica/postgresql.conf" >/dev/null
  fi
  pg_start replica "$REPLICA_PORT"
}

up_pgbouncer() {
  alive "$RUN/pgbouncer.pid" && return 0
  render pgbouncer.ini
  (umask 077 && printf '"crm" "%s"\n' "$DB_PASSWORD" >"$ETC/userlist.txt")
  [ "$(id -u)" = 0 ] && chown postgres "$ETC/userlist.txt" "$ETC/pgbouncer.ini" "$RUN" "$LOG"
  if ! as_pg pgbouncer -d "$ETC/pgbouncer.ini" 2>"$LOG/pgbouncer.err"; then
    log "PgBouncer did not start:"
    cat "$LOG/pgbouncer.err" >&2
    return 1
  fi
  wait_for 10 PgBouncer bash -c "exec 3<>/dev/tcp/127.0.0.1/$PGBOUNCER_PORT"
}

up_redis() {
  alive "$RUN/redis.pid" && return 0
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --daemonize yes --save '' --appendonly no \
    --pidfile "$RUN/redis.pid" --logfile "$LOG/redis.log" --dir "$CLUSTER_DIR"
  wait_for 10 Redis redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
}

instance_env() {  # the environment of instance N, as KEY=VALUE lines
  local n=$1 port_var=APP$1_PORT
  cat "$ETC/instance.env"
  printf 'PORT=%s\nGUNICORN_BIND=127.0.0.1:%s\n' "${!port_var}" "${!port_var}"
  printf 'DJANGO_SECRET_KEY=%s\nMETRICS_TOKEN=%s\nDJANGO_ENV_FILE=/dev/null\n' "$DJANGO_SECRET_KEY" "$METRICS_TOKEN"
  printf 'PROMETHEUS_MULTIPROC_DIR=%s\nLOOKUP_AUDIT_SPOOL_DIR=%s\n' "$CLUSTER_DIR/app$n/metrics" "$CLUSTER_DIR/app$n/spool"
  printf 'DJANGO_STATIC_ROOT=%s\n' "$CLUSTER_DIR/static"
  # Extra settings for a rehearsal (the cluster tests raise the throttle rate): KEY=VALUE words.
  printf '%s\n' ${CLUSTER_EXTRA_ENV:-}
}

manage() {  # a management command with instance 1's environment (metrics of commands are not collected)
  env -i PATH="$PATH" $(instance_env 1 | grep -v -e '^#' -e '^PROMETHEUS') "$VENV/bin/python" "$ROOT/manage.py" "$@"
}

start_instance() {
  local n=$1 port_var=APP$1_PORT
  alive "$RUN/app$n.pid" && return 0
  mkdir -p "$CLUSTER_DIR/app$n/metrics"
  mkdir -p -m 700 "$CLUSTER_DIR/app$n/spool"  # audit rows (phone numbers) waiting for their batch
  # setsid: its own process group, so a test can SIGKILL the whole instance (master and workers).
  (cd "$ROOT" && exec env -i PATH="$PATH" $(instance_env "$n" | grep -v '^#') setsid \
    "$VENV/bin/gunicorn" --config config/gunicorn.conf.py config.wsgi >>"$LOG/app$n.log" 2>&1) &
  echo $! >"$RUN/app$n.pid"
  wait_for 30 "instance $n" curl -fsS "http://127.0.0.1:${!port_var}/healthz"
}

start_worker() {  # the background-jobs worker (imports and exports): one beside the instances is enough
  alive "$RUN/worker.pid" && return 0
  (cd "$ROOT" && exec env -i PATH="$PATH" $(instance_env 1 | grep -v -e '^#' -e '^PROMETHEUS') setsid \
    "$VENV/bin/python" manage.py jobs_worker --no-reload --interval 0.5 --verbosity 1 >>"$LOG/worker.log" 2>&1) &
  echo $! >"$RUN/worker.pid"
}

haproxy_cmd() {  # one command on HAProxy's runtime API
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode()+b"\n"); print(s.makefile().read(), end="")' \
    "$CLUSTER_DIR/haproxy.sock" "$1"
}

up_haproxy() {
  render haproxy.cfg
  haproxy -c -q -f "$ETC/haproxy.cfg"
  if alive "$RUN/haproxy.pid"; then return 0; fi
  haproxy -D -f "$ETC/haproxy.cfg" -p "$RUN/haproxy.pid"
  wait_for 10 HAProxy curl -fsS "http://127.0.0.1:$LB_PORT/healthz"
}

cmd_up() {
  ensure_packages
  [ -x "$VENV/bin/gunicorn" ] || make -C "$ROOT" install >/dev/null
  mkdir -p "$RUN" "$LOG" "$ETC"
  [ "$(id -u)" = 0 ] && chown postgres "$RUN" "$LOG"  # PostgreSQL and PgBouncer write their logs and pids there
  secrets
  up_postgres
  up_pgbouncer
  up_redis
  render instance.env
  manage migrate --noinput -v0
  manage load_demo_if_empty
  manage collectstatic --noinput -v0
  (umask 077 && manage ensure_admin admin --password-file "$CLUSTER_DIR/admin-password" >/dev/null)
  (umask 077 && manage ensure_lookup_token cluster --token-file "$CLUSTER_DIR/lookup-token" >/dev/null)
  start_instance 1
  start_instance 2
  start_worker
  up_haproxy
  echo "balancer: http://127.0.0.1:$LB_PORT"
  echo "token: $(cat "$CLUSTER_DIR/lookup-token")"
  echo "admin: http://127.0.0.1:$LB_PORT/admin/ user admin password $(cat "$CLUSTER_DIR/admin-password")"
  echo "metrics: curl -H 'Authorization: Bearer $METRICS_TOKEN' http://127.0.0.1:$APP1_PORT/metrics"
}

stop_pidfile() {  # stop_pidfile FILE [SIGNAL]: signal the process, wait up to 15 s, then SIGKILL
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(head -1 "$file")
  if running "$pid"; then
    kill -"${2:-TERM}" "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$file"
}

cmd_down() {
  ensure_packages
  stop_pidfile "$RUN/haproxy.pid" USR1  # USR1: soft stop, open connections finish
  stop_pidfile "$RUN/app1.pid"
  stop_pidfile "$RUN/app2.pid"
  stop_pidfile "$RUN/worker.pid"
  stop_pidfile "$RUN/pgbouncer.pid"
  stop_pidfile "$RUN/redis.pid"
  pg_stop replica
  pg_stop primary
  log "stopped; data kept in $CLUSTER_DIR (delete it for a fresh start)"
}

cmd_drain() {  # take instance N out of rotation: no new requests, in-flight ones finish
  haproxy_cmd "set server app/app$1 state drain" >/dev/null
  for _ in $(seq 1 100); do
    [ "$(haproxy_cmd "show stat" | awk -F, -v s="app$1" '$1=="app" && $2==s {print $5}')" = 0 ] && return 0
    sleep 0.1
  done
}

cmd_ready() { haproxy_cmd "set server app/app$1 state ready" >/dev/null; }

cmd_restart() {  # graceful: drain at the balancer, SIGTERM (gunicorn finishes in-flight requests), start, ready
  ensure_packages
  secrets
  cmd_drain "$1"
  stop_pidfile "$RUN/app$1.pid"
  start_instance "$1"
  cmd_ready "$1"
}

cmd_status() {
  ensure_packages
  local rc=0 name
  for name in haproxy app1 app2 worker pgbouncer redis; do
    if alive "$RUN/$name.pid"; then echo "$name: running (pid $(head -1 "$RUN/$name.pid"))"; else echo "$name: stopped"; rc=1; fi
  done
  for name in primary replica; do
    if as_pg "$PG_BIN/pg_ctl" status -D "$CLUSTER_DIR/pg/$name" >/dev/null 2>&1; then echo "postgres $name: running"
    else echo "postgres $name: stopped"; rc=1; fi
  done
  if [ -S "$CLUSTER_DIR/haproxy.sock" ] && alive "$RUN/haproxy.pid"; then
    haproxy_cmd "show stat" | awk -F, '$1=="app" && $2 ~ /^app/ {print "balancer " $2 ": " $18}'
  fi
  local port
  for port in "$APP1_PORT" "$APP2_PORT"; do
    echo "healthz :$port $(curl -sS -m 2 "http://127.0.0.1:$port/healthz" 2>/dev/null || echo unreachable)"
  done
  return $rc
}

cmd_stop() {  # stop one component: replica | primary | pgbouncer | redis | app1 | app2 | haproxy
  case "$1" in
    primary | replica) pg_stop "$1" ;;
    *) stop_pidfile "$RUN/$1.pid" ;;
  esac
}

cmd_start() {  # start one stopped component again
  ensure_packages
  secrets
  case "$1" in
    primary) pg_start primary "$PRIMARY_PORT" ;;
    replica) pg_start replica "$REPLICA_PORT" ;;
    pgbouncer) up_pgbouncer ;;
    redis) up_redis ;;
    app1 | app2) start_instance "${1#app}" ;;
    worker) start_worker ;;
    haproxy) up_haproxy ;;
    *) echo "unknown component: $1" >&2; exit 2 ;;
  esac
}

cmd_psql() {  # psql primary|replica [ARGS]: a superuser session over the local socket
  local name=$1 port=$PRIMARY_PORT
  shift
  [ "$name" = replica ] && port=$REPLICA_PORT
  as_pg "$PG_BIN/psql" -h "$CLUSTER_DIR/pg" -p "$port" -U postgres -d crm -v ON_ERROR_STOP=1 "$@"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  drain) cmd_drain "${2:?instance number}" ;;
  ready) cmd_ready "${2:?instance number}" ;;
  restart) cmd_restart "${2:?instance number}" ;;
  stop) ensure_packages && cmd_stop "${2:?component}" ;;
  start) cmd_start "${2:?component}" ;;
  psql) ensure_packages && shift && cmd_psql "$@" ;;
  manage) ensure_packages && secrets && shift && manage "$@" ;;
  *) echo "usage: $0 up|down|status|drain N|ready N|restart N|stop C|start C|psql primary|replica ...|manage ..." >&2; exit 2 ;;
esac

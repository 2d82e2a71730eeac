#!/usr/bin/env bash
# A throwaway PostgreSQL for Parley's PostgreSQL test tier.
#
#   eval "$(scripts/pg_local.sh start)"   # install if missing, start, export PARLEY_TEST_DATABASE_URL
#   .venv/bin/python -m pytest tests/store -q -m postgres
#   scripts/pg_local.sh status
#   scripts/pg_local.sh stop              # stop the server and delete its cluster
#   scripts/pg_local.sh stop --force      # ... even if other `start`s still use it
#
# Concurrent users (several test runs from one checkout) share one server: a
# `start` while it runs reuses it and counts one more user; `stop` only stops
# it when the last user stops.  State changes are serialised with flock.
#
# The cluster lives in a temporary folder (recorded in $PARLEY_PG_STATE, default
# /tmp/parley-pg-local.env), listens on 127.0.0.1 on a free port with trust
# authentication, and has a database named parley_test.  Only the `export ...`
# line goes to stdout; progress goes to stderr.  Run as root (the cluster is
# owned by the `postgres` user) or as an ordinary user who can run initdb.
set -euo pipefail

STATE="${PARLEY_PG_STATE:-/tmp/parley-pg-local.env}"
DB_NAME="${PARLEY_PG_DB:-parley_test}"

LOCK="${STATE}.lock"

log() { printf 'pg_local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

pg_bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/postgres" ]]; then
        printf '%s\n' "$dir"
    fi
}

ensure_installed() {
    if [[ -n "$(pg_bindir)" ]]; then
        return
    fi
    [[ $EUID -eq 0 ]] || die "PostgreSQL server is not installed; run as root or: sudo apt-get install -y postgresql"
    log "installing PostgreSQL from Debian packages (apt-get)..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    [[ -n "$(pg_bindir)" ]] || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/initdb was found"
}

# as_pg CMD...: run as the cluster owner (postgres when we are root, else ourselves)
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 - <<'EOF' 2>/dev/null || echo 55432
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

write_state() {
    printf 'BIN=%q\nROOT=%q\nDATA=%q\nPORT=%q\nUSERS=%q\n' "$BIN" "$ROOT" "$DATA" "$PORT" "$USERS" >"$STATE"
}

lock_state() {
    exec 9>"$LOCK"
    flock -w 300 9 || die "timed out waiting for $LOCK"
}

print_export() {
    printf 'export PARLEY_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:%s/%s\n' "$PORT" "$DB_NAME"
}

is_running() {
    [[ -f "$STATE" ]] || return 1
    # shellcheck disable=SC1090
    source "$STATE"
    [[ -n "${DATA:-}" && -d "$DATA" ]] || return 1
    as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

cmd_start() {
    lock_state
    if is_running; then
        USERS=$(( ${USERS:-1} + 1 ))
        write_state
        log "already running on 127.0.0.1:$PORT (cluster $DATA; $USERS users)"
        print_export
        return
    fi
    ensure_installed
    BIN="$(pg_bindir)"
    ROOT="$(mktemp -d /tmp/parley-pg.XXXXXX)"
    DATA="$ROOT/data"
    PORT="$(free_port)"
    if [[ $EUID -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "no 'postgres' user (the postgresql package creates it)"
        chown postgres: "$ROOT"
    fi
    chmod 700 "$ROOT"
    log "creating cluster in $DATA ($("$BIN/postgres" --version))"
    as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$ROOT/initdb.log" 2>&1 \
        || as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$ROOT/initdb.log" 2>&1 \
        || { cat "$ROOT/initdb.log" >&2; die "initdb failed"; }
    USERS=1
    write_state
    log "starting on 127.0.0.1:$PORT"
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$ROOT/server.log" -w -t 60 \
        -o "-k /tmp -c listen_addresses=127.0.0.1 -p $PORT -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >&2 9>&- || { tail -n 30 "$ROOT/server.log" >&2 || true; die "pg_ctl start failed (log: $ROOT/server.log)"; }
    as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt \
        -c "CREATE DATABASE $DB_NAME" >&2 || die "could not create database $DB_NAME"
    log "ready: database $DB_NAME; stop with: $0 stop"
    print_export
}

cmd_stop() {
    lock_state
    if [[ ! -f "$STATE" ]]; then
        log "nothing to stop (no $STATE)"
        return
    fi
    # shellcheck disable=SC1090
    source "$STATE"
    if [[ "${1:-}" != "--force" && ${USERS:-1} -gt 1 ]]; then
        USERS=$(( USERS - 1 ))
        write_state
        log "still used by $USERS other start(s): left running (stop --force to stop anyway)"
        return
    fi
    if [[ -n "${DATA:-}" && -d "$DATA" ]]; then
        as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2 || log "pg_ctl stop failed (already stopped?)"
    fi
    if [[ -n "${ROOT:-}" && "$ROOT" == /tmp/parley-pg.* ]]; then
        rm -rf -- "$ROOT"
    fi
    rm -f -- "$STATE"
    log "stopped and removed"
}

cmd_status() {
    if is_running; then
        log "running on 127.0.0.1:$PORT (cluster $DATA)"
        print_export
    else
        log "not running"
        return 1
    fi
}

case "${1:-start}" in
    start) cmd_start ;;
    stop) cmd_stop "${2:-}" ;;
    status) cmd_status ;;
    *) die "usage: $0 [start|stop [--force]|status]" ;;
esac

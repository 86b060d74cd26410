#!/usr/bin/env bash
# Failover rehearsal / フェイルオーバーのリハーサル (docs/operations.md §7).
#
# Fully self-contained: it creates its own PostgreSQL 15 primary (port 5440) and streaming replica
# (port 5441) in a temporary directory, runs the bank against the primary, leaves work in flight, kills
# the primary, promotes the replica, points the app at it, checks and drains the in-flight work with a
# real Celery worker and beat, and removes everything it started (also on error or Ctrl-C).
# It never touches the system cluster on 5432, nor the project's var/ directory.
#
# Run as root from the project root (PostgreSQL refuses to run as root: the server binaries run as the
# `postgres` OS user through runuser):
#
#     docs/scripts/failover-rehearsal.sh
#
# After the failover it also rehearses a point-in-time recovery (PITR) from the base backup and the WAL
# archive into a third cluster (port 5442) and shows what a bank-only restore means with core separate.
#
# Knobs (environment): PG_BIN (/usr/lib/postgresql/15/bin), PRIMARY_PORT (5440), REPLICA_PORT (5441),
# PITR_PORT (5442), KEEP_WORKDIR=1 (do not delete the temporary directory, for inspection).
# Exit status 0 and a last line "REHEARSAL OK" when every check passed.
set -Eeuo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PRIMARY_PORT=${PRIMARY_PORT:-5440}
REPLICA_PORT=${REPLICA_PORT:-5441}
PITR_PORT=${PITR_PORT:-5442}
PG_USER=postgres
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY="$ROOT/.venv/bin/python"
CELERY="$ROOT/.venv/bin/celery"
GUNICORN="$ROOT/.venv/bin/gunicorn"

die() { echo "failover-rehearsal: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (the PostgreSQL server binaries are run as the '$PG_USER' user via runuser)"
[ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 binaries not found in $PG_BIN"
id "$PG_USER" >/dev/null 2>&1 || die "OS user '$PG_USER' is missing"
[ -x "$PY" ] || die "$PY missing: run 'make install' first"
for port in "$PRIMARY_PORT" "$REPLICA_PORT" "$PITR_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then die "port $port is already in use; refusing to touch it"; fi
done

WORK=$(mktemp -d /tmp/bank-failover.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/pg" "$WORK/var"
chown "$PG_USER" "$WORK/pg"
PRIMARY_DIR="$WORK/pg/primary"
REPLICA_DIR="$WORK/pg/replica"
BASE_DIR="$WORK/pg/base"
PITR_DIR="$WORK/pg/pitr"
ARCHIVE="$WORK/pg/archive"
SOCKETS="$WORK/pg"
CORE_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PIDS=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for dir in "$PRIMARY_DIR" "$REPLICA_DIR" "$PITR_DIR"; do
    if [ -f "$dir/postmaster.pid" ]; then
      runuser -u "$PG_USER" -- "$PG_BIN/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
  if [ "${KEEP_WORKDIR:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
  [ "$status" -eq 0 ] || echo "failover-rehearsal: FAILED (exit $status); everything it started was stopped" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg() { runuser -u "$PG_USER" -- "$@"; }
psql_at() { local port=$1; shift; "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U "$PG_USER" -X -qAt "$@"; }

# The bank as `make run` would run it, but on the rehearsal's own database, var dir and ports. `env -i`
# keeps the caller's DATABASE_URL etc. out, and exec's the program, so `$!` is the program's own pid.
cd "$ROOT"
app_env_for() {  # app_env_for <database port>: the environment of every app process below
  APP=(env -i PATH="$ROOT/.venv/bin:/usr/bin:/bin" HOME="$WORK" LANG=C.UTF-8 PYTHONUNBUFFERED=1
       DJANGO_SETTINGS_MODULE=config.settings.local BANK_VAR_DIR="$WORK/var"
       DATABASE_URL="postgres://$PG_USER@127.0.0.1:$1/bank"
       CORE_DATABASE_URL="sqlite:///$WORK/var/core.sqlite3"
       CORE_BANKING_URL="http://127.0.0.1:$CORE_PORT"
       EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend EMAIL_FILE_PATH="$WORK/var/mail"
       LOG_LEVEL=WARNING)
}
app_env_for "$PRIMARY_PORT"
manage() { "${APP[@]}" "$PY" manage.py "$@"; }
pyshell() { manage shell --no-imports -c "$1"; }

declare -a TIMINGS=()
STEP_NAME="" STEP_START=0
now() { date +%s.%N; }
step() { STEP_NAME=$1; STEP_START=$(now); printf '\n=== %s\n' "$STEP_NAME"; }
done_step() {
  local seconds
  seconds=$(awk -v a="$STEP_START" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
  TIMINGS+=("$(printf '%-50s %6s s' "$STEP_NAME" "$seconds")")
  echo "--- ${seconds} s"
}
wait_for() {  # wait_for <seconds> <command...>: retry every 0.1 s
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

echo "work dir $WORK; primary :$PRIMARY_PORT, replica :$REPLICA_PORT, core mock :$CORE_PORT"
"$PG_BIN/postgres" --version

step "1. initdb + start the primary (:$PRIMARY_PORT)"
pg "$PG_BIN/initdb" -D "$PRIMARY_DIR" -U "$PG_USER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
pg mkdir "$ARCHIVE"
cat >>"$PRIMARY_DIR/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKETS'
wal_level = replica
max_wal_senders = 4
hot_standby = on
archive_mode = on
archive_command = 'test ! -f $ARCHIVE/%f && cp %p $ARCHIVE/%f.part && mv $ARCHIVE/%f.part $ARCHIVE/%f'
CONF
pg "$PG_BIN/pg_ctl" -D "$PRIMARY_DIR" -l "$WORK/pg/primary.log" -o "-p $PRIMARY_PORT" -w start >/dev/null
psql_at "$PRIMARY_PORT" -d postgres -c "CREATE DATABASE bank"
done_step

step "2. pg_basebackup + start the replica (:$REPLICA_PORT)"
# One base backup for the PITR later (plain copy + its WAL), one for the streaming replica (-R: standby.signal
# and primary_conninfo are written for us).
pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U "$PG_USER" -D "$BASE_DIR" -X stream -c fast
pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U "$PG_USER" -D "$REPLICA_DIR" -R -X stream -c fast
pg "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -l "$WORK/pg/replica.log" -o "-p $REPLICA_PORT" -w start >/dev/null
[ "$(psql_at "$REPLICA_PORT" -d postgres -c 'SELECT pg_is_in_recovery()')" = t ] || die "replica is not in recovery"
psql_at "$PRIMARY_PORT" -d postgres -c "SELECT 'replication: ' || application_name || ' ' || state FROM pg_stat_replication"
done_step

step "3. migrate, seed, start the core mock, sync"
manage migrate --noinput -v 0
manage migrate --database core --noinput -v 0
manage seed_demo -v 0
"${APP[@]}" "$GUNICORN" config.wsgi_core:application --bind "127.0.0.1:$CORE_PORT" --workers 1 --threads 4 \
  --log-level warning >"$WORK/core.log" 2>&1 &
PIDS+=($!)
wait_for 20 "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$CORE_PORT/healthz', timeout=1)" \
  || die "core mock did not start: $(cat "$WORK/core.log")"
manage sync_core
sleep 0.5
PITR_TARGET=$(psql_at "$PRIMARY_PORT" -d postgres -c "SELECT now()")
echo "PITR target (before any transfer): $PITR_TARGET"
sleep 0.5
done_step

step "4. in-flight work (no worker running)"
pyshell '
from django.contrib.auth import get_user_model
from outbox import registry, relay
from transfers.services import transfer_request
User = get_user_model()
payer = User.objects.get(**{User.USERNAME_FIELD: "user001"})
for amount in (1000, 2000, 3000):
    answer = transfer_request(user=payer, body={"sourceAccountId": "0011234567", "targetAccountId": "0017654321",
                                                "amount": amount}, idempotency_key=None)
    print("accepted", answer.status_code, answer.body["transactionId"], amount, "yen")
# A worker claims one row (lease 3 s), starts it, core applies the withdrawal, and the worker dies before it
# settles: the same calls as outbox.relay.drain, minus the settle.
message = relay.claim(queue="core", worker_id="rehearsal:worker-that-dies", batch_size=1, lease_seconds=3)[0]
handler = registry.handler_find(message.kind)
relay.start(message=message, handler=handler)
delivery = relay.deliver(message=message, handler=handler)
print("claimed", message.key, "- core answered", delivery.http_status, "- the worker dies before settling")
'
manage outbox_status
done_step

step "5. replica catches up (replay LSN); WAL archived"
SWITCHED=$(psql_at "$PRIMARY_PORT" -d postgres -c "SELECT pg_walfile_name(pg_switch_wal())")
# Archived means the archiver reported success (pg_stat_archiver), not merely that the file exists: an
# immediate stop in step 6 also kills a `cp` still writing, and a PITR would then meet a truncated segment.
archived() {
  [ -f "$ARCHIVE/$SWITCHED" ] && [ "$(psql_at "$PRIMARY_PORT" -d postgres -c \
    "SELECT coalesce(last_archived_wal >= '$SWITCHED', false) FROM pg_stat_archiver")" = t ]
}
wait_for 30 archived || die "WAL segment $SWITCHED was not archived"
echo "WAL segment $SWITCHED archived"
PRIMARY_LSN=$(psql_at "$PRIMARY_PORT" -d postgres -c "SELECT pg_current_wal_lsn()")
replica_caught_up() {
  [ "$(psql_at "$REPLICA_PORT" -d postgres -c "SELECT pg_last_wal_replay_lsn() >= '$PRIMARY_LSN'::pg_lsn")" = t ]
}
wait_for 30 replica_caught_up || die "replica did not catch up with $PRIMARY_LSN"
echo "primary LSN $PRIMARY_LSN replayed by the replica"
done_step

step "6. lose the primary (pg_ctl stop -m immediate)"
pg "$PG_BIN/pg_ctl" -D "$PRIMARY_DIR" -m immediate -w stop >/dev/null
FAILURE_AT=$(now)
echo "app on the old primary: database $(pyshell 'from config.health import check_database; print(check_database("default"))')"
if psql_at "$REPLICA_PORT" -d bank -c "CREATE TABLE must_fail (id int)" 2>"$WORK/ro.txt"; then die "replica accepted a write"; fi
echo "replica before promotion: $(head -1 "$WORK/ro.txt")"
done_step

step "7. promote the replica (pg_ctl promote)"
pg "$PG_BIN/pg_ctl" -D "$REPLICA_DIR" -w promote >/dev/null
[ "$(psql_at "$REPLICA_PORT" -d postgres -c 'SELECT pg_is_in_recovery()')" = f ] || die "replica still in recovery"
PROMOTED_AT=$(now)
echo "pg_is_in_recovery() = f: the replica is the new primary"
done_step

step "8. point the app at :$REPLICA_PORT, outbox_status"
app_env_for "$REPLICA_PORT"
APP_HEALTH=$(pyshell 'from config.health import check_database; print(check_database("default"))')
echo "database $APP_HEALTH"
[ "$APP_HEALTH" = ok ] || die "the app cannot use the new primary"
APP_OK_AT=$(now)
manage outbox_status
pyshell '
from transfers.models import Transfer
for transfer in Transfer.objects.order_by("created_at"):
    print("transfer", transfer.transaction_id, transfer.amount, transfer.phase)
'
done_step

step "9. stuck detector, replay, check_invariants"
pyshell '
from outbox.tasks import stuck_detector
from outbox.invariants import stuck_items_list
print("stuck_detector lagging:", stuck_detector())
print("stuck items:", len(stuck_items_list()))
'
manage outbox_replay --all-failed --actor "rehearsal"
manage check_invariants
done_step

step "10. start worker + beat, drain"
"${APP[@]}" "$CELERY" -A config worker --queues core,notify,default --concurrency 1 --hostname "rehearsal@%h" \
  --loglevel WARNING >"$WORK/worker.log" 2>&1 &
PIDS+=($!)
"${APP[@]}" "$CELERY" -A config beat --loglevel WARNING >"$WORK/beat.log" 2>&1 &
PIDS+=($!)
open_rows() { psql_at "$REPLICA_PORT" -d bank -c "SELECT count(*) FROM outbox_message WHERE status IN ('pending', 'processing')"; }
all_terminal() {
  [ "$(psql_at "$REPLICA_PORT" -d bank -c "SELECT count(*) FROM transfers_transfer WHERE NOT terminal")" = 0 ] &&
    [ "$(open_rows)" = 0 ]
}
wait_for 90 all_terminal || { tail -30 "$WORK/worker.log"; die "in-flight work did not drain"; }
DRAINED_AT=$(now)
done_step

step "11. after the drain: invariants, reconcile"
manage outbox_status
pyshell '
from outbox.models import OutboxAttempt
from transfers.models import Transfer
for transfer in Transfer.objects.order_by("created_at"):
    print("transfer", transfer.transaction_id, transfer.amount, transfer.phase)
for attempt in OutboxAttempt.objects.filter(outcome="lease_expired"):
    print("reclaimed after the failover:", attempt.message.key, "(lease of", attempt.worker + ")")
'
manage check_invariants
manage reconcile
done_step

step "12. PITR: base backup + WAL archive → :$PITR_PORT"
echo "recovery_target_time = $PITR_TARGET (before the first transfer)"
pg cp -a "$BASE_DIR" "$PITR_DIR"
cat >>"$PITR_DIR/postgresql.conf" <<CONF
archive_mode = off
restore_command = 'cp $ARCHIVE/%f %p'
recovery_target_time = '$PITR_TARGET'
recovery_target_action = 'promote'
CONF
pg touch "$PITR_DIR/recovery.signal"
pg "$PG_BIN/pg_ctl" -D "$PITR_DIR" -l "$WORK/pg/pitr.log" -o "-p $PITR_PORT" -w -t 60 start >/dev/null \
  || die "PITR cluster did not start: $(tail -15 "$WORK/pg/pitr.log")"
pitr_promoted() { [ "$(psql_at "$PITR_PORT" -d postgres -c 'SELECT pg_is_in_recovery()')" = f ]; }
wait_for 60 pitr_promoted || die "PITR cluster did not finish recovery: $(tail -5 "$WORK/pg/pitr.log")"
grep -E "recovery stopping|starting point-in-time" "$WORK/pg/pitr.log" | sed 's/^.*LOG: */pitr.log: /' || true
app_env_for "$PITR_PORT"
pyshell '
from transfers.models import Transfer
from outbox.eventstore.models import Event
from outbox.models import OutboxMessage
print("restored bank database: transfers", Transfer.objects.count(), "events", Event.objects.count(),
      "outbox rows", OutboxMessage.objects.count())
'
manage check_invariants
echo "reconcile against core (which kept the transfers):"
manage reconcile || echo "reconcile exit status $? (drift or unreachable)"
done_step

printf '\n=== timings\n'
printf '%s\n' "${TIMINGS[@]}"
awk -v lost="$FAILURE_AT" -v promoted="$PROMOTED_AT" -v app="$APP_OK_AT" -v drained="$DRAINED_AT" 'BEGIN {
  printf "primary lost → replica promoted (accepts writes):  %6.2f s\n", promoted - lost
  printf "primary lost → app connected to the new primary:   %6.2f s\n", app - lost
  printf "primary lost → every in-flight transfer completed: %6.2f s (includes the checks of steps 8-9)\n", drained - lost
}'
echo "REHEARSAL OK"

#!/usr/bin/env bash
# The "Tracking lookups" benchmark of docs/benchmarks.md, end to end (issue #4): builds the
# release binaries, loads ITEMS items with 8 tracking events each into a PostgreSQL database
# (skipped when the database holds that data set already), then, side by side in one run,
# puts wrk (64 connections, 2 threads) on
#   baseline   a bare axum + sqlx server: one primary-key lookup of postal_items as JSON
#   api        eposta serve: GET /api/v1/tracking/{id} with a postal:track API key
#   page       eposta serve: the public page GET /track?id={id} (HTML)
# each for DURATION seconds after a warm-up, ROUNDS times in turn, and prints requests/s
# and latency percentiles, with the CPU time per request of the server process and of the
# database's backends, one line per run and the median of the rounds per target.
#
#   bash bench/tracking.sh [ITEMS] [DURATION] [ROUNDS]      (defaults 10000000 30 3)
#
# Environment (all optional):
#   BENCH_PG        server URL without database   (postgres://postgres@127.0.0.1:5432)
#   BENCH_DB        database name                 (bench_1m for 1000000, bench_10m for
#                                                  10000000, bench_<ITEMS> otherwise)
#   BENCH_POOL      connections per server pool   (8)
#   BENCH_TARGETS   which targets                 ("baseline api page")
#   BENCH_WARMUP    warm-up seconds per run       (5)
# The database is this script's own: a half-finished load (the loader's table
# bench_tracking_dataset there, without its row) is dropped and loaded again. Disk: about
# 2.2 GB per million items. `dropdb` it when done.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

items="${1:-10000000}"
duration="${2:-30}"
rounds="${3:-3}"
pg="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
case "$items" in
  1000000) label=1m ;;
  10000000) label=10m ;;
  *) label="$items" ;;
esac
db="${BENCH_DB:-bench_$label}"
url="$pg/$db"
pool="${BENCH_POOL:-8}"
targets="${BENCH_TARGETS:-baseline api page}"
warmup="${BENCH_WARMUP:-5}"
baseline_port=8091
eposta_port=8092

if ! command -v wrk >/dev/null; then
  echo "==> installing wrk"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

echo "==> building (release)"
cargo build --release --bin eposta
cargo build --release -p eposta-postal --example bench_tracking_load --example bench_tracking_baseline
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
eposta="$target_dir/release/eposta"
loader="$target_dir/release/examples/bench_tracking_load"
baseline="$target_dir/release/examples/bench_tracking_baseline"

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> machine"
echo "cores: $(nproc)"
lscpu | grep 'Model name' | sed 's/  */ /g'
free -h | awk '/^Mem:/ { print "memory: " $2 }'
psql "$pg/postgres" -Atc 'SELECT version()' | cut -d' ' -f1-2
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

export EPOSTA_DATABASE_URL="$url"
export EPOSTA_DATA_DIR="$work/data"
EPOSTA_SECRET_KEY="$(head -c 32 /dev/urandom | base64 | tr -d '=+/')"
export EPOSTA_SECRET_KEY
export EPOSTA_LOG=warn

echo "==> data set: $items items, $((items * 8)) events in database $db"
q() { psql "$url" -v ON_ERROR_STOP=1 -Atc "$1"; }
if psql "$pg/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  mine="$(q "SELECT to_regclass('bench_tracking_dataset') IS NOT NULL")"
  loaded=""
  if [ "$mine" = t ]; then loaded="$(q 'SELECT items FROM bench_tracking_dataset')"; fi
  if [ "$mine" = t ] && [ "$loaded" != "$items" ]; then
    echo "the database holds ${loaded:-a half-finished load}, not $items items: dropping it"
    psql "$pg/postgres" -qc "DROP DATABASE \"$db\""
  fi
fi
psql "$pg/postgres" -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 ||
  psql "$pg/postgres" -qc "CREATE DATABASE \"$db\""
"$eposta" migrate
df -h / | tail -1 | awk '{ print "disk before load: " $4 " free" }'
"$loader" load "$items"
q "SELECT 'postal_items: ' || pg_size_pretty(pg_table_size('postal_items')) || ' table, ' || pg_size_pretty(pg_indexes_size('postal_items')) || ' indexes; tracking_events: ' || pg_size_pretty(pg_table_size('tracking_events')) || ' table, ' || pg_size_pretty(pg_indexes_size('tracking_events')) || ' indexes; database ' || pg_size_pretty(pg_database_size(current_database()))"
q "SELECT 'load took ' || round(load_seconds) || ' s (' || loaded_at || ')' FROM bench_tracking_dataset"

ids="$work/ids.txt"
"$loader" ids "$items" 100000 >"$ids"
token="$("$loader" key)"

echo "==> servers (pool of $pool connections each)"
"$baseline" "$url" "127.0.0.1:$baseline_port" "$pool" >"$work/baseline.log" 2>&1 &
pids+=($!)
EPOSTA_LISTEN="127.0.0.1:$eposta_port" EPOSTA_DB_MAX_CONNECTIONS="$pool" \
  "$eposta" serve --no-workers >"$work/eposta.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  if curl -sf "http://127.0.0.1:$eposta_port/readyz" >/dev/null &&
    curl -s -o /dev/null "http://127.0.0.1:$baseline_port/"; then break; fi
  sleep 0.2
done

# A benchmark of wrong answers is worthless: each target answers a known item rightly, and
# an unknown one with 404 (baseline) or not_found (eposta).
id="$(head -1 "$ids")"
unknown="RB000000005RS" # a service indicator the loader never uses
grep -q "\"tracking_number\":\"$id\"" <<<"$(curl -sf "http://127.0.0.1:$baseline_port/items/$id")" ||
  { echo "baseline: wrong answer for $id" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$baseline_port/items/$unknown")" = 404 ] ||
  { echo "baseline: $unknown should be unknown" >&2; exit 1; }
answer="$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$eposta_port/api/v1/tracking/$id")"
events="$(grep -o '"code":"E[A-Z][A-Z]"' <<<"$answer" | wc -l)"
if ! grep -q '"result":"found"' <<<"$answer" || [ "$events" -ne 8 ]; then
  echo "eposta: expected $id found with 8 events: $answer" >&2
  exit 1
fi
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$eposta_port/api/v1/tracking/$unknown" |
  grep -q '"result":"not_found"' || { echo "eposta: $unknown should be not_found" >&2; exit 1; }
grouped="$(sed -E 's/^(..)(...)(...)(...)(..)$/\1 \2 \3 \4 \5/' <<<"$id")"
# Read whole before grep: `grep -q` stops at the first match, and curl, cut off, would fail
# the pipeline.
page="$(curl -sf "http://127.0.0.1:$eposta_port/track?id=$id")"
grep -q "$grouped" <<<"$page" ||
  { echo "eposta: the page does not show $id" >&2; exit 1; }
echo "answers checked: $id found (8 events), $unknown unknown, on every target"

# CPU time (clock ticks) used so far by these processes, from /proc/<pid>/stat.
ticks() {
  local total=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
  done
  echo "$total"
}
backends() { q "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"; }
hz="$(getconf CLK_TCK)"

run() { # target seconds -> RESULT line
  local name="$1" seconds="$2" url prefix tok=""
  case "$name" in
    baseline) url="http://127.0.0.1:$baseline_port"; prefix="/items/" ;;
    api) url="http://127.0.0.1:$eposta_port"; prefix="/api/v1/tracking/"; tok="$token" ;;
    page) url="http://127.0.0.1:$eposta_port"; prefix="/track?id=" ;;
  esac
  TRACK_IDS="$ids" TRACK_PREFIX="$prefix" TRACK_TOKEN="$tok" \
    wrk -t2 -c64 -d"${seconds}s" --timeout 5s -s bench/tracking.lua "$url" | grep '^RESULT'
}

echo "==> load: wrk -t2 -c64 -d${duration}s, after ${warmup} s of warm-up, $rounds rounds"
printf '%-9s %5s %9s %8s %8s %8s %8s %9s %7s %6s %9s %7s  %s\n' target round "req/s" "p50 ms" \
  "p90 ms" "p99 ms" "max ms" requests non2xx errors "server µs" "db µs" "load average"
for r in $(seq "$rounds"); do
  for t in $targets; do
    run "$t" "$warmup" >/dev/null
    load="$(cut -d' ' -f1-3 /proc/loadavg)"
    if [ "$t" = baseline ]; then server="${pids[0]}"; else server="${pids[1]}"; fi
    mapfile -t db_pids < <(backends)
    server_before="$(ticks "$server")"
    db_before="$(ticks "${db_pids[@]}")"
    read -r _ rps p50 p90 p99 max n bad errs < <(run "$t" "$duration")
    # CPU per request, steadier than requests/s on a shared machine: the server process and
    # the PostgreSQL backends of the benchmark database (both servers' pools; the idle one
    # adds nothing).
    server_us=$(( ( $(ticks "$server") - server_before ) * 1000000 / hz / (n > 0 ? n : 1) ))
    db_us=$(( ( $(ticks "${db_pids[@]}") - db_before ) * 1000000 / hz / (n > 0 ? n : 1) ))
    printf '%-9s %5s %9s %8s %8s %8s %8s %9s %7s %6s %9s %7s  %s\n' "$t" "$r" "$rps" "$p50" "$p90" \
      "$p99" "$max" "$n" "$bad" "$errs" "$server_us" "$db_us" "$load" | tee -a "$work/results"
  done
done

echo "==> median of $rounds rounds ($items items, $((items * 8)) events)"
printf '%-9s %9s %8s %8s %9s %7s\n' target "req/s" "p50 ms" "p99 ms" "server µs" "db µs"
for t in $targets; do
  awk -v t="$t" '$1 == t' "$work/results" | sort -k3 -n | awk -v n="$rounds" '
    NR == int((n + 1) / 2) { printf "%-9s %9s %8s %8s %9s %7s\n", $1, $3, $4, $6, $11, $12 }'
done

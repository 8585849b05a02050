#!/usr/bin/env bash
# The "Reconciliation" benchmark of docs/benchmarks.md, end to end: builds the harness
# (crates/eposta-payments/examples/bench_reconcile.rs), which creates the pending IPS
# payments, writes a statement of ENTRIES entries that pays them, imports it as
# `eposta reconcile` does, prints the time, the CPU and the import's peak memory, checks the
# payments, and deletes the statement. SQLite, and PostgreSQL too when EPOSTA_TEST_PG_URL
# names a database (the harness works in a schema of its own and drops it).
#
#   bash bench/reconcile.sh [ENTRIES]   (default 1000000; about 1.4 GB of temporary space for
#                                        the statement and 0.6 GB for the database)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

entries="${1:-1000000}"

cargo build --release -p eposta-payments --example bench_reconcile
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
harness="$target_dir/release/examples/bench_reconcile"

echo "==> machine"
echo "cores: $(nproc)"
lscpu | grep 'Model name' | sed 's/  */ /g'
free -h | awk '/^Mem:/ { print "memory: " $2 }'

echo "==> SQLite (load average $(cut -d' ' -f1-3 /proc/loadavg))"
EPOSTA_TEST_PG_URL= "$harness" "$entries"
if [ -n "${EPOSTA_TEST_PG_URL:-}" ]; then
    echo "==> PostgreSQL (load average $(cut -d' ' -f1-3 /proc/loadavg))"
    "$harness" "$entries"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# The "camt.053 statement reading" benchmark of docs/benchmarks.md, end to end: builds the
# generator and the benchmark, writes a statement of ENTRIES entries (the gen_camt053
# example), then reads it twice under /usr/bin/time -v (validate, then every entry and its
# reference) and prints the time of each pass, wall and on-CPU, and the peak resident memory.
#
#   bash bench/camt053.sh [ENTRIES]   (default 1000000; needs about 1.4 KB of temporary
#                                      space per entry, 1.4 GB for the default)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

entries="${1:-1000000}"

cargo build --release -p eposta-formats --features iso20022 --example gen_camt053
cargo bench --no-run -p eposta-formats --features iso20022 --bench camt053
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bench="$(ls -t "$target_dir"/release/deps/camt053-* | grep -v '\.d$' | head -1)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
file="$work/statement.xml"

echo "==> machine"
echo "cores: $(nproc)"
lscpu | grep 'Model name' | sed 's/  */ /g'
free -h | awk '/^Mem:/ { print "memory: " $2 }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "==> generating $entries entries"
"$target_dir/release/examples/gen_camt053" "$entries" > "$file"
ls -l "$file" | awk '{ printf "%.1f MB\n", $5 / 1e6 }'

echo "==> reading (two passes)"
/usr/bin/time -v "$bench" "$file" 2> "$work/time.txt"
grep -E 'Elapsed|User time|System time|Maximum resident' "$work/time.txt"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

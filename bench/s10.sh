#!/usr/bin/env bash
# The "S10 check" benchmark of docs/benchmarks.md, end to end: builds the release binary,
# generates COUNT identifiers (one in a hundred invalid), checks that the verdicts add up,
# then times `eposta s10 check -` over them and prints identifiers per second.
#
#   bash bench/s10.sh [COUNT]        (default 10000000; needs about 14 bytes per identifier
#                                     of temporary space; uses hyperfine when installed)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

count="${1:-10000000}"
invalid_every=100
runs=10

cargo build --release --bin eposta
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
bin="$target_dir/release/eposta"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
ids="$work/ids.txt"

echo "==> machine"
echo "cores: $(nproc)"
lscpu | grep 'Model name' | sed 's/  */ /g'
free -h | awk '/^Mem:/ { print "memory: " $2 }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "==> generating $count identifiers"
"$bin" s10 generate --count "$count" --invalid-every "$invalid_every" >"$ids"
ls -l "$ids"

# A benchmark of wrong answers is worthless: every line answered, exactly the planted
# invalid ones invalid.
read -r valid invalid < <("$bin" s10 check - <"$ids" |
  awk -F'\t' '{ n[$2]++ } END { print n["valid"] + 0, n["invalid"] + 0 }')
echo "verdicts: $valid valid, $invalid invalid"
if [ "$invalid" -ne $((count / invalid_every)) ] || [ $((valid + invalid)) -ne "$count" ]; then
  echo "expected $((count / invalid_every)) invalid of $count" >&2
  exit 1
fi

echo "==> timing: eposta s10 check - < ids.txt > /dev/null"
# Exit status 1 is the answer "some are invalid", not a failure: hence -i.
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 1 --runs "$runs" -i --export-json "$work/result.json" \
    "$bin s10 check - < $ids > /dev/null"
  field() { grep -o "\"$1\": *[0-9.e+-]*" "$work/result.json" | head -1 | sed 's/.*: *//'; }
  mean="$(field mean)"
  best="$(field min)"
  user="$(field user)"
else
  echo "(hyperfine is not installed: timing $runs runs with date)"
  mean=0 best=""
  for _ in $(seq "$runs"); do
    start="$(date +%s.%N)"
    "$bin" s10 check - <"$ids" >/dev/null || true
    end="$(date +%s.%N)"
    took="$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')"
    mean="$(awk -v m="$mean" -v t="$took" -v n="$runs" 'BEGIN { print m + t / n }')"
    best="$(awk -v b="$best" -v t="$took" 'BEGIN { print (b == "" || t < b) ? t : b }')"
  done
  user=""
fi

awk -v n="$count" -v mean="$mean" -v best="$best" -v user="$user" 'BEGIN {
  printf "==> result\nmean %.3f s: %.1f million identifiers/s\n", mean, n / mean / 1e6
  printf "best %.3f s: %.1f million identifiers/s\n", best, n / best / 1e6
  if (user != "") printf "CPU (user, mean) %.3f s: %.1f million identifiers/s per core\n", user, n / user / 1e6
}'

#!/usr/bin/env bash
# Instructions per operation of one benchmark variant, counted by callgrind:
# (Ir(3N) - Ir(N)) / (2N x ops_per_batch), which cancels start-up costs.
#
#   bench/callgrind.sh <bench binary> <variant> <arg> [N=5] [ops_per_batch=100]
#
# The binary must support: <binary> --fixed <variant> <arg> <batches>.
set -euo pipefail
bin=$1 variant=$2 arg=$3 n=${4:-5} ops=${5:-100}
ir() {
  local out
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --fixed "$variant" "$arg" "$1" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  rm -f "$out"
}
a=$(ir "$n")
b=$(ir $((3 * n)))
echo "$variant $arg $(((b - a) / (2 * n * ops)))"

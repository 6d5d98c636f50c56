#!/usr/bin/env bash
# One-step set-up for a Debian 12 machine: installs the Debian packages
# actorkit needs (when run as root; otherwise prints the apt-get line and
# stops), configures and builds, then either runs the tour demo or the whole
# test suite. Idempotent and incremental: a second run rebuilds only what
# changed.
#
#   bash cmake/setup.sh tour    # build and run the tour of every pattern
#   bash cmake/setup.sh test    # build and run the test suite
#
# Environment: ACTORKIT_BUILD_DIR (default: build), ACTORKIT_CMAKE_ARGS (extra
# arguments for cmake's configure step, e.g. -DACTORKIT_SANITIZE=ON).
set -euo pipefail

mode=${1:-tour}
case "$mode" in
  tour | test) ;;
  *)
    echo "usage: $0 tour|test" >&2
    exit 2
    ;;
esac

root=$(cd "$(dirname "$0")/.." && pwd)
packages=(cmake make g++ libcaf-dev libboost-test-dev libspdlog-dev libbenchmark-dev)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  if [ "$(id -u)" -eq 0 ]; then
    echo "== installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "actorkit needs these Debian packages; install them, then run this again:"
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
fi

build=${ACTORKIT_BUILD_DIR:-$root/build}
jobs=$(nproc 2>/dev/null || echo 2)
bench=OFF
[ "$mode" = test ] && bench=ON
# shellcheck disable=SC2086
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DACTORKIT_BUILD_TESTS=ON -DACTORKIT_BUILD_DEMOS=ON -DACTORKIT_BUILD_BENCH=$bench \
  ${ACTORKIT_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$jobs"

if [ "$mode" = tour ]; then
  exec "$build/demos/actorkit_tour"
fi
ctest --test-dir "$build" --output-on-failure -j "$jobs"

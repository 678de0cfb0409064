#!/usr/bin/env bash
# The whole torchvision zoo through every subcommand, then its coverage table.
#   scripts/zoo.sh [--fast] [--only NAME,...] [--family F,...] [--steps S,...]
#                  [--time-limit SECONDS] [--command-timeout SECONDS] [--table FILE]
# Makes the models (tests/zoo/make_zoo.py, kept between runs) into
# $BUILD_DIR/tests/zoo-full (zoo-fast with --fast), runs the hidden [.zoo] test
# on them (tests/zoo/zoo_test.cpp; one JSON per model in results/), keeps a full
# run's results in tests/zoo/last-run/ (tests/zoo/keep_results.py: merged step
# by step with the runs before) with their table (last-run/coverage.md), and
# writes the table of this run and the kept results (tests/zoo/coverage_table.py)
# to --table (default: stdout only).
# --time-limit bounds the whole run (default 3 hours): models not reached are
# listed as not run. Exit status: the test's (0 when every check passed).
# Needs a built tree (scripts/build.sh) and ONNX Runtime (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
run=full make_args=() only="" steps="" limit=10800 command_timeout=900 table=""
while [ $# -gt 0 ]; do
  case "$1" in
    --fast) run=fast; make_args+=(--fast) ;;
    --only) only=$2; make_args+=(--only "$2"); shift ;;
    --family) make_args+=(--family "$2"); shift ;;
    --steps) steps=$2; shift ;;
    --time-limit) limit=$2; shift ;;
    --command-timeout) command_timeout=$2; shift ;;
    --table) table=$2; shift ;;
    *) echo "scripts/zoo.sh: unknown argument '$1' (see the comment at the top)" >&2; exit 2 ;;
  esac
  shift
done
zoo_dir=${ZOO_DIR:-$BUILD_DIR/tests/zoo-$run}
deadline=$(( $(date +%s) + limit ))
left() { echo $(( deadline - $(date +%s) > 1 ? deadline - $(date +%s) : 1 )); }
status=0
started=$zoo_dir/.run-started  # what this run writes is newer (keep_results.py --newer-than)
rm -f "$started"
timeout "$(left)" /usr/bin/python3 tests/zoo/make_zoo.py "$zoo_dir" "${make_args[@]}" || status=$?
[ "$status" -eq 0 ] && touch "$started"
if [ "$status" -eq 0 ]; then
  MLOPT_ZOO_DIR=$zoo_dir MLOPT_ZOO_ONLY=$only MLOPT_ZOO_STEPS=$steps MLOPT_ZOO_TIMEOUT=$command_timeout \
    timeout "$(left)" "$BUILD_DIR/tests/mlopt_tests" "[.zoo]" || status=$?
fi
[ "$status" -eq 124 ] && echo "scripts/zoo.sh: stopped at the --time-limit of ${limit}s" >&2
# A full run's results are kept in the repository (tests/zoo/last-run), merged
# step by step with earlier runs, so that runs of parts of the zoo add up.
sources=("$zoo_dir")
if [ "$run" = full ]; then
  [ -e "$started" ] && /usr/bin/python3 tests/zoo/keep_results.py "$zoo_dir" tests/zoo/last-run --newer-than "$started"
  sources+=(tests/zoo/last-run)
  # The kept results' own table, beside them (what docs/model-coverage.md becomes once they cover the zoo).
  /usr/bin/python3 tests/zoo/coverage_table.py tests/zoo/last-run > tests/zoo/last-run/coverage.md.tmp &&
    mv tests/zoo/last-run/coverage.md.tmp tests/zoo/last-run/coverage.md
fi
if [ -n "$table" ]; then
  /usr/bin/python3 tests/zoo/coverage_table.py "${sources[@]}" > "$table.tmp" && mv "$table.tmp" "$table"
else
  /usr/bin/python3 tests/zoo/coverage_table.py "${sources[@]}"
fi
exit "$status"

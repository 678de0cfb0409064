#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan + coverage) into
# build-fuzz/ and runs each for SECONDS (default 60). Prints a table per
# target: executions, executions per second, crashes (and timeouts or
# out-of-memory reports), new corpus entries. Crashing inputs are copied to
# tests/data/fuzz-regressions/<target>/ so that the test suite replays them
# (tests/core/fuzz_regressions_test.cpp) once the bug is fixed.
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (FUZZ_NO_BUILD=1: skip the build step)
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
command -v clang++ >/dev/null || { echo "fuzz: installing clang" >&2; apt-get install -y -qq clang libclang-rt-14-dev >&2; }
if [ ! -f build-fuzz/build.ninja ]; then
  CCACHE_BASEDIR="$PWD" cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMLOPT_FUZZ=ON -DMLOPT_BUILD_TESTS=OFF -DMLOPT_PCH=ON >&2 || exit 1
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi
# FUZZ_NO_BUILD=1 runs the targets as built (while another build is under way).
[ -n "${FUZZ_NO_BUILD:-}" ] || cmake --build build-fuzz -j "${JOBS:-$(nproc)}" --target "${targets[@]}" >&2 || exit 1

printf '%-18s %12s %8s %8s %12s\n' target executions exec/s crashes new-corpus
status=0
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  corpus=build-fuzz/corpus/$name
  mkdir -p "$corpus" "build-fuzz/crashes/$name"
  [ -d "tests/data/fuzz-corpus/$name" ] && cp -n tests/data/fuzz-corpus/$name/* "$corpus/" 2>/dev/null
  log=build-fuzz/$name.log
  before=$(ls "$corpus" | wc -l)
  # libFuzzer stops at the first crash (saved for replay); -timeout
  # flags inputs that hang; -rss_limit_mb and -malloc_limit_mb flag huge allocations.
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
    "build-fuzz/tests/fuzz/$t" "$corpus" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=4096 \
    -malloc_limit_mb=2048 -timeout=10 -max_len=65536 \
    -artifact_prefix="build-fuzz/crashes/$name/" -print_final_stats=1 >"$log" 2>&1
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  crashes=$(ls "build-fuzz/crashes/$name" | wc -l)
  added=$(( $(ls "$corpus" | wc -l) - before ))
  printf '%-18s %12s %8s %8s %12s\n' "$name" "${execs:-?}" "${rate:-?}" "$crashes" "$added"
  if [ "$crashes" -gt 0 ]; then
    status=1
    mkdir -p "tests/data/fuzz-regressions/$name"
    cp build-fuzz/crashes/$name/* "tests/data/fuzz-regressions/$name/"
  fi
done
exit $status
